"""The checks of the local-area tables: nothing small published, and the intruder fails.

Each region's authorities are one disclosure family (the region's published row is their
total); the timing table's hidden counts are verified by linear programming against its totals.
"""

from __future__ import annotations

import polars as pl

from recurrence import catalog
from recurrence.checks.factories import Check, CheckInputs, Finding
from recurrence.profiles.areas import region_findings
from recurrence.profiles.timing import ANALYSIS_TABLE as TIMING_COUNTS
from recurrence.profiles.timing import COUNTS, timing_exposures
from recurrence.survival import count_published_below_min_cell, extract_end_date


def _la_recurrence(inputs: CheckInputs) -> Finding:
    dc = inputs.config.disclosure
    published = inputs.table(catalog.PUBLISHED_LA)
    national = inputs.table(catalog.PUBLISHED_RECURRENCE)
    small = count_published_below_min_cell(published, min_cell=dc.min_cell)
    # Rounded counts no longer add up exactly: that is the protection, as for the national table.
    found = (
        []
        if dc.rounding_base > 1
        else region_findings(
            published, national, min_cell=dc.min_cell, extract_end=extract_end_date(inputs.con)
        )
    )
    return Finding(
        passed=small == 0 and not found,
        metadata={"published_below_min_cell": small, "findings": found},
    )


def _newborn_timing(inputs: CheckInputs) -> Finding:
    published = inputs.table(catalog.PUBLISHED_TIMING)
    counts = inputs.table(TIMING_COUNTS)
    small = sum(
        published.filter(pl.col(c).is_not_null() & (pl.col(c) < inputs.min_cell)).height
        for c in COUNTS
    )
    exposed = timing_exposures(counts, published)
    return Finding(
        passed=small == 0 and not exposed,
        metadata={"published_below_min_cell": small, "exposed": len(exposed)},
    )


PROFILE_CHECKS: dict[str, tuple[Check, ...]] = {
    catalog.PUBLISHED_LA: (
        Check(
            "la_recurrence_resists_intruder",
            "No authority count is small, and no hidden one can be narrowed below min_cell.",
            _la_recurrence,
            kind="disclosure",
        ),
    ),
    catalog.PUBLISHED_TIMING: (
        Check(
            "newborn_timing_resists_intruder",
            "No timing count is small, and no hidden one can be worked out exactly.",
            _newborn_timing,
            kind="disclosure",
        ),
    ),
}
