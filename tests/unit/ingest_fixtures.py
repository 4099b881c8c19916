"""Tiny extract folders for ingest tests, written in a test's tmp_path."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
import polars as pl

from recurrence.config import IngestConfig
from recurrence.contract import TABLES_BY_NAME
from recurrence.warehouse import connect

END = "2024-03-31"
CONFIG = IngestConfig(
    care_application_types=("s31_care", "s31_supervision"),
    earliest_issue_date=dt.date(1991, 10, 14),
    earliest_birth_year_month="1900-01",
    # The hand-made cases end in 2020, four years before END: far enough for these tests.
    max_end_date_gap_days=3650,
)

# Identifier values chosen so that a scan of messages can find any leak of them.
CASES = [
    {
        "case_id": "CASEID0001",
        "issue_date": "2016-04-30",
        "application_type": "s31_care",
        "region_code": "E12000001",
        "la_code": "E06000001",
        "final_hearing_date": "2017-01-15",
        "outcome": "care_order",
    },
    {
        "case_id": "CASEID0002",
        "issue_date": "2018-06-01",
        "application_type": "s31_supervision",
        "region_code": "W92000004",
        "la_code": "W06000015",
        "final_hearing_date": "",
        "outcome": "",
    },
    {
        "case_id": "CASEID0003",
        "issue_date": "2020-02-29",
        "application_type": "epo",
        "region_code": "E12000007",
        "la_code": "",
        "final_hearing_date": "2020-02-29",
        "outcome": "no_order",
    },
]


def _person(case_id: str, person_id: str, role: str, **extra: str) -> dict[str, str]:
    row = {
        "case_id": case_id,
        "person_id": person_id,
        "role": role,
        "birth_date": "",
        "birth_year_month": "",
        "sex": "",
        "forename_hash": "",
        "surname_hash": "",
        "forename_soundex_hash": "",
        "surname_soundex_hash": "",
        "postcode_district": "",
    }
    row.update(extra)
    return row


CASE_PEOPLE = [
    _person(
        "CASEID0001",
        "PERSONID01",
        "mother",
        birth_year_month="1990-05",
        sex="F",
        forename_hash="a" * 64,
        surname_hash="b" * 64,
        postcode_district="LS1",
    ),
    _person("CASEID0001", "PERSONID02", "child", birth_date="2016-04-20", sex="M"),
    _person("CASEID0002", "PERSONID01", "mother", birth_year_month="1990-05", sex="F"),
    _person("CASEID0003", "PERSONID03", "child", birth_date="2019-12-01", sex="U"),
]

BIRTHS = [
    {
        "birth_id": "BIRTHID001",
        "baby_birth_date": "2016-04-20",
        "region_code": "E12000001",
        "la_code": "E06000001",
        "mother_person_id": "MOTHERID01",
        "mother_birth_year_month": "1990-05",
        "mother_forename_hash": "c" * 64,
        "mother_surname_hash": "d" * 64,
        "mother_forename_soundex_hash": "",
        "mother_surname_soundex_hash": "",
        "mother_postcode_district": "LS1",
        "baby_sex": "M",
        "live_birth": "true",
    },
    {
        "birth_id": "BIRTHID002",
        "baby_birth_date": "2019-12-01",
        "region_code": "E12000007",
        "la_code": "",
        "mother_person_id": "",
        "mother_birth_year_month": "",
        "mother_forename_hash": "",
        "mother_surname_hash": "",
        "mother_forename_soundex_hash": "",
        "mother_surname_soundex_hash": "",
        "mother_postcode_district": "",
        "baby_sex": "F",
        "live_birth": "",
    },
]

LIVE_BIRTHS = [
    {"region_code": "E12000001", "year": "2016", "live_births": "28000"},
    {"region_code": "W92000004", "year": "2016", "live_births": "32000"},
]

VALID: dict[str, list[dict[str, str]]] = {
    "cases": CASES,
    "case_people": CASE_PEOPLE,
    "births": BIRTHS,
    "live_births": LIVE_BIRTHS,
}

IDENTIFIERS = (
    [r["case_id"] for r in CASES]
    + [r["person_id"] for r in CASE_PEOPLE]
    + [r["birth_id"] for r in BIRTHS]
    + ["MOTHERID01", "a" * 64, "b" * 64, "c" * 64, "d" * 64, "2016-04-20", "2019-12-01", "1990-05"]
)


def csv_text(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    """Rows as CSV text (columns from the first row unless given)."""
    columns = columns or list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def write_extract(
    folder: Path,
    tables: dict[str, list[dict[str, str]] | str | bytes | None] | None = None,
    *,
    fmt: str = "csv",
    toml: str | None = None,
) -> Path:
    """Write an extract folder: the valid tables, with any of them replaced or removed.

    A table given as a list of dicts is written as ``fmt``; as ``str`` or ``bytes`` it is written
    verbatim to ``NAME.csv``; as ``None`` it is left out.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "extract.toml").write_text(
        toml if toml is not None else f'extract_end_date = {END}\nsource = "test extract"\n',
        encoding="utf-8",
    )
    chosen: dict[str, object] = dict(VALID)
    chosen.update(tables or {})
    for name, content in chosen.items():
        if content is None:
            continue
        if isinstance(content, bytes):
            (folder / f"{name}.csv").write_bytes(content)
        elif isinstance(content, str):
            (folder / f"{name}.csv").write_text(content, encoding="utf-8", newline="")
        elif fmt == "csv":
            (folder / f"{name}.csv").write_text(csv_text(content), encoding="utf-8", newline="")
        else:
            write_parquet(folder / f"{name}.parquet", name, content)
    return folder


