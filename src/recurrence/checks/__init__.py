"""Checks as declarations: what each asset check recounts, and when it passes.

A :class:`Check` names one check, says what it verifies and holds the function that recounts it
from the warehouse (or the run's report folder) and returns a :class:`Finding`. The code
location turns every check into a Dagster asset check with one factory
(``pipelines.checks``), so opening the warehouse, reading the configuration and reporting the
result are written once.

Checks come from a small set of factories applied to the catalog's declarations
(:mod:`recurrence.catalog`), the way Dagster's own check factories build checks from specs:

- :func:`rows_accounted_for`: every row read is loaded or quarantined (staging tables);
- :func:`keys_unique`: no two rows share the declared key;
- :func:`required_fields_present`: every required column is filled;
- :func:`references_exist`: every declared foreign key finds its row;
- :func:`suppression_checks`: the three disclosure checks of a suppressed table.

The checks particular to one stage (a mother's single key, monotone estimates, ...) are
declared with their recounts in :mod:`recurrence.checks.stages` (those over the run's report
folder in :mod:`recurrence.checks.release`); :func:`checks_for` gathers all
the checks of one dataset.
"""

from __future__ import annotations

from recurrence.catalog import Dataset
from recurrence.checks.factories import (
    DISCLOSURE_KINDS,
    Check,
    CheckInputs,
    CheckKind,
    Finding,
    Suppression,
    declared_checks,
    keys_unique,
    nothing_found,
    references_exist,
    required_fields_present,
    rows_accounted_for,
    suppression_checks,
)
from recurrence.checks.stages import STAGE_CHECKS

__all__ = [
    "DISCLOSURE_KINDS",
    "STAGE_CHECKS",
    "Check",
    "CheckInputs",
    "CheckKind",
    "Finding",
    "Suppression",
    "checks_for",
    "declared_checks",
    "keys_unique",
    "nothing_found",
    "references_exist",
    "required_fields_present",
    "rows_accounted_for",
    "suppression_checks",
]


def checks_for(dataset: Dataset) -> tuple[Check, ...]:
    """Every check of one dataset: those made from its declaration, then its stage's own."""
    return (*declared_checks(dataset), *STAGE_CHECKS.get(dataset.name, ()))
