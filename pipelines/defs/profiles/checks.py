"""Blocking checks on the local-area tables: nothing small published, and the intruder fails."""

import dagster as dg
import duckdb
import polars as pl

from pipelines.defs.profiles.assets import PUBLISHED_AREAS, PUBLISHED_TIMING
from pipelines.defs.resources import RecurrenceResource
from recurrence.profiles.areas import PUBLISHED_TABLE, region_findings
from recurrence.profiles.timing import ANALYSIS_TABLE as TIMING_TRUTH
from recurrence.profiles.timing import COUNTS, timing_exposures
from recurrence.profiles.timing import PUBLISHED_TABLE as TIMING_TABLE
from recurrence.survival import count_published_below_min_cell, extract_end_date


def _table(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    return con.sql(f"select * from {name}").pl()


@dg.asset_check(
    asset=PUBLISHED_AREAS,
    name="la_recurrence_resists_intruder",
    blocking=True,
    description="No authority count is small, and no hidden one can be narrowed below min_cell.",
)
def la_recurrence_resists_intruder(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Recount small published cells and attack each region's family with the region's row."""
    dc = recurrence.load().disclosure
    with recurrence.connect() as con:
        published = _table(con, PUBLISHED_TABLE)
        national = _table(con, "published.recurrence_estimates")
        end = extract_end_date(con)
    small = count_published_below_min_cell(published, min_cell=dc.min_cell)
    # Rounded counts no longer add up exactly: that is the protection, as for the national table.
    found = (
        []
        if dc.rounding_base > 1
        else region_findings(published, national, min_cell=dc.min_cell, extract_end=end)
    )
    return dg.AssetCheckResult(
        passed=small == 0 and not found,
        metadata={"published_below_min_cell": small, "findings": dg.MetadataValue.json(found)},
    )


@dg.asset_check(
    asset=PUBLISHED_TIMING,
    name="newborn_timing_resists_intruder",
    blocking=True,
    description="No timing count is small, and no hidden one can be worked out exactly.",
)
def newborn_timing_resists_intruder(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Recount published counts under min_cell; verify the hidden ones by linear programming."""
    dc = recurrence.load().disclosure
    with recurrence.connect() as con:
        published = _table(con, TIMING_TABLE)
        truth = _table(con, TIMING_TRUTH)
    small = sum(
        published.filter(pl.col(c).is_not_null() & (pl.col(c) < dc.min_cell)).height for c in COUNTS
    )
    exposed = timing_exposures(truth, published)
    return dg.AssetCheckResult(
        passed=small == 0 and not exposed,
        metadata={"published_below_min_cell": small, "exposed": len(exposed)},
    )