def write_parquet(path: Path, table_name: str, rows: list[dict[str, str]]) -> None:
    """Write rows as Parquet with native types (dates, booleans, integers) where they parse."""
    table = TABLES_BY_NAME[table_name]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String))
    exprs = []
    for name in frame.columns:
        kind = table.column(name).kind if name in {c.name for c in table.columns} else "string"
        col = pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name))
        if kind == "date":
            col = col.str.to_date("%Y-%m-%d")
        elif kind == "boolean":
            col = col == "true"
        elif kind == "integer":
            col = col.cast(pl.Int64)
        exprs.append(col.alias(name))
    frame.select(exprs).write_parquet(path)


def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A fresh warehouse file in tmp_path."""
    return connect(tmp_path / "wh" / "test.duckdb")


def quarantine(con: duckdb.DuckDBPyConnection, table_name: str | None = None) -> list[tuple]:
    """Quarantine rows as (table_name, source_row, column_name, rule, reason)."""
    query = (
        "select table_name, source_row, column_name, rule, reason from audit.quarantine "
        + ("where table_name = $t " if table_name else "")
        + "order by table_name, source_row, rule"
    )
    return con.execute(query, {"t": table_name} if table_name else None).fetchall()


def dump(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every table of the raw, staging and audit schemas, sorted, for comparing whole runs."""
    names = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('raw', 'staging', 'audit') order by 1, 2"
    ).fetchall()
    return {f"{s}.{t}": con.execute(f'select * from "{s}"."{t}"').fetchall() for s, t in names}


def loaded_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse as ingest leaves it: five raw cases, four loaded, one quarantined (two rules).

    ``staging.case_people`` holds one mother row of case ``0``. The recount and check tests
    break these tables one way at a time.
    """
    con = connect(path)
    con.execute(
        "create table raw.cases as "
        "select range::varchar as case_id, range + 1 as source_row from range(5)"
    )
    con.execute(
        "create table staging.cases as select case_id, date '2020-01-01' as issue_date, "
        "'s31_care' as application_type, 'E12000001' as region_code, source_row "
        "from raw.cases where source_row <= 4"
    )
    con.execute(
        "create table audit.quarantine (table_name varchar, source_file varchar, "
        "source_row bigint, column_name varchar, rule varchar, reason varchar)"
    )
    con.execute(
        "insert into audit.quarantine values ('cases', 'cases.csv', 5, 'issue_date', 'date', 'x'),"
        " ('cases', 'cases.csv', 5, 'region_code', 'code', 'y')"
    )
    con.execute(
        "create table staging.case_people as "
        "select '0' as case_id, 'p' as person_id, 'mother' as role"
    )
    return con
