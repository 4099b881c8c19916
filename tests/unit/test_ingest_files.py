"""The extract folder, its files and how they are read: errors a user must fix, robust CSV."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from ingest_fixtures import (
    CASES,
    CONFIG,
    IDENTIFIERS,
    VALID,
    csv_text,
    dump,
    quarantine,
    warehouse,
    write_extract,
)

from recurrence.errors import ExtractError
from recurrence.ingest import (
    ingest_extract,
    load,
    load_raw_table,
    read_extract_info,
    record_extract_info,
    validate_table,
)
from recurrence.warehouse import connect

CASE_COLUMNS = list(CASES[0])


def extract_error(tmp_path: Path, tables=None, toml=None, fmt="csv") -> ExtractError:
    folder = write_extract(tmp_path / "extract", tables, toml=toml, fmt=fmt)
    con = warehouse(tmp_path)
    with pytest.raises(ExtractError) as caught:
        ingest_extract(con, folder, CONFIG)
    message = str(caught.value)
    for identifier in IDENTIFIERS:
        assert identifier not in message
    return caught.value


def raw_rows(tmp_path: Path, text: str | bytes, *, python: bool = False) -> list[tuple]:
    folder = write_extract(tmp_path / "extract", {"cases": text})
    info = read_extract_info(folder)
    con = warehouse(tmp_path)
    load_raw_table(con, info, "cases", force_python_reader=python)
    return con.execute("select * from raw.cases order by source_row").fetchall()


# ---- extract.toml and file discovery ------------------------------------------------------------


def test_read_extract_info(tmp_path):
    folder = write_extract(
        tmp_path / "e",
        {"live_births": None},
        toml='extract_end_date = "2024-03-31"\nsource = "MoJ"\ndescription = "test"\n',
    )
    info = read_extract_info(folder)
    assert str(info.extract_end_date) == "2024-03-31"
    assert (info.source, info.description) == ("MoJ", "test")
    assert info.files["live_births"] is None
    assert info.files["cases"] == folder / "cases.csv"
    assert info.formats["cases"] == "csv"
    assert len(info.sha256["cases"]) == 64
    assert info.size["cases"] == (folder / "cases.csv").stat().st_size


def test_record_extract_info(tmp_path):
    folder = write_extract(tmp_path / "e", {"live_births": None})
    con = warehouse(tmp_path)
    info = read_extract_info(folder)
    record_extract_info(con, info)
    record_extract_info(con, info)
    assert con.execute(
        "select extract_end_date::varchar, source from audit.extract_info"
    ).fetchall() == [("2024-03-31", "test extract")]
    files = con.execute("select table_name, file_name, format from audit.extract_files").fetchall()
    assert files == [
        ("cases", "cases.csv", "csv"),
        ("case_people", "case_people.csv", "csv"),
        ("births", "births.csv", "csv"),
        ("live_births", None, None),
    ]


def test_missing_folder(tmp_path):
    with pytest.raises(ExtractError, match="extract folder does not exist"):
        read_extract_info(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("toml", "match"),
    [
        ('source = "x"\n', "extract.toml has no extract_end_date"),
        ("extract_end_date = 2024-03-31\n", "extract.toml has no source"),
        ("extract_end_date = = 1\n", "not valid TOML"),
        ('extract_end_date = "31/03/2024"\nsource = "x"\n', "extract_end_date is not a valid date"),
        ("extract_end_date = 2024-03-31T10:00:00\nsource = 'x'\n", "holds a time"),
    ],
)
def test_bad_extract_toml(tmp_path, toml, match):
    folder = write_extract(tmp_path / "e", toml=toml)
    with pytest.raises(ExtractError, match=match) as caught:
        read_extract_info(folder)
    assert "extract.toml" in str(caught.value)


def test_missing_extract_toml(tmp_path):
    folder = write_extract(tmp_path / "e")
    (folder / "extract.toml").unlink()
    with pytest.raises(ExtractError, match=r"extract\.toml is missing\. Add it"):
        read_extract_info(folder)


def test_missing_required_table(tmp_path):
    folder = write_extract(tmp_path / "e", {"births": None})
    with pytest.raises(ExtractError) as caught:
        read_extract_info(folder)
    message = str(caught.value)
    assert "births.csv" in message
    assert "neither births.csv nor births.parquet" in message
    assert "Add the file" in message


def test_both_csv_and_parquet(tmp_path):
    folder = write_extract(tmp_path / "e")
    (folder / "cases.parquet").write_bytes(b"x")
    with pytest.raises(ExtractError, match=r"both cases\.csv and cases\.parquet are present"):
        read_extract_info(folder)


def test_absent_optional_table_is_empty(tmp_path):
    folder = write_extract(tmp_path / "e", {"live_births": None})
    con = warehouse(tmp_path)
    accounting = ingest_extract(con, folder, CONFIG)
    assert accounting[-1].table_name == "live_births"
    assert (accounting[-1].rows_read, accounting[-1].rows_loaded) == (0, 0)
    columns = [r[0] for r in con.execute("describe raw.live_births").fetchall()]
    assert columns == ["source_row", "region_code", "year", "live_births", "source_problem"]
    assert con.execute("select count(*) from staging.live_births").fetchone() == (0,)


# ---- whole-file problems ------------------------------------------------------------------------


def test_empty_file(tmp_path):
    error = extract_error(tmp_path, {"cases": ""})
    assert error.file.endswith("cases.csv")
    assert "the file is empty: it has no header row" in str(error)
    assert "Export the table again with a header row" in str(error)


def test_missing_columns_are_all_named(tmp_path):
    rows = [{k: v for k, v in r.items() if k not in ("issue_date", "region_code")} for r in CASES]
    error = extract_error(tmp_path, {"cases": rows})
    message = str(error)
    assert "cases.csv" in message
    assert "required column(s) missing: issue_date, region_code." in message
    assert "Columns found: 'case_id', 'application_type', 'la_code'" in message
    assert "Add the missing columns" in message


def test_missing_column_with_wrong_case_gets_a_hint(tmp_path):
    text = csv_text(CASES).replace("issue_date", "Issue_Date", 1)
    error = extract_error(tmp_path, {"cases": text})
    assert "'Issue_Date' should be written exactly 'issue_date'" in str(error)


def test_file_without_header_shows_no_data(tmp_path):
    text = csv_text(CASES).split("\n", 1)[1]
    error = extract_error(tmp_path, {"cases": text})
    assert "seems to have no header row" in str(error)


@pytest.mark.parametrize("duplicate", ["outcome", "OUTCOME"])
def test_duplicated_header(tmp_path, duplicate):
    text = csv_text(CASES).replace("outcome\n", f"outcome,{duplicate}\n", 1)
    error = extract_error(tmp_path, {"cases": text})
    assert "names some columns more than once" in str(error)
    assert "cases.csv" in str(error)


def test_not_a_csv_file(tmp_path):
    error = extract_error(tmp_path, {"cases": b"PK\x03\x04\x00\x00binary\xff\xfe\x00 junk\n"})
    assert "does not look like a CSV text file" in str(error)
    assert "cases.csv" in str(error)


def test_unreadable_parquet(tmp_path):
    folder = write_extract(tmp_path / "extract", {"cases": None})
    (folder / "cases.parquet").write_bytes(b"PAR1 this is not really parquet PAR1")
    con = warehouse(tmp_path)
    with pytest.raises(ExtractError) as caught:
        ingest_extract(con, folder, CONFIG)
    assert "cases.parquet" in str(caught.value)
    assert "cannot be read as Parquet" in str(caught.value)
    assert "Export the table again" in str(caught.value)


def test_truncated_parquet(tmp_path):
    folder = write_extract(tmp_path / "extract", fmt="parquet")
    data = (folder / "cases.parquet").read_bytes()
    (folder / "cases.parquet").write_bytes(data[: len(data) // 2])
    con = warehouse(tmp_path)
    with pytest.raises(ExtractError, match="cannot be read as Parquet"):
        ingest_extract(con, folder, CONFIG)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("30/04/2016", "DD/MM/YYYY"),
        ("20160430", "YYYYMMDD"),
        ("2016-04-30 00:00:00", "a date with a time of day"),
        ("30-Apr-2016", "a month name"),
    ],
)
def test_whole_column_in_wrong_date_format(tmp_path, value, named):
    rows = [dict(r, issue_date=value, final_hearing_date="") for r in CASES]
    error = extract_error(tmp_path, {"cases": rows})
    message = str(error)
    assert "cases.csv" in message
    assert "no value of issue_date could be read as a date written YYYY-MM-DD" in message
    assert named in message
    assert "Write every issue_date as a date written YYYY-MM-DD, such as 2016-04-30" in message
    assert value not in message


def test_whole_year_month_column_wrong(tmp_path):
    rows = [dict(r) for r in VALID["case_people"]]
    for r in rows:
        if r["birth_year_month"]:
            r["birth_year_month"] = r["birth_year_month"] + "-01"
    error = extract_error(tmp_path, {"case_people": rows})
    assert "no value of birth_year_month could be read as a year and month" in str(error)
    assert "YYYY-MM-DD, a full date" in str(error)


def test_whole_integer_column_wrong(tmp_path):
    rows = [dict(r, year=f"{r['year']}/17") for r in VALID["live_births"]]
    error = extract_error(tmp_path, {"live_births": rows})
    assert "no value of year could be read as a whole number" in str(error)


# ---- CSV reading --------------------------------------------------------------------------------

HEADER = ",".join(CASE_COLUMNS)


def test_bom_is_dropped(tmp_path):
    text = csv_text(CASES).encode("utf-8")
    rows = raw_rows(tmp_path, b"\xef\xbb\xbf" + text)
    assert len(rows) == 3
    assert rows[0][1] == "CASEID0001"


def test_quoted_comma_and_newline_both_readers_agree(tmp_path):
    text = (
        HEADER + "\n"
        'CASEID0001,2016-04-30,s31_care,E12000001,"E06,000001",,\n'
        'CASEID0002,2018-06-01,s31_care,E12000001,"line one\nline two",,\n'
        'CASEID0003,2018-06-01,s31_care,E12000001,"with ""quotes""",,no_order\r\n'
        "CASEID0004,2018-06-01,s31_care,E12000001,,,"
    )
    fast = raw_rows(tmp_path / "fast", text)
    slow = raw_rows(tmp_path / "slow", text, python=True)
    assert fast == slow
    assert [r[0] for r in fast] == [1, 2, 3, 4]
    assert fast[0][5] == "E06,000001"
    assert fast[1][5] == "line one\nline two"
    assert fast[2][5] == 'with "quotes"'
    assert fast[2][7] == "no_order"
    assert all(r[-1] is None for r in fast)


