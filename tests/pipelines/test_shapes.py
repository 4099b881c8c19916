"""Every valid extract runs to the end: the shape matrix, through the real Dagster job.

Each run takes a small generated extract (about 400 cases), rewrites it with the shape transforms
of :mod:`recurrence.synth.shapes` and runs the whole asset graph on it (``run_pipeline``, what
``recurrence run`` calls, in this process: see ``shape_runs.py``). A run costs about 40-60 s of
one core on the tiny extract (mostly disclosure linear programmes, the intruder checks and the
report), so running each of the 20 shapes alone does not fit the suite's budget. Instead the
shapes are combined so that every shape is in at least one run and shapes that would mask each
other are kept apart: five runs. ``test_shape_combos.py`` draws further combinations.

Every run is checked with :func:`shape_runs.check_run` (exit 0; every disclosure check evaluated
and passed; read = loaded + quarantined and read = the rows of the shaped file; the report and
spreadsheet say in words what could not be computed and why), and here also for the sentences
each run's shapes must cause.
"""

from __future__ import annotations

import html
import zipfile

import pytest
from shape_runs import check_run, run_root, run_shaped, tiny_extract

from recurrence.synth.shapes import SHAPES, write_shape

pytestmark = pytest.mark.slow

#: Runs of the matrix: each is a list of shapes applied in order, with the sentences the report
#: must contain because of them.
RUNS = {
    "one_region_one_year_no_la_mixed": (
        ["no_la", "one_region", "one_year", "mixed_formats", "optional_null"],
        ["Local-authority rates are not published: no local-authority codes"],
    ),
    "wales_live_births_born_after_short": (
        ["wales_only", "live_births", "born_after_issue", "short_follow_up", "no_la_births"],
        [],
    ),
    "nothing_links_no_return_none_small": (
        ["births_unlinkable", "no_return", "none_small", "no_la_cases"],
        [],
    ),
    "no_cases_no_births": (
        ["cases_empty", "births_empty"],
        ["Newborn rates are not published", "could not be fitted"],
    ),
    "everything_suppressed_optional": (
        ["one_region_suppressed", "optional_absent", "births_empty_live_births", "all_small"],
        ["could not be fitted"],
    ),
}

COVERED = {s for shapes, _ in RUNS.values() for s in shapes}


def test_every_shape_is_in_the_matrix():
    """A new shape must be added to a run (or this test fails)."""
    assert set(SHAPES) <= COVERED


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A small generated extract (about 400 cases) to shape."""
    return tiny_extract(tmp_path_factory.mktemp("tiny") / "extract")


@pytest.mark.parametrize("name", list(RUNS))
def test_shape_runs_to_the_end(name, tiny, tmp_path, monkeypatch, blocking_checks):
    shapes, sentences = RUNS[name]
    shaped = write_shape(tiny, tmp_path / "extract", shapes)
    with run_root(tmp_path) as root:
        run = run_shaped(tmp_path / "extract", root, shaped.overrides, monkeypatch)
        check_run(run, shaped, blocking_checks)
        report = html.unescape((run.folder / "report.html").read_text(encoding="utf-8"))
        with zipfile.ZipFile(run.folder / "newborn_rates.xlsx") as book:
            text = " ".join(
                book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml")
            )
    for sentence in sentences:
        assert sentence in report, sentence
    if any("Local-authority" in s for s in sentences):
        assert "Local_authorities is left out: no local-authority codes" in text
    if any("Newborn rates are not published" in s for s in sentences):
        assert "Newborns is left out: no live births" in text
