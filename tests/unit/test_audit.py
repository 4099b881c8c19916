"""The recounts behind the ingest asset checks must fail when the warehouse is wrong."""

import pytest
from ingest_fixtures import loaded_warehouse

from recurrence.audit import (
    count_duplicate_keys,
    count_missing_required,
    count_orphans,
    recount_accounting,
)
from recurrence.contract import CASE_PEOPLE


@pytest.fixture
def con(tmp_path):
    con = loaded_warehouse(tmp_path / "wh.duckdb")
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
