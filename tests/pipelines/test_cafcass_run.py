"""A SAIL-shaped Cafcass CMS + ECMS export runs end to end: adapt as the first stage of a run."""

import json

import pytest

from recurrence.cli import main
from recurrence.synth.cafcass_export import generate_cafcass_export
from recurrence.warehouse import connect

pytestmark = pytest.mark.slow


def test_adapt_then_the_whole_pipeline_on_a_cms_and_ecms_export(tmp_path, dagster_home, capsys):
    export = tmp_path / "export"
    truth = generate_cafcass_export(export, seed=11, families=80, alf_coverage=0.9)
    extract = tmp_path / "extract"
    settings = tmp_path / "adapter.toml"
    settings.write_text(f'[extract]\nlive_births_file = "{export / "live_births.csv"}"\n')
    config = tmp_path / "run.toml"
    config.write_text(
        f'[paths]\nextract = "{extract}"\n\n'
        f'[source]\nadapter = "cafcass"\ninput = "{export}"\nsettings = "{settings}"\n\n'
        # Cafcass holds no names or postcodes: mothers are joined on ALF_PE (the person key).
        '[linkage]\nmethod = "person_id"\n'
    )
    code = main(
        [
            *("run", "--config", str(config), "--warehouse", str(tmp_path / "wh.duckdb")),
            *("--reports", str(tmp_path / "reports")),
        ]
    )
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, captured.err[-3000:]
    assert "adapted cafcass-cms+cafcass-ecms" in out
    assert "finished" in out
    log = json.loads((extract / "adaptation_log.json").read_text())
    assert log["figures"]["cases written"] == truth["cases"]

    con = connect(tmp_path / "wh.duckdb", read_only=True)
    try:
        rows = con.sql(
            "select table_name, rows_read, rows_loaded, rows_quarantined "
            "from audit.ingest_accounting"
        ).fetchall()
    finally:
        con.close()
    for table, read, loaded, quarantined in rows:
        assert read == loaded + quarantined, table
    assert dict((t, r) for t, r, _, _ in rows)["cases"] == truth["cases"]
