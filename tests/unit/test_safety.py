"""The warehouse lock and the build-then-swap of a run, in-process."""

import os

import pytest

from recurrence.safety import (
    WarehouseBusyError,
    begin_build,
    build_dir,
    commit_build,
    ensure_not_locked,
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
    commit_build(warehouse)
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
    commit_build(warehouse)
    assert _read(warehouse) == "first"
