"""Kaplan–Meier cumulative probability of return: lifelines, and an independent product-limit.

The published estimator is lifelines' ``KaplanMeierFitter``. :func:`product_limit` is a second,
vectorised numpy implementation of the same estimator and interval, written from the formulas and
used in the tests to check lifelines to 1e-9 (and usable where lifelines is slow).

Confidence intervals use the log(−log) transform of the survival function with Greenwood's
variance (lifelines' default; R's ``survfit`` defaults to the log transform instead):
``S(t)^exp(±z·sqrt(V)/log S(t))`` with ``V = Σ d/(n(n−d))``. The cumulative probability of
return is ``F = 1 − S`` with limits ``1 − upper(S)`` and ``1 − lower(S)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from scipy.stats import norm

DAYS_PER_YEAR = 365.25
CI_TRANSFORM = "log(-log) of survival, Greenwood variance"


def horizon_days(years: float) -> int:
    """Days in a horizon of ``years`` years: a return within ``floor(years × 365.25)`` days.

    The convention: a year is 365.25 days and a return on whole day ``t`` after the index issue
    date is within the horizon when ``t ≤ years × 365.25``. Time is in whole days, so that is
    ``t ≤ floor(years × 365.25)``: 2,556.75 and 2,556 give the same cohort counts for 7 years,
    while 2,557 would take in a day past seven years of 365.25 days.

    Examples
    --------
    >>> horizon_days(7)
    2556
    """
    return int(np.floor(years * DAYS_PER_YEAR))


@dataclass(frozen=True)
class KMPoints:
    """Kaplan–Meier cumulative probability of return at some horizons (arrays, one per horizon)."""

    horizons_days: np.ndarray
    estimate: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    n_at_start: int
    n_at_risk: np.ndarray
    n_events: np.ndarray


def _counts(time: np.ndarray, event: np.ndarray, horizons: np.ndarray) -> tuple:
    n_at_risk = np.array([(time >= h).sum() for h in horizons], dtype=np.int64)
    n_events = np.array([((time <= h) & event).sum() for h in horizons], dtype=np.int64)
    return n_at_risk, n_events


def product_limit(
    time: np.ndarray, event: np.ndarray, horizons_days: np.ndarray, *, alpha: float = 0.05
) -> KMPoints:
    """Vectorised product-limit estimate of ``1 − S(t)`` with log(−log) Greenwood intervals.

    Parameters
    ----------
    time
        Follow-up in days (event or censoring), non-negative.
    event
        True where follow-up ended in a return.
    horizons_days
        Times at which to read the estimate (the step function is right-continuous).
    alpha
        1 − confidence level.

    Returns
    -------
    KMPoints
        Estimates, limits and counts at each horizon.

    Examples
    --------
    >>> p = product_limit(np.array([1, 2, 2, 3]), np.array([1, 1, 0, 1], bool), np.array([2]))
    >>> float(p.estimate[0])
    0.5
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    horizons = np.asarray(horizons_days, dtype=float)
    z = norm.ppf(1 - alpha / 2)
    event_times, inverse = np.unique(time, return_inverse=True)
    d = np.bincount(inverse, weights=event.astype(float), minlength=len(event_times))
    leaving = np.bincount(inverse, minlength=len(event_times)).astype(float)
    n = len(time) - np.concatenate([[0.0], np.cumsum(leaving)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(1.0 - d / n)
        var = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
        log_s = np.log(s)
        half = z * np.sqrt(var) / log_s
        lower_s = np.exp(-np.exp(np.log(-log_s) - half))
        upper_s = np.exp(-np.exp(np.log(-log_s) + half))
    # Where S is 1 (no event yet) or 0 (everyone returned) the interval collapses to the point,
    # as in lifelines.
    lower_s = np.where((s >= 1.0) | (s <= 0.0), s, lower_s)
    upper_s = np.where((s >= 1.0) | (s <= 0.0), s, upper_s)
    pos = np.searchsorted(event_times, horizons, side="right") - 1
    take = pos >= 0

    def at(values: np.ndarray) -> np.ndarray:
        return np.where(take, values[np.maximum(pos, 0)], 1.0)

    n_at_risk, n_events = _counts(time, event, horizons)
    return KMPoints(
        horizons_days=horizons,
        estimate=1.0 - at(s),
        ci_lower=1.0 - at(upper_s),
        ci_upper=1.0 - at(lower_s),
        n_at_start=len(time),
        n_at_risk=n_at_risk,
        n_events=n_events,
    )


def kaplan_meier(
    time: np.ndarray, event: np.ndarray, horizons_days: np.ndarray, *, alpha: float = 0.05
) -> KMPoints:
    """Kaplan–Meier cumulative probability of return at each horizon, fitted with lifelines.

    Parameters
    ----------
    time
        Follow-up in days (event or censoring), non-negative.
    event
        True where follow-up ended in a return.
    horizons_days
        Times at which to read the estimate.
    alpha
        1 − confidence level.

    Returns
    -------
    KMPoints
        Estimates, log(−log) limits and counts at each horizon.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    horizons = np.asarray(horizons_days, dtype=float)
    kmf = KaplanMeierFitter(alpha=alpha).fit(pd.Series(time), pd.Series(event))
    curve = kmf.survival_function_.iloc[:, 0]
    bounds = kmf.confidence_interval_survival_function_
    lower_col = next(c for c in bounds.columns if c.endswith(f"lower_{1 - alpha:.2f}"))
    upper_col = next(c for c in bounds.columns if c.endswith(f"upper_{1 - alpha:.2f}"))
    idx = np.searchsorted(curve.index.to_numpy(), horizons, side="right") - 1
    before = idx < 0  # a horizon before the first time: nobody has returned yet
    idx = np.maximum(idx, 0)
    s = np.where(before, 1.0, curve.to_numpy()[idx])
    lo = np.where(before, 1.0, bounds[lower_col].to_numpy()[idx])
    hi = np.where(before, 1.0, bounds[upper_col].to_numpy()[idx])
    if np.any(lo > hi + 1e-12):  # guard against a change of column order in lifelines
        raise RuntimeError("lifelines returned a lower confidence limit above the upper one.")
    n_at_risk, n_events = _counts(time, event, horizons)
    return KMPoints(horizons, 1.0 - s, 1.0 - hi, 1.0 - lo, len(time), n_at_risk, n_events)
