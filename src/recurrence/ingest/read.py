"""Reading one table file into ``raw.<table>``: every column as text, with row numbers.

CSV files are read in up to three passes, so that a clean file (the usual case) is read fast and a
damaged one loses no row:

1. the header record is read with Python's ``csv`` module (a UTF-8 byte order mark is dropped) and
   checked against the contract;
2. DuckDB's CSV reader, with rejects stored, checks the whole file for structural problems (wrong
   number of fields, broken quoting, invalid UTF-8) in parallel;
3. a clean file is then read by polars, whose row index is the data row number (``source_row``),
   and streamed into DuckDB through Arrow. If DuckDB found a problem, or polars and DuckDB disagree
   on the number of rows (blank lines), or polars fails, the file is read record by record with
   Python's ``csv`` module instead, which counts records (not lines, so quoted line breaks are fine)
   and marks each damaged record with its problem in ``source_problem`` rather than dropping it.

Both readers number rows the same way: the first record after the header is row 1, and a quoted
field holding a comma or a line break does not start a new row.
"""

from __future__ import annotations

import csv
import difflib
import io
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from recurrence.contract import TABLES_BY_NAME
from recurrence.errors import ExtractError
from recurrence.ingest.extract import ExtractInfo, unreadable_file

log = logging.getLogger(__name__)

SOURCE_ROW = "source_row"
SOURCE_PROBLEM = "source_problem"
BATCH_ROWS = 100_000
_HEADER_BYTES = 1 << 20
_BOM = "\ufeff"


