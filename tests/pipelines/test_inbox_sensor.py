"""The inbox sensor runs each complete extract folder once and reports invalid ones by name."""

import json
import shutil

import dagster as dg
import pytest

from pipelines.defs.inbox.sensors import EXTRACT_TAG, extract_inbox
from recurrence.config import ENV_CONFIG
from recurrence.paths import SAMPLE_EXTRACT_DIR


@pytest.fixture
def inbox(tmp_path, monkeypatch):
    folder = tmp_path / "inbox"
    folder.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(f'[inbox]\nfolder = "{folder}"\n', encoding="utf-8")
    monkeypatch.setenv(ENV_CONFIG, str(config))
    return folder


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return extract_inbox(context), context


def _extract(folder):
    shutil.copytree(SAMPLE_EXTRACT_DIR, folder, ignore=shutil.ignore_patterns("truth"))
    return folder


def test_sensor_is_off_without_an_inbox(monkeypatch):
    monkeypatch.delenv(ENV_CONFIG, raising=False)
    with dg.instance_for_test() as instance:
        result, _ = _tick(instance)
    assert isinstance(result, dg.SkipReason)
    assert "inbox.folder" in result.skip_message


def test_complete_folder_runs_once_after_it_stops_changing(inbox):
    _extract(inbox / "release_2024")
    with dg.instance_for_test() as instance:
        first, _ = _tick(instance)
        assert not first.run_requests
        assert "release_2024: new or still changing" in first.skip_reason.skip_message

        second, _ = _tick(instance, first.cursor)
        assert len(second.run_requests) == 1
        request = second.run_requests[0]
        assert request.run_key.startswith("release_2024:")
        config = request.run_config["resources"]["recurrence"]["config"]
        assert config["extract"] == str((inbox / "release_2024").resolve())
        assert config["config_file"].endswith("config.toml")
        assert request.tags[EXTRACT_TAG] == "release_2024"

        third, _ = _tick(instance, second.cursor)
        assert not third.run_requests  # requested once, not at every tick

        # A changed file makes it a new extract: it waits for one tick, then runs again.
        with (inbox / "release_2024" / "extract.toml").open("a", encoding="utf-8") as f:
            f.write("# corrected by the provider\n")
        fourth, _ = _tick(instance, third.cursor)
        assert not fourth.run_requests
        fifth, _ = _tick(instance, fourth.cursor)
        assert len(fifth.run_requests) == 1
        assert fifth.run_requests[0].run_key != request.run_key


def test_incomplete_folder_is_reported_by_name_and_not_run(inbox):
    broken = _extract(inbox / "bad_extract")
    (broken / "cases.csv").unlink()
    no_toml = _extract(inbox / "no_toml")
    (no_toml / "extract.toml").unlink()
    with dg.instance_for_test() as instance:
        first, _ = _tick(instance)
        second, _ = _tick(instance, first.cursor)
    assert not second.run_requests
    message = second.skip_reason.skip_message
    assert "bad_extract: not valid, not run" in message
    assert "cases" in message
    assert "no_toml: not valid, not run" in message
    assert "extract.toml is missing" in message
    assert set(json.loads(second.cursor)) == {"bad_extract", "no_toml"}


def test_sensor_targets_the_whole_graph():
    from pipelines.definitions import defs as load_defs

    defs = load_defs()
    sensor = defs.resolve_sensor_def("extract_inbox")
    graph = defs.resolve_asset_graph()
    (target,) = sensor.targets
    targeted = target.resolvable_to_job.selection.resolve(graph)
    assert targeted == set(graph.get_all_asset_keys())