def test_ragged_rows_are_kept_and_quarantined(tmp_path):
    lines = csv_text(CASES).splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0]  # one field short
    lines[2] = lines[2] + ",extra"  # one field too many
    folder = write_extract(tmp_path / "extract", {"cases": "\n".join(lines) + "\n"})
    con = warehouse(tmp_path)
    acc = {a.table_name: a for a in ingest_extract(con, folder, CONFIG)}
    q = quarantine(con, "cases")
    assert [(r[1], r[2], r[3]) for r in q] == [(1, None, "structure"), (2, None, "structure")]
    assert q[0][4].startswith("row has 6 fields but the header has 7")
    assert q[1][4].startswith("row has 8 fields but the header has 7")
    assert (acc["cases"].rows_read, acc["cases"].rows_loaded) == (3, 1)
    assert con.execute("select source_row from staging.cases").fetchall() == [(3,)]


def test_invalid_utf8_is_marked(tmp_path):
    text = csv_text(CASES).encode("utf-8").replace(b"E06000001", b"E06\xff00001")
    folder = write_extract(tmp_path / "extract", {"cases": text})
    con = warehouse(tmp_path)
    ingest_extract(con, folder, CONFIG)
    q = quarantine(con, "cases")
    assert [(r[1], r[3]) for r in q] == [(1, "structure")]
    assert (
        q[0][4]
        == "row holds bytes that are not valid UTF-8 text (in la_code); save the file as UTF-8"
    )
    raw = con.execute("select la_code from raw.cases where source_row = 1").fetchone()
    assert raw == ("E06\ufffd00001",)


