"""The outcomes assets: their place in the graph and their blocking checks."""

import dagster as dg

from pipelines.definitions import defs as load_defs

OUTCOMES_ASSETS = {
    "analysis/case_outcomes": {"staging/cases", "linkage/mother_keys"},
    "analysis/outcome_proportions": {"analysis/case_outcomes", "audit/extract_info"},
    "published/outcomes": {"analysis/outcome_proportions"},
    "reports/outcomes": {"published/outcomes"},
}
BLOCKING_CHECKS = {
    ("analysis/case_outcomes", "every_case_classified_once"),
    ("published/outcomes", "no_small_count_visible"),
    ("published/outcomes", "no_suppressed_count_derivable"),
    ("published/outcomes", "proportions_of_hidden_counts_hidden"),
}


def test_outcomes_assets_depend_on_staging_linkage_and_each_other():
    graph = load_defs().resolve_asset_graph()
    for key, parents in OUTCOMES_ASSETS.items():
        node = graph.get(dg.AssetKey.from_user_string(key))
        assert node.group_name == "outcomes"
        assert {p.to_user_string() for p in node.parent_keys} == parents
        assert "Time window" in " ".join(node.description.split()), key


def test_outcomes_checks_are_blocking(blocking_checks):
    assert blocking_checks >= BLOCKING_CHECKS
