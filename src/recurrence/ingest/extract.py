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
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        If the folder or ``extract.toml`` is missing or invalid, a required table has no file, or
        a table has both a CSV and a Parquet file.
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
        meta = tomllib.loads(toml_path.read_text(encoding="utf-8"))
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

    files: dict[str, Path | None] = {}
    formats: dict[str, str | None] = {}
    sha: dict[str, str] = {}
    size: dict[str, int] = {}
    for table in TABLES:
        found = [directory / f"{table.name}.{fmt}" for fmt in FORMATS]
        found = [p for p in found if p.is_file()]
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
        size[table.name] = path.stat().st_size
    return ExtractInfo(
        directory=directory,
        extract_end_date=end,
        source=source,
        description=description,
        files=files,
        formats=formats,
        sha256=sha,
        size=size,
    )


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
        "$description::varchar as description, $directory::varchar as directory",
        {
            "extract_end_date": info.extract_end_date,
            "source": info.source,
            "description": info.description,
            "directory": str(info.directory),
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
