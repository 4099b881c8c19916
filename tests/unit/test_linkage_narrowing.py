"""Narrowing one side of a link to the records in a blocked pair changes no result."""

import shutil

import duckdb
import pytest
from splink import DuckDBAPI

from recurrence.linkage import settings as s
from recurrence.linkage.model import (
    narrow_to_blocked,
    non_null_columns,
    predict_pairs,
    splink_workspace,
    train_linker,
)
from recurrence.sql import run_sql
from recurrence.warehouse import connect


def test_keeps_rows_agreeing_on_every_column_of_some_rule():
    con = duckdb.connect()
    con.execute(
        "create table t as select * from (values "
        "('a', 1, 'x', 'p'), ('b', 1, 'y', 'q'), ('c', 2, 'x', 'q'), ('d', null, 'x', 'p'), "
        "('e', 3, null, null)) v(record_id, k, m, n)"
    )
    con.execute(
        "create table o as select * from (values (1, 'x', 'z'), (3, null, null), (null, 'x', 'p')) "
        "v(k, m, n)"
    )
    rules = [s.Rule(("k", "m")), s.Rule(("m", "n"))]
    assert narrow_to_blocked(con, "t", "o", rules, "kept") == 2
    # a: k and m agree; d: m and n agree (its null k is never compared); b, c: no rule agrees;
    # e: nulls agree with nothing.
    assert con.sql("select record_id from kept").fetchall() == [("a",), ("d",)]


@pytest.fixture(scope="module")
def records(staged_sample, tmp_path_factory):
    path = tmp_path_factory.mktemp("narrow") / "warehouse.duckdb"
    shutil.copy(staged_sample, path)
    con = connect(path)
    run_sql(con, "linkage/child_records.sql")
    run_sql(con, "linkage/birth_records.sql")
    yield con
    con.close()


def _train_and_predict(con, *, narrow):
    available = non_null_columns(con, "linkage.child_records") & non_null_columns(
        con, "linkage.birth_records"
    )
    inputs = [("work_child_records", "children"), ("work_birth_records", "births")]
    em_rules = s.em_sessions(s.child_birth_settings(available), s.CHILD_BIRTH_EM_RULES, available)
    with splink_workspace(con) as ws:
        ws.import_table("linkage.child_records", "work_child_records", s.CHILD_BIRTH_COLUMNS)
        ws.import_table("linkage.birth_records", "work_birth_records", s.CHILD_BIRTH_COLUMNS)
        candidates = None
        if narrow:
            kept = narrow_to_blocked(
                con,
                "work_birth_records",
                "work_child_records",
                [*s.usable_rules(s.CHILD_BIRTH_BLOCKING, available), *em_rules],
                "work_birth_candidates",
            )
            births = con.sql("select count(*) from work_birth_records").fetchone()[0]
            assert 0 < kept < births / 2  # the narrowing is worth doing on the sample too
            candidates = [inputs[0], ("work_birth_candidates", "births")]
        linker = train_linker(
            DuckDBAPI(connection=con),
            inputs,
            s.child_birth_settings(available),
            prior_rules=s.usable_rules(s.CHILD_BIRTH_PRIOR_RULES, available),
            prior_recall=s.CHILD_BIRTH_PRIOR_RECALL,
            em_rules=em_rules,
            seed=7,
            candidates=candidates,
        )
        pairs = con.sql(
            "select record_id_l, record_id_r, match_weight from "
            f"{predict_pairs(linker, s.PREDICT_FLOOR)} order by all"
        ).fetchall()
        return linker.misc.save_model_to_json(), pairs


def _parameters(model):
    # -1 for a level the data left untrained (Splink leaves out its probability)
    return [
        level.get(name, -1.0)
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
        for name in ("m_probability", "u_probability")
    ]


def test_narrowed_births_give_the_same_model_and_pairs(records):
    full_model, full_pairs = _train_and_predict(records, narrow=False)
    narrow_model, narrow_pairs = _train_and_predict(records, narrow=True)
    assert narrow_model["probability_two_random_records_match"] == pytest.approx(
        full_model["probability_two_random_records_match"], rel=1e-12
    )
    assert _parameters(narrow_model) == pytest.approx(_parameters(full_model), rel=1e-9)
    assert [p[:2] for p in narrow_pairs] == [p[:2] for p in full_pairs]
    assert [p[2] for p in narrow_pairs] == pytest.approx([p[2] for p in full_pairs], rel=1e-9)
