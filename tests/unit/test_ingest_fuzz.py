"""Fuzzing ingest with malformed extracts: every one ends in a clear error or accounted quarantine.

A small slice of the bundled sample is damaged the ways real extracts are damaged (wrong types,
truncated files, stray quotes, byte-order marks, non-UTF-8 bytes, empty files, huge fields,
duplicated headers, impossible dates) and ingested into a fresh warehouse. The outcome must be
either an ExtractError naming the damaged file, or success with rows read = rows loaded + rows
quarantined for every table. The examples are derandomised, so CI runs the same cases each time;
their number is printed (run with -s) and recorded in docs/operations.md.
"""

import dataclasses
import tempfile
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import CONFIG as FIXTURE_CONFIG

from recurrence.audit import recount_accounting
from recurrence.errors import ExtractError
from recurrence.ingest import ingest_extract
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.warehouse import connect

pytestmark = pytest.mark.slow

EXAMPLES = 120
TABLES = ("cases", "case_people", "births")


def _base_extract() -> dict[str, bytes]:
    """About 30 cases, their people and 40 births from the sample, as CSV bytes."""
    cases = pl.read_csv(SAMPLE_EXTRACT_DIR / "cases.csv", infer_schema=False).head(30)
    people = pl.read_csv(SAMPLE_EXTRACT_DIR / "case_people.csv", infer_schema=False)
    people = people.filter(pl.col("case_id").is_in(cases["case_id"].to_list()))
    births = pl.read_parquet(SAMPLE_EXTRACT_DIR / "births.parquet").head(40)
    births = births.select(pl.all().cast(pl.String))
    return {
        "cases": cases.write_csv().encode(),
        "case_people": people.write_csv().encode(),
        "births": births.write_csv().encode(),
        "extract.toml": (SAMPLE_EXTRACT_DIR / "extract.toml").read_bytes(),
    }


BASE = _base_extract()
# The base keeps the sample's first 30 cases (2008) under its 2024 end date; the end-date rule has
# tests of its own (test_ingest_hardening.py), so here it must not pre-empt the damage under test.
CONFIG = dataclasses.replace(FIXTURE_CONFIG, max_end_date_gap_days=36500)

ODD_VALUES = [
    "2019-02-30",
    "2019-13-01",
    "31/12/2019",
    "0000-00-00",
    "abc",
    "-1",
    "1e309",
    "NaN",
    "NULL",
    "",
    "   ",
    "２０１９-０１-０１",
    "\u00e9\u00e8",
    "x" * 100_000,
    '"',
    '""',
    "a,b",
    "line\nbreak",
]


@st.composite
def damage(draw) -> tuple[str, str, bytes]:
    """One table's file, damaged one to three ways; returns (table, description, bytes)."""
    table = draw(st.sampled_from(TABLES))
    data = BASE[table]
    done = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                [
                    "odd_value",
                    "truncate",
                    "stray_quote",
                    "bom",
                    "bad_bytes",
                    "empty",
                    "huge_field",
                    "duplicate_header",
                    "drop_header_column",
                    "crlf",
                    "extra_field",
                    "random_text_field",
                ]
            )
        )
        lines = data.split(b"\n")
        if kind == "odd_value" or kind == "random_text_field":
            value = (
                draw(st.sampled_from(ODD_VALUES))
                if kind == "odd_value"
                else draw(st.text(max_size=30))
            )
            row = draw(st.integers(0, len(lines) - 1))
            fields = lines[row].split(b",")
            col = draw(st.integers(0, max(0, len(fields) - 1)))
            fields[col] = value.encode("utf-8", "surrogatepass")
            lines[row] = b",".join(fields)
            data = b"\n".join(lines)
        elif kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif kind == "stray_quote":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + b'"' + data[at:]
        elif kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "bad_bytes":
            at = draw(st.integers(0, len(data)))
            junk = draw(st.binary(min_size=1, max_size=4).filter(_not_utf8))
            data = data[:at] + junk + data[at:]
        elif kind == "empty":
            data = b""
        elif kind == "huge_field":
            row = draw(st.integers(0, len(lines) - 1))
            lines[row] = lines[row] + b"x" * 200_000
            data = b"\n".join(lines)
        elif kind == "duplicate_header":
            names = lines[0].split(b",")
            lines[0] = b",".join([*names, draw(st.sampled_from(names))])
            data = b"\n".join(lines)
        elif kind == "drop_header_column":
            names = lines[0].split(b",")
            del names[draw(st.integers(0, len(names) - 1))]
            lines[0] = b",".join(names)
            data = b"\n".join(lines)
        elif kind == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif kind == "extra_field":
            row = draw(st.integers(0, len(lines) - 1))
            lines[row] = lines[row] + b",surplus"
            data = b"\n".join(lines)
        done.append(kind)
    return table, "+".join(done), data


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


OUTCOMES: Counter = Counter()


def _ingest(table: str, data: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        extract = Path(tmp) / "extract"
        extract.mkdir()
        (extract / "extract.toml").write_bytes(BASE["extract.toml"])
        for name in TABLES:
            (extract / f"{name}.csv").write_bytes(data if name == table else BASE[name])
        con = connect(Path(tmp) / "wh.duckdb")
        try:
            error = None
            try:
                accounting = ingest_extract(con, extract, CONFIG)
            except ExtractError as exc:
                error = exc
            if error is not None:
                # One message naming the damaged file, the problem and the fix.
                assert f"{table}.csv" in error.file, str(error)
                assert error.problem, str(error)
                assert error.fix, str(error)
                return "clear error"
            for acc in accounting:
                assert acc.rows_read == acc.rows_loaded + acc.rows_quarantined, acc
                assert recount_accounting(con, acc.table_name).balanced, acc
            quarantined = sum(a.rows_quarantined for a in accounting)
            if quarantined:
                reasons = con.sql(
                    "select count(*) from audit.quarantine where reason is null or reason = ''"
                ).fetchone()[0]
                assert reasons == 0
            return "quarantined rows" if quarantined else "loaded cleanly"
        finally:
            con.close()


def test_malformed_extracts_end_in_a_clear_error_or_accounted_quarantine():
    OUTCOMES.clear()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(damage())
    def check(case: tuple[str, str, bytes]) -> None:
        table, kinds, data = case
        outcome = _ingest(table, data)
        OUTCOMES[outcome] += 1
        OUTCOMES[f"kind:{kinds}"] += 0  # keep the damage kinds visible in the summary below

    check()
    tried = sum(v for k, v in OUTCOMES.items() if not k.startswith("kind:"))
    print(f"\ningest fuzzing: {tried} cases tried: {dict(OUTCOMES.most_common(3))}")
    assert tried >= EXAMPLES
    assert OUTCOMES["clear error"] > 0
    assert OUTCOMES["quarantined rows"] > 0
