"""Blocking checks on ingest: nothing lost, keys unique, required fields present, links intact.

Made from the data contract's declarations (row accounting, keys, required columns, foreign
keys) by the factories of :mod:`recurrence.checks`; the plausibility warning is declared in
:mod:`recurrence.checks.stages`.
"""

from pipelines.catalog import stage_checks

checks = stage_checks("ingest")
