"""Class each set of proceedings by how it ended: removal, home or family, or still ongoing.

:func:`build_case_outcomes` writes ``analysis.case_outcomes`` (``sql/outcomes/case_outcomes.sql``)
with the mapping of outcome codes to classes taken from the ``[outcomes]`` configuration, and
the mother's earlier sets of proceedings from ``linkage.mother_keys`` (see ``docs/outcomes.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from recurrence.config import Config, OutcomesConfig
from recurrence.contract import OUTCOMES
from recurrence.errors import ConfigError, RecurrenceError
from recurrence.sql import run_sql

CASE_OUTCOMES_TABLE = "analysis.case_outcomes"
REMOVAL = "removal"
HOME = "home_or_family"
ONGOING = "ongoing"
NOT_RECORDED = "outcome_not_recorded"
OUTCOME_CLASSES: tuple[str, ...] = (REMOVAL, HOME, ONGOING, NOT_RECORDED)
"""Every value of ``outcome_class``: the two ending classes, then the two without an outcome."""
MOTHER_HISTORY = ("index", "returning", "no_mother_recorded")
PREVIOUS_REMOVAL = ("previous_removal", "no_previous_removal", "no_mother_recorded")


@dataclass(frozen=True)
class ClassSummary:
    """What ``analysis.case_outcomes`` holds: cases in all, and care proceedings by class."""

    cases: int
    care_cases: int
    by_class: dict[str, int]
    by_mother_history: dict[str, int]
    by_previous_removal: dict[str, int]


def outcome_lists(outcomes: OutcomesConfig) -> tuple[list[str], list[str]]:
    """The outcome codes classed as removal and as home or family.

    Parameters
    ----------
    outcomes
        The ``[outcomes]`` configuration.

    Returns
    -------
    tuple of list
        Removal codes, home-or-family codes (each in contract order).

    Raises
    ------
    ConfigError
        If an outcome code of the data contract has no class.

    Examples
    --------
    >>> from recurrence.config import load_config
    >>> outcome_lists(load_config().outcomes)[0]
    ['care_order', 'placement_order']
    """
    classes = outcomes.classes()
    missing = [code for code in OUTCOMES if code not in classes]
    if missing:
        raise ConfigError(f"Outcome codes without a class in [outcomes]: {', '.join(missing)}.")
    removal = [code for code in OUTCOMES if classes[code] == REMOVAL]
    home = [code for code in OUTCOMES if classes[code] == HOME]
    return removal, home


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? "
        "and table_name = ? and table_catalog = current_database()",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def build_case_outcomes(con: duckdb.DuckDBPyConnection, config: Config) -> ClassSummary:
    """Write ``analysis.case_outcomes`` (one row per case of ``staging.cases``).

    Parameters
    ----------
    con
        Warehouse connection holding ``staging.cases`` and ``linkage.mother_keys``.
    config
        Run configuration: ``[outcomes]`` mapping, care application types, year type.

    Returns
    -------
    ClassSummary
        Counts for the run's metadata.

    Raises
    ------
    RecurrenceError
        If ``linkage.mother_keys`` has not been built.
    """
    if not _table_exists(con, "linkage", "mother_keys"):
        raise RecurrenceError(
            "linkage.mother_keys is missing: the outcomes stage orders each mother's sets of "
            "proceedings by her mother_key, so run the linkage/mother_keys asset first."
        )
    removal, home = outcome_lists(config.outcomes)
    run_sql(
        con,
        "outcomes/case_outcomes.sql",
        care_application_types=list(config.ingest.care_application_types),
        removal_outcomes=removal,
        home_outcomes=home,
        year_type=config.rates.year_type,
    )

    def counts(column: str) -> dict[str, int]:
        rows = con.sql(
            f"select {column}, count(*) from {CASE_OUTCOMES_TABLE} "
            f"where care_proceedings group by 1 order by 1"
        ).fetchall()
        return {str(k): int(v) for k, v in rows}

    cases, care = con.sql(
        f"select count(*), count(*) filter (where care_proceedings) from {CASE_OUTCOMES_TABLE}"
    ).fetchone()
    return ClassSummary(
        cases=int(cases),
        care_cases=int(care),
        by_class=counts("outcome_class"),
        by_mother_history=counts("mother_history"),
        by_previous_removal=counts("previous_removal"),
    )
