"""Benchmark the linkage stage: time, peak memory and accuracy, from 10% to 100% of an extract.

Usage (after ``recurrence synth --out /tmp/national --scale national``)::

    .venv/bin/python benchmarks/linkage.py --extract /tmp/national --work /tmp/bench \
        --fractions 0.1 0.25 0.5 1.0

The extract is ingested once. Each fraction keeps whole women (all records of a true mother,
chosen by a hash of her truth id) and the same fraction of other births, so every subset is a
smaller copy of the same population; truth is read only to draw these subsets and to score.
Each fraction runs the linkage stage in a fresh process, so peak memory (max RSS) is its own.
At the largest fraction it also scores hand-written "analyst" Splink models of mothers and of
children to births (exact-match comparisons on the same fields, the usual blocking) against
ours, and counts comparisons per blocking rule with Splink's blocking analysis.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from recurrence.config import load_config
from recurrence.warehouse import connect


def _ingest(extract: Path, warehouse: Path) -> float:
    from recurrence.ingest import ingest_extract

    started = time.monotonic()
    con = connect(warehouse)
    try:
        ingest_extract(con, extract, load_config().ingest)
    finally:
        con.close()
    return time.monotonic() - started


def _subset(full: Path, truth: Path, fraction: float, out: Path) -> None:
    """Copy the staging tables, keeping whole true mothers and a share of other births."""
    if fraction >= 1.0:
        shutil.copy(full, out)
        return
    con = connect(out)
    try:
        con.execute(f"attach '{full}' as full_wh (read_only)")
        con.execute(
            "create temp table keep_mothers as select person_id from read_csv($p, all_varchar=1) "
            "where hash(true_mother_id) % 1000 < $k",
            {"p": str(truth / "mother_person_ids.csv"), "k": int(fraction * 1000)},
        )
        con.execute(
            "create temp table kept_births as select birth_id from read_csv($p, all_varchar=1) "
            "where hash(true_mother_id) % 1000 < $k",
            {"p": str(truth / "birth_mothers.csv"), "k": int(fraction * 1000)},
        )
        con.execute(
            "create table staging.cases as select * from full_wh.staging.cases where case_id in "
            "(select case_id from full_wh.staging.case_people where role = 'mother' "
            "and person_id in (select person_id from keep_mothers))"
        )
        con.execute(
            "create table staging.case_people as select * from full_wh.staging.case_people "
            "where case_id in (select case_id from staging.cases)"
        )
        con.execute(
            "create table staging.births as select * from full_wh.staging.births b "
            "where birth_id in (select birth_id from kept_births) or (hash(birth_id) % 1000 < $k "
            "and birth_id not in (select birth_id from read_csv($p, all_varchar=1)))",
            {"p": str(truth / "birth_mothers.csv"), "k": int(fraction * 1000)},
        )
        con.execute("detach full_wh")
    finally:
        con.close()


def _run_stage(warehouse: Path) -> dict[str, float]:
    """Run the whole linkage stage in this process; return step times and peak memory."""
    from recurrence.linkage import (
        link_children_to_births,
        link_mothers,
        link_mothers_to_births,
        summarise_linkage,
    )
    from recurrence.linkage.model import model_path

    full_config = load_config()
    config = full_config.linkage
    # As a run does: the warehouse connection carries the configured memory limit.
    con = connect(warehouse, memory_limit=full_config.duckdb.memory_limit)
    times: dict[str, float] = {}
    try:
        counts = con.sql(
            "select (select count(*) from staging.case_people where role = 'mother'), "
            "(select count(*) from staging.case_people where role = 'child'), "
            "(select count(*) from staging.births)"
        ).fetchone()
        started = time.monotonic()
        child = link_children_to_births(con, config, model_file=model_path(warehouse, "child"))
        times["child_births_s"] = time.monotonic() - started
        step = time.monotonic()
        mothers = link_mothers(con, config, model_file=model_path(warehouse, "mothers"))
        times["mother_keys_s"] = time.monotonic() - step
        step = time.monotonic()
        link_mothers_to_births(con)
        summarise_linkage(con)
        times["births_and_summary_s"] = time.monotonic() - step
        times["total_s"] = time.monotonic() - started
    finally:
        con.close()
    peak_kb = _peak_rss_kb()
    return {
        "mother_records": counts[0] if counts else 0,
        "child_records": counts[1] if counts else 0,
        "births": counts[2] if counts else 0,
        "mother_pairs_scored": mothers.pairs_scored,
        "child_pairs_scored": child.pairs_scored,
        **{k: round(v, 1) for k, v in times.items()},
        "peak_rss_gb": round(peak_kb / 1024 / 1024, 2),
        "memory_limit": full_config.duckdb.memory_limit,
    }


def _peak_rss_kb() -> int:
    """Peak resident memory (VmHWM) of the current process, in kB.

    Not ``getrusage``: on Linux its ``ru_maxrss`` survives ``exec``, so a child started by a
    large parent would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _blocking_counts(warehouse: Path) -> dict[str, int]:
    """Comparisons generated by each mother blocking rule (marginal), from Splink's analysis."""
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from recurrence.linkage import settings as s
    from recurrence.linkage.model import splink_workspace

    con = connect(warehouse)
    try:
        with splink_workspace(con) as ws:
            ws.import_table("linkage.mother_records", "work_mother_records")
            db_api = DuckDBAPI(connection=con)
            frame = db_api.register("work_mother_records")
            records = count_comparisons_from_blocking_rules(
                frame,
                blocking_rules=[r.creator() for r in s.MOTHER_BLOCKING],
                link_type="dedupe_only",
                unique_id_column_name="record_id",
                record_sample_proportion=1.0,
            )
            return {
                " & ".join(rule.columns): int(rec["marginal_comparison_count"])
                for rule, rec in zip(s.MOTHER_BLOCKING, records, strict=True)
            }
    finally:
        con.close()


