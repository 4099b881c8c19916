"""Dagster code location of recurrence (orchestration only: the work is in `recurrence`)."""
