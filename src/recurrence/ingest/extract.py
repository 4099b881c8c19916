"""The extract folder: ``extract.toml``, which file holds each table, and file checksums."""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from recurrence.contract import TABLES
from recurrence.errors import ExtractError

EXTRACT_TOML = "extract.toml"
#: How ``recurrence synth`` begins the ``source`` of every extract it writes.
SYNTHETIC_SOURCE_PREFIX = "recurrence synthetic generator"
#: What the report, its PDF and the spreadsheet's cover say first when the extract is synthetic.
SYNTHETIC_BANNER = (
    "Synthetic data: these figures were made from a simulated extract for testing and "
    "demonstration, not from records of real people. They are not statistics about England "
    "and Wales and must not be quoted as such."
)
FORMATS: tuple[str, ...] = ("csv", "parquet")


@dataclass(frozen=True)
class ExtractInfo:
    """What an extract folder holds, as read by :func:`read_extract_info`.

    Attributes
    ----------
    directory
        The extract folder.
    extract_end_date
        Last date covered by the extract; later dates are rejected as impossible.
    source
        Free text naming the data provider and extract.
    description
        Optional free text.
    synthetic
        True when the data are simulated, not records of real people: ``synthetic = true`` in
        ``extract.toml``, or (when that key is absent) a ``source`` written by
        ``recurrence synth``. Readers of the report and spreadsheet are told so.
    files
        Contract table name -> its file, or ``None`` for an absent optional table.
    formats
        Contract table name -> ``"csv"`` or ``"parquet"`` (``None`` when absent).
    sha256
        Contract table name -> hex SHA-256 of the file (absent tables left out).
    size
        Contract table name -> file size in bytes (absent tables left out).
    """

    directory: Path
    extract_end_date: dt.date
    source: str
    description: str | None
    synthetic: bool = False
    files: dict[str, Path | None] = field(default_factory=dict)
    formats: dict[str, str | None] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)

    def file_name(self, table_name: str) -> str:
        """Name of the file holding ``table_name`` (``NAME.csv`` if the table is absent)."""
        path = self.files.get(table_name)
        return path.name if path is not None else f"{table_name}.csv"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise unreadable_file(path, exc) from None
    return digest.hexdigest()


def unreadable_file(path: Path, exc: BaseException) -> ExtractError:
    """The one-line error for a table file that exists but cannot be opened or read.

    The library's own message is not echoed (a reader's message may quote a value from the
    file); only the kind of failure is named.
    """
    if isinstance(exc, PermissionError):
        return ExtractError(
            str(path),
            "the file cannot be opened: permission denied.",
            "Give the user that runs recurrence read permission on the file "
            "(or copy the extract to a folder it can read).",
        )
    return ExtractError(
        str(path),
        f"the file cannot be read ({type(exc).__name__}).",
        "Check that it is a complete, readable copy of the table; export it again if not.",
    )


def _table_file(directory: Path, name: str) -> Path | None:
    """The file ``name`` in the extract folder, None if absent; an error if it is not a file.

    A directory, a FIFO or a symbolic link that cannot be followed (a loop, or pointing at
    nothing) in place of a table file is an error naming it, not a missing table.
    """
    path = directory / name
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except (OSError, RuntimeError):
            raise ExtractError(
                str(path),
                "the file is a symbolic link that cannot be followed (it points at itself, "
                "at a loop of links or at nothing).",
                "Replace the link with the file itself, or point it at the table's file.",
            ) from None
    try:
        exists = path.exists()
        regular = path.is_file()
    except OSError as exc:
        raise unreadable_file(path, exc) from None
    if not exists:
        return None
    if not regular:
        what = "a folder" if path.is_dir() else "not a regular file (a pipe, socket or device)"
        raise ExtractError(
            str(path),
            f"the table's file is {what}.",
            "Put the table's CSV or Parquet file itself at this path.",
        )
    return path


