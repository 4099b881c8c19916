"""The catalog as Dagster sees it: asset keys and dependencies, derived from the declarations.

Every asset of ``pipelines/defs`` takes its key, group and dependencies from its declaration in
:mod:`recurrence.catalog` (:func:`asset_args`).
"""

from typing import Any

import dagster as dg

from recurrence import catalog


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
