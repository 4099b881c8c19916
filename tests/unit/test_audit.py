"""The recounts behind the ingest asset checks must fail when the warehouse is wrong."""

import pytest

from recurrence.audit import (
    count_duplicate_keys,
    count_missing_required,
    count_orphans,
    recount_accounting,
)
from recurrence.contract import CASE_PEOPLE
from recurrence.warehouse import connect


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    con.execute(
        "create table raw.cases as "
        "select range::varchar as case_id, range + 1 as source_row from range(5)"
    )
    con.execute(
        "create table staging.cases as select case_id, date '2020-01-01' as issue_date, "
        "'s31_care' as application_type, 'E12000001' as region_code, source_row "
        "from raw.cases where source_row <= 4"
    )
    con.execute(
        "create table audit.quarantine (table_name varchar, source_file varchar, "
        "source_row bigint, column_name varchar, rule varchar, reason varchar)"
    )
    con.execute(
        "insert into audit.quarantine values ('cases', 'cases.csv', 5, 'issue_date', 'date', 'x'),"
        " ('cases', 'cases.csv', 5, 'region_code', 'code', 'y')"
    )
    con.execute(
        "create table staging.case_people as "
        "select '0' as case_id, 'p' as person_id, 'mother' as role"
    )
    yield con
    con.close()


def test_balanced_accounting_counts_distinct_quarantined_rows(con):
    acc = recount_accounting(con, "cases")
    assert (acc.rows_read, acc.rows_loaded, acc.rows_quarantined) == (5, 4, 1)
    assert acc.balanced


def test_a_lost_row_unbalances_the_accounting(con):
    con.execute("delete from staging.cases where source_row = 2")
    assert not recount_accounting(con, "cases").balanced


def test_a_row_both_loaded_and_quarantined_unbalances_it(con):
    con.execute("insert into audit.quarantine values ('cases', 'cases.csv', 1, null, 'key', 'z')")
    assert not recount_accounting(con, "cases").balanced


def test_duplicate_keys_and_missing_required_are_counted(con):
    assert count_duplicate_keys(con, "cases") == 0
    assert count_missing_required(con, "cases") == {}
    con.execute(
        "insert into staging.cases "
        "select case_id, null, application_type, region_code, 9 from staging.cases limit 1"
    )
    assert count_duplicate_keys(con, "cases") == 2
    assert count_missing_required(con, "cases") == {"issue_date": 1}


def test_orphan_person_rows_are_counted(con):
    (to_cases,) = CASE_PEOPLE.foreign_keys
    assert count_orphans(con, "case_people", to_cases) == 0
    con.execute("insert into staging.case_people values ('99', 'q', 'child')")
    assert count_orphans(con, "case_people", to_cases) == 1
