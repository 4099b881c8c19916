"""Every row-level rule of ingest, each with an input that fails it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from ingest_fixtures import (
    CASE_PEOPLE,
    CASES,
    CONFIG,
    IDENTIFIERS,
    VALID,
    csv_text,
    quarantine,
    warehouse,
    write_extract,
)

from recurrence.ingest import TableAccounting, ingest_extract


def run(tmp_path: Path, tables: dict, config=CONFIG):
    folder = write_extract(tmp_path / "extract", tables)
    con = warehouse(tmp_path)
    accounting = {a.table_name: a for a in ingest_extract(con, folder, config)}
    return con, accounting


def changed(table: str, row: int, **values: str) -> dict[str, list[dict[str, str]]]:
    """The valid rows of ``table`` with data row ``row`` (1-based) changed."""
    rows = copy.deepcopy(VALID[table])
    rows[row - 1].update(values)
    return {table: rows}


def assert_balanced(acc: TableAccounting) -> None:
    assert acc.rows_read == acc.rows_loaded + acc.rows_quarantined


# (table, row, changes, rule, column, exact reason)
CASES_FAILING = [
    ("cases", 2, {"case_id": "  "}, "required", "case_id", "case_id is missing: it is required"),
    (
        "cases",
        1,
        {"issue_date": "30/04/2016"},
        "invalid_date",
        "issue_date",
        "issue_date is not a valid date: expected YYYY-MM-DD, such as 2016-04-30, "
        "and a real calendar date",
    ),
    (
        "cases",
        1,
        {"final_hearing_date": "2019-02-30"},
        "invalid_date",
        "final_hearing_date",
        "final_hearing_date is not a valid date: expected YYYY-MM-DD, such as 2016-04-30, "
        "and a real calendar date",
    ),
    (
        "cases",
        1,
        {"issue_date": "2016-4-30"},
        "invalid_date",
        "issue_date",
        "issue_date is not a valid date: expected YYYY-MM-DD, such as 2016-04-30, "
        "and a real calendar date",
    ),
    (
        "cases",
        1,
        {"application_type": "S32"},
        "not_allowed",
        "application_type",
        "application_type 'S32' is not one of s31_care, s31_supervision, epo, other",
    ),
    (
        "cases",
        1,
        {"region_code": "E99999999"},
        "not_allowed",
        "region_code",
        "",
    ),
    (
        "cases",
        1,
        {"outcome": "adopted"},
        "not_allowed",
        "outcome",
        "outcome 'adopted' is not one of care_order, placement_order, supervision_order, "
        "special_guardianship_order, child_arrangements_order, no_order, withdrawn",
    ),
    (
        "cases",
        1,
        {"final_hearing_date": "2016-04-29"},
        "final_before_issue",
        "final_hearing_date",
        "final_hearing_date is before issue_date",
    ),
    (
        "cases",
        1,
        {"issue_date": "2024-04-01", "final_hearing_date": ""},
        "after_extract_end",
        "issue_date",
        "issue_date is after the extract end date (extract_end_date in extract.toml)",
    ),
    (
        "cases",
        1,
        {"final_hearing_date": "2025-01-01"},
        "after_extract_end",
        "final_hearing_date",
        "final_hearing_date is after the extract end date (extract_end_date in extract.toml)",
    ),
    (
        "cases",
        1,
        {"issue_date": "1991-10-13", "final_hearing_date": ""},
        "before_earliest",
        "issue_date",
        "issue_date is before the earliest plausible issue date "
        "(ingest.earliest_issue_date in the configuration)",
    ),
    (
        "case_people",
        2,
        {"role": "grandmother"},
        "not_allowed",
        "role",
        "role 'grandmother' is not one of child, mother, father, other",
    ),
    (
        "case_people",
        2,
        {"sex": "X"},
        "not_allowed",
        "sex",
        "sex 'X' is not one of F, M, U",
    ),
    (
        "case_people",
        2,
        {"birth_date": "2024-04-01"},
        "after_extract_end",
        "birth_date",
        "birth_date is after the extract end date (extract_end_date in extract.toml)",
    ),
    (
        "case_people",
        1,
        {"birth_year_month": "1990-13"},
        "invalid_year_month",
        "birth_year_month",
        "birth_year_month is not a valid year and month: expected YYYY-MM with a month from "
        "01 to 12, such as 1985-07",
    ),
    (
        "case_people",
        1,
        {"birth_year_month": "2024-04"},
        "after_extract_end",
        "birth_year_month",
        "birth_year_month is after the month of the extract end date (extract_end_date in "
        "extract.toml)",
    ),
    (
        "case_people",
        1,
        {"birth_year_month": "1899-12"},
        "before_earliest",
        "birth_year_month",
        "birth_year_month is before the earliest plausible year and month "
        "(ingest.earliest_birth_year_month in the configuration)",
    ),
    (
        "case_people",
        1,
        {"person_id": ""},
        "required",
        "person_id",
        "person_id is missing: it is required",
    ),
    (
        "births",
        1,
        {"baby_birth_date": "2024-04-01"},
        "after_extract_end",
        "baby_birth_date",
        "baby_birth_date is after the extract end date (extract_end_date in extract.toml)",
    ),
    (
        "births",
        2,
        {"live_birth": "maybe"},
        "invalid_boolean",
        "live_birth",
        "live_birth is not true or false: expected one of true, false, 1, 0, t, f, yes, no",
    ),
    (
        "births",
        1,
        {"mother_birth_year_month": "2025-01"},
        "after_extract_end",
        "mother_birth_year_month",
        "mother_birth_year_month is after the month of the extract end date "
        "(extract_end_date in extract.toml)",
    ),
    (
        "births",
        1,
        {"mother_birth_year_month": "1800-01"},
        "before_earliest",
        "mother_birth_year_month",
        "mother_birth_year_month is before the earliest plausible year and month "
        "(ingest.earliest_birth_year_month in the configuration)",
    ),
    (
        "births",
        2,
        {"baby_sex": "male"},
        "not_allowed",
        "baby_sex",
        "baby_sex 'male' is not one of F, M, U",
    ),
    (
        "live_births",
        1,
        {"live_births": "-5"},
        "negative",
        "live_births",
        "live_births is negative: expected a whole number of 0 or more",
    ),
    (
        "live_births",
        1,
        {"live_births": "28000.5"},
        "invalid_integer",
        "live_births",
        "live_births is not a whole number: expected digits only, such as 2016",
    ),
    (
        "live_births",
        2,
        {"region_code": ""},
        "required",
        "region_code",
        "region_code is missing: it is required",
    ),
]


@pytest.mark.parametrize(
    ("table", "row", "changes", "rule", "column", "reason"),
    CASES_FAILING,
    ids=[f"{c[0]}-{c[3]}-{next(iter(c[2]))}" for c in CASES_FAILING],
)
def test_rule_quarantines_row(tmp_path, table, row, changes, rule, column, reason):
    con, acc = run(tmp_path, changed(table, row, **changes))
    found = [q for q in quarantine(con, table) if q[1] == row]
    assert (table, row, column, rule) in [q[:4] for q in found]
    got = next(q[4] for q in found if q[3] == rule and q[2] == column)
    if reason:
        assert got == reason
    assert acc[table].rows_quarantined >= 1
    assert acc[table].problems_by_rule[rule] >= 1
    assert_balanced(acc[table])
    staged = con.execute(f"select source_row from staging.{table}").fetchall()
    assert (row,) not in staged
    for message in found:
        for identifier in IDENTIFIERS:
            assert identifier not in message[4]


def test_region_code_reason_lists_allowed_codes(tmp_path):
    con, _ = run(tmp_path, changed("cases", 1, region_code="E99999999"))
    reason = quarantine(con, "cases")[0][4]
    assert reason.startswith("region_code 'E99999999' is not one of E12000001, E12000002")
    assert reason.endswith("W92000004")


def test_normalisation_before_validation(tmp_path):
    con, acc = run(
        tmp_path,
        {
            **changed(
                "cases", 1, application_type="  S31_Care ", region_code="e12000001 ", la_code="e06"
            ),
            **changed("case_people", 1, role="MOTHER", sex="f", postcode_district=" ls 1 "),
            **changed("births", 1, live_birth="YES", baby_sex=" m"),
        },
    )
    assert all(a.rows_quarantined == 0 for a in acc.values())
    case = con.execute(
        "select application_type, region_code, la_code from staging.cases where source_row = 1"
    ).fetchone()
    assert case == ("s31_care", "E12000001", "E06")
    person = con.execute(
        "select role, sex, postcode_district from staging.case_people where source_row = 1"
    ).fetchone()
    assert person == ("mother", "F", "LS1")
    births = con.execute("select live_birth, baby_sex from staging.births order by 2").fetchall()
    assert births == [(True, "F"), (True, "M")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("FALSE", False),
        ("1", True),
        ("0", False),
        ("T", True),
        ("f", False),
        ("Yes", True),
        ("no", False),
        ("", True),
    ],
)
def test_boolean_spellings_and_default(tmp_path, text, expected):
    con, acc = run(tmp_path, changed("births", 1, live_birth=text))
    assert acc["births"].rows_quarantined == 0
    value = con.execute("select live_birth from staging.births where source_row = 1").fetchone()
    assert value == (expected,)


def test_staging_types(tmp_path):
    con, _ = run(tmp_path, {})
    types = dict(
        con.execute("select column_name, column_type from (describe staging.cases)").fetchall()
    )
    assert types["issue_date"] == "DATE"
    assert types["source_row"] == "BIGINT"
    types = dict(
        con.execute(
            "select column_name, column_type from (describe staging.live_births)"
        ).fetchall()
    )
    assert types["year"] == "BIGINT"
    assert types["live_births"] == "BIGINT"
    types = dict(
        con.execute("select column_name, column_type from (describe staging.births)").fetchall()
    )
    assert types["live_birth"] == "BOOLEAN"
    assert types["mother_birth_year_month"] == "VARCHAR"


def test_exact_duplicate_keeps_first(tmp_path):
    rows = [*CASES, dict(CASES[0]), dict(CASES[0])]
    con, acc = run(tmp_path, {"cases": rows})
    q = quarantine(con, "cases")
    assert [(r[1], r[2], r[3], r[4]) for r in q] == [
        (4, "case_id", "duplicate_row", "exact duplicate of row 1"),
        (5, "case_id", "duplicate_row", "exact duplicate of row 1"),
    ]
    assert con.execute("select source_row from staging.cases order by 1").fetchall() == [
        (1,),
        (2,),
        (3,),
    ]
    assert acc["cases"].rows_loaded == 3
    assert acc["cases"].rows_quarantined == 2
    assert acc["cases"].problems_by_rule == {"duplicate_row": 2}


def test_exact_duplicate_after_normalisation(tmp_path):
    copy_row = dict(CASES[0], application_type=" S31_CARE")
    con, _ = run(tmp_path, {"cases": [*CASES, copy_row]})
    assert [r[3] for r in quarantine(con, "cases")] == ["duplicate_row"]


def test_conflicting_duplicates_quarantine_all_copies(tmp_path):
    rows = [*CASES, dict(CASES[0], outcome="no_order")]
    con, acc = run(tmp_path, {"cases": rows})
    q = quarantine(con, "cases")
    reason = (
        "case_id is not unique: the same case_id is on 2 rows (rows 1 and 4) with different "
        "values, so none can be trusted"
    )
    assert [(r[1], r[2], r[3], r[4]) for r in q if r[3] == "duplicate_key"] == [
        (1, "case_id", "duplicate_key", reason),
        (4, "case_id", "duplicate_key", reason),
    ]
    assert acc["cases"].rows_loaded == 2
    # The case's people now match no loaded case.
    unknown = [r for r in quarantine(con, "case_people") if r[3] == "unknown_case"]
    assert [r[1] for r in unknown] == [1, 2]


def test_composite_key_conflict(tmp_path):
    rows = [*CASE_PEOPLE, dict(CASE_PEOPLE[0], role="other")]
    con, _ = run(tmp_path, {"case_people": rows})
    q = [r for r in quarantine(con, "case_people") if r[3] == "duplicate_key"]
    assert [r[1] for r in q] == [1, 5]
    assert q[0][2] == "case_id, person_id"
    assert q[0][4] == (
        "case_id and person_id together are not unique: the same pair is on 2 rows "
        "(rows 1 and 5) with different values, so none can be trusted"
    )


def test_live_births_key(tmp_path):
    rows = [*VALID["live_births"], {"region_code": "e12000001", "year": "2016", "live_births": "1"}]
    con, _ = run(tmp_path, {"live_births": rows})
    assert [(r[1], r[3]) for r in quarantine(con, "live_births")] == [
        (1, "duplicate_key"),
        (3, "duplicate_key"),
    ]


def test_many_duplicate_rows_are_summarised(tmp_path):
    rows = [*CASES] + [dict(CASES[1], outcome=str(i)) for i in range(12)]
    con, _ = run(tmp_path, {"cases": rows})
    reasons = {r[4] for r in quarantine(con, "cases") if r[3] == "duplicate_key"}
    assert reasons == {
        "case_id is not unique: the same case_id is on 13 rows (rows 2, 4, 5, 6, 7, 8, 9, 10, "
        "11, 12 and 3 more) with different values, so none can be trusted"
    }


def test_unknown_case(tmp_path):
    rows = [*CASE_PEOPLE, {**CASE_PEOPLE[1], "case_id": "CASEID9999"}]
    con, acc = run(tmp_path, {"case_people": rows})
    assert quarantine(con, "case_people") == [
        (
            "case_people",
            5,
            "case_id",
            "unknown_case",
            "case_id does not match any loaded case (its case may have been quarantined)",
        )
    ]
    assert acc["case_people"].rows_loaded == 4


def test_quarantined_case_makes_its_people_unknown(tmp_path):
    con, _ = run(tmp_path, changed("cases", 3, application_type="nonsense"))
    unknown = [r for r in quarantine(con, "case_people") if r[3] == "unknown_case"]
    assert [r[1] for r in unknown] == [4]


def test_several_problems_on_one_row(tmp_path):
    con, acc = run(
        tmp_path,
        changed(
            "cases", 1, application_type="bad", region_code="", final_hearing_date="2010-01-01"
        ),
    )
    rules = sorted(r[3] for r in quarantine(con, "cases"))
    assert rules == ["final_before_issue", "not_allowed", "required"]
    assert acc["cases"].rows_quarantined == 1
    assert acc["cases"].problems_by_rule == {
        "final_before_issue": 1,
        "not_allowed": 1,
        "required": 1,
    }


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("role", "f" * 64),
        ("sex", "CASEID0001" * 5),
        ("role", "2016-04-20"),
        ("sex", "PERSONID02"),
    ],
)
def test_identifier_like_code_is_not_echoed(tmp_path, column, value):
    con, _ = run(tmp_path, changed("case_people", 2, **{column: value}))
    reasons = [r[4] for r in quarantine(con, "case_people")]
    allowed = {"role": "child, mother, father, other", "sex": "F, M, U"}[column]
    assert reasons == [f"{column} holds a value that is not one of {allowed}"]


def test_earliest_issue_date_from_config(tmp_path):
    import datetime as dt
    from dataclasses import replace

    config = replace(CONFIG, earliest_issue_date=dt.date(2017, 1, 1))
    con, _ = run(tmp_path, {}, config=config)
    rows = [r[1] for r in quarantine(con, "cases") if r[3] == "before_earliest"]
    assert rows == [1]


def test_csv_text_helper_round_trip():
    assert csv_text([{"a": "1", "b": "x,y"}]) == 'a,b\n1,"x,y"\n'
