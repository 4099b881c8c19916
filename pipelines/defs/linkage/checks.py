"""Blocking checks on linkage: one key per mother row, no implausible mother, one birth a child.

Declared with their recounts in :mod:`recurrence.checks.stages`.
"""

from pipelines.catalog import stage_checks

checks = stage_checks("linkage")
