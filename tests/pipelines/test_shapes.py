"""Every valid extract runs to the end: the shape matrix, through the real Dagster job.

Each run takes a small generated extract (about 400 cases), rewrites it with the shape transforms
of :mod:`recurrence.synth.shapes` and runs ``recurrence run`` on it in its own process. A run
costs about 60-70 s of one core on the tiny extract (mostly disclosure linear programmes and the
report), so running each of the 20 shapes alone (about 22 minutes) does not fit the suite's
budget of about 5 minutes for these tests. Instead the shapes are combined so that every shape is
in at least one run and shapes that would mask each other are kept apart: five runs.

The properties checked for every run: the run exits 0 (every blocking check, including the
disclosure checks on every published table, passed); for every table ingest read,
read = loaded + quarantined, and read equals the rows of the shaped file; and the report and
spreadsheet say in words which figures could not be computed and why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import duckdb
import pytest

from recurrence.synth import generate_extract
from recurrence.synth.shapes import SHAPES, write_shape

pytestmark = pytest.mark.slow

#: Runs of the matrix: each is a list of shapes applied in order, with the sentences the report
#: must contain because of them.
RUNS = {
    "one_region_one_year_no_la_mixed": (
        ["no_la", "one_region", "one_year", "mixed_formats", "optional_null"],
        ["Local-authority rates are not published: no local-authority codes"],
    ),
    "wales_live_births_born_after_short": (
        ["wales_only", "live_births", "born_after_issue", "short_follow_up", "no_la_births"],
        [],
    ),
    "nothing_links_no_return_none_small": (
        ["births_unlinkable", "no_return", "none_small", "no_la_cases"],
        [],
    ),
    "no_cases_no_births": (
        ["cases_empty", "births_empty"],
        ["Newborn rates are not published", "could not be fitted"],
    ),
    "everything_suppressed_optional": (
        ["one_region_suppressed", "optional_absent", "births_empty_live_births", "all_small"],
        ["could not be fitted"],
    ),
}

COVERED = {s for shapes, _ in RUNS.values() for s in shapes}


def test_every_shape_is_in_the_matrix():
    """A new shape must be added to a run (or this test fails)."""
    assert set(SHAPES) <= COVERED


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A small generated extract (about 400 cases) to shape."""
    folder = tmp_path_factory.mktemp("tiny") / "extract"
    generate_extract(folder, scale="sample", seed=3, fraction=0.002)
    return folder


def _run(extract, root, overrides):
    home = root / "dagster_home"
    home.mkdir()
    command = [sys.executable, "-m", "recurrence.cli", "run"]
    for o in overrides:
        command += ["--set", o]
    command += ["--extract", str(extract), "--warehouse", str(root / "wh.duckdb")]
    command += ["--reports", str(root / "reports")]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        timeout=900,
        check=False,
    )


@pytest.mark.parametrize("name", list(RUNS))
def test_shape_runs_to_the_end(name, tiny, tmp_path):
    shapes, sentences = RUNS[name]
    shaped = write_shape(tiny, tmp_path / "extract", shapes)
    done = _run(tmp_path / "extract", tmp_path, shaped.overrides)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        accounting = con.sql(
            "select table_name, rows_read, rows_loaded, rows_quarantined "
            "from audit.ingest_accounting"
        ).fetchall()
    rows = {t: f.height for t, f in shaped.tables.items()}
    for table, read, loaded, quarantined in accounting:
        assert read == loaded + quarantined, table
        assert read == rows.get(table, 0), table

    (folder,) = [
        p
        for p in (tmp_path / "reports").iterdir()
        if p.is_dir() and p.name[0] != "." and p.name != "latest"
    ]
    report = (folder / "report.html").read_text(encoding="utf-8")
    for sentence in sentences:
        assert sentence in report, sentence
    with zipfile.ZipFile(folder / "newborn_rates.xlsx") as book:
        text = " ".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    if any("Local-authority" in s for s in sentences):
        assert "Local_authorities is left out: no local-authority codes" in text
    if any("Newborn rates are not published" in s for s in sentences):
        assert "Newborns is left out: no live births" in text
