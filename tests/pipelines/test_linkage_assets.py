"""The linkage assets: their place in the graph, their checks, and a run on the sample."""

import shutil

import dagster as dg
import pytest

from pipelines.definitions import defs as load_defs
from pipelines.runner import run_pipeline
from recurrence.errors import EXIT_CHECK
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.warehouse import connect

LINKAGE_ASSETS = {
    "linkage/child_births": {"staging/cases", "staging/case_people", "staging/births"},
    "linkage/mother_keys": {"staging/cases", "staging/case_people", "linkage/child_births"},
    "linkage/mother_births": {"linkage/mother_keys", "linkage/child_births", "staging/births"},
    "linkage/summary": {"linkage/mother_keys", "linkage/child_births", "linkage/mother_births"},
    "linkage/quality": {"linkage/mother_keys", "linkage/child_births", "linkage/mother_births"},
}
BLOCKING_CHECKS = {
    ("linkage/mother_keys", "one_mother_key_per_mother_row"),
    ("linkage/mother_keys", "no_implausibly_large_mother"),
    ("linkage/child_births", "no_child_linked_to_two_births"),
}


def test_linkage_assets_depend_on_staging_and_each_other():
    graph = load_defs().resolve_asset_graph()
    for key, parents in LINKAGE_ASSETS.items():
        node = graph.get(dg.AssetKey.from_user_string(key))
        assert node.group_name == "linkage"
        assert {p.to_user_string() for p in node.parent_keys} == parents
        for word in ("Population", "Unit", "Time window"):
            assert word in " ".join(node.description.split()), (key, word)


def test_linkage_checks_are_blocking(blocking_checks):
    assert blocking_checks >= BLOCKING_CHECKS


@pytest.mark.slow
def test_linkage_runs_on_the_sample_and_its_checks_pass(full_sample_run):
    # The session's whole run on the sample (the same run this test used to repeat on its own).
    assert full_sample_run.code == 0
    assert "linkage/summary" in full_sample_run.stdout
    con = connect(full_sample_run.warehouse, read_only=True)
    try:
        keys, person_ids = con.sql(
            "select count(distinct mother_key), count(distinct person_id) from linkage.mother_keys"
        ).fetchone()
        assert 0 < keys < person_ids
        assert con.sql("select count(*) from linkage.splink_model").fetchone() == (2,)
        quality = {
            (link, measure): (run, baseline)
            for link, measure, run, baseline in con.sql("select * from linkage.quality").fetchall()
        }
    finally:
        con.close()
    # The sample is a synthetic extract, so the run scores itself against its truth folder.
    run_f1, baseline_f1 = quality[("mothers", "pairwise_f1")]
    assert run_f1 > 0.97
    assert baseline_f1 < run_f1
    assert quality[("child_births", "f1")][0] > 0.97
    assert quality[("mother_births", "f1")][0] > 0.9
    assert (full_sample_run.root / "wh.splink_mothers.json").is_file()


@pytest.mark.slow
def test_threshold_zero_fails_the_cluster_size_check(tmp_path, dagster_home, capsys):
    code = run_pipeline(
        extract=str(SAMPLE_EXTRACT_DIR),
        warehouse=str(tmp_path / "wh.duckdb"),
        # the mothers' threshold is chosen from the model unless fixed
        overrides=["linkage.match_threshold=0.0", 'linkage.mother_threshold_rule="fixed"'],
        select="group:ingest or group:linkage",
    )
    captured = capsys.readouterr()
    assert code == EXIT_CHECK  # a blocking check failed
    assert "no_implausibly_large_mother" in captured.err.strip().splitlines()[-1]


@pytest.mark.slow
def test_a_truth_folder_of_another_shape_does_not_stop_the_run(tmp_path, dagster_home, capsys):
    extract = tmp_path / "extract"
    shutil.copytree(SAMPLE_EXTRACT_DIR, extract)
    for path in (extract / "truth").iterdir():
        if path.name != "manifest.toml":
            path.unlink()
    warehouse = tmp_path / "wh.duckdb"
    code = run_pipeline(
        extract=str(extract),
        warehouse=str(warehouse),
        select="group:ingest or group:linkage",
    )
    assert code == 0, capsys.readouterr().err
    con = connect(warehouse, read_only=True)
    try:
        assert con.sql("select count(*) from linkage.quality").fetchone() == (0,)
    finally:
        con.close()
