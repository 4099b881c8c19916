"""Opt-in scoring of a run's linkage against truth: when it happens and what it writes."""

import duckdb

from recurrence.linkage.evaluate import LinkageEvaluation
from recurrence.linkage.quality import (
    quality_rows,
    resolve_truth_dir,
    write_linkage_quality,
)
from recurrence.paths import SAMPLE_EXTRACT_DIR


def test_auto_finds_the_truth_of_a_synthetic_extract_only(tmp_path):
    assert resolve_truth_dir("auto", SAMPLE_EXTRACT_DIR) == SAMPLE_EXTRACT_DIR / "truth"
    # A folder called truth without the generator's manifest is not taken for truth.
    (tmp_path / "truth").mkdir()
    assert resolve_truth_dir("auto", tmp_path) is None
    assert resolve_truth_dir("", SAMPLE_EXTRACT_DIR) is None
    assert resolve_truth_dir("/data/truth", tmp_path).as_posix() == "/data/truth"


def test_rows_put_the_run_beside_the_baseline():
    evaluation = LinkageEvaluation(
        mothers={
            "run (probabilistic, threshold 0.95)": {"pairwise_f1": 0.99, "share_women_exact": 0.9},
            "person_id only (baseline)": {"pairwise_f1": 0.88, "share_women_exact": 0.8},
        },
        child_births={"run": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3}, "exact_rule": {}},
    )
    rows = {(r.link, r.measure): (r.run, r.person_id_baseline) for r in quality_rows(evaluation)}
    assert rows[("mothers", "pairwise_f1")] == (0.99, 0.88)
    assert rows[("mothers", "bcubed_f1")] == (None, None)
    assert rows[("child_births", "f1")] == (0.666667, None)
    assert not any(link == "mother_births" for link, _ in rows)


def test_no_truth_writes_an_empty_table():
    con = duckdb.connect()
    con.execute("create schema linkage")
    write_linkage_quality(con, [])
    assert con.sql("select count(*) from linkage.quality").fetchone() == (0,)
    assert con.sql("select * from linkage.quality").columns == [
        "link",
        "measure",
        "run",
        "person_id_baseline",
    ]
