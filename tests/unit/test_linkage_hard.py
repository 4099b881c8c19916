"""Accuracy floor on a small hard-profile extract: errors of the kinds FEBRL carries.

A quarter of the sample (fraction 0.005), generated with ``corruption="hard"``: missing and
mistyped dates of birth, swapped names, several typos, common names, twins and sisters, re-issued
person ids. This extract scores pairwise precision 0.998, F1 0.991, B-cubed F1 0.996 and
blocking recall 0.930; before issue 19's blocking rules, error levels and held-back forename
conflicts it scored precision 0.955, F1 0.970, B-cubed F1 0.992 and blocking recall 0.786, so
every floor but precision's margin is one the old model fails. The extract is fixed by its
seed: a change that moves these figures is a change in linkage, not noise.
"""

from __future__ import annotations

import pytest

from recurrence.config import load_config
from recurrence.ingest import ingest_extract
from recurrence.linkage import (
    evaluate_linkage,
    link_children_to_births,
    link_mothers,
    link_mothers_to_births,
    summarise_linkage,
)
from recurrence.linkage import settings as s
from recurrence.synth import generate_extract
from recurrence.warehouse import connect

SEED = 20240331


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("hard_link")
    extract = root / "extract"
    generate_extract(extract, scale="sample", seed=SEED, fraction=0.005, corruption="hard")
    warehouse = root / "wh.duckdb"
    full = load_config()
    con = connect(warehouse)
    try:
        ingest_extract(con, extract, full.ingest)
        link_children_to_births(con, full.linkage)
        link_mothers(con, full.linkage)
        link_mothers_to_births(con)
        summarise_linkage(con)
        summary = {
            m: (n, d, r)
            for m, n, d, r in con.sql(
                "select measure, numerator, denominator, rate from linkage.summary "
                "where breakdown = 'all'"
            ).fetchall()
        }
    finally:
        con.close()
    result = evaluate_linkage(
        warehouse,
        extract / "truth",
        evidence_sets={"+ splink": (s.EVIDENCE_PERSON_ID, s.EVIDENCE_SPLINK)},
        thresholds=(),
    )
    return result, summary


def test_hard_profile_accuracy_floor(scored) -> None:
    result, _ = scored
    run = next(v for k, v in result.mothers.items() if k.startswith("run"))
    assert run["pairwise_precision"] >= 0.98
    assert run["pairwise_f1"] >= 0.98
    assert run["bcubed_f1"] >= 0.994


def test_hard_profile_blocking_recall_floor(scored) -> None:
    result, _ = scored
    assert result.blocking["recall"] >= 0.92  # 0.786 with the five rules before issue 19


def test_forename_conflicts_are_held_back_and_counted(scored) -> None:
    _, summary = scored
    assert summary["mother_pairs_held_back"][0] > 0  # twins and sisters exist


def test_summary_states_what_the_model_expects_of_itself(scored) -> None:
    result, summary = scored
    precision = summary["mother_model_expected_precision"][2]
    recall = summary["mother_model_expected_recall"][2]
    assert 0.9 <= precision <= 1
    assert 0.5 <= recall <= 1
    estimate = summary["mother_blocking_recall_estimated"][2]
    assert estimate == pytest.approx(result.blocking["recall"], abs=0.03)
