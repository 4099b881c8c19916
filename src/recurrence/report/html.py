"""Render a :class:`~recurrence.report.content.Report` as one self-contained HTML file.

Figures are embedded as base64 SVG images whose text stays text (so it can be searched and
audited); there are no scripts, fonts, style sheets or images from anywhere else, so the file
opens offline with no server.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import jinja2
import matplotlib as mpl
from matplotlib.figure import Figure

from recurrence.report.content import Bullets, FigureBlock, Paragraph, Report, Table

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("recurrence.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def figure_svg(figure: Figure) -> bytes:
    """The figure as SVG with its text kept as text (not paths)."""
    buffer = io.BytesIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "recurrence"}):
        figure.savefig(buffer, format="svg")
    return buffer.getvalue()


def _block(block: object) -> dict[str, Any]:
    if isinstance(block, Paragraph):
        return {"kind": "paragraph", "text": block.text}
    if isinstance(block, Bullets):
        return {"kind": "bullets", "items": block.items}
    if isinstance(block, Table):
        return {
            "kind": "table",
            "caption": block.caption,
            "columns": block.columns,
            "rows": block.rows,
            "note": block.note,
        }
    if isinstance(block, FigureBlock):
        svg = base64.b64encode(figure_svg(block.figure)).decode("ascii")
        return {
            "kind": "figure",
            "name": block.name,
            "caption": block.caption,
            "alt": block.alt,
            "svg": svg,
        }
    raise TypeError(f"Unknown report block {type(block).__name__}")


def render_html(report: Report) -> str:
    """The report as an HTML document (a string).

    Parameters
    ----------
    report
        The report.

    Returns
    -------
    str
        A complete, self-contained HTML5 document.
    """
    sections = [
        {"id": s.id, "title": s.title, "blocks": [_block(b) for b in s.blocks]}
        for s in report.sections
    ]
    view = {
        "title": report.title,
        "subtitle": report.subtitle,
        "symbol": report.symbol,
        "banner": report.banner,
        "built": report.meta.get("built", ""),
        "sections": sections,
    }
    return _ENV.get_template("report.html.j2").render(report=view)
