"""Newborns and infants in care proceedings per 10,000 live births, by area and year.

The steps, each a function over a DuckDB warehouse connection (see ``docs/rates.md``):

1. :func:`build_newborn_children` - ``analysis.newborn_children``: one row per child per set of
   care proceedings, aged at entry and placed in a year.
2. :func:`build_live_births` - ``analysis.live_births_by_region_year``: the denominators.
3. :func:`build_newborn_rates` - ``analysis.newborn_counts`` and ``analysis.newborn_rates``:
   counts, rates and confidence intervals for every area, year and age band, unsuppressed.
4. :func:`publish_newborn_rates` - ``published.newborn_rates``: the same after disclosure control.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from recurrence.config import DisclosureConfig, RatesConfig
from recurrence.contract import REGIONS, WALES
from recurrence.disclosure import Relation, hide_dependent, round_to_base, suppress
from recurrence.errors import RecurrenceError
from recurrence.rates.intervals import rate_ci
from recurrence.sql import run_sql

ENGLAND = "E92000001"
ENGLAND_AND_WALES = "K04000001"
PER = 10_000
GEOGRAPHY_NAMES: dict[str, str] = {
    **REGIONS,
    ENGLAND: "England",
    ENGLAND_AND_WALES: "England and Wales",
}
LEVEL_ORDER = {"england_and_wales": 1, "country": 2, "region": 3, "local_authority": 4}
PUBLISHED_COLUMNS = (
    "geography_level",
    "geography_code",
    "geography_name",
    "year",
    "age_band",
    "children",
    "live_births",
    "rate_per_10000",
    "ci_lower",
    "ci_upper",
    "suppressed",
)


@dataclass(frozen=True)
class ChildrenSummary:
    """What went into the numerator: rows, children counted, and those that could not be aged.

    ``identified_by_birth`` counts the children counted whose identity is their linked birth;
    ``merged_ids`` how many fewer children are counted than if each person_id were a child
    (children with two person_ids in one year, counted once); ``dated_to_a_week`` the children
    counted whose date of birth is known only to the week (see :mod:`recurrence.rates.precision`).
    """

    rows: int
    counted: int
    without_birth_date: int
    added_at_birth: int
    identified_by_birth: int
    merged_ids: int
    dated_to_a_week: int = 0


def _days_label(days: int) -> str:
    return "under 1 year" if days == 365 else f"under {days} days"


def age_bands(rates: RatesConfig) -> tuple[str, str]:
    """Labels of the newborn and infant age bands, such as ``("under 14 days", "under 1 year")``.

    Parameters
    ----------
    rates
        The rate definitions.

    Returns
    -------
    tuple of str
        Newborn band label, infant band label.

    Examples
    --------
    >>> from recurrence.config import load_config
    >>> age_bands(load_config().rates)
    ('under 14 days', 'under 1 year')
    """
    return _days_label(rates.newborn_days), _days_label(rates.infant_days)


def build_newborn_children(
    con: duckdb.DuckDBPyConnection,
    rates: RatesConfig,
    care_application_types: tuple[str, ...],
) -> ChildrenSummary:
    """Write ``analysis.newborn_children`` and return what it holds.

    Parameters
    ----------
    con
        Warehouse connection with the staging tables.
    rates
        Newborn and infant definitions and year type.
    care_application_types
        Application types that count as care proceedings.

    Returns
    -------
    ChildrenSummary
        Row and child counts, including children without a birth date (never dropped).

    Raises
    ------
    RecurrenceError
        If ``linkage.child_births`` or ``linkage.mother_keys`` (which identify a child by its
        birth or its mother) has not been built.
    """
    for table in ("child_births", "mother_keys"):
        present = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'linkage' "
            "and table_name = $table and table_catalog = current_database()",
            {"table": table},
        ).fetchone()
        if not (present and present[0]):
            raise RecurrenceError(
                f"linkage.{table} is missing: newborn counts identify a child by its linked "
                f"birth or its mother, so run the linkage/{table} asset first."
            )
    run_sql(
        con,
        "rates/newborn_children.sql",
        care_application_types=list(care_application_types),
        year_type=rates.year_type,
        newborn_days=rates.newborn_days,
        infant_days=rates.infant_days,
    )
    rows, counted, unaged, at_birth, by_birth, person_years, weeks = con.sql(
        """
        select count(*), count(*) filter (where counted),
            count(*) filter (where counted and age_at_entry_days is null),
            count(*) filter (where counted and added_at_birth),
            count(*) filter (where counted and child_key like 'birth:%'),
            count(distinct (person_id, year)),
            count(*) filter (where counted and birth_date_precision = 'week')
        from analysis.newborn_children
        """
    ).fetchone()
    return ChildrenSummary(
        rows,
        counted,
        unaged,
        at_birth,
        by_birth,
        merged_ids=person_years - counted,
        dated_to_a_week=weeks,
    )


def build_live_births(con: duckdb.DuckDBPyConnection, rates: RatesConfig) -> dict[str, int]:
    """Write ``analysis.live_births_by_region_year``; return its row count by source.

    Parameters
    ----------
    con
        Warehouse connection with ``staging.births`` and ``staging.live_births``.
    rates
        The year type.

    Returns
    -------
    dict
        Rows per denominator source (``births``, ``live_births``, ``live_births_apportioned``).
    """
    run_sql(con, "rates/live_births_by_region_year.sql", year_type=rates.year_type)
    return dict(
        con.sql(
            "select source, count(*) from analysis.live_births_by_region_year group by 1 order by 1"
        ).fetchall()
    )


def add_rates(counts: pl.DataFrame, *, ci_method: str, level: float = 0.95) -> pl.DataFrame:
    """Add ``rate_per_10000``, ``ci_lower`` and ``ci_upper`` to a table of counts.

    Parameters
    ----------
    counts
        Columns ``children`` and ``live_births`` (positive).
    ci_method
        ``"exact"`` or ``"byar"`` (see :func:`recurrence.rates.intervals.count_ci`).
    level
        Confidence level.

    Returns
    -------
    polars.DataFrame
        The table with the three columns added.
    """
    if counts.is_empty():
        return counts.with_columns(
            pl.lit(None, pl.Float64).alias(c) for c in ("rate_per_10000", "ci_lower", "ci_upper")
        )
    rate, lo, hi = rate_ci(
        counts["children"].to_numpy(),
        counts["live_births"].to_numpy(),
        per=PER,
        method=ci_method,
        level=level,
    )
    return counts.with_columns(
        rate_per_10000=pl.Series(rate), ci_lower=pl.Series(lo), ci_upper=pl.Series(hi)
    )


def build_newborn_rates(con: duckdb.DuckDBPyConnection, rates: RatesConfig) -> pl.DataFrame:
    """Write ``analysis.newborn_counts`` and ``analysis.newborn_rates`` (unsuppressed).

    Needs ``analysis.newborn_children`` and ``analysis.live_births_by_region_year``.

    Parameters
    ----------
    con
        Warehouse connection.
    rates
        Definitions, year type and interval method.

    Returns
    -------
    polars.DataFrame
        ``analysis.newborn_rates``: geography_level, geography_code, geography_name,
        region_code, year, year_start, age_band, band_order (1 newborn, 2 infant), children,
        live_births,
        children_without_birth_date, rate_per_10000, ci_lower, ci_upper.
    """
    newborn, infant = age_bands(rates)
    run_sql(con, "rates/newborn_counts.sql", newborn_band=newborn, infant_band=infant)
    counts = con.sql("select * from analysis.newborn_counts").pl()
    # Local authorities are named by code (the contract carries no names); their synthetic or
    # real codes may coincide with a country's code, so names are looked up for the rest only.
    table = add_rates(counts, ci_method=rates.ci_method).with_columns(
        geography_name=pl.when(pl.col("geography_level") == "local_authority")
        .then(pl.col("geography_code"))
        .otherwise(
            pl.col("geography_code").replace_strict(
                GEOGRAPHY_NAMES, default=pl.col("geography_code")
            )
        )
    )
    table = table.select(
        "geography_level",
        "geography_code",
        "geography_name",
        "region_code",
        "year",
        "year_start",
        "age_band",
        "band_order",
        "children",
        "live_births",
        "children_without_birth_date",
        "rate_per_10000",
        "ci_lower",
        "ci_upper",
    )
    _write(con, "analysis.newborn_rates", table)
    return table


def _write(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    con.register("_frame", frame.to_arrow())
    try:
        con.execute(f"create or replace table {name} as select * from _frame")
    finally:
        con.unregister("_frame")


def disclosure_structure(
    rates: pl.DataFrame,
) -> tuple[dict[tuple, int], list[Relation], set[tuple]]:
    """The cells and additive relations of the rates table, as the disclosure module needs them.

    For every year and age band: England and Wales = England + Wales; England = its nine regions;
    each region (and Wales) = its local authorities + children whose authority is not recorded
    or has no births. That last remainder is not published but is treated as known to a reader
    (``fixed``), which is the cautious assumption.

    Parameters
    ----------
    rates
        ``analysis.newborn_rates``.

    Returns
    -------
    tuple
        Cell values keyed by (geography_level, geography_code, year, age_band), the relations,
        and the fixed (always-known) cells.
    """
    values: dict[tuple, int] = {}
    for row in rates.select(
        "geography_level", "geography_code", "year", "age_band", "children"
    ).iter_rows():
        values[row[:4]] = int(row[4])
    relations: list[Relation] = []
    fixed: set[tuple] = set()
    blocks = rates.select("year", "age_band").unique(maintain_order=True).iter_rows()
    areas = rates.filter(pl.col("geography_level") == "local_authority")
    for year, band in blocks:

        def key(level: str, code: str, year: str = year, band: str = band) -> tuple:
            return (level, code, year, band)

        regions = [c for c in REGIONS if c != WALES and key("region", c) in values]
        if key("country", ENGLAND) in values and regions:
            relations.append(
                Relation(key("country", ENGLAND), tuple(key("region", c) for c in regions))
            )
        if key("england_and_wales", ENGLAND_AND_WALES) in values:
            parts = tuple(
                key("country", c) for c in (ENGLAND, WALES) if key("country", c) in values
            )
            relations.append(Relation(key("england_and_wales", ENGLAND_AND_WALES), parts))
        block_las = areas.filter((pl.col("year") == year) & (pl.col("age_band") == band))
        for region, group in block_las.group_by("region_code", maintain_order=True):
            region_code = region[0]
            level = "country" if region_code == WALES else "region"
            total = key(level, region_code)
            if total not in values:
                continue
            parts = tuple(key("local_authority", c) for c in group["geography_code"])
            residual = ("not_recorded", region_code, year, band)
            values[residual] = values[total] - sum(values[p] for p in parts)
            fixed.add(residual)
            relations.append(Relation(total, (*parts, residual)))
    return values, relations, fixed


def publish_newborn_rates(
    rates: pl.DataFrame, disclosure: DisclosureConfig, *, ci_method: str
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Apply disclosure control to ``analysis.newborn_rates``: what may be released.

    Counts under ``min_cell`` (and zeros) are hidden, with secondary suppression verified by
    :func:`recurrence.disclosure.verify_suppression`; the rate and interval of a hidden count are
    hidden too. With a rounding base, visible counts are rounded and their rates and intervals are
    computed from the rounded counts, so the exact count cannot be read back from a rate.

    Parameters
    ----------
    rates
        ``analysis.newborn_rates``.
    disclosure
        Threshold, rounding base and symbol.
    ci_method
        Interval method (needed to recompute intervals after rounding).

    Returns
    -------
    tuple
        The published table (:data:`PUBLISHED_COLUMNS`; hidden values are null, ``suppressed``
        says which rows) and counts of primary and secondary suppressed cells.
    """
    values, relations, fixed = disclosure_structure(rates)
    result = suppress(values, relations, min_cell=disclosure.min_cell, fixed=fixed)
    # Typed from the rates table so the join works when nothing is hidden (an empty list of rows
    # would otherwise give null-typed key columns).
    keys = ["geography_level", "geography_code", "year", "age_band"]
    hidden = pl.DataFrame(
        [k for k in result.suppressed if k[0] != "not_recorded"],
        schema={k: rates.schema[k] for k in keys},
        orient="row",
    ).with_columns(suppressed=pl.lit(True))
    table = rates.join(hidden, on=keys, how="left").with_columns(
        pl.col("suppressed").fill_null(False)
    )
    if disclosure.rounding_base > 1:
        table = add_rates(
            table.with_columns(
                children=pl.Series(
                    round_to_base(table["children"].to_numpy(), disclosure.rounding_base)
                )
            ),
            ci_method=ci_method,
        )
    table = hide_dependent(
        table, flag="suppressed", columns=["children", "rate_per_10000", "ci_lower", "ci_upper"]
    )
    table = table.sort(
        "year_start",
        "band_order",
        pl.col("geography_level").replace_strict(LEVEL_ORDER, return_dtype=pl.Int8),
        "geography_code",
    ).select(PUBLISHED_COLUMNS)
    stats = {"primary": len(result.primary), "secondary": len(result.secondary)}
    return table, stats


