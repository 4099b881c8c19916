"""Evaluation measures, computed in SQL, against hand-worked examples."""

import duckdb
import pytest

from recurrence.sql import run_sql


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema linkage")
    yield con
    con.close()


def _scores(con, predicted, truth):
    con.execute("create table linkage.eval_predicted (record_id varchar, pred_cluster varchar)")
    con.execute(
        "create table linkage.eval_truth_records (record_id varchar, true_mother_id varchar)"
    )
    con.executemany("insert into linkage.eval_predicted values (?, ?)", predicted)
    con.executemany("insert into linkage.eval_truth_records values (?, ?)", truth)
    run_sql(con, "linkage/eval_cluster_scores.sql")
    rel = con.sql("select * from linkage.eval_cluster_scores")
    return dict(zip(rel.columns, rel.fetchone(), strict=True))


def test_cluster_scores_match_a_hand_worked_example(con):
    # truth A = {1, 2, 3}, B = {4, 5}; predicted X = {1, 2}, Y = {3, 4, 5}
    truth = [("1", "A"), ("2", "A"), ("3", "A"), ("4", "B"), ("5", "B")]
    predicted = [("1", "X"), ("2", "X"), ("3", "Y"), ("4", "Y"), ("5", "Y")]
    got = _scores(con, predicted, truth)
    assert got["true_positive_pairs"] == 2
    assert got["predicted_pairs"] == 4
    assert got["true_pairs"] == 4
    assert got["pairwise_precision"] == pytest.approx(0.5)
    assert got["pairwise_recall"] == pytest.approx(0.5)
    assert got["pairwise_f1"] == pytest.approx(0.5)
    assert got["bcubed_precision"] == pytest.approx((2 * 2 / 2 + 1 / 3 + 2 * 2 / 3) / 5)
    assert got["bcubed_recall"] == pytest.approx((2 * 2 / 3 + 1 / 3 + 2 * 2 / 2) / 5)
    assert got["share_women_exact"] == 0
    # Y holds records of A and B: mixed, and with three records, joined through a chain
    assert (got["mixed_women"], got["chained_women"]) == (1, 1)


def test_perfect_clustering_scores_one(con):
    truth = [("1", "A"), ("2", "A"), ("3", "B")]
    got = _scores(con, [("1", "p"), ("2", "p"), ("3", "q")], truth)
    for measure in ("pairwise_f1", "bcubed_precision", "bcubed_recall", "share_women_exact"):
        assert got[measure] == pytest.approx(1.0)


def test_singletons_have_perfect_precision_and_no_recall(con):
    truth = [("1", "A"), ("2", "A"), ("3", "A")]
    got = _scores(con, [("1", "1"), ("2", "2"), ("3", "3")], truth)
    assert got["predicted_pairs"] == 0
    assert got["pairwise_precision"] is None
    assert got["pairwise_recall"] == 0
    assert got["bcubed_precision"] == pytest.approx(1.0)
    assert got["bcubed_recall"] == pytest.approx(1 / 3)


def test_a_single_false_pair_is_mixed_but_not_chained(con):
    truth = [("1", "A"), ("2", "B"), ("3", "B"), ("4", "C")]
    got = _scores(con, [("1", "X"), ("2", "X"), ("3", "Y"), ("4", "Y")], truth)
    assert (got["mixed_women"], got["chained_women"]) == (2, 0)
