"""The exact proportional-hazards score test of R ``survival`` ≥ 3.0 (``cox.zph``), in numpy.

lifelines' ``proportional_hazard_test`` is the Grambsch–Therneau approximation that R dropped
in survival 3.0 (it replaces the information matrix by a constant times the variance of the
coefficients); on our cohorts its statistics differ from the exact test by orders of magnitude.
The exact test adds, for each covariate column ``x``, a time-varying column ``g(t)·x`` (``g``
the centred transformed time) and computes the score test that its coefficients are zero with
the Cox coefficients held at their estimate: ``u' I⁻¹ u`` with ``u = (0, U_γ)`` and ``I`` the
full ``2p × 2p`` information of (β, γ) under Efron's tie handling. One test per term (all of a
categorical covariate's columns together) and a global test.

The Efron fit here (:func:`efron_fit`) is a plain Newton–Raphson iteration to full convergence:
the test needs the score at β̂ to be zero, so a fit stopped early (lifelines stops at about
1e-7) shifts the statistics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: Time transforms of the test, as named by R's ``cox.zph``.
TRANSFORMS: tuple[str, ...] = ("km", "identity", "rank")


@dataclass(frozen=True)
class _Stratum:
    """Per-event-time pieces of one stratum: information, observed minus expected covariates."""

    times: np.ndarray  # distinct return times
    info: np.ndarray  # (k, p, p) Efron information at each time
    resid: np.ndarray  # (k, p) Σ x over the returns − Σ Efron means (summed Schoenfeld)
    loglik: float


def _stratum(time: np.ndarray, event: np.ndarray, x: np.ndarray, beta: np.ndarray) -> _Stratum:
    """Efron log partial likelihood pieces of one stratum (rows in any order)."""
    p = x.shape[1]
    order = np.argsort(time, kind="stable")
    time, event, x = time[order], event[order], x[order]
    eta = x @ beta
    phi = np.exp(eta)
    dt = time[event]
    if dt.size == 0:
        return _Stratum(np.empty(0), np.zeros((0, p, p)), np.zeros((0, p)), 0.0)
    uniq, start, m = np.unique(dt, return_index=True, return_counts=True)
    first = np.searchsorted(time, uniq, side="left")  # risk set: time ≥ t

    def suffix(values: np.ndarray) -> np.ndarray:
        return np.cumsum(values[::-1], axis=0)[::-1][first]

    g = np.repeat(np.arange(uniq.size), m)
    dx, dphi = x[event], phi[event]

    def tied(values: np.ndarray) -> np.ndarray:
        out = np.zeros((uniq.size, *values.shape[1:]))
        np.add.at(out, g, values)
        return out

    s0, d0 = suffix(phi), tied(dphi)
    s1, d1 = suffix(phi[:, None] * x), tied(dphi[:, None] * dx)
    outer = x[:, :, None] * x[:, None, :]
    s2 = suffix(phi[:, None, None] * outer)
    d2 = tied(dphi[:, None, None] * dx[:, :, None] * dx[:, None, :])
    # Each return at a tied time takes one Efron term l = 0..m−1 with weight l/m.
    frac = (np.arange(dt.size) - np.repeat(start, m)) / np.repeat(m, m)
    a0 = s0[g] - frac * d0[g]
    a1 = s1[g] - frac[:, None] * d1[g]
    a2 = s2[g] - frac[:, None, None] * d2[g]
    mean = a1 / a0[:, None]
    var = a2 / a0[:, None, None] - mean[:, :, None] * mean[:, None, :]
    loglik = float(eta[event].sum() - np.log(a0).sum())
    return _Stratum(uniq, tied(var), tied(dx - mean), loglik)


def _strata(
    time: np.ndarray, event: np.ndarray, x: np.ndarray, strata: np.ndarray | None, beta: np.ndarray
) -> list[_Stratum]:
    if strata is None:
        return [_stratum(time, event, x, beta)]
    return [
        _stratum(time[strata == s], event[strata == s], x[strata == s], beta)
        for s in np.unique(strata)
    ]


@dataclass(frozen=True)
class EfronFit:
    """A Cox fit with Efron ties: coefficients, their standard errors and the log-likelihood."""

    coef: np.ndarray
    se: np.ndarray
    loglik: float
    information: np.ndarray


def efron_fit(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    *,
    strata: np.ndarray | None = None,
    start: np.ndarray | None = None,
    max_iter: int = 50,
) -> EfronFit:
    """Newton–Raphson Cox fit (Efron ties, optional strata) run to full convergence.

    Parameters
    ----------
    time, event
        Follow-up time and whether it ended in the event, one per row.
    x
        Covariate matrix, one row per subject.
    strata
        Stratum label per row, or None.
    start
        Starting coefficients (e.g. lifelines' estimate); zeros when None.
    max_iter
        Iterations before giving up (each halves its step until the likelihood rises).

    Returns
    -------
    EfronFit
        Coefficients, standard errors, log partial likelihood and information matrix.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    x = np.asarray(x, dtype=float).reshape(len(time), -1)
    beta = np.zeros(x.shape[1]) if start is None else np.asarray(start, dtype=float).copy()
    parts = _strata(time, event, x, strata, beta)
    loglik = sum(s.loglik for s in parts)
    for _ in range(max_iter):
        score = sum(s.resid.sum(axis=0) for s in parts)
        info = sum(s.info.sum(axis=0) for s in parts)
        step = np.linalg.solve(info, score)
        for _half in range(30):
            trial = _strata(time, event, x, strata, beta + step)
            new = sum(s.loglik for s in trial)
            if new >= loglik - 1e-12 * abs(loglik):
                break
            step /= 2
        beta, parts, old, loglik = beta + step, trial, loglik, new
        if np.max(np.abs(step)) < 1e-12 or abs(loglik - old) < 1e-15 * abs(loglik):
            break
    info = sum(s.info.sum(axis=0) for s in parts)
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    return EfronFit(beta, se, loglik, info)


def _transform(time: np.ndarray, event: np.ndarray, how: str) -> np.ndarray:
    """The transformed time of every row (R's ``cox.zph`` ``transform``)."""
    if how == "identity":
        return time.astype(float)
    if how == "rank":
        return stats.rankdata(time, method="average")
    if how == "km":
        # 1 − the left-continuous Kaplan–Meier of the whole sample (strata ignored, as in R).
        _, inverse = np.unique(time, return_inverse=True)
        deaths = np.bincount(inverse, weights=event.astype(float))
        at_risk = len(time) - np.concatenate(([0], np.cumsum(np.bincount(inverse))[:-1]))
        surv = np.cumprod(1 - deaths / at_risk)
        before = np.concatenate(([1.0], surv[:-1]))
        return 1 - before[inverse]
    raise ValueError(f"transform must be one of {TRANSFORMS}, got {how!r}.")


@dataclass(frozen=True)
class ZphTest:
    """The score test of proportional hazards: one row per term, then ``GLOBAL``."""

    terms: tuple[str, ...]
    chisq: np.ndarray
    df: np.ndarray
    p: np.ndarray


def cox_zph(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    terms: Mapping[str, Sequence[int]],
    *,
    transform: str = "km",
    strata: np.ndarray | None = None,
) -> ZphTest:
    """R's ``cox.zph(fit, transform, terms=TRUE)`` score test at the coefficients ``beta``.

    Parameters
    ----------
    time, event, x
        The data the model was fitted on.
    beta
        The fitted coefficients (the score must be zero there: use :func:`efron_fit`).
    terms
        Term name → the columns of ``x`` it owns (a categorical covariate's dummy columns).
    transform
        ``"km"`` (R's default), ``"identity"`` or ``"rank"``.
    strata
        Stratum label per row if the model was stratified.

    Returns
    -------
    ZphTest
        Chi-square, degrees of freedom and p-value per term and globally.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    x = np.asarray(x, dtype=float).reshape(len(time), -1)
    p = x.shape[1]
    ttimes = _transform(time, event, transform)
    centre = ttimes[event].mean()
    imat = np.zeros((2 * p, 2 * p))
    u = np.zeros(2 * p)
    gval = dict(zip(time[event], ttimes[event] - centre, strict=False))
    for part in _strata(time, event, x, strata, np.asarray(beta, dtype=float)):
        g = np.array([gval[t] for t in part.times])
        v = part.info.sum(axis=0)
        gv = (g[:, None, None] * part.info).sum(axis=0)
        ggv = ((g**2)[:, None, None] * part.info).sum(axis=0)
        imat[:p, :p] += v
        imat[:p, p:] += gv
        imat[p:, :p] += gv
        imat[p:, p:] += ggv
        u[p:] += (g[:, None] * part.resid).sum(axis=0)
    names, chisq, df = [], [], []
    for name, cols in terms.items():
        keep = [*range(p), *(p + c for c in cols)]
        sub = u[keep]
        chisq.append(float(sub @ np.linalg.solve(imat[np.ix_(keep, keep)], sub)))
        df.append(len(cols))
        names.append(name)
    chisq.append(float(u @ np.linalg.solve(imat, u)))
    df.append(p)
    names.append("GLOBAL")
    chi, dfs = np.array(chisq), np.array(df)
    return ZphTest(tuple(names), chi, dfs, stats.chi2.sf(chi, dfs))


@dataclass(frozen=True)
class ZphResiduals:
    """The scaled Schoenfeld residuals of R's ``cox.zph`` object: one row per return.

    ``y[:, k]`` is R's ``zph$y`` for term ``k``: the scaled residual plus the coefficient, an
    estimate of the term's coefficient at that time, β(t). A term of several columns (a
    categorical covariate) is collapsed onto its linear predictor, as R does with
    ``terms=TRUE``: its β(t) is then on the scale where the fitted model says 1 (``coef``).
    Individual rows are one mother's return each: never publish them, only summaries.
    """

    terms: tuple[str, ...]
    time: np.ndarray  # (d,) return time, sorted (within strata)
    x: np.ndarray  # (d,) transformed time
    y: np.ndarray  # (d, k) β(t) estimates
    coef: np.ndarray  # (k,) the reference line: the coefficient, or 1 for a collapsed term
    var: np.ndarray  # (k, k) R's ``zph$var`` (the band of plot.cox.zph uses its diagonal)


def zph_residuals(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    terms: Mapping[str, Sequence[int]],
    *,
    transform: str = "km",
    strata: np.ndarray | None = None,
) -> ZphResiduals:
    """R's ``cox.zph(fit, transform, terms=TRUE)`` ``x``, ``y`` and ``var`` (scaled residuals).

    Each return's Schoenfeld residual is its covariates minus the Efron-weighted mean of the
    risk set (at a tied time, the average of the Efron means: R's ``zph1``). Residuals are
    scaled by the inverse of the information per return (per stratum, counting only returns in
    strata where the covariate varies) and the coefficient is added.

    Parameters
    ----------
    time, event, x, beta, terms, transform, strata
        As :func:`cox_zph`.

    Returns
    -------
    ZphResiduals
        One row per return, ordered by stratum then time.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    x = np.asarray(x, dtype=float).reshape(len(time), -1)
    beta = np.asarray(beta, dtype=float)
    p = x.shape[1]
    ttimes = _transform(time, event, transform)
    labels = (
        np.zeros(len(time), dtype=int)
        if strata is None
        else np.unique(strata, return_inverse=True)[1]
    )
    imat = np.zeros((p, p))
    rows_t, rows_x, rows_r, rows_s = [], [], [], []
    used = np.zeros((labels.max() + 1, p))
    for s in range(labels.max() + 1):
        keep = labels == s
        st, se_, sx, sg = time[keep], event[keep], x[keep], ttimes[keep]
        part = _stratum(st, se_, sx, beta)
        imat += part.info.sum(axis=0)
        order = np.argsort(st, kind="stable")
        dead = order[se_[order]]
        if dead.size == 0:
            continue
        used[s] = np.where(np.ptp(sx, axis=0) > 0, dead.size, 0)
        dtimes = st[dead]
        idx = np.searchsorted(part.times, dtimes)
        m = np.bincount(idx, minlength=part.times.size)
        xsum = np.zeros((part.times.size, p))
        np.add.at(xsum, idx, sx[dead])
        mean_of_means = (xsum - part.resid) / m[:, None]
        rows_r.append(sx[dead] - mean_of_means[idx])
        rows_t.append(dtimes)
        rows_x.append(sg[dead])
        rows_s.append(np.full(dead.size, s))
    if not rows_r:
        k = len(terms)
        return ZphResiduals(
            tuple(terms), np.empty(0), np.empty(0), np.zeros((0, k)), np.zeros(k), np.zeros((k, k))
        )
    resid = np.concatenate(rows_r)
    sgrp = np.concatenate(rows_s)
    # R's weights: per stratum, the returns there, for each pair of covariates varying in it.
    wtmat = sum(np.minimum.outer(u, u) for u in used)
    vmean = imat / np.where(wtmat == 0, 1, wtmat)
    names = list(terms)
    collapse = np.zeros((p, len(names)))
    coef = np.ones(len(names))
    for i, name in enumerate(names):
        cols = list(terms[name])
        if len(cols) == 1:
            collapse[cols[0], i] = 1
            coef[i] = beta[cols[0]]
        else:
            collapse[cols, i] = beta[cols]
    resid = resid @ collapse
    vmean = collapse.T @ vmean @ collapse
    first = [next(iter(terms[n])) for n in names]
    used_t = used[:, first]
    for s in range(used_t.shape[0]):
        k = np.flatnonzero(used_t[s] > 0)
        j = sgrp == s
        if k.size:
            resid[np.ix_(j, k)] = np.linalg.solve(vmean[np.ix_(k, k)], resid[np.ix_(j, k)].T).T
        resid[np.ix_(j, np.setdiff1d(np.arange(len(names)), k))] = np.nan
    return ZphResiduals(
        tuple(names),
        np.concatenate(rows_t),
        np.concatenate(rows_x),
        resid + coef,
        coef,
        np.linalg.inv(vmean),
    )
