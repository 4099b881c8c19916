"""Plausibility counts: legal but unlikely values, counted and shown, never dropped."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from recurrence.config import IngestConfig
from recurrence.sql import run_sql


@dataclass(frozen=True)
class PlausibilityCount:
    """One row of ``audit.plausibility``.

    Attributes
    ----------
    rule
        Rule name (see ``sql/ingest/plausibility.sql``).
    table_name
        Staging table the rule looks at.
    column_name
        Column whose value is implausible.
    limit_text
        The limit, in words, with its configured value.
    counted_unit
        What ``rows_flagged`` counts (rows, child rows, births or mothers).
    rows_flagged
        How many were flagged; all of them stay loaded.
    """

    rule: str
    table_name: str
    column_name: str
    limit_text: str
    counted_unit: str
    rows_flagged: int


def build_plausibility(
    con: duckdb.DuckDBPyConnection, config: IngestConfig
) -> list[PlausibilityCount]:
    """(Re)write ``audit.plausibility`` from the staging tables and return its rows.

    Parameters
    ----------
    con
        A warehouse connection holding ``staging.cases``, ``staging.case_people``,
        ``staging.births`` and ``audit.extract_info``.
    config
        Ingest settings (the ``plausible_*`` limits).

    Returns
    -------
    list of PlausibilityCount
        One entry per rule and column, in a fixed order, zero counts included.
    """
    con.execute("create schema if not exists audit")
    run_sql(
        con,
        "ingest/plausibility.sql",
        mother_age_min=config.plausible_mother_age_min,
        mother_age_max=config.plausible_mother_age_max,
        years_before_end=config.plausible_years_before_end,
        cases_per_mother=config.plausible_cases_per_mother,
    )
    rows = con.execute(
        "select rule, table_name, column_name, limit_text, counted_unit, rows_flagged "
        "from audit.plausibility"
    ).fetchall()
    return [PlausibilityCount(*(r[:5]), int(r[5])) for r in rows]


def flagged_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rule (table.column) -> count, for the rules of ``audit.plausibility`` that flag anything."""
    rows = con.execute(
        "select rule, table_name, column_name, rows_flagged from audit.plausibility"
    ).fetchall()
    return {f"{r} ({t}.{c})": int(n) for r, t, c, n in rows if n}
