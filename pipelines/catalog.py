"""The catalog as Dagster sees it: asset keys, dependencies and asset checks, all derived.

Every asset of ``pipelines/defs`` takes its key, group and dependencies from its declaration in
:mod:`recurrence.catalog` (:func:`asset_args`), and every asset check is made by one factory
(:func:`asset_check`) from a declaration of :mod:`recurrence.checks`, the way Dagster's own
check factories build checks from specs. Opening the warehouse, reading the configuration and
turning a recount into a check result are therefore written here once, for every stage.

No ``from __future__ import annotations`` here: Dagster reads the check function's parameter
annotations as classes to tell the context and the resource apart.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetCheckExecutionContext

from pipelines.defs.resources import RecurrenceResource
from recurrence import catalog
from recurrence.checks import Check, CheckInputs, checks_for


def key(name: str) -> dg.AssetKey:
    """The asset key of a catalog dataset: ``schema.table`` -> ``schema/table``."""
    return dg.AssetKey(list(catalog.dataset(name).path))


def asset_args(name: str) -> dict[str, Any]:
    """``key``, ``group_name`` and ``deps`` of the asset that makes dataset ``name``."""
    dataset = catalog.dataset(name)
    return {
        "key": key(name),
        "group_name": dataset.stage,
        "deps": [key(i) for i in dataset.inputs],
    }


def _metadata_value(value: object) -> Any:
    # Lists and mappings are shown as JSON in the UI; paths as links; numbers and text as is.
    if isinstance(value, list | tuple | Mapping):
        return dg.MetadataValue.json(value if isinstance(value, Mapping) else list(value))
    if isinstance(value, Path):
        return dg.MetadataValue.path(str(value))
    return value


def asset_check(dataset: catalog.Dataset, check: Check) -> dg.AssetChecksDefinition:
    """Make the Dagster asset check of one declared check on one dataset.

    The check opens the run's warehouse (its private build, within a run), gives the recount
    the configuration and run id, and reports the finding (:func:`run_check`); a non-blocking
    check that fails is a warning.
    """

    @dg.asset_check(
        asset=key(dataset.name),
        name=check.name,
        blocking=check.blocking,
        description=check.description,
    )
    def _check(
        context: AssetCheckExecutionContext, recurrence: RecurrenceResource
    ) -> dg.AssetCheckResult:
        return run_check(check, recurrence, context.run.run_id)

    return _check


def run_check(check: Check, recurrence: RecurrenceResource, run_id: str) -> dg.AssetCheckResult:
    """Recount one check on the run's warehouse and report it as Dagster's check result."""
    config = recurrence.load()
    with recurrence.connect() as con:
        found = check.measure(CheckInputs(con, config, run_id))
    return dg.AssetCheckResult(
        passed=found.passed,
        severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
        metadata={k: _metadata_value(v) for k, v in found.metadata.items()},
    )


def stage_checks(stage: str) -> list[dg.AssetChecksDefinition]:
    """Every asset check of one stage's datasets, as declared."""
    return [
        asset_check(dataset, check)
        for dataset in catalog.stage(stage)
        for check in checks_for(dataset)
    ]
