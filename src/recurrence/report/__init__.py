"""The run report: one self-contained HTML file and the same content as PDF, per run.

Built in three steps: :func:`read_inputs` reads the run's released tables,
:func:`build_report` runs the section builders (:data:`SECTIONS`) into plain data, and
:func:`write_report` renders HTML and PDF into the run's folder; :func:`refresh_latest` names a
released run folder in ``reports/LATEST_RUN`` and points ``reports/latest`` at it. Never imports
dagster.
"""

from recurrence.report.audit import Audit, audit_report, released_tables, report_text
from recurrence.report.content import Report, Section
from recurrence.report.html import render_html
from recurrence.report.inputs import ReportInputs, read_inputs
from recurrence.report.numbers import Cell, Numbers
from recurrence.report.pdf import render_pdf
from recurrence.report.sections import SECTIONS, build_report, estimate_curves, outliers
from recurrence.report.write import ReportFiles, refresh_latest, write_report

__all__ = [
    "SECTIONS",
    "Audit",
    "Cell",
    "Numbers",
    "Report",
    "ReportFiles",
    "ReportInputs",
    "Section",
    "audit_report",
    "build_report",
    "estimate_curves",
    "outliers",
    "read_inputs",
    "refresh_latest",
    "released_tables",
    "render_html",
    "render_pdf",
    "report_text",
    "write_report",
]