def _score_by_hand(
    con: duckdb.DuckDBPyConnection,
    settings: object,
    tables: list[tuple[str, str, tuple[str, ...] | None]],
    *,
    prior_rules: object,
    prior_recall: float,
    em_rules: object,
    output: str,
) -> None:
    """Train a hand-written model as the pipeline trains ours, and write its pairs to ``output``.

    ``tables`` are (warehouse table, display name, columns or None for all) of each input.
    """
    from splink import DuckDBAPI

    from recurrence.linkage import settings as s
    from recurrence.linkage.model import predict_pairs, splink_workspace, train_linker

    with splink_workspace(con) as ws:
        inputs = []
        for qualified, name, columns in tables:
            work = "work_" + qualified.split(".")[1]
            ws.import_table(qualified, work, columns)
            inputs.append((work, name))
        linker = train_linker(
            DuckDBAPI(connection=con),
            inputs,
            settings,
            prior_rules=prior_rules,
            prior_recall=prior_recall,
            em_rules=em_rules,
            seed=load_config().linkage.seed,
        )
        ws.export_table(predict_pairs(linker, s.PREDICT_FLOOR), output, "record_id_l, record_id_r")


def _analyst_pairs(warehouse: Path) -> None:
    """Replace linkage.mother_pairs by those of a hand-written model, and recluster."""
    from splink import SettingsCreator, block_on
    from splink import comparison_library as cl

    from recurrence.linkage import settings as s
    from recurrence.linkage.mothers import cluster_mothers

    analyst = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.ExactMatch("forename_hash").configure(term_frequency_adjustments=True),
            cl.ExactMatch("surname_hash").configure(term_frequency_adjustments=True),
            cl.ExactMatch("birth_year_month"),
            cl.ExactMatch("postcode_district"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("forename_hash", "birth_year_month"),
            block_on("surname_hash", "birth_year_month"),
            block_on("forename_hash", "surname_hash"),
        ],
        linker_uid="analyst",
    )
    con = connect(warehouse)
    try:
        _score_by_hand(
            con,
            analyst,
            [("linkage.mother_records", "mothers", None)],
            prior_rules=s.MOTHER_PRIOR_RULES,
            prior_recall=s.MOTHER_PRIOR_RECALL,
            em_rules=(s.Rule(("birth_year_month",)), s.Rule(("forename_hash", "surname_hash"))),
            output="linkage.mother_pairs",
        )
        cluster_mothers(
            con, evidence=s.ALL_EVIDENCE, threshold=load_config().linkage.match_threshold
        )
    finally:
        con.close()


