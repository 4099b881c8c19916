"""Render a :class:`~recurrence.report.content.Report` as a PDF with reportlab.

reportlab (pure Python, BSD) lays out flowing text and tables that split across pages, so the
PDF needs no browser or system package at run time. Figures are drawn at 150 dpi as PNG.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

from matplotlib.figure import Figure
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    ListFlowable,
    ListItem,
    LongTable,
    PageBreak,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Paragraph as RLParagraph

from recurrence.report.content import Bullets, FigureBlock, Paragraph, Report, Table

DPI = 150
_STYLES = getSampleStyleSheet()
_CELL = ParagraphStyle("cell", parent=_STYLES["BodyText"], fontSize=7.5, leading=9)
_HEAD = ParagraphStyle("head", parent=_CELL, fontName="Helvetica-Bold")
_NOTE = ParagraphStyle(
    "note", parent=_STYLES["BodyText"], fontSize=8, leading=10, textColor=colors.HexColor("#333333")
)
_CAPTION = ParagraphStyle(
    "caption", parent=_STYLES["BodyText"], fontName="Helvetica-Bold", fontSize=9, spaceBefore=6
)


def _text(text: str, style: ParagraphStyle) -> RLParagraph:
    return RLParagraph(escape(text), style)


def _figure(figure: Figure, width: float) -> Image:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    w, h = figure.get_size_inches()
    buffer.seek(0)
    return Image(buffer, width=width, height=width * h / w)


_BANNER = ParagraphStyle(
    "banner", parent=_STYLES["BodyText"], fontName="Helvetica-Bold", fontSize=10, leading=13
)


def _banner(text: str, width: float) -> Flowable:
    """The synthetic-data banner: bold text in a shaded, ruled box across the page."""
    box = LongTable([[_text(text, _BANNER)]], colWidths=[width])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff3c4")),
                ("BOX", (0, 0), (-1, -1), 1.5, colors.HexColor("#8a6d00")),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return box


#: Points per character of the table cells' font (Helvetica 7.5 pt averages about 4 pt; the
#: bold header and wide letters need more, so a margin).
_CHAR_WIDTH = 4.8
#: Left plus right padding of a table cell, in points.
_PADDING = 12.0


def column_widths(block: Table, width: float) -> list[float]:
    """Widths of a table's columns, each at least as wide as its longest word.

    So no setting name or number is broken mid-word ("linkage.metho d"); the rest of the width
    goes to the columns with the longest text.
    """
    n = len(block.columns)
    cells = [[block.columns[c], *(row[c] for row in block.rows)] for c in range(n)]
    words = [max((len(w) for t in col for w in str(t).split()), default=1) for col in cells]
    need = [min(w * _CHAR_WIDTH + _PADDING, width / n * 2) for w in words]
    typical = [
        max(sum(len(str(t)) for t in col) / len(col), w)
        for col, w in zip(cells, words, strict=True)
    ]
    if sum(need) >= width:
        return [width * x / sum(need) for x in need]
    spare = width - sum(need)
    extra = [max(t * _CHAR_WIDTH + _PADDING - x, 0.0) for t, x in zip(typical, need, strict=True)]
    total = sum(extra)
    if total == 0:
        return [x + spare / n for x in need]
    return [x + spare * e / total for x, e in zip(need, extra, strict=True)]


def _table(block: Table, width: float) -> list[Flowable]:
    data = [[_text(c, _HEAD) for c in block.columns]]
    data += [[_text(cell, _CELL) for cell in row] for row in block.rows]
    table = LongTable(data, repeatRows=1, colWidths=column_widths(block, width))
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    out: list[Flowable] = [_text(block.caption, _CAPTION), table]
    if block.note:
        out.append(_text(block.note, _NOTE))
    out.append(Spacer(1, 6))
    return out


def _flowables(report: Report, width: float) -> list[Flowable]:
    story: list[Flowable] = [
        *([_banner(report.banner, width)] if report.banner else []),
        _text(report.title, _STYLES["Title"]),
        _text(report.subtitle, _STYLES["BodyText"]),
        _text(
            "Every number in this report comes from the run's published tables, after disclosure "
            f"control; {report.symbol} marks a value hidden to protect confidentiality.",
            _NOTE,
        ),
    ]
    for i, section in enumerate(report.sections):
        if i and section.id in ("methods", "provenance"):
            story.append(PageBreak())
        story.append(_text(section.title, _STYLES["Heading2"]))
        for block in section.blocks:
            if isinstance(block, Paragraph):
                story.append(_text(block.text, _STYLES["BodyText"]))
            elif isinstance(block, Bullets):
                story.append(
                    ListFlowable(
                        [ListItem(_text(item, _STYLES["BodyText"])) for item in block.items],
                        bulletType="bullet",
                        leftIndent=12,
                    )
                )
            elif isinstance(block, Table):
                story += _table(block, width)
            elif isinstance(block, FigureBlock):
                story.append(
                    KeepTogether(
                        [_figure(block.figure, width), _text(block.caption, _NOTE), Spacer(1, 8)]
                    )
                )
    return story


@contextlib.contextmanager
def _creation_date(built: str | None) -> Iterator[None]:
    """Stamp the PDF with the run's time, not reportlab's invariant 1 January 2000.

    reportlab takes the date of an invariant document from ``SOURCE_DATE_EPOCH``; it is set
    only while the document is built, so a rerun of the same run writes the same bytes.
    """
    if not built:
        yield
        return
    when = dt.datetime.fromisoformat(built)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(when.timestamp()))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def render_pdf(report: Report, path: Path) -> Path:
    """Write the report as an A4 PDF to ``path``.

    Parameters
    ----------
    report
        The report.
    path
        The file to write (the caller makes it atomic).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.6 * cm,
        bottomMargin=1.6 * cm,
        title=report.title,
        author="recurrence",
        subject=report.subtitle,
        invariant=True,
    )

    def footer(canvas, doc_) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        run = f"Run {report.run_id}" + (
            " · synthetic data, not real records" if report.banner else ""
        )
        canvas.drawString(doc_.leftMargin, 0.9 * cm, run)
        canvas.drawRightString(A4[0] - doc_.rightMargin, 0.9 * cm, f"Page {doc_.page}")
        canvas.restoreState()

    with _creation_date(report.meta.get("built")):
        doc.build(_flowables(report, doc.width), onFirstPage=footer, onLaterPages=footer)
    return path