def quote_ident(name: str) -> str:
    """Quote a column or table name for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def _shown(names: list[str], limit: int = 30) -> str:
    shown = ", ".join(repr(n[:40]) for n in names[:limit])
    if len(names) > limit:
        shown += f" and {len(names) - limit} more"
    return shown or "none"


_KNOWN_NAMES = {c.name for t in TABLES_BY_NAME.values() for c in t.columns}


def _shown_safely(names: list[str], also: Iterable[str] = ()) -> str:
    """List the names that are contract columns (or in ``also``); only count the rest.

    A damaged header can run into the first data row, so a name that is not a contract column
    may be an identifier and is never echoed, unless it is a near miss of a contract column
    (passed in ``also``), which is a misspelling, not data.
    """
    extra = set(also)
    known = [n for n in names if n.strip().lower() in _KNOWN_NAMES or n in extra]
    others = len(names) - len(known)
    shown = _shown(known)
    if others:
        shown += f"; and {others} other column name(s), not shown (they may hold data)"
    return shown


def near_misses(missing: Iterable[str], names: list[str]) -> dict[str, str]:
    """Each missing column with the header name that is most likely it, misspelt or mis-cased.

    >>> near_misses(["issue_date"], ["case_id", "Issue_Date "])
    {'issue_date': 'Issue_Date '}
    >>> near_misses(["issue_date"], ["case_id", "isue_date"])
    {'issue_date': 'isue_date'}
    >>> near_misses(["issue_date"], ["case_id", "Jane Smith"])
    {}
    """
    out: dict[str, str] = {}
    for column in missing:
        exact = [n for n in names if n.strip().lower() == column]
        if exact:
            out[column] = exact[0]
    unknown = {
        n.strip().lower(): n
        for n in names
        if n.strip().lower() not in _KNOWN_NAMES and n not in out.values()
    }
    for column in missing:
        if column in out:
            continue
        match = difflib.get_close_matches(column, list(unknown), n=1, cutoff=NEAR_MISS_CUTOFF)
        if match:
            out[column] = unknown.pop(match[0])
    return out


#: How alike a header name and a missing column must be to be named as its misspelling.
NEAR_MISS_CUTOFF = 0.8


def _check_header(path: Path, table_name: str, names: list[str]) -> list[str]:
    """Check column names against the contract; return them with blanks named ``unnamed_N``.

    Every problem of the header (repeated names, a reserved name, missing columns with their
    likely misspellings) is reported in one message, so one run finds them all.
    """
    table = TABLES_BY_NAME[table_name]
    names = [n if n.strip() else f"unnamed_{i}" for i, n in enumerate(names, start=1)]
    seen: dict[str, str] = {}
    duplicated: list[str] = []
    for name in names:
        folded = name.lower()
        if folded in seen:
            duplicated.append(name)
        seen.setdefault(folded, name)
    problems: list[str] = []
    todo: list[str] = []
    if duplicated:
        problems.append(
            "the header names some columns more than once: "
            f"{_shown_safely(sorted(set(duplicated)))} "
            "(names that differ only in upper and lower case count as the same)"
        )
        todo.append("give every column a different name, or remove the repeated columns")
    for reserved in (SOURCE_ROW, SOURCE_PROBLEM):
        if reserved in seen:
            problems.append(
                f"the file has a column called {reserved}, a name ingest keeps for itself"
            )
            todo.append(f"rename or remove {reserved}")
    missing = [c for c in table.required_columns if c not in names]
    if missing:
        contract_names = {c.name for c in table.columns}
        if not any(n.strip().lower() in contract_names for n in names):
            # The first row may be data, not a header: never show it, it may hold identifiers.
            raise ExtractError(
                str(path),
                f"none of the column names of the {table_name} table were found in the first "
                f"row, so the file seems to have no header row (required columns: "
                f"{', '.join(table.required_columns)}).",
                "Add a header row of column names as in docs/data_contract.md.",
            )
        near = near_misses(missing, names)
        hints = [f"{near[c][:40]!r} should be written exactly {c!r}" for c in missing if c in near]
        hint = f" ({'; '.join(hints)})" if hints else ""
        problems.append(
            f"required column(s) missing: {', '.join(missing)}{hint}. "
            f"Columns found: {_shown_safely(names, near.values())}"
        )
        todo.append(
            "add the missing columns with these exact lower-case names (see docs/data_contract.md)"
        )
    if problems:
        what = (
            "; ".join(problems)
            if len(problems) == 1
            else "".join(f" ({i}) {p};" for i, p in enumerate(problems, start=1))
            .strip()
            .rstrip(";")
        )
        fix = "; ".join(todo)
        raise ExtractError(str(path), f"{what}.", f"{fix[:1].upper()}{fix[1:]}.")
    return names


def _read_csv_header(path: Path, table_name: str) -> list[str]:
    with path.open("rb") as handle:
        head = handle.read(_HEADER_BYTES)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head.strip():
        raise ExtractError(
            str(path),
            "the file is empty: it has no header row.",
            "Export the table again with a header row of column names.",
        )
    text = head.decode("utf-8", errors="surrogateescape")
    not_csv = ExtractError(
        str(path),
        "the file does not look like a CSV text file (its first line is not UTF-8 text "
        "of comma-separated column names).",
        f"Save the table as UTF-8 CSV with a header row, or as Parquet named {table_name}.parquet.",
    )
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), strict=True))
    except (csv.Error, StopIteration):
        raise not_csv from None
    if any("\x00" in n or any("\udc80" <= ch <= "\udcff" for ch in n) for n in header):
        raise not_csv
    if len(head) == _HEADER_BYTES and "\n" not in text and "\r" not in text:
        raise not_csv
    return _check_header(path, table_name, header)


def _duckdb_row_count_if_clean(
    con: duckdb.DuckDBPyConnection, path: Path, n_columns: int
) -> int | None:
    """Rows in a CSV file if DuckDB finds no structural problem in it, else ``None``."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n_columns))
    counts = ", ".join(f"count(c{i})" for i in range(n_columns))
    con.execute("drop table if exists recurrence_ingest_rejects")
    con.execute("drop table if exists recurrence_ingest_reject_scans")
    try:
        total = con.execute(
            f"select count(*), {counts} from read_csv($path, all_varchar = true, header = true, "
            "delim = ',', quote = '\"', escape = '\"', auto_detect = false, "
            f"columns = {{{columns}}}, store_rejects = true, "
            "rejects_table = 'recurrence_ingest_rejects', "
            "rejects_scan = 'recurrence_ingest_reject_scans')",
            {"path": str(path)},
        ).fetchone()
        # DuckDB may not create the rejects table when it rejects nothing.
        exists = con.execute(
            "select count(*) from duckdb_tables() where table_name = 'recurrence_ingest_rejects'"
        ).fetchone()
        rejects = (
            con.execute("select count(*) from recurrence_ingest_rejects").fetchone()
            if exists and exists[0]
            else (0,)
        )
    except duckdb.Error:
        return None
    finally:
        con.execute("drop table if exists recurrence_ingest_rejects")
        con.execute("drop table if exists recurrence_ingest_reject_scans")
    if total is None or rejects is None or rejects[0] != 0:
        return None
    return int(total[0])


def _schema(names: list[str]) -> pa.Schema:
    return pa.schema(
        [pa.field(SOURCE_ROW, pa.int64())]
        + [pa.field(n, pa.string()) for n in names]
        + [pa.field(SOURCE_PROBLEM, pa.string())]
    )


