"""Check by identity that no value hidden by disclosure control appears in a rendered report.

The report writes every number through its registry (:mod:`recurrence.report.numbers`), which
records each number's provenance. :func:`audit_report` then checks a rendered report (the text
of the HTML with its figures' text, or the PDF's text) against the run's released tables:

1. no number written from a cell is a suppressed cell: for ``published.*`` tables the cell is
   looked up in the warehouse and must be non-null there, and written exactly as that value
   formats; for counts the report hides itself (``report.*``), the cell must not be one the
   registry recorded as hidden;
2. every number in the rendered text is one the registry wrote (after removing text written as
   text: labels, free text from ``extract.toml``, ids, checksums, versions, settings). A number
   that bypassed the registry fails the check, whatever its value.

Nothing is searched for by value, so a hidden value that happens to equal a year, a label or a
published value is no longer mistaken for a leak. The limit, by design: a number that bypassed
the registry but reads exactly like a number the registry wrote, or like a whole piece of
verbatim text (a label "1", free text that is only "0.16"), is not told apart from it; the
identity check (1) is what keeps hidden cells out, the text check (2) catches code that writes
numbers around the registry.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import duckdb
import polars as pl

from recurrence.report.numbers import NUMBER, Cell, Numbers
from recurrence.warehouse import table_exists

#: Released tables whose cells are looked up in the warehouse by the audit.
CHECKED_TABLES: tuple[str, ...] = (
    "published.recurrence_estimates",
    "published.cox_hazard_ratios",
    "published.cox_ph_test",
    "published.cox_zph_bins",
    "published.newborn_rates",
    "published.newborn_precision",
    "published.outcomes",
    "published.la_recurrence",
    "published.newborn_timing",
)


@dataclass
class Audit:
    """What :func:`audit_report` found; the report passes when every list is empty.

    Attributes
    ----------
    suppressed_shown
        Cells written as a number although disclosure control (or the report) hid them.
    not_as_published
        Cells written with a value other than the released one: (cell, written, released).
    unaccounted
        Numbers in the rendered text that the registry did not write.
    cells_checked
        How many written cells were compared with their released table.
    """

    suppressed_shown: list[Cell] = field(default_factory=list)
    not_as_published: list[tuple[Cell, str, str]] = field(default_factory=list)
    unaccounted: list[str] = field(default_factory=list)
    cells_checked: int = 0

    @property
    def passed(self) -> bool:
        """True when nothing was found."""
        return not (self.suppressed_shown or self.not_as_published or self.unaccounted)

    def summary(self) -> dict[str, Any]:
        """Counts and the first few findings (no values beyond what the report shows)."""
        return {
            "cells_checked": self.cells_checked,
            "suppressed_cells_shown": len(self.suppressed_shown),
            "cells_not_as_published": len(self.not_as_published),
            "numbers_not_from_the_registry": len(self.unaccounted),
            "first_suppressed": [
                f"{c.table} {c.where()} {c.column}" for c in self.suppressed_shown[:5]
            ],
            "first_unaccounted": self.unaccounted[:20],
        }


def _lookup(frame: pl.DataFrame, cell: Cell) -> list[dict[str, Any]]:
    for column, value in cell.key:
        if column not in frame.columns:
            return []
        frame = frame.filter(pl.col(column).is_null() if value is None else pl.col(column) == value)
    return frame.head(1).to_dicts()


def strip_text(text: str, verbatim: set[str], *, wrapped: bool = False) -> str:
    """``text`` with every verbatim string that holds a digit blanked out, longest first.

    A string is blanked only where it stands whole (not inside a longer word or number), so a
    label "1" does not cut "1,308" apart. With ``wrapped`` (text extracted from a PDF, where a
    long path or checksum is broken across lines of a table cell), a string also matches with
    white space inserted anywhere in it.
    """
    for item in sorted(verbatim, key=len, reverse=True):
        if any(ch.isdigit() for ch in item):
            body = (
                r"\s*".join(r"\s+" if ch.isspace() else re.escape(ch) for ch in item)
                if wrapped
                else re.escape(item)
            )
            text = re.sub(rf"(?<![\w.,]){body}(?![\w]|[.,]\d)", " ", text)
    return text


def audit_report(
    text: str,
    numbers: Numbers,
    released: Mapping[str, pl.DataFrame],
    *,
    extra: set[str] = frozenset(),
    wrapped: bool = False,
) -> Audit:
    """Check one rendered report by identity (see the module notes).

    Parameters
    ----------
    text
        The rendered text: :func:`report_text` of the HTML, or the PDF's text.
    numbers
        The registry the report was built with.
    released
        ``schema.table`` to the released table, for :data:`CHECKED_TABLES`.
    extra
        Further allowed number tokens (such as the PDF's page numbers).
    wrapped
        The text comes from a PDF: verbatim text may be broken across lines.

    Returns
    -------
    Audit
        The findings.
    """
    found = Audit()
    for shown in numbers.rendered_cells():
        cell = shown.source
        if not isinstance(cell, Cell):
            continue
        if cell in numbers.hidden:
            found.suppressed_shown.append(cell)
            continue
        if cell.table not in CHECKED_TABLES:
            continue
        found.cells_checked += 1
        frame = released.get(cell.table)
        rows = [] if frame is None else _lookup(frame, cell)
        value = rows[0].get(cell.column) if rows else None
        if value is None:
            found.suppressed_shown.append(cell)
            continue
        expected = shown.fmt(value, numbers.symbol) if shown.fmt else str(value)
        if expected != shown.text:
            found.not_as_published.append((cell, shown.text, expected))
    allowed = numbers.allowed() | set(extra)
    rest = strip_text(text, numbers.verbatim, wrapped=wrapped)
    found.unaccounted = sorted({m.group() for m in NUMBER.finditer(rest)} - allowed)
    return found


def released_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """The :data:`CHECKED_TABLES` present in the run's warehouse."""
    out = {}
    for name in CHECKED_TABLES:
        if table_exists(con, name):
            out[name] = con.sql(f"select * from {name}").pl()
    return out


_DATA_URI = re.compile(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)")
_TAG = re.compile(r"<[^>]+>")
_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)


