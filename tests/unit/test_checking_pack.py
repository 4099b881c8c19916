"""The output-checking pack on a hand-made folder: every file described, or flagged."""

from recurrence.checking_pack import PACK_NAME, record_suppression, write_checking_pack
from recurrence.config import load_config
from recurrence.warehouse import connect


def test_every_file_is_described_with_its_hidden_cells_or_flagged(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "newborn_rates.csv").write_text("children\n")
    (folder / "report.html").write_text("<html></html>")
    (folder / "notes.txt").write_text("something the analyst added\n")
    con = connect(tmp_path / "wh.duckdb")
    try:
        record_suppression(con, "published.newborn_rates", primary=7, secondary=3, unit="cells")
        # a second record for the same table replaces the first (a re-run of the asset)
        record_suppression(con, "published.newborn_rates", primary=5, secondary=2, unit="cells")
        config = load_config(overrides=["disclosure.min_cell=10", "disclosure.rounding_base=5"])
        path = write_checking_pack(con, folder, config, run_id="run-1")
    finally:
        con.close()
    assert path == folder / PACK_NAME
    text = path.read_text(encoding="utf-8")
    assert "counts under **10** are hidden" in text
    assert "counts rounded to the nearest 5" in text
    section = text.split("### `newborn_rates.csv`")[1].split("###")[0]
    assert "From: `published.newborn_rates`" in section
    assert "primary suppression: 5 cells; by secondary suppression: 2 cells" in section
    assert "Intruder test: not run" in section  # no unsuppressed table to attack here
    assert "### `report.html`" in text
    notes = text.split("### `notes.txt`")[1].split("###")[0]
    assert "Not described by recurrence" in notes
    assert "Files not described above: 1." in text
    assert "run-1" in text