def _polars_csv_reader(path: Path, names: list[str]) -> pa.RecordBatchReader:
    frame = (
        pl.scan_csv(
            path,
            has_header=True,
            new_columns=names,
            infer_schema=False,
            quote_char='"',
            encoding="utf8",
            row_index_name=SOURCE_ROW,
            row_index_offset=1,
            raise_if_empty=False,
        )
        .with_columns(
            pl.col(SOURCE_ROW).cast(pl.Int64), pl.lit(None, dtype=pl.String).alias(SOURCE_PROBLEM)
        )
        .select(
            SOURCE_ROW,
            # A quoted empty field ("") is empty too, as in the record-by-record reader.
            *(pl.when(pl.col(n) != "").then(pl.col(n)).alias(n) for n in names),
            SOURCE_PROBLEM,
        )
    )
    schema = _schema(names)

    def batches() -> Iterator[pa.RecordBatch]:
        for chunk in frame.collect_batches(chunk_size=BATCH_ROWS, maintain_order=True):
            yield from chunk.to_arrow().cast(schema).to_batches()

    return pa.RecordBatchReader.from_batches(schema, batches())


class _Lines:
    """Physical lines of a text file, with push-back, remembering the lines a record used."""

    def __init__(self, handle: io.TextIOBase) -> None:
        self._handle = handle
        self._pushed: list[str] = []
        self.taken: list[str] = []
        self._first = True

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._pushed.pop() if self._pushed else next(self._handle)
        if self._first:
            self._first = False
            line = line.removeprefix(_BOM)
        self.taken.append(line)
        return line

    def push_back(self, lines: list[str]) -> None:
        self._pushed.extend(reversed(lines))


