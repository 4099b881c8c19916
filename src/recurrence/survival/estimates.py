"""Tables of the cumulative probability of return, overall and by covariate, and their release.

This module is the only place cohort rows cross from polars to numpy/pandas for estimation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from recurrence.disclosure import DisclosureError, Relation, suppress
from recurrence.survival.cohort import COVARIATES
from recurrence.survival.km import horizon_days, kaplan_meier

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


def _rows(variable: str, value: str, frame: pl.DataFrame, years: Sequence[int]) -> list[dict]:
    points = kaplan_meier(
        frame["time_days"].to_numpy(),
        frame["event"].to_numpy(),
        np.array([horizon_days(y) for y in years]),
    )
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
            "method": METHOD_KM,
        }
        for i, y in enumerate(years)
    ]


def estimate_table(
    cohort: pl.DataFrame,
    report_years: Sequence[int],
    *,
    covariates: Sequence[str] = COVARIATES,
) -> pl.DataFrame:
    """Kaplan–Meier cumulative probability of return at each horizon, overall and by group.

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
    rows: list[dict] = []
    if cohort.height:
        rows += _rows(OVERALL, OVERALL, cohort, report_years)
    for variable in covariates:
        for (value,), part in cohort.group_by(variable, maintain_order=False):
            rows += _rows(variable, str(value), part, report_years)
    table = pl.DataFrame(rows, schema=_SCHEMA, orient="row")
    return table.sort(
        pl.col("group_variable") != OVERALL, "group_variable", "group_value", "horizon_years"
    )


def suppress_estimates(table: pl.DataFrame, *, min_cell: int) -> pl.DataFrame:
    """Hide every row whose estimate rests on fewer than ``min_cell`` mothers or events.

    Primary suppression: a row is hidden when its mothers at start, mothers still at risk or
    returns by the horizon number fewer than ``min_cell`` (a zero too: "nobody returned" is
    disclosive). Secondary suppression (:func:`recurrence.disclosure.suppress`) then hides further
    groups so that no hidden count can be recovered by subtracting published groups from the
    overall row: the groups of a variable add up to the whole cohort (when that cannot be
    done, every group of the variable at that horizon is hidden). A hidden row loses its
    estimate, limits and counts.

    Parameters
    ----------
    table
        Output of :func:`estimate_table`.
    min_cell
        Smallest number of mothers a published estimate may rest on.

    Returns
    -------
    polars.DataFrame
        The table with a boolean ``suppressed`` column and hidden values set to null.
    """
    hidden: set[tuple[str, str, int]] = set()
    overall = table.filter(pl.col("group_variable") == OVERALL)
    for (variable, years), part in table.filter(pl.col("group_variable") != OVERALL).group_by(
        "group_variable", "horizon_years"
    ):
        total = overall.filter(pl.col("horizon_years") == years)
        for count in ("n_at_start", "n_at_risk", "n_events"):
            values = dict(zip(part["group_value"], part[count], strict=True))
            cells: dict[object, int] = dict(values)
            relations = []
            if total.height:
                cells[OVERALL] = int(total[count][0])
                relations = [Relation(OVERALL, tuple(values))]
            try:
                result = suppress(cells, relations, min_cell=min_cell, fixed=(OVERALL,))
                drop = result.suppressed
            except DisclosureError:
                # No choice of cells protects the small group (e.g. the variable has a single
                # level, equal to the whole cohort): hide every group of the variable.
                drop = frozenset(values)
            hidden |= {(variable, str(v), years) for v in drop if v != OVERALL}
    for row in overall.iter_rows(named=True):
        if min(row["n_at_start"], row["n_at_risk"], row["n_events"]) < min_cell:
            hidden.add((OVERALL, OVERALL, row["horizon_years"]))
    keys = pl.DataFrame(
        list(hidden) or None,
        schema={"group_variable": pl.String, "group_value": pl.String, "horizon_years": pl.Int64},
        orient="row",
    ).with_columns(pl.lit(True).alias("suppressed"))
    out = table.join(keys, on=["group_variable", "group_value", "horizon_years"], how="left")
    out = out.with_columns(pl.col("suppressed").fill_null(False))
    values = ["estimate", "ci_lower", "ci_upper", "n_at_start", "n_at_risk", "n_events"]
    return out.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in values
    ).select(*ESTIMATE_COLUMNS, "suppressed")
