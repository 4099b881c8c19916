"""Crash-test matrix: SIGKILL of the whole process group at the run's own progress lines.

Every kill leaves the *old pair or the new pair*: the warehouse's table fingerprints and the run
named by ``reports/LATEST_RUN`` (with ``reports/latest`` pointing at it) are those of the state
before the run or those of the killed run once committed, never a mixture. A kill inside the
commit leaves the journal ``<warehouse>.commit``; the invariant is asserted after the repair every
next run makes first (``recover``, under the lock), and also before it: a state that is not one
pair is always marked by the journal.

Design, to stay within about three minutes on two cores although a whole run takes over a minute:

- The *old* state is a copy of the session's baseline run on the sample (already paid for by
  test_operations.py and test_release_safety.py), restored before each kill.
- Kills during the build and at the warehouse-only commit steps use runs of the ingest group
  (``--select group:ingest``) on a tiny extract (``fraction=0.002``): a few seconds of work, and
  a new warehouse whose fingerprints differ from the old one. The first kill, after the warehouse
  rename, is rolled forward and gives the *new* fingerprints.
- Kills at the report steps of the commit (``report``, ``latest_run``, ``latest``, ``done``) use
  runs of ``reports/outcomes`` alone: the command line adds the release assets, so the run writes
  a report folder, checks it and commits it with the warehouse, in seconds.
- The same kills are made on runs launched by Dagster itself (``dagster asset materialize``),
  which take the same lock and commit through the same resource.
- Last, a rerun of the same selection, started on the state the last kill left (journal
  included), repairs it, cleans the stale folders, marks every killed run as failed in Dagster,
  and gives the baseline's tables and byte-identical published CSV files (so does the killed run
  it rolled forward). The whole graph's byte-identical rerun after kills is
  test_operations.py's.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import dagster as dg
import pytest

from pipelines.defs.resources import COMMITTED_TAG, WAREHOUSE_TAG
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.safety import (
    build_dir,
    committed_state,
    current_run,
    journal_path,
    recover,
    warehouse_lock,
)
from recurrence.synth import generate_extract
from recurrence.warehouse import table_fingerprints

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny") / "extract"
    generate_extract(folder, scale="sample", seed=3, fraction=0.002)
    return folder


def _cli(extract, warehouse, reports, select=None):
    command = [sys.executable, "-m", "recurrence.cli", "run", "--extract", str(extract)]
    command += ["--warehouse", str(warehouse), "--reports", str(reports)]
    return command + (["--select", select] if select else [])


def _dagster(extract, warehouse, reports, select):
    config = {"extract": str(extract), "warehouse": str(warehouse), "reports": str(reports)}
    return [
        *(sys.executable, "-m", "dagster", "asset", "materialize"),
        *("-m", "pipelines.definitions", "--select", select),
        *("--config-json", json.dumps({"resources": {"recurrence": {"config": config}}})),
    ]


def _env(home):
    return {**os.environ, "DAGSTER_HOME": str(home)}


def _run(command, home):
    return subprocess.run(
        command, capture_output=True, text=True, env=_env(home), timeout=600, check=False
    )


def _kill_at(command, home, marker, timeout=300):
    """Start the command in its own process group, SIGKILL the group once it prints marker."""
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(home),
        start_new_session=True,
    )
    seen = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        seen.append(line)
        if marker in line or time.monotonic() > deadline:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    assert any(marker in line for line in seen), f"never saw {marker!r}:\n{''.join(seen)}"
    return "".join(seen)


def _hashes(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def _pair(warehouse, reports):
    latest = reports / "latest"
    pointed = latest.resolve().name if latest.is_symlink() else None
    return table_fingerprints(warehouse), current_run(reports), pointed


def _restore(baseline, root):
    """A fresh copy of the baseline's warehouse and reports at the same paths every time."""
    for name in ("warehouse", "reports"):
        shutil.rmtree(root / name, ignore_errors=True)
    shutil.copytree(baseline.warehouse.parent, root / "warehouse", symlinks=True)
    shutil.copytree(baseline.reports, root / "reports", symlinks=True)
    return root / "warehouse" / baseline.warehouse.name, root / "reports"


def _assert_old_or_new(warehouse, reports, old, new_tables, marker):
    """The invariant, before and after the repair a next run makes."""
    state = committed_state(warehouse)
    tables, run, pointed = _pair(warehouse, reports)
    if state.state == "clean":
        assert pointed == run, marker
    else:  # inside the commit: the journal marks the state and names the run being committed
        assert state.run_id not in (None, old[1]), marker
    with warehouse_lock(warehouse):
        recover(warehouse)
    assert not journal_path(warehouse).exists()
    tables, run, pointed = _pair(warehouse, reports)
    assert pointed == run, marker
    if tables == old[0] and run == old[1]:
        return "old"
    assert tables == new_tables, marker
    if run != old[1]:  # a committed report: released whole, and named by LATEST_RUN
        assert any((reports / run).iterdir())
    return "new"