def _has_bad_bytes(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _repair(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _loose_fields(line: str) -> list[str]:
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return [line.rstrip("\r\n")]


def _python_records(path: Path, names: list[str]) -> Iterator[tuple[list[str], list[str]]]:
    """Yield ``(fields, problems)`` for every data record, in file order, never skipping one."""
    n = len(names)
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as handle:
        lines = _Lines(handle)
        reader = csv.reader(lines, strict=True)
        header_done = False
        blank_rows = 0
        while True:
            lines.taken = []
            error: str | None = None
            try:
                record: list[str] | None = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                record = None
                error = (
                    f"a field is longer than {csv.field_size_limit():,} characters, far longer "
                    "than any value of the contract (a quote or line break may be missing)"
                    if "field limit" in str(exc)
                    else "a quoted field is not closed properly or has text after its closing quote"
                )
            taken = lines.taken
            if not header_done:
                header_done = True
                continue
            if record is not None and len(record) == 0:
                # Held back: blank lines at the very end of a file are not rows.
                blank_rows += 1
                continue
            for _ in range(blank_rows):
                yield [], ["row is blank"]
            blank_rows = 0
            if record is None or len(record) != n:
                if len(taken) > 1:
                    # A stray quote can swallow the lines after it: keep only the first line as
                    # this damaged row and read the others again as rows of their own.
                    lines.push_back(taken[1:])
                    record = _loose_fields(taken[0])
                    error = error or "a quote opened on this row is not closed on it"
                if record is None:
                    record = _loose_fields(taken[0]) if taken else []
                if any("\x00" in line for line in taken[:1]):
                    error = "row holds a NUL byte, so the file is not plain text here"
                problems = [error] if error else []
                if len(record) != n:
                    problems.append(
                        f"row has {len(record)} fields but the header has {n} "
                        "(a field may be missing, or a comma or quote may be out of place)"
                    )
                record = (record + [""] * n)[:n]
            else:
                problems = []
            bad = [names[i] for i, v in enumerate(record) if _has_bad_bytes(v)]
            if bad:
                problems.append(
                    "row holds bytes that are not valid UTF-8 text (in "
                    + ", ".join(b[:40] for b in bad)
                    + "); save the file as UTF-8"
                )
                record = [_repair(v) if _has_bad_bytes(v) else v for v in record]
            yield record, problems


def _python_csv_reader(path: Path, names: list[str]) -> pa.RecordBatchReader:
    schema = _schema(names)

    def batches() -> Iterator[pa.RecordBatch]:
        rows: list[list[str | None]] = []
        problems: list[str | None] = []
        row_numbers: list[int] = []
        for number, (record, found) in enumerate(_python_records(path, names), start=1):
            rows.append([v if v != "" else None for v in record] if record else [None] * len(names))
            problems.append("; ".join(found) if found else None)
            row_numbers.append(number)
            if len(rows) >= BATCH_ROWS:
                yield _batch(schema, names, row_numbers, rows, problems)
                rows, problems, row_numbers = [], [], []
        if rows or not row_numbers:
            yield _batch(schema, names, row_numbers, rows, problems)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _batch(
    schema: pa.Schema,
    names: list[str],
    row_numbers: list[int],
    rows: list[list[str | None]],
    problems: list[str | None],
) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = [pa.array(row_numbers, pa.int64())]
    arrays += [pa.array(list(col), pa.string()) for col in columns]
    arrays.append(pa.array(problems, pa.string()))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _parquet_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.Date:
        return col.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        midnight = col.dt.time() == pl.time(0, 0, 0)
        return (
            pl.when(midnight)
            .then(col.dt.to_string("%Y-%m-%d"))
            .otherwise(col.dt.to_string("%Y-%m-%dT%H:%M:%S"))
        )
    if dtype == pl.Boolean:
        return col.cast(pl.String)  # "true", "false" or null
    if dtype == pl.String:
        return col
    return col.cast(pl.String)


def _parquet_reader(path: Path, table_name: str) -> tuple[pa.RecordBatchReader, list[str]]:
    unreadable = ExtractError(
        str(path),
        "the file cannot be read as Parquet (it is damaged, incomplete or not Parquet).",
        "Export the table again, as Parquet or as UTF-8 CSV.",
    )
    try:
        arrow_schema = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        raise unreadable from None
    names = _check_header(path, table_name, list(arrow_schema.names))
    for field in arrow_schema:
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            raise ExtractError(
                str(path),
                f"column {field.name[:40]} holds binary data, not text.",
                "Store it as a string (UTF-8) column.",
            )
    try:
        frame = pl.scan_parquet(path)
        polars_schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError):
        raise unreadable from None
    frame = frame.rename(dict(zip(arrow_schema.names, names, strict=True)))
    exprs = [
        _parquet_expr(name, dtype).alias(name)
        for name, dtype in zip(names, polars_schema.values(), strict=True)
    ]
    frame = frame.with_row_index(SOURCE_ROW, offset=1).select(
        pl.col(SOURCE_ROW).cast(pl.Int64),
        *exprs,
        pl.lit(None, dtype=pl.String).alias(SOURCE_PROBLEM),
    )
    schema = _schema(names)

    def batches() -> Iterator[pa.RecordBatch]:
        for chunk in frame.collect_batches(chunk_size=BATCH_ROWS, maintain_order=True):
            yield from chunk.to_arrow().cast(schema).to_batches()

    return pa.RecordBatchReader.from_batches(schema, batches()), names


def _duckdb_parquet_text(name: str, field: pa.Field) -> str | None:
    """DuckDB SQL giving a Parquet column as the same text polars would, or None if unsure.

    Only the plain types an extract uses are handled here; any other type goes through
    polars (:func:`_parquet_expr`), so odd files are read exactly as before.
    """
    col = quote_ident(name)
    kind = field.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return col
    if pa.types.is_date32(kind):
        return f"cast({col} as varchar)"
    if pa.types.is_timestamp(kind) and kind.tz is None:
        return (
            f"case when cast({col} as time) = time '00:00:00' "
            f"then strftime({col}, '%Y-%m-%d') else strftime({col}, '%Y-%m-%dT%H:%M:%S') end"
        )
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        return f"cast({col} as varchar)"
    return None


def _create_raw_from_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, table_name: str
) -> int | None:
    """Read a Parquet file straight into ``raw.<table>`` with DuckDB; None if a type is unusual.

    Same table as the polars route (row number, every column as text, empty text as is,
    no problems), without turning 11 million rows into Python-side Arrow text first. Rows
    stay in file order: DuckDB keeps insertion order for a scan, so no sort is needed.
    """
    schema = pq.read_schema(path)
    names = _check_header(path, table_name, list(schema.names))
    exprs = [_duckdb_parquet_text(n, f) for n, f in zip(schema.names, schema, strict=True)]
    if any(e is None for e in exprs) or "file_row_number" in {n.lower() for n in names}:
        return None  # polars reads it (DuckDB's row-number column would clash with the file's)
    columns = ", ".join(
        f"{e} as {quote_ident(n)}" for e, n in zip(exprs, names, strict=True) if e is not None
    )
    con.execute("create schema if not exists raw")
    con.execute(
        f"create or replace table raw.{quote_ident(table_name)} as "
        f"select cast(file_row_number + 1 as bigint) as {SOURCE_ROW}, {columns}, "
        f"null::varchar as {SOURCE_PROBLEM} "
        "from read_parquet($path, file_row_number = true)",
        {"path": str(path)},
    )
    count = con.execute(f"select count(*) from raw.{quote_ident(table_name)}").fetchone()
    return int(count[0]) if count else 0


