"""Tables of the cumulative probability of return, overall and by covariate.

Their release (disclosure control) is :mod:`recurrence.survival.disclosure`.

This module is the only place cohort rows cross from polars to numpy/pandas for estimation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from recurrence.survival.aj import aalen_johansen
from recurrence.survival.cohort import COVARIATES
from recurrence.survival.km import KMPoints, horizon_days, kaplan_meier

#: Columns of ``analysis.recurrence_estimates`` and ``recurrence_estimates.csv``, in order.
ESTIMATE_COLUMNS: tuple[str, ...] = (
    "group_variable",
    "group_value",
    "horizon_years",
    "estimate",
    "ci_lower",
    "ci_upper",
    "n_at_start",
    "n_at_risk",
    "n_events",
    "method",
)
METHOD_KM = "kaplan_meier"
#: With a competing event: the estimate, and 1 − KM treating death as censoring (comparison only).
METHOD_AJ = "aalen_johansen"
METHOD_KM_NAIVE = "kaplan_meier_naive"
OVERALL = "all"
_SCHEMA = {
    "group_variable": pl.String,
    "group_value": pl.String,
    "horizon_years": pl.Int64,
    "estimate": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "n_at_start": pl.Int64,
    "n_at_risk": pl.Int64,
    "n_events": pl.Int64,
    "method": pl.String,
}


def has_competing_events(cohort: pl.DataFrame) -> bool:
    """Whether any mother's follow-up ended in the competing event (death)."""
    return "competing_event" in cohort.columns and bool(cohort["competing_event"].any())


def status(cohort: pl.DataFrame) -> np.ndarray:
    """0 censored, 1 return, 2 competing event (death), for :func:`aalen_johansen`."""
    event = cohort["event"].to_numpy().astype(bool)
    competing = (
        cohort["competing_event"].fill_null(False).to_numpy().astype(bool)
        if "competing_event" in cohort.columns
        else np.zeros(cohort.height, dtype=bool)
    )
    return np.where(event, 1, np.where(competing, 2, 0))


def estimate_points(cohort: pl.DataFrame, horizons_days: np.ndarray, method: str) -> KMPoints:
    """Cumulative probability of return at each horizon by ``method``.

    ``kaplan_meier`` and ``kaplan_meier_naive`` are both 1 − KM with everything but a return
    censored (naive when deaths are present); ``aalen_johansen`` treats death as competing.
    """
    time = cohort["time_days"].to_numpy()
    if method == METHOD_AJ:
        return aalen_johansen(time, status(cohort), horizons_days)
    return kaplan_meier(time, cohort["event"].to_numpy(), horizons_days)


def _rows(
    variable: str, value: str, frame: pl.DataFrame, years: Sequence[int], method: str
) -> list[dict]:
    points = estimate_points(frame, np.array([horizon_days(y) for y in years]), method)
    return [
        {
            "group_variable": variable,
            "group_value": value,
            "horizon_years": int(y),
            "estimate": float(points.estimate[i]),
            "ci_lower": float(points.ci_lower[i]),
            "ci_upper": float(points.ci_upper[i]),
            "n_at_start": points.n_at_start,
            "n_at_risk": int(points.n_at_risk[i]),
            "n_events": int(points.n_events[i]),
            "method": method,
        }
        for i, y in enumerate(years)
    ]


def estimate_table(
    cohort: pl.DataFrame,
    report_years: Sequence[int],
    *,
    covariates: Sequence[str] = COVARIATES,
) -> pl.DataFrame:
    """Cumulative probability of return at each horizon, overall and by group.

    Kaplan–Meier (method ``kaplan_meier``); where any mother's follow-up ended in the competing
    event (death), the Aalen–Johansen cumulative incidence (``aalen_johansen``) for every group,
    with the naive 1 − Kaplan–Meier treating death as censoring (``kaplan_meier_naive``) beside
    it for comparison only.

    Parameters
    ----------
    cohort
        One row per mother in the cohort with ``time_days``, ``event`` and the covariates.
    report_years
        Horizons in years.
    covariates
        Columns to break the estimate down by (each level is one group).

    Returns
    -------
    polars.DataFrame
        Columns :data:`ESTIMATE_COLUMNS`; ``group_variable`` ``"all"`` is the whole cohort.
    """
    methods = [METHOD_AJ, METHOD_KM_NAIVE] if has_competing_events(cohort) else [METHOD_KM]
    rows: list[dict] = []
    for method in methods:
        if cohort.height:
            rows += _rows(OVERALL, OVERALL, cohort, report_years, method)
        for variable in covariates:
            for (value,), part in cohort.group_by(variable, maintain_order=False):
                rows += _rows(variable, str(value), part, report_years, method)
    table = pl.DataFrame(rows, schema=_SCHEMA, orient="row")
    return table.sort(
        pl.col("method") == METHOD_KM_NAIVE,
        pl.col("group_variable") != OVERALL,
        "group_variable",
        "group_value",
        "horizon_years",
    )


def primary_method(table: pl.DataFrame) -> str:
    """The method of the published estimate in ``table`` (not the naive comparison)."""
    return METHOD_AJ if METHOD_AJ in set(table["method"]) else METHOD_KM
