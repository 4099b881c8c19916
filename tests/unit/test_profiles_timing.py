"""Pre-birth timing of newborns' cases: counts by hand, disclosure control and the intruder."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl
import pytest

from recurrence.contract import REGIONS, WALES
from recurrence.profiles.timing import (
    BEFORE,
    COUNTS,
    EARLY,
    LATER,
    TOTAL,
    protect_timing,
    timing_counts,
    timing_exposures,
)
from recurrence.rates.newborns import ENGLAND, ENGLAND_AND_WALES

ISSUE = dt.date(2016, 6, 1)


def _children(rows: list[tuple[str, int | None, bool, bool]]) -> duckdb.DuckDBPyConnection:
    """``analysis.newborn_children`` from (region, days from birth to issue, counted, newborn)."""
    con = duckdb.connect()
    con.execute("create schema analysis")
    frame = pl.DataFrame(
        {
            "region_code": [r[0] for r in rows],
            "issue_date": [ISSUE] * len(rows),
            "birth_date": [None if r[1] is None else ISSUE - dt.timedelta(days=r[1]) for r in rows],
            "year": ["2016/17"] * len(rows),
            "counted": [r[2] for r in rows],
            "newborn": [r[3] for r in rows],
        }
    )
    con.register("f", frame.to_arrow())
    con.execute("create table analysis.newborn_children as select * from f")
    return con


def test_days_from_birth_to_issue_are_banded_by_hand():
    """−3 and −1: before birth; 0 and 6: within the first week; 7 and 13: later."""
    london = "E12000007"
    con = _children(
        [(london, d, True, True) for d in (-3, -1, 0, 6, 7, 13)]
        # Not counted (a second set in the year) and not a newborn: left out.
        + [(london, 2, False, True), (london, 40, True, False)]
        + [(WALES, -5, True, True)]
    )
    counts = timing_counts(con)
    row = counts.filter(pl.col("geography_code") == london).row(0, named=True)
    assert (row[TOTAL], row[BEFORE], row[EARLY], row[LATER]) == (6, 2, 2, 2)
    england = counts.filter(pl.col("geography_code") == ENGLAND).row(0, named=True)
    assert england[TOTAL] == 6
    both = counts.filter(pl.col("geography_code") == ENGLAND_AND_WALES).row(0, named=True)
    assert (both[TOTAL], both[BEFORE]) == (7, 3)


def _random_counts(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for year in ("2016/17", "2017/18"):
        for code in REGIONS:
            before, early, later = (int(x) for x in rng.choice([0, 2, 5, 12, 30], 3))
            level = "country" if code == WALES else "region"
            rows.append((level, code, year, before + early + later, before, early, later))
    regions = pl.DataFrame(
        rows, schema=["geography_level", "geography_code", "year", *COUNTS], orient="row"
    )
    english = regions.filter(pl.col("geography_code") != WALES)
    england = english.group_by("year").agg(pl.col(c).sum() for c in COUNTS)
    england = england.with_columns(
        pl.lit("country").alias("geography_level"), pl.lit(ENGLAND).alias("geography_code")
    ).select(regions.columns)
    total = (
        pl.concat([england, regions.filter(pl.col("geography_code") == WALES)])
        .group_by("year")
        .agg(pl.col(c).sum() for c in COUNTS)
        .with_columns(
            pl.lit("england_and_wales").alias("geography_level"),
            pl.lit(ENGLAND_AND_WALES).alias("geography_code"),
        )
        .select(regions.columns)
    )
    return pl.concat([total, england, regions]).with_columns(
        pl.col(c).cast(pl.Int64) for c in COUNTS
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_published_timing_resists_the_intruder(seed):
    """Nothing under 10 (zeros included) is shown, and no hidden cell can be worked out."""
    counts = _random_counts(seed)
    published = protect_timing(counts, min_cell=10, hidden_totals=set())
    for c in COUNTS:
        shown = published[c].drop_nulls()
        assert (shown >= 10).all()
    assert timing_exposures(counts, published) == []
    # The test must exercise hiding: some cells hidden, some shown.
    assert published["suppressed"].any()
    assert not published["suppressed"].all()


def test_a_total_hidden_in_the_rates_table_is_hidden_here():
    counts = _random_counts(5)
    code, year = "E12000007", "2016/17"
    published = protect_timing(counts, min_cell=1, hidden_totals={(code, year)})
    row = published.filter((pl.col("geography_code") == code) & (pl.col("year") == year))
    assert row[TOTAL][0] is None
    assert timing_exposures(counts, published) == []


def test_shares_are_the_published_counts_over_the_newborns():
    counts = _random_counts(6)
    published = protect_timing(counts, min_cell=10, hidden_totals=set())
    full = published.filter(~pl.col("suppressed"))
    assert full.height
    np.testing.assert_allclose(
        full["share_issued_before_birth"].to_numpy(),
        (full[BEFORE] / full[TOTAL]).to_numpy(),
    )
