"""Find and read source tables exported from a secure environment (CSV or Parquet).

A table is found by its SAIL name through a configurable pattern, so that ``CAFE_ECMS_CASES.csv``,
``CAFE_ECMS_CASES_20240111.csv`` and ``SAIL1661V.CAFE_ECMS_CASES_20240111.parquet`` are all the
same table. Every value is read as text (``None`` for an empty field); parsing is the adapter's
job, so that its rules, not a reader's guesses, decide what a value means.

Errors name the file, the row and the column and say how to fix the problem; they never quote a
value from the data.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from recurrence.errors import ConfigError, ExtractError


@dataclass(frozen=True)
class SourceTable:
    """One table as read: its file, refresh date (from the name, if any), columns and rows."""

    name: str
    path: Path
    refresh: dt.date | None
    columns: tuple[str, ...]
    rows: list[dict[str, str | None]]

    def require(self, *columns: str) -> None:
        """Stop with one clear message when any of ``columns`` is absent from the file."""
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise ExtractError(
                str(self.path),
                f"column(s) {', '.join(missing)} missing (columns found: "
                f"{', '.join(self.columns) or 'none'}).",
                "Export the table with all its columns (SELECT *), keeping the SAIL column names.",
            )


def compile_pattern(pattern: str, name: str) -> re.Pattern[str]:
    """The file-name pattern for table ``name``: ``pattern`` with ``{name}`` filled in."""
    if "{name}" not in pattern:
        raise ConfigError("Setting tables.pattern must contain {name} (the SAIL table name).")
    try:
        return re.compile(pattern.replace("{name}", re.escape(name)), re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(
            f"Setting tables.pattern is not a valid regular expression: {exc}."
        ) from None


def find_table(
    folder: Path, name: str, pattern: str, refresh_date: str = ""
) -> tuple[Path, dt.date | None] | None:
    """The file holding table ``name`` in ``folder`` and its refresh date, or None if absent.

    Several files for one table (two refreshes, or CSV and Parquet) are an error unless
    ``refresh_date`` (``YYYYMMDD``) picks one.
    """
    regex = compile_pattern(pattern, name)
    found: list[tuple[Path, dt.date | None]] = []
    for path in sorted(folder.iterdir()):
        match = regex.match(path.name)
        if not match or not path.is_file():
            continue
        refresh_text = match.groupdict().get("refresh")
        refresh = None
        if refresh_text:
            try:
                refresh = dt.datetime.strptime(refresh_text, "%Y%m%d").date()
            except ValueError:
                refresh = None
        if refresh_date and refresh_text != refresh_date:
            continue
        found.append((path, refresh))
    if len(found) > 1:
        raise ExtractError(
            str(folder),
            f"table {name} is held by {len(found)} files ({', '.join(p.name for p, _ in found)}).",
            'Keep one file per table, or pick one refresh with tables.refresh_date = "YYYYMMDD".',
        )
    return found[0] if found else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def read_table(path: Path, name: str, refresh: dt.date | None) -> SourceTable:
    """Read a CSV or Parquet file into text rows, with column names upper-cased."""
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            columns = tuple(c.upper() for c in table.column_names)
            rows = [
                {c: _text(v) for c, v in zip(columns, record.values(), strict=True)}
                for record in table.to_pylist()
            ]
        else:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                header = next(reader, None)
                if header is None:
                    raise ExtractError(
                        str(path), "the file is empty (no header row).", "Export it again."
                    )
                columns = tuple(h.strip().upper() for h in header)
                rows = []
                for number, record in enumerate(reader, start=1):
                    if len(record) != len(columns):
                        raise ExtractError(
                            str(path),
                            f"row {number} has {len(record)} fields where the header has "
                            f"{len(columns)}.",
                            "Export with every text field quoted, so that commas and line breaks "
                            "inside values do not split fields.",
                        )
                    rows.append(
                        {c: v.strip() or None for c, v in zip(columns, record, strict=True)}
                    )
    except ExtractError:
        raise
    except UnicodeDecodeError:
        raise ExtractError(
            str(path), "the file is not UTF-8 text.", "Export it as UTF-8."
        ) from None
    except Exception as exc:  # any reader failure; the reader's own text may quote a value
        raise ExtractError(
            str(path), f"the file could not be read ({type(exc).__name__}).", "Export it again."
        ) from None
    if len(set(columns)) != len(columns):
        raise ExtractError(str(path), "a column name appears twice.", "Export it again.")
    return SourceTable(name, path, refresh, columns, rows)


def parse_date(
    value: str | None, formats: tuple[str, ...], table: SourceTable, row: int, column: str
) -> dt.date | None:
    """Parse a date in any of ``formats``; stop naming file, row and column when none fits."""
    if value is None:
        return None
    if len(value) == 10 and "%Y-%m-%d" in formats and value[4] == "-" and value[7] == "-":
        try:  # the common case, much faster than strptime
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    for fmt in formats:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ExtractError(
        str(table.path),
        f"row {row}, column {column}: the date cannot be read in any of the formats "
        f"{', '.join(formats)}.",
        "Export dates as YYYY-MM-DD, or add the format used to tables.date_formats in the "
        "adapter settings.",
    )
