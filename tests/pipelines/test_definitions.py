"""The Dagster code location loads, and its graph is the one we document."""

import dagster as dg

from pipelines.definitions import defs as load_defs

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
