"""Splink edges that would chain two women through a third record are refused."""

from __future__ import annotations

import duckdb
import pytest

from recurrence.linkage.bridges import split_conflicting_bridges
from recurrence.sql import run_sql


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("create schema linkage")
    # twins a and b (same surname, date, address; forenames differ entirely), a record c with
    # no forename that resembles both, and a record d of a with a typo that keeps her Soundex
    c.execute(
        """
        create table linkage.mother_records as select * from (values
            ('a', 'ann', 'A500', 'lee', 'L000'),
            ('b', 'zoe', 'Z000', 'lee', 'L000'),
            ('c', null, null, 'lee', 'L000'),
            ('d', 'anne', 'A500', 'lee', 'L000')
        ) as t (record_id, forename_hash, forename_soundex_hash, surname_hash,
                surname_soundex_hash)
        """
    )
    c.execute(
        """
        create table linkage.mother_pairs as select * from (values
            ('a', 'c', 0.99), ('b', 'c', 0.98), ('a', 'b', 0.10), ('a', 'd', 0.97),
            ('c', 'd', 0.96), ('b', 'd', 0.05)
        ) as t (record_id_l, record_id_r, match_probability)
        """
    )
    return c


def _edges(con, rule_edges=()):
    con.execute(
        "create or replace table linkage.mother_edges as select record_id_l, record_id_r, "
        "'splink' as evidence, match_probability from linkage.mother_pairs "
        "where match_probability >= 0.95"
    )
    for left, right, kind in rule_edges:
        con.execute("insert into linkage.mother_edges values (?, ?, ?, 1.0)", [left, right, kind])
    run_sql(con, "linkage/mother_conflicts.sql", threshold=0.95)
    return split_conflicting_bridges(con)


def _kept(con):
    return con.sql(
        "select record_id_l || record_id_r from linkage.mother_edges order by 1"
    ).fetchall()


def test_the_edge_that_would_join_the_twins_is_refused(con) -> None:
    assert _edges(con) == 1
    # a-c (0.99) joins first; a-d and c-d stay inside that cluster; b-c would join b to a
    assert con.sql("select * from linkage.mother_edges_split").fetchall() == [("b", "c", 0.98)]
    assert _kept(con) == [("ac",), ("ad",), ("cd",)]


def test_trusted_evidence_is_never_refused(con) -> None:
    # a and b share a person id: the model's doubt does not part them, and d, which conflicts
    # with b but has two edges into the cluster (a-d, c-d), joins it: nothing is refused
    assert _edges(con, [("a", "b", "person_id")]) == 0
    assert ("ab",) in _kept(con)


def test_support_outweighs_a_single_conflict(con) -> None:
    # without the a-d edge, d's one edge (c-d) against its one conflict (b-d) is not enough
    con.execute("delete from linkage.mother_pairs where record_id_r = 'd' and record_id_l = 'a'")
    assert _edges(con, [("a", "b", "person_id")]) == 1
    assert con.sql("select * from linkage.mother_edges_split").fetchall() == [("c", "d", 0.96)]


def test_no_conflict_below_the_threshold_refuses_nothing(con) -> None:
    con.execute(
        "update linkage.mother_records set forename_soundex_hash = 'A500' where record_id = 'b'"
    )
    # b's forename now shares a's Soundex code: a typo, not a sister
    assert _edges(con) == 0
