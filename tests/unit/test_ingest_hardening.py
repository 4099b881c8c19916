"""Values and files that cannot be true: refused with one line, quarantined, or counted."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest
from ingest_fixtures import (
    CASE_PEOPLE,
    CASES,
    CONFIG,
    IDENTIFIERS,
    LIVE_BIRTHS,
    csv_text,
    quarantine,
    warehouse,
    write_extract,
)

from recurrence.errors import ExtractError
from recurrence.ingest import ingest_extract, load_raw_table, read, read_extract_info
from recurrence.ingest.extract import check_end_date

CASE_COLUMNS = list(CASES[0])


def _error(tmp_path: Path, folder: Path, config=CONFIG) -> ExtractError:
    con = warehouse(tmp_path)
    with pytest.raises(ExtractError) as caught:
        ingest_extract(con, folder, config)
    message = str(caught.value)
    assert "\n" not in message
    for identifier in IDENTIFIERS:
        assert identifier not in message
    return caught.value


# ---- extract_end_date -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "end", ["2099-12-31", (dt.date.today() + dt.timedelta(days=1)).isoformat()]
)
def test_future_extract_end_date_is_refused(tmp_path, end):
    folder = write_extract(tmp_path / "e", toml=f'extract_end_date = {end}\nsource = "x"\n')
    error = _error(tmp_path, folder)
    assert error.file.endswith("extract.toml")
    assert "extract_end_date is in the future" in error.problem
    assert "Set extract_end_date" in error.fix


def test_end_date_far_after_the_data_is_refused(tmp_path):
    # The fixture's latest issue or final hearing date is 2020-02-29, 1,492 days before its end.
    folder = write_extract(tmp_path / "e")
    config = dataclasses.replace(CONFIG, max_end_date_gap_days=730)
    error = _error(tmp_path, folder, config)
    assert error.file.endswith("extract.toml")
    assert "1492 days after the latest issue or final hearing date" in error.problem
    assert "ingest.max_end_date_gap_days = 730" in error.problem
    # Within the tolerance the same extract loads.
    ok = dataclasses.replace(CONFIG, max_end_date_gap_days=1492)
    ingest_extract(warehouse(tmp_path / "ok"), folder, ok)


def test_end_date_check_allows_an_extract_without_cases(tmp_path):
    folder = write_extract(tmp_path / "e")
    check_end_date(read_extract_info(folder), None, 0)


# ---- values that cannot be true --------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x01", "\t", "\x1b", "\x7f"])
def test_control_characters_are_quarantined(tmp_path, char):
    rows = [dict(CASES[0], case_id=f"CASE{char}ID0001"), *CASES[1:]]
    people = [p for p in CASE_PEOPLE if p["case_id"] != "CASEID0001"]
    folder = write_extract(tmp_path / "e", {"cases": rows, "case_people": people})
    con = warehouse(tmp_path)
    ingest_extract(con, folder, CONFIG)
    q = quarantine(con, "cases")
    assert [(r[1], r[2], r[3]) for r in q] == [(1, "case_id", "control_character")]
    assert "control character" in q[0][4]
    assert con.execute("select count(*) from staging.cases").fetchone()[0] == 2
    nul = con.execute("select count(*) from staging.cases where contains(case_id, chr(0))")
    assert nul.fetchone()[0] == 0


def test_nul_in_a_code_column_is_quarantined(tmp_path):
    rows = [dict(CASES[0], la_code="E0600\x000001"), *CASES[1:]]
    folder = write_extract(tmp_path / "e", {"cases": rows})
    con = warehouse(tmp_path)
    ingest_extract(con, folder, CONFIG)
    rules = {r[3] for r in quarantine(con, "cases")}
    assert "control_character" in rules


@pytest.mark.parametrize("python", [False, True])
def test_very_long_unquoted_field_gets_the_right_reason(tmp_path, python):
    text = csv_text(CASES, CASE_COLUMNS).replace("CASEID0002", "CASEID0002" + "x" * 10_000_000)
    folder = write_extract(tmp_path / "e", {"cases": text})
    con = warehouse(tmp_path)
    info = read_extract_info(folder)
    load_raw_table(con, info, "cases", force_python_reader=python)
    problems = con.execute("select source_problem from raw.cases order by source_row").fetchall()
    assert problems[0][0] is None
    assert problems[2][0] is None
    assert "longer than" in problems[1][0]
    assert "quoted field" not in problems[1][0]


@pytest.mark.parametrize(
    ("year", "count", "rule"),
    [
        ("99999999999", "28000", "impossible_year"),
        ("1899", "28000", "impossible_year"),
        ("2025", "28000", "impossible_year"),
        ("2016", "0", "zero_count"),
        ("2016", "-5", "negative"),
    ],
)
def test_impossible_live_births_are_quarantined(tmp_path, year, count, rule):
    rows = [dict(LIVE_BIRTHS[0], year=year, live_births=count), LIVE_BIRTHS[1]]
    folder = write_extract(tmp_path / "e", {"live_births": rows})
    con = warehouse(tmp_path)
    accounting = {a.table_name: a for a in ingest_extract(con, folder, CONFIG)}
    assert accounting["live_births"].rows_quarantined == 1
    assert accounting["live_births"].rows_loaded == 1
    assert rule in {r[3] for r in quarantine(con, "live_births")}


def test_live_births_in_the_end_year_are_kept(tmp_path):
    rows = [dict(LIVE_BIRTHS[0], year="2024"), dict(LIVE_BIRTHS[1], year="1900")]
    folder = write_extract(tmp_path / "e", {"live_births": rows})
    con = warehouse(tmp_path)
    ingest_extract(con, folder, CONFIG)
    assert quarantine(con, "live_births") == []


# ---- files that are not files ----------------------------------------------------------------


def test_directory_in_place_of_a_file(tmp_path):
    folder = write_extract(tmp_path / "e", {"births": None})
    (folder / "births.csv").mkdir()
    error = _error(tmp_path, folder)
    assert error.file.endswith("births.csv")
    assert "is a folder" in error.problem
    assert "missing" not in error.problem


@pytest.mark.parametrize("target", ["loop", "nothing"])
def test_symlink_that_cannot_be_followed(tmp_path, target):
    folder = write_extract(tmp_path / "e", {"births": None})
    link = folder / "births.csv"
    if target == "loop":
        link.symlink_to(link)
    else:
        link.symlink_to(folder / "no_such_file.csv")
    error = _error(tmp_path, folder)
    assert error.file.endswith("births.csv")
    assert "symbolic link that cannot be followed" in error.problem


def test_symlink_to_a_file_is_read(tmp_path):
    folder = write_extract(tmp_path / "e")
    real = folder / "births.csv"
    moved = tmp_path / "births_elsewhere.csv"
    real.rename(moved)
    real.symlink_to(moved)
    ingest_extract(warehouse(tmp_path), folder, CONFIG)


def test_fifo_in_place_of_a_file_is_refused_without_blocking(tmp_path):
    folder = write_extract(tmp_path / "e", {"births": None})
    os.mkfifo(folder / "births.csv")
    error = _error(tmp_path, folder)
    assert "not a regular file" in error.problem


def _deny(monkeypatch, name: str) -> None:
    """Make opening ``name`` fail as it does for a user without read permission.

    Tests run as root, for whom chmod 000 does not stop a read, so the open itself is made to
    fail; the file mode is set too, so that a non-root run exercises the real refusal.
    """
    real_open = Path.open

    def fake_open(self, *args, **kwargs):
        if self.name == name:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", fake_open)


@pytest.mark.parametrize("checksums", [True, False])
def test_unreadable_file(tmp_path, monkeypatch, checksums):
    folder = write_extract(tmp_path / "e")
    (folder / "cases.csv").chmod(0)
    _deny(monkeypatch, "cases.csv")
    con = warehouse(tmp_path)

    def read_cases() -> None:
        load_raw_table(con, read_extract_info(folder, checksums=checksums), "cases")

    with pytest.raises(ExtractError) as caught:
        read_cases()
    error = caught.value
    assert error.file.endswith("cases.csv")
    assert "permission denied" in error.problem
    assert "read permission" in error.fix


def test_any_reader_failure_names_the_file(tmp_path, monkeypatch):
    folder = write_extract(tmp_path / "e")

    def broken(*args, **kwargs):
        raise duckdb.IOException("IO Error: something odd")

    monkeypatch.setattr(read, "_duckdb_row_count_if_clean", broken)
    error = _error(tmp_path, folder)
    assert error.file.endswith("cases.csv")
    assert "cannot be read (IOException)" in error.problem


# ---- plausibility: counted, never dropped ----------------------------------------------------


def _person(case_id, person_id, role, **extra):
    row = dict.fromkeys(CASE_PEOPLE[0], "")
    row.update(case_id=case_id, person_id=person_id, role=role, **extra)
    return row


def test_implausible_values_are_counted_and_kept(tmp_path):
    cases = [
        dict(
            CASES[0],
            case_id=f"MANY{i:02d}",
            issue_date=f"20{10 + i % 10}-05-0{1 + i // 10}",
            final_hearing_date="",
            outcome="",
        )
        for i in range(16)
    ]
    cases += [dict(CASES[0], case_id="OLD", issue_date="1997-01-01", final_hearing_date="")]
    people = [
        _person(c["case_id"], "PERSONMANY", "mother", birth_year_month="1980-01") for c in cases
    ]
    people += [
        # Mother aged 9 years 11 months at the birth: under 12.
        _person("MANY06", "YOUNGMUM", "mother", birth_year_month="2006-06"),
        _person("MANY06", "CHILD1", "child", birth_date="2016-05-01"),
        # Mother aged 66 at the birth.
        _person("MANY07", "OLDMUM", "mother", birth_year_month="1950-01"),
        _person("MANY07", "CHILD2", "child", birth_date="2016-06-01"),
        # Born after the issue date (2012-05-01) of its set.
        _person("MANY02", "CHILD3", "child", birth_date="2012-06-01"),
    ]
    births = [
        {
            "birth_id": "B1",
            "baby_birth_date": "2016-05-01",
            "region_code": "E12000001",
            "mother_birth_year_month": "2005-01",
        },
        {
            "birth_id": "B2",
            "baby_birth_date": "1990-05-01",
            "region_code": "E12000001",
            "mother_birth_year_month": "1928-01",
        },
        {
            "birth_id": "B3",
            "baby_birth_date": "2016-05-01",
            "region_code": "E12000001",
            "mother_birth_year_month": "1976-05",
        },
    ]
    folder = write_extract(
        tmp_path / "e", {"cases": cases, "case_people": people, "births": births}
    )
    con = warehouse(tmp_path)
    accounting = ingest_extract(con, folder, CONFIG)
    assert all(a.rows_quarantined == 0 for a in accounting), accounting
    got = {
        (r, t, c): n
        for r, t, c, n in con.execute(
            "select rule, table_name, column_name, rows_flagged from audit.plausibility"
        ).fetchall()
    }
    assert got == {
        ("mother_age_under_min", "case_people", "birth_year_month"): 1,
        ("mother_age_over_max", "case_people", "birth_year_month"): 1,
        ("mother_age_under_min", "births", "mother_birth_year_month"): 1,
        ("mother_age_over_max", "births", "mother_birth_year_month"): 1,
        ("child_born_after_issue", "case_people", "birth_date"): 1,
        ("long_before_end", "cases", "issue_date"): 1,
        ("long_before_end", "cases", "final_hearing_date"): 0,
        ("long_before_end", "births", "baby_birth_date"): 1,
        ("mother_in_many_cases", "case_people", "person_id"): 1,
    }
    text = " ".join(
        str(v) for row in con.execute("select * from audit.plausibility").fetchall() for v in row
    )
    for identifier in ("PERSONMANY", "YOUNGMUM", "OLDMUM", "CHILD", "MANY0", "B1"):
        assert identifier not in text
    # A tighter limit flags more; nothing is ever dropped.
    strict = dataclasses.replace(
        CONFIG, plausible_cases_per_mother=100, plausible_mother_age_max=35
    )
    ingest_extract(con, folder, strict)
    got = dict(
        con.execute(
            "select rule || ':' || table_name, rows_flagged from audit.plausibility "
            "where rule in ('mother_in_many_cases', 'mother_age_over_max')"
        ).fetchall()
    )
    assert got == {
        "mother_in_many_cases:case_people": 0,
        "mother_age_over_max:case_people": 2,
        "mother_age_over_max:births": 2,
    }
    assert con.execute("select count(*) from staging.case_people").fetchone()[0] == len(people)
