"""Fuzzing ingest at scale: 1,000 damaged extracts, every one accounted for or refused in one line.

The hand-made extract of ``ingest_fixtures`` (a few rows per table, live births included) is
damaged one to three ways per example, including the kinds found by hostile testing: NUL and
other control characters inside a field, an over-long unquoted field, impossible live-birth
years and zero or negative counts, a header-only file, a folder, a symbolic link loop or a FIFO
in place of a file, and a future ``extract_end_date``. Only the damaged table is read and
validated again, on one DuckDB connection kept for the whole test (``staging.cases`` of the clean
extract is in place for ``case_people``), so 1,000 examples take well under a minute.

Invariants of every example:

* the outcome is either an :class:`~recurrence.errors.ExtractError` of one line naming the
  damaged file (or ``extract.toml``) and a fix, or a load where rows read = rows loaded + rows
  quarantined (recounted from the tables) and every quarantined row has a reason;
* no other exception (a raw DuckDB, polars, pyarrow, csv or OS error) escapes: hypothesis would
  report it as a failure;
* no control character reaches a staging table, and no live-birth year or count that cannot be
  true is loaded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import CONFIG, END, IDENTIFIERS, VALID, csv_text, write_extract

from recurrence.audit import recount_accounting
from recurrence.errors import ExtractError
from recurrence.ingest import ingest_extract, load_raw_table, read_extract_info, validate_table

pytestmark = pytest.mark.slow

EXAMPLES = 1000
TABLES = ("cases", "case_people", "births", "live_births")
BASE = {name: csv_text(rows).encode() for name, rows in VALID.items()}
TOML = f'extract_end_date = {END}\nsource = "fuzz"\n'.encode()

VALUES = [
    "\x00",
    "a\x00b",
    "\x01",
    "x\x1by",
    "\x7f",
    "tab\there",
    "99999999999",
    "1899",
    "2099",
    "0",
    "-1",
    "-0",
    "+5",
    "00002016",
    "2016.0",
    "1e3",
    "2019-02-30",
    "0000-00-00",
    "2019-13",
    "31/12/2019",
    "NULL",
    "",
    "   ",
    "２０１６",
    '"',
    "a,b",
]
KINDS = [
    "value",
    "text_value",
    "control_char",
    "long_unquoted",
    "header_only",
    "truncate",
    "stray_quote",
    "bad_bytes",
    "bom",
    "crlf",
    "extra_field",
    "empty",
    "not_a_file",
    "future_end",
]


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@st.composite
def damage(draw) -> tuple[str, list[str], bytes | str, bytes]:
    """(table, kinds, new file content or a non-file kind, extract.toml bytes)."""
    table = draw(st.sampled_from(TABLES))
    data = BASE[table]
    toml = TOML
    kinds: list[str] = []
    special: str | None = None
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(KINDS))
        kinds.append(kind)
        lines = data.split(b"\n")
        row = draw(st.integers(0, max(0, len(lines) - 1)))
        fields = lines[row].split(b",")
        col = draw(st.integers(0, max(0, len(fields) - 1)))
        if kind in ("value", "text_value", "control_char"):
            if kind == "value":
                value = draw(st.sampled_from(VALUES))
            elif kind == "text_value":
                value = draw(st.text(max_size=12))
            else:
                value = "id" + chr(draw(st.sampled_from([*range(0, 32), 127]))) + "x"
            fields[col] = value.encode("utf-8", "surrogatepass")
            lines[row] = b",".join(fields)
            data = b"\n".join(lines)
        elif kind == "long_unquoted":
            # Longer than Python's csv field limit (131,072) and cheap to write.
            fields[col] = fields[col] + b"x" * 140_000
            lines[row] = b",".join(fields)
            data = b"\n".join(lines)
        elif kind == "header_only":
            data = lines[0] + b"\n"
        elif kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif kind == "stray_quote":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + b'"' + data[at:]
        elif kind == "bad_bytes":
            at = draw(st.integers(0, len(data)))
            junk = draw(st.binary(min_size=1, max_size=3).filter(_not_utf8))
            data = data[:at] + junk + data[at:]
        elif kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif kind == "extra_field":
            lines[row] = lines[row] + b",surplus"
            data = b"\n".join(lines)
        elif kind == "empty":
            data = b""
        elif kind == "not_a_file":
            special = draw(st.sampled_from(["directory", "symlink_loop", "dangling", "fifo"]))
        elif kind == "future_end":
            toml = b'extract_end_date = 2099-12-31\nsource = "fuzz"\n'
    return table, kinds, special if special is not None else data, toml


class Harness:
    """One extract folder and one warehouse connection reused by every example."""

    def __init__(self, root: Path) -> None:
        self.folder = write_extract(root / "extract")
        # In memory: every example commits a dozen small tables, and a file would sync each.
        self.con = duckdb.connect(config={"threads": 1})
        # The clean extract once: staging.cases must exist for case_people to be validated.
        ingest_extract(self.con, self.folder, CONFIG)

    def put(self, table: str, content: bytes | str, toml: bytes) -> Path:
        path = self.folder / f"{table}.csv"
        self._remove(path)
        (self.folder / "extract.toml").write_bytes(toml)
        if content == "directory":
            path.mkdir()
        elif content == "symlink_loop":
            path.symlink_to(path)
        elif content == "dangling":
            path.symlink_to(self.folder / "nowhere.csv")
        elif content == "fifo":
            os.mkfifo(path)
        else:
            assert isinstance(content, bytes)
            path.write_bytes(content)
        return path

    def restore(self, table: str) -> None:
        path = self.folder / f"{table}.csv"
        self._remove(path)
        path.write_bytes(BASE[table])
        (self.folder / "extract.toml").write_bytes(TOML)

    @staticmethod
    def _remove(path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()

    def ingest(self, table: str) -> str:
        error: ExtractError | None = None
        try:
            info = read_extract_info(self.folder, checksums=False)
            load_raw_table(self.con, info, table)
            acc = validate_table(self.con, info, table, CONFIG)
        except ExtractError as exc:
            error = exc
        if error is not None:
            message = str(error)
            assert "\n" not in message, message
            assert error.file.endswith((f"{table}.csv", "extract.toml")), message
            assert error.problem, message
            assert error.fix, message
            for identifier in IDENTIFIERS:
                assert identifier not in message, message
            return "clear error"
        assert acc.rows_read == acc.rows_loaded + acc.rows_quarantined, acc
        assert recount_accounting(self.con, table).balanced, acc
        unexplained = self.con.execute(
            "select count(*) from audit.quarantine where table_name = $t "
            "and (reason is null or reason = '')",
            {"t": table},
        ).fetchone()[0]
        assert unexplained == 0
        self._check_loaded(table)
        return "quarantined rows" if acc.rows_quarantined else "loaded cleanly"

    def _check_loaded(self, table: str) -> None:
        text_columns = [
            r[0]
            for r in self.con.execute(
                "select column_name from information_schema.columns where table_schema = "
                "'staging' and table_name = $t and data_type = 'VARCHAR'",
                {"t": table},
            ).fetchall()
        ]
        for column in text_columns:
            bad = self.con.execute(
                f'select count(*) from staging."{table}" '
                f"where regexp_matches(\"{column}\", '[\\x00-\\x1f\\x7f]')"
            ).fetchone()[0]
            assert bad == 0, f"control character loaded in {table}.{column}"
        if table == "live_births":
            bad = self.con.execute(
                "select count(*) from staging.live_births where year < 1900 or year > $y "
                "or live_births <= 0",
                {"y": int(END[:4])},
            ).fetchone()[0]
            assert bad == 0, "impossible live births loaded"


def test_a_thousand_damaged_extracts_are_refused_or_accounted_for():
    outcomes: Counter = Counter()
    kinds_seen: Counter = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        harness = Harness(Path(tmp))

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(damage())
        def check(case: tuple[str, list[str], bytes | str, bytes]) -> None:
            table, kinds, content, toml = case
            harness.put(table, content, toml)
            try:
                outcomes[harness.ingest(table)] += 1
            finally:
                harness.restore(table)
            kinds_seen.update(kinds)

        try:
            check()
        finally:
            harness.con.close()
    tried = sum(outcomes.values())
    print(f"\ningest fuzzing at scale: {tried} extracts: {dict(outcomes)}")
    print(f"damage kinds drawn: {dict(kinds_seen)}")
    assert tried >= EXAMPLES
    assert set(kinds_seen) == set(KINDS)
    assert outcomes["clear error"] > 0
    assert outcomes["quarantined rows"] > 0
