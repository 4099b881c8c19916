"""Aalen–Johansen cumulative incidence of return when a competing event (death) is recorded.

A vectorised numpy product-limit implementation, written from the formulas (lifelines'
``AalenJohansenFitter`` jitters tied times at random, is wrong when given ``timeline=`` and its
variance loop is slow at national scale; it is used only in the tests, on tie-free data, to check
this implementation).

With distinct follow-up times ``t_j``, ``n_j`` mothers at risk (follow-up ≥ ``t_j``), ``d1_j``
returns and ``d2_j`` competing events (deaths) at ``t_j``, ``d_j = d1_j + d2_j``, and the
all-cause Kaplan–Meier ``S(t) = Π_{t_j ≤ t} (1 − d_j/n_j)``:

``F(t) = Σ_{t_j ≤ t} S(t_{j−1}) · d1_j / n_j``.

Ties are handled exactly: events of both kinds on one day share the day's risk set, and mothers
censored on an event day are at risk on it (no jitter is needed).

Variance: the delta-method (Greenwood-type) estimator of Collett (2015, *Modelling Survival Data
in Medical Research*, 3rd ed., p. 411; also SAS ``PROC LIFETEST`` and lifelines):

``Var F(t) = Σ_{t_j ≤ t} [F(t) − F(t_j)]² d_j/(n_j(n_j − d_j))
+ Σ_{t_j ≤ t} S(t_{j−1})² d1_j (n_j − d1_j)/n_j³
− 2 Σ_{t_j ≤ t} [F(t) − F(t_j)] S(t_{j−1}) d1_j/n_j²``.

Confidence interval: the same transform as the Kaplan–Meier interval, log(−log) of ``1 − F``
(the survival-like complement): ``1 − (1 − F)^exp(∓z·se/((1 − F)·log(1 − F)))``, so that
without competing events the interval is the Kaplan–Meier one whenever the variances agree.
(lifelines applies log(−log) to ``F`` itself.) Where ``F`` is 0 or 1 the interval collapses to
the point.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from recurrence.survival.km import KMPoints

CI_TRANSFORM_AJ = "log(-log) of 1 - cumulative incidence, delta-method (Collett) variance"


def incidence_curve(time: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, ...]:
    """Cumulative incidence of return and its variance at every distinct follow-up time.

    Parameters
    ----------
    time
        Follow-up in days (to return, competing event or censoring), non-negative.
    status
        0 censored, 1 return (the event of interest), 2 competing event (death).

    Returns
    -------
    tuple of numpy.ndarray
        ``(times, F, Var F)``: the distinct times, the Aalen–Johansen estimate and its
        delta-method variance at each.
    """
    time = np.asarray(time, dtype=float)
    status = np.asarray(status, dtype=np.int64)
    if time.shape != status.shape:
        raise ValueError("time and status must have the same length.")
    if np.any((status < 0) | (status > 2)):
        raise ValueError("status must be 0 (censored), 1 (return) or 2 (competing event).")
    times, inverse = np.unique(time, return_inverse=True)
    k = len(times)
    d1 = np.bincount(inverse, weights=(status == 1).astype(float), minlength=k)
    d = np.bincount(inverse, weights=(status > 0).astype(float), minlength=k)
    leaving = np.bincount(inverse, minlength=k).astype(float)
    n = len(time) - np.concatenate([[0.0], np.cumsum(leaving)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(1.0 - d / n)
        s_lag = np.concatenate([[1.0], s[:-1]])
        f = np.cumsum(s_lag * d1 / n)
        # Var F(t) at each t_j, the three sums expanded in powers of F(t) so that each is a
        # cumulative sum: Σ(F(t) − F_j)² a_j = F(t)²Σa − 2F(t)ΣF_j a_j + ΣF_j² a_j, etc.
        a = np.where(d > 0, d / (n * (n - d)), 0.0)
    a = np.where(np.isfinite(a), a, 0.0)  # n = d: S drops to 0, no one is left to vary
    b = s_lag**2 * d1 * (n - d1) / n**3
    c = s_lag * d1 / n**2
    sum_a, sum_fa, sum_ffa = np.cumsum(a), np.cumsum(f * a), np.cumsum(f * f * a)
    sum_b, sum_c, sum_fc = np.cumsum(b), np.cumsum(c), np.cumsum(f * c)
    var = f * f * sum_a - 2 * f * sum_fa + sum_ffa + sum_b - 2 * (f * sum_c - sum_fc)
    return times, f, np.maximum(var, 0.0)  # rounding can leave -1e-18 where Var is 0


def aalen_johansen(
    time: np.ndarray,
    status: np.ndarray,
    horizons_days: np.ndarray,
    *,
    alpha: float = 0.05,
) -> KMPoints:
    """Aalen–Johansen cumulative incidence of return (cause 1) at each horizon.

    Parameters
    ----------
    time
        Follow-up in days (to return, competing event or censoring), non-negative.
    status
        0 censored, 1 return (the event of interest), 2 competing event (death).
    horizons_days
        Times at which to read the estimate (the step function is right-continuous).
    alpha
        1 − confidence level.

    Returns
    -------
    KMPoints
        Cumulative incidence, limits, mothers at start, at risk at each horizon
        (time ≥ horizon) and returns by each horizon.

    Examples
    --------
    >>> p = aalen_johansen(np.array([1, 2, 3, 4]), np.array([1, 2, 1, 0]), np.array([3]))
    >>> round(float(p.estimate[0]), 6)  # 1/4 + (1/2)(1/2)
    0.5
    """
    times, f, var = incidence_curve(time, status)
    time = np.asarray(time, dtype=float)
    status = np.asarray(status, dtype=np.int64)
    horizons = np.asarray(horizons_days, dtype=float)
    z = norm.ppf(1 - alpha / 2)
    q = 1.0 - f  # the survival-like complement, transformed as the Kaplan–Meier S is
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log(q)
        half = z * np.sqrt(var) / log_q
        lower_q = np.exp(-np.exp(np.log(-log_q) - half / q))
        upper_q = np.exp(-np.exp(np.log(-log_q) + half / q))
    flat = (f <= 0.0) | (q <= 0.0)
    lower_q = np.where(flat, q, lower_q)
    upper_q = np.where(flat, q, upper_q)
    pos = np.searchsorted(times, horizons, side="right") - 1
    take = pos >= 0

    def at(values: np.ndarray, before: float) -> np.ndarray:
        return np.where(take, values[np.maximum(pos, 0)], before)

    n_at_risk = np.array([(time >= h).sum() for h in horizons], dtype=np.int64)
    n_events = np.array([((time <= h) & (status == 1)).sum() for h in horizons], dtype=np.int64)
    return KMPoints(
        horizons_days=horizons,
        estimate=at(f, 0.0),
        ci_lower=1.0 - at(upper_q, 1.0),
        ci_upper=1.0 - at(lower_q, 1.0),
        n_at_start=len(time),
        n_at_risk=n_at_risk,
        n_events=n_events,
    )
