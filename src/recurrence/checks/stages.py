"""The checks particular to one stage, declared against the catalog's datasets.

Each entry of :data:`STAGE_CHECKS` is a catalog dataset's name and its checks; each check is a
name, what it verifies and the recount behind it (the recounts live with their stage and read
the tables as written, never trusting what the step reported about itself); the checks of the
reports stage, over the run's report folder, are in :mod:`recurrence.checks.release`. The disclosure
checks of rates and outcomes are the same three checks made by
:func:`~recurrence.checks.factories.suppression_checks` from each table's :class:`Suppression`.
"""

from __future__ import annotations

from recurrence import catalog
from recurrence.checks.factories import (
    Check,
    CheckInputs,
    Finding,
    Suppression,
    nothing_found,
    suppression_checks,
)
from recurrence.checks.profiles import PROFILE_CHECKS
from recurrence.checks.release import RELEASE_CHECKS, SHOWN
from recurrence.ingest.plausibility import flagged_counts
from recurrence.linkage.audit import (
    count_children_with_several_births,
    count_mother_rows_without_one_key,
    count_oversized_mothers,
    largest_mother_cases,
)
from recurrence.outcomes import stage as outcomes
from recurrence.rates import audit as rates
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

# --- ingest -------------------------------------------------------------------------------------


def _plausible(inputs: CheckInputs) -> Finding:
    flagged = flagged_counts(inputs.con)
    return Finding(passed=not flagged, metadata={"flagged": flagged})


INGEST = {
    catalog.PLAUSIBILITY: (
        Check(
            "no_implausible_values",
            "Warns (never blocks) when audit.plausibility flags any value; the rows stay loaded "
            "and the counts are shown in the report.",
            _plausible,
            blocking=False,
        ),
    ),
}

# --- linkage ------------------------------------------------------------------------------------


def _largest_mother(inputs: CheckInputs) -> Finding:
    limit = inputs.config.linkage.max_cases_per_mother
    oversized = count_oversized_mothers(inputs.con, limit)
    return Finding(
        passed=oversized == 0,
        metadata={
            "mothers_over_limit": oversized,
            "largest_mother_cases": largest_mother_cases(inputs.con),
            "max_cases_per_mother": limit,
        },
    )


LINKAGE = {
    catalog.MOTHER_KEYS: (
        Check(
            "one_mother_key_per_mother_row",
            "Every mother row of staging.case_people has exactly one non-null mother_key.",
            lambda i: nothing_found(rows_without_one_key=count_mother_rows_without_one_key(i.con)),
        ),
        Check(
            "no_implausibly_large_mother",
            "No mother_key has more sets of proceedings than linkage.max_cases_per_mother.",
            _largest_mother,
        ),
    ),
    catalog.CHILD_BIRTHS: (
        Check(
            "no_child_linked_to_two_births",
            "No child (person_id) is linked to two different births or listed twice.",
            lambda i: nothing_found(
                children_with_several_births=count_children_with_several_births(i.con)
            ),
        ),
    ),
}

# --- rates --------------------------------------------------------------------------------------

RATES_SUPPRESSION = Suppression(
    table=catalog.PUBLISHED_RATES,
    count_word="cell",
    dependents="rates",
    small_counts=lambda published, min_cell: rates.visible_small_counts(
        published, min_cell=min_cell
    ),
    derivable=lambda i: len(
        rates.derivable_hidden_cells(
            i.table(catalog.NEWBORN_RATES), i.table(catalog.PUBLISHED_RATES)
        )
    ),
    dependents_shown=rates.hidden_values_shown,
    descriptions=(
        "No published count is under disclosure.min_cell (zeros included).",
        "No suppressed count can be worked out from the published cells and totals.",
        "Rates and intervals whose count is suppressed are suppressed too.",
    ),
    derivable_metric="suppressed_cells_derivable",
)

RATES = {
    catalog.NEWBORN_RATES: (
        Check(
            "areas_sum_to_totals",
            "Regions sum to England and countries to England and Wales (children, births).",
            lambda i: nothing_found(
                totals_not_adding_up=rates.totals_that_do_not_add_up(
                    i.table(catalog.NEWBORN_RATES)
                ).height
            ),
        ),
        Check(
            "denominators_positive",
            "Every rate has a positive live-birth denominator.",
            lambda i: nothing_found(
                rows_without_births=rates.nonpositive_denominators(i.table(catalog.NEWBORN_RATES))
            ),
        ),
    ),
    catalog.PUBLISHED_RATES: suppression_checks(RATES_SUPPRESSION),
}

# --- outcomes -----------------------------------------------------------------------------------

OUTCOMES_SUPPRESSION = Suppression(
    table=outcomes.PUBLISHED_TABLE,
    count_word="count",
    dependents="proportions",
    small_counts=lambda published, min_cell: outcomes.visible_small_counts(
        published, min_cell=min_cell
    ),
    derivable=lambda i: len(
        outcomes.derivable_hidden_counts(
            i.table(outcomes.CELLS_TABLE), i.table(outcomes.PUBLISHED_TABLE), min_cell=i.min_cell
        )
    ),
    dependents_shown=outcomes.hidden_values_shown,
    descriptions=(
        "No shown count is under disclosure.min_cell (zeros only where ruled safe).",
        "No hidden count can be worked out from the shown counts and totals.",
        "Proportions, intervals and quartiles of hidden counts are hidden too.",
    ),
    derivable_metric="hidden_counts_derivable",
)