def test_stray_quotes(tmp_path):
    lines = csv_text(CASES).splitlines()
    lines[1] = lines[1].replace("E06000001", 'E06"000001')  # a quote inside a field: kept
    lines[2] = lines[2].replace("W06000015", '"W06"000015')  # text after a closing quote
    rows = raw_rows(tmp_path, "\n".join(lines) + "\n")
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows[0][5] == 'E06"000001'
    assert rows[0][-1] is None
    assert "quoted field is not closed properly" in rows[1][-1]
    assert rows[2][-1] is None


def test_unclosed_quote_does_not_swallow_later_rows(tmp_path):
    lines = csv_text(CASES).splitlines()
    lines[1] = lines[1].replace("E06000001", '"E06000001')
    rows = raw_rows(tmp_path, "\n".join(lines) + "\n")
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows[0][-1] is not None
    assert [r[1] for r in rows[1:]] == ["CASEID0002", "CASEID0003"]
    assert [r[-1] for r in rows[1:]] == [None, None]


def test_blank_line_is_a_quarantined_row(tmp_path):
    lines = csv_text(CASES).splitlines()
    text = "\n".join([*lines[:2], "", *lines[2:]]) + "\n"
    folder = write_extract(tmp_path / "extract", {"cases": text})
    con = warehouse(tmp_path)
    acc = {a.table_name: a for a in ingest_extract(con, folder, CONFIG)}
    assert [(r[1], r[3], r[4]) for r in quarantine(con, "cases")] == [
        (2, "structure", "row is blank")
    ]
    assert (acc["cases"].rows_read, acc["cases"].rows_loaded) == (4, 3)


