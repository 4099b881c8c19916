"""Write a run's report files; name a released run folder in ``LATEST_RUN`` and ``latest``.

The pipeline writes the report into the run's staging folder; the run's commit
(:func:`recurrence.safety.commit`) releases the folder together with the warehouse, then writes
``reports/LATEST_RUN`` and swaps the symbolic link ``reports/latest`` to it. Each file is written
through :func:`recurrence.publish.atomic_write`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recurrence.publish import atomic_write
from recurrence.report.content import Report
from recurrence.report.html import render_html
from recurrence.report.pdf import render_pdf
from recurrence.safety import LATEST as LATEST
from recurrence.safety import LATEST_POINTER as LATEST_POINTER
from recurrence.safety import point_latest

HTML_NAME = "report.html"
PDF_NAME = "report.pdf"


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
    """Name ``folder`` in ``LATEST_RUN`` and point ``<folder's parent>/latest`` at it.

    The pipeline does this as the last steps of a run's commit (:func:`recurrence.safety.commit`);
    this function is for a folder released by hand. ``latest`` is a symbolic link swapped in one
    rename, so a reader sees the previous complete folder or the new one.

    Parameters
    ----------
    folder
        A released run's report folder.

    Returns
    -------
    pathlib.Path
        The ``latest`` link.
    """
    root = folder.parent
    atomic_write(
        root / LATEST_POINTER, lambda tmp: tmp.write_text(folder.name + "\n", encoding="utf-8")
    )
    return point_latest(root, folder.name)
