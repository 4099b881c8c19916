"""Children's dates of birth recorded as weeks of birth (SAIL's WEEKOFBIRTH) are linked by week."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from recurrence.linkage import settings as s
from recurrence.linkage.maternity import week_of_birth
from recurrence.linkage.model import splink_workspace


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("create schema linkage")
    c.execute("create table linkage.child_records (record_id varchar, baby_birth_date date)")
    return c


def _dates(con, dates) -> None:
    con.execute("delete from linkage.child_records")
    con.executemany(
        "insert into linkage.child_records values (?, ?)",
        [(str(i), d) for i, d in enumerate(dates)],
    )


def test_mondays_mean_weeks_of_birth(con) -> None:
    monday = dt.date(2020, 1, 6)
    weeks = [monday + dt.timedelta(weeks=i) for i in range(40)]
    _dates(con, weeks)
    assert week_of_birth(con)
    # a few errors (a century typo fixed to another day) do not hide it
    _dates(con, [*weeks[:37], *(d + dt.timedelta(days=2) for d in weeks[37:])])
    assert week_of_birth(con)


def test_exact_dates_are_not_weeks(con) -> None:
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(70)]  # 10 Mondays
    _dates(con, days)
    assert not week_of_birth(con)
    # too few dates to judge, even all on Mondays
    few = [
        dt.date(2020, 1, 6) + dt.timedelta(weeks=i) for i in range(s.WEEK_OF_BIRTH_MIN_DATES - 1)
    ]
    _dates(con, few)
    assert not week_of_birth(con)


def test_workspace_compares_by_week(con) -> None:
    _dates(con, [dt.date(2020, 1, 8), dt.date(2020, 1, 12), dt.date(2020, 1, 13)])
    with splink_workspace(con) as ws:
        ws.import_table("linkage.child_records", "work_weeks", week_columns=("baby_birth_date",))
        got = con.sql("select baby_birth_date from work_weeks order by record_id").fetchall()
    # Wednesday and Sunday of one week share its Monday; the next Monday starts another
    assert [d for (d,) in got] == [dt.date(2020, 1, 6), dt.date(2020, 1, 6), dt.date(2020, 1, 13)]
