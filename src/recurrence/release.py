"""The last look at a run's report folder before it is released: counts safe, no identifiers.

Every file in the folder is read back as it will be released, not as the pipeline meant to write
it: CSV files cell by cell, spreadsheets from the XML inside them, and every text-bearing format
(SVG, HTML, JSON, Markdown, the XML of a spreadsheet, and the raw bytes of PNG and PDF files)
token by token for identifier values.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import duckdb

from recurrence.disclosure import NOT_APPLICABLE_SYMBOL

#: Kinds of file a report folder may hold; anything else is reported, because it cannot be read.
KNOWN_SUFFIXES = frozenset(
    {".csv", ".xlsx", ".png", ".svg", ".html", ".pdf", ".json", ".md", ".txt"}
)
#: Columns holding counts of people or events, by name (CSV) or heading (spreadsheet).
_COUNT_NAME = re.compile(r"^(n_\w+|children|mothers|returns|events)$|\(number\)$", re.IGNORECASE)
#: Denominators taken from published population statistics (live births), not from our data.
DENOMINATORS = frozenset({"live_births", "Live births (number)"})
_TOKEN = re.compile(rb"[0-9A-Za-z_]+")
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}

#: Columns that identify a person, a case or a birth: ids and keyed name hashes, by name.
IDENTIFIER_COLUMN = re.compile(r"(_id|_hash)$")


@dataclass
class ReleaseProblems:
    """What is wrong with a report folder; empty lists mean it is safe to release."""

    small_counts: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def safe(self) -> bool:
        """True when nothing was found."""
        return not (self.small_counts or self.unreadable or self.identifiers)


def _is_count(name: str) -> bool:
    return name not in DENOMINATORS and bool(_COUNT_NAME.search(name.strip()))


def _small(value: str, min_cell: int, symbol: str) -> bool:
    text = value.strip().replace(",", "")
    if text in ("", symbol, NOT_APPLICABLE_SYMBOL):
        return False
    try:
        number = float(text)
    except ValueError:
        return True  # neither a count nor the suppression symbol: not safe to release
    return number < min_cell


def _csv_problems(path: Path, min_cell: int, symbol: str) -> Iterator[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows, [])
        counts = [i for i, name in enumerate(header) if _is_count(name)]
        for line, row in enumerate(rows, start=2):
            for i in counts:
                if i < len(row) and _small(row[i], min_cell, symbol):
                    yield f"{path.name} line {line}, column {header[i]}"


def _cell_texts(book: zipfile.ZipFile, sheet: str, shared: list[str]) -> Iterator[list[str]]:
    root = ElementTree.fromstring(book.read(sheet))
    for row in root.iterfind(".//m:sheetData/m:row", _NS):
        values = []
        for cell in row.iterfind("m:c", _NS):
            kind = cell.get("t")
            value = cell.findtext("m:v", default="", namespaces=_NS)
            if kind == "s":
                value = shared[int(value)]
            elif kind == "inlineStr":
                value = "".join(t.text or "" for t in cell.iterfind(".//m:t", _NS))
            values.append(value)
        yield values


def _xlsx_problems(path: Path, min_cell: int, symbol: str) -> Iterator[str]:
    with zipfile.ZipFile(path) as book:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in book.namelist():
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            shared = [
                "".join(t.text or "" for t in si.iterfind(".//m:t", _NS))
                for si in root.iterfind("m:si", _NS)
            ]
        for sheet in sorted(n for n in book.namelist() if n.startswith("xl/worksheets/sheet")):
            counts: list[int] = []
            header: list[str] = []
            for values in _cell_texts(book, sheet, shared):
                if not counts:
                    # The heading row is the first with a count heading (titles come above it).
                    found = [i for i, v in enumerate(values) if _is_count(v)]
                    if found:
                        counts, header = found, values
                    continue
                for i in counts:
                    if i < len(values) and _small(values[i], min_cell, symbol):
                        yield f"{path.name} {Path(sheet).stem}, column {header[i]}"


def scan_release_folder(folder: Path | str, *, min_cell: int, symbol: str) -> ReleaseProblems:
    """Check every count in every table of a report folder is hidden or at least ``min_cell``.

    Parameters
    ----------
    folder
        The run's report folder (files in sub-folders are checked too).
    min_cell
        The disclosure threshold; zeros are small counts.
    symbol
        The suppression symbol written in place of hidden values.

    Returns
    -------
    ReleaseProblems
        ``small_counts`` names each file, row or sheet and column showing a small count;
        ``unreadable`` names files of a kind that cannot be checked.
    """
    problems = ReleaseProblems()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        problems.files += 1
        suffix = path.suffix.lower()
        if suffix not in KNOWN_SUFFIXES:
            problems.unreadable.append(path.name)
        elif suffix == ".csv":
            problems.small_counts.extend(_csv_problems(path, min_cell, symbol))
        elif suffix == ".xlsx":
            problems.small_counts.extend(_xlsx_problems(path, min_cell, symbol))
    return problems


def _file_texts(path: Path) -> Iterator[bytes]:
    if path.suffix.lower() == ".xlsx":
        with zipfile.ZipFile(path) as book:
            for name in book.namelist():
                yield book.read(name)
    else:
        yield path.read_bytes()


def _file_tokens(path: Path, min_length: int) -> set[bytes]:
    """The distinct whole tokens (letters, digits, underscores) of a file, of ``min_length`` up."""
    return {
        token
        for text in _file_texts(path)
        for token in _TOKEN.findall(text)
        if len(token) >= min_length
    }


def _hit(path: Path, hits: int) -> str:
    return f"{path.name}: {hits} identifier value(s)"


def find_identifiers(
    paths: Iterable[Path], identifiers: set[bytes], *, min_length: int = 8
) -> list[str]:
    """Files containing any identifier value as a whole token (letters, digits, underscores).

    Parameters
    ----------
    paths
        Files to read (spreadsheets are unzipped and every part read).
    identifiers
        Identifier values, encoded as UTF-8.
    min_length
        Shorter values are ignored: they would match ordinary numbers and words.

    Returns
    -------
    list of str
        One entry per file with a hit, naming the file and how many values were found (never
        the values themselves).
    """
    found = []
    for path in paths:
        hits = len(_file_tokens(path, min_length) & identifiers)
        if hits:
            found.append(_hit(path, hits))
    return found


def identifiers_in_warehouse(
    con: duckdb.DuckDBPyConnection, paths: Iterable[Path], *, min_length: int = 8
) -> tuple[list[str], int]:
    """Files containing, as a whole token, any id or name-hash value of a warehouse's raw tables.

    Raw tables hold every row read, quarantined ones included, so nothing escapes the scan. The
    files' tokens (a few thousand) are looked up in the warehouse, rather than its values (tens
    of millions nationally) collected in memory: the cost is one scan of each identifier column.

    Parameters
    ----------
    con
        The warehouse.
    paths
        Files to read (spreadsheets are unzipped and every part read).
    min_length
        Shorter tokens are ignored: they would match ordinary numbers and words.

    Returns
    -------
    found : list of str
        One entry per file with a hit, naming the file and how many values were found (never
        the values themselves).
    columns : int
        The number of identifier columns searched.
    """
    tokens = {path: {t.decode() for t in _file_tokens(path, min_length)} for path in paths}
    columns = [
        (table, column)
        for table, column in con.sql(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'raw' and table_catalog = current_database() order by all"
        ).fetchall()
        if IDENTIFIER_COLUMN.search(column)
    ]
    wanted = sorted(set().union(*tokens.values()))
    hits: set[str] = set()
    if wanted:
        for table, column in columns:
            value = f'trim(cast("{column}" as varchar))'
            rows = con.execute(
                f'select distinct {value} from raw."{table}" '
                f"where {value} in (select unnest($tokens))",
                {"tokens": wanted},
            ).fetchall()
            hits.update(row[0] for row in rows)
    found = [_hit(path, len(words & hits)) for path, words in tokens.items() if words & hits]
    return found, len(columns)


def scan_for_identifiers(
    folder: Path | str, con: duckdb.DuckDBPyConnection
) -> tuple[list[str], int]:
    """:func:`identifiers_in_warehouse` over every file of a folder."""
    return identifiers_in_warehouse(con, sorted(p for p in Path(folder).rglob("*") if p.is_file()))
