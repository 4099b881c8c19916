"""The check factories: each check passes on a sound table and fails on a broken one."""

import polars as pl
import pytest
from ingest_fixtures import loaded_warehouse

from recurrence import catalog
from recurrence.checks import (
    CheckInputs,
    Suppression,
    checks_for,
    keys_unique,
    references_exist,
    required_fields_present,
    rows_accounted_for,
    suppression_checks,
)
from recurrence.config import load_config

CASES = catalog.dataset("staging.cases")
CASE_PEOPLE = catalog.dataset("staging.case_people")


@pytest.fixture
def inputs(tmp_path):
    """The warehouse of ``loaded_warehouse``, its configuration and a run id."""
    con = loaded_warehouse(tmp_path / "wh.duckdb")
    config = load_config(None, [f"paths.reports={tmp_path / 'reports'}"])
    yield CheckInputs(con, config, "run-1")
    con.close()


def _passes(check, inputs) -> bool:
    return check.measure(inputs).passed


def test_row_accounting_fails_when_a_row_is_lost(inputs):
    check = rows_accounted_for(CASES)
    assert _passes(check, inputs)
    inputs.con.execute("delete from staging.cases where source_row = 2")
    found = check.measure(inputs)
    assert not found.passed
    assert found.metadata == {"rows_read": 5, "rows_loaded": 3, "rows_quarantined": 1}


def test_key_uniqueness_fails_on_a_repeated_key(inputs):
    check = keys_unique(CASES)
    assert check.description == "No two loaded rows share the key (case_id)."
    assert _passes(check, inputs)
    inputs.con.execute("insert into staging.cases select * from staging.cases limit 1")
    assert check.measure(inputs).metadata == {"rows_sharing_a_key": 2}
    assert not _passes(check, inputs)


def test_required_fields_fail_on_a_null(inputs):
    check = required_fields_present(CASES)
    assert _passes(check, inputs)
    inputs.con.execute("update staging.cases set issue_date = null where case_id = '3'")
    found = check.measure(inputs)
    assert not found.passed
    assert found.metadata == {"nulls_by_column": {"issue_date": 1}}


def test_foreign_key_fails_on_an_orphan_row(inputs):
    (to_cases,) = CASE_PEOPLE.foreign_keys
    check = references_exist(CASE_PEOPLE, to_cases)
    assert check.name == "case_people_cases_exist"
    assert check.description == "Every loaded case_people row belongs to a loaded case."
    assert _passes(check, inputs)
    inputs.con.execute("insert into staging.case_people values ('99', 'q', 'child')")
    assert check.measure(inputs).metadata == {"orphan_rows": 1}


def test_a_key_declared_on_any_dataset_is_checked(inputs):
    toy = catalog.Dataset("analysis.toy", "rates", "a toy table", key=("id", "year"))
    inputs.con.execute("create table analysis.toy as select 1 as id, 2020 as year")
    (check,) = checks_for(toy)
    assert check.name == "keys_unique"
    assert _passes(check, inputs)
    inputs.con.execute("insert into analysis.toy values (1, 2020)")
    assert not _passes(check, inputs)


def test_factories_refuse_a_dataset_without_the_declaration():
    with pytest.raises(ValueError, match="not a staging table"):
        rows_accounted_for(catalog.dataset(catalog.COHORT))
    with pytest.raises(ValueError, match="declares no key"):
        keys_unique(catalog.dataset(catalog.COHORT))


def _toy_rules(table: str) -> Suppression:
    # A toy released table: `n` is a count, `rate` is computed from it; `hidden` marks rows
    # whose count is suppressed, and `exposed` rows an intruder could work out.
    return Suppression(
        table=table,
        count_word="cell",
        dependents="rates",
        small_counts=lambda t, min_cell: (
            t.filter(~pl.col("hidden") & (pl.col("n") < min_cell)).height
        ),
        derivable=lambda i: int(i.table(table)["exposed"].sum()),
        dependents_shown=lambda t: t.filter(pl.col("hidden") & pl.col("rate").is_not_null()).height,
        descriptions=("small", "derivable", "dependents"),
        derivable_metric="cells_derivable",
    )


@pytest.mark.parametrize(
    ("breakage", "broken"),
    [
        ("update toy set n = 1, hidden = false where id = 1", "no_small_count_visible"),
        ("update toy set exposed = true where id = 1", "no_suppressed_cell_derivable"),
        ("update toy set rate = 0.5 where id = 1", "rates_of_hidden_counts_hidden"),
    ],
)
def test_each_disclosure_check_fails_on_its_own_breakage(inputs, breakage, broken):
    inputs.con.execute(
        "create table toy as select * from (values "
        "(0, 20, 2.0, false, false), (1, 3, null, true, false)) v(id, n, rate, hidden, exposed)"
    )
    checks = suppression_checks(_toy_rules("toy"))
    assert [c.name for c in checks] == [
        "no_small_count_visible",
        "no_suppressed_cell_derivable",
        "rates_of_hidden_counts_hidden",
    ]
    assert all(c.blocking and c.kind == "suppression" for c in checks)
    assert all(_passes(c, inputs) for c in checks)
    inputs.con.execute(breakage)
    failed = {c.name for c in checks if not _passes(c, inputs)}
    assert failed == {broken}


def test_the_threshold_comes_from_the_configuration(inputs):
    inputs.con.execute("create table toy as select 12 as n, false as hidden")
    (small, _, _) = suppression_checks(_toy_rules("toy"))
    assert inputs.min_cell == 10
    assert small.measure(inputs).passed
    strict = load_config(None, ["disclosure.min_cell=13"])
    assert not small.measure(CheckInputs(inputs.con, strict, "run-1")).passed


def test_staging_tables_get_the_declared_checks_in_order():
    names = [c.name for c in checks_for(CASE_PEOPLE)]
    assert names == [
        "rows_accounted_for",
        "keys_unique",
        "required_fields_present",
        "case_people_cases_exist",
    ]
    assert [c.name for c in checks_for(CASES)] == names[:3]
