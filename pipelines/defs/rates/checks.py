"""Blocking checks on the rate tables: totals add up, denominators positive, nothing disclosive."""

from __future__ import annotations

import dagster as dg

from pipelines.catalog import key
from pipelines.defs.resources import RecurrenceResource
from recurrence import catalog
from recurrence.rates.audit import (
    derivable_hidden_cells,
    hidden_values_shown,
    nonpositive_denominators,
    totals_that_do_not_add_up,
    visible_small_counts,
)

NEWBORN_RATES = key(catalog.NEWBORN_RATES)
PUBLISHED_RATES = key(catalog.PUBLISHED_RATES)

TOTALS_ADD_UP = "areas_sum_to_totals"
DENOMINATORS_POSITIVE = "denominators_positive"
NO_SMALL_COUNTS = "no_small_count_visible"
NOTHING_DERIVABLE = "no_suppressed_cell_derivable"
DEPENDENTS_HIDDEN = "rates_of_hidden_counts_hidden"


def _table(con, name: str):
    return con.sql(f"select * from {name}").pl()


@dg.asset_check(
    asset=NEWBORN_RATES,
    name=TOTALS_ADD_UP,
    blocking=True,
    description="Regions sum to England and countries to England and Wales (children, births).",
)
def areas_sum_to_totals(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a total differs from the sum of its parts in any year and age band."""
    with recurrence.connect() as con:
        bad = totals_that_do_not_add_up(_table(con, "analysis.newborn_rates"))
    return dg.AssetCheckResult(passed=bad.is_empty(), metadata={"totals_not_adding_up": bad.height})


@dg.asset_check(
    asset=NEWBORN_RATES,
    name=DENOMINATORS_POSITIVE,
    blocking=True,
    description="Every rate has a positive live-birth denominator.",
)
def denominators_positive(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a row has no live births or a missing denominator."""
    with recurrence.connect() as con:
        bad = nonpositive_denominators(_table(con, "analysis.newborn_rates"))
    return dg.AssetCheckResult(passed=bad == 0, metadata={"rows_without_births": bad})


@dg.asset_check(
    asset=PUBLISHED_RATES,
    name=NO_SMALL_COUNTS,
    blocking=True,
    description="No published count is under disclosure.min_cell (zeros included).",
)
def no_small_count_visible(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a visible count is below the threshold."""
    config = recurrence.load()
    with recurrence.connect() as con:
        bad = visible_small_counts(
            _table(con, "published.newborn_rates"), min_cell=config.disclosure.min_cell
        )
    return dg.AssetCheckResult(passed=bad == 0, metadata={"small_counts_visible": bad})


@dg.asset_check(
    asset=PUBLISHED_RATES,
    name=NOTHING_DERIVABLE,
    blocking=True,
    description="No suppressed count can be worked out from the published cells and totals.",
)
def no_suppressed_cell_derivable(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when linear programming pins a hidden count to within less than one."""
    with recurrence.connect() as con:
        exposed = derivable_hidden_cells(
            _table(con, "analysis.newborn_rates"), _table(con, "published.newborn_rates")
        )
    return dg.AssetCheckResult(
        passed=not exposed, metadata={"suppressed_cells_derivable": len(exposed)}
    )


@dg.asset_check(
    asset=PUBLISHED_RATES,
    name=DEPENDENTS_HIDDEN,
    blocking=True,
    description="Rates and intervals whose count is suppressed are suppressed too.",
)
def rates_of_hidden_counts_hidden(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a suppressed row still shows a count, rate or interval limit."""
    with recurrence.connect() as con:
        bad = hidden_values_shown(_table(con, "published.newborn_rates"))
    return dg.AssetCheckResult(passed=bad == 0, metadata={"rows_showing_hidden_values": bad})