def _classified_once(inputs: CheckInputs) -> Finding:
    counts = outcomes.count_cases_not_classified_once(inputs.con)
    bad = ("missing", "duplicated", "not_in_staging", "without_a_class")
    return Finding(passed=not any(counts[k] for k in bad), metadata=counts)


OUTCOMES = {
    catalog.CASE_OUTCOMES: (
        Check(
            "every_case_classified_once",
            "Classified cases = cases in staging: none missing, duplicated or unclassed.",
            _classified_once,
        ),
    ),
    catalog.PUBLISHED_OUTCOMES: suppression_checks(OUTCOMES_SUPPRESSION),
}

# --- recurrence ---------------------------------------------------------------------------------


def _one_row_per_mother(inputs: CheckInputs) -> Finding:
    types = inputs.config.ingest.care_application_types
    return nothing_found(**count_mothers_not_in_one_row(inputs.con, types))


def _monotone(inputs: CheckInputs) -> Finding:
    table = inputs.table(catalog.ESTIMATES)
    mothers = read_cohort(inputs.con).height
    overall = table.filter(table["group_variable"] == "all").height
    bad = count_non_monotone(table)
    # An empty cohort (no proceedings, or every mother excluded by the look-back) has nothing to
    # estimate: an empty table is then the right answer, and the report says why.
    return Finding(
        passed=(overall > 0 or mothers == 0) and bad == 0,
        metadata={
            "rows": table.height,
            "overall_rows": overall,
            "decreasing_steps": bad,
            "cohort_mothers": mothers,
        },
    )


def _estimates_above_min_cell(inputs: CheckInputs) -> Finding:
    min_cell = inputs.min_cell
    published = inputs.table(catalog.PUBLISHED_RECURRENCE)
    cox_bad = inputs.con.execute(
        "select count(*) from published.cox_hazard_ratios as p "
        "inner join analysis.cox_hazard_ratios as a using (variable, level) "
        "where p.hazard_ratio is not null and (a.n_mothers < $m or a.n_events < $m)",
        {"m": min_cell},
    ).fetchone()
    bad = count_published_below_min_cell(published, min_cell=min_cell)
    cox = int(cox_bad[0]) if cox_bad else 0
    return Finding(
        passed=bad == 0 and cox == 0,
        metadata={
            "estimates_below_min_cell": bad,
            "hazard_ratios_below_min_cell": cox,
            "min_cell": min_cell,
        },
    )


def _resists_intruder(inputs: CheckInputs) -> Finding:
    disclosure = inputs.config.disclosure
    if disclosure.rounding_base > 1:
        return Finding(
            passed=True,
            metadata={"attacked": False, "why": "counts are rounded; partitions do not add up"},
        )
    published = inputs.table(catalog.PUBLISHED_RECURRENCE)
    end = extract_end_date(inputs.con) if not published.is_empty() else None
    found = intruder_findings(published, min_cell=disclosure.min_cell, extract_end=end)
    return Finding(
        passed=not found,
        metadata={"attacked": True, "findings": len(found), "cells": found[:SHOWN]},
    )


def _zph_bins(inputs: CheckInputs) -> Finding:
    found = count_zph_bins_below_min_cell(inputs.con, min_cell=inputs.min_cell)
    return Finding(
        passed=found["bins_below_min_cell"] == 0,
        metadata={**found, "min_cell": inputs.min_cell},
    )


RECURRENCE = {
    catalog.COHORT: (
        Check(
            "every_mother_in_exactly_one_row",
            "Every mother_key in care proceedings has exactly one cohort row, and no other.",
            _one_row_per_mother,
        ),
        Check(
            "follow_up_within_extract",
            "Follow-up is never negative, never past the extract end, and matches its dates.",
            lambda i: nothing_found(**count_bad_follow_up(i.con)),
        ),
    ),
    catalog.ESTIMATES: (
        Check(
            "estimates_non_empty_and_monotone",
            "The estimates table has the overall group and never falls as the horizon grows.",
            _monotone,
        ),
    ),
    catalog.PUBLISHED_RECURRENCE: (
        Check(
            "no_published_estimate_below_min_cell",
            "No published estimate rests on fewer than disclosure.min_cell mothers or returns.",
            _estimates_above_min_cell,
            kind="disclosure",
        ),
        Check(
            "estimates_resist_intruder",
            "An intruder who knows the partitions, the horizons, monotone counts and the extract "
            "end cannot narrow any hidden count of recurrence_estimates to fewer than "
            "disclosure.min_cell.",
            _resists_intruder,
            kind="disclosure",
        ),
        Check(
            "no_schoenfeld_bin_below_min_cell",
            "Every published bin of scaled Schoenfeld residuals (published.cox_zph_bins) holds "
            "at least disclosure.min_cell returns, counted again from "
            "analysis.cox_zph_residuals.",
            _zph_bins,
            kind="disclosure",
        ),
    ),
}

#: Each dataset's own checks, by catalog name, for every stage.
STAGE_CHECKS: dict[str, tuple[Check, ...]] = {
    **INGEST,
    **LINKAGE,
    **RATES,
    **OUTCOMES,
    **RECURRENCE,
    **PROFILE_CHECKS,
    **RELEASE_CHECKS,
}
