"""Any combination of the valid shapes runs to the end: hypothesis draws, the real Dagster job runs.

Each example draws one to four distinct shapes of :mod:`recurrence.synth.shapes` in any order,
writes the tiny extract so shaped, runs the whole asset graph on it and checks the properties of
:func:`shape_runs.check_run`: the run exits 0; every disclosure check on every published table
and on the released folder was evaluated and passed; rows read = loaded + quarantined for every
table; the report and spreadsheet say in words which figures could not be computed and why.

A whole run costs about 40-60 s of one core even on 25 cases (the cost is in the disclosure
linear programmes, the intruder checks, linkage training and the report, which do not shrink with
the extract), so 200 examples take two to three hours. The suite runs
:data:`DEFAULT_EXAMPLES` of them (a fresh draw each time, so CI covers new combinations run after
run); the full 200 are run on demand with::

    RECURRENCE_SHAPE_COMBOS=200 .venv/bin/python -m pytest tests/pipelines/test_shape_combos.py

Failing combinations are kept in hypothesis's example database and tried first next time.
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shape_runs import check_run, run_root, run_shaped, tiny_extract

from recurrence.synth.shapes import SHAPES, write_shape

pytestmark = pytest.mark.slow

#: Whole runs per suite run: as many as fit the suite's 15-minute budget beside everything else.
DEFAULT_EXAMPLES = 3

EXAMPLES = int(os.environ.get("RECURRENCE_SHAPE_COMBOS", DEFAULT_EXAMPLES))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny generated extract every example shapes (generated once)."""
    return tiny_extract(tmp_path_factory.mktemp("combos") / "extract", seed=5)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shapes=st.lists(st.sampled_from(sorted(SHAPES)), min_size=1, max_size=4, unique=True))
def test_any_combination_of_shapes_runs_to_the_end(
    shapes, tiny, tmp_path, monkeypatch, blocking_checks
):
    extract = tmp_path / "shaped"
    shutil.rmtree(extract, ignore_errors=True)
    shaped = write_shape(tiny, extract, shapes)
    with run_root(tmp_path / "run") as root:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        run = run_shaped(extract, root, shaped.overrides, monkeypatch)
        check_run(run, shaped, blocking_checks)
