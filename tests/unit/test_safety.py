"""The warehouse lock, the build beside the warehouse and the journalled commit, in-process."""

import os

import pytest

from recurrence.safety import (
    WarehouseBusyError,
    begin_build,
    build_dir,
    build_path,
    clean_stale,
    commit,
    committed_state,
    current_run,
    ensure_not_locked,
    journal_path,
    recover,
    staging_folder,
    warehouse_lock,
)
from recurrence.warehouse import connect


def _make(path, value):
    con = connect(path)
    con.execute("create or replace table staging.t as select $v as v", {"v": value})
    con.close()


def _read(path):
    con = connect(path, read_only=True)
    try:
        return con.sql("select v from staging.t").fetchone()[0]
    finally:
        con.close()


def test_second_holder_is_refused_with_pid_and_start_time(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    with warehouse_lock(warehouse):
        busy = pytest.raises(WarehouseBusyError, match=rf"in use by process {os.getpid()}, started")
        with busy, warehouse_lock(warehouse):
            pass
        with pytest.raises(WarehouseBusyError):
            ensure_not_locked(warehouse)
    ensure_not_locked(warehouse)  # released on exit
    with warehouse_lock(warehouse):
        pass


def test_build_is_a_copy_and_replaces_the_warehouse_only_on_commit(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    _make(warehouse, "old")
    (tmp_path / "wh.splink_mothers.json").write_text("{}")
    build = begin_build(warehouse)
    assert build.parent == build_dir(warehouse)
    assert (build.parent / "wh.splink_mothers.json").exists()
    assert _read(build) == "old"  # a copy, so a partial run still sees earlier tables
    _make(build, "new")
    assert _read(warehouse) == "old"
    commit(warehouse, "run-1", None)
    assert _read(warehouse) == "new"
    assert not build_dir(warehouse).exists()
    assert not warehouse.with_name("wh.duckdb.wal").exists()
    assert warehouse.stat().st_mode & 0o077 == 0
    assert (tmp_path / "wh.splink_mothers.json").stat().st_mode & 0o077 == 0


def test_an_abandoned_build_is_discarded_by_the_next_run(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    _make(warehouse, "old")
    _make(begin_build(warehouse), "half-done")
    build = begin_build(warehouse)
    assert _read(build) == "old"


def test_first_build_starts_empty(tmp_path):
    warehouse = tmp_path / "sub" / "wh.duckdb"
    build = begin_build(warehouse)
    assert not build.exists()
    _make(build, "first")
    commit(warehouse, "run-1", None)
    assert _read(warehouse) == "first"


def _release_setup(tmp_path):
    warehouse, reports = tmp_path / "wh" / "wh.duckdb", tmp_path / "reports"
    _make(begin_build(warehouse), "old")
    commit(warehouse, "run-old", None)
    staged = staging_folder(reports, "run-old")
    staged.mkdir(parents=True)
    (staged / "a.csv").write_text("old\n")
    _make(begin_build(warehouse), "old")
    commit(warehouse, "run-old", reports)
    _make(begin_build(warehouse), "new")
    staged = staging_folder(reports, "run-new")
    staged.mkdir(parents=True)
    (staged / "a.csv").write_text("new\n")
    return warehouse, reports


def _pair(warehouse, reports):
    latest = (reports / "latest" / "a.csv").read_text().strip()
    return _read(warehouse), current_run(reports), latest


def test_commit_makes_warehouse_and_report_current_together(tmp_path):
    warehouse, reports = _release_setup(tmp_path)
    assert _pair(warehouse, reports) == ("old", "run-old", "old")
    steps = []
    commit(warehouse, "run-new", reports, say=steps.append)
    assert steps == [
        "checkpoint",
        *("journal", "report", "warehouse", "models", "latest_run", "latest", "done"),
    ]
    assert _pair(warehouse, reports) == ("new", "run-new", "new")
    assert (reports / "latest").is_symlink()
    assert not journal_path(warehouse).exists()
    assert (reports / "run-new" / "a.csv").stat().st_mode & 0o077 != 0o077  # published
    assert (reports / "run-old").is_dir()  # earlier releases are kept


class _Killed(Exception):
    pass


def _kill_at(step):
    def say(name):
        if name == step:
            raise _Killed(step)

    return say


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("journal", "old"),
        ("report", "old"),
        ("warehouse", "old"),
        ("models", "new"),
        ("latest_run", "new"),
        ("latest", "new"),
        ("done", "new"),
    ],
)
def test_a_commit_stopped_at_any_step_is_finished_or_undone(tmp_path, step, expected):
    warehouse, reports = _release_setup(tmp_path)
    with pytest.raises(_Killed):
        commit(warehouse, "run-new", reports, say=_kill_at(step))
    state = committed_state(warehouse)
    if state.state == "committing":
        assert state.run_id == "run-new"
        assert state.warehouse_swapped == (expected == "new")
    with warehouse_lock(warehouse):
        recover(warehouse)
        clean_stale(warehouse, reports)
    run = "run-new" if expected == "new" else "run-old"
    assert _pair(warehouse, reports) == (expected, run, expected)
    assert (reports / "run-new").exists() == (expected == "new")
    assert not [p for p in reports.iterdir() if p.name.startswith(".")]
    assert not build_path(warehouse).exists()
