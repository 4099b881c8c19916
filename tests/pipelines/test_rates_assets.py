"""The rates assets: their place in the graph, their blocking checks, and a run on the sample."""

import csv

import dagster as dg
import pytest

from pipelines.definitions import defs as load_defs
from pipelines.runner import run_pipeline
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.warehouse import connect

RATES_ASSETS = {
    "analysis/newborn_children": {
        "staging/cases",
        "staging/case_people",
        "linkage/child_births",
        "linkage/mother_keys",
    },
    "analysis/live_births_by_region_year": {"staging/births", "staging/live_births"},
    "analysis/newborn_rates": {
        "analysis/newborn_children",
        "analysis/live_births_by_region_year",
        "audit/extract_info",
    },
    "published/newborn_rates": {"analysis/newborn_rates"},
    "reports/newborn_rates": {"published/newborn_rates"},
}
BLOCKING_CHECKS = {
    ("analysis/newborn_rates", "areas_sum_to_totals"),
    ("analysis/newborn_rates", "denominators_positive"),
    ("published/newborn_rates", "no_small_count_visible"),
    ("published/newborn_rates", "no_suppressed_cell_derivable"),
    ("published/newborn_rates", "rates_of_hidden_counts_hidden"),
}


def test_rates_assets_depend_on_staging_and_each_other():
    graph = load_defs().resolve_asset_graph()
    for key, parents in RATES_ASSETS.items():
        node = graph.get(dg.AssetKey.from_user_string(key))
        assert node.group_name == "rates"
        assert {p.to_user_string() for p in node.parent_keys} == parents
        assert len(node.description) > 40
        assert "Time window" in " ".join(node.description.split()), key


def test_rates_checks_are_blocking(blocking_checks):
    assert blocking_checks >= BLOCKING_CHECKS


@pytest.mark.slow
def test_rates_run_on_the_sample_and_publish_safe_files(tmp_path, dagster_home, capsys):
    warehouse = tmp_path / "wh.duckdb"
    reports = tmp_path / "reports"
    code = run_pipeline(
        extract=str(SAMPLE_EXTRACT_DIR),
        warehouse=str(warehouse),
        reports=str(reports),
        select='group:ingest or key:"linkage/child_births" or key:"linkage/mother_keys" '
        "or group:rates",
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (run_folder,) = [p for p in reports.iterdir() if p.is_dir() and p.name != "latest"]
    names = {p.name for p in run_folder.iterdir()}
    assert names == {
        "newborn_rates.csv",
        "newborn_rates.xlsx",
        "newborn_rates_by_region.png",
        "newborn_rates_by_region.svg",
        "newborn_rates_funnel.png",
        "newborn_rates_funnel.svg",
        # every release carries its output-checking pack (recurrence.checking_pack)
        "output_checking.md",
    }
    with (run_folder / "newborn_rates.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    con = connect(warehouse, read_only=True)
    try:
        published = con.sql("select count(*) from published.newborn_rates").fetchone()[0]
    finally:
        con.close()
    assert len(rows) == published > 0
    for row in rows:
        if row["children"] != "[c]":
            assert int(row["children"]) >= 10
    assert {"england_and_wales", "country", "region", "local_authority"} == {
        r["geography_level"] for r in rows
    }
