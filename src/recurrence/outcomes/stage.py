"""The outcomes stage's steps over the warehouse, the released CSV, and the recounts behind checks.

Tables: ``analysis.case_outcomes`` (:func:`recurrence.outcomes.classify.build_case_outcomes`),
``analysis.outcome_cells`` and ``analysis.outcome_proportions`` (:func:`build_proportions`,
unsuppressed), ``published.outcomes`` (:func:`publish`) and ``reports/<run>/outcomes.csv``
(:func:`write_outcomes_csv`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from recurrence.config import Config
from recurrence.disclosure import Exposure, verify_suppression
from recurrence.outcomes.classify import CASE_OUTCOMES_TABLE, OUTCOME_CLASSES
from recurrence.outcomes.proportions import (
    KEY,
    MEASURES,
    PUBLISHED_COLUMNS,
    QUARTILES,
    ZERO_SHOWN,
    PublishedOutcomes,
    disclosure_structure,
    outcome_cells,
    proportion_table,
    publish_outcomes,
)
from recurrence.publish import atomic_write

CELLS_TABLE = "analysis.outcome_cells"
PROPORTIONS_TABLE = "analysis.outcome_proportions"
PUBLISHED_TABLE = "published.outcomes"
CSV_NAME = "outcomes.csv"
DECIMALS = 4


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("_frame", frame.to_arrow())
    try:
        con.execute(f"create or replace table {table} as select * from _frame")
    finally:
        con.unregister("_frame")


def build_proportions(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """Write ``analysis.outcome_cells`` and ``analysis.outcome_proportions`` (unsuppressed).

    Parameters
    ----------
    con
        Warehouse holding ``analysis.case_outcomes`` and ``audit.extract_info``.
    config
        Run configuration (``outcomes.target_weeks``).

    Returns
    -------
    polars.DataFrame
        ``analysis.outcome_proportions``.
    """
    case_outcomes = con.sql(f"select * from {CASE_OUTCOMES_TABLE}").pl()
    (end,) = con.sql("select max(extract_end_date) from audit.extract_info").fetchone()
    cells = outcome_cells(case_outcomes, target_weeks=config.outcomes.target_weeks, extract_end=end)
    table = proportion_table(cells)
    _write(con, CELLS_TABLE, cells)
    _write(con, PROPORTIONS_TABLE, table)
    return table


def publish(con: duckdb.DuckDBPyConnection, config: Config) -> PublishedOutcomes:
    """Apply disclosure control to ``analysis.outcome_cells``; write ``published.outcomes``.

    Parameters
    ----------
    con
        Warehouse holding ``analysis.outcome_cells``.
    config
        Run configuration (``disclosure``).

    Returns
    -------
    PublishedOutcomes
        The released table and suppression counts.
    """
    cells = con.sql(f"select * from {CELLS_TABLE}").pl()
    published = publish_outcomes(cells, config.disclosure)
    _write(con, PUBLISHED_TABLE, published.table)
    return published


def format_for_release(published: pl.DataFrame, *, symbol: str) -> pl.DataFrame:
    """The released table as text: proportions to four decimals, weeks to one, hidden as symbol.

    Parameters
    ----------
    published
        ``published.outcomes``.
    symbol
        Suppression symbol, such as ``"[c]"``.

    Returns
    -------
    polars.DataFrame
        Every column of :data:`PUBLISHED_COLUMNS` as text. A missing value that is not
        suppressed (a quartile's base, an empty denominator) is ``[x]``, not available.
    """
    quartile = pl.col("measure").is_in(QUARTILES)
    hidden = {
        "numerator": pl.col("numerator").is_null() & ~quartile,
        "denominator": pl.col("denominator").is_null() & ~quartile,
        "value": pl.col("suppressed"),
        "ci_lower": pl.col("suppressed"),
        "ci_upper": pl.col("suppressed"),
    }

    def text(column: str) -> pl.Expr:
        col = pl.col(column)
        if column in ("value", "ci_lower", "ci_upper"):
            digits = pl.when(quartile).then(col.round(1)).otherwise(col.round(DECIMALS))
            col = digits.cast(pl.String)
        else:
            col = col.cast(pl.String)
        return (
            pl.when(hidden[column])
            .then(pl.lit(symbol))
            .otherwise(col.fill_null("[x]"))
            .alias(column)
        )

    return published.with_columns(
        *(text(c) for c in hidden), pl.col("suppressed").cast(pl.String)
    ).select(PUBLISHED_COLUMNS)


def write_outcomes_csv(published: pl.DataFrame, folder: Path, *, symbol: str) -> Path:
    """Write ``outcomes.csv``: tidy, one row per area x year x group x measure.

    Parameters
    ----------
    published
        ``published.outcomes`` (after disclosure control).
    folder
        The run's report folder.
    symbol
        Suppression symbol.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    text = format_for_release(published, symbol=symbol)
    return atomic_write(folder / CSV_NAME, lambda tmp: text.write_csv(tmp))


# --- recounts behind the blocking checks -------------------------------------------------------


def count_cases_not_classified_once(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Cases of ``staging.cases`` missing from, duplicated in or foreign to the outcomes table.

    Returns
    -------
    dict
        ``cases_in_staging``, ``rows_classified``, ``missing``, ``duplicated``, ``not_in_staging``
        and ``without_a_class`` (a class outside :data:`OUTCOME_CLASSES`, or a care case
        without both group labels); the check passes when the last four are zero.
    """
    classes = list(OUTCOME_CLASSES)
    row = con.execute(
        f"""
        select
            (select count(*) from staging.cases),
            (select count(*) from {CASE_OUTCOMES_TABLE}),
            (select count(*) from staging.cases as s
                where not exists (select 1 from {CASE_OUTCOMES_TABLE} as o
                    where o.case_id = s.case_id)),
            (select count(*) - count(distinct case_id) from {CASE_OUTCOMES_TABLE}),
            (select count(*) from {CASE_OUTCOMES_TABLE} as o
                where not exists (select 1 from staging.cases as s where s.case_id = o.case_id)),
            (select count(*) from {CASE_OUTCOMES_TABLE}
                where outcome_class is null or not list_contains($classes, outcome_class)
                    or (care_proceedings
                        and (mother_history is null or previous_removal is null)))
        """,
        {"classes": classes},
    ).fetchone()
    names = (
        "cases_in_staging",
        "rows_classified",
        "missing",
        "duplicated",
        "not_in_staging",
        "without_a_class",
    )
    return dict(zip(names, (int(v) for v in row), strict=True))


def visible_small_counts(published: pl.DataFrame, *, min_cell: int) -> int:
    """Shown numerators or denominators under ``min_cell``.

    A zero is allowed only where it is shown by rule: ongoing and outcome-not-recorded.

    Returns
    -------
    int
        Offending rows (0 when safe).
    """
    allowed_zero = pl.col("measure").is_in(ZERO_SHOWN) & (pl.col("numerator") == 0)
    small_num = (pl.col("numerator") < min_cell) & ~allowed_zero
    small_den = pl.col("denominator") < min_cell
    return published.filter(small_num | small_den).height


def hidden_values_shown(published: pl.DataFrame) -> int:
    """Suppressed rows that still show a proportion, interval or quartile.

    Returns
    -------
    int
        Offending rows.
    """
    shown = pl.any_horizontal(pl.col(c).is_not_null() for c in ("value", "ci_lower", "ci_upper"))
    return published.filter(pl.col("suppressed") & shown).height


def derivable_hidden_counts(
    cells: pl.DataFrame, published: pl.DataFrame, *, min_cell: int
) -> list[Exposure]:
    """Hidden counts of the released table that the shown counts and totals give away.

    A count shown as a numerator or denominator is known to the reader; every other count is
    unknown to the reader except through the relations. ``not_met`` is never shown itself, so a
    ``not_met`` of ``min_cell`` or more may be worked out (it is not confidential); the check
    covers every count shown as ``[c]`` and every ``not_met`` under ``min_cell``.

    Parameters
    ----------
    cells
        ``analysis.outcome_cells`` (the true counts).
    published
        ``published.outcomes``.
    min_cell
        The disclosure threshold.

    Returns
    -------
    list of Exposure
        Empty when no hidden count can be worked out.
    """
    values, relations, fixed = disclosure_structure(cells)
    shown: set[tuple] = set()
    hidden: set[tuple] = set()
    for row in published.select(*KEY, "measure", "numerator", "denominator").iter_rows():
        key, measure, num, den = row[: len(KEY)], row[len(KEY)], row[-2], row[-1]
        if measure not in MEASURES:
            continue
        num_cell, den_cell = MEASURES[measure]
        for cell, value in ((num_cell, num), (den_cell, den)):
            (shown if value is not None else hidden).add((*key, cell))
    hidden |= {k for k, v in values.items() if k[-1] == "not_met" and v < min_cell}
    unknown = [k for k in values if k not in shown and k not in fixed]
    concern = hidden - fixed
    return verify_suppression(values, relations, unknown, only=concern)
