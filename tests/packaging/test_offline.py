"""docs/secure_environments.md: the install commands are the script's, and a run needs no network.

A run inside a trusted research environment has no internet. The offline test runs
``recurrence adapt`` and ``recurrence run`` on a synthetic SAIL-shaped export inside a Linux
network namespace with no network (``unshare -rn``): any connection attempt (a download, a
telemetry call) fails there, so a run that finishes needed none.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recurrence.paths import PROJECT_ROOT
from recurrence.synth.cafcass_export import generate_cafcass_export

DOC = PROJECT_ROOT / "docs" / "secure_environments.md"
SCRIPT = PROJECT_ROOT / "scripts" / "offline_install.sh"
PIP = re.compile(r"^\s*(\S*python -m pip .+?)\s*$", re.MULTILINE)


def _commands(text: str) -> set[str]:
    return {m.group(1) for m in PIP.finditer(text)}


def test_the_documented_install_commands_are_the_scripts():
    script = _commands(SCRIPT.read_text(encoding="utf-8"))
    doc = _commands(
        "\n".join(re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL))
    )
    assert len(script) == 2
    assert script == doc
    prepare, install = sorted(script, key=lambda c: "install" in c)
    assert "pip wheel --wheel-dir wheelhouse ." in prepare
    # inside the TRE pip may read the copied folder only, never an index
    assert "--no-index" in install
    assert "--find-links wheelhouse" in install


def test_the_script_refuses_an_unknown_step():
    done = subprocess.run(["sh", str(SCRIPT), "upload"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "prepare|install" in done.stderr


def _no_network() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _no_network(), reason="unprivileged network namespaces not available")
def test_adapt_and_run_finish_with_no_network(tmp_path):
    export = tmp_path / "export"
    generate_cafcass_export(export, seed=3, families=40, alf_coverage=0.5)
    (tmp_path / "adapter.toml").write_text(
        f'[extract]\nlive_births_file = "{export / "live_births.csv"}"\n'
    )
    (tmp_path / "run.toml").write_text(
        f'[paths]\nextract = "{tmp_path / "extract"}"\n\n'
        f'[source]\nadapter = "cafcass"\ninput = "{export}"\n'
        f'settings = "{tmp_path / "adapter.toml"}"\n\n'
        '[linkage]\nmethod = "person_id"\n'
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    done = subprocess.run(
        [
            *("unshare", "-rn", sys.executable, "-m", "recurrence.cli", "run"),
            *("--config", str(tmp_path / "run.toml")),
            *("--warehouse", str(tmp_path / "wh.duckdb"), "--reports", str(tmp_path / "reports")),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    released = [p for p in (tmp_path / "reports").iterdir() if p.is_dir() and p.name != "latest"]
    assert len(released) == 1
    assert (released[0] / "newborn_rates.csv").is_file()
    assert "telemetry:\n  enabled: false" in Path(
        tmp_path / "dagster_home" / "dagster.yaml"
    ).read_text(encoding="utf-8")
