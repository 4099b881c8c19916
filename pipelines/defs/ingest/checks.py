"""Blocking checks on ingest: nothing lost, keys unique, required fields present, links intact."""

from __future__ import annotations

import dagster as dg

from pipelines.catalog import key
from pipelines.defs.resources import RecurrenceResource
from recurrence import catalog
from recurrence.audit import (
    count_duplicate_keys,
    count_missing_required,
    count_orphans,
    recount_accounting,
)
from recurrence.contract import CASE_PEOPLE, TABLES, Table
from recurrence.ingest.plausibility import flagged_counts

PLAUSIBILITY = key(catalog.PLAUSIBILITY)

ROWS_ACCOUNTED_FOR = "rows_accounted_for"
KEYS_UNIQUE = "keys_unique"
REQUIRED_PRESENT = "required_fields_present"
CASES_EXIST = "case_people_cases_exist"


def _table_checks(table: Table) -> list[dg.AssetChecksDefinition]:
    asset = dg.AssetKey(["staging", table.name])

    @dg.asset_check(
        asset=asset,
        name=ROWS_ACCOUNTED_FOR,
        blocking=True,
        description="Rows read from the file = rows loaded + rows quarantined (recounted).",
    )
    def _rows_accounted_for(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
        with recurrence.connect() as con:
            acc = recount_accounting(con, table.name)
        return dg.AssetCheckResult(
            passed=acc.balanced,
            metadata={
                "rows_read": acc.rows_read,
                "rows_loaded": acc.rows_loaded,
                "rows_quarantined": acc.rows_quarantined,
            },
        )

    @dg.asset_check(
        asset=asset,
        name=KEYS_UNIQUE,
        blocking=True,
        description=f"No two loaded rows share the key ({', '.join(table.key)}).",
    )
    def _keys_unique(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
        with recurrence.connect() as con:
            duplicates = count_duplicate_keys(con, table.name)
        return dg.AssetCheckResult(
            passed=duplicates == 0, metadata={"rows_sharing_a_key": duplicates}
        )

    @dg.asset_check(
        asset=asset,
        name=REQUIRED_PRESENT,
        blocking=True,
        description="Every required column is filled on every loaded row.",
    )
    def _required_present(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
        with recurrence.connect() as con:
            missing = count_missing_required(con, table.name)
        return dg.AssetCheckResult(
            passed=not missing, metadata={"nulls_by_column": dg.MetadataValue.json(missing)}
        )

    return [_rows_accounted_for, _keys_unique, _required_present]


@dg.asset_check(
    asset=dg.AssetKey(["staging", CASE_PEOPLE.name]),
    name=CASES_EXIST,
    blocking=True,
    description="Every loaded case_people row belongs to a loaded case.",
)
def case_people_cases_exist(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Fail when a person row points at a case that is not in staging.cases."""
    with recurrence.connect() as con:
        orphans = count_orphans(con, CASE_PEOPLE.name, CASE_PEOPLE.foreign_keys[0])
    return dg.AssetCheckResult(passed=orphans == 0, metadata={"orphan_rows": orphans})


table_checks = [check for t in TABLES for check in _table_checks(t)]


@dg.asset_check(
    asset=PLAUSIBILITY,
    name="no_implausible_values",
    blocking=False,
    description=(
        "Warns (never blocks) when audit.plausibility flags any value; the rows stay loaded "
        "and the counts are shown in the report."
    ),
)
def no_implausible_values(recurrence: RecurrenceResource) -> dg.AssetCheckResult:
    """Warn when any plausibility rule flags a value."""
    with recurrence.connect() as con:
        flagged = flagged_counts(con)
    return dg.AssetCheckResult(
        passed=not flagged,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"flagged": dg.MetadataValue.json(flagged)},
    )
