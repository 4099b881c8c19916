"""The estimates table by group, its disclosure control and its monotonicity audit."""

import numpy as np
import polars as pl
import pytest

from recurrence.survival.disclosure import protect_family
from recurrence.survival.estimates import ESTIMATE_COLUMNS, estimate_table
from recurrence.survival.intruder import attack
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
    published = protect_family(table, min_cell=10, extract_end=None)
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
    assert attack(published, min_cell=10, extract_end=None) == []


def test_zero_events_are_suppressed_and_the_audit_catches_an_unsafe_table():
    cohort = pl.DataFrame(
        {"time_days": list(range(100, 2100, 20)), "event": [False] * 100, "g": ["a"] * 100}
    )
    table = estimate_table(cohort, [1], covariates=["g"])
    assert table["estimate"].to_list() == [0.0, 0.0]
    assert count_published_below_min_cell(table, min_cell=10) == 2
    assert protect_family(table, min_cell=10, extract_end=None)["estimate"].null_count() == 2


def test_monotone_audit_catches_a_decrease():
    table = estimate_table(_cohort(), [1, 7], covariates=[])
    broken = table.with_columns(pl.Series("estimate", [0.5, 0.1]))
    assert count_non_monotone(broken) == 1


def _competing_cohort(seed=2):
    cohort = _cohort(seed)
    rng = np.random.default_rng(seed)
    died = (~cohort["event"].to_numpy()) & (rng.random(cohort.height) < 0.2)
    return cohort.with_columns(pl.Series("competing_event", died))


def test_with_deaths_aalen_johansen_is_the_estimate_and_naive_km_is_beside_it():
    from recurrence.survival.aj import aalen_johansen
    from recurrence.survival.estimates import primary_method, status

    cohort = _competing_cohort()
    table = estimate_table(cohort, [1, 3, 7], covariates=["g"])
    assert tuple(table.columns) == ESTIMATE_COLUMNS
    assert set(table["method"]) == {"aalen_johansen", "kaplan_meier_naive"}
    assert primary_method(table) == "aalen_johansen"
    assert table.row(0, named=True)["method"] == "aalen_johansen"
    assert table.height == 2 * 4 * 3
    horizons = np.array([horizon_days(y) for y in (1, 3, 7)])
    aj = aalen_johansen(cohort["time_days"].to_numpy(), status(cohort), horizons)
    naive = product_limit(cohort["time_days"].to_numpy(), cohort["event"].to_numpy(), horizons)
    overall = table.filter(pl.col("group_variable") == "all").sort("method", "horizon_years")
    got_aj = overall.filter(pl.col("method") == "aalen_johansen")
    got_naive = overall.filter(pl.col("method") == "kaplan_meier_naive")
    np.testing.assert_allclose(got_aj["estimate"], aj.estimate, atol=1e-12)
    np.testing.assert_allclose(got_aj["ci_upper"], aj.ci_upper, atol=1e-12)
    np.testing.assert_allclose(got_naive["estimate"], naive.estimate, atol=1e-9)
    assert (got_aj["estimate"] < got_naive["estimate"]).all()  # deaths censored overstate
    assert got_aj["n_events"].to_list() == got_naive["n_events"].to_list()
    assert count_non_monotone(table) == 0


def test_without_deaths_the_method_is_kaplan_meier():
    cohort = _cohort().with_columns(pl.lit(False).alias("competing_event"))
    assert set(estimate_table(cohort, [1, 7], covariates=["g"])["method"]) == {"kaplan_meier"}


def test_suppression_hides_the_same_rows_for_both_methods():
    table = estimate_table(_competing_cohort(), [1, 3, 7], covariates=["g"])
    out = protect_family(table, min_cell=10, extract_end=None)
    assert out.height == table.height
    hidden = {
        m: set(
            out.filter(pl.col("suppressed") & (pl.col("method") == m))
            .select("group_value", "horizon_years")
            .iter_rows()
        )
        for m in ("aalen_johansen", "kaplan_meier_naive")
    }
    assert hidden["aalen_johansen"] == hidden["kaplan_meier_naive"]
    assert ("tiny", 1) in hidden["aalen_johansen"]
    assert count_published_below_min_cell(out, min_cell=10) == 0


def test_a_return_on_day_2556_is_within_seven_years_and_day_2557_is_not():
    # The stated convention: 7 years are 7 × 365.25 = 2,556.75 days, and a return on whole day t
    # after the index issue date is within them when t ≤ 2,556.75, i.e. t ≤ floor(...) = 2,556.
    assert horizon_days(7) == 2556
    days = np.arange(1, 4000)
    assert np.array_equal(days <= horizon_days(7), days <= 7 * 365.25)
    cohort = pl.DataFrame(
        {
            "time_days": [2556, 2557, 3000, 3000, 3000],
            "event": [True, True, False, False, False],
            "competing_event": [False, False, False, False, True],
            "g": ["x"] * 5,
        }
    )
    for frame in (cohort.drop("competing_event"), cohort):  # Kaplan–Meier, then Aalen–Johansen
        table = estimate_table(frame, [7, 8], covariates=["g"])
        overall = table.filter(pl.col("group_variable") == "all").sort("horizon_years")
        for method in set(overall["method"]):
            rows = overall.filter(pl.col("method") == method)
            assert rows["n_events"].to_list() == [1, 2], method
            assert rows["n_at_risk"].to_list() == [5, 3], method
            assert rows["estimate"][0] == pytest.approx(0.2, abs=1e-12), method
