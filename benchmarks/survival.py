"""Benchmark the recurrence (survival) stage on an ingested and linked warehouse.

Usage (after a run of ``--select 'group:ingest or group:linkage'`` into the warehouse)::

    .venv/bin/python benchmarks/survival.py --warehouse /tmp/nat_surv.duckdb \
        --truth /tmp/nat/truth --out /tmp/bench_survival.json

Times each step of the stage as the assets run it, in one process: the cohort
(``build_cohort``), the estimates table (overall and by covariate, every horizon), the Cox model
with its proportional-hazards test, the linkage sensitivity (which rebuilds the cohort with
``person_id`` only) and the release (suppression and CSV files). The warehouse is copied first,
so the input is left as it was. Then compares the 7-year estimate with the one computed from the
generator's truth (mothers whose true first set is in the data, ``new_child`` from
``return_new_child_days`` and ``any`` from ``return_any_days``, censored at ``censor_days``),
and times the Aalen–Johansen estimator on the national cohort with a synthetic competing event
(one non-returning mother in ten taken as dead), against which lifelines is not timed.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from recurrence.config import load_config
from recurrence.survival import (
    build_cohort,
    build_cox,
    build_estimates,
    build_sensitivity,
    horizon_days,
    product_limit,
    publish_estimates,
    read_cohort,
)
from recurrence.survival.aj import aalen_johansen
from recurrence.warehouse import connect


def _truth(truth_dir: Path, column: str, years: int) -> dict[str, float]:
    mothers = pl.read_csv(truth_dir / "mothers.csv").filter(pl.col("first_case_id").is_not_null())
    returned = mothers[column].is_not_null() & (mothers[column] <= mothers["censor_days"])
    t = np.where(returned, mothers[column].fill_null(0), mothers["censor_days"])
    p = product_limit(t, returned.to_numpy(), np.array([horizon_days(years)]))
    return {
        "estimate": float(p.estimate[0]),
        "ci_lower": float(p.ci_lower[0]),
        "ci_upper": float(p.ci_upper[0]),
        "mothers": p.n_at_start,
    }


def _headline(con, years: int) -> dict[str, float]:
    cohort = read_cohort(con)
    p = product_limit(
        cohort["time_days"].to_numpy(), cohort["event"].to_numpy(), np.array([horizon_days(years)])
    )
    return {
        "estimate": float(p.estimate[0]),
        "ci_lower": float(p.ci_lower[0]),
        "ci_upper": float(p.ci_upper[0]),
        "mothers": p.n_at_start,
    }


def main() -> None:
    """Run the benchmark and print (and optionally write) the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--truth", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    config = load_config()
    years = config.recurrence.horizon_years
    result: dict[str, object] = {
        "machine": f"{platform.machine()}, {platform.system()}",
        "warehouse": str(args.warehouse),
    }
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "wh.duckdb"
        shutil.copy(args.warehouse, warehouse)
        con = connect(warehouse, memory_limit=config.duckdb.memory_limit)
        try:
            times: dict[str, float] = {}
            started = time.monotonic()
            summary = build_cohort(con, config)
            times["cohort_s"] = time.monotonic() - started
            step = time.monotonic()
            estimates = build_estimates(con, config)
            times["estimates_s"] = time.monotonic() - step
            step = time.monotonic()
            cox = build_cox(con, config)
            times["cox_s"] = time.monotonic() - step
            step = time.monotonic()
            sensitivity = build_sensitivity(con, config)
            times["sensitivity_s"] = time.monotonic() - step
            step = time.monotonic()
            publish_estimates(con, config, Path(tmp) / "reports")
            times["publish_s"] = time.monotonic() - step
            times["total_s"] = time.monotonic() - started
            result |= {
                "times": {k: round(v, 2) for k, v in times.items()},
                "mothers": summary.mothers,
                "mothers_in_cohort": summary.in_cohort,
                "returns": summary.events,
                "estimate_rows": estimates.height,
                "cox_mothers": cox.n_mothers,
                "cox_stratified": list(cox.stratified),
                "sensitivity": sensitivity.to_dicts(),
            }
            headline = {"new_child": _headline(con, years)}
            cohort = read_cohort(con)
            rng = np.random.default_rng(0)
            status = np.where(
                cohort["event"].to_numpy(), 1, np.where(rng.random(cohort.height) < 0.1, 2, 0)
            )
            step = time.monotonic()
            aalen_johansen(
                cohort["time_days"].to_numpy(),
                status,
                np.array([horizon_days(y) for y in config.recurrence.report_years]),
            )
            result["aalen_johansen_overall_s"] = round(time.monotonic() - step, 4)
            build_cohort(con, config, event="any")
            headline["any"] = _headline(con, years)
        finally:
            con.close()
    result["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)
    result["headline_7y"] = headline
    if args.truth is not None:
        result["truth_7y"] = {
            "new_child": _truth(args.truth, "return_new_child_days", years),
            "any": _truth(args.truth, "return_any_days", years),
        }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