def check_end_date(info: ExtractInfo, latest: dt.date | None, max_gap_days: int) -> None:
    """Refuse an ``extract_end_date`` that cannot be true.

    Parameters
    ----------
    info
        The extract.
    latest
        The latest issue or final hearing date among the loaded cases (None when none loaded).
    max_gap_days
        ``ingest.max_end_date_gap_days``: how far the end date may lie after ``latest``.

    Raises
    ------
    ExtractError
        If the end date is after today, or more than ``max_gap_days`` after ``latest``.
    """
    toml_path = info.directory / EXTRACT_TOML
    end = info.extract_end_date
    if end > dt.date.today():
        raise ExtractError(
            str(toml_path),
            "extract_end_date is in the future (after the day this run started), so follow-up "
            "after today would be counted as time in which no mother returned.",
            "Set extract_end_date to the last day the extract covers.",
        )
    if latest is not None and (end - latest).days > max_gap_days:
        raise ExtractError(
            str(toml_path),
            f"extract_end_date is {(end - latest).days} days after the latest issue or final "
            f"hearing date in cases, more than ingest.max_end_date_gap_days = {max_gap_days}; "
            "follow-up would run on long after the data stop.",
            "Set extract_end_date to the last day the extract covers (or raise "
            "ingest.max_end_date_gap_days if the extract really has no proceedings that late).",
        )


def _end_date(value: object, toml_path: Path) -> dt.date:
    fix = "Write it as a TOML date or an ISO string, such as extract_end_date = 2024-03-31."
    if isinstance(value, dt.datetime):
        raise ExtractError(str(toml_path), "extract_end_date holds a time as well as a date.", fix)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            if len(value.strip()) != 10:
                raise ValueError
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ExtractError(str(toml_path), "extract_end_date is not a valid date.", fix)


def is_synthetic_source(source: str | None) -> bool:
    """True when an extract's ``source`` is one ``recurrence synth`` writes.

    >>> is_synthetic_source("recurrence synthetic generator v1.0.0, seed 1, scale sample")
    True
    >>> is_synthetic_source("HMCTS family court extract, March 2024")
    False
    """
    return bool(source) and source.strip().lower().startswith(SYNTHETIC_SOURCE_PREFIX)


def extract_is_synthetic(info: object) -> bool:
    """Whether a run's ``audit.extract_info`` (a polars frame, one row) describes synthetic data.

    Reads the ``synthetic`` column; a warehouse written before that column existed is judged by
    its ``source`` (see :func:`is_synthetic_source`). An empty or missing table is not synthetic.
    """
    import polars as pl

    if not isinstance(info, pl.DataFrame) or info.height == 0:
        return False
    row = info.row(0, named=True)
    if row.get("synthetic") is not None:
        return bool(row["synthetic"])
    return is_synthetic_source(row.get("source"))


