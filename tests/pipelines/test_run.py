"""`recurrence run` materialises the graph through Dagster on the bundled sample, repeatably."""

import shutil

import pytest

from recurrence.cli import main
from recurrence.errors import EXIT_EXTRACT
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.warehouse import connect

pytestmark = pytest.mark.slow

TABLES = ("cases", "case_people", "births", "live_births")


def _snapshot(warehouse):
    con = connect(warehouse, read_only=True)
    try:
        out = {}
        for schema in ("raw", "staging"):
            for table in TABLES:
                out[f"{schema}.{table}"] = con.sql(
                    f"select * from {schema}.{table} order by source_row"
                ).fetchall()
        for table in ("quarantine", "ingest_accounting", "extract_info", "extract_files"):
            out[f"audit.{table}"] = sorted(
                con.sql(f"select * from audit.{table}").fetchall(), key=repr
            )
        return out
    finally:
        con.close()


def test_run_on_sample_succeeds_and_rerun_is_identical(tmp_path, dagster_home, capsys):
    warehouse = tmp_path / "wh.duckdb"
    args = ["run", "--extract", str(SAMPLE_EXTRACT_DIR), "--warehouse", str(warehouse)]
    args += ["--reports", str(tmp_path / "reports")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "staging/cases" in out
    assert "finished" in out
    first = _snapshot(warehouse)
    assert len(first["staging.cases"]) > 1000

    con = connect(warehouse, read_only=True)
    accounting = con.sql(
        "select table_name, rows_read, rows_loaded, rows_quarantined from audit.ingest_accounting"
    ).fetchall()
    con.close()
    assert {row[0] for row in accounting} == set(TABLES)
    for _, read, loaded, quarantined in accounting:
        assert read == loaded + quarantined

    assert main(args) == 0
    assert _snapshot(warehouse) == first


def test_run_stops_with_one_clear_message_for_a_missing_file(tmp_path, dagster_home, capsys):
    extract = tmp_path / "extract"
    shutil.copytree(SAMPLE_EXTRACT_DIR, extract, ignore=shutil.ignore_patterns("truth"))
    for name in ("births.csv", "births.parquet"):
        (extract / name).unlink(missing_ok=True)
    code = main(
        [
            *("run", "--extract", str(extract), "--warehouse", str(tmp_path / "wh.duckdb")),
            *("--reports", str(tmp_path / "reports")),
        ]
    )
    assert code == EXIT_EXTRACT
    err = capsys.readouterr().err
    assert "births" in err.strip().splitlines()[-1]
    assert "Traceback" not in err


def test_run_rejects_a_bad_setting_before_starting(tmp_path, dagster_home, capsys):
    code = main(["run", "--warehouse", str(tmp_path / "wh.duckdb"), "--set", "rates.year_type=x"])
    assert code == 2
    assert "rates.year_type" in capsys.readouterr().err
