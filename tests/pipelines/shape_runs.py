"""Run the real Dagster job on a shaped extract and check what every run must satisfy.

Shared by the shape matrix (``test_shapes.py``) and the hypothesis combinations of shapes
(``test_shape_combos.py``). A run here is :func:`pipelines.runner.run_pipeline`, what
``recurrence run`` calls, in the test's own process: the whole asset graph, every blocking check
and the release, without paying a new interpreter and the Dagster and Splink imports (about 5 s)
per run. The Dagster instance and the warehouse go on a RAM-backed folder when the machine has
one, because each run commits a few hundred events to Dagster's SQLite log and checkpoints DuckDB
dozens of times, and on a busy disk those syncs cost 10-20 s per run; the pipeline's code and
results do not depend on the disk.
"""

from __future__ import annotations

import contextlib
import html
import os
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.runner import run_pipeline
from recurrence.config import load_config
from recurrence.publish import XLSX_NAME, left_out_sheets
from recurrence.report.sections import _SHEET_WORDS
from recurrence.safety import released_folder
from recurrence.synth import generate_extract
from recurrence.synth.shapes import Extract

#: Assets whose checks prove that what is released is disclosure-controlled.
DISCLOSURE_ASSETS = ("published/", "reports/")

#: Said by the report when the Cox model has nothing to fit (no return, or no contrast).
NO_COX = "The Cox proportional-hazards model could not be fitted on this extract"


def tiny_extract(folder: Path, seed: int = 3) -> Path:
    """A generated extract of about 400 cases: small, yet every stage has something to do."""
    generate_extract(folder, scale="sample", seed=seed, fraction=0.002)
    return folder


@contextlib.contextmanager
def run_root(fallback: Path) -> Iterator[Path]:
    """A fresh folder for one run, in RAM (``/dev/shm``) when there is one, removed afterwards.

    Parameters
    ----------
    fallback
        Used (not removed) when there is no writable ``/dev/shm``.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield fallback
        return
    root = Path(tempfile.mkdtemp(prefix="recurrence-shape-", dir=shm))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class ShapeRun:
    """One whole run: its exit code, run id, warehouse, released folder and check results."""

    code: int
    run_id: str | None
    warehouse: Path
    folder: Path | None
    checks: dict[tuple[str, str], bool]


def run_shaped(extract: Path, root: Path, overrides: tuple[str, ...], monkeypatch) -> ShapeRun:
    """Run the whole asset graph on ``extract`` with its own Dagster instance under ``root``.

    Parameters
    ----------
    extract
        A contract extract folder.
    root
        An empty folder for the Dagster instance, the warehouse and the reports.
    overrides
        Settings (``section.key=value``) the shape needs.
    monkeypatch
        Sets ``DAGSTER_HOME`` for this run only.
    """
    home = root / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    warehouse, reports = root / "wh.duckdb", root / "reports"
    with warnings.catch_warnings():
        # As in `recurrence run`'s own process, a library's warning is shown, not raised: the
        # suite's filterwarnings=error would turn it into a failed step the command never has.
        warnings.simplefilter("default")
        code = run_pipeline(
            extract=str(extract),
            warehouse=str(warehouse),
            reports=str(reports),
            overrides=overrides,
            quiet=True,
        )
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
        run_id = runs[0].run_id if runs else None
        checks: dict[tuple[str, str], bool] = {}
        if run_id is not None:
            for record in instance.all_logs(
                run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ):
                data = record.dagster_event.event_specific_data
                checks[(data.asset_key.to_user_string(), data.check_name)] = data.passed
    folder = released_folder(reports, run_id) if run_id is not None else None
    return ShapeRun(code, run_id, warehouse, folder, checks)


def _text_of_book(path: Path) -> str:
    with zipfile.ZipFile(path) as book:
        xml = " ".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    return html.unescape(xml)


def check_run(run: ShapeRun, shaped: Extract, blocking_checks: set[tuple[str, str]]) -> None:
    """Assert what every run on a valid extract must satisfy (issue 16's properties).

    1. The run exits 0.
    2. Every published table passes the disclosure checks: each blocking check on a
       ``published/`` or ``reports/`` asset was evaluated in this run and passed.
    3. For every table, rows read = loaded + quarantined, and read = the rows written.
    4. The report and the spreadsheet say in words which figures could not be computed and why:
       each spreadsheet sheet with no rows is named with its reason on the cover sheet and in the
       report, and an empty table of hazard ratios is explained in the report.
    """
    assert run.code == 0, f"run {run.run_id} exited {run.code}"

    wanted = {c for c in blocking_checks if c[0].startswith(DISCLOSURE_ASSETS)}
    missing = wanted - set(run.checks)
    assert not missing, f"disclosure checks not evaluated: {sorted(missing)}"
    failed = sorted(c for c in wanted if not run.checks[c])
    assert not failed, f"disclosure checks failed: {failed}"

    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        accounting = con.sql(
            "select table_name, rows_read, rows_loaded, rows_quarantined "
            "from audit.ingest_accounting"
        ).fetchall()
        rates = con.sql("select * from published.newborn_rates").pl()
        ratios = con.sql("select count(*) from published.cox_hazard_ratios").fetchone()[0]
    rows = {t: f.height for t, f in shaped.tables.items()}
    assert {t for t, *_ in accounting} >= set(rows), accounting
    for table, read, loaded, quarantined in accounting:
        assert read == loaded + quarantined, table
        assert read == rows.get(table, 0), table

    assert run.folder is not None, "no run recorded"
    assert run.folder.is_dir(), "nothing was released"
    report = html.unescape((run.folder / "report.html").read_text(encoding="utf-8"))
    book = _text_of_book(run.folder / XLSX_NAME)
    config = load_config(overrides=shaped.overrides)
    for sheet, why in left_out_sheets(rates, config).items():
        assert f"{_SHEET_WORDS[sheet]} are not published: {why}." in report, sheet
        assert f"{sheet} is left out: {why}." in book, sheet
    if ratios == 0:
        assert NO_COX in report
