"""Property test: any combination of the valid shapes is an extract ingest accounts for exactly.

What runs here, and why not the whole job: a whole run on the smallest useful extract costs about
40-60 s of one core, so the suite runs only a few whole runs of drawn combinations
(``tests/pipelines/test_shape_combos.py``; 200 on demand) beside the shape matrix
(``tests/pipelines/test_shapes.py``). Here hypothesis draws 200 combinations of shapes, in any
order, and for each writes the shaped extract and runs the library's ingest
(:func:`recurrence.ingest.load.ingest_extract`, what the ingest assets call) on an in-memory
DuckDB, checking that nothing raises, that every table's rows read equal the rows written, and
read = loaded + quarantined. The downstream stages are not run per example."""

from __future__ import annotations

import shutil
from dataclasses import replace

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recurrence.config import load_config
from recurrence.ingest.load import ingest_extract
from recurrence.synth import generate_extract
from recurrence.synth.shapes import SHAPES, read_extract, write_extract, write_shape

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A generated extract of about 400 cases with a tenth of its births, to keep examples fast."""
    root = tmp_path_factory.mktemp("small")
    generate_extract(root / "full", scale="sample", seed=5, fraction=0.002)
    extract = read_extract(root / "full")
    births = extract.tables["births"].filter(pl.int_range(pl.len()) % 10 == 0)
    fewer = replace(extract, tables={**extract.tables, "births": births})
    return write_extract(fewer, root / "extract")


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shapes=st.lists(st.sampled_from(sorted(SHAPES)), max_size=4))
def test_any_combination_of_shapes_is_ingested_and_accounted_for(small, tmp_path, shapes):
    folder = tmp_path / "shaped"
    shutil.rmtree(folder, ignore_errors=True)
    shaped = write_shape(small, folder, shapes)
    with duckdb.connect() as con:
        results = ingest_extract(con, folder, load_config(overrides=shaped.overrides).ingest)
    rows = {t: f.height for t, f in shaped.tables.items()}
    for r in results:
        assert r.rows_read == r.rows_loaded + r.rows_quarantined, r
        assert r.rows_read == rows.get(r.table_name, 0), r


def test_every_ordered_pair_of_shapes_composes(small, tmp_path):
    """A shape that needs a column another shape removes must still apply, in either order.

    Hypothesis found ``optional_absent`` then ``births_unlinkable`` failing on the missing
    ``birth_date``; every pair is cheap to write, so all are tried rather than sampled.
    """
    failed = []
    for first in sorted(SHAPES):
        for second in sorted(SHAPES):
            folder = tmp_path / "pair"
            shutil.rmtree(folder, ignore_errors=True)
            try:
                write_shape(small, folder, [first, second])
            except Exception as error:  # every failing pair is reported at once
                failed.append(f"{first} then {second}: {error!r}")
    assert not failed, "\n".join(failed)
