"""Blocking checks on recurrence: one row per mother, sound follow-up, sound and safe estimates."""

from __future__ import annotations

import dagster as dg

from pipelines.catalog import key
from pipelines.defs.resources import RecurrenceResource
from recurrence import catalog
from recurrence.survival import (
    count_bad_follow_up,
    count_mothers_not_in_one_row,
    count_non_monotone,
    count_published_below_min_cell,
    count_zph_bins_below_min_cell,
    extract_end_date,
    intruder_findings,
    read_cohort,
)

COHORT = key(catalog.COHORT)
ESTIMATES = key(catalog.ESTIMATES)
PUBLISHED = key(catalog.PUBLISHED_RECURRENCE)

ONE_ROW_PER_MOTHER = "every_mother_in_exactly_one_row"
FOLLOW_UP_SOUND = "follow_up_within_extract"
ESTIMATES_MONOTONE = "estimates_non_empty_and_monotone"
NO_SMALL_ESTIMATE = "no_published_estimate_below_min_cell"
RESISTS_INTRUDER = "estimates_resist_intruder"
ZPH_BINS_SAFE = "no_schoenfeld_bin_below_min_cell"


@dg.asset_check(
    asset=COHORT,
    name=ONE_ROW_PER_MOTHER,
    blocking=True,
    description="Every mother_key in care proceedings has exactly one cohort row, and no other.",
)
def every_mother_in_exactly_one_row(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a mother is missing, duplicated, or a row is not a mother in care proceedings."""
    types = recurrence.load().ingest.care_application_types
    with recurrence.connect() as con:
        counts = count_mothers_not_in_one_row(con, types)
    return dg.AssetCheckResult(passed=not any(counts.values()), metadata=counts)


@dg.asset_check(
    asset=COHORT,
    name=FOLLOW_UP_SOUND,
    blocking=True,
    description="Follow-up is never negative, never past the extract end, and matches its dates.",
)
def follow_up_within_extract(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a mother's follow-up is negative, runs past the extract end or is inconsistent."""
    with recurrence.connect() as con:
        counts = count_bad_follow_up(con)
    return dg.AssetCheckResult(passed=not any(counts.values()), metadata=counts)


@dg.asset_check(
    asset=ESTIMATES,
    name=ESTIMATES_MONOTONE,
    blocking=True,
    description="The estimates table has the overall group and never falls as the horizon grows.",
)
def estimates_non_empty_and_monotone(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when the cohort has mothers but no overall estimate, or an estimate decreases."""
    with recurrence.connect() as con:
        table = con.sql("select * from analysis.recurrence_estimates").pl()
        mothers = read_cohort(con).height
    overall = table.filter(table["group_variable"] == "all").height
    bad = count_non_monotone(table)
    # An empty cohort (no proceedings, or every mother excluded by the look-back) has nothing to
    # estimate: an empty table is then the right answer, and the report says why.
    return dg.AssetCheckResult(
        passed=(overall > 0 or mothers == 0) and bad == 0,
        metadata={
            "rows": table.height,
            "overall_rows": overall,
            "decreasing_steps": bad,
            "cohort_mothers": mothers,
        },
    )


@dg.asset_check(
    asset=PUBLISHED,
    name=NO_SMALL_ESTIMATE,
    blocking=True,
    description="No published estimate rests on fewer than disclosure.min_cell mothers or returns.",
)
def no_published_estimate_below_min_cell(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a visible estimate or hazard ratio comes from a group under the threshold."""
    min_cell = recurrence.load().disclosure.min_cell
    with recurrence.connect() as con:
        published = con.sql("select * from published.recurrence_estimates").pl()
        cox_bad = con.execute(
            "select count(*) from published.cox_hazard_ratios as p "
            "inner join analysis.cox_hazard_ratios as a using (variable, level) "
            "where p.hazard_ratio is not null and (a.n_mothers < $m or a.n_events < $m)",
            {"m": min_cell},
        ).fetchone()
    bad = count_published_below_min_cell(published, min_cell=min_cell)
    cox = int(cox_bad[0]) if cox_bad else 0
    return dg.AssetCheckResult(
        passed=bad == 0 and cox == 0,
        metadata={
            "estimates_below_min_cell": bad,
            "hazard_ratios_below_min_cell": cox,
            "min_cell": min_cell,
        },
    )


@dg.asset_check(
    asset=PUBLISHED,
    name=RESISTS_INTRUDER,
    blocking=True,
    description=(
        "An intruder who knows the partitions, the horizons, monotone counts and the extract end "
        "cannot narrow any hidden count of recurrence_estimates to fewer than disclosure.min_cell."
    ),
)
def estimates_resist_intruder(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when the linear-programming intruder narrows a hidden cell (names, never values)."""
    disclosure = recurrence.load().disclosure
    if disclosure.rounding_base > 1:
        return dg.AssetCheckResult(
            passed=True,
            metadata={"attacked": False, "why": "counts are rounded; partitions do not add up"},
        )
    with recurrence.connect() as con:
        published = con.sql("select * from published.recurrence_estimates").pl()
        end = extract_end_date(con) if not published.is_empty() else None
    found = intruder_findings(published, min_cell=disclosure.min_cell, extract_end=end)
    return dg.AssetCheckResult(
        passed=not found,
        metadata={"attacked": True, "findings": len(found), "cells": found[:20]},
    )


@dg.asset_check(
    asset=PUBLISHED,
    name=ZPH_BINS_SAFE,
    blocking=True,
    description=(
        "Every published bin of scaled Schoenfeld residuals (published.cox_zph_bins) holds at "
        "least disclosure.min_cell returns, counted again from analysis.cox_zph_residuals."
    ),
)
def no_schoenfeld_bin_below_min_cell(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a published residual bin rests on fewer than the threshold's returns."""
    min_cell = recurrence.load().disclosure.min_cell
    with recurrence.connect() as con:
        found = count_zph_bins_below_min_cell(con, min_cell=min_cell)
    return dg.AssetCheckResult(
        passed=found["bins_below_min_cell"] == 0,
        metadata={**found, "min_cell": min_cell},
    )
