"""Independent recounts that guard the warehouse: nothing lost, keys unique, references intact.

These read the tables as written and never trust the counts the ingest step reported about
itself, so an asset check built on them can fail when ingest is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from recurrence.contract import TABLES_BY_NAME, ForeignKey, referenced_key


def _count(con: duckdb.DuckDBPyConnection, query: str, **params: object) -> int:
    row = con.execute(query, params or None).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Accounting:
    """Rows of one table read from the extract, loaded to staging and quarantined."""

    table_name: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int

    @property
    def balanced(self) -> bool:
        """True when every row read was either loaded or quarantined, and none was both."""
        return self.rows_read == self.rows_loaded + self.rows_quarantined


def recount_accounting(con: duckdb.DuckDBPyConnection, table_name: str) -> Accounting:
    """Count rows in ``raw.<table>``, ``staging.<table>`` and quarantined source rows.

    A source row that is both loaded and quarantined counts as quarantined and loaded, which
    makes the balance fail, as it should.
    """
    table = TABLES_BY_NAME[table_name].name
    return Accounting(
        table,
        rows_read=_count(con, f"select count(*) from raw.{table}"),
        rows_loaded=_count(con, f"select count(*) from staging.{table}"),
        rows_quarantined=_count(
            con,
            "select count(distinct source_row) from audit.quarantine where table_name = $table",
            table=table,
        ),
    )


def count_duplicate_keys(con: duckdb.DuckDBPyConnection, table_name: str) -> int:
    """Number of staging rows whose contract key is shared with another staging row."""
    table = TABLES_BY_NAME[table_name]
    return count_rows_sharing_key(con, f"staging.{table.name}", table.key)


def count_rows_sharing_key(con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str]) -> int:
    """Rows of ``table`` (``schema.table``) whose ``key`` columns equal another row's."""
    columns = ", ".join(key)
    return _count(
        con,
        f"select coalesce(sum(n), 0) from (select count(*) as n from {table} "
        f"group by {columns} having count(*) > 1)",
    )


def count_missing_required(con: duckdb.DuckDBPyConnection, table_name: str) -> dict[str, int]:
    """Nulls in each required column of ``staging.<table>`` (only columns with any are listed)."""
    table = TABLES_BY_NAME[table_name]
    counts = ", ".join(f"count(*) filter (where {c} is null)" for c in table.required_columns)
    row = con.sql(f"select {counts} from staging.{table.name}").fetchone() or ()
    return {c: int(n) for c, n in zip(table.required_columns, row, strict=True) if n}


def count_orphans(con: duckdb.DuckDBPyConnection, table_name: str, fk: ForeignKey) -> int:
    """Staging rows of ``table_name`` whose reference ``fk`` names no row of its staging table.

    A reference with a missing part counts as an orphan too: after ingest every reference
    column of a loaded row is filled (they are required), so a null here is a fault as well.
    """
    table = TABLES_BY_NAME[table_name].name
    match = " and ".join(
        f"p.{c} = r.{k}" for c, k in zip(fk.columns, referenced_key(fk), strict=True)
    )
    return _count(
        con,
        f"select count(*) from staging.{table} p anti join staging.{fk.table} r on {match}",
    )
