"""Cox proportional-hazards model of return, with a check of proportional hazards.

Covariates are the categorical covariates at index (:data:`recurrence.survival.cohort.COVARIATES`),
each coded against a reference level (:data:`REFERENCE_LEVELS`). Time is in days (so tie handling
barely matters; lifelines uses Efron), censored at the headline horizon. Mothers with a covariate
recorded as ``unknown`` are left out (complete cases). Proportional hazards are tested with
lifelines' scaled Schoenfeld residual test against rank of time, one test per coefficient; a
covariate with a coefficient failing it at :data:`PH_ALPHA` after a Bonferroni correction for the
number of coefficients tested is moved into the strata of the final model (its hazard ratios are
then not estimated, and the result says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import proportional_hazard_test

from recurrence.survival.cohort import COVARIATES, REFERENCE_LEVELS
from recurrence.survival.km import horizon_days

#: Columns of ``analysis.cox_hazard_ratios`` and ``cox_hazard_ratios.csv``, in order.
COX_COLUMNS: tuple[str, ...] = (
    "variable",
    "level",
    "hazard_ratio",
    "ci_lower",
    "ci_upper",
    "p_value",
)
PH_COLUMNS: tuple[str, ...] = ("variable", "level", "test_statistic", "p_value", "stratified")
PH_ALPHA = 0.05
_SEP = "="


@dataclass(frozen=True)
class CoxResult:
    """Hazard ratios, the proportional-hazards test and what was stratified.

    ``hazard_ratios`` has :data:`COX_COLUMNS` plus ``n_mothers`` and ``n_events`` in each level
    (used for disclosure control, not published).
    """

    hazard_ratios: pl.DataFrame
    ph_test: pl.DataFrame
    stratified: tuple[str, ...]
    n_mothers: int
    n_events: int


def _design(cohort: pl.DataFrame, covariates: Sequence[str], years: float) -> pd.DataFrame:
    """Dummy-coded design matrix (the one polars→pandas boundary of the Cox model)."""
    limit = horizon_days(years)
    keep = cohort.filter(
        pl.all_horizontal(pl.col(c).cast(pl.String) != "unknown" for c in covariates)
    )
    frame = keep.select(
        pl.min_horizontal("time_days", pl.lit(limit)).cast(pl.Float64).alias("time_days"),
        (pl.col("event") & (pl.col("time_days") <= limit)).cast(pl.Int8).alias("event"),
        *(pl.col(c).cast(pl.String) for c in covariates),
    )
    columns: list[pl.Expr] = [pl.col("time_days"), pl.col("event")]
    for c in covariates:
        ref = REFERENCE_LEVELS.get(c)
        levels = sorted(frame[c].unique().to_list())
        if not levels:
            continue  # every mother's value is unknown: nothing to compare
        if ref not in levels:
            ref = frame[c].mode().sort()[0]
        columns += [
            (pl.col(c) == level).cast(pl.Int8).alias(f"{c}{_SEP}{level}")
            for level in levels
            if level != ref
        ]
    return frame.select(columns).to_pandas()


def scaled_schoenfeld(cph: CoxPHFitter, design: pd.DataFrame) -> pd.DataFrame:
    """Scaled Schoenfeld residuals of an unstratified Efron fit, vectorised, in lifelines' order.

    The same quantity as lifelines' ``compute_residuals(kind="scaled_schoenfeld")`` (whose loop
    grows an array one row at a time: over a minute at national scale): for a return of mother
    *i* at time *t* with *m* returns then, ``x_i − (1/m) Σ_{l<m} (R_x − (l/m) D_x)/(R − (l/m) D)``
    where ``R``, ``R_x`` sum ``exp(xβ)`` and ``x·exp(xβ)`` over the risk set and ``D``, ``D_x``
    over the returns at *t*; times the number of returns and the variance matrix. Rows are the
    returns sorted (stably) by time and event as lifelines sorts them, which matters because the
    rank time transform ranks tied returns in that order.

    Parameters
    ----------
    cph
        A fitted, unstratified ``CoxPHFitter`` (Efron ties, unit weights).
    design
        Its training frame (``time_days``, ``event`` and the covariate columns).

    Returns
    -------
    pandas.DataFrame
        One row per return, one column per coefficient, for ``proportional_hazard_test``'s
        ``precomputed_residuals``.
    """
    names = list(cph.params_.index)
    time = design["time_days"].to_numpy(dtype=float)
    event = design["event"].to_numpy().astype(bool)
    x = design[names].to_numpy(dtype=float)
    order = np.lexsort((event, time))  # stable: by time, censored before returns
    time, event, x = time[order], event[order], x[order]
    phi = np.exp(x @ cph.params_.to_numpy(dtype=float))
    # Risk-set sums at each row's time: suffix sums, taken at the first row of each time.
    first = np.searchsorted(time, time, side="left")
    risk = np.cumsum(phi[::-1])[::-1][first]
    risk_x = np.cumsum((phi[:, None] * x)[::-1], axis=0)[::-1][first]
    dt, dx, de = time[event], x[event], phi[event]
    groups, start, m = np.unique(dt, return_index=True, return_counts=True)
    g = np.repeat(np.arange(len(groups)), m)
    tie_phi = np.bincount(g, weights=de)
    tie_x = np.stack([np.bincount(g, weights=de * dx[:, k]) for k in range(x.shape[1])], axis=1)
    # Each return contributes one term l = 0..m−1 of its time's Efron mean.
    l_frac = (np.arange(len(dt)) - np.repeat(start, m)) / np.repeat(m, m)
    r, r_x = risk[event], risk_x[event]
    terms = (r_x - l_frac[:, None] * tie_x[g]) / (r - l_frac * tie_phi[g])[:, None]
    terms /= np.repeat(m, m)[:, None]
    mean = np.stack([np.bincount(g, weights=terms[:, k]) for k in range(x.shape[1])], axis=1)
    resid = dx - mean[g]
    scaled = len(dt) * resid @ cph.variance_matrix_.to_numpy(dtype=float)
    return pd.DataFrame(scaled, columns=cph.params_.index)


def _split(name: str) -> tuple[str, str]:
    variable, _, level = name.partition(_SEP)
    return variable, level


def _not_fitted(n_mothers: int, n_events: int) -> CoxResult:
    """An empty, typed result for a cohort the model cannot be fitted on."""
    ratios = pl.DataFrame(
        schema={
            "variable": pl.String,
            "level": pl.String,
            "hazard_ratio": pl.Float64,
            "ci_lower": pl.Float64,
            "ci_upper": pl.Float64,
            "p_value": pl.Float64,
            "n_mothers": pl.Int64,
            "n_events": pl.Int64,
        }
    )
    ph = pl.DataFrame(
        schema={
            "variable": pl.String,
            "level": pl.String,
            "test_statistic": pl.Float64,
            "p_value": pl.Float64,
            "stratified": pl.Boolean,
        }
    )
    return CoxResult(ratios, ph, (), n_mothers, n_events)


def fit_cox(
    cohort: pl.DataFrame,
    *,
    covariates: Sequence[str] = COVARIATES,
    horizon_years: float = 7,
    ph_alpha: float = PH_ALPHA,
) -> CoxResult:
    """Fit the Cox model of return, test proportional hazards and stratify where it fails.

    Parameters
    ----------
    cohort
        One row per mother with ``time_days``, ``event`` and the covariates.
    covariates
        Categorical covariates to model.
    horizon_years
        Follow-up is censored here.
    ph_alpha
        Family-wise level of the proportional-hazards tests: a covariate is stratified when one
        of its levels has a p-value below ``ph_alpha`` divided by the number of levels tested.

    Returns
    -------
    CoxResult
        Hazard ratios (columns :data:`COX_COLUMNS`) and the PH test (columns
        :data:`PH_COLUMNS`).
    """
    if cohort.is_empty():
        return _not_fitted(0, 0)
    design = _design(cohort, covariates, horizon_years)
    # Levels with no variation or no events cannot be estimated; drop them rather than fail.
    dummies = [c for c in design.columns if c not in ("time_days", "event")]
    usable = [
        c for c in dummies if design[c].sum() > 0 and design.loc[design[c] == 1, "event"].sum() > 0
    ]
    design = design[["time_days", "event", *usable]]
    if not usable or design["event"].sum() == 0:
        # No return, or no group to compare with its reference: there is no model to fit.
        return _not_fitted(len(design), int(design["event"].sum()))
    try:
        cph = CoxPHFitter().fit(design, duration_col="time_days", event_col="event")
    except ConvergenceError:
        # A singular design (e.g. a level that coincides with another on a small extract) has
        # no estimable hazard ratios: publish none, and the report says why.
        return _not_fitted(len(design), int(design["event"].sum()))
    test = proportional_hazard_test(
        cph,
        design,
        time_transform="rank",
        precomputed_residuals=scaled_schoenfeld(cph, design),
    )
    p_by_level = dict(zip(test.summary.index, test.summary["p"], strict=True))
    stat_by_level = dict(zip(test.summary.index, test.summary["test_statistic"], strict=True))
    threshold = ph_alpha / max(len(p_by_level), 1)
    failing = sorted({_split(k)[0] for k, p in p_by_level.items() if p < threshold})
    if failing:
        keep_cols = [c for c in usable if _split(c)[0] not in failing]
        strata = design[["time_days", "event", *keep_cols]].copy()
        original = _design(cohort, covariates, horizon_years)
        strata["_stratum"] = (
            original[[c for c in original.columns if _split(c)[0] in failing]]
            .astype(str)
            .agg("".join, axis=1)
        )
        try:
            cph = CoxPHFitter().fit(
                strata, duration_col="time_days", event_col="event", strata=["_stratum"]
            )
        except ConvergenceError:
            return _not_fitted(len(design), int(design["event"].sum()))
    summary = cph.summary
    counts = {
        k: (int(design[k].sum()), int(design.loc[design[k] == 1, "event"].sum()))
        for k in summary.index
    }
    ratios = pl.DataFrame(
        {
            "variable": [_split(k)[0] for k in summary.index],
            "level": [_split(k)[1] for k in summary.index],
            "hazard_ratio": summary["exp(coef)"].to_numpy(dtype=float),
            "ci_lower": summary["exp(coef) lower 95%"].to_numpy(dtype=float),
            "ci_upper": summary["exp(coef) upper 95%"].to_numpy(dtype=float),
            "p_value": summary["p"].to_numpy(dtype=float),
            "n_mothers": [counts[k][0] for k in summary.index],
            "n_events": [counts[k][1] for k in summary.index],
        },
        schema_overrides={"n_mothers": pl.Int64, "n_events": pl.Int64},
    )
    ph = pl.DataFrame(
        {
            "variable": [_split(k)[0] for k in p_by_level],
            "level": [_split(k)[1] for k in p_by_level],
            "test_statistic": np.array(list(stat_by_level.values()), dtype=float),
            "p_value": np.array(list(p_by_level.values()), dtype=float),
            "stratified": [_split(k)[0] in failing for k in p_by_level],
        }
    )
    return CoxResult(
        ratios.sort("variable", "level"),
        ph.sort("variable", "level"),
        tuple(failing),
        len(design),
        int(design["event"].sum()),
    )
