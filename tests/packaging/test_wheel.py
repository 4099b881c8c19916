"""A wheel built from the repository runs on its own, not only an editable install.

The wheel is unpacked into a folder that is put first on ``PYTHONPATH`` and the run starts in an
empty working directory, so neither the checkout's ``sql/`` nor its ``data_samples/`` can be
reached: everything the run reads must have travelled inside the wheel.
"""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from recurrence.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(PROJECT_ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = out.glob("recurrence-*.whl")
    target = out / "unpacked"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def _python(unpacked: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(unpacked), "DAGSTER_HOME": str(cwd / "dagster_home")}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_wheel_carries_every_sql_file_and_the_sample(unpacked_wheel, tmp_path):
    shipped = {
        p.relative_to(unpacked_wheel / "recurrence" / "sql")
        for p in (unpacked_wheel / "recurrence" / "sql").rglob("*.sql")
    }
    in_repo = {p.relative_to(PROJECT_ROOT / "sql") for p in (PROJECT_ROOT / "sql").rglob("*.sql")}
    assert shipped == in_repo
    assert (unpacked_wheel / "pipelines" / "dg.toml").is_file()
    probe = _python(
        unpacked_wheel,
        tmp_path,
        "-c",
        "import recurrence.paths as p, recurrence.config as c; "
        "print(p.SQL_DIR); print(c.load_config().paths.extract)",
    )
    assert probe.returncode == 0, probe.stderr
    sql_dir, extract = probe.stdout.split()
    assert Path(sql_dir).is_relative_to(unpacked_wheel)
    assert Path(extract).is_relative_to(unpacked_wheel)


def test_wheel_runs_ingest_on_the_bundled_sample(unpacked_wheel, tmp_path):
    result = _python(
        unpacked_wheel,
        tmp_path,
        "-m",
        "recurrence.cli",
        "run",
        "--select",
        "group:ingest",
        "--warehouse",
        str(tmp_path / "wh.duckdb"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "done  staging/cases" in result.stdout
