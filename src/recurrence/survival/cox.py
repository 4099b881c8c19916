"""Cox proportional-hazards model of return, with a check of proportional hazards.

Covariates are the categorical covariates at index (:data:`recurrence.survival.cohort.COVARIATES`),
each coded against a reference level (:data:`REFERENCE_LEVELS`). Time is in days (so tie handling
barely matters; lifelines uses Efron), censored at the headline horizon. Mothers with a covariate
recorded as ``unknown`` are left out (complete cases). Proportional hazards are tested with the
exact score test of R survival ≥ 3.0 ``cox.zph`` (:mod:`recurrence.survival.ph`, ``km`` time
transform), one test per covariate (all its levels together); a covariate failing it at
:data:`PH_ALPHA` after a Bonferroni correction for the number of covariates tested is moved into
the strata of the final model (its hazard ratios are then not estimated, and the result says so).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import polars as pl
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning

from recurrence.survival.cohort import COVARIATES, REFERENCE_LEVELS
from recurrence.survival.km import horizon_days
from recurrence.survival.ph import ZphResiduals, cox_zph, efron_fit, zph_residuals

#: Columns of ``analysis.cox_hazard_ratios`` and ``cox_hazard_ratios.csv``, in order.
COX_COLUMNS: tuple[str, ...] = (
    "variable",
    "level",
    "reference_level",
    "hazard_ratio",
    "ci_lower",
    "ci_upper",
    "p_value",
)
PH_COLUMNS: tuple[str, ...] = ("variable", "transform", "chisq", "df", "p_value", "stratified")
PH_ALPHA = 0.05
#: Time transform of the proportional-hazards test (R's ``cox.zph`` default).
PH_TRANSFORM = "km"
_SEP = "="
_RATIO_SCHEMA = {
    "variable": pl.String,
    "level": pl.String,
    "reference_level": pl.String,
    "hazard_ratio": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "p_value": pl.Float64,
    "n_mothers": pl.Int64,
    "n_events": pl.Int64,
}
#: Columns of ``analysis.cox_zph_residuals``: one row per return and tested term (never
#: published: each row is one mother's return; :mod:`recurrence.survival.zph_bins` bins them).
ZPH_COLUMNS: tuple[str, ...] = (
    "variable",
    "time_days",
    "transformed_time",
    "beta_t",
    "coefficient",
    "scale",
    "variance",
    "stratified",
    "min_level_mothers",
    "min_level_events",
)
_ZPH_SCHEMA = {
    "variable": pl.String,
    "time_days": pl.Float64,
    "transformed_time": pl.Float64,
    "beta_t": pl.Float64,
    "coefficient": pl.Float64,
    "scale": pl.String,
    "variance": pl.Float64,
    "stratified": pl.Boolean,
    "min_level_mothers": pl.Int64,
    "min_level_events": pl.Int64,
}
_PH_SCHEMA = {
    "variable": pl.String,
    "transform": pl.String,
    "chisq": pl.Float64,
    "df": pl.Int64,
    "p_value": pl.Float64,
    "stratified": pl.Boolean,
}


@dataclass(frozen=True)
class CoxResult:
    """Hazard ratios, the proportional-hazards test and what was stratified.

    ``hazard_ratios`` has :data:`COX_COLUMNS` plus ``n_mothers`` and ``n_events`` in each level
    (used for disclosure control, not published). ``zph_residuals`` has one row per return and
    tested term (:data:`ZPH_COLUMNS`): R's ``cox.zph`` ``y`` (β(t)) against its ``x``.
    """

    hazard_ratios: pl.DataFrame
    ph_test: pl.DataFrame
    stratified: tuple[str, ...]
    n_mothers: int
    n_events: int
    #: Scaled Schoenfeld residuals of the tested (unstratified) fit, columns
    #: :data:`ZPH_COLUMNS`; warehouse only.
    zph_residuals: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_ZPH_SCHEMA))


def _design(
    cohort: pl.DataFrame, covariates: Sequence[str], years: float
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Dummy-coded design matrix (the one polars→pandas boundary of the Cox model).

    Returns the matrix and each covariate's reference level: :data:`REFERENCE_LEVELS` where
    the extract has that level, otherwise its most common level (an extract that starts in 2014
    has no 2008-2011 mothers), so readers are told what each ratio compares against.
    """
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
    references: dict[str, str] = {}
    for c in covariates:
        ref = REFERENCE_LEVELS.get(c)
        levels = sorted(frame[c].unique().to_list())
        if not levels:
            continue  # every mother's value is unknown: nothing to compare
        if ref not in levels:
            ref = frame[c].mode().sort()[0]
        references[c] = ref
        columns += [
            (pl.col(c) == level).cast(pl.Int8).alias(f"{c}{_SEP}{level}")
            for level in levels
            if level != ref
        ]
    return frame.select(columns).to_pandas(), references


def _split(name: str) -> tuple[str, str]:
    variable, _, level = name.partition(_SEP)
    return variable, level


def _not_fitted(n_mothers: int, n_events: int) -> CoxResult:
    """An empty, typed result for a cohort the model cannot be fitted on."""
    return CoxResult(
        pl.DataFrame(schema={**_RATIO_SCHEMA}),
        pl.DataFrame(schema={**_PH_SCHEMA}),
        (),
        n_mothers,
        n_events,
    )


