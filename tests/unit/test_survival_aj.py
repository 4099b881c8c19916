"""Aalen–Johansen cumulative incidence: hand-worked cohorts, lifelines, and the KM special case."""

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter

from recurrence.survival.aj import aalen_johansen, incidence_curve
from recurrence.survival.km import product_limit


def test_hand_worked_cohort_estimate_variance_and_interval():
    # 1 return, 2 death, 3 return, 4 censored. At risk 4, 3, 2, 1; all-cause S 3/4, 1/2, 1/4.
    # F(3) = 1/4 + S(2)·1/2 = 1/2.
    # Var F(3) = (1/2 − 1/4)²[1/(4·3) + 1/(3·2)] + [1·1·3/4³ + (1/2)²·1·1/2³]
    #            − 2(1/2 − 1/4)·1·1/4² = 1/64 + 5/64 − 2/64 = 1/16.
    time, status = np.array([1, 2, 3, 4]), np.array([1, 2, 1, 0])
    _, f, var = incidence_curve(time, status)
    np.testing.assert_allclose(f, [0.25, 0.25, 0.5, 0.5], atol=1e-15)
    assert var[2] == pytest.approx(1 / 16, abs=1e-15)
    p = aalen_johansen(time, status, np.array([0, 1, 3, 10]))
    np.testing.assert_allclose(p.estimate, [0.0, 0.25, 0.5, 0.5], atol=1e-15)
    # log(−log) of 1 − F: 1 − (1/2)^exp(∓1.96·(1/4)/((1/2)·log(1/2)))
    z = 1.959963984540054
    half = z * 0.25 / (0.5 * np.log(0.5))
    assert p.ci_lower[2] == pytest.approx(1 - 0.5 ** np.exp(half), abs=1e-12)
    assert p.ci_upper[2] == pytest.approx(1 - 0.5 ** np.exp(-half), abs=1e-12)
    assert p.ci_lower[2] < 0.5 < p.ci_upper[2]
    assert (p.ci_lower[0], p.ci_upper[0]) == (0.0, 0.0)  # before any return: collapses to 0
    assert p.n_at_start == 4
    assert p.n_at_risk.tolist() == [4, 4, 2, 0]
    assert p.n_events.tolist() == [0, 1, 2, 2]


def test_ties_of_both_causes_and_censoring_on_an_event_day():
    # Day 2: a return, a death and a censoring (at risk on the day): n 5, F(2) = 1/5, S(2) = 3/5.
    # Day 3: n 2, one return: F(3) = 1/5 + (3/5)(1/2) = 1/2. Day 5: censored.
    p = aalen_johansen(np.array([2, 2, 2, 3, 5]), np.array([1, 2, 0, 1, 0]), np.array([1, 2, 3, 5]))
    np.testing.assert_allclose(p.estimate, [0.0, 0.2, 0.5, 0.5], atol=1e-15)
    assert p.n_events.tolist() == [0, 1, 2, 2]


def test_without_competing_events_it_is_kaplan_meier_with_its_interval():
    rng = np.random.default_rng(3)
    time = rng.integers(0, 3000, 2000)  # many ties
    event = rng.random(2000) < 0.3
    horizons = np.array([0, 365, 730, 1826, 2556, 5000])
    aj = aalen_johansen(time, event.astype(int), horizons)
    km = product_limit(time, event, horizons)
    for name in ("estimate", "ci_lower", "ci_upper", "n_at_risk", "n_events"):
        np.testing.assert_allclose(getattr(aj, name), getattr(km, name), atol=1e-12)


def test_return_and_death_incidences_add_up_to_one_minus_all_cause_survival():
    rng = np.random.default_rng(4)
    time = rng.integers(1, 3000, 3000)
    status = rng.choice([0, 1, 2], size=3000, p=[0.5, 0.35, 0.15])
    horizons = np.array([100, 1000, 2556])
    returns = aalen_johansen(time, status, horizons)
    deaths = aalen_johansen(time, np.array([0, 2, 1])[status], horizons)
    any_event = product_limit(time, status > 0, horizons)
    np.testing.assert_allclose(returns.estimate + deaths.estimate, any_event.estimate, atol=1e-12)
    naive = product_limit(time, status == 1, horizons)
    assert np.all(returns.estimate < naive.estimate)  # censoring deaths overstates return


def test_matches_lifelines_point_estimates_and_variance_on_tie_free_data():
    rng = np.random.default_rng(5)
    n = 400
    time = rng.permutation(np.arange(1, n + 1)) * 1.0 + rng.random(n) * 0.5  # all distinct
    status = rng.choice([0, 1, 2], size=n, p=[0.4, 0.4, 0.2])
    # Tie-free, so lifelines does not jitter; fitted on all data, without timeline=.
    ajf = AalenJohansenFitter(calculate_variance=True).fit(
        pd.Series(time), pd.Series(status), event_of_interest=1
    )
    grid = np.sort(time)
    p = aalen_johansen(time, status, grid)
    expected = ajf.predict(grid).to_numpy()
    np.testing.assert_allclose(p.estimate, expected, atol=1e-9)
    times, _, var = incidence_curve(time, status)
    lifelines_var = ajf.variance_.to_numpy()
    lifelines_times = ajf.cumulative_density_.index.to_numpy()
    # lifelines' variance is nan where the last mother at risk has the event (n = d); ours
    # drops that term (nobody is left).
    keep = np.isin(lifelines_times, times) & np.isfinite(lifelines_var)
    assert keep.sum() >= n - 2
    np.testing.assert_allclose(
        var[np.searchsorted(times, lifelines_times[keep])], lifelines_var[keep], atol=1e-9
    )


def test_rejects_bad_status():
    with pytest.raises(ValueError, match="status"):
        aalen_johansen(np.array([1.0]), np.array([3]), np.array([1.0]))
