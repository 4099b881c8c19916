"""Linkage on the bundled synthetic sample, scored against its truth."""

import hashlib
import shutil

import pytest

from recurrence.config import load_config
from recurrence.linkage import (
    evaluate_linkage,
    export_clerical_sample,
    link_children_to_births,
    link_mothers,
    link_mothers_to_births,
    summarise_linkage,
)
from recurrence.linkage.audit import (
    count_children_with_several_births,
    count_mother_rows_without_one_key,
    count_oversized_mothers,
)
from recurrence.linkage.model import model_path
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.warehouse import connect

pytestmark = pytest.mark.slow

TRUTH = SAMPLE_EXTRACT_DIR / "truth"
BASELINE = "person_id only (baseline)"


def _link(staged, warehouse, *overrides):
    shutil.copy(staged, warehouse)
    config = load_config(overrides=list(overrides)).linkage
    con = connect(warehouse)
    try:
        link_children_to_births(con, config, model_file=model_path(warehouse, "child_births"))
        result = link_mothers(con, config, model_file=model_path(warehouse, "mothers"))
        link_mothers_to_births(con)
        summarise_linkage(con)
    finally:
        con.close()
    return result


@pytest.fixture(scope="module")
def linked(staged_sample, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("linked") / "wh.duckdb"
    _link(staged_sample, warehouse)
    return warehouse


@pytest.fixture(scope="module")
def scores(linked):
    return evaluate_linkage(linked, TRUTH, thresholds=(0.99,))


def _snapshot(warehouse):
    con = connect(warehouse, read_only=True)
    try:
        tables = con.sql(
            "select table_name from information_schema.tables where table_schema = 'linkage' "
            "order by 1"
        ).fetchall()
        return {
            t: hashlib.sha256(
                repr(con.sql(f"select * from linkage.{t}").fetchall()).encode()
            ).hexdigest()
            for (t,) in tables
        }
    finally:
        con.close()


def _run(scores):
    # labelled with the threshold the run chose, e.g. "run (probabilistic, threshold 0.837)"
    (label,) = [k for k in scores.mothers if k.startswith("run (probabilistic, threshold ")]
    return scores.mothers[label]


def test_mothers_beat_the_person_id_baseline(scores):
    run, baseline = _run(scores), scores.mothers[BASELINE]
    assert run["pairwise_f1"] >= 0.98
    assert run["pairwise_precision"] >= 0.98
    assert run["bcubed_f1"] >= 0.99
    assert run["share_women_exact"] >= 0.98
    assert baseline["pairwise_precision"] == pytest.approx(1.0)
    assert run["pairwise_f1"] >= baseline["pairwise_f1"] + 0.05


def test_each_source_of_evidence_adds_recall(scores):
    by = scores.evidence
    assert by[BASELINE]["pairwise_f1"] == pytest.approx(scores.mothers[BASELINE]["pairwise_f1"])
    for label in ("+ splink", "+ shared child", "+ maternity mother id"):
        assert by[label]["pairwise_recall"] > by[BASELINE]["pairwise_recall"], label
    assert by["all evidence"]["pairwise_f1"] >= by["+ splink"]["pairwise_f1"]
    assert by["all evidence"]["pairwise_f1"] == pytest.approx(_run(scores)["pairwise_f1"])


def test_children_link_to_their_births(scores):
    run, rule = scores.child_births["run"], scores.child_births["exact_rule"]
    assert run["f1"] >= 0.97
    assert run["precision"] >= 0.99
    assert run["f1"] > rule["f1"]
    assert scores.mother_births["run"]["f1"] >= 0.97


def test_blocking_recall_is_measured_and_estimated_without_truth(scores, linked):
    blocking = scores.blocking
    assert blocking["true_pairs"] > 1000
    assert blocking["recall"] == pytest.approx(blocking["blocked_pairs"] / blocking["true_pairs"])
    assert blocking["recall"] >= 0.95
    assert sum(blocking["pairs_added_by_rule"].values()) == blocking["pairs_compared"]
    con = connect(linked, read_only=True)
    try:
        estimate = con.sql(
            "select rate from linkage.summary where measure = 'mother_blocking_recall_estimated'"
        ).fetchone()
    finally:
        con.close()
    # pairs sharing a person id carry the same recording errors as the rest of the true pairs
    assert estimate is not None
    assert estimate[0] == pytest.approx(blocking["recall"], abs=0.02)


def test_outputs_pass_the_blocking_checks(linked):
    con = connect(linked, read_only=True)
    try:
        assert count_mother_rows_without_one_key(con) == 0
        assert count_oversized_mothers(con, load_config().linkage.max_cases_per_mother) == 0
        assert count_children_with_several_births(con) == 0
        models = con.sql(
            "select model_name, model_json is not null from linkage.splink_model order by 1"
        ).fetchall()
        assert models == [("child_births", True), ("mothers", True)]
        rates = dict(
            con.sql(
                "select measure, rate from linkage.summary where breakdown = 'all' "
                "and rate is not null"
            ).fetchall()
        )
        assert 0.9 < rates["child_linked_to_birth"] <= 1
        regions = con.sql(
            "select count(*) from linkage.summary "
            "where measure = 'child_linked_to_birth' and breakdown = 'region'"
        ).fetchone()
        assert regions[0] >= 9
        # Every mother falls in one age band (or 'unknown'), so the bands add up to the total.
        by_age = con.sql(
            "select measure, sum(numerator), sum(denominator), count(*) from linkage.summary "
            "where breakdown = 'mother_age' group by measure order by measure"
        ).fetchall()
        totals = con.sql(
            "select measure, numerator, denominator from linkage.summary "
            "where breakdown = 'all' and measure like '%linked%' order by measure"
        ).fetchall()
        assert [row[:3] for row in by_age] == totals
        assert all(row[3] >= 5 for row in by_age)
    finally:
        con.close()
    assert model_path(linked, "mothers").is_file()


def test_rerun_is_identical(staged_sample, linked, tmp_path):
    again = tmp_path / "again.duckdb"
    _link(staged_sample, again)
    assert _snapshot(again) == _snapshot(linked)
    for name in ("mothers", "child_births"):
        assert model_path(again, name).read_bytes() == model_path(linked, name).read_bytes()


def test_person_id_method_is_the_baseline(staged_sample, tmp_path):
    warehouse = tmp_path / "pid.duckdb"
    result = _link(staged_sample, warehouse, 'linkage.method="person_id"')
    assert result.mother_keys == result.person_ids
    scores = evaluate_linkage(warehouse, TRUTH, evidence_sets={}, thresholds=())
    (label,) = [k for k in scores.mothers if k.startswith("run")]
    assert scores.mothers[label] == scores.mothers[BASELINE]


def test_threshold_zero_merges_implausibly(staged_sample, tmp_path):
    warehouse = tmp_path / "zero.duckdb"
    _link(
        staged_sample,
        warehouse,
        "linkage.match_threshold=0.0",
        'linkage.mother_threshold_rule="fixed"',
    )
    con = connect(warehouse, read_only=True)
    try:
        assert count_oversized_mothers(con, load_config().linkage.max_cases_per_mother) > 0
    finally:
        con.close()


def test_missing_postcodes_degrade_gracefully(staged_sample, tmp_path):
    warehouse = tmp_path / "nopc.duckdb"
    shutil.copy(staged_sample, warehouse)
    con = connect(warehouse)
    con.execute("update staging.case_people set postcode_district = null")
    con.close()
    staged_without = tmp_path / "staged_nopc.duckdb"
    shutil.move(warehouse, staged_without)
    result = _link(staged_without, warehouse)
    assert any("postcode_district" in m for m in result.messages)
    scores = evaluate_linkage(warehouse, TRUTH, evidence_sets={}, thresholds=())
    (label,) = [k for k in scores.mothers if k.startswith("run")]
    assert scores.mothers[label]["pairwise_f1"] >= 0.95


def test_clerical_sample_has_comparison_vectors_and_no_raw_ids(linked, tmp_path):
    out = tmp_path / "clerical.csv"
    pairs = export_clerical_sample(linked, out)
    assert 0 < pairs <= 500
    header = out.read_text().splitlines()[0].split(",")
    assert any(c.startswith("gamma_") for c in header)
    assert "match_weight" in header
    assert not {"person_id_l", "case_id_l"} & set(header)


def test_mother_threshold_is_chosen_from_the_model(linked):
    target = load_config().linkage.mother_precision_target
    con = connect(linked, read_only=True)
    try:
        rows = dict(
            con.sql(
                "select measure, rate from linkage.summary where breakdown = 'all' "
                "and measure in ('mother_match_threshold', 'mother_model_expected_precision')"
            ).fetchall()
        )
        (rule,) = con.sql(
            "select category from linkage.summary where measure = 'mother_match_threshold'"
        ).fetchone()
        used = con.sql(
            "select json_extract(run_settings, '$.match_threshold')::double "
            "from linkage.splink_model where model_name = 'mothers'"
        ).fetchone()[0]
    finally:
        con.close()
    assert rule == "expected_precision"
    assert rows["mother_match_threshold"] == pytest.approx(used, abs=1e-4)
    assert 0.5 <= used < 1
    # the rule's promise, in the summary users see: the pairs joined reach the target
    assert rows["mother_model_expected_precision"] >= target
