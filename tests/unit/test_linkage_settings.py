"""Splink settings: comparisons and blocking rules follow the fields that are present."""

import pytest

from recurrence.linkage import settings as s

ALL_MOTHER_COLUMNS = {
    "birth_year_month",
    "bym_index",
    "birth_year",
    "forename_hash",
    "surname_hash",
    "forename_soundex_hash",
    "surname_soundex_hash",
    "postcode_district",
    "postcode_area",
    "la_code",
    "region_code",
}


def _names(settings):
    d = settings.create_settings_dict("duckdb")
    return [c["output_column_name"] for c in d["comparisons"]], d


def test_mother_settings_use_every_field_when_present():
    names, d = _names(s.mother_settings(ALL_MOTHER_COLUMNS))
    assert names == ["forename", "surname", "birth_year_month", "place"]
    assert d["link_type"] == "dedupe_only"
    assert len(d["blocking_rules_to_generate_predictions"]) == len(s.MOTHER_BLOCKING)
    assert d["linker_uid"] == "mothers"


def test_name_exact_levels_are_term_frequency_adjusted():
    _, d = _names(s.mother_settings(ALL_MOTHER_COLUMNS))
    forename = d["comparisons"][0]["comparison_levels"]
    assert any(level.get("tf_adjustment_column") == "forename_hash" for level in forename)


def test_missing_fields_drop_their_comparisons_and_rules():
    available = ALL_MOTHER_COLUMNS - {"birth_year_month", "bym_index", "surname_hash"}
    names, d = _names(s.mother_settings(available))
    assert names == ["forename", "place"]
    for rule in d["blocking_rules_to_generate_predictions"]:
        assert "birth_year_month" not in rule["blocking_rule"]
        assert "surname_hash" not in rule["blocking_rule"]


def test_usable_rules_keep_only_rules_on_available_columns():
    rules = s.usable_rules(s.MOTHER_EM_RULES, {"forename_hash", "surname_hash"})
    assert rules == [s.Rule(("forename_hash", "surname_hash"))]


def test_child_birth_rules_all_include_the_baby_date_of_birth():
    for rule in (*s.CHILD_BIRTH_BLOCKING, *s.CHILD_BIRTH_EM_RULES):
        assert "baby_birth_date" in rule.columns
    assert set(s.CHILD_BIRTH_COLUMNS) >= {c for r in s.CHILD_BIRTH_BLOCKING for c in r.columns}


def test_child_birth_date_of_birth_m_probabilities_are_fixed():
    d = s.child_birth_settings(set(s.CHILD_BIRTH_COLUMNS)).create_settings_dict("duckdb")
    dob = d["comparisons"][0]
    assert dob["output_column_name"] == "baby_birth_date"
    fixed = [lvl for lvl in dob["comparison_levels"] if lvl.get("fix_m_probability")]
    assert [lvl["m_probability"] for lvl in fixed] == pytest.approx(list(s.BABY_DOB_M))


@pytest.mark.parametrize(
    "missing",
    [(), ("mother_postcode_district",), ("mother_birth_year_month", "mother_bym_index")],
    ids=["all fields", "no district", "no year-month"],
)
def test_every_estimated_child_birth_comparison_gets_an_em_session(missing):
    # Splink leaves a comparison out of an EM session when it uses a column of the session's
    # blocking rule, so each comparison needs one session blocked on none of its columns.
    available = set(s.CHILD_BIRTH_COLUMNS) - set(missing)
    settings = s.child_birth_settings(available)
    sessions = s.em_sessions(settings, s.CHILD_BIRTH_EM_RULES, available)
    columns = s.comparison_columns(settings)
    assert "baby_birth_date" not in columns  # its m probabilities are fixed
    assert {"mother_forename", "mother_surname", "mother_place", "baby_sex"} <= set(columns)
    for name, used in columns.items():
        assert used, name
        assert any(not used & set(rule.columns) for rule in sessions), name
    assert all(set(rule.columns) <= available for rule in sessions)
    if not missing:  # only as many sessions as needed
        assert sessions == list(s.CHILD_BIRTH_EM_RULES[:2])


def test_every_estimated_mother_comparison_gets_an_em_session():
    settings = s.mother_settings(ALL_MOTHER_COLUMNS)
    for name, used in s.comparison_columns(settings).items():
        assert any(not used & set(rule.columns) for rule in s.MOTHER_EM_RULES), name


def test_child_birth_em_rules_are_prediction_rules():
    # So narrowing births to those in a blocked pair leaves every EM session's pairs unchanged.
    assert set(s.CHILD_BIRTH_EM_RULES) <= set(s.CHILD_BIRTH_BLOCKING)
