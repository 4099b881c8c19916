"""Build the recurrence cohort (``analysis.recurrence_cohort``) from linked proceedings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import polars as pl

from recurrence.config import Config
from recurrence.sql import run_sql

COHORT_TABLE = "analysis.recurrence_cohort"
#: The optional competing-event column an extract may add to case_people (kept in raw only).
DEATH_COLUMN = "mother_death_date"
#: Parse outcomes of the raw death dates (sql/recurrence/mother_deaths.sql).
DEATH_STATUSES: tuple[str, ...] = ("valid", "missing", "invalid", "after_extract_end")
#: Covariates at index reported by group, in the order they are published.
COVARIATES: tuple[str, ...] = (
    "age_group",
    "region_code",
    "index_period",
    "youngest_child_age",
    "children_in_index_set",
)
#: The reference level of each covariate in the Cox model (the largest or most usual group).
REFERENCE_LEVELS: dict[str, str] = {
    "age_group": "25-29",
    "region_code": "E12000007",  # London: lowest published recurrence
    "index_period": "2008-2011",
    "youngest_child_age": "older",
    "children_in_index_set": "1",
}


@dataclass(frozen=True)
class CohortSummary:
    """Counts describing one build of the cohort table."""

    mothers: int
    in_cohort: int
    events: int
    extract_end_date: dt.date
    #: Whether raw.case_people holds a mother_death_date column (the competing event).
    death_column: bool = False
    #: Mother rows of staging.case_people by parse status of the raw death date
    #: (:data:`DEATH_STATUSES`; empty without the column). Only ``valid`` dates are used.
    death_rows: dict[str, int] = field(default_factory=dict)
    #: Mothers (all rows) whose earliest valid death date is before their index issue date
    #: (implausible; ignored).
    deaths_before_index: int = 0
    #: Mothers in the cohort whose follow-up ended in death before a return.
    competing_events: int = 0
    #: Of those, mothers with a return recorded after the death (not counted as a return).
    returns_after_death: int = 0
    #: Mothers after the look-back whose index issue date is the extract end date: no day of
    #: follow-up, so excluded from the cohort (``in_cohort`` false, ``zero_follow_up`` true).
    zero_follow_up: int = 0
    #: Mothers whose index set is within the look-back (excluded from the cohort).
    excluded_by_lookback: int = 0


def extract_end_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The extract's end date from ``audit.extract_info`` (the censoring date).

    Parameters
    ----------
    con
        Open warehouse.

    Returns
    -------
    datetime.date
        The single extract end date.
    """
    rows = con.sql("select distinct extract_end_date from audit.extract_info").fetchall()
    if len(rows) != 1 or rows[0][0] is None:
        raise ValueError(f"audit.extract_info should hold one extract_end_date, found {rows}.")
    return rows[0][0]


