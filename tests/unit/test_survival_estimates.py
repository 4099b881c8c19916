"""The estimates table by group, its disclosure control and its monotonicity audit."""

import numpy as np
import polars as pl

from recurrence.survival.estimates import (
    ESTIMATE_COLUMNS,
    estimate_table,
    suppress_estimates,
)
from recurrence.survival.km import horizon_days, product_limit
from recurrence.survival.stage import count_non_monotone, count_published_below_min_cell


def _cohort(seed=1):
    rng = np.random.default_rng(seed)
    n = 600
    groups = np.where(rng.random(n) < 0.5, "a", "b").astype(object)
    groups[:6] = "tiny"  # a group of 6 mothers: never published
    time = rng.integers(1, 4000, n)
    event = rng.random(n) < 0.4
    return pl.DataFrame({"time_days": time, "event": event, "g": groups})


def test_table_columns_groups_and_values_match_the_product_limit():
    cohort = _cohort()
    table = estimate_table(cohort, [1, 3, 7], covariates=["g"])
    assert tuple(table.columns) == ESTIMATE_COLUMNS
    assert table.height == 4 * 3
    assert table.row(0, named=True)["group_variable"] == "all"
    part = cohort.filter(pl.col("g") == "b")
    expected = product_limit(
        part["time_days"].to_numpy(),
        part["event"].to_numpy(),
        np.array([horizon_days(y) for y in (1, 3, 7)]),
    )
    got = table.filter(pl.col("group_value") == "b").sort("horizon_years")
    np.testing.assert_allclose(got["estimate"], expected.estimate, atol=1e-9)
    np.testing.assert_allclose(got["ci_lower"], expected.ci_lower, atol=1e-9)
    assert got["n_at_start"].to_list() == [part.height] * 3
    assert got["n_events"].to_list() == expected.n_events.tolist()
    assert set(table["method"]) == {"kaplan_meier"}
    assert count_non_monotone(table) == 0


def test_small_groups_are_suppressed_with_a_second_group_so_no_count_can_be_recovered():
    table = estimate_table(_cohort(), [1, 7], covariates=["g"])
    published = suppress_estimates(table, min_cell=10)
    hidden = published.filter(pl.col("suppressed"))
    assert set(hidden["group_value"]) >= {"tiny"}
    # The tiny group could be worked out as all - a - b, so a second group is hidden too.
    for years in (1, 7):
        at = hidden.filter(pl.col("horizon_years") == years)
        assert at.height >= 2
    assert hidden["estimate"].null_count() == hidden.height
    assert hidden["n_events"].null_count() == hidden.height
    assert count_published_below_min_cell(published, min_cell=10) == 0
    assert published.filter(pl.col("group_variable") == "all")["estimate"].null_count() == 0


def test_zero_events_are_suppressed_and_the_audit_catches_an_unsafe_table():
    cohort = pl.DataFrame(
        {"time_days": list(range(100, 2100, 20)), "event": [False] * 100, "g": ["a"] * 100}
    )
    table = estimate_table(cohort, [1], covariates=["g"])
    assert table["estimate"].to_list() == [0.0, 0.0]
    assert count_published_below_min_cell(table, min_cell=10) == 2
    assert suppress_estimates(table, min_cell=10)["estimate"].null_count() == 2


def test_monotone_audit_catches_a_decrease():
    table = estimate_table(_cohort(), [1, 7], covariates=[])
    broken = table.with_columns(pl.Series("estimate", [0.5, 0.1]))
    assert count_non_monotone(broken) == 1
