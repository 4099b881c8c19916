"""Mother linkage on tiny hand-made tables: the baseline, stable keys, and bad input."""

import datetime as dt

import pytest

from recurrence.config import load_config
from recurrence.linkage import (
    link_children_to_births,
    link_mothers,
    link_mothers_to_births,
    summarise_linkage,
)
from recurrence.linkage.audit import (
    count_children_with_several_births,
    count_mother_rows_without_one_key,
    count_oversized_mothers,
)
from recurrence.warehouse import connect

PEOPLE_COLUMNS = (
    "case_id varchar, person_id varchar, role varchar, birth_date date, "
    "birth_year_month varchar, sex varchar, forename_hash varchar, surname_hash varchar, "
    "forename_soundex_hash varchar, surname_soundex_hash varchar, postcode_district varchar, "
    "source_row bigint"
)
BIRTH_COLUMNS = (
    "birth_id varchar, baby_birth_date date, region_code varchar, la_code varchar, "
    "mother_person_id varchar, mother_birth_year_month varchar, mother_forename_hash varchar, "
    "mother_surname_hash varchar, mother_forename_soundex_hash varchar, "
    "mother_surname_soundex_hash varchar, mother_postcode_district varchar, baby_sex varchar, "
    "live_birth boolean, source_row bigint"
)


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    con.execute(
        "create table staging.cases (case_id varchar, issue_date date, application_type varchar, "
        "region_code varchar, la_code varchar, final_hearing_date date, outcome varchar, "
        "source_row bigint)"
    )
    con.execute(f"create table staging.case_people ({PEOPLE_COLUMNS})")
    con.execute(f"create table staging.births ({BIRTH_COLUMNS})")
    yield con
    con.close()


def _case(con, case_id, issue, *people):
    con.execute(
        "insert into staging.cases values (?, ?, 's31_care', 'E12000001', 'E06000001', null, "
        "null, 0)",
        [case_id, issue],
    )
    for person_id, role, fields in people:
        con.execute(
            "insert into staging.case_people values (?, ?, ?, ?, ?, 'F', ?, ?, ?, ?, ?, 0)",
            [
                case_id,
                person_id,
                role,
                fields.get("birth_date"),
                fields.get("bym"),
                fields.get("fn"),
                fields.get("sn"),
                fields.get("fn"),
                fields.get("sn"),
                fields.get("pc"),
            ],
        )


def _mother(**fields):
    return {"bym": "1990-01", "fn": "f1", "sn": "s1", "pc": "AB1", **fields}


def _keys(con):
    return dict(
        ((case_id, person_id), key)
        for case_id, person_id, key in con.sql(
            "select case_id, person_id, mother_key from linkage.mother_keys"
        ).fetchall()
    )


def _person_id_config(**extra):
    return load_config(overrides=['linkage.method="person_id"', *extra]).linkage


def test_person_id_method_joins_only_records_sharing_a_person_id(con):
    _case(con, "c1", dt.date(2010, 1, 1), ("p1", "mother", _mother()))
    _case(con, "c2", dt.date(2012, 1, 1), ("p1", "mother", _mother()))
    _case(con, "c3", dt.date(2015, 1, 1), ("p2", "mother", _mother()))
    result = link_mothers(con, _person_id_config())
    keys = _keys(con)
    assert keys[("c1", "p1")] == keys[("c2", "p1")] != keys[("c3", "p2")]
    assert result.mother_keys == result.person_ids == 2
    assert result.model_trained is False
    # no model, nothing to choose a threshold from: the configured one, and nothing split
    assert (result.threshold_rule, result.edges_split) == ("fixed", 0)
    assert result.threshold == load_config().linkage.match_threshold
    assert con.sql("select link_rule from linkage.mother_keys order by case_id").fetchall() == [
        ("person_id",),
        ("person_id",),
        ("alone",),
    ]
    assert count_mother_rows_without_one_key(con) == 0


