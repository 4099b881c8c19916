"""How much the headline moves with the mothers' linkage threshold: a linkage-uncertainty band.

Usage::

    .venv/bin/python benchmarks/linkage_sensitivity.py --warehouse WH [--truth EXTRACT/truth]
        [--json out.json]

On a copy of a warehouse where ``recurrence run`` has finished, mothers are re-clustered (all
evidence) at each threshold of a band around the run's, and at person ids only; for each, the
recurrence cohort is rebuilt and the chance of a return within ``recurrence.horizon_years``
estimated exactly as the run does (Kaplan-Meier, or Aalen-Johansen when a competing event is
recorded). The range of the estimates over the band is a linkage-uncertainty interval to set
beside the sampling confidence interval. The warehouse itself is never changed.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from recurrence.config import load_config
from recurrence.linkage import settings as s
from recurrence.linkage.mothers import cluster_mothers
from recurrence.survival.cohort import build_cohort, read_cohort
from recurrence.survival.estimates import (
    METHOD_AJ,
    METHOD_KM,
    estimate_points,
    has_competing_events,
)
from recurrence.survival.km import horizon_days
from recurrence.warehouse import connect

#: Thresholds re-clustered besides the run's own.
BAND = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)


def headline_band(warehouse: Path, truth: Path | None = None) -> dict[str, object]:
    """The headline estimate at each threshold of the band (and person ids only).

    With ``truth`` (a synthetic extract's ``truth/`` folder) also the estimate with every
    mother record given its true woman: what a perfect linkage would publish.
    """
    config = load_config()
    years = config.recurrence.horizon_years
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "wh.duckdb"
        shutil.copy(warehouse, copy)
        con = connect(copy)
        try:
            row = con.sql(
                "select json_extract(run_settings, '$.match_threshold')::double "
                "from linkage.splink_model where model_name = 'mothers'"
            ).fetchone()
            run_threshold = float(row[0]) if row and row[0] is not None else None
            runs: list[tuple[str, float | None, tuple[str, ...]]] = [
                (f"threshold {t:g}", t, s.ALL_EVIDENCE) for t in BAND
            ]
            if run_threshold is not None:
                runs.append((f"run ({run_threshold:.3f})", run_threshold, s.ALL_EVIDENCE))
            runs.append(("person_id only", 1.0, s.PERSON_ID_EVIDENCE))
            if truth is not None:
                runs.append(("true women", None, s.PERSON_ID_EVIDENCE))
            out = {}
            for label, threshold, evidence in runs:
                cluster_mothers(con, evidence=evidence, threshold=float(threshold or 1.0))
                if label == "true women":
                    con.execute(
                        "update linkage.mother_keys as k "
                        "set mother_key = 'mk_' || t.true_mother_id "
                        "from read_csv($path, all_varchar = true) as t "
                        "where k.person_id = t.person_id",
                        {"path": str(Path(truth or "") / "mother_person_ids.csv")},
                    )
                build_cohort(con, config)
                cohort = read_cohort(con)
                method = METHOD_AJ if has_competing_events(cohort) else METHOD_KM
                p = estimate_points(cohort, np.array([horizon_days(years)]), method)
                out[label] = {
                    "estimate": round(float(p.estimate[0]), 5),
                    "ci_lower": round(float(p.ci_lower[0]), 5),
                    "ci_upper": round(float(p.ci_upper[0]), 5),
                    "mothers": p.n_at_start,
                    "returns": int(p.n_events[0]),
                }
        finally:
            con.close()
    band = [v["estimate"] for k, v in out.items() if k.startswith("threshold")]
    return {
        "horizon_years": years,
        "by_threshold": out,
        "band": {"low": min(band), "high": max(band)},
    }


def main() -> None:
    """Print the band for one warehouse."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--truth", type=Path, help="a synthetic extract's truth/ folder")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = {
        "machine": f"{platform.machine()} {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        **headline_band(args.warehouse, args.truth),
    }
    for label, v in result["by_threshold"].items():
        print(
            f"{label:>20}: {v['estimate']:.4f} ({v['ci_lower']:.4f}-{v['ci_upper']:.4f}), "
            f"{v['returns']} returns of {v['mothers']} mothers"
        )
    b = result["band"]
    print(f"linkage band over thresholds {BAND}: {b['low']:.4f}-{b['high']:.4f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
