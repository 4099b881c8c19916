"""The cohort SQL on hand-built warehouses: index, event definitions, censoring, covariates."""

import datetime as dt

import duckdb
import pytest

from recurrence.config import load_config
from recurrence.survival.cohort import build_cohort, person_id_cohort, read_cohort
from recurrence.survival.stage import count_bad_follow_up, count_mothers_not_in_one_row

D = dt.date
END = D(2024, 3, 31)

# case_id, issue_date, application_type, region, final_hearing_date
CASES = [
    ("w0", D(2008, 4, 2), "s31_care", "E1", D(2008, 12, 1)),  # opens the data window
    # Mother A (two person_ids linked into one mother_key): index 2010, a same-day second case
    # (not a return), an EPO (not care proceedings), a return before the index final hearing
    # about the same child under a new id (not a new child), then a new child in 2013.
    ("a1", D(2010, 1, 10), "s31_care", "E2", D(2010, 9, 1)),
    ("a2", D(2010, 1, 10), "s31_supervision", "E2", D(2010, 9, 1)),
    ("a3", D(2010, 2, 1), "epo", "E2", None),
    ("a4", D(2010, 5, 1), "s31_care", "E2", D(2011, 1, 1)),
    ("a5", D(2013, 6, 1), "s31_care", "E3", D(2014, 1, 1)),
    # Mother B: one set, never returns (censored at the extract end).
    ("b1", D(2015, 3, 1), "s31_care", "E4", D(2016, 1, 1)),
    # Mother C: index in the look-back year (excluded from the cohort, still one row).
    ("c1", D(2008, 10, 1), "s31_care", "E5", D(2009, 6, 1)),
    ("c2", D(2012, 10, 1), "s31_care", "E5", D(2013, 6, 1)),
    # Mother D: only an EPO (never in care proceedings: no row).
    ("d1", D(2016, 1, 1), "epo", "E6", None),
]
# case_id, person_id, role, birth_date, birth_year_month
PEOPLE = [
    ("w0", "pw", "mother", None, "1980-01"),
    ("w0", "cw", "child", D(2007, 1, 1), None),
    ("a1", "pa", "mother", None, "1991-03"),
    ("a1", "ka1", "child", D(2009, 12, 30), None),
    ("a2", "pa", "mother", None, "1991-03"),
    ("a2", "ka2", "child", D(2008, 5, 5), None),
    ("a3", "pa", "mother", None, "1991-03"),
    ("a3", "ka1", "child", D(2009, 12, 30), None),
    ("a4", "pa2", "mother", None, None),
    ("a4", "ka1_new_id", "child", D(2009, 12, 30), None),
    ("a5", "pa2", "mother", None, None),
    ("a5", "ka2", "child", D(2008, 5, 5), None),
    ("a5", "ka3", "child", D(2013, 5, 28), None),
    ("b1", "pb", "mother", None, "1976-07"),
    ("b1", "kb1", "child", D(2005, 1, 1), None),
    ("b1", "kb2", "child", D(2006, 1, 1), None),
    ("b1", "kb3", "child", D(2007, 1, 1), None),
    ("c1", "pc", "mother", None, "1990-01"),
    ("c1", "kc1", "child", D(2008, 9, 1), None),
    ("c2", "pc", "mother", None, "1990-01"),
    ("c2", "kc2", "child", D(2012, 9, 25), None),
    ("d1", "pd", "mother", None, "1995-01"),
]
KEYS = {"pw": "mw", "pa": "mA", "pa2": "mA", "pb": "mB", "pc": "mC", "pd": "mD"}


@pytest.fixture
def con():
    c = duckdb.connect()
    for schema in ("staging", "linkage", "audit"):
        c.execute(f"create schema {schema}")
    c.execute("create table audit.extract_info (extract_end_date date)")
    c.execute("insert into audit.extract_info values (?)", [END])
    c.execute(
        "create table staging.cases (case_id varchar, issue_date date, application_type varchar,"
        " region_code varchar, final_hearing_date date)"
    )
    c.executemany("insert into staging.cases values (?, ?, ?, ?, ?)", CASES)
    c.execute(
        "create table staging.case_people (case_id varchar, person_id varchar, role varchar,"
        " birth_date date, birth_year_month varchar)"
    )
    c.executemany("insert into staging.case_people values (?, ?, ?, ?, ?)", PEOPLE)
    c.execute(
        "create table linkage.mother_keys (case_id varchar, person_id varchar, mother_key varchar)"
    )
    c.executemany(
        "insert into linkage.mother_keys values (?, ?, ?)",
        [(case, person, KEYS[person]) for case, person, role, *_ in PEOPLE if role == "mother"],
    )
    yield c
    c.close()


def _rows(con, **kw):
    build_cohort(con, load_config(), **kw)
    frame = read_cohort(con, in_cohort_only=False)
    return {r["mother_key"]: r for r in frame.iter_rows(named=True)}


