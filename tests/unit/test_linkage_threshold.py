"""The mothers' threshold chosen from the model's own expected precision."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from recurrence.config import load_config
from recurrence.errors import ConfigError
from recurrence.linkage.mothers import expected_precision_threshold, mother_threshold


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("create schema linkage")
    c.execute("create table linkage.mother_pairs (match_probability double)")
    c.executemany(
        "insert into linkage.mother_pairs values (?)",
        [(p,) for p in (0.999, 0.99, 0.98, 0.9, 0.6, 0.4, 0.02)],
    )
    return c


def test_lowest_threshold_whose_pairs_reach_the_target(con) -> None:
    # means from the top: 0.999, 0.9945, 0.9897, 0.9673, 0.8938
    assert expected_precision_threshold(con, 0.98) == pytest.approx(0.98)
    assert expected_precision_threshold(con, 0.96) == pytest.approx(0.9)
    assert expected_precision_threshold(con, 0.995) == pytest.approx(0.999)


def test_never_below_the_floor(con) -> None:
    # with the 0.4 pair the mean is still 0.81, but a pair below 0.5 is more likely two women
    assert expected_precision_threshold(con, 0.5) == pytest.approx(0.6)


def test_pairs_of_equal_probability_are_all_in_or_all_out(con) -> None:
    con.execute("insert into linkage.mother_pairs values (0.9), (0.9)")
    # three pairs at 0.9 bring the mean to 0.9474 together; the first alone would give 0.9673
    assert expected_precision_threshold(con, 0.96) == pytest.approx(0.98)


def test_a_target_no_pair_reaches_falls_back_to_the_configured_threshold(con) -> None:
    con.execute("delete from linkage.mother_pairs where match_probability > 0.95")
    assert expected_precision_threshold(con, 0.99) is None
    config = load_config().linkage
    assert mother_threshold(con, config, scored=True) == (config.match_threshold, "fixed")


def test_the_rule_and_its_override(con) -> None:
    config = dataclasses.replace(load_config().linkage, mother_precision_target=0.96)
    assert mother_threshold(con, config, scored=True) == (pytest.approx(0.9), "expected_precision")
    # no model trained: nothing to choose from
    assert mother_threshold(con, config, scored=False) == (config.match_threshold, "fixed")
    fixed = dataclasses.replace(config, mother_threshold_rule="fixed", match_threshold=0.8)
    assert mother_threshold(con, fixed, scored=True) == (0.8, "fixed")
    with pytest.raises(ConfigError, match="mother_threshold_rule"):
        mother_threshold(con, dataclasses.replace(config, mother_threshold_rule="f1"), scored=True)
    with pytest.raises(ConfigError, match="mother_precision_target"):
        expected_precision_threshold(con, 1.5)