def test_empty_fields_and_whitespace(tmp_path):
    rows = raw_rows(tmp_path, HEADER + '\nCASEID0001,2016-04-30,s31_care,E12000001,"",  ,\n')
    assert rows[0][5] is None
    assert rows[0][6] == "  "


def test_header_only_file_has_no_rows(tmp_path):
    folder = write_extract(tmp_path / "extract", {"live_births": "region_code,year,live_births\n"})
    con = warehouse(tmp_path)
    acc = ingest_extract(con, folder, CONFIG)
    assert (acc[-1].rows_read, acc[-1].rows_loaded, acc[-1].rows_quarantined) == (0, 0, 0)


def test_extra_columns_kept_in_raw_not_staging(tmp_path):
    rows = [dict(r, notes="free text", **{"Weird Name": "x"}) for r in CASES]
    folder = write_extract(tmp_path / "extract", {"cases": rows})
    con = warehouse(tmp_path)
    ingest_extract(con, folder, CONFIG)
    raw = [r[0] for r in con.execute("describe raw.cases").fetchall()]
    staging = [r[0] for r in con.execute("describe staging.cases").fetchall()]
    assert "notes" in raw
    assert "Weird Name" in raw
    assert staging == ["source_row", *CASE_COLUMNS]


def test_optional_columns_may_be_absent(tmp_path):
    rows = [
        {k: r[k] for k in ("case_id", "issue_date", "application_type", "region_code")}
        for r in CASES
    ]
    folder = write_extract(tmp_path / "extract", {"cases": rows})
    con = warehouse(tmp_path)
    acc = ingest_extract(con, folder, CONFIG)
    assert acc[0].rows_loaded == 3
    assert con.execute("select count(outcome) from staging.cases").fetchone() == (0,)


def test_reserved_column_name(tmp_path):
    rows = [dict(r, source_row="1") for r in CASES]
    error = extract_error(tmp_path, {"cases": rows})
    assert "a name ingest keeps for itself" in str(error)


# ---- Parquet ------------------------------------------------------------------------------------


