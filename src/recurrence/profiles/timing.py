"""Pre-birth timing: when newborns' care proceedings are issued, relative to the birth (22.5).

For each newborn counted in ``analysis.newborn_children`` (``counted`` and ``newborn``: the
children of ``rates.newborn_days``), ``days_from_birth = issue_date − birth_date``: negative when
the proceedings were issued before the baby was born. **Which children count**: a child whose
proceedings were issued before its birth is a newborn, aged 0 at entry, in the year of the
issue date (the rule of ``analysis.newborn_children``, see ``docs/rates.md``); it is counted
once it is listed in the proceedings with a date of birth. Children without a date of birth
cannot be timed and are not newborns.

Published per region (Wales as a region), England and England and Wales, and year: newborns,
those issued before birth, 0–6 days after birth, and 7 days or more after, with the shares of
the first two. Disclosure control is that of the rates table (:func:`recurrence.disclosure.
suppress`): counts under ``disclosure.min_cell``, zeros included, are hidden, with secondary
suppression verified by linear programming over every relation a reader knows (the three
timings add up to the newborns; the regions to England; England and Wales to England and
Wales). The newborns of an area and year are the same number as the ``under N days`` cell of
``published.newborn_rates``, so where that table hides it, it is hidden here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from recurrence.config import Config
from recurrence.contract import REGIONS, WALES
from recurrence.disclosure import Exposure, Relation, suppress, verify_suppression
from recurrence.rates.newborns import ENGLAND, ENGLAND_AND_WALES

ANALYSIS_TABLE = "analysis.newborn_timing"
PUBLISHED_TABLE = "published.newborn_timing"
CSV_NAME = "newborn_timing.csv"
#: Timing bands, in order: days from birth to issue.
BEFORE = "n_issued_before_birth"
EARLY = "n_issued_0_to_6_days_after"
LATER = "n_issued_7_days_or_more_after"
TOTAL = "n_newborns"
COUNTS: tuple[str, ...] = (TOTAL, BEFORE, EARLY, LATER)
CSV_COLUMNS: tuple[str, ...] = (
    "geography_level",
    "geography_code",
    "year",
    *COUNTS,
    "share_issued_before_birth",
    "share_issued_0_to_6_days_after",
    "suppressed",
)


def timing_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Newborns by region and year and by days from birth to issue (unsuppressed).

    Parameters
    ----------
    con
        Warehouse holding ``analysis.newborn_children``.

    Returns
    -------
    polars.DataFrame
        One row per geography (region, country, England and Wales) and year with
        :data:`COUNTS`.
    """
    regions = con.sql(
        """
        select
            region_code as geography_code,
            year,
            count(*) as n_newborns,
            count(*) filter (where date_diff('day', birth_date, issue_date) < 0)
                as n_issued_before_birth,
            count(*) filter (where date_diff('day', birth_date, issue_date) between 0 and 6)
                as n_issued_0_to_6_days_after,
            count(*) filter (where date_diff('day', birth_date, issue_date) >= 7)
                as n_issued_7_days_or_more_after
        from analysis.newborn_children
        where counted and newborn and region_code is not null
        group by all
        """
    ).pl()
    regions = regions.with_columns(
        pl.when(pl.col("geography_code") == WALES)
        .then(pl.lit("country"))
        .otherwise(pl.lit("region"))
        .alias("geography_level")
    )
    english = regions.filter(pl.col("geography_code").is_in([c for c in REGIONS if c != WALES]))
    england = english.group_by("year").agg(pl.col(c).sum() for c in COUNTS)
    england = england.with_columns(
        pl.lit("country").alias("geography_level"), pl.lit(ENGLAND).alias("geography_code")
    )
    both = pl.concat(
        [england.select(regions.columns), regions.filter(pl.col("geography_code") == WALES)]
    )
    total = both.group_by("year").agg(pl.col(c).sum() for c in COUNTS)
    total = total.with_columns(
        pl.lit("england_and_wales").alias("geography_level"),
        pl.lit(ENGLAND_AND_WALES).alias("geography_code"),
    )
    order = {"england_and_wales": 0, "country": 1, "region": 2}
    out = pl.concat([total.select(regions.columns), england.select(regions.columns), regions])
    return (
        out.with_columns(pl.col(c).cast(pl.Int64) for c in COUNTS)
        .sort("year", pl.col("geography_level").replace_strict(order), "geography_code")
        .select("geography_level", "geography_code", "year", *COUNTS)
    )


def timing_relations(counts: pl.DataFrame) -> tuple[dict[tuple, int], list[Relation]]:
    """The cells of the timing table and every additive relation a reader knows between them.

    Parameters
    ----------
    counts
        Output of :func:`timing_counts`.

    Returns
    -------
    tuple
        Values keyed by ``(geography_code, year, count column)``, and the relations: the three
        timings add up to the newborns; the English regions to England; England and Wales to
        England and Wales (for each count).
    """
    values: dict[tuple, int] = {}
    for r in counts.iter_rows(named=True):
        for c in COUNTS:
            values[(r["geography_code"], r["year"], c)] = int(r[c])
    relations: list[Relation] = []
    english = [c for c in REGIONS if c != WALES]
    for r in counts.iter_rows(named=True):
        g, y = r["geography_code"], r["year"]
        relations.append(Relation((g, y, TOTAL), tuple((g, y, c) for c in COUNTS[1:])))
    for y in counts["year"].unique().to_list():
        for c in COUNTS:
            parts = tuple((g, y, c) for g in english if (g, y, c) in values)
            if (ENGLAND, y, c) in values and parts:
                relations.append(Relation((ENGLAND, y, c), parts))
            nations = tuple((g, y, c) for g in (ENGLAND, WALES) if (g, y, c) in values)
            if (ENGLAND_AND_WALES, y, c) in values and nations:
                relations.append(Relation((ENGLAND_AND_WALES, y, c), nations))
    return values, relations