def read_extract_info(extract_dir: Path, *, checksums: bool = True) -> ExtractInfo:
    """Read ``extract.toml`` and find the file of every contract table.

    Parameters
    ----------
    extract_dir
        The extract folder.
    checksums
        Compute SHA-256 checksums (a full read of every file; at national scale this takes
        seconds, so steps that only need to find the files skip it).

    Returns
    -------
    ExtractInfo
        The extract's metadata, files, formats, sizes and SHA-256 checksums.

    Raises
    ------
    ExtractError
        If the folder or ``extract.toml`` is missing or invalid, ``extract_end_date`` is in the
        future, a required table has no file, a table has both a CSV and a Parquet file, or a
        table's file is a folder, a pipe, a broken symbolic link or cannot be read.
    """
    directory = Path(extract_dir)
    if not directory.is_dir():
        raise ExtractError(
            str(directory),
            "the extract folder does not exist.",
            "Check the path (paths.extract in the configuration, or --extract).",
        )
    toml_path = directory / EXTRACT_TOML
    if not toml_path.is_file():
        raise ExtractError(
            str(toml_path),
            "extract.toml is missing.",
            'Add it with at least extract_end_date = YYYY-MM-DD and source = "..." '
            "(see docs/data_contract.md).",
        )
    try:
        text = toml_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise unreadable_file(toml_path, exc) from None
    try:
        meta = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExtractError(
            str(toml_path),
            f"extract.toml is not valid TOML ({exc}).",
            "Fix the syntax: one key = value per line, strings in double quotes.",
        ) from None
    for key in ("extract_end_date", "source"):
        if key not in meta:
            raise ExtractError(
                str(toml_path),
                f"extract.toml has no {key}.",
                'Add extract_end_date = YYYY-MM-DD and source = "..." (see docs/data_contract.md).',
            )
    end = _end_date(meta["extract_end_date"], toml_path)
    source = meta["source"]
    description = meta.get("description")
    if not isinstance(source, str) or not source.strip():
        raise ExtractError(
            str(toml_path), "source must be non-empty text.", 'Write it as source = "...".'
        )
    if description is not None and not isinstance(description, str):
        raise ExtractError(
            str(toml_path), "description must be text.", 'Write it as description = "...".'
        )

    synthetic = meta.get("synthetic")
    if synthetic is None:
        synthetic = is_synthetic_source(source)
    elif not isinstance(synthetic, bool):
        raise ExtractError(
            str(toml_path),
            "synthetic must be true or false.",
            "Write it as synthetic = true (simulated data) or synthetic = false (real records).",
        )

    files: dict[str, Path | None] = {}
    formats: dict[str, str | None] = {}
    sha: dict[str, str] = {}
    size: dict[str, int] = {}
    for table in TABLES:
        found = [
            p for fmt in FORMATS if (p := _table_file(directory, f"{table.name}.{fmt}")) is not None
        ]
        if len(found) > 1:
            raise ExtractError(
                str(directory / table.name),
                f"both {table.name}.csv and {table.name}.parquet are present.",
                "Keep exactly one file per table and remove the other.",
            )
        if not found:
            if table.required:
                raise ExtractError(
                    str(directory / f"{table.name}.csv"),
                    f"the required table {table.name} is missing: there is neither "
                    f"{table.name}.csv nor {table.name}.parquet in the extract folder.",
                    "Add the file (names are lower case and exact; see docs/data_contract.md).",
                )
            files[table.name] = None
            formats[table.name] = None
            continue
        path = found[0]
        files[table.name] = path
        formats[table.name] = path.suffix.lstrip(".")
        if checksums:
            sha[table.name] = _sha256(path)
        try:
            size[table.name] = path.stat().st_size
        except OSError as exc:
            raise unreadable_file(path, exc) from None
    info = ExtractInfo(
        directory=directory,
        extract_end_date=end,
        source=source,
        description=description,
        synthetic=synthetic,
        files=files,
        formats=formats,
        sha256=sha,
        size=size,
    )
    check_end_date(info, None, 0)
    return info


def record_extract_info(con: duckdb.DuckDBPyConnection, info: ExtractInfo) -> None:
    """(Re)write ``audit.extract_info`` (one row) and ``audit.extract_files`` (one row per file).

    Nothing time-dependent is stored, so re-running on the same extract writes identical tables.

    Parameters
    ----------
    con
        An open warehouse connection (see :func:`recurrence.warehouse.connect`).
    info
        The extract, as read by :func:`read_extract_info`.
    """
    con.execute("create schema if not exists audit")
    con.execute(
        "create or replace table audit.extract_info as select "
        "$extract_end_date::date as extract_end_date, $source::varchar as source, "
        "$description::varchar as description, $directory::varchar as directory, "
        "$synthetic::boolean as synthetic",
        {
            "extract_end_date": info.extract_end_date,
            "source": info.source,
            "description": info.description,
            "directory": str(info.directory),
            "synthetic": info.synthetic,
        },
    )
    con.execute(
        "create or replace table audit.extract_files (table_name varchar not null, "
        "file_name varchar, format varchar, size_bytes bigint, sha256 varchar)"
    )
    for table in TABLES:
        path = info.files.get(table.name)
        con.execute(
            "insert into audit.extract_files values "
            "($table_name, $file_name, $format, $size_bytes, $sha256)",
            {
                "table_name": table.name,
                "file_name": path.name if path is not None else None,
                "format": info.formats.get(table.name),
                "size_bytes": info.size.get(table.name),
                "sha256": info.sha256.get(table.name),
            },
        )