def test_new_child_event_skips_same_day_sets_epos_and_known_children(con):
    a = _rows(con)["mA"]
    assert a["index_case_id"] == "a1"
    assert a["index_issue_date"] == D(2010, 1, 10)
    assert a["event"] is True
    assert a["event_case_id"] == "a5"
    assert a["time_days"] == (D(2013, 6, 1) - D(2010, 1, 10)).days
    assert a["time_years"] == pytest.approx(a["time_days"] / 365.25)
    assert a["event_before_final_hearing"] is False
    # Index set = both same-day cases: two children, youngest 11 days old -> newborn.
    assert a["n_children_index"] == 2
    assert a["children_in_index_set"] == "2"
    assert a["youngest_child_age_days"] == 11
    assert a["youngest_child_age"] == "newborn"
    # Born March 1991 (taken as the 15th), index January 2010: 18 -> under 20.
    assert a["age_at_index_years"] == 18
    assert a["age_group"] == "under 20"
    assert a["region_code"] == "E2"
    assert a["index_period"] == "2008-2011"
    assert a["in_cohort"] is True


def test_any_event_counts_a_return_before_the_final_hearing(con):
    a = _rows(con, event="any")["mA"]
    assert a["event_case_id"] == "a4"
    assert a["time_days"] == (D(2010, 5, 1) - D(2010, 1, 10)).days
    assert a["event_before_final_hearing"] is True


def test_censoring_covariates_and_lookback(con):
    rows = _rows(con)
    assert set(rows) == {"mw", "mA", "mB", "mC"}  # mD has no care proceedings
    b = rows["mB"]
    assert b["event"] is False
    assert b["event_case_id"] is None
    assert b["censor_date"] == END
    assert b["time_days"] == (END - D(2015, 3, 1)).days
    assert b["age_at_index_years"] == 38
    assert b["age_group"] == "35+"
    assert b["youngest_child_age"] == "older"
    assert b["children_in_index_set"] == "3+"
    assert b["index_period"] == "2012-2015"
    c = rows["mC"]
    assert c["in_cohort"] is False  # index within a year of the first issue date (2008-04-02)
    assert c["event"] is True
    assert rows["mw"]["in_cohort"] is False
    assert read_cohort(con).height == 2


def test_lookback_zero_keeps_everyone(con):
    build_cohort(con, load_config(overrides=["recurrence.lookback_years=0"]))
    assert read_cohort(con).height == 4


def test_person_id_only_splits_the_linked_mother_and_leaves_the_table(con):
    config = load_config()
    build_cohort(con, config)
    split = person_id_cohort(con, config)
    by_id = {r["mother_key"]: r for r in split.iter_rows(named=True)}
    assert by_id["pa"]["event"] is False  # her return was under a second person_id
    assert by_id["pa2"]["in_cohort"] is True
    assert by_id["pa2"]["event"] is True  # a5's new child, relative to a4 only
    still = con.sql("select mother_key from analysis.recurrence_cohort order by 1").fetchall()
    assert [k for (k,) in still] == ["mA", "mB", "mC", "mw"]


def test_audit_counts_are_zero_on_a_sound_cohort_and_catch_faults(con):
    config = load_config()
    build_cohort(con, config)
    types = config.ingest.care_application_types
    assert count_mothers_not_in_one_row(con, types) == {
        "missing": 0,
        "duplicated": 0,
        "unexpected": 0,
    }
    assert count_bad_follow_up(con) == {"negative": 0, "past_extract_end": 0, "inconsistent": 0}
    con.execute(
        "insert into analysis.recurrence_cohort by name "
        "select * replace (-1 as time_days) from analysis.recurrence_cohort where mother_key = 'mB'"
    )
    assert count_mothers_not_in_one_row(con, types)["duplicated"] == 1
    assert count_bad_follow_up(con)["negative"] == 1


def test_unknown_event_is_rejected(con):
    with pytest.raises(ValueError, match="event"):
        build_cohort(con, load_config(), event="sometimes")


# Raw death dates on mother rows (case_id, person_id) -> raw value; other rows have none.
DEATHS = {
    ("w0", "pw"): "2007-06-01",  # before her index set: implausible, ignored (counted)
    ("a4", "pa2"): "2012-01-01",  # mA: after index, before her new-child return in 2013
    ("a5", "pa2"): "2012-02-01",  # a later (inconsistent) date: the earliest is used
    ("a1", "pa"): "  ",  # blank: missing
    ("b1", "pb"): "2099-01-01",  # after the extract end: not used (counted)
    ("c1", "pc"): "not a date",  # invalid
    ("c2", "pc"): "2012-02-30",  # no such day: invalid
    ("d1", "pd"): "2020-1-5",  # not ISO yyyy-mm-dd: invalid
}