def _fit(design: pd.DataFrame, **kwargs: object) -> CoxPHFitter | None:
    """Lifelines' Cox fit, or None where it has no trustworthy estimate.

    lifelines warns, and still returns coefficients, on complete separation, more columns than
    mothers or a non-unique solution: hazard ratios from such a fit are not estimates, so none
    are published (and the warning does not reach the user's terminal).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            cph = CoxPHFitter().fit(design, duration_col="time_days", event_col="event", **kwargs)
        except ConvergenceError:
            return None
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        return None
    return cph


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
        Family-wise level of the proportional-hazards tests: a covariate is stratified when its
        test's p-value is below ``ph_alpha`` divided by the number of covariates tested.

    Returns
    -------
    CoxResult
        Hazard ratios (columns :data:`COX_COLUMNS`) and the PH test (columns
        :data:`PH_COLUMNS`).
    """
    if cohort.is_empty():
        return _not_fitted(0, 0)
    design, references = _design(cohort, covariates, horizon_years)
    # A level with no returns has no finite hazard ratio. Its mothers are left out of the model:
    # dropping only its column would silently merge them into the reference group.
    dummies = [c for c in design.columns if c not in ("time_days", "event")]
    usable = [
        c for c in dummies if design[c].sum() > 0 and design.loc[design[c] == 1, "event"].sum() > 0
    ]
    unusable = [c for c in dummies if c not in usable]
    if unusable:
        design = design[design[unusable].sum(axis=1) == 0]
    design = design[["time_days", "event", *usable]]
    if not usable or not design["event"].any():
        # No return, or no group to compare with its reference: there is no model to fit.
        return _not_fitted(len(design), int(design["event"].sum()))
    cph = _fit(design)
    if cph is None:
        # A singular or separated design (e.g. a level that coincides with another on a small
        # extract) has no estimable hazard ratios: publish none, and the report says why.
        return _not_fitted(len(design), int(design["event"].sum()))
    names = list(cph.params_.index)
    terms: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        terms.setdefault(_split(name)[0], []).append(i)
    time = design["time_days"].to_numpy(dtype=float)
    event = design["event"].to_numpy().astype(bool)
    x = design[names].to_numpy(dtype=float)
    # The score test needs the score to be zero at β: polish lifelines' estimate to convergence.
    try:
        beta = efron_fit(time, event, x, start=cph.params_.to_numpy(dtype=float)).coef
        zph = cox_zph(time, event, x, beta, terms, transform=PH_TRANSFORM)
        resid = zph_residuals(time, event, x, beta, terms, transform=PH_TRANSFORM)
    except np.linalg.LinAlgError:
        # lifelines' step-halving can stop on a design whose information matrix is singular:
        # without a testable model there are no hazard ratios to publish.
        return _not_fitted(len(design), int(design["event"].sum()))
    p_by_term = dict(zip(zph.terms[:-1], zph.p[:-1], strict=True))
    threshold = ph_alpha / max(len(p_by_term), 1)
    failing = sorted(k for k, p in p_by_term.items() if p < threshold)
    if failing:
        keep_cols = [c for c in usable if _split(c)[0] not in failing]
        strata = design[["time_days", "event", *keep_cols]].copy()
        original, _ = _design(cohort, covariates, horizon_years)
        strata["_stratum"] = (
            original[[c for c in original.columns if _split(c)[0] in failing]]
            .astype(str)
            .agg("".join, axis=1)
        )
        stratified = _fit(strata, strata=["_stratum"])
        if stratified is None:
            return _not_fitted(len(design), int(design["event"].sum()))
        cph = stratified
    summary = cph.summary
    counts = {
        k: (int(design[k].sum()), int(design.loc[design[k] == 1, "event"].sum()))
        for k in summary.index
    }
    ratios = pl.DataFrame(
        {
            "variable": [_split(k)[0] for k in summary.index],
            "level": [_split(k)[1] for k in summary.index],
            "reference_level": [references[_split(k)[0]] for k in summary.index],
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
            "variable": list(zph.terms),
            "transform": [PH_TRANSFORM] * len(zph.terms),
            "chisq": zph.chisq.astype(float),
            "df": zph.df.astype(np.int64),
            "p_value": zph.p.astype(float),
            "stratified": [t in failing for t in zph.terms],
        }
    )
    return CoxResult(
        ratios.sort("variable", "level"),
        ph,
        tuple(failing),
        len(design),
        int(design["event"].sum()),
        _residual_frame(resid, terms, names, design, failing),
    )


def _residual_frame(
    resid: ZphResiduals,
    terms: dict[str, list[int]],
    names: list[str],
    design: pd.DataFrame,
    failing: list[str],
) -> pl.DataFrame:
    """One row per return and term: β(t), its reference line and the term's smallest level."""
    parts = []
    for k, term in enumerate(resid.terms):
        cols = [names[i] for i in terms[term]]
        mothers = min(int(design[c].sum()) for c in cols)
        events = min(int(design.loc[design[c] == 1, "event"].sum()) for c in cols)
        n = resid.time.size
        parts.append(
            pl.DataFrame(
                {
                    "variable": [term] * n,
                    "time_days": resid.time,
                    "transformed_time": resid.x,
                    "beta_t": resid.y[:, k],
                    "coefficient": [float(resid.coef[k])] * n,
                    "scale": ["coefficient" if len(cols) == 1 else "linear_predictor"] * n,
                    "variance": [float(resid.var[k, k])] * n,
                    "stratified": [term in failing] * n,
                    "min_level_mothers": [mothers] * n,
                    "min_level_events": [events] * n,
                },
                schema=_ZPH_SCHEMA,
            )
        )
    return pl.concat(parts) if parts else pl.DataFrame(schema=_ZPH_SCHEMA)
