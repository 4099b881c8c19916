"""The mother comparisons put hand-made pairs in the level meant for their error."""

from __future__ import annotations

import duckdb
import pytest

from recurrence.linkage import settings as s

COLUMNS = {
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


def _level(comparison: str, left: dict, right: dict) -> str:
    """The label of the first level whose condition the pair meets (Splink's rule)."""
    settings = s.mother_settings(COLUMNS).create_settings_dict("duckdb")
    levels = next(
        c["comparison_levels"]
        for c in settings["comparisons"]
        if c["output_column_name"] == comparison
    )
    cases = " ".join(
        f"else '{lvl.get('label_for_charts', str(i))}'"
        if lvl["sql_condition"] == "ELSE"
        else f"when {lvl['sql_condition']} then '{lvl.get('label_for_charts', str(i))}'"
        for i, lvl in enumerate(levels)
    )
    cols = {f"{k}_l": v for k, v in left.items()} | {f"{k}_r": v for k, v in right.items()}
    select = ", ".join(f"$v{i} as {k}" for i, k in enumerate(cols))
    con = duckdb.connect()
    row = con.execute(
        f"select case {cases} end from (select {select})",
        {f"v{i}": v for i, v in enumerate(cols.values())},
    ).fetchone()
    return row[0]


def _name(f: str, s_: str, fs: str, ss: str) -> dict:
    return {
        "forename_hash": f,
        "surname_hash": s_,
        "forename_soundex_hash": fs,
        "surname_soundex_hash": ss,
    }


ANN_LEE = _name("ann", "lee", "A500", "L000")


@pytest.mark.parametrize(
    ("right", "label"),
    [
        (ANN_LEE, "Exact match on forename_hash"),
        (_name("lee", "ann", "L000", "A500"), "forename and surname swapped"),
        # a typo keeping the Soundex code
        (_name("anne", "lee", "A500", "L000"), "same Soundex"),
        # swapped, and a typo in one name that keeps its code
        (_name("leigh", "ann", "L000", "A500"), "forename and surname swapped, same Soundex"),
        (_name("sue", "lee", "S000", "L000"), "All other comparisons"),
    ],
)
def test_forename_levels(right: dict, label: str) -> None:
    assert _level("forename", ANN_LEE, right).startswith(label)


def test_missing_forename_is_the_null_level() -> None:
    right = _name(None, "lee", None, "L000")
    assert "NULL" in _level("forename", ANN_LEE, right)


def _bym(year: int, month: int) -> int:
    return year * 12 + month - 1


@pytest.mark.parametrize(
    ("right", "label"),
    [
        (_bym(1990, 3), "same year-month"),
        (_bym(1990, 4), "within one month"),
        (_bym(1990, 7), "within a year"),  # day and month transposed (3 July -> 7 March)
        (_bym(1991, 3), "within a year"),  # year one out
        (_bym(1996, 3), "same month, year within ten"),  # one year digit wrong: 1990 -> 1996
        (_bym(1980, 3), "same month, year within ten"),  # 1990 -> 1980
        (_bym(1960, 3), "All other comparisons"),
        (_bym(1995, 8), "All other comparisons"),
    ],
)
def test_year_month_levels(right: int, label: str) -> None:
    got = _level("birth_year_month", {"bym_index": _bym(1990, 3)}, {"bym_index": right})
    assert got.startswith(label), got


def test_soundex_level_is_term_frequency_adjusted() -> None:
    settings = s.mother_settings(COLUMNS).create_settings_dict("duckdb")
    forename = settings["comparisons"][0]["comparison_levels"]
    sdx = next(lvl for lvl in forename if lvl.get("label_for_charts") == "same Soundex")
    assert sdx["tf_adjustment_column"] == "forename_soundex_hash"


def test_child_birth_model_keeps_its_plain_levels() -> None:
    cols = set(s.CHILD_BIRTH_COLUMNS) - {"record_id"}
    settings = s.child_birth_settings(cols).create_settings_dict("duckdb")
    labels = [
        lvl.get("label_for_charts")
        for c in settings["comparisons"]
        for lvl in c["comparison_levels"]
    ]
    assert "same month, year within ten" not in labels
    assert "forename and surname swapped, same Soundex" not in labels