def _add_raw_deaths(con):
    con.execute(
        "create or replace table staging.case_people as "
        "select row_number() over () as source_row, * from staging.case_people"
    )
    con.execute("create schema raw")
    con.execute(
        "create table raw.case_people as select cast(source_row as bigint) as source_row, "
        "case_id, person_id, role, cast(null as varchar) as mother_death_date "
        "from staging.case_people"
    )
    for (case, person), value in DEATHS.items():
        con.execute(
            "update raw.case_people set mother_death_date = ? "
            "where case_id = ? and person_id = ? and role = 'mother'",
            [value, case, person],
        )


def test_without_a_death_column_there_is_no_competing_event(con):
    summary = build_cohort(con, load_config())
    assert summary.death_column is False
    assert summary.death_rows == {}
    frame = read_cohort(con, in_cohort_only=False)
    assert not frame["competing_event"].any()
    assert frame["mother_death_date"].null_count() == frame.height


def test_death_before_return_is_a_competing_event_and_bad_dates_are_counted(con):
    _add_raw_deaths(con)
    summary = build_cohort(con, load_config())
    assert summary.death_column is True
    assert summary.death_rows == {"valid": 3, "missing": 3, "invalid": 3, "after_extract_end": 1}
    assert summary.deaths_before_index == 1
    assert summary.competing_events == 1
    assert summary.returns_after_death == 1
    rows = {
        r["mother_key"]: r for r in read_cohort(con, in_cohort_only=False).iter_rows(named=True)
    }
    a = rows["mA"]
    assert a["mother_death_date"] == D(2012, 1, 1)
    assert a["competing_event"] is True
    assert a["event"] is False
    assert a["event_case_id"] is None
    assert a["return_after_death"] is True
    assert a["time_days"] == (D(2012, 1, 1) - D(2010, 1, 10)).days
    w = rows["mw"]  # death before index: ignored
    assert w["mother_death_date"] == D(2007, 6, 1)
    assert w["competing_event"] is False
    b = rows["mB"]  # death after the extract end: not used, censored at the end
    assert b["mother_death_date"] is None
    assert b["competing_event"] is False
    assert b["time_days"] == (END - D(2015, 3, 1)).days
    assert rows["mC"]["mother_death_date"] is None  # invalid dates
    assert count_bad_follow_up(con) == {"negative": 0, "past_extract_end": 0, "inconsistent": 0}
    assert count_mothers_not_in_one_row(con, load_config().ingest.care_application_types) == {
        "missing": 0,
        "duplicated": 0,
        "unexpected": 0,
    }


def test_a_return_before_the_death_is_the_event(con):
    _add_raw_deaths(con)
    summary = build_cohort(con, load_config(), event="any")  # mA returns 2010-05-01 (a4)
    assert summary.competing_events == 0
    a = {r["mother_key"]: r for r in read_cohort(con).iter_rows(named=True)}["mA"]
    assert a["event"] is True
    assert a["competing_event"] is False
    assert a["event_case_id"] == "a4"


def test_audit_catches_a_competing_event_with_the_wrong_time(con):
    _add_raw_deaths(con)
    build_cohort(con, load_config())
    con.execute(
        "update analysis.recurrence_cohort set time_days = time_days + 1 where competing_event"
    )
    assert count_bad_follow_up(con)["inconsistent"] == 1


def test_a_mother_indexed_on_the_extract_end_date_is_excluded_and_counted(con):
    # Mother E's only set is issued on the extract end date: she cannot be followed for a day.
    con.execute("insert into staging.cases values ('e1', ?, 's31_care', 'E7', null)", [END])
    con.execute("insert into staging.case_people values ('e1', 'pe', 'mother', null, '1992-02')")
    con.execute("insert into staging.case_people values ('e1', 'ke', 'child', ?, null)", [END])
    con.execute("insert into linkage.mother_keys values ('e1', 'pe', 'mE')")
    summary = build_cohort(con, load_config())
    frame = read_cohort(con, in_cohort_only=False)
    rows = {r["mother_key"]: r for r in frame.iter_rows(named=True)}
    e = rows["mE"]
    assert (e["time_days"], e["zero_follow_up"], e["after_lookback"]) == (0, True, True)
    assert e["in_cohort"] is False
    assert "mE" not in set(read_cohort(con)["mother_key"])
    assert summary.zero_follow_up == 1
    # Nobody is lost without a count: every row is in the cohort or excluded for one reason.
    assert summary.excluded_by_lookback == sum(not r["after_lookback"] for r in rows.values())
    assert summary.mothers == summary.in_cohort + summary.zero_follow_up + (
        summary.excluded_by_lookback
    )
    assert all(r["time_days"] > 0 for r in rows.values() if r["in_cohort"])
    # Still one row per mother, and the follow-up audit finds nothing wrong.
    assert count_mothers_not_in_one_row(con, ("s31_care", "s31_supervision"))["missing"] == 0
    assert count_bad_follow_up(con) == {"negative": 0, "past_extract_end": 0, "inconsistent": 0}
