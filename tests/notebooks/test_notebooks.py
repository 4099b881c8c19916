"""The researcher notebooks: stored without outputs, and run top to bottom on the sample warehouse."""

import json

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from recurrence.paths import PROJECT_ROOT, SAMPLE_EXTRACT_DIR

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_at_least_three_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_recurrence", "02_newborn_rates", "03_linkage_diagnostics"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    book = json.loads(path.read_text(encoding="utf-8"))
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], path.name
            assert cell["execution_count"] is None, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_sample_warehouse(path, full_sample_run, monkeypatch):
    assert full_sample_run.code == 0
    monkeypatch.setenv("RECURRENCE_WAREHOUSE", str(full_sample_run.warehouse))
    monkeypatch.setenv("RECURRENCE_TRUTH", str(SAMPLE_EXTRACT_DIR / "truth"))
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(PROJECT_ROOT)}}
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{path.name}: {error}")
    errors = [
        o for c in book.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == [], [f"{e['ename']}: {e['evalue']}" for e in errors]
    # Every figure cell produced a picture.
    assert any("image/png" in o.get("data", {}) for c in book.cells for o in c.get("outputs", []))
