"""Mother linkage on the default and hard corruption profiles: accuracy, blocking recall, cost.

Usage::

    .venv/bin/python benchmarks/linkage_profiles.py --work /tmp/profiles [--scale sample]
        [--seed 20240331] [--profiles default hard] [--json out.json]

For each profile: ``recurrence synth --corruption PROFILE``, ingest, the whole linkage stage
(child-to-birth, mothers, mother-to-births, summary) with the default configuration, then
:func:`recurrence.linkage.evaluate_linkage` against the extract's truth. Prints, per profile,
pairwise and B-cubed scores of the run (all evidence) and of Splink alone (+ person ids), the
blocking recall against truth, the run's truth-free estimate of it, pairs compared, the
threshold chosen, edges split off, predicted women holding two true women, and times.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from linkage import _ingest, _run_stage

from recurrence.warehouse import connect


def run_profile(work: Path, scale: str, seed: int, profile: str) -> dict[str, object]:
    """Generate, ingest, link and score one profile; return its figures."""
    from recurrence.linkage import evaluate_linkage
    from recurrence.linkage import settings as s
    from recurrence.synth import generate_extract

    extract = work / profile / "extract"
    warehouse = work / profile / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    generate_extract(extract, scale=scale, seed=seed, corruption=profile)  # type: ignore[arg-type]
    ingest_s = _ingest(extract, warehouse)
    stage = _run_stage(warehouse)
    started = time.monotonic()
    result = evaluate_linkage(
        warehouse,
        extract / "truth",
        evidence_sets={"+ splink": (s.EVIDENCE_PERSON_ID, s.EVIDENCE_SPLINK)},
        thresholds=(),
    )
    eval_s = time.monotonic() - started
    con = connect(warehouse)
    try:
        estimate = con.sql(
            "select rate from linkage.summary where measure = 'mother_blocking_recall_estimated'"
        ).fetchone()
        chosen = con.sql(
            "select category, rate from linkage.summary where measure = 'mother_match_threshold'"
        ).fetchone()
        split = con.sql(
            "select numerator from linkage.summary where measure = 'mother_edges_split'"
        ).fetchone()
    finally:
        con.close()
    run_label = next(k for k in result.mothers if k.startswith("run"))
    keys = (
        "pairwise_precision",
        "pairwise_recall",
        "pairwise_f1",
        "bcubed_f1",
        "mixed_women",
        "chained_women",
    )
    return {
        "profile": profile,
        "run": {k: result.mothers[run_label][k] for k in keys},
        "splink_alone": {k: result.evidence["+ splink"][k] for k in keys},
        "person_id_only": {k: result.mothers["person_id only (baseline)"][k] for k in keys},
        "blocking": result.blocking,
        "blocking_recall_estimated": estimate[0] if estimate else None,
        "threshold": {"rule": chosen[0], "value": chosen[1]} if chosen else None,
        "edges_split": split[0] if split else None,
        "child_births_f1": result.child_births.get("run", {}).get("f1"),
        "ingest_s": round(ingest_s, 1),
        "stage": stage,
        "eval_s": round(eval_s, 1),
    }


def main() -> None:
    """Run the profiles and print (and optionally save) their figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--scale", default="sample", choices=["sample", "national"])
    parser.add_argument("--seed", type=int, default=20240331)
    parser.add_argument("--profiles", nargs="+", default=["default", "hard"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = {
        "machine": f"{platform.machine()} {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "scale": args.scale,
        "seed": args.seed,
        "profiles": [run_profile(args.work, args.scale, args.seed, p) for p in args.profiles],
    }
    for p in out["profiles"]:
        r, a, b = p["run"], p["splink_alone"], p["blocking"]
        print(
            f"{p['profile']}: run P {r['pairwise_precision']:.4f} R {r['pairwise_recall']:.4f} "
            f"F1 {r['pairwise_f1']:.4f} B3 F1 {r['bcubed_f1']:.4f} | splink alone F1 "
            f"{a['pairwise_f1']:.4f} B3 {a['bcubed_f1']:.4f} | blocking recall "
            f"{b['recall']:.4f} ({b['blocked_pairs']}/{b['true_pairs']}; with person ids "
            f"{b['recall_with_person_id']:.4f}), estimated "
            f"{p['blocking_recall_estimated']} | pairs compared {b['pairs_compared']:,} | "
            f"mothers {p['stage']['mother_keys_s']} s, stage {p['stage']['total_s']} s"
        )
        print(
            f"    threshold {p['threshold']} | edges split {p['edges_split']} | predicted "
            f"women holding 2+ true women {r['mixed_women']} (chained {r['chained_women']}) | "
            f"child to birth F1 {p['child_births_f1']}"
        )
        for rule, hits in b["true_pairs_by_rule"].items():
            print(f"    {rule}: true pairs {hits}, pairs added {b['pairs_added_by_rule'][rule]:,}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
