"""The Dagster code location loads, and its graph is the catalog's, with its checks."""

import dagster as dg

from pipelines.catalog import key as asset_key
from pipelines.catalog import run_check
from pipelines.definitions import defs as load_defs
from pipelines.defs.resources import RecurrenceResource
from recurrence import catalog
from recurrence.checks import checks_for, keys_unique
from recurrence.warehouse import connect

EXPECTED_ASSETS = {
    "analysis/la_recurrence_estimates",
    "published/la_recurrence",
    "published/newborn_timing",
    "reports/la_profiles",
    "audit/extract_info",
    "raw/cases",
    "raw/case_people",
    "raw/births",
    "raw/live_births",
    "staging/cases",
    "staging/case_people",
    "staging/births",
    "staging/live_births",
}


def _defs() -> dg.Definitions:
    return load_defs()


def test_definitions_load_and_validate():
    defs = _defs()
    dg.Definitions.validate_loadable(defs)
    assert "recurrence" in defs.resources


def test_asset_graph_is_the_documented_one():
    graph = _defs().resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys >= EXPECTED_ASSETS
    staging_people = graph.get(dg.AssetKey(["staging", "case_people"]))
    assert dg.AssetKey(["staging", "cases"]) in staging_people.parent_keys


def test_every_asset_is_described_and_grouped_by_stage():
    graph = _defs().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name in {
            "ingest",
            "linkage",
            "recurrence",
            "rates",
            "outcomes",
            "profiles",
            "reports",
        }, key
        assert node.description, key
        assert len(node.description) > 40, key


def test_every_staging_table_has_blocking_checks():
    graph = _defs().resolve_asset_graph()
    checks = {
        (spec.asset_key.to_user_string(), spec.name, spec.blocking)
        for spec in (graph.get_check_spec(k) for k in graph.asset_check_keys)
    }
    for table in ("cases", "case_people", "births", "live_births"):
        for name in ("rows_accounted_for", "keys_unique", "required_fields_present"):
            assert (f"staging/{table}", name, True) in checks
    assert ("staging/case_people", "case_people_cases_exist", True) in checks


def test_the_graph_is_the_catalog():
    graph = _defs().resolve_asset_graph()
    keys = {key.to_user_string().replace("/", ".") for key in graph.get_all_asset_keys()}
    assert keys == set(catalog.BY_NAME)
    for dataset in catalog.CATALOG:
        node = graph.get(asset_key(dataset.name))
        assert node.group_name == dataset.stage, dataset.name
        assert node.parent_keys == {asset_key(i) for i in dataset.inputs}, dataset.name


def test_every_declared_check_is_an_asset_check_of_its_dataset():
    graph = _defs().resolve_asset_graph()
    specs = {
        (spec.asset_key, spec.name): spec
        for spec in (graph.get_check_spec(k) for k in graph.asset_check_keys)
    }
    declared = {(asset_key(d.name), c.name): c for d in catalog.CATALOG for c in checks_for(d)}
    assert specs.keys() == declared.keys()
    for where, check in declared.items():
        assert specs[where].blocking == check.blocking
        assert specs[where].description == check.description


def test_the_check_factory_reports_a_broken_table_as_a_failed_check(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    con = connect(warehouse)
    con.execute("create table staging.cases as select * from (values ('1'), ('1')) v(case_id)")
    con.close()
    cases = catalog.dataset("staging.cases")
    result = run_check(keys_unique(cases), RecurrenceResource(warehouse=str(warehouse)), "r")
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["rows_sharing_a_key"].value == 2


def test_a_failed_warning_check_is_a_warning_with_json_metadata(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    con = connect(warehouse)
    con.execute(
        "create table audit.plausibility as select 'too_young' as rule, 'case_people' as "
        "table_name, 'birth_year_month' as column_name, 3 as rows_flagged"
    )
    con.close()
    (check,) = checks_for(catalog.dataset(catalog.PLAUSIBILITY))
    result = run_check(check, RecurrenceResource(warehouse=str(warehouse)), "r")
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert isinstance(result.metadata["flagged"], dg.JsonMetadataValue)
