"""The DuckDB warehouse: opening it safely, and reading its tables as polars frames."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from recurrence.safety import open_for_writing_error

SCHEMAS: tuple[str, ...] = ("raw", "staging", "audit", "linkage", "analysis", "published")


def _open(path: Path, *, read_only: bool, config: dict) -> duckdb.DuckDBPyConnection:
    """Open with DuckDB, turning "another program holds this file" into one clear error."""
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        error = open_for_writing_error(path, exc)
        if error is None:
            raise
        raise error from None


def connect(
    path: Path | str, *, read_only: bool = False, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file, with every project schema present.

    A new warehouse file is made readable by its owner only, because it holds pseudonymised but
    still personal data.

    Parameters
    ----------
    path
        The warehouse file; its parent folder is created when missing.
    read_only
        Open without the ability to write (several readers may then share the file).
    memory_limit
        Most memory DuckDB may use, such as ``"4GB"``; beyond it DuckDB spills to disk.

    Raises
    ------
    recurrence.safety.WarehouseBusyError
        When another program (a notebook, say) has the file open for writing.
    """
    path = Path(path)
    settings = {"memory_limit": memory_limit} if memory_limit else {}
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"No warehouse at {path}: run `recurrence run` first.")
        return _open(path, read_only=True, config=settings)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    # A umask of 077 while connecting makes a new file owner-only from the moment it exists.
    # DuckDB creates its write-ahead log later, at the first write: runs hold the same umask
    # for their whole length (recurrence.safety.private_umask) and write inside an owner-only
    # build folder, so the log is never readable by anyone else either.
    old_umask = os.umask(0o077)
    try:
        con = _open(path, read_only=False, config=settings)
    finally:
        os.umask(old_umask)
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    return con


class Warehouse:
    """Read-only view of a warehouse for notebooks: tables as polars frames.

    Examples
    --------
    >>> wh = open_warehouse("warehouse/recurrence.duckdb")  # doctest: +SKIP
    >>> wh.tables()  # doctest: +SKIP
    ['audit.ingest_accounting', 'audit.quarantine', 'staging.births', ...]
    >>> wh.table("staging.cases").head()  # doctest: +SKIP
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._con = connect(self.path, read_only=True)

    def tables(self) -> list[str]:
        """Names of all tables, as ``schema.table``."""
        rows = self._con.sql(
            "select table_schema || '.' || table_name from information_schema.tables order by 1"
        ).fetchall()
        return [r[0] for r in rows]

    def table(self, name: str) -> pl.DataFrame:
        """Read a whole table, named ``schema.table``, as a polars frame."""
        if name not in self.tables():
            raise KeyError(f"No table {name} in {self.path}; see Warehouse.tables().")
        schema, table = name.split(".", 1)
        return self._con.sql(f'select * from "{schema}"."{table}"').pl()

    def sql(self, query: str, **params: object) -> pl.DataFrame:
        """Run a read-only query, binding ``$name`` parameters, and return a polars frame."""
        return self._con.execute(query, params or None).pl()

    def close(self) -> None:
        """Close the connection."""
        self._con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the connection's own database holds table ``name`` (``schema.table``).

    Steps that read what an earlier stage may not have made (an optional table, a warehouse
    built before a stage existed) ask here rather than catching DuckDB's catalog error.
    """
    schema, table = name.split(".")
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = $s and "
        "table_name = $t and table_catalog = current_database()",
        {"s": schema, "t": table},
    ).fetchone()
    return bool(row and row[0])


def open_warehouse(path: Path | str) -> Warehouse:
    """Open a warehouse read-only for exploration; see :class:`Warehouse`."""
    return Warehouse(path)


def table_fingerprints(path: Path | str) -> dict[str, tuple[int, int]]:
    """Row count and an order-free hash of all rows of every table, to compare two warehouses.

    Two runs on the same extract with the same configuration give equal fingerprints.

    Parameters
    ----------
    path
        The warehouse file (opened read-only).

    Returns
    -------
    dict
        ``schema.table`` to (rows, sum of the rows' hashes).
    """
    con = connect(path, read_only=True)
    try:
        tables = con.sql(
            "select table_schema, table_name from information_schema.tables order by all"
        ).fetchall()
        out = {}
        for schema, table in tables:
            row = con.sql(f'select count(*), sum(hash(x)) from "{schema}"."{table}" as x')
            count, total = row.fetchone() or (0, None)
            out[f"{schema}.{table}"] = (int(count), int(total or 0))
        return out
    finally:
        con.close()
