"""No identifier from the input reaches any output of a run, and the release checks really bite."""

import re
import subprocess
import sys

import dagster as dg
import duckdb
import polars as pl
import pytest

from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.pseudonymise import KEY_ENV_VAR
from recurrence.release import find_identifiers, identifiers_in_warehouse, scan_release_folder

pytestmark = pytest.mark.slow

_ID_COLUMN = re.compile(r"(_id|_hash)$")


def _input_identifiers():
    """Every id and name-hash value in the sample's files, read without the code under test."""
    values = set()
    for path in sorted(SAMPLE_EXTRACT_DIR.iterdir()):
        if path.suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False)
        elif path.suffix == ".parquet":
            frame = pl.read_parquet(path)
        else:
            continue
        for column in frame.columns:
            if _ID_COLUMN.search(column):
                values.update(
                    str(v).encode() for v in frame[column].drop_nulls().unique().to_list()
                )
    return values


def test_identifiers_are_long_enough_to_scan_without_false_positives():
    ids = _input_identifiers()
    assert len(ids) > 10_000
    assert min(len(v) for v in ids) >= 16  # pseudonyms are 16 or 64 hex characters


def test_no_identifier_in_any_output_of_a_run(baseline_run):
    identifiers = _input_identifiers()
    outputs = [p for p in baseline_run.reports.rglob("*") if p.is_file()]
    assert len(outputs) >= 5
    # The Dagster instance holds the event log, run metadata and compute logs: every byte of it.
    instance_files = [p for p in baseline_run.dagster_home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in instance_files)
    models = list(baseline_run.warehouse.parent.glob("*.json"))
    assert find_identifiers([*outputs, *instance_files, *models], identifiers) == []

    logs = (baseline_run.stdout + baseline_run.stderr).encode()
    assert logs.count(b"done  ") > 20  # the run did print its progress
    tokens = set(re.findall(rb"[0-9A-Za-z_]+", logs))
    assert not tokens & identifiers

    # Run metadata, read back through Dagster's own API as well as from the raw files.
    with dg.DagsterInstance.from_config(str(baseline_run.dagster_home)) as instance:
        runs = instance.get_runs()
        assert runs
        text = " ".join(
            str(event.dagster_event) for run in runs for event in instance.all_logs(run.run_id)
        )
    assert "reports__released" in text  # the whole run is in the log
    assert not set(re.findall(r"[0-9A-Za-z_]+", text)) & {v.decode() for v in identifiers}


def test_scan_finds_a_planted_identifier_and_a_small_count(baseline_run, tmp_path):
    identifiers = _input_identifiers()
    planted = tmp_path / "notes.md"
    planted.write_text(f"see person {sorted(identifiers)[0].decode()} for details\n")
    assert find_identifiers([planted], identifiers) == ["notes.md: 1 identifier value(s)"]

    csv = (baseline_run.run_folder / "recurrence_estimates.csv").read_text(encoding="utf-8")
    header, first, *rest = csv.splitlines()
    columns = header.split(",")
    cells = first.split(",")
    cells[columns.index("n_events")] = "3"
    folder = tmp_path / "release"
    folder.mkdir()
    (folder / "recurrence_estimates.csv").write_text("\n".join([header, ",".join(cells), *rest]))
    found = scan_release_folder(folder, min_cell=10, symbol="[c]")
    assert found.small_counts == ["recurrence_estimates.csv line 2, column n_events"]
    assert not found.safe


def test_warehouse_search_finds_planted_identifiers_and_nothing_in_the_release(
    baseline_run, tmp_path
):
    identifiers = sorted(_input_identifiers())
    planted = tmp_path / "notes.md"
    planted.write_text(f"{identifiers[0].decode()} and {identifiers[-1].decode()} are here\n")
    clean = tmp_path / "clean.md"
    clean.write_text("nothing_identifying_here 0123456789abcdef\n")
    released = sorted(p for p in baseline_run.run_folder.rglob("*") if p.is_file())
    con = duckdb.connect(str(baseline_run.warehouse), read_only=True)
    try:
        found, columns = identifiers_in_warehouse(con, [planted, clean, *released])
    finally:
        con.close()
    assert found == ["notes.md: 2 identifier value(s)"]
    assert columns >= 8  # ids and name hashes of cases, case_people and births


def test_released_folder_passes_the_scan_including_the_spreadsheet(baseline_run):
    found = scan_release_folder(baseline_run.run_folder, min_cell=10, symbol="[c]")
    assert found.safe, found
    assert found.files >= 5
    # The spreadsheet's count columns are read (a threshold above every count flags them).
    strict = scan_release_folder(baseline_run.run_folder, min_cell=10**9, symbol="[c]")
    assert any(p.startswith("newborn_rates.xlsx") for p in strict.small_counts)
    assert any(p.startswith("newborn_rates.csv") for p in strict.small_counts)


def test_pseudonymisation_key_is_written_nowhere(tmp_path):
    key = "operations-test-key-7f3a9c2e5b1d4086-not-a-real-secret"
    source = tmp_path / "identifiable"
    source.mkdir()
    (source / "extract.toml").write_text('extract_end_date = 2024-03-31\nsource = "test"\n')
    (source / "cases.csv").write_text(
        "case_id,issue_date,application_type,region_code,la_code,final_hearing_date,outcome\n"
        "C1,2015-06-01,s31_care,E12000001,E91000001,2016-02-01,care_order\n"
    )
    (source / "case_people.csv").write_text(
        "case_id,person_id,role,birth_date,birth_year_month,sex,forename,surname,postcode_district\n"
        "C1,P1,mother,,1990-04,F,Zoe,Smith,NE1\n"
        "C1,P2,child,2015-05-30,,M,Jon,Smith,NE1\n"
    )
    (source / "births.csv").write_text(
        "birth_id,baby_birth_date,region_code,la_code,mother_person_id,mother_birth_year_month,"
        "mother_forename,mother_surname,mother_postcode_district,baby_sex,live_birth\n"
        "B1,2015-05-30,E12000001,E91000001,M9,1990-04,Zoe,Smith,NE1,M,true\n"
    )
    out = tmp_path / "pseudonymised"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "recurrence.cli", "pseudonymise"),
            *("--in", str(source), "--out", str(out)),
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", KEY_ENV_VAR: key},
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent == out for p in written)
    for path in written:
        assert key.encode() not in path.read_bytes(), path
    assert key not in done.stdout + done.stderr
