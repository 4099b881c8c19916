"""Confidence intervals for counts, rates and proportions, and funnel-plot control limits.

The formulas are the ones used in observatory practice (OHID Fingertips, Spiegelhalter 2005),
implemented here from their definitions; see ``docs/rates.md``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

Z95 = 1.959964
Z998 = 3.090232
BYAR_MIN_COUNT = 10
"""Byar's approximation is used from this many events up; below it the exact interval is used."""


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"Confidence level must be between 0 and 1, got {level}.")
    return float(stats.norm.ppf(0.5 + level / 2))


def exact_poisson_ci(
    observed: ArrayLike, *, level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact (chi-square based, Garwood) confidence limits for a Poisson count.

    Parameters
    ----------
    observed
        Observed counts (non-negative).
    level
        Confidence level, 0.95 by default.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper limits for the expected count: ``chi2(alpha/2, 2O)/2`` (0 when O = 0)
        and ``chi2(1 - alpha/2, 2O + 2)/2``.

    Examples
    --------
    >>> lo, hi = exact_poisson_ci([4])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (1.0899, 10.2416)
    """
    o = np.asarray(observed, dtype=float)
    if np.any(o < 0):
        raise ValueError("Observed counts must be non-negative.")
    alpha = 1 - level
    lower = np.where(o > 0, stats.chi2.ppf(alpha / 2, np.maximum(2 * o, 1e-300)) / 2, 0.0)
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    return np.atleast_1d(lower), np.atleast_1d(upper)


def byar_ci(
    observed: ArrayLike, *, level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Byar's approximation to the exact Poisson limits for a count.

    Parameters
    ----------
    observed
        Observed counts (non-negative).
    level
        Confidence level, 0.95 by default.

    Returns
    -------
    tuple of numpy.ndarray
        ``O (1 - 1/(9O) - z/(3 sqrt O))^3`` and
        ``(O+1) (1 - 1/(9(O+1)) + z/(3 sqrt(O+1)))^3``; the lower limit is 0 when O = 0.

    Examples
    --------
    >>> lo, hi = byar_ci([95])
    >>> round(float(lo[0]), 2), round(float(hi[0]), 2)
    (76.86, 116.13)
    """
    o = np.atleast_1d(np.asarray(observed, dtype=float))
    if np.any(o < 0):
        raise ValueError("Observed counts must be non-negative.")
    z = _z(level)
    safe = np.where(o > 0, o, 1.0)
    lower = np.where(o > 0, safe * (1 - 1 / (9 * safe) - z / (3 * np.sqrt(safe))) ** 3, 0.0)
    upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
    return lower, upper


def count_ci(
    observed: ArrayLike, *, method: str = "exact", level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Confidence limits for Poisson counts by the configured method.

    Parameters
    ----------
    observed
        Observed counts.
    method
        ``"exact"``: exact Poisson for every count. ``"byar"``: Byar's approximation for counts of
        at least :data:`BYAR_MIN_COUNT` and exact Poisson below (observatory practice).
    level
        Confidence level.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper limits for the expected count.
    """
    o = np.atleast_1d(np.asarray(observed, dtype=float))
    lo, hi = exact_poisson_ci(o, level=level)
    if method == "exact":
        return lo, hi
    if method != "byar":
        raise ValueError(f"Unknown interval method {method!r}; use 'exact' or 'byar'.")
    blo, bhi = byar_ci(o, level=level)
    big = o >= BYAR_MIN_COUNT
    return np.where(big, blo, lo), np.where(big, bhi, hi)


def rate_ci(
    observed: ArrayLike,
    population: ArrayLike,
    *,
    per: float = 10_000,
    method: str = "exact",
    level: float = 0.95,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """A rate per ``per`` of a population with its confidence limits.

    Parameters
    ----------
    observed
        Event counts.
    population
        Denominators (must be positive).
    per
        Multiplier, 10,000 by default.
    method, level
        As for :func:`count_ci`.

    Returns
    -------
    tuple of numpy.ndarray
        Rate, lower limit and upper limit, each per ``per``.

    Examples
    --------
    >>> r, lo, hi = rate_ci([4], [3000])
    >>> round(float(r[0]), 2), round(float(lo[0]), 2), round(float(hi[0]), 2)
    (13.33, 3.63, 34.14)
    """
    o = np.atleast_1d(np.asarray(observed, dtype=float))
    n = np.atleast_1d(np.asarray(population, dtype=float))
    if np.any(n <= 0):
        raise ValueError("Denominators must be positive.")
    lo, hi = count_ci(o, method=method, level=level)
    return o / n * per, lo / n * per, hi / n * per


def wilson_ci(
    successes: ArrayLike, trials: ArrayLike, *, level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for a proportion.

    Parameters
    ----------
    successes, trials
        Numerators and denominators (trials > 0).
    level
        Confidence level.

    Returns
    -------
    tuple of numpy.ndarray
        ``[2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))] / [2(n + z^2)]``.

    Examples
    --------
    >>> lo, hi = wilson_ci([10], [100])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.0552, 0.1744)
    """
    x = np.atleast_1d(np.asarray(successes, dtype=float))
    n = np.atleast_1d(np.asarray(trials, dtype=float))
    if np.any(n <= 0) or np.any((x < 0) | (x > n)):
        raise ValueError("Need 0 <= successes <= trials and trials > 0.")
    z = _z(level)
    root = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
    return (2 * x + z**2 - root) / (2 * (n + z**2)), (2 * x + z**2 + root) / (2 * (n + z**2))


def funnel_limits(
    pooled_rate: float,
    population: ArrayLike,
    *,
    per: float = 10_000,
    level: float = 0.95,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact Poisson funnel-plot control limits around a pooled rate (Spiegelhalter 2005).

    For a unit with denominator ``n`` the expected count is ``theta = pooled_rate * n / per``;
    the limits are the Poisson quantiles of ``theta`` at ``(1 - level)/2`` and ``(1 + level)/2``,
    interpolated between integers as Spiegelhalter describes, and returned as rates.

    Parameters
    ----------
    pooled_rate
        The target rate per ``per`` (usually sum of events / sum of denominators).
    population
        Denominators at which to evaluate the limits.
    per
        Multiplier of the rate.
    level
        Coverage of the limits: 0.95 and 0.998 are the conventional pair.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper control limits, as rates per ``per``.
    """
    n = np.atleast_1d(np.asarray(population, dtype=float))
    theta = pooled_rate * n / per
    limits = []
    for p in ((1 - level) / 2, (1 + level) / 2):
        r = stats.poisson.ppf(p, theta)
        # Interpolate between r - 1 and r so the limit is a smooth function of n.
        cdf_r = stats.poisson.cdf(r, theta)
        cdf_rm1 = stats.poisson.cdf(r - 1, theta)
        pmf_r = np.where(cdf_r - cdf_rm1 > 0, cdf_r - cdf_rm1, 1.0)
        alpha = (cdf_r - p) / pmf_r
        count = np.maximum(r - alpha, 0.0)
        limits.append(count / n * per)
    return limits[0], limits[1]


def outside_limits(
    observed: ArrayLike,
    population: ArrayLike,
    pooled_rate: float,
    *,
    per: float = 10_000,
    level: float = 0.998,
) -> NDArray[np.int8]:
    """Which units lie outside the funnel limits: -1 below, 0 within, +1 above.

    Parameters
    ----------
    observed, population
        Event counts and denominators of each unit.
    pooled_rate
        Target rate per ``per``.
    per, level
        As for :func:`funnel_limits`.

    Returns
    -------
    numpy.ndarray
        -1, 0 or +1 per unit.
    """
    o = np.atleast_1d(np.asarray(observed, dtype=float))
    n = np.atleast_1d(np.asarray(population, dtype=float))
    lo, hi = funnel_limits(pooled_rate, n, per=per, level=level)
    rate = o / n * per
    return np.where(rate > hi, 1, np.where(rate < lo, -1, 0)).astype(np.int8)
