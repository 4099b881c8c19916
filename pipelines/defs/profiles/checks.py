"""Blocking checks on the local-area tables: nothing small published, and the intruder fails.

Declared in :mod:`recurrence.checks.profiles`.
"""

from pipelines.catalog import stage_checks

checks = stage_checks("profiles")