def test_mother_key_depends_only_on_the_smallest_person_id(con):
    _case(con, "c1", dt.date(2010, 1, 1), ("p9", "mother", _mother()))
    link_mothers(con, _person_id_config())
    first = _keys(con)[("c1", "p9")]
    assert first.startswith("mk_")
    con.execute("delete from staging.case_people")
    _case(con, "c0", dt.date(2011, 1, 1), ("p9", "mother", _mother()))
    link_mothers(con, _person_id_config())
    assert set(_keys(con).values()) == {first}


def test_shared_child_joins_mothers_with_different_person_ids(con):
    child = ("k1", "child", {"birth_date": dt.date(2009, 5, 1)})
    _case(con, "c1", dt.date(2010, 1, 1), ("p1", "mother", _mother()), child)
    _case(con, "c2", dt.date(2016, 1, 1), ("p2", "mother", _mother(sn="s2")), child)
    link_mothers(con, load_config().linkage, evidence=("person_id", "shared_child"))
    keys = _keys(con)
    assert keys[("c1", "p1")] == keys[("c2", "p2")]
    rules = {r[0] for r in con.sql("select link_rule from linkage.mother_keys").fetchall()}
    assert rules == {"shared_child"}


def test_no_mothers_gives_empty_outputs_and_a_clear_message(con):
    _case(con, "c1", dt.date(2010, 1, 1), ("k1", "child", {"birth_date": dt.date(2009, 5, 1)}))
    config = load_config().linkage
    child = link_children_to_births(con, config)
    assert child.children == 1
    assert child.children_linked == 0
    assert "no live births" in child.messages[0]
    result = link_mothers(con, config)
    assert result.records == 0
    assert result.mother_keys == 0
    assert "No mother rows" in result.messages[0]
    assert link_mothers_to_births(con) == 0
    assert summarise_linkage(con) > 0
    assert count_mother_rows_without_one_key(con) == 0


def test_mothers_without_names_or_date_of_birth_fall_back_to_person_ids(con):
    blank = {"bym": None, "fn": None, "sn": None, "pc": None}
    _case(con, "c1", dt.date(2010, 1, 1), ("p1", "mother", blank))
    _case(con, "c2", dt.date(2012, 1, 1), ("p1", "mother", blank))
    _case(con, "c3", dt.date(2015, 1, 1), ("p2", "mother", blank))
    link_children_to_births(con, load_config().linkage)
    result = link_mothers(con, load_config().linkage)
    assert result.mother_keys == 2
    assert "splink" not in result.evidence
    assert any("person_id only" in m for m in result.messages)
    assert any("postcode_district" in m for m in result.messages)
    link_mothers_to_births(con)
    summarise_linkage(con)
    missing = con.sql(
        "select numerator, denominator from linkage.summary "
        "where measure = 'missing_forename_hash' and breakdown = 'mother_records'"
    ).fetchone()
    assert missing == (3, 3)


def test_audit_counts_catch_broken_outputs(con):
    _case(con, "c1", dt.date(2010, 1, 1), ("p1", "mother", _mother()))
    _case(con, "c2", dt.date(2012, 1, 1), ("p2", "mother", _mother()))
    link_mothers(con, _person_id_config())
    assert count_oversized_mothers(con, 1) == 0
    con.execute("update linkage.mother_keys set mother_key = 'everyone'")
    assert count_oversized_mothers(con, 1) == 1
    con.execute("insert into linkage.mother_keys select * from linkage.mother_keys limit 1")
    assert count_mother_rows_without_one_key(con) == 1
    con.execute(
        "create or replace table linkage.child_births as "
        "select * from (values ('c1', 'k1', 'b1', 1.0), ('c2', 'k1', 'b2', 1.0)) "
        "as t (case_id, person_id, birth_id, match_probability)"
    )
    assert count_children_with_several_births(con) == 1
