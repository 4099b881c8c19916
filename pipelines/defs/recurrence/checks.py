"""Blocking checks on recurrence: one row per mother, sound follow-up, sound and safe estimates.

Declared with their recounts in :mod:`recurrence.checks.stages`.
"""

from pipelines.catalog import stage_checks

checks = stage_checks("recurrence")