def has_death_column(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``raw.case_people`` exists and holds a ``mother_death_date`` column."""
    row = con.execute(
        "select count(*) from information_schema.columns where table_schema = 'raw' "
        "and table_name = 'case_people' and column_name = ?",
        [DEATH_COLUMN],
    ).fetchone()
    return bool(row and row[0])


def load_mother_deaths(con: duckdb.DuckDBPyConnection, end: dt.date) -> dict[str, int] | None:
    """Create the temp table ``recurrence_mother_deaths`` and count its rows by status.

    From ``sql/recurrence/mother_deaths.sql`` when ``raw.case_people`` has the column, else
    empty.

    Parameters
    ----------
    con
        Warehouse (``staging.case_people`` and, if present, ``raw.case_people``).
    end
        The extract end date (later death dates are not used).

    Returns
    -------
    dict or None
        Mother rows by status (:data:`DEATH_STATUSES`), or None without the column.
    """
    if not has_death_column(con):
        con.execute(
            "create or replace temp table recurrence_mother_deaths (case_id varchar, "
            "person_id varchar, raw_value varchar, status varchar, death_date date)"
        )
        return None
    run_sql(con, "recurrence/mother_deaths.sql", extract_end_date=end)
    counts = dict(
        con.sql("select status, count(*) from recurrence_mother_deaths group by status").fetchall()
    )
    return {s: int(counts.get(s, 0)) for s in DEATH_STATUSES}


def build_cohort(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    event: str | None = None,
    mother_id: str = "mother_key",
) -> CohortSummary:
    """Create ``analysis.recurrence_cohort`` from ``sql/recurrence/cohort.sql``.

    Parameters
    ----------
    con
        Warehouse holding ``staging.cases``, ``staging.case_people``, ``linkage.mother_keys``
        and ``audit.extract_info``.
    config
        Run configuration: application types, event definition, look-back and age bands.
    event
        Override ``config.recurrence.event`` (``"new_child"`` or ``"any"``).
    mother_id
        ``"mother_key"`` (the linked woman) or ``"person_id"`` (no linkage: each person_id is
        taken as a separate woman; the sensitivity analysis).

    Returns
    -------
    CohortSummary
        Numbers of mothers, of mothers in the cohort after the look-back, of events, and the
        accounting of the competing event (death) where the extract holds one.
    """
    event = event or config.recurrence.event
    if event not in ("new_child", "any"):
        raise ValueError(f"event must be 'new_child' or 'any', got {event!r}.")
    if mother_id not in ("mother_key", "person_id"):
        raise ValueError(f"mother_id must be 'mother_key' or 'person_id', got {mother_id!r}.")
    end = extract_end_date(con)
    con.execute("create schema if not exists analysis")
    death_rows = load_mother_deaths(con, end)
    run_sql(
        con,
        "recurrence/cohort.sql",
        mother_id=mother_id,
        application_types=list(config.ingest.care_application_types),
        event=event,
        lookback_years=config.recurrence.lookback_years,
        extract_end_date=end,
        newborn_days=config.rates.newborn_days,
        infant_days=config.rates.infant_days,
    )
    row = con.sql(
        f"""
        select
            count(*),
            count(*) filter (where in_cohort),
            count(*) filter (where in_cohort and event),
            count(*) filter (where mother_death_date < index_issue_date),
            count(*) filter (where in_cohort and competing_event),
            count(*) filter (where in_cohort and return_after_death),
            count(*) filter (where after_lookback and zero_follow_up),
            count(*) filter (where not after_lookback)
        from {COHORT_TABLE}
        """
    ).fetchone() or (0, 0, 0, 0, 0, 0, 0, 0)
    return CohortSummary(
        int(row[0]),
        int(row[1]),
        int(row[2]),
        end,
        death_column=death_rows is not None,
        death_rows=death_rows or {},
        deaths_before_index=int(row[3]),
        competing_events=int(row[4]),
        returns_after_death=int(row[5]),
        zero_follow_up=int(row[6]),
        excluded_by_lookback=int(row[7]),
    )


def read_cohort(con: duckdb.DuckDBPyConnection, *, in_cohort_only: bool = True) -> pl.DataFrame:
    """Read the cohort table as a polars frame.

    Parameters
    ----------
    con
        Warehouse holding ``analysis.recurrence_cohort``.
    in_cohort_only
        Drop mothers excluded by the look-back.

    Returns
    -------
    polars.DataFrame
        One row per mother.
    """
    where = "where in_cohort" if in_cohort_only else ""
    return con.sql(f"select * from {COHORT_TABLE} {where} order by mother_key").pl()


def person_id_cohort(
    con: duckdb.DuckDBPyConnection, config: Config, *, event: str | None = None
) -> pl.DataFrame:
    """The cohort as it would be with ``person_id``-only linkage, leaving the warehouse unchanged.

    The cohort is built inside a transaction that is rolled back, so ``analysis.recurrence_cohort``
    keeps the linked cohort.

    Parameters
    ----------
    con
        Warehouse as for :func:`build_cohort`.
    config
        Run configuration.
    event
        Override ``config.recurrence.event``.

    Returns
    -------
    polars.DataFrame
        One row per person_id in the cohort (column ``mother_key`` holds the person_id).
    """
    con.execute("create schema if not exists analysis")
    con.begin()
    try:
        build_cohort(con, config, event=event, mother_id="person_id")
        return read_cohort(con)
    finally:
        con.rollback()
