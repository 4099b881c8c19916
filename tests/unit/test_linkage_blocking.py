"""Blocking recall and pairs compared, on hand-made records and truth."""

from __future__ import annotations

import re

import duckdb
import pytest

from recurrence.linkage import settings as s
from recurrence.linkage.blocking import blocking_recall, pairs_compared

RULES = [
    s.Rule(("ym", "sur")),
    s.Rule(("fore", "sur")),
    s.Rule(("fore", "sur"), 'l."fore" = r."sur" and l."sur" = r."fore"'),
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute(
        """
        create table recs as select * from (values
            ('a1', 'W1', '1990-01', 'ann', 'lee'),
            ('a2', 'W1', '1990-01', 'anne', 'lee'),   -- typo in forename: rule 1
            ('a3', 'W1', null, 'ann', 'lee'),         -- no date: rule 2 with a1
            ('b1', 'W2', '1985-05', 'kim', 'roe'),
            ('b2', 'W2', '1985-06', 'roe', 'kim'),    -- swapped, month out: rule 3 only
            ('c1', 'W3', '1970-01', 'joy', 'fox'),
            ('c2', 'W3', '1971-01', 'jay', 'fix'),    -- nothing agrees: never compared
            ('d1', 'W4', '1990-01', 'sue', 'lee')     -- a stranger in a1's block
        ) as t (record_id, truth, ym, fore, sur)
        """
    )
    return c


TRUTH = (
    "select l.record_id as record_id_l, r.record_id as record_id_r from recs as l "
    "inner join recs as r on l.truth = r.truth and l.record_id < r.record_id"
)


def test_blocking_recall_counts_true_pairs_any_rule_compares(con) -> None:
    result = blocking_recall(con, "recs", TRUTH, RULES)
    # true pairs: a1-a2, a1-a3, a2-a3, b1-b2, c1-c2
    assert result.known_pairs == 5
    # a1-a2 (rule 1), a1-a3 (rule 2), b1-b2 (rule 3); a2-a3 differ in forename and date
    assert result.blocked_pairs == 3
    assert result.recall == pytest.approx(0.6)
    assert result.by_rule == {"ym, sur": 1, "fore, sur": 1, RULES[2].condition: 1}


def test_nulls_never_block(con) -> None:
    result = blocking_recall(con, "recs", TRUTH, [s.Rule(("ym",))])
    assert result.blocked_pairs == 1  # a1-a2 only; a3's missing date matches nothing


def test_pairs_compared_counts_each_pair_once_in_rule_order(con) -> None:
    added = pairs_compared(con, "recs", RULES)
    # rule 1: (a1,a2), (a1,d1), (a2,d1); rule 2: (a1,a3) new; rule 3: (b1,b2)
    assert list(added.values()) == [3, 1, 1]
    assert sum(added.values()) == 5


def test_no_known_pairs_gives_no_recall(con) -> None:
    empty = "select record_id as record_id_l, record_id as record_id_r from recs where false"
    assert blocking_recall(con, "recs", empty, RULES).recall is None


def test_custom_rule_becomes_a_splink_rule() -> None:
    rule = RULES[2]
    sql = rule.creator().get_blocking_rule("duckdb").blocking_rule_sql
    assert sql == 'l."fore" = r."sur" and l."sur" = r."fore"'
    assert RULES[0].sql() == '(l."ym" = r."ym" and l."sur" = r."sur")'


def test_prior_recall_is_estimated_on_pairs_sharing_a_person_id() -> None:
    from recurrence.linkage.blocking import estimated_prior_recall

    con = duckdb.connect()
    con.execute("create schema linkage")
    # 60 women with two records under one person id; the first 15 change surname
    con.execute(
        """
        create table linkage.mother_records as
        select 'r' || i || '_' || k as record_id, 'p' || i as person_id, 'f' || i as forename_hash,
            case when k = 1 and i < 15 then 'other' || i else 's' || i end as surname_hash,
            '1990-01' as birth_year_month
        from range(60) as t (i), range(2) as u (k)
        """
    )
    rules = list(s.MOTHER_PRIOR_RULES)
    assert estimated_prior_recall(con, rules) == pytest.approx(45 / 60)
    # too few pairs: the assumed value
    con.execute("delete from linkage.mother_records where person_id not in ('p1', 'p20')")
    assert estimated_prior_recall(con, rules) == s.MOTHER_PRIOR_RECALL
    assert estimated_prior_recall(con, []) == s.MOTHER_PRIOR_RECALL


def test_one_missing_rule_compares_only_where_a_date_is_missing(con) -> None:
    rule = s._one_missing(("fore", "sur"), "ym")
    # a1-a3 share both names and a3 has no date; a1-a2 and b1-b2 differ in a name
    assert blocking_recall(con, "recs", TRUTH, [rule]).blocked_pairs == 1
    # a pair with both dates recorded is left to the rules that read the date
    con.execute("update recs set fore = 'ann' where record_id = 'a2'")
    assert blocking_recall(con, "recs", TRUTH, [rule]).blocked_pairs == 2
    assert rule.columns == ("fore", "sur", "ym")


def test_every_mother_rule_reads_only_mother_record_columns() -> None:
    # A rule on a column missing from linkage.mother_records would fail at prediction time.
    columns = {
        "birth_year_month",
        "bym_index",
        "birth_year",
        "forename_hash",
        "surname_hash",
        "forename_soundex_hash",
        "surname_soundex_hash",
        "postcode_district",
        "postcode_area",
        "la_code",
        "region_code",
    }
    for rule in s.MOTHER_BLOCKING:
        assert set(rule.columns) <= columns, rule.label
        named = set(re.findall(r'[lr]\."(\w+)"', rule.sql()))
        assert named <= set(rule.columns), rule.label
