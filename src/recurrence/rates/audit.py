"""Independent recounts behind the blocking checks on the rate tables."""

from __future__ import annotations

import polars as pl

from recurrence.disclosure import Exposure, verify_suppression
from recurrence.rates.newborns import ENGLAND, ENGLAND_AND_WALES, disclosure_structure

KEY = ["geography_level", "geography_code", "year", "age_band"]


def visible_small_counts(published: pl.DataFrame, *, min_cell: int) -> int:
    """Rows of the published table showing a count under ``min_cell`` (zero included).

    Parameters
    ----------
    published
        ``published.newborn_rates``.
    min_cell
        The threshold.

    Returns
    -------
    int
        Number of offending rows (0 when safe).
    """
    return published.filter(
        pl.col("children").is_not_null() & (pl.col("children") < min_cell)
    ).height


def hidden_values_shown(published: pl.DataFrame) -> int:
    """Suppressed rows that still show a count, rate or interval limit.

    Parameters
    ----------
    published
        ``published.newborn_rates``.

    Returns
    -------
    int
        Number of offending rows.
    """
    shown = pl.any_horizontal(
        pl.col(c).is_not_null() for c in ("children", "rate_per_10000", "ci_lower", "ci_upper")
    )
    return published.filter(pl.col("suppressed") & shown).height


def derivable_hidden_cells(rates: pl.DataFrame, published: pl.DataFrame) -> list[Exposure]:
    """Suppressed cells of the published table that the published cells and totals give away.

    Parameters
    ----------
    rates
        ``analysis.newborn_rates`` (the true counts).
    published
        ``published.newborn_rates`` (which cells are hidden).

    Returns
    -------
    list of Exposure
        Empty when no hidden count can be worked out.
    """
    values, relations, _ = disclosure_structure(rates)
    hidden = {tuple(r) for r in published.filter(pl.col("suppressed")).select(KEY).iter_rows()}
    return verify_suppression(values, relations, hidden)


def nonpositive_denominators(table: pl.DataFrame) -> int:
    """Rows whose live-birth denominator is missing or not positive.

    Parameters
    ----------
    table
        Any table with a ``live_births`` column.

    Returns
    -------
    int
        Number of offending rows.
    """
    return table.filter(pl.col("live_births").is_null() | (pl.col("live_births") <= 0)).height


def totals_that_do_not_add_up(rates: pl.DataFrame) -> pl.DataFrame:
    """Years and age bands where regions do not sum to England, or countries to England and Wales.

    Parameters
    ----------
    rates
        ``analysis.newborn_rates`` (unsuppressed).

    Returns
    -------
    polars.DataFrame
        One row per failing total (empty when everything adds up): total, year, age_band,
        children and live_births of the total and the sum of its parts.
    """

    def summed(frame: pl.DataFrame, total: str) -> pl.DataFrame:
        return (
            frame.group_by("year", "age_band")
            .agg(
                pl.col("children").sum().alias("parts_children"),
                pl.col("live_births").cast(pl.Int64).sum().alias("parts_live_births"),
            )
            .with_columns(total=pl.lit(total))
        )

    regions = rates.filter(pl.col("geography_level") == "region")
    countries = rates.filter(pl.col("geography_level") == "country")
    parts = pl.concat([summed(regions, ENGLAND), summed(countries, ENGLAND_AND_WALES)])
    totals = rates.filter(
        pl.col("geography_level").is_in(["country", "england_and_wales"])
        & pl.col("geography_code").is_in([ENGLAND, ENGLAND_AND_WALES])
    ).select(
        pl.col("geography_code").alias("total"),
        "year",
        "age_band",
        "children",
        pl.col("live_births").cast(pl.Int64),
    )
    joined = totals.join(parts, on=["total", "year", "age_band"], how="full", coalesce=True)
    return joined.filter(
        (pl.col("children") != pl.col("parts_children"))
        | (pl.col("live_births") != pl.col("parts_live_births"))
        | pl.col("children").is_null()
        | pl.col("parts_children").is_null()
    )
