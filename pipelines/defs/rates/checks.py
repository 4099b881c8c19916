"""Blocking checks on the rate tables: totals add up, denominators positive, nothing disclosive.

Declared in :mod:`recurrence.checks.stages`; the three disclosure checks are made from the
published table's suppression rules by :func:`recurrence.checks.suppression_checks`.
"""

from pipelines.catalog import stage_checks

checks = stage_checks("rates")
