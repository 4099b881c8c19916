"""Blocking checks on outcomes: every case classed once, and nothing disclosive released."""

from __future__ import annotations

import dagster as dg

from pipelines.catalog import key
from pipelines.defs.resources import RecurrenceResource
from recurrence import catalog
from recurrence.outcomes.stage import (
    CELLS_TABLE,
    PUBLISHED_TABLE,
    count_cases_not_classified_once,
    derivable_hidden_counts,
    hidden_values_shown,
    visible_small_counts,
)

CASE_OUTCOMES = key(catalog.CASE_OUTCOMES)
PUBLISHED = key(catalog.PUBLISHED_OUTCOMES)

EVERY_CASE_ONCE = "every_case_classified_once"
NO_SMALL_COUNTS = "no_small_count_visible"
NOTHING_DERIVABLE = "no_suppressed_count_derivable"
DEPENDENTS_HIDDEN = "proportions_of_hidden_counts_hidden"


@dg.asset_check(
    asset=CASE_OUTCOMES,
    name=EVERY_CASE_ONCE,
    blocking=True,
    description="Classified cases = cases in staging: none missing, duplicated or unclassed.",
)
def every_case_classified_once(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a case of staging.cases has no row, two rows, or no valid class."""
    with recurrence.connect() as con:
        counts = count_cases_not_classified_once(con)
    bad = ("missing", "duplicated", "not_in_staging", "without_a_class")
    return dg.AssetCheckResult(passed=not any(counts[k] for k in bad), metadata=counts)


@dg.asset_check(
    asset=PUBLISHED,
    name=NO_SMALL_COUNTS,
    blocking=True,
    description="No shown count is under disclosure.min_cell (zeros only where ruled safe).",
)
def no_small_count_visible(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a shown numerator or denominator is below the threshold."""
    config = recurrence.load()
    with recurrence.connect() as con:
        table = con.sql(f"select * from {PUBLISHED_TABLE}").pl()
    bad = visible_small_counts(table, min_cell=config.disclosure.min_cell)
    return dg.AssetCheckResult(passed=bad == 0, metadata={"small_counts_visible": bad})


@dg.asset_check(
    asset=PUBLISHED,
    name=NOTHING_DERIVABLE,
    blocking=True,
    description="No hidden count can be worked out from the shown counts and totals.",
)
def no_suppressed_count_derivable(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when linear programming pins a hidden count to within less than one."""
    config = recurrence.load()
    with recurrence.connect() as con:
        cells = con.sql(f"select * from {CELLS_TABLE}").pl()
        table = con.sql(f"select * from {PUBLISHED_TABLE}").pl()
    exposed = derivable_hidden_counts(cells, table, min_cell=config.disclosure.min_cell)
    return dg.AssetCheckResult(
        passed=not exposed, metadata={"hidden_counts_derivable": len(exposed)}
    )


@dg.asset_check(
    asset=PUBLISHED,
    name=DEPENDENTS_HIDDEN,
    blocking=True,
    description="Proportions, intervals and quartiles of hidden counts are hidden too.",
)
def proportions_of_hidden_counts_hidden(
    recurrence: RecurrenceResource,
) -> dg.AssetCheckResult:
    """Fail when a suppressed row still shows a proportion, interval limit or quartile."""
    with recurrence.connect() as con:
        table = con.sql(f"select * from {PUBLISHED_TABLE}").pl()
    bad = hidden_values_shown(table)
    return dg.AssetCheckResult(passed=bad == 0, metadata={"rows_showing_hidden_values": bad})
