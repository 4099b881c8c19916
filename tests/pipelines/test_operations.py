"""Operating `recurrence run` for real: killed runs lose nothing, reruns are identical, one writer.

Every run here is `recurrence run` in its own process on the bundled sample, as an analyst runs
it. One baseline run (the session fixture `baseline_run` in conftest.py) is shared with the
identifier scan in test_release_safety.py.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import defs as load_defs
from pipelines.runner import run_config_for
from recurrence import catalog
from recurrence.cli import main
from recurrence.errors import EXIT_BUSY
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.safety import (
    USER_UMASK,
    build_dir,
    current_run,
    journal_path,
    warehouse_lock,
)
from recurrence.warehouse import connect
from recurrence.warehouse import table_fingerprints as snapshot

pytestmark = pytest.mark.slow


def file_hashes(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def released_folders(reports):
    """Run folders released under reports/ (not staging folders, nor the latest/ copy)."""
    return sorted(
        p.name
        for p in reports.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != "latest"
    )


def _copy_outputs(baseline, dest):
    """A private copy of the baseline warehouse (with its models) and reports."""
    wh_dir = dest / "warehouse"
    shutil.copytree(baseline.warehouse.parent, wh_dir)
    shutil.copytree(baseline.reports, dest / "reports")
    return wh_dir / baseline.warehouse.name, dest / "reports"


def _start(run_command, warehouse, reports, home):
    return subprocess.Popen(
        run_command(warehouse, reports),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        start_new_session=True,
    )


def _wait_for_line(proc, marker, timeout=240):
    deadline = time.monotonic() + timeout
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            return seen
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise AssertionError(f"never saw {marker!r}; output was:\n{''.join(seen)}")


def _kill(proc):
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    proc.stderr.close()


def test_killed_runs_leave_previous_outputs_intact_and_rerun_is_identical(
    baseline_run, run_command, run_sample, tmp_path
):
    warehouse, reports = _copy_outputs(baseline_run, tmp_path)
    home = baseline_run.dagster_home
    before = snapshot(warehouse)
    previous_reports = file_hashes(reports)
    assert before == baseline_run.snapshot

    # 1. Killed during ingest, while a second run tries the same warehouse and is refused.
    first = _start(run_command, warehouse, reports, home)
    _wait_for_line(first, "done  raw/cases")
    second = run_sample(warehouse, reports, home, timeout=120)
    assert second.returncode == EXIT_BUSY
    assert f"is in use by process {first.pid}, started " in second.stderr
    assert "nothing was changed" in second.stderr
    assert first.poll() is None  # the refusal did not disturb the run holding the lock
    _wait_for_line(first, "done  staging/births")
    _kill(first)
    assert snapshot(warehouse) == before
    assert file_hashes(reports) == previous_reports

    # 2. Killed in the middle of linkage; 3. killed while the report files are being written.
    for marker in ("done  linkage/mother_keys", "done  reports/newborn_rates"):
        proc = _start(run_command, warehouse, reports, home)
        _wait_for_line(proc, marker)
        _kill(proc)
        assert snapshot(warehouse) == before, marker
        # Nothing new is released: at most a hidden .<run>.partial folder is left behind.
        assert released_folders(reports) == released_folders(baseline_run.reports), marker
        assert {
            k: v for k, v in file_hashes(reports).items() if not k.startswith(".")
        } == previous_reports
        # The previous warehouse still opens and reads.
        con = connect(warehouse, read_only=True)
        assert con.sql("select count(*) from staging.cases").fetchone()[0] > 1000
        con.close()

    # The rerun completes and gives exactly the uninterrupted run's tables and published CSVs.
    rerun = run_sample(warehouse, reports, home)
    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(warehouse) == baseline_run.snapshot
    assert not build_dir(warehouse).exists()
    new = [f for f in released_folders(reports) if f not in released_folders(baseline_run.reports)]
    assert len(new) == 1
    new_files = file_hashes(reports / new[0])
    old_files = file_hashes(baseline_run.run_folder)
    assert set(new_files) == set(old_files)
    csvs = [name for name in old_files if name.endswith(".csv")]
    assert len(csvs) >= 3
    for name in csvs:
        assert new_files[name] == old_files[name], name


def test_warehouse_and_models_are_owner_only(baseline_run):
    assert baseline_run.warehouse.stat().st_mode & 0o077 == 0
    models = list(baseline_run.warehouse.parent.glob("*.splink_*.json"))
    assert models
    for path in models:
        assert path.stat().st_mode & 0o077 == 0, path


def test_baseline_run_released_one_complete_folder(baseline_run):
    assert baseline_run.returncode == 0, baseline_run.stderr
    assert released_folders(baseline_run.reports) == [baseline_run.run_folder.name]
    names = {p.name for p in baseline_run.run_folder.iterdir()}
    assert {"newborn_rates.csv", "recurrence_estimates.csv", "cox_hazard_ratios.csv"} <= names
    assert not any(p.name.startswith(".") for p in baseline_run.reports.iterdir())


def _tiny_warehouse(path):
    con = duckdb.connect(str(path))
    con.execute("create table t as select 1 as x")
    con.close()


def test_a_notebook_holding_the_warehouse_gives_one_line_and_exit_5(tmp_path, dagster_home, capsys):
    warehouse = tmp_path / "wh.duckdb"
    _tiny_warehouse(warehouse)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; con = duckdb.connect({str(warehouse)!r}); "
            "print('open', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        code = main(
            [
                *("run", "--extract", str(SAMPLE_EXTRACT_DIR), "--warehouse", str(warehouse)),
                *("--reports", str(tmp_path / "reports"), "--select", "audit/extract_info"),
            ]
        )
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    err = capsys.readouterr().err
    assert code == EXIT_BUSY, err
    last = err.strip().splitlines()[-1]
    assert str(warehouse) in last
    assert f"process {holder.pid}" in last
    assert "close that connection" in last
    assert "Traceback" not in err
    assert "IOException" not in err


def test_a_dagster_run_and_a_cli_run_refuse_each_other(tmp_path, dagster_home, capsys):
    warehouse = tmp_path / "wh.duckdb"
    reports = tmp_path / "reports"
    args = ["run", "--extract", str(SAMPLE_EXTRACT_DIR), "--warehouse", str(warehouse)]
    args += ["--reports", str(reports), "--select", "audit/extract_info"]
    # The resource of a run launched by Dagster holds this same lock for the run's length.
    with warehouse_lock(warehouse, holder="Dagster run abc"):
        assert main(args) == EXIT_BUSY
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "is in use by process" in err
        assert "Dagster run abc" in err

        defs = load_defs()
        job = defs.resolve_implicit_global_asset_job_def()
        run_config = run_config_for(
            extract=str(SAMPLE_EXTRACT_DIR),
            warehouse=str(warehouse),
            reports=str(reports),
            config_file=None,
            overrides=[],
        )
        with dg.DagsterInstance.ephemeral() as instance:
            result = job.execute_in_process(
                run_config=run_config,
                instance=instance,
                raise_on_error=False,
                asset_selection=[dg.AssetKey(["audit", "extract_info"])],
            )
            assert not result.success
            text = " ".join(
                str(e.dagster_event) for e in instance.all_logs(result.run_id) if e.dagster_event
            )
        assert "is in use by process" in text
    assert not warehouse.exists()


def test_a_selection_without_report_commits_the_warehouse_alone(tmp_path, dagster_home, capsys):
    warehouse = tmp_path / "wh.duckdb"
    reports = tmp_path / "reports"
    stale = reports / ".0123-dead-run.partial"
    stale.mkdir(parents=True)
    (stale / "x.csv").write_text("a\n1\n")
    args = ["run", "--extract", str(SAMPLE_EXTRACT_DIR), "--warehouse", str(warehouse)]
    args += ["--reports", str(reports), "--select", "audit/extract_info"]
    assert main(args) == 0
    out = capsys.readouterr().out
    steps = [line.split()[1] for line in out.splitlines() if line.startswith("  commit  ")]
    assert steps == ["checkpoint", "journal", "warehouse", "models", "done"]
    assert "audit.extract_info" in snapshot(warehouse)
    assert not stale.exists()  # the stale folder of a killed run is cleaned by the next run
    assert current_run(reports) is None  # no report: LATEST_RUN untouched
    assert not build_dir(warehouse).exists()
    assert not journal_path(warehouse).exists()
    assert warehouse.stat().st_mode & 0o077 == 0
    assert reports.stat().st_mode & 0o777 == 0o777 & ~USER_UMASK


def test_every_asset_is_upstream_of_the_commit():
    graph = load_defs().resolve_asset_graph()
    released = dg.AssetKey(["reports", "released"])
    upstream = dg.AssetSelection.assets(released).upstream().resolve(graph)
    assert graph.get_all_asset_keys() == upstream


def test_a_bug_says_so_names_the_run_and_keeps_its_traceback_owner_only(
    tmp_path, dagster_home, capsys, monkeypatch
):
    import pipelines.defs.ingest.assets as ingest_assets

    def broken(con, info):
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(ingest_assets, "record_extract_info", broken)
    warehouse = tmp_path / "wh.duckdb"
    args = ["run", "--extract", str(SAMPLE_EXTRACT_DIR), "--warehouse", str(warehouse)]
    args += ["--reports", str(tmp_path / "reports"), "--select", "audit/extract_info"]
    assert main(args) == 1
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert "internal error in audit/extract_info (ZeroDivisionError)" in last
    assert "bug in recurrence" in last
    run_id = last.split("Please report run ")[1].split(";")[0]
    assert len(run_id) == 36
    assert "Traceback" not in err
    log = warehouse.with_name("wh.duckdb.errors.log")
    assert log.stat().st_mode & 0o077 == 0
    text = log.read_text()
    assert run_id in text
    assert "planted bug" in text
    assert not warehouse.exists()  # nothing was committed


def test_the_warehouse_holds_exactly_the_catalog_tables(baseline_run):
    # Every table a run writes is declared once in recurrence.catalog, and nothing declared is
    # missing: a new table must be declared before the run may write it.
    assert set(baseline_run.snapshot) == catalog.warehouse_tables()
