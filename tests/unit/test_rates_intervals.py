"""Rate intervals and funnel limits against worked values, scipy and simulation."""

import numpy as np
import pytest
from scipy import stats

from recurrence.rates.intervals import (
    byar_ci,
    count_ci,
    exact_poisson_ci,
    funnel_limits,
    outside_limits,
    rate_ci,
    wilson_ci,
)


def test_byar_worked_value():
    rate, lo, hi = rate_ci([95], [27_000], method="byar")
    assert (round(rate[0], 2), round(lo[0], 2), round(hi[0], 2)) == (35.19, 28.47, 43.01)


def test_exact_worked_value():
    rate, lo, hi = rate_ci([4], [3_000], method="exact")
    assert (round(rate[0], 2), round(lo[0], 2), round(hi[0], 2)) == (13.33, 3.63, 34.14)


def test_exact_matches_scipy_gamma_quantiles():
    o = np.arange(0, 200)
    lo, hi = exact_poisson_ci(o)
    ref_lo = np.where(o > 0, stats.gamma.ppf(0.025, np.maximum(o, 1)), 0.0)
    ref_hi = stats.gamma.ppf(0.975, o + 1)
    np.testing.assert_allclose(lo, ref_lo, rtol=1e-10)
    np.testing.assert_allclose(hi, ref_hi, rtol=1e-10)
    assert lo[0] == 0.0
    assert hi[0] == pytest.approx(3.6889, abs=1e-4)


def test_byar_approaches_exact_for_large_counts():
    o = np.array([50, 200, 1000])
    elo, ehi = exact_poisson_ci(o)
    blo, bhi = byar_ci(o)
    np.testing.assert_allclose(blo, elo, rtol=2e-3)
    np.testing.assert_allclose(bhi, ehi, rtol=2e-3)


def test_byar_method_uses_exact_below_ten():
    o = np.array([0, 3, 9, 10, 40])
    lo, hi = count_ci(o, method="byar")
    elo, _ehi = exact_poisson_ci(o)
    blo, bhi = byar_ci(o)
    np.testing.assert_array_equal(lo[:3], elo[:3])
    np.testing.assert_array_equal(hi[3:], bhi[3:])
    np.testing.assert_array_equal(lo[3:], blo[3:])
    with pytest.raises(ValueError, match="Unknown interval method"):
        count_ci(o, method="normal")


def test_exact_interval_covers_at_least_nominal():
    rng = np.random.default_rng(1)
    for mean in (0.5, 2.0, 7.5, 30.0):
        draws = rng.poisson(mean, size=20_000)
        lo, hi = exact_poisson_ci(draws)
        coverage = np.mean((lo <= mean) & (mean <= hi))
        assert coverage >= 0.945, (mean, coverage)


def test_rate_ci_rejects_bad_denominators():
    with pytest.raises(ValueError, match="positive"):
        rate_ci([1], [0])


def test_wilson_known_value_and_bounds():
    lo, hi = wilson_ci([10, 0, 50], [100, 20, 50])
    assert (round(lo[0], 4), round(hi[0], 4)) == (0.0552, 0.1744)
    assert lo[1] == 0.0
    assert hi[2] == pytest.approx(1.0)


def test_funnel_limits_narrow_with_size_and_nest():
    n = np.array([500.0, 2_000.0, 10_000.0, 100_000.0])
    lo95, hi95 = funnel_limits(35.0, n, level=0.95)
    lo998, hi998 = funnel_limits(35.0, n, level=0.998)
    assert np.all(np.diff(hi95) < 0)
    assert np.all(lo998 <= lo95)
    assert np.all(hi998 >= hi95)
    # Large denominators: close to the normal approximation.
    theta = 35.0 * n[-1] / 10_000
    approx = 35.0 + 1.959964 * np.sqrt(theta) / n[-1] * 10_000
    assert hi95[-1] == pytest.approx(approx, rel=0.01)


def test_outside_limits_flags_high_and_low():
    flags = outside_limits([60, 35, 5], [10_000, 10_000, 10_000], 35.0, level=0.998)
    assert flags.tolist() == [1, 0, -1]
