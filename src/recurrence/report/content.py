"""The report as plain data: sections of paragraphs, lists, tables and figures.

Section builders (:mod:`recurrence.report.sections`) produce these objects from the run's
published tables; the HTML and PDF renderers only lay them out, so both documents carry the
same numbers. Every number is turned into text by the formatters below, called through the
report's number registry (:class:`recurrence.report.numbers.Numbers`), which records where each
number came from for the audit of hidden values (:mod:`recurrence.report.audit`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.figure import Figure

from recurrence.report.numbers import Numbers


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A bulleted list of plain-text items."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of text cells, with a caption and an optional note under it."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str | None = None


@dataclass(frozen=True)
class FigureBlock:
    """A matplotlib figure with a caption and a text alternative for screen readers."""

    name: str
    caption: str
    alt: str
    figure: Figure


Block = Paragraph | Bullets | Table | FigureBlock


@dataclass(frozen=True)
class Section:
    """A titled section of the report."""

    id: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Report:
    """The whole report: a title, a subtitle line and the sections in order."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]
    run_id: str
    symbol: str = "[c]"
    meta: dict[str, str] = field(default_factory=dict)
    numbers: Numbers = field(default_factory=Numbers)
    #: Said first, above everything else, when set: that the data are synthetic.
    banner: str | None = None


def pct(value: float | None, symbol: str) -> str:
    """A proportion as a percentage to one decimal place (``0.1916`` → ``19.2%``)."""
    return symbol if value is None else f"{value * 100:.1f}%"


def rate(value: float | None, symbol: str) -> str:
    """A rate per 10,000 to one decimal place."""
    return symbol if value is None else f"{value:.1f}"


def ratio(value: float | None, symbol: str) -> str:
    """A hazard ratio to two decimal places."""
    return symbol if value is None else f"{value:.2f}"


def p_value(value: float | None, symbol: str) -> str:
    """A p-value to three decimal places, or ``<0.001``."""
    if value is None:
        return symbol
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def count(value: int | None, symbol: str) -> str:
    """A count with thousands separators."""
    return symbol if value is None else f"{int(value):,}"


def interval(lower: str, upper: str) -> str:
    """Two formatted limits as ``lower to upper``."""
    return f"{lower} to {upper}"
