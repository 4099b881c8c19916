"""Project-wide quality gates: lint and format clean, and the layering rule kept."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> list[str]:
    local = Path(sys.executable).with_name("ruff")
    if local.exists():
        return [str(local)]
    found = shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed: install the test extra (pip install -e '.[test]')")
    return [found]


def test_ruff_lint_is_clean():
    result = subprocess.run(
        [*_ruff(), "check", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [*_ruff(), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_domain_library_never_imports_dagster():
    offenders = []
    for path in (ROOT / "src" / "recurrence").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            # The one exception: the command line starts a run through pipelines.runner,
            # imported inside the command's function (so `import recurrence.cli` stays free).
            lazy_entry = (
                path.name == "cli.py" and names == ["pipelines.runner"] and node.col_offset > 0
            )
            if any(n.split(".")[0] in {"dagster", "pipelines"} for n in names) and not lazy_entry:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