def _create_raw(
    con: duckdb.DuckDBPyConnection, table_name: str, reader: pa.RecordBatchReader
) -> int:
    con.execute("create schema if not exists raw")
    con.register("ingest_raw_stream", reader)
    try:
        con.execute(
            f"create or replace table raw.{quote_ident(table_name)} as "
            "select * from ingest_raw_stream"
        )
    finally:
        con.unregister("ingest_raw_stream")
    count = con.execute(f"select count(*) from raw.{quote_ident(table_name)}").fetchone()
    return int(count[0]) if count else 0


def load_raw_table(
    con: duckdb.DuckDBPyConnection,
    info: ExtractInfo,
    table_name: str,
    *,
    force_python_reader: bool = False,
) -> int:
    """(Re)create ``raw.<table_name>`` from the table's file, every column as text.

    The raw table has ``source_row`` (BIGINT, 1-based data row; the header is not a row), every
    column of the file as VARCHAR (empty fields as null), and ``source_problem`` (VARCHAR): a
    structural problem of that row (wrong number of fields, broken quoting, invalid UTF-8, blank
    row), or null. Such rows are kept here and quarantined by :func:`validate_table`.

    Parameters
    ----------
    con
        An open warehouse connection.
    info
        The extract, as read by :func:`read_extract_info`.
    table_name
        A contract table name.
    force_python_reader
        Read a CSV file record by record with Python's ``csv`` module even when it is clean
        (slower; used by tests to check that both readers agree).

    Returns
    -------
    int
        The number of rows read (0 for an absent optional table, whose raw table is created
        empty with the contract columns).

    Raises
    ------
    ExtractError
        If the file is empty, is not CSV or Parquet, cannot be read, lacks required columns or
        repeats a column name.
    """
    table = TABLES_BY_NAME[table_name]
    path = info.files.get(table_name)
    if path is None:
        names = [c.name for c in table.columns]
        return _create_raw(con, table_name, _python_reader_empty(names))
    try:
        return _load_file(con, info, table_name, path, force_python_reader)
    except _READ_ERRORS as exc:
        # Whatever else a reader raises on an odd file is still a problem of that file.
        raise unreadable_file(path, exc) from None


_READ_ERRORS = (
    OSError,
    UnicodeError,
    csv.Error,
    duckdb.Error,
    pl.exceptions.PolarsError,
    pa.ArrowException,
)


def _load_file(
    con: duckdb.DuckDBPyConnection,
    info: ExtractInfo,
    table_name: str,
    path: Path,
    force_python_reader: bool,
) -> int:
    if info.formats.get(table_name) == "parquet":
        reader, _ = _parquet_reader(path, table_name)
        try:
            rows = _create_raw_from_parquet(con, path, table_name)
            if rows is not None:
                return rows
            return _create_raw(con, table_name, reader)
        except (duckdb.Error, pl.exceptions.PolarsError, pa.ArrowException, OSError):
            raise ExtractError(
                str(path),
                "the file cannot be read as Parquet (it is damaged or incomplete).",
                "Export the table again, as Parquet or as UTF-8 CSV.",
            ) from None
    names = _read_csv_header(path, table_name)
    if not force_python_reader:
        expected = _duckdb_row_count_if_clean(con, path, len(names))
        if expected is not None:
            try:
                rows = _create_raw(con, table_name, _polars_csv_reader(path, names))
            except (duckdb.Error, pl.exceptions.PolarsError, pa.ArrowException):
                rows = -1
            if rows == expected:
                log.info("read %s: %d rows, clean, with polars", path.name, rows)
                return rows
    rows = _create_raw(con, table_name, _python_csv_reader(path, names))
    log.info("read %s: %d rows, record by record (structural problems found)", path.name, rows)
    return rows


def _python_reader_empty(names: list[str]) -> pa.RecordBatchReader:
    schema = _schema(names)
    return pa.RecordBatchReader.from_batches(schema, [_batch(schema, names, [], [], [])])
