"""The Dagster code location of recurrence: everything under ``defs/`` is loaded automatically."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """Load every asset, check and resource defined under ``pipelines/defs``."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