def staging_tables(con) -> dict[str, list[tuple]]:
    return {k: v for k, v in dump(con).items() if k.startswith("staging.")}


def test_csv_and_parquet_give_the_same_staging(tmp_path):
    csv_con = warehouse(tmp_path / "csv")
    ingest_extract(csv_con, write_extract(tmp_path / "csv" / "e"), CONFIG)
    pq_con = warehouse(tmp_path / "pq")
    ingest_extract(pq_con, write_extract(tmp_path / "pq" / "e", fmt="parquet"), CONFIG)
    assert staging_tables(csv_con) == staging_tables(pq_con)
    schema = pl.read_parquet_schema(tmp_path / "pq" / "e" / "cases.parquet")
    assert schema["issue_date"] == pl.Date
    assert (
        pl.read_parquet_schema(tmp_path / "pq" / "e" / "births.parquet")["live_birth"] == pl.Boolean
    )


def test_parquet_string_columns_are_validated_the_same(tmp_path):
    folder = write_extract(tmp_path / "e", {"cases": None})
    rows = [dict(r) for r in CASES]
    rows[0]["issue_date"] = "2016-02-30"
    pl.DataFrame(rows).write_parquet(folder / "cases.parquet")
    con = warehouse(tmp_path)
    ingest_extract(con, folder, CONFIG)
    assert [(r[1], r[3]) for r in quarantine(con, "cases")] == [(1, "invalid_date")]


def test_parquet_datetime_at_midnight_is_a_date(tmp_path):
    folder = write_extract(tmp_path / "e", {"cases": None})
    frame = pl.DataFrame(CASES).with_columns(
        pl.col("issue_date").str.to_datetime("%Y-%m-%d"),
        pl.col("final_hearing_date").replace("", None).str.to_datetime("%Y-%m-%d"),
    )
    frame = frame.with_columns(
        pl.when(pl.col("case_id") == "CASEID0001")
        .then(pl.col("final_hearing_date") + pl.duration(hours=3))
        .otherwise(pl.col("final_hearing_date"))
        .alias("final_hearing_date")
    )
    frame.write_parquet(folder / "cases.parquet")
    con = warehouse(tmp_path)
    ingest_extract(con, folder, CONFIG)
    assert [(r[1], r[2], r[3]) for r in quarantine(con, "cases")] == [
        (1, "final_hearing_date", "invalid_date")
    ]


# ---- re-running ---------------------------------------------------------------------------------


def test_rerun_is_identical(tmp_path):
    lines = csv_text(CASES).splitlines()
    lines[1] = lines[1] + ",extra"
    folder = write_extract(tmp_path / "e", {"cases": "\n".join([*lines, lines[2]]) + "\n"})
    con = warehouse(tmp_path)
    ingest_extract(con, folder, CONFIG)
    first = dump(con)
    ingest_extract(con, folder, CONFIG)
    assert dump(con) == first
    # Re-validating one table alone leaves the other tables' audit rows in place, in order.
    info = read_extract_info(folder)
    load_raw_table(con, info, "cases")
    validate_table(con, info, "cases", CONFIG)
    assert dump(con) == first
    assert len(first["audit.quarantine"]) >= 2


def test_failure_part_way_leaves_previous_staging_table(tmp_path, monkeypatch):
    # Staging is built in a table of its own and renamed only once every check has run, so a
    # failure part-way through leaves the last good table and no half-built one.
    folder = write_extract(tmp_path / "e")
    con = warehouse(tmp_path)
    ingest_extract(con, folder, CONFIG)
    first = dump(con)

    def broken(*args, **kwargs):
        raise RuntimeError("stopped part-way")

    monkeypatch.setattr(load, "_key_problems", broken)
    info = read_extract_info(folder)
    with pytest.raises(RuntimeError, match="stopped part-way"):
        validate_table(con, info, "cases", CONFIG)
    assert dump(con) == first


def test_case_people_needs_staging_cases(tmp_path):
    folder = write_extract(tmp_path / "e")
    con = warehouse(tmp_path)
    info = read_extract_info(folder)
    load_raw_table(con, info, "case_people")
    with pytest.raises(RuntimeError, match="validate the cases table before case_people"):
        validate_table(con, info, "case_people", CONFIG)