def svg_text(svg: bytes | str) -> str:
    """The text drawn in a matplotlib SVG figure, less its axis tick labels.

    Tick labels are the scale of an axis (0, 50, 100...), not data, and would otherwise match a
    hidden count by coincidence; so data must never be written as tick labels (the plotting
    functions write numbers at risk as text of their own).
    """
    root = ElementTree.fromstring(svg)
    out: list[str] = []

    def walk(node: ElementTree.Element) -> None:
        if node.get("id", "").startswith(("xtick_", "ytick_")):
            return
        if node.tag.endswith("text"):
            out.append("".join(node.itertext()))
            return
        for child in node:
            walk(child)

    walk(root)
    return "\n".join(out)


_BUILT = re.compile(r'<meta name="recurrence-built" content="([^"]+)">')


def built_time(document: str) -> dt.datetime | None:
    """When an HTML report was built (its ``recurrence-built`` meta tag), or None."""
    m = _BUILT.search(document)
    return dt.datetime.fromisoformat(m.group(1)) if m and m.group(1) else None


def report_text(document: str) -> str:
    """The visible text of an HTML report, including the text inside its embedded SVG figures."""
    figures = [svg_text(base64.b64decode(m)) for m in _DATA_URI.findall(document)]
    page = html.unescape(_TAG.sub(" ", _STYLE.sub(" ", _DATA_URI.sub("", document))))
    return "\n".join([page, *figures])


#: The released CSV files that mirror a published table: file name to (table, row key columns).
RELEASED_CSVS: dict[str, tuple[str, tuple[str, ...]]] = {
    "newborn_rates.csv": (
        "published.newborn_rates",
        ("geography_level", "geography_code", "year", "age_band"),
    ),
    "recurrence_estimates.csv": (
        "published.recurrence_estimates",
        ("group_variable", "group_value", "horizon_years", "method"),
    ),
    "cox_hazard_ratios.csv": ("published.cox_hazard_ratios", ("variable", "level")),
    "newborn_precision.csv": ("published.newborn_precision", ("age_band",)),
    "cox_zph_bins.csv": ("published.cox_zph_bins", ("variable", "bin")),
    "outcomes.csv": (
        "published.outcomes",
        ("geography_level", "geography_code", "year", "group_variable", "group", "measure"),
    ),
    "la_recurrence.csv": ("published.la_recurrence", ("group_value", "horizon_years", "method")),
    "newborn_timing.csv": ("published.newborn_timing", ("geography_code", "year")),
}


def _same(text: str, value: float) -> bool:
    try:
        shown = float(text)
    except ValueError:
        return False
    # Files round to a few significant figures or decimals; a different cell differs by more.
    return math.isclose(shown, value, rel_tol=1e-3, abs_tol=0.06)


def audit_csv(path: Path, published: pl.DataFrame, keys: tuple[str, ...]) -> list[str]:
    """Cells of a released CSV that are not the published table's cell of the same identity.

    Each row is matched to the published row with the same key; where the published cell is
    hidden (null) the file must show no number (the symbol, ``[x]`` or nothing), and elsewhere
    the published value. A row with no published counterpart counts as hidden: any value it shows is
    reported.

    Parameters
    ----------
    path
        The CSV file.
    published
        Its published table (hidden values null).
    keys
        Columns identifying a row in both.

    Returns
    -------
    list of str
        One line per wrong cell: ``file row column: what is wrong`` (no values).
    """
    shown = pl.read_csv(path, infer_schema=False)
    numeric = [
        c
        for c, dtype in published.schema.items()
        if c in shown.columns and c not in keys and dtype.is_numeric()
    ]
    table = published.select(
        *(pl.col(k).cast(pl.String) for k in keys), *(pl.col(c).alias(f"{c}__pub") for c in numeric)
    )
    joined = shown.join(table, on=list(keys), how="left", nulls_equal=True)
    problems = []
    for i, row in enumerate(joined.iter_rows(named=True), start=2):
        for c in numeric:
            value, text = row[f"{c}__pub"], (row[c] or "").strip()
            if value is None and NUMBER.search(text):
                problems.append(
                    f"{path.name} row {i} {c}: shows a value hidden (or not released) in the table"
                )
            elif value is not None and not _same(text, float(value)):
                problems.append(f"{path.name} row {i} {c}: not the published value")
    return problems


def audit_released_csvs(folder: Path, released: Mapping[str, pl.DataFrame]) -> list[str]:
    """:func:`audit_csv` of every :data:`RELEASED_CSVS` file present in ``folder``."""
    problems = []
    for name, (table, keys) in RELEASED_CSVS.items():
        if (folder / name).exists() and table in released:
            problems += audit_csv(folder / name, released[table], keys)
    return problems
