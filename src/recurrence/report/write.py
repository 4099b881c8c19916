"""Write a run's report files, and refresh ``reports/latest/`` from a released run folder.

The pipeline writes the report into the run's staging folder and refreshes ``latest`` only after
the folder is released (assets ``reports/run_report`` and ``reports/latest``). Each file is written
through :func:`recurrence.publish.atomic_write`. ``reports/latest/`` is a plain copy of the newest
run's folder (not a symbolic link, which needs privileges on Windows): the copy is made in a hidden
temporary folder beside it, the old ``latest`` is renamed aside, the new one renamed into place and
the old one removed. A reader sees the old complete folder or the new complete folder; only for the
instant between the two renames is there none, and ``reports/LATEST_RUN`` (written atomically)
always names the newest run.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from recurrence.publish import atomic_write
from recurrence.report.content import Report
from recurrence.report.html import render_html
from recurrence.report.pdf import render_pdf

HTML_NAME = "report.html"
PDF_NAME = "report.pdf"
LATEST = "latest"
LATEST_POINTER = "LATEST_RUN"


@dataclass(frozen=True)
class ReportFiles:
    """The report files of one run."""

    html: Path
    pdf: Path


def write_report(report: Report, folder: Path) -> ReportFiles:
    """Write ``report.html`` and ``report.pdf`` into ``folder``.

    Parameters
    ----------
    report
        The report.
    folder
        The run's folder (in the pipeline, its staging folder).

    Returns
    -------
    ReportFiles
        The paths written.
    """
    text = render_html(report)
    html = atomic_write(folder / HTML_NAME, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    pdf = atomic_write(folder / PDF_NAME, lambda tmp: render_pdf(report, tmp))
    return ReportFiles(html, pdf)


def refresh_latest(folder: Path) -> Path:
    """Make ``<folder's parent>/latest`` a complete copy of ``folder`` (see module notes).

    Parameters
    ----------
    folder
        The run's report folder.

    Returns
    -------
    pathlib.Path
        The ``latest`` folder.
    """
    root = folder.parent
    target = root / LATEST
    staging = Path(tempfile.mkdtemp(prefix=".latest.", dir=root))
    try:
        shutil.copytree(folder, staging / "copy", ignore=shutil.ignore_patterns(".*"))
        old = None
        if target.exists():
            old = root / f"{staging.name}.old"
            target.rename(old)
        (staging / "copy").rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    atomic_write(
        root / LATEST_POINTER, lambda tmp: tmp.write_text(folder.name + "\n", encoding="utf-8")
    )
    return target
