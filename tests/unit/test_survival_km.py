"""Kaplan–Meier: lifelines against an independent product-limit and hand-worked cohorts."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recurrence.survival.km import horizon_days, kaplan_meier, product_limit

Z = 1.959963984540054


def _both(time, event, horizons):
    args = (np.asarray(time), np.asarray(event, dtype=bool), np.asarray(horizons))
    return kaplan_meier(*args), product_limit(*args)


def _loglog_upper_f(s, var):
    # F = 1 - S; the upper limit of F is 1 - S^exp(+z sigma), sigma = sqrt(V) / |log S|.
    sigma = math.sqrt(var) / abs(math.log(s))
    return 1 - s ** math.exp(Z * sigma), 1 - s ** math.exp(-Z * sigma)


def test_hand_worked_cohort_with_ties_and_censoring_at_an_event_time():
    # t=1: 6 at risk, 1 returns; t=2: 5 at risk, 1 returns and 1 censored the same day (still at
    # risk at 2); t=3: 3 at risk, 1 returns; t=4 censored; t=5: 1 at risk, 1 returns.
    time = [1, 2, 2, 3, 4, 5]
    event = [1, 1, 0, 1, 0, 1]
    lifelines_pts, own = _both(time, event, [0, 1, 2, 3, 4, 5])
    s = [1, 5 / 6, 2 / 3, 4 / 9, 4 / 9, 0]
    for points in (lifelines_pts, own):
        np.testing.assert_allclose(points.estimate, [1 - v for v in s], atol=1e-12)
        assert points.n_at_risk.tolist() == [6, 6, 5, 3, 2, 1]
        assert points.n_events.tolist() == [0, 1, 2, 3, 3, 4]
        assert points.n_at_start == 6
        var = 1 / (6 * 5) + 1 / (5 * 4)  # Greenwood at t=2
        upper, lower = _loglog_upper_f(2 / 3, var)
        assert points.ci_lower[2] == pytest.approx(lower, abs=1e-12)
        assert points.ci_upper[2] == pytest.approx(upper, abs=1e-12)
        assert points.ci_lower[2] < points.estimate[2] < points.ci_upper[2]
        # Everyone has returned by t=5: the interval collapses to 1.
        assert points.ci_lower[5] == points.ci_upper[5] == 1.0


def test_group_with_no_events_has_zero_estimate_and_interval():
    lifelines_pts, own = _both([3, 10, 10, 400], [0, 0, 0, 0], [365, 730])
    for points in (lifelines_pts, own):
        assert points.estimate.tolist() == [0.0, 0.0]
        assert points.ci_lower.tolist() == [0.0, 0.0]
        assert points.ci_upper.tolist() == [0.0, 0.0]
        assert points.n_events.tolist() == [0, 0]
        assert points.n_at_risk.tolist() == [1, 0]


def test_horizon_before_first_time_and_after_last():
    lifelines_pts, own = _both([5, 8, 9], [1, 0, 1], [-1, 0, 4, 100])
    for points in (lifelines_pts, own):
        np.testing.assert_allclose(points.estimate, [0, 0, 0, 1], atol=1e-12)


def test_lifelines_and_product_limit_agree_on_a_large_cohort_with_many_ties():
    rng = np.random.default_rng(20240331)
    n = 20_000
    time = rng.integers(0, 5_000, n)  # days: many ties
    event = rng.random(n) < 0.3
    horizons = [horizon_days(y) for y in (1, 2, 3, 5, 7, 10)]
    lifelines_pts, own = _both(time, event, horizons)
    for name in ("estimate", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(
            getattr(lifelines_pts, name), getattr(own, name), rtol=0, atol=1e-9
        )
    assert np.array_equal(lifelines_pts.n_at_risk, own.n_at_risk)
    assert np.array_equal(lifelines_pts.n_events, own.n_events)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.booleans()), min_size=1, max_size=40),
    st.lists(st.integers(-2, 70), min_size=1, max_size=5),
)
def test_lifelines_and_product_limit_agree_on_any_small_cohort(rows, horizons):
    time = [t for t, _ in rows]
    event = [e for _, e in rows]
    lifelines_pts, own = _both(time, event, horizons)
    for name in ("estimate", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(
            getattr(lifelines_pts, name), getattr(own, name), rtol=0, atol=1e-9
        )
    assert np.all(own.ci_lower <= own.estimate + 1e-12)
    assert np.all(own.estimate <= own.ci_upper + 1e-12)


def test_horizon_days():
    assert horizon_days(1) == 365
    assert horizon_days(7) == 2556