def write_published(con: duckdb.DuckDBPyConnection, table: pl.DataFrame) -> None:
    """Write the published table to ``published.newborn_rates``.

    Parameters
    ----------
    con
        Warehouse connection.
    table
        Output of :func:`publish_newborn_rates`.
    """
    _write(con, "published.newborn_rates", table)


def headline_rates(published: pl.DataFrame) -> dict[str, str]:
    """Latest-year rates for England and Wales, England and Wales, as released (for metadata).

    Parameters
    ----------
    published
        ``published.newborn_rates`` (after disclosure control).

    Returns
    -------
    dict
        ``"<area>, <year>, <age band>"`` to ``"rate (lower-upper)"`` per 10,000, or ``"[c]"``.
    """
    if published.is_empty():
        return {}
    latest = published.sort("year")["year"][-1]
    out: dict[str, str] = {}
    for row in published.filter(
        (pl.col("year") == latest)
        & (pl.col("geography_level") != "local_authority")
        & (pl.col("geography_level") != "region")
    ).iter_rows(named=True):
        label = f"{row['geography_name']}, {row['year']}, {row['age_band']}"
        out[label] = (
            "[c]"
            if row["suppressed"]
            else f"{row['rate_per_10000']:.1f} ({row['ci_lower']:.1f}-{row['ci_upper']:.1f})"
        )
    return out


def national_rate(rates: pl.DataFrame, *, year: str, age_band: str) -> float:
    """The England rate per 10,000 for one year and age band (the funnel plot's target).

    Parameters
    ----------
    rates
        ``analysis.newborn_rates``.
    year, age_band
        Which rate.

    Returns
    -------
    float
        Rate per 10,000 live births.
    """
    row = rates.filter(
        (pl.col("geography_level") == "country")
        & (pl.col("geography_code") == ENGLAND)
        & (pl.col("year") == year)
        & (pl.col("age_band") == age_band)
    )
    return float(np.sum(row["children"])) / float(np.sum(row["live_births"])) * PER
