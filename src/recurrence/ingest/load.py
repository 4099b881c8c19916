"""Validating ``raw.<table>`` into ``staging.<table>``, with a quarantine and row accounting."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from recurrence.config import IngestConfig
from recurrence.contract import TABLES, TABLES_BY_NAME, ForeignKey, Table, referenced_key
from recurrence.errors import ExtractError
from recurrence.ingest.extract import (
    ExtractInfo,
    check_end_date,
    read_extract_info,
    record_extract_info,
)
from recurrence.ingest.plausibility import build_plausibility
from recurrence.ingest.read import SOURCE_PROBLEM, SOURCE_ROW, load_raw_table, quote_ident
from recurrence.ingest.rules import (
    EXPECTED,
    SQL_TYPES,
    Rule,
    column_rules,
    describe_shape,
    lit,
    normalise_expr,
    o,
    reason_sql,
    t,
    typed_expr,
    v,
)

_NORM = "ingest_norm"
_SUSPECT = "ingest_suspect"
_FAILS = "ingest_fails"
_BUILDING_SUFFIX = "__validating"
_PROBLEMS = "ingest_problems"
_TABLE_ORDER = "case " + " ".join(f"when {lit(x.name)} then {i}" for i, x in enumerate(TABLES))
_TABLE_ORDER += " else 99 end"
_MAX_ROWS_SHOWN = 10


@dataclass(frozen=True)
class TableAccounting:
    """What happened to the rows of one table: ``rows_read == rows_loaded + rows_quarantined``.

    Attributes
    ----------
    table_name
        Contract table name.
    source_file
        Name of the file read (``NAME.csv`` for an absent optional table).
    rows_read
        Data rows in the file.
    rows_loaded
        Rows written to ``staging.<table>``.
    rows_quarantined
        Distinct rows with at least one problem in ``audit.quarantine``.
    problems_by_rule
        Rule name -> number of problems found (a row may have several).
    """

    table_name: str
    source_file: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    problems_by_rule: dict[str, int] = field(default_factory=dict)


def _scalar(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None) -> int:
    row = con.execute(query, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _raw_columns(con: duckdb.DuckDBPyConnection, table_name: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = $t",
        {"t": table_name},
    ).fetchall()
    if not rows:
        raise ExtractError(
            f"raw.{table_name}",
            "the raw table does not exist.",
            "Load it first with load_raw_table (or use ingest_extract).",
        )
    return {r[0] for r in rows}


def _build_normalised(con: duckdb.DuckDBPyConnection, table: Table, raw_columns: set[str]) -> None:
    parts = [quote_ident(SOURCE_ROW), quote_ident(SOURCE_PROBLEM)]
    for column in table.columns:
        value, original = normalise_expr(column, raw_columns)
        parts.append(f"{value} as {v(column.name)}")
        if original is not None:
            parts.append(f"{original} as {o(column.name)}")
    inner = ", ".join(parts)
    typed = [f"{expr} as {t(c.name)}" for c in table.columns if (expr := typed_expr(c)) is not None]
    con.execute(
        f"create or replace temp view {_NORM} as select *{', ' if typed else ''}"
        f"{', '.join(typed)} from (select {inner} from raw.{quote_ident(table.name)})"
    )


def _exists(con: duckdb.DuckDBPyConnection, query: str) -> bool:
    return con.execute(query).fetchone() is not None


def _check_whole_columns(
    con: duckdb.DuckDBPyConnection, table: Table, source_file: str, path: Path | None
) -> None:
    problem = quote_ident(SOURCE_PROBLEM)
    for column in table.columns:
        if column.kind not in EXPECTED:
            continue
        # In a usable column the first rows parse, so this stops at once; only a column with no
        # readable value is read to the end.
        if _exists(
            con,
            f"select 1 from {_NORM} where {problem} is null and {t(column.name)} is not null "
            "limit 1",
        ) or not _exists(
            con,
            f"select 1 from {_NORM} where {problem} is null and {v(column.name)} is not null "
            "limit 1",
        ):
            continue
        shape_row = con.execute(
            f"select regexp_replace(regexp_replace({v(column.name)}, '[0-9]', '9', 'g'), "
            f"'[^\\W\\d_]', 'A', 'g') as shape, count(*) as n from {_NORM} "
            f"where {v(column.name)} is not null group by shape order by n desc, shape limit 1"
        ).fetchone()
        shape = shape_row[0] if shape_row else ""
        raise ExtractError(
            str(path) if path is not None else source_file,
            f"no value of {column.name} could be read as {EXPECTED[column.kind]}: "
            f"its values are written as {describe_shape(column.kind, shape)}.",
            f"Write every {column.name} as {EXPECTED[column.kind]}, and export the file again.",
        )


def _rule_params(info: ExtractInfo, config: IngestConfig) -> dict[str, object]:
    end = info.extract_end_date
    return {
        "extract_end_date": end,
        "extract_end_month": f"{end.year:04d}-{end.month:02d}",
        "extract_end_year": end.year,
        "earliest_issue_date": config.earliest_issue_date,
        "earliest_birth_year_month": config.earliest_birth_year_month,
    }


def _bound(query: str, params: dict[str, object]) -> dict[str, object] | None:
    return {k: p for k, p in params.items() if f"${k}" in query} or None


def _write_building(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    building: str,
    rules: list[Rule],
    params: dict[str, object],
) -> None:
    """Write every row, typed, to the building table, with a flag on rows that fail a check.

    This is the only pass that normalises and types every value: the checks read the few
    flagged rows afterwards, and the table becomes ``staging.<table>`` once they are deleted.
    The flag must be built from the same ``rules`` as :func:`_column_problems` gives reasons
    for, or a flagged row could be deleted with no reason in the quarantine.
    """
    parts = [quote_ident(SOURCE_ROW), quote_ident(SOURCE_PROBLEM)]
    for column in table.columns:
        source = t(column.name) if typed_expr(column) is not None else v(column.name)
        if column.name == "live_birth":
            source = f"coalesce({source}, true)"
        parts.append(f"cast({source} as {SQL_TYPES[column.kind]}) as {quote_ident(column.name)}")
    failing = " or ".join(
        [f"{quote_ident(SOURCE_PROBLEM)} is not null"] + [f"({rule.condition})" for rule in rules]
    )
    parts.append(f"coalesce({failing}, false) as {_FAILS}")
    con.execute("create schema if not exists staging")
    query = f"create or replace table {building} as select {', '.join(parts)} from {_NORM}"
    con.execute(query, _bound(query, params))


def _column_problems(
    con: duckdb.DuckDBPyConnection, building: str, rules: list[Rule], params: dict[str, object]
) -> None:
    row, problem = quote_ident(SOURCE_ROW), quote_ident(SOURCE_PROBLEM)
    flagged = _scalar(con, f"select count(*) from {building} where {_FAILS}")
    # The rules read only the flagged rows (normalised again from raw), not millions of rows.
    rows = f"where {row} in (select {row} from {building} where {_FAILS})"
    con.execute(
        f"create or replace temp table {_SUSPECT} as select * from {_NORM} "
        + (rows if flagged else "limit 0")
    )
    selects = [
        f"select {row} as source_row, null::varchar as column_name, 'structure' as rule, "
        f"{problem} as reason from {_SUSPECT} where {problem} is not null"
    ]
    for rule in rules:
        column = "null::varchar" if rule.column is None else lit(rule.column)
        selects.append(
            f"select {row}, {column}, {lit(rule.name)}, {reason_sql(rule)} from {_SUSPECT} "
            f"where {problem} is null and ({rule.condition})"
        )
    query = f"create or replace temp table {_PROBLEMS} as " + " union all ".join(selects)
    con.execute(query, _bound(query, params))


def _rows_phrase(rows: list[int]) -> str:
    shown = rows[:_MAX_ROWS_SHOWN]
    if len(rows) > len(shown):
        return "rows " + ", ".join(map(str, shown)) + f" and {len(rows) - len(shown)} more"
    return "rows " + ", ".join(map(str, shown[:-1])) + f" and {shown[-1]}"


def _key_problems(con: duckdb.DuckDBPyConnection, table: Table, building: str) -> None:
    keys = ", ".join(v(k) for k in table.key)
    values = ", ".join(v(c.name) for c in table.columns)
    not_null = " and ".join(f"{v(k)} is not null" for k in table.key)
    # A hash count of distinct keys is far cheaper than the window query below on millions of
    # rows, and in a clean table it finds no repeated key, so the window is skipped. Text keys
    # are counted in the building table, where they are stored as normalised; typed keys from
    # their normalised text, so that '2016' and '02016' stay two keys, as in the window query.
    columns = {c.name: c for c in table.columns}
    if any(typed_expr(columns[k]) is not None for k in table.key):
        source, counted, present = _NORM, keys, not_null
    else:
        source = building
        counted = ", ".join(quote_ident(k) for k in table.key)
        present = " and ".join(f"{quote_ident(k)} is not null" for k in table.key)
    repeated = _scalar(
        con,
        f"select count(*) - count(distinct ({counted})) from {source} "
        f"where {quote_ident(SOURCE_PROBLEM)} is null and {present}",
    )
    if not repeated:
        return
    groups = con.execute(
        f"with base as (select {quote_ident(SOURCE_ROW)} as r, {values} from {_NORM} "
        f"where {quote_ident(SOURCE_PROBLEM)} is null and {not_null}), "
        f"counted as (select *, count(*) over (partition by {keys}) as n_key from base), "
        f"dups as (select r, n_key, dense_rank() over (order by {keys}) as grp, "
        f"count(*) over (partition by {values}) as n_copy, "
        f"min(r) over (partition by {values}) as first_copy from counted where n_key > 1) "
        "select grp, r, n_key, n_copy, first_copy from dups order by grp, r"
    ).fetchall()
    key_names = " and ".join(table.key)
    key_label = table.key[0] if len(table.key) == 1 else f"{key_names} together"
    subject = f"the same {table.key[0]}" if len(table.key) == 1 else "the same pair"
    verb = "is" if len(table.key) == 1 else "are"
    by_group: dict[int, list[tuple[int, int, int, int]]] = {}
    for grp, r, n_key, n_copy, first in groups:
        by_group.setdefault(grp, []).append((r, n_key, n_copy, first))
    out_rows: list[int] = []
    out_rules: list[str] = []
    out_reasons: list[str] = []
    for members in by_group.values():
        rows = [m[0] for m in members]
        conflicting = any(n_copy != n_key for _, n_key, n_copy, _ in members)
        for r, _, _, first in members:
            if conflicting:
                out_rows.append(r)
                out_rules.append("duplicate_key")
                out_reasons.append(
                    f"{key_label} {verb} not unique: {subject} is on {len(rows)} rows "
                    f"({_rows_phrase(rows)}) with different values, so none can be trusted"
                )
            elif r != first:
                out_rows.append(r)
                out_rules.append("duplicate_row")
                out_reasons.append(f"exact duplicate of row {first}")
    if not out_rows:
        return
    frame = pa.table(
        {
            "source_row": pa.array(out_rows, pa.int64()),
            "column_name": pa.array([", ".join(table.key)] * len(out_rows), pa.string()),
            "rule": pa.array(out_rules, pa.string()),
            "reason": pa.array(out_reasons, pa.string()),
        }
    )
    con.register("ingest_key_problems", frame)
    try:
        con.execute(f"insert into {_PROBLEMS} select * from ingest_key_problems")
    finally:
        con.unregister("ingest_key_problems")


def _unknown_reference_problems(con: duckdb.DuckDBPyConnection, fk: ForeignKey) -> None:
    """Quarantine rows whose reference (all of its columns filled) matches no loaded row."""
    pairs = list(zip(fk.columns, referenced_key(fk), strict=True))
    filled = " and ".join(f"{v(c)} is not null" for c, _ in pairs)
    match = " and ".join(f"r.{quote_ident(k)} = n.{v(c)}" for c, k in pairs)
    con.execute(
        f"insert into {_PROBLEMS} select {quote_ident(SOURCE_ROW)}, $column, $rule, $reason "
        f"from {_NORM} n where {quote_ident(SOURCE_PROBLEM)} is null and {filled} "
        f"and not exists (select 1 from staging.{quote_ident(fk.table)} r where {match})",
        {"column": ", ".join(fk.columns), "rule": fk.rule, "reason": fk.reason},
    )


def _delete_quarantined(con: duckdb.DuckDBPyConnection, building: str) -> None:
    # Deleting a few rows does not rewrite the table, so every row is written once only.
    if _scalar(con, f"select count(*) from {_PROBLEMS}"):
        con.execute(
            f"delete from {building} where {quote_ident(SOURCE_ROW)} in "
            f"(select source_row from {_PROBLEMS})"
        )


def _promote(con: duckdb.DuckDBPyConnection, table: Table, building: str) -> None:
    """Make the building table ``staging.<table>``, dropping its check columns.

    Dropping columns and renaming do not rewrite the table. Its rows are in ``source_row``
    order: it was written from a plain scan of raw, in which DuckDB keeps insertion order, and
    deleting rows does not move the others.
    """
    con.execute(f"alter table {building} drop column {_FAILS}")
    con.execute(f"alter table {building} drop column {quote_ident(SOURCE_PROBLEM)}")
    con.execute(f"drop table if exists staging.{quote_ident(table.name)}")
    con.execute(f"alter table {building} rename to {quote_ident(table.name)}")


def _replace_audit_rows(
    con: duckdb.DuckDBPyConnection, table: Table, source_file: str, accounting: tuple[int, ...]
) -> None:
    con.execute("create schema if not exists audit")
    con.execute(
        "create table if not exists audit.quarantine (table_name varchar not null, "
        "source_file varchar not null, source_row bigint not null, column_name varchar, "
        "rule varchar not null, reason varchar not null)"
    )
    con.execute(
        "create table if not exists audit.ingest_accounting (table_name varchar not null, "
        "source_file varchar not null, rows_read bigint not null, rows_loaded bigint not null, "
        "rows_quarantined bigint not null)"
    )
    params = {"table_name": table.name, "source_file": source_file}
    # Rebuilt in a fixed order, so that re-running ingest gives identical tables.
    con.execute(
        "create or replace table audit.quarantine as select * from ("
        "select * from audit.quarantine where table_name <> $table_name union all "
        "select $table_name, $source_file, source_row, column_name, rule, reason "
        f"from {_PROBLEMS}) q order by {_TABLE_ORDER.replace('case ', 'case q.table_name ', 1)}, "
        "source_row, rule, column_name nulls first, reason",
        params,
    )
    rows_read, rows_loaded, rows_quarantined = accounting
    con.execute(
        "create or replace table audit.ingest_accounting as select * from ("
        "select * from audit.ingest_accounting where table_name <> $table_name union all "
        "select $table_name, $source_file, $rows_read, $rows_loaded, $rows_quarantined) a "
        f"order by {_TABLE_ORDER.replace('case ', 'case a.table_name ', 1)}",
        {
            **params,
            "rows_read": rows_read,
            "rows_loaded": rows_loaded,
            "rows_quarantined": rows_quarantined,
        },
    )


def validate_table(
    con: duckdb.DuckDBPyConnection, info: ExtractInfo, table_name: str, config: IngestConfig
) -> TableAccounting:
    """Validate ``raw.<table_name>`` into ``staging.<table_name>`` and the quarantine.

    Values are normalised first (white space trimmed, empty as null, codes folded to the
    contract's case, postcode districts upper case without spaces), then every row is checked
    against the contract. Valid rows go to ``staging.<table_name>`` (contract columns, typed, plus
    ``source_row``); every problem of every other row goes to ``audit.quarantine``, and the
    table's row counts to ``audit.ingest_accounting``.

    Parameters
    ----------
    con
        An open warehouse connection holding ``raw.<table_name>``.
    info
        The extract, as read by :func:`read_extract_info`.
    table_name
        A contract table name. A table with foreign keys (``case_people``) needs the tables
        it refers to (``staging.cases``) validated first.
    config
        Ingest settings (earliest plausible dates).

    Returns
    -------
    TableAccounting
        Rows read, loaded and quarantined, and problems by rule.

    Raises
    ------
    ExtractError
        If a whole date, year-month, boolean or integer column is in the wrong format (no value
        parses although values exist), or (for ``cases``) ``extract_end_date`` lies more than
        ``ingest.max_end_date_gap_days`` after the latest issue or final hearing date.
    """
    table = TABLES_BY_NAME[table_name]
    source_file = info.file_name(table_name)
    raw_columns = _raw_columns(con, table_name)
    for fk in table.foreign_keys:
        if not _scalar(
            con,
            "select count(*) from information_schema.tables "
            "where table_schema = 'staging' and table_name = $name",
            {"name": fk.table},
        ):
            raise RuntimeError(
                f"staging.{fk.table} does not exist: validate the {fk.table} table before "
                f"{table_name}."
            )
    building = f"staging.{quote_ident(table_name + _BUILDING_SUFFIX)}"
    params = _rule_params(info, config)
    rules = column_rules(table)
    try:
        _build_normalised(con, table, raw_columns)
        _check_whole_columns(con, table, source_file, info.files.get(table_name))
        _write_building(con, table, building, rules, params)
        _column_problems(con, building, rules, params)
        _key_problems(con, table, building)
        for fk in table.foreign_keys:
            _unknown_reference_problems(con, fk)
        _delete_quarantined(con, building)
        if table_name == "cases":
            latest = con.execute(
                "select max(greatest(issue_date, coalesce(final_hearing_date, issue_date))) "
                f"from {building}"
            ).fetchone()
            check_end_date(info, latest[0] if latest else None, config.max_end_date_gap_days)
        rows_read = _scalar(con, f"select count(*) from raw.{quote_ident(table_name)}")
        rows_loaded = _scalar(con, f"select count(*) from {building}")
        rows_quarantined = _scalar(con, f"select count(distinct source_row) from {_PROBLEMS}")
        if rows_read != rows_loaded + rows_quarantined:
            raise RuntimeError(
                f"ingest accounting does not balance for {table_name}: {rows_read} read, "
                f"{rows_loaded} loaded, {rows_quarantined} quarantined."
            )
        _promote(con, table, building)
        _replace_audit_rows(con, table, source_file, (rows_read, rows_loaded, rows_quarantined))
        by_rule = dict(
            con.execute(
                f"select rule, count(*) from {_PROBLEMS} group by rule order by rule"
            ).fetchall()
        )
    finally:
        con.execute(f"drop view if exists {_NORM}")
        con.execute(f"drop table if exists {_SUSPECT}")
        con.execute(f"drop table if exists {_PROBLEMS}")
        con.execute(f"drop table if exists {building}")
    return TableAccounting(
        table_name=table_name,
        source_file=source_file,
        rows_read=rows_read,
        rows_loaded=rows_loaded,
        rows_quarantined=rows_quarantined,
        problems_by_rule={str(k): int(n) for k, n in by_rule.items()},
    )


def ingest_extract(
    con: duckdb.DuckDBPyConnection, extract_dir: Path, config: IngestConfig
) -> list[TableAccounting]:
    """Read, record, load and validate every table of an extract, then count implausible values.

    Parameters
    ----------
    con
        An open warehouse connection.
    extract_dir
        The extract folder.
    config
        Ingest settings.

    Returns
    -------
    list of TableAccounting
        One entry per contract table (an absent optional table reads 0 rows).

    Raises
    ------
    ExtractError
        If the extract, or a whole file or column of it, cannot be read.
    """
    info = read_extract_info(Path(extract_dir))
    record_extract_info(con, info)
    results = []
    for table in TABLES:
        load_raw_table(con, info, table.name)
        results.append(validate_table(con, info, table.name, config))
    build_plausibility(con, config)
    return results
