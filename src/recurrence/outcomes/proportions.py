"""Proportions of proceedings ending in removal or at home, and time to the final hearing.

:func:`outcome_cells` counts care proceedings in every cell of the published table (geography x
year x group x count); :func:`proportion_table` turns the cells into the tidy table
``analysis.outcome_proportions`` (95% Wilson intervals; quartiles of weeks to the final hearing;
the share meeting the timeliness target); :func:`publish_outcomes` applies disclosure control and
gives ``published.outcomes``. Definitions and caveats: ``docs/outcomes.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from recurrence.config import DisclosureConfig
from recurrence.contract import ENGLAND_REGIONS, WALES
from recurrence.disclosure import Relation, round_to_base, suppress
from recurrence.outcomes.classify import (
    HOME,
    MOTHER_HISTORY,
    NOT_RECORDED,
    ONGOING,
    PREVIOUS_REMOVAL,
    REMOVAL,
)
from recurrence.rates.intervals import wilson_ci
from recurrence.rates.newborns import ENGLAND, ENGLAND_AND_WALES, GEOGRAPHY_NAMES

ALL = "all"
ALL_YEARS = "all years"
TARGET = "within_target"
QUARTILES = ("weeks_q1", "weeks_median", "weeks_q3")
GROUP_VARIABLES: dict[str, tuple[str, ...]] = {
    ALL: (ALL,),
    "mother_history": MOTHER_HISTORY,
    "previous_removal": PREVIOUS_REMOVAL,
}
COUNT_CELLS = (
    "all",
    "concluded",
    REMOVAL,
    HOME,
    ONGOING,
    NOT_RECORDED,
    "assessed",
    "met",
    "not_met",
    "too_recent",
    "timed",
)
"""Counts per cell: all care proceedings; concluded (removal + home); each class; for the target,
those issued at least the target ago (assessed = met + not_met, all = assessed + too_recent);
timed = those with a final hearing date (the quartiles' base)."""
MEASURES: dict[str, tuple[str, str | None]] = {
    REMOVAL: (REMOVAL, "concluded"),
    HOME: (HOME, "concluded"),
    ONGOING: (ONGOING, "all"),
    NOT_RECORDED: (NOT_RECORDED, "all"),
    TARGET: ("met", "assessed"),
}
"""Each published proportion: (numerator cell, denominator cell)."""
ZERO_SHOWN = (ONGOING, NOT_RECORDED)
"""Cells whose zero is shown: it says every set in the cell has ended with a recorded outcome,
nothing about how any family's proceedings ended."""
KEY = ["geography_level", "geography_code", "year", "group_variable", "group"]
PUBLISHED_COLUMNS = (
    "geography_level",
    "geography_code",
    "geography_name",
    "year",
    "group_variable",
    "group",
    "measure",
    "numerator",
    "denominator",
    "value",
    "ci_lower",
    "ci_upper",
    "suppressed",
)
LEVEL_ORDER = {"england_and_wales": 1, "country": 2, "region": 3}
MEASURE_ORDER = {m: i for i, m in enumerate((*MEASURES, *QUARTILES))}


def _geographies(care: pl.DataFrame) -> pl.DataFrame:
    """Each case once per area it counts in: its English region, its country, England and Wales."""
    region = care.filter(pl.col("region_code") != WALES).with_columns(
        geography_level=pl.lit("region"), geography_code=pl.col("region_code")
    )
    country = care.with_columns(
        geography_level=pl.lit("country"),
        geography_code=pl.when(pl.col("region_code") == WALES)
        .then(pl.lit(WALES))
        .otherwise(pl.lit(ENGLAND)),
    )
    both = care.with_columns(
        geography_level=pl.lit("england_and_wales"), geography_code=pl.lit(ENGLAND_AND_WALES)
    )
    return pl.concat([region, country, both])


def _grid(years: list[str], groups: dict[str, tuple[str, ...]]) -> pl.DataFrame:
    geos = [("england_and_wales", ENGLAND_AND_WALES), ("country", ENGLAND), ("country", WALES)]
    geos += [("region", code) for code in ENGLAND_REGIONS]
    rows = []
    for level, code in geos:
        for year in (*years, ALL_YEARS):
            for variable, levels in groups.items():
                if variable != ALL and not (year == ALL_YEARS or level == "england_and_wales"):
                    continue  # groups by area over all years, and by year nationally only
                rows += [(level, code, year, variable, g) for g in levels]
    return pl.DataFrame(rows, schema=KEY, orient="row")


def outcome_cells(
    case_outcomes: pl.DataFrame, *, target_weeks: int, extract_end: dt.date
) -> pl.DataFrame:
    """Count care proceedings in every cell of the outcomes table.

    Areas: English regions, England, Wales, England and Wales. Years: each year of issue and
    all years together. Groups: all families by area and year; by mother's history and by
    previous removal for each area over all years and for England and Wales by year. A group
    with no case anywhere (for example ``no_mother_recorded`` when every case has a mother) is
    left out rather than published as rows of zeros.

    Parameters
    ----------
    case_outcomes
        ``analysis.case_outcomes``.
    target_weeks
        The timeliness target, in weeks.
    extract_end
        The extract end date: a set counts towards the target share only if it was issued at
        least ``target_weeks`` before it.

    Returns
    -------
    polars.DataFrame
        :data:`KEY` columns, ``year_start`` (null for all years) and one column per
        :data:`COUNT_CELLS`, plus the quartiles of weeks to the final hearing.
    """
    care = case_outcomes.filter(pl.col("care_proceedings"))
    cutoff = extract_end - dt.timedelta(days=7 * target_weeks)
    weeks = pl.col("weeks_to_final_hearing")
    assessed = pl.col("issue_date") <= cutoff
    long = _geographies(care)
    long = pl.concat([long, long.with_columns(year=pl.lit(ALL_YEARS))])
    stacked = []
    groups: dict[str, tuple[str, ...]] = {}
    for variable, levels in GROUP_VARIABLES.items():
        present = (
            levels if variable == ALL else tuple(g for g in levels if care[variable].eq(g).any())
        )
        groups[variable] = present
        column = pl.lit(ALL) if variable == ALL else pl.col(variable)
        stacked.append(long.with_columns(group_variable=pl.lit(variable), group=column))
    counts = (
        pl.concat(stacked)
        .group_by(KEY)
        .agg(
            pl.len().alias("all"),
            pl.col("outcome_class").is_in([REMOVAL, HOME]).sum().alias("concluded"),
            *(pl.col("outcome_class").eq(c).sum().alias(c) for c in (REMOVAL, HOME)),
            *(pl.col("outcome_class").eq(c).sum().alias(c) for c in (ONGOING, NOT_RECORDED)),
            assessed.sum().alias("assessed"),
            (assessed & (weeks <= target_weeks)).sum().alias("met"),
            weeks.is_not_null().sum().alias("timed"),
            weeks.quantile(0.25, "linear").alias("weeks_q1"),
            weeks.median().alias("weeks_median"),
            weeks.quantile(0.75, "linear").alias("weeks_q3"),
        )
    )
    years = care.select("year", "year_start").unique().sort("year_start")
    grid = _grid(years["year"].to_list(), groups)
    cells = (
        grid.join(counts, on=KEY, how="left")
        .with_columns(
            pl.col(c).fill_null(0).cast(pl.Int64) for c in COUNT_CELLS if c in counts.columns
        )
        .with_columns(
            not_met=pl.col("assessed") - pl.col("met"),
            too_recent=pl.col("all") - pl.col("assessed"),
        )
        .join(years, on="year", how="left")
    )
    return cells


def proportion_table(cells: pl.DataFrame, *, level: float = 0.95) -> pl.DataFrame:
    """The tidy, unsuppressed table: one row per cell and measure.

    Measures ``removal`` and ``home_or_family`` are shares of concluded proceedings;
    ``ongoing`` and ``outcome_not_recorded`` shares of all; ``within_target`` the share of those
    issued at least the target ago that had their final hearing within it (whole-population
    group only); ``weeks_q1``, ``weeks_median``, ``weeks_q3`` the quartiles of weeks from issue
    to final hearing of those with one (no numerator, denominator or interval).

    Parameters
    ----------
    cells
        Output of :func:`outcome_cells` (or its counts after rounding).
    level
        Confidence level of the Wilson intervals.

    Returns
    -------
    polars.DataFrame
        :data:`PUBLISHED_COLUMNS` without ``suppressed``, plus ``year_start``.
    """
    parts = []
    for measure, (num, den) in MEASURES.items():
        part = cells
        if measure == TARGET:
            part = part.filter(pl.col("group_variable") == ALL)
        part = part.select(
            *KEY,
            "year_start",
            pl.lit(measure).alias("measure"),
            pl.col(num).cast(pl.Int64).alias("numerator"),
            pl.col(den).cast(pl.Int64).alias("denominator"),
        )
        parts.append(part)
    table = pl.concat(parts)
    x = table["numerator"].to_numpy().astype(float)
    n = table["denominator"].to_numpy().astype(float)
    ok = n > 0
    lo = np.full(len(n), np.nan)
    hi = np.full(len(n), np.nan)
    if ok.any():
        lo[ok], hi[ok] = wilson_ci(x[ok], n[ok], level=level)
    value = np.where(ok, x / np.where(ok, n, 1.0), np.nan)
    table = table.with_columns(
        value=pl.Series(value), ci_lower=pl.Series(lo), ci_upper=pl.Series(hi)
    ).with_columns(pl.col(c).fill_nan(None) for c in ("value", "ci_lower", "ci_upper"))
    quartiles = pl.concat(
        cells.filter(pl.col("group_variable") == ALL).select(
            *KEY,
            "year_start",
            pl.lit(q).alias("measure"),
            pl.lit(None, pl.Int64).alias("numerator"),
            pl.col("timed").cast(pl.Int64).alias("denominator"),
            pl.col(q).cast(pl.Float64).alias("value"),
            pl.lit(None, pl.Float64).alias("ci_lower"),
            pl.lit(None, pl.Float64).alias("ci_upper"),
        )
        for q in QUARTILES
    )
    table = pl.concat([table, quartiles])
    return _order(_name(table))


def _name(table: pl.DataFrame) -> pl.DataFrame:
    return table.with_columns(
        geography_name=pl.col("geography_code").replace_strict(
            GEOGRAPHY_NAMES, default=pl.col("geography_code")
        )
    )


def _order(table: pl.DataFrame) -> pl.DataFrame:
    variables = {v: i for i, v in enumerate(GROUP_VARIABLES)}
    return table.sort(
        pl.col("group_variable").replace_strict(variables, return_dtype=pl.Int8),
        pl.col("year_start").is_null(),
        "year_start",
        pl.col("geography_level").replace_strict(LEVEL_ORDER, return_dtype=pl.Int8),
        "geography_code",
        "group",
        pl.col("measure").replace_strict(MEASURE_ORDER, return_dtype=pl.Int8),
    )


def disclosure_structure(
    cells: pl.DataFrame,
) -> tuple[dict[tuple, int], list[Relation], set[tuple]]:
    """The counts and additive relations of the outcomes table, for :mod:`recurrence.disclosure`.

    Within a cell: all = concluded + ongoing + outcome_not_recorded; concluded = removal +
    home_or_family; all = assessed + too_recent; assessed = met + not_met. Across cells, for
    every count: England = its regions; England and Wales = England + Wales; all years = the
    years; all families = the groups of each group variable. ``too_recent`` and ``timed`` are
    not published; ``too_recent`` is treated as known to a reader (cautious), as are zeros of
    ``ongoing`` and ``outcome_not_recorded``, which are shown.

    Parameters
    ----------
    cells
        Output of :func:`outcome_cells`.

    Returns
    -------
    tuple
        Values keyed by (*KEY, count name), the relations, and the always-known cells.
    """
    names = [c for c in COUNT_CELLS if c != "timed"]
    values: dict[tuple, int] = {}
    for row in cells.select(*KEY, *names).iter_rows():
        for name, v in zip(names, row[len(KEY) :], strict=True):
            values[(*row[: len(KEY)], name)] = int(v)
    fixed = {
        k for k, v in values.items() if k[-1] == "too_recent" or (k[-1] in ZERO_SHOWN and v == 0)
    }
    relations: list[Relation] = []
    # Sorted, not a set: the order of the relations decides which partner cells are hidden,
    # and a set's order changes from process to process.
    keys = sorted({tuple(r) for r in cells.select(KEY).iter_rows()})
    for key in keys:

        def c(name: str, key: tuple = key) -> tuple:
            return (*key, name)

        relations.append(Relation(c("all"), (c("concluded"), c(ONGOING), c(NOT_RECORDED))))
        relations.append(Relation(c("concluded"), (c(REMOVAL), c(HOME))))
        relations.append(Relation(c("all"), (c("assessed"), c("too_recent"))))
        relations.append(Relation(c("assessed"), (c("met"), c("not_met"))))
    years = sorted({k[2] for k in keys} - {ALL_YEARS})
    for level, code, year, variable, group in keys:
        for name in names:
            total = (level, code, year, variable, group, name)
            if level == "england_and_wales":
                parts = [
                    ("country", ENGLAND, year, variable, group, name),
                    ("country", WALES, year, variable, group, name),
                ]
                _add(relations, values, total, parts)
            if level == "country" and code == ENGLAND:
                parts = [("region", r, year, variable, group, name) for r in ENGLAND_REGIONS]
                _add(relations, values, total, parts)
            if year == ALL_YEARS:
                parts = [(level, code, y, variable, group, name) for y in years]
                _add(relations, values, total, parts)
            if variable == ALL:
                for other, levels in GROUP_VARIABLES.items():
                    if other == ALL:
                        continue
                    parts = [(level, code, year, other, g, name) for g in levels]
                    _add(relations, values, total, parts)
    return values, relations, fixed


def _add(relations: list[Relation], values: dict, total: tuple, parts: list[tuple]) -> None:
    present = tuple(p for p in parts if p in values)
    if present:
        relations.append(Relation(total, present))


@dataclass(frozen=True)
class PublishedOutcomes:
    """The released table and how many counts were hidden."""

    table: pl.DataFrame
    primary: int
    secondary: int


def publish_outcomes(cells: pl.DataFrame, disclosure: DisclosureConfig) -> PublishedOutcomes:
    """Apply disclosure control: what of the outcomes table may be released.

    Counts under ``min_cell`` (zeros too, except zeros of ongoing and not-recorded) are hidden,
    with secondary suppression verified by :func:`recurrence.disclosure.verify_suppression`. A
    numerator or denominator is shown unless its own count is hidden; a proportion and its
    interval are hidden when either is (``suppressed``). Quartiles of weeks are hidden when
    fewer than ``min_cell`` sets have a final hearing, or the cell's count of all sets is hidden.
    With a rounding base, shown counts are rounded and proportions recomputed from them.

    Parameters
    ----------
    cells
        Output of :func:`outcome_cells`.
    disclosure
        Threshold, rounding base and symbol.

    Returns
    -------
    PublishedOutcomes
        ``published.outcomes`` (:data:`PUBLISHED_COLUMNS`, hidden values null) and counts of
        primary and secondary suppressed counts.
    """
    values, relations, fixed = disclosure_structure(cells)
    result = suppress(values, relations, min_cell=disclosure.min_cell, fixed=fixed)
    hidden = result.suppressed
    shown = cells
    if disclosure.rounding_base > 1:
        shown = cells.with_columns(
            pl.Series(c, round_to_base(cells[c].to_numpy(), disclosure.rounding_base))
            for c in COUNT_CELLS
        )
    table = proportion_table(shown)

    def hidden_flags(column: str, cell_of: dict[str, str | None]) -> pl.Series:
        flags = []
        for row in table.select(*KEY, "measure").iter_rows():
            name = cell_of.get(row[-1])
            flags.append(name is not None and (*row[:-1], name) in hidden)
        return pl.Series(column, flags, dtype=pl.Boolean)

    num_cell = {m: num for m, (num, _) in MEASURES.items()}
    den_cell = {m: den for m, (_, den) in MEASURES.items()} | dict.fromkeys(QUARTILES, "all")
    table = table.with_columns(
        hidden_flags("_num_hidden", num_cell), hidden_flags("_den_hidden", den_cell)
    )
    is_quartile = pl.col("measure").is_in(QUARTILES)
    quartile_hidden = is_quartile & (
        pl.col("_den_hidden") | (pl.col("denominator") < disclosure.min_cell)
    )
    table = table.with_columns(
        suppressed=pl.when(is_quartile)
        .then(quartile_hidden)
        .otherwise(pl.col("_num_hidden") | pl.col("_den_hidden"))
    ).with_columns(
        numerator=pl.when(pl.col("_num_hidden")).then(None).otherwise(pl.col("numerator")),
        # A quartile's base is the unpublished count of sets with a final hearing.
        denominator=pl.when(pl.col("_den_hidden") | is_quartile)
        .then(None)
        .otherwise(pl.col("denominator")),
        **{
            c: pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c))
            for c in ("value", "ci_lower", "ci_upper")
        },
    )
    return PublishedOutcomes(
        table.select(PUBLISHED_COLUMNS), len(result.primary), len(result.secondary)
    )


__all__ = [
    "ALL",
    "ALL_YEARS",
    "MEASURES",
    "PUBLISHED_COLUMNS",
    "QUARTILES",
    "PublishedOutcomes",
    "disclosure_structure",
    "outcome_cells",
    "proportion_table",
    "publish_outcomes",
]