def timing_exposures(truth: pl.DataFrame, published: pl.DataFrame) -> list[Exposure]:
    """Hidden timing cells a reader can work out exactly from the published ones.

    Parameters
    ----------
    truth
        ``analysis.newborn_timing`` (unsuppressed).
    published
        ``published.newborn_timing``.

    Returns
    -------
    list of Exposure
        Empty when every hidden cell has a feasible range of at least one.
    """
    values, relations = timing_relations(truth)
    hidden = [
        (g, y, c)
        for g, y, *vals in published.select("geography_code", "year", *COUNTS).iter_rows()
        for c, v in zip(COUNTS, vals, strict=True)
        if v is None
    ]
    return list(verify_suppression(values, relations, hidden))


def protect_timing(
    counts: pl.DataFrame, *, min_cell: int, hidden_totals: set[tuple[str, str]]
) -> pl.DataFrame:
    """Suppress the timing table as one family (module docstring).

    Parameters
    ----------
    counts
        Output of :func:`timing_counts` (one geography per row and year).
    min_cell
        Smallest publishable count (zeros are hidden too).
    hidden_totals
        ``(geography_code, year)`` whose newborns ``published.newborn_rates`` hides.

    Returns
    -------
    polars.DataFrame
        ``counts`` with hidden counts null, the two shares (null when any count they use is
        hidden) and ``suppressed`` (any count of the row hidden).
    """
    values, relations = timing_relations(counts)
    hide = {(g, y, TOTAL) for g, y in hidden_totals if (g, y, TOTAL) in values}
    result = suppress(values, relations, min_cell=min_cell, hide=hide)
    out = counts.with_columns(
        pl.Series(
            c,
            [
                None if (g, y, c) in result.suppressed else v
                for g, y, v in zip(counts["geography_code"], counts["year"], counts[c], strict=True)
            ],
            dtype=pl.Int64,
        )
        for c in COUNTS
    )
    return out.with_columns(
        (pl.col(BEFORE) / pl.col(TOTAL)).alias("share_issued_before_birth"),
        (pl.col(EARLY) / pl.col(TOTAL)).alias("share_issued_0_to_6_days_after"),
        pl.any_horizontal(pl.col(c).is_null() for c in COUNTS).alias("suppressed"),
    )


@dataclass(frozen=True)
class TimingRelease:
    """The published timing table, the files written, and why nothing is shown if so."""

    published: pl.DataFrame
    files: tuple[Path, ...]
    left_out: str | None


def publish_timing(
    con: duckdb.DuckDBPyConnection, config: Config, out_dir: Path | None
) -> TimingRelease:
    """Write ``analysis.newborn_timing``, ``published.newborn_timing`` and the CSV.

    Parameters
    ----------
    con
        Warehouse after the rates stage (``analysis.newborn_children``,
        ``published.newborn_rates``).
    config
        Run configuration (``disclosure``, ``rates.newborn_days``).
    out_dir
        Folder for ``newborn_timing.csv``, or None.

    Returns
    -------
    TimingRelease
        The published table and files.
    """
    from recurrence.rates.newborns import age_bands
    from recurrence.survival.stage import _write, _write_csv

    counts = timing_counts(con)
    band = age_bands(config.rates)[0]
    rates = con.sql(
        "select geography_code, year, suppressed from published.newborn_rates "
        "where age_band = $band and geography_level != 'local_authority'",
        params={"band": band},
    ).pl()
    # Only the whole years the rates table publishes: a part year is not comparable.
    counts = counts.join(rates.select("geography_code", "year"), on=["geography_code", "year"])
    _write(con, ANALYSIS_TABLE, counts)
    hidden = {(g, y) for g, y, s in rates.iter_rows() if s}
    if counts.is_empty():
        published = protect_timing(counts, min_cell=config.disclosure.min_cell, hidden_totals=set())
        left_out: str | None = (
            "No newborn in care proceedings has a date of birth and a whole year."
        )
    else:
        published = protect_timing(
            counts, min_cell=config.disclosure.min_cell, hidden_totals=hidden
        )
        left_out = (
            None
            if published.filter(~pl.col("suppressed")).height
            else (
                f"Every timing count is below {config.disclosure.min_cell}, or hidden to "
                "protect one that is."
            )
        )
    _write(con, PUBLISHED_TABLE, published)
    files: tuple[Path, ...] = ()
    if out_dir is not None:
        files = (_write_csv(out_dir / CSV_NAME, published, CSV_COLUMNS, config.disclosure.symbol),)
    return TimingRelease(published, files, left_out)
