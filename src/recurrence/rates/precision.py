"""Newborn counts when some dates of birth are known only to the week: lower and upper counts.

Cafcass records a child's week of birth, not the day (``birth_date_precision = week`` in the
contract). The newborn and infant counts of ``analysis.newborn_rates`` age each child from the
``birth_date`` written (the stated rule: the adapter writes the middle of the week by default).
For a child known to the week the true age at entry lies within a seven-day range, so each count
has a lower bound (children *surely* in the band, whichever day of the week they were born) and
an upper bound (children *possibly* in it). This module counts both for England and Wales over
the whole years of the rates, and applies disclosure control to them before they are released
with the newborn figures (``newborn_precision.csv``) and stated in the report.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from recurrence.config import DisclosureConfig, RatesConfig
from recurrence.disclosure import mark, round_to_base
from recurrence.publish import atomic_write
from recurrence.rates.newborns import age_bands

TABLE = "analysis.newborn_precision"
PUBLISHED = "published.newborn_precision"
CSV_NAME = "newborn_precision.csv"
#: Count columns: children dated to a week, surely in the band, by the stated rule, possibly.
COUNTS = ("n_children_dated_to_a_week", "n_children_surely", "children", "n_children_possibly")
PUBLISHED_COLUMNS = ("geography_name", "years", "age_band", *COUNTS, "suppressed")


def build_precision_bounds(con: duckdb.DuckDBPyConnection, rates: RatesConfig) -> pl.DataFrame:
    """Write ``analysis.newborn_precision``: the bounds of each age band's count (unsuppressed).

    The children are those of the England and Wales rows of ``analysis.newborn_rates``: counted
    in ``analysis.newborn_children``, in the whole years the rates cover, summed over the years.

    Parameters
    ----------
    con
        Warehouse connection holding ``analysis.newborn_children`` and
        ``analysis.newborn_rates``.
    rates
        The age-band definitions.

    Returns
    -------
    polars.DataFrame
        One row per age band: geography_name, years (first to last), age_band, band_order and
        :data:`COUNTS`.
    """
    newborn, infant = age_bands(rates)
    table = con.execute(
        """
        with years as (
            select distinct year from analysis.newborn_rates
            where geography_level = 'england_and_wales'
        ),
        children as (
            select c.* from analysis.newborn_children as c
            inner join years as y on c.year = y.year
            where c.counted
        ),
        bands as (
            select $newborn as age_band, 1 as band_order
            union all select $infant, 2
        )
        select
            'England and Wales' as geography_name,
            coalesce((select min(year) || ' to ' || max(year) from years), '') as years,
            b.age_band,
            b.band_order,
            count(c.case_id) filter (where c.birth_date_precision = 'week')
                as n_children_dated_to_a_week,
            count(c.case_id) filter (
                where (b.band_order = 1 and c.newborn_surely)
                or (b.band_order = 2 and c.infant_surely)
            ) as n_children_surely,
            count(c.case_id) filter (
                where (b.band_order = 1 and c.newborn) or (b.band_order = 2 and c.infant)
            ) as children,
            count(c.case_id) filter (
                where (b.band_order = 1 and c.newborn_possibly)
                or (b.band_order = 2 and c.infant_possibly)
            ) as n_children_possibly
        from bands as b
        left join children as c on true
        group by all
        order by b.band_order
        """,
        {"newborn": newborn, "infant": infant},
    ).pl()
    con.register("_precision", table.to_arrow())
    try:
        con.execute(f"create or replace table {TABLE} as select * from _precision")
    finally:
        con.unregister("_precision")
    return table


def publish_precision_bounds(
    bounds: pl.DataFrame, disclosure: DisclosureConfig
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Disclosure control of the bounds: what may be released.

    Nothing is published (an empty table) when no child is dated to a week: every bound then
    equals its count. Otherwise, primary: a count under ``min_cell``, zeros included (as for the
    rates), is hidden. Secondary: a bound whose difference from the count by the stated rule is
    from 1 to ``min_cell - 1`` is hidden too, because the difference is itself a count of children
    (those surely, or possibly, in the band but not counted). With a rounding base the visible
    counts are rounded.

    Parameters
    ----------
    bounds
        ``analysis.newborn_precision``.
    disclosure
        Threshold, rounding base and symbol.

    Returns
    -------
    tuple
        The published table (:data:`PUBLISHED_COLUMNS`; hidden values null, ``suppressed`` true
        when any count of the row is hidden; no rows when no child is dated to a week) and counts
        of primary and secondary hidden cells.
    """
    small = disclosure.min_cell
    rows = []
    primary = secondary = 0
    dated = bounds["n_children_dated_to_a_week"]
    for row in bounds.iter_rows(named=True) if int(dated.max() or 0) > 0 else ():
        hidden = {c for c in COUNTS if row[c] < small}
        primary += len(hidden)
        for bound in ("n_children_surely", "n_children_possibly"):
            if bound not in hidden and 0 < abs(row["children"] - row[bound]) < small:
                hidden.add(bound)
                secondary += 1
        out = {k: row[k] for k in ("geography_name", "years", "age_band")}
        for c in COUNTS:
            value = row[c]
            if disclosure.rounding_base > 1:
                value = int(round_to_base([value], disclosure.rounding_base)[0])
            out[c] = None if c in hidden else value
        out["suppressed"] = bool(hidden)
        rows.append(out)
    schema = {
        "geography_name": pl.String,
        "years": pl.String,
        "age_band": pl.String,
        **dict.fromkeys(COUNTS, pl.Int64),
        "suppressed": pl.Boolean,
    }
    table = pl.DataFrame(rows, schema=schema, orient="row").select(PUBLISHED_COLUMNS)
    return table, {"primary": primary, "secondary": secondary}


def write_published_bounds(con: duckdb.DuckDBPyConnection, table: pl.DataFrame) -> None:
    """Write ``published.newborn_precision``."""
    con.register("_precision", table.to_arrow())
    try:
        con.execute(f"create or replace table {PUBLISHED} as select * from _precision")
    finally:
        con.unregister("_precision")


def write_precision_csv(published: pl.DataFrame, folder: Path, *, symbol: str) -> Path:
    """Write ``newborn_precision.csv`` beside the newborn rates (hidden values as ``symbol``).

    Parameters
    ----------
    published
        ``published.newborn_precision``.
    folder
        The run's report folder.
    symbol
        Suppression symbol.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    text = mark(
        published.with_columns(pl.col("suppressed").cast(pl.String)), list(COUNTS), symbol=symbol
    )
    return atomic_write(folder / CSV_NAME, lambda tmp: text.write_csv(tmp))
