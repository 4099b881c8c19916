"""Blocking checks on linkage: one key per mother row, no implausible mother, one birth a child."""

from __future__ import annotations

import dagster as dg

from pipelines.catalog import key
from pipelines.defs.resources import RecurrenceResource
from recurrence import catalog
from recurrence.linkage.audit import (
    count_children_with_several_births,
    count_mother_rows_without_one_key,
    count_oversized_mothers,
    largest_mother_cases,
)

CHILD_BIRTHS = key(catalog.CHILD_BIRTHS)
MOTHER_KEYS = key(catalog.MOTHER_KEYS)

ONE_KEY_PER_MOTHER_ROW = "one_mother_key_per_mother_row"
NO_IMPLAUSIBLE_MOTHER = "no_implausibly_large_mother"
ONE_BIRTH_PER_CHILD = "no_child_linked_to_two_births"


@dg.asset_check(
    asset=MOTHER_KEYS,
    name=ONE_KEY_PER_MOTHER_ROW,
    blocking=True,
    description="Every mother row of staging.case_people has exactly one non-null mother_key.",
)
def one_mother_key_per_mother_row(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a mother row has no mother_key, two, or a key row matches no mother row."""
    with recurrence.connect() as con:
        bad = count_mother_rows_without_one_key(con)
    return dg.AssetCheckResult(passed=bad == 0, metadata={"rows_without_one_key": bad})


@dg.asset_check(
    asset=MOTHER_KEYS,
    name=NO_IMPLAUSIBLE_MOTHER,
    blocking=True,
    description="No mother_key has more sets of proceedings than linkage.max_cases_per_mother.",
)
def no_implausibly_large_mother(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when linkage has merged so many records into one woman that it must be wrong."""
    limit = recurrence.load().linkage.max_cases_per_mother
    with recurrence.connect() as con:
        oversized = count_oversized_mothers(con, limit)
        largest = largest_mother_cases(con)
    return dg.AssetCheckResult(
        passed=oversized == 0,
        metadata={
            "mothers_over_limit": oversized,
            "largest_mother_cases": largest,
            "max_cases_per_mother": limit,
        },
    )


@dg.asset_check(
    asset=CHILD_BIRTHS,
    name=ONE_BIRTH_PER_CHILD,
    blocking=True,
    description="No child (person_id) is linked to two different births or listed twice.",
)
def no_child_linked_to_two_births(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a child has more than one birth record."""
    with recurrence.connect() as con:
        bad = count_children_with_several_births(con)
    return dg.AssetCheckResult(passed=bad == 0, metadata={"children_with_several_births": bad})
