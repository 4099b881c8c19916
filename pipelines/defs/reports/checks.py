"""Blocking checks of the reports stage: nothing hidden in the report, the whole folder safe.

Declared with their recounts in :mod:`recurrence.checks.release`.
"""

from pipelines.catalog import stage_checks

checks = stage_checks("reports")