# ---- which reader reads a CSV file --------------------------------------------------------------


def test_clean_csv_is_read_by_polars(tmp_path, caplog):
    caplog.set_level("INFO", logger="recurrence.ingest.read")
    raw_rows(tmp_path, csv_text(CASES))
    assert "read cases.csv: 3 rows, clean, with polars" in caplog.text


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text.replace("E06000001", "E06\xff", 1),
        lambda text: text.replace("\n", "\n\n", 2),
        lambda text: text.replace("care_order", "care_order,extra", 1),
        lambda text: text.replace("s31_care", '"s31_care', 1),
    ],
    ids=["invalid-utf8", "blank-line", "ragged", "unclosed-quote"],
)
def test_damaged_csv_is_read_record_by_record(tmp_path, caplog, damage):
    caplog.set_level("INFO", logger="recurrence.ingest.read")
    text = damage(csv_text(CASES)).encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff")
    rows = raw_rows(tmp_path, text)
    assert "read cases.csv" in caplog.text
    assert "record by record" in caplog.text
    assert any(r[-1] for r in rows)


def test_blank_lines_at_the_end_are_not_rows(tmp_path):
    rows = raw_rows(tmp_path, csv_text(CASES) + "\n\r\n")
    assert [(r[0], r[-1]) for r in rows] == [(1, None), (2, None), (3, None)]


def test_nul_byte_in_a_field_is_kept_by_both_readers(tmp_path):
    text = csv_text(CASES).encode("utf-8").replace(b"E06000001", b"E06\x0000001")
    fast = raw_rows(tmp_path / "fast", text)
    slow = raw_rows(tmp_path / "slow", text, python=True)
    assert fast == slow
    assert [r[0] for r in fast] == [1, 2, 3]
    assert fast[0][5] == "E06\x0000001"


def test_a_header_run_into_the_first_row_never_echoes_its_data(tmp_path: Path) -> None:
    # The header lost its line break and its first characters, so it now holds a data row.
    text = csv_text(CASES)
    broken = text[2:].replace("\n", "", 1)
    error = extract_error(tmp_path, {"cases": broken})
    message = str(error).replace(str(tmp_path), "")
    assert "required column(s) missing: case_id" in message
    assert "not shown" in message
    for identifier in IDENTIFIERS:
        assert identifier not in message


def test_trimming_matches_the_regular_expression():
    # The cheap guard must trim exactly what RE2's \s trims, and leave other spaces alone.
    import duckdb

    from recurrence.contract import Column
    from recurrence.ingest.rules import normalise_expr

    expr, _ = normalise_expr(Column("x", "string", False, "x"), {"x"})
    values = [
        " a ",
        "\t\n a\x0b\r\x0c ",
        "\u00a0x\u00a0",
        "",
        "  ",
        None,
        "a b",
        "\x0bq\x0b",
        "\u2003z",
        "é ",
        " é",
        "x\t",
        "\r\n",
        "a\n",
        "\ta",
        "ab",
        "\x0c",
        "x\u3000",
    ]
    con = duckdb.connect()
    for value in values:
        got, want = con.execute(
            f"select {expr}, nullif(regexp_replace(x, '^\\s+|\\s+$', '', 'g'), '') "
            "from (select $v::varchar as x)",
            {"v": value},
        ).fetchone()
        assert got == want, repr(value)


def test_staging_tables_are_in_source_row_order(staged_sample):
    # The data contract promises file order. The sample's births fill two of DuckDB's row
    # groups, enough for a parallel write that does not keep order (an IN list in a rule did
    # this) to swap them.
    con = connect(staged_sample, read_only=True)
    try:
        for table in ("cases", "case_people", "births"):
            rows = [r[0] for r in con.execute(f"select source_row from staging.{table}").fetchall()]
            assert len(rows) > 1000
            assert rows == sorted(rows), table
    finally:
        con.close()
