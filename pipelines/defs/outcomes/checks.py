"""Blocking checks on outcomes: every case classed once, and nothing disclosive released.

Declared in :mod:`recurrence.checks.stages`; the three disclosure checks are made from the
published table's suppression rules by :func:`recurrence.checks.suppression_checks`.
"""

from pipelines.catalog import stage_checks

checks = stage_checks("outcomes")