def test_kills_at_every_step_leave_the_old_or_the_new_pair(baseline_run, tiny, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    old = _pair(baseline_run.warehouse, baseline_run.reports)
    assert old[0] == baseline_run.snapshot
    assert old[1] == baseline_run.run_folder.name == old[2]

    root = tmp_path / "matrix"
    # Killed after the warehouse rename: rolled forward, which gives the new ingest warehouse.
    warehouse, reports = _restore(baseline_run, root)
    _kill_at(_cli(tiny, warehouse, reports, "group:ingest"), home, "commit  models")
    assert committed_state(warehouse).warehouse_swapped
    with warehouse_lock(warehouse):
        assert recover(warehouse).startswith("rolled forward")
    ingest_new = table_fingerprints(warehouse)
    assert ingest_new != old[0]
    assert current_run(reports) == old[1]  # a run that writes no report leaves LATEST_RUN

    ingest = [
        (_cli, "done  raw/cases"),
        (_cli, "commit  journal"),
        (_cli, "commit  warehouse"),
        (_dagster, "commit  warehouse"),
    ]
    outcomes = []
    for launcher, marker in ingest:
        warehouse, reports = _restore(baseline_run, root)
        _kill_at(launcher(tiny, warehouse, reports, "group:ingest"), home, marker)
        build = build_dir(warehouse)
        if build.exists():  # the run's private build, WAL included, is owner-only
            assert build.stat().st_mode & 0o077 == 0
            for path in build.iterdir():
                assert path.stat().st_mode & 0o077 == 0, path
        outcomes.append(_assert_old_or_new(warehouse, reports, old, ingest_new, marker))
    assert outcomes[0] == "old"  # killed while building: nothing changed

    release = "reports/outcomes,reports/run_folder_contents,reports/released"
    report_kills = [
        (_cli, "commit  report"),
        (_cli, "commit  latest"),
        (_cli, "commit  done"),
        (_dagster, "commit  latest_run"),
        (_cli, "commit  latest_run"),  # left unrepaired: the final run repairs it
    ]
    for index, (launcher, marker) in enumerate(report_kills):
        warehouse, reports = _restore(baseline_run, root)
        select = "reports/outcomes" if launcher is _cli else release
        _kill_at(launcher(SAMPLE_EXTRACT_DIR, warehouse, reports, select), home, marker)
        if index == len(report_kills) - 1:
            state = committed_state(warehouse)
            assert state.state == "committing"
            assert state.warehouse_swapped
            assert current_run(reports) == old[1]  # the commit record not yet written
            killed = state.run_id  # named by the journal; the rerun rolls it forward
            break
        outcome = _assert_old_or_new(warehouse, reports, old, old[0], marker)
        if marker != "commit  report":
            assert outcome == "new", marker
            assert current_run(reports) != old[1]

    # The rerun (the same selection) repairs the last kill, cleans up, and gives the same files.
    rolled = (*_pair(warehouse, reports)[:1], killed)
    rerun = _run(_cli(SAMPLE_EXTRACT_DIR, warehouse, reports, "reports/outcomes"), home)
    assert rerun.returncode == 0, rerun.stderr
    assert "repaired an interrupted commit: rolled forward" in rerun.stdout
    assert table_fingerprints(warehouse) == baseline_run.snapshot
    new_run = current_run(reports)
    assert new_run not in (old[1], rolled[1])
    assert (reports / "latest").resolve() == (reports / new_run).resolve()
    assert not [p for p in reports.iterdir() if p.name.startswith(".")]
    assert not build_dir(warehouse).exists()
    old_files = _hashes(baseline_run.run_folder)
    for run in (rolled[1], new_run):  # the killed run, rolled forward, and the rerun
        files = _hashes(reports / run)
        csvs = [name for name in files if name.endswith(".csv")]
        assert csvs
        for name in csvs:
            assert files[name] == old_files[name], (run, name)

    # Dagster agrees: no killed run is left STARTED, and exactly the committed ones say so.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={WAREHOUSE_TAG: str(warehouse)}))
        statuses = {run.run_id: run.status for run in runs}
        assert dg.DagsterRunStatus.STARTED not in statuses.values()
        committed = {r.run_id for r in runs if r.tags.get(COMMITTED_TAG) == "yes"}
        killed_run = instance.get_run_by_id(rolled[1])
        statuses[rolled[1]] = killed_run.status
        if killed_run.tags.get(COMMITTED_TAG) == "yes":
            committed.add(rolled[1])
    assert statuses[new_run] == dg.DagsterRunStatus.SUCCESS
    # The run killed after its commit point is FAILURE (its process died) but marked committed.
    assert statuses[rolled[1]] == dg.DagsterRunStatus.FAILURE
    assert rolled[1] in committed
    successes = {r for r, status in statuses.items() if status == dg.DagsterRunStatus.SUCCESS}
    assert successes <= committed
    assert any(s == dg.DagsterRunStatus.FAILURE and r not in committed for r, s in statuses.items())
