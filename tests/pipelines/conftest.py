"""Fixtures shared by the tests that load or run the Dagster code location."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.definitions import defs as load_defs
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.warehouse import table_fingerprints


@pytest.fixture
def dagster_home(tmp_path, monkeypatch):
    """A private Dagster instance folder, so tests never touch the user's run history."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def blocking_checks():
    """Every blocking asset check of the code location, as (asset key, check name)."""
    graph = load_defs().resolve_asset_graph()
    return {
        (spec.asset_key.to_user_string(), spec.name)
        for spec in (graph.get_check_spec(k) for k in graph.asset_check_keys)
        if spec.blocking
    }


@pytest.fixture(scope="session")
def run_command():
    """The command line of `recurrence run` on the sample, for a warehouse and reports folder."""

    def command(warehouse, reports):
        return [
            *(sys.executable, "-m", "recurrence.cli", "run", "--extract", str(SAMPLE_EXTRACT_DIR)),
            *("--warehouse", str(warehouse), "--reports", str(reports)),
        ]

    return command


@pytest.fixture(scope="session")
def run_sample(run_command):
    """Run `recurrence run` on the sample to completion, with its own Dagster home."""

    def run(warehouse, reports, home, *, timeout=600):
        return subprocess.run(
            run_command(warehouse, reports),
            capture_output=True,
            text=True,
            env={**os.environ, "DAGSTER_HOME": str(home)},
            timeout=timeout,
            check=False,
        )

    return run


@dataclass(frozen=True)
class BaselineRun:
    """One uninterrupted `recurrence run` on the sample, in its own process, with its outputs."""

    returncode: int
    stdout: str
    stderr: str
    warehouse: Path
    reports: Path
    run_folder: Path
    dagster_home: Path
    snapshot: dict


@pytest.fixture(scope="session")
def baseline_run(tmp_path_factory, run_sample):
    """Run the whole graph once on the sample (about 40 s) and share the result."""
    root = tmp_path_factory.mktemp("baseline")
    home = root / "dagster_home"
    home.mkdir()
    warehouse = root / "warehouse" / "recurrence.duckdb"
    reports = root / "reports"
    done = run_sample(warehouse, reports, home)
    assert done.returncode == 0, done.stderr
    (folder,) = [
        p for p in reports.iterdir() if p.is_dir() and p.name[0] != "." and p.name != "latest"
    ]
    return BaselineRun(
        done.returncode,
        done.stdout,
        done.stderr,
        warehouse,
        reports,
        folder,
        home,
        table_fingerprints(warehouse),
    )