def _analyst_child_pairs(warehouse: Path) -> None:
    """Replace linkage.child_births by those of a hand-written child-to-birth model."""
    from splink import SettingsCreator, block_on
    from splink import comparison_library as cl

    from recurrence.linkage import settings as s
    from recurrence.sql import run_sql

    analyst = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.ExactMatch("baby_sex"),
            cl.ExactMatch("mother_forename_hash").configure(term_frequency_adjustments=True),
            cl.ExactMatch("mother_surname_hash").configure(term_frequency_adjustments=True),
            cl.ExactMatch("mother_birth_year_month"),
            cl.ExactMatch("mother_postcode_district"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("baby_birth_date", "mother_surname_hash"),
            block_on("baby_birth_date", "mother_forename_hash"),
            block_on("baby_birth_date", "mother_birth_year_month"),
            block_on("baby_birth_date", "mother_postcode_district"),
        ],
        linker_uid="analyst_child_births",
    )
    con = connect(warehouse)
    try:
        _score_by_hand(
            con,
            analyst,
            [
                ("linkage.child_records", "children", s.CHILD_BIRTH_COLUMNS),
                ("linkage.birth_records", "births", s.CHILD_BIRTH_COLUMNS),
            ],
            prior_rules=s.CHILD_BIRTH_PRIOR_RULES,
            prior_recall=s.CHILD_BIRTH_PRIOR_RECALL,
            em_rules=(
                s.Rule(("baby_birth_date", "mother_birth_year_month")),
                s.Rule(("baby_birth_date", "mother_postcode_district")),
            ),
            output="linkage.child_birth_pairs",
        )
        run_sql(
            con,
            "linkage/child_births.sql",
            threshold=load_config().linkage.match_threshold,
            max_days=s.BABY_DOB_NEAR_DAYS,
        )
    finally:
        con.close()


def _scores(warehouse: Path, truth: Path, *, full: bool) -> dict[str, object]:
    from recurrence.linkage import evaluate_linkage
    from recurrence.linkage import settings as s

    comparable = {
        "+ splink": (s.EVIDENCE_PERSON_ID, s.EVIDENCE_SPLINK),
        "all evidence": s.ALL_EVIDENCE,
    }
    result = evaluate_linkage(
        warehouse,
        truth,
        thresholds=None if full else (),
        evidence_sets=None if full else comparable,
    )
    return result.as_dict()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one JSON document of results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.1, 0.25, 0.5, 1.0])
    parser.add_argument("--stage-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage_only:  # child process: run the stage on one warehouse, print JSON
        print(json.dumps(_run_stage(args.stage_only)))
        return 0

    args.work.mkdir(parents=True, exist_ok=True)
    truth = args.extract / "truth"
    full = args.work / "full.duckdb"
    results: dict[str, object] = {
        "machine": f"{platform.node()} {platform.machine()} {platform.processor()}".strip(),
        "cpus": __import__("os").cpu_count(),
        "duckdb": duckdb.__version__,
        "python": platform.python_version(),
        "extract": str(args.extract),
    }
    if not full.exists():
        results["ingest_s"] = round(_ingest(args.extract, full), 1)
    runs = []
    for fraction in args.fractions:
        warehouse = args.work / f"linkage_{int(fraction * 100):03d}.duckdb"
        for stale in (warehouse, Path(f"{warehouse}.wal")):
            stale.unlink(missing_ok=True)
        _subset(full, truth, fraction, warehouse)
        out = subprocess.run(
            [
                *(sys.executable, __file__, "--extract", str(args.extract)),
                *("--work", str(args.work), "--stage-only", str(warehouse)),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        run = {"fraction": fraction, **json.loads(out.stdout.strip().splitlines()[-1])}
        runs.append(run)
        print(json.dumps(run), file=sys.stderr, flush=True)
    results["runs"] = runs
    largest = args.work / f"linkage_{int(max(args.fractions) * 100):03d}.duckdb"
    results["blocking_comparisons"] = _blocking_counts(largest)
    results["scores"] = _scores(largest, truth, full=True)
    analyst = args.work / "analyst.duckdb"
    shutil.copy(largest, analyst)
    _analyst_pairs(analyst)
    results["analyst_scores"] = _scores(analyst, truth, full=False)
    analyst_child = args.work / "analyst_child.duckdb"
    shutil.copy(largest, analyst_child)
    _analyst_child_pairs(analyst_child)
    results["analyst_child_scores"] = _scores(analyst_child, truth, full=False)["child_births"]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
