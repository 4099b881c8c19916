"""Row accounting: every row read is either loaded or quarantined, on any input."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import (
    CASE_PEOPLE,
    CASES,
    CONFIG,
    IDENTIFIERS,
    csv_text,
    dump,
    warehouse,
    write_extract,
)

from recurrence.contract import TABLES
from recurrence.errors import ExtractError
from recurrence.ingest import ingest_extract


def mixed_corruption_cases() -> bytes:
    lines = csv_text(CASES * 4).encode("utf-8").split(b"\n")
    lines[1] = lines[1] + b",extra"  # ragged
    lines[2] = lines[2].replace(b"2018", b"2O18")  # not a date
    lines[3] = lines[3].replace(b"E12000007", b"E06\xff")  # invalid UTF-8
    lines[4] = lines[4].replace(b"s31_care", b'"s31_care')  # unclosed quote
    lines.insert(6, b"")  # blank row
    # rows 4..12 repeat case ids: conflicts and exact duplicates
    return b"\n".join(lines)


def check_accounting(con, accounting) -> None:
    scan_for_identifiers(con)
    rows = con.execute(
        "select table_name, rows_read, rows_loaded, rows_quarantined from audit.ingest_accounting"
    ).fetchall()
    assert [r[0] for r in rows] == [t.name for t in TABLES]
    for name, read, loaded, quarantined in rows:
        assert read == loaded + quarantined, name
        raw = con.execute(f"select count(*) from raw.{name}").fetchone()[0]
        staged = con.execute(f"select count(*) from staging.{name}").fetchone()[0]
        held = con.execute(
            "select count(distinct source_row) from audit.quarantine where table_name = $t",
            {"t": name},
        ).fetchone()[0]
        assert (raw, staged, held) == (read, loaded, quarantined)
        overlap = con.execute(
            f"select count(*) from staging.{name} s join audit.quarantine q "
            "on q.table_name = $t and q.source_row = s.source_row",
            {"t": name},
        ).fetchone()[0]
        assert overlap == 0
        sources = con.execute(f"select source_row from raw.{name} order by 1").fetchall()
        assert [r[0] for r in sources] == list(range(1, read + 1))
    for acc in accounting:
        assert acc.rows_read == acc.rows_loaded + acc.rows_quarantined


def scan_for_identifiers(con) -> None:
    texts = [r[0] for r in con.execute("select reason from audit.quarantine").fetchall()]
    texts += [r[0] for r in con.execute("select source_problem from raw.cases").fetchall() if r[0]]
    for text in texts:
        for identifier in IDENTIFIERS:
            assert identifier not in text, text


def test_mixed_corruption_accounting(tmp_path):
    people = [*CASE_PEOPLE, dict(CASE_PEOPLE[0], case_id="CASEID0404")]
    folder = write_extract(
        tmp_path / "e", {"cases": mixed_corruption_cases(), "case_people": people}
    )
    con = warehouse(tmp_path)
    accounting = ingest_extract(con, folder, CONFIG)
    check_accounting(con, accounting)
    cases = accounting[0]
    assert cases.rows_read == 13
    rules = cases.problems_by_rule
    # rows 1, 3, 4 and the blank row 6 are damaged; CASEID0002 conflicts with its bad first copy;
    # one copy each of CASEID0001 and CASEID0003 is loaded, the other copies are duplicates.
    assert rules == {"structure": 4, "invalid_date": 1, "duplicate_key": 4, "duplicate_row": 3}
    assert (cases.rows_loaded, cases.rows_quarantined) == (2, 11)
    assert accounting[1].problems_by_rule == {"unknown_case": 2}
    scan_for_identifiers(con)


def test_rerun_on_mixed_corruption_is_identical(tmp_path):
    folder = write_extract(tmp_path / "e", {"cases": mixed_corruption_cases()})
    con = warehouse(tmp_path)
    ingest_extract(con, folder, CONFIG)
    first = dump(con)
    ingest_extract(con, folder, CONFIG)
    assert dump(con) == first
    other = warehouse(tmp_path / "other")
    ingest_extract(other, folder, CONFIG)
    assert dump(other) == first


_CORRUPTIONS = [
    b"",
    b",",
    b'"',
    b"\n",
    b"\r\n",
    b"\xff",
    b"\x00",
    b"2019-02-30",
    b"-1",
    b"XX",
    b'""',
    b"\xef\xbb\xbf",
]


@st.composite
def corrupted(draw) -> tuple[str, bytes]:
    table = draw(st.sampled_from(["cases", "case_people", "births", "live_births"]))
    from ingest_fixtures import VALID

    data = bytearray(csv_text(VALID[table] * 2).encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        if draw(st.booleans()):
            data[position:position] = draw(st.sampled_from(_CORRUPTIONS))
        else:
            length = draw(st.integers(1, 12))
            del data[position : position + length]
    return table, bytes(data)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(corrupted())
def test_random_corruption_never_loses_a_row(tmp_path_factory, corruption):
    table, data = corruption
    tmp_path: Path = tmp_path_factory.mktemp("prop")
    folder = write_extract(tmp_path / "e", {table: data})
    con = warehouse(tmp_path)
    try:
        accounting = ingest_extract(con, folder, CONFIG)
    except ExtractError as error:
        message = str(error)
        assert str(folder) in message or table in message
        for identifier in IDENTIFIERS:
            assert identifier not in message.replace(str(tmp_path), "")
        return
    finally:
        con.close()
    check_accounting(warehouse(tmp_path), accounting)


@pytest.mark.slow
def test_larger_random_file_accounting(tmp_path):
    rng = random.Random(7)
    rows = []
    for i in range(3000):
        row = dict(CASES[i % 3], case_id=f"C{i:06d}")
        if rng.random() < 0.05:
            row["issue_date"] = "2016-13-01"
        rows.append(row)
    text = csv_text(rows).encode("utf-8").split(b"\n")
    for i in rng.sample(range(1, 3000), 20):
        text[i] = text[i] + b",x"
    folder = write_extract(tmp_path / "e", {"cases": b"\n".join(text)})
    con = warehouse(tmp_path)
    accounting = ingest_extract(con, folder, CONFIG)
    check_accounting(con, accounting)
    assert accounting[0].rows_read == 3000
