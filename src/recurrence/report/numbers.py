"""The report's number registry: every number it writes, and where that number came from.

Every number the report writes (in text, tables and figure labels) is formatted by one
:class:`Numbers` registry, which records its provenance:

- a **cell** of a released table (table, row key, column), via :meth:`Numbers.cell`. A cell whose
  value is None (hidden by disclosure control, or hidden by the report's own threshold) is
  written as the suppression symbol and recorded as hidden;
- a **declared non-disclosive constant**, via :meth:`Numbers.constant`, of one of the kinds in
  :data:`CONSTANT_KINDS` (a setting, a year, a fixed number of the wording, a number of areas, a
  page number); these are chosen by the analyst or are the frame of the tables, never a
  measurement of people.

Text that is not a number to be checked (free text of ``extract.toml``, file names, checksums,
run ids, package versions, category labels such as "2020+" or "aged 20-24") goes through
:meth:`Numbers.text`, which records it as verbatim text: the audit removes it from the rendered
text before looking for numbers, so digits in it are never mistaken for data.

:mod:`recurrence.report.audit` then checks a rendered report by identity: no rendered cell is a
suppressed one, every rendered cell of a published table equals that table's value, and every
number in the rendered text is one the registry wrote (so a number that bypassed the registry
fails the check).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from recurrence.disclosure import NOT_APPLICABLE_SYMBOL

#: A whole number in rendered text: digits with optional thousands separators and decimals,
#: not inside a word or a longer number (so "F1", "A4", "SHA-256" ids are not numbers).
NUMBER = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")

#: The kinds of number that may be written without a released cell behind them, and why each
#: is not disclosive.
CONSTANT_KINDS: dict[str, str] = {
    "setting": "a value of the run's configuration (threshold, horizon, age band, target), "
    "chosen before the data are seen",
    "year": "a year or horizon of the time axis: the frame of a table, not a measurement",
    "wording": "a fixed number of the report's wording (95%, 99.8%, per 10,000, a ratio of 1)",
    "areas": "a number of local authorities whose counts are hidden: a count of places, not "
    "people; which areas are hidden is itself published as [c] in the spreadsheet",
    "derived": 'a rounding or ratio of released cells shown beside it ("about 1 in 5" next to '
    "19.8%), which tells nothing the cells do not",
    "page": "a page number of the PDF",
}
#: Numbers of the fixed wording (captions, axis titles, legends), allowed anywhere.
WORDING: tuple[str, ...] = ("95%", "99.8%", "10,000", "1")


@dataclass(frozen=True)
class Cell:
    """The identity of one value of a table: table name, row key and column."""

    table: str
    key: tuple[tuple[str, Any], ...]
    column: str

    def where(self) -> dict[str, Any]:
        """The row key as a dict (column to value)."""
        return dict(self.key)


@dataclass(frozen=True)
class Shown:
    """One number as written: its text, the value formatted, and its provenance."""

    text: str
    value: Any
    source: Cell | str
    fmt: Callable[[Any, str], str] | None = None


Formatter = Callable[[Any, str], str]


def _plain(value: Any, symbol: str) -> str:
    return str(value)


@dataclass
class Numbers:
    """The registry of one report (see the module notes).

    Attributes
    ----------
    symbol
        The suppression symbol written for a hidden cell.
    shown
        Every number written, in order.
    hidden
        Every cell asked for whose value was hidden (written as the symbol).
    verbatim
        Text written as text, not checked for numbers.
    """

    symbol: str = "[c]"
    shown: list[Shown] = field(default_factory=list)
    hidden: set[Cell] = field(default_factory=set)
    verbatim: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for text in WORDING:
            self.constant(text, "wording")

    def cell(
        self,
        table: str,
        key: Mapping[str, Any],
        column: str,
        value: Any,
        fmt: Formatter = _plain,
        *,
        not_applicable: bool = False,
    ) -> str:
        """Write one cell's value, or the symbol when it is hidden (None).

        A cell with no value because it cannot exist (``not_applicable``: a horizon no mother of
        the group could have reached) is written as :data:`NOT_APPLICABLE_SYMBOL` (GSS ``[x]``),
        never as the suppression symbol, so readers can tell "hidden" from "does not exist" and
        the report marks it as the published CSV does. Either way it is recorded as hidden.

        Parameters
        ----------
        table
            The released table (``published.newborn_rates``) or, for counts the report hides
            itself, a ``report.*`` name.
        key
            Column to value identifying the row.
        column
            The value's column.
        value
            The value (None when hidden).
        fmt
            A formatter of :mod:`recurrence.report.content` (``value, symbol -> text``).

        Returns
        -------
        str
            The text to put in the report.
        """
        source = Cell(table, tuple(key.items()), column)
        if value is None:
            self.hidden.add(source)
            if not_applicable:
                return NOT_APPLICABLE_SYMBOL
            return self.symbol
        text = fmt(value, self.symbol)
        self.shown.append(Shown(text, value, source, fmt))
        return text

    def constant(self, value: Any, kind: str, fmt: Formatter = _plain) -> str:
        """Write a declared non-disclosive number of one of :data:`CONSTANT_KINDS`."""
        if kind not in CONSTANT_KINDS:
            raise ValueError(f"Unknown kind of constant {kind!r}: one of {sorted(CONSTANT_KINDS)}")
        text = fmt(value, self.symbol)
        self.shown.append(Shown(text, value, kind, fmt))
        return text

    def text(self, value: Any) -> str:
        """Write free text, a label or an identifier as text: its digits are not numbers."""
        text = "" if value is None else str(value)
        if text:
            self.verbatim.add(text)
        return text

    def texts(self, values: Iterable[Any]) -> list[str]:
        """:meth:`text` of each value."""
        return [self.text(v) for v in values]

    def allowed(self) -> set[str]:
        """Every number token the registry wrote (the tokens of each written number)."""
        return {m.group() for s in self.shown for m in NUMBER.finditer(s.text)}

    def rendered_cells(self) -> list[Shown]:
        """The numbers written from a table cell (not constants)."""
        return [s for s in self.shown if isinstance(s.source, Cell)]
