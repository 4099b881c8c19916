"""Independent recounts that guard the linkage tables (used by the blocking asset checks)."""

from __future__ import annotations

import duckdb


def _count(con: duckdb.DuckDBPyConnection, query: str, **params: object) -> int:
    row = con.execute(query, params or None).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def count_mother_rows_without_one_key(con: duckdb.DuckDBPyConnection) -> int:
    """Mother rows of ``staging.case_people`` with no, or more than one, ``mother_key``.

    Rows of ``linkage.mother_keys`` that match no staging mother row, or have a null key, are
    counted too.
    """
    return _count(
        con,
        """
        with staged as (
            select case_id, person_id from staging.case_people where role = 'mother'
        ),
        keyed as (
            select case_id, person_id, count(mother_key) as keys, count(*) as n
            from linkage.mother_keys group by case_id, person_id
        )
        select
            (select count(*) from staged as s left join keyed as k
                on s.case_id = k.case_id and s.person_id = k.person_id
                where k.keys is distinct from 1 or k.n <> 1)
            + (select count(*) from keyed as k anti join staged as s
                on s.case_id = k.case_id and s.person_id = k.person_id)
        """,
    )


def largest_mother_cases(con: duckdb.DuckDBPyConnection) -> int:
    """Most sets of proceedings (distinct case_ids) joined under one ``mother_key``."""
    return _count(
        con,
        "select coalesce(max(n), 0) from (select count(distinct case_id) as n "
        "from linkage.mother_keys group by mother_key)",
    )


def count_oversized_mothers(con: duckdb.DuckDBPyConnection, max_cases: int) -> int:
    """Mothers (``mother_key``) with more than ``max_cases`` sets of proceedings."""
    return _count(
        con,
        "select count(*) from (select mother_key from linkage.mother_keys group by mother_key "
        "having count(distinct case_id) > $max_cases)",
        max_cases=max_cases,
    )


def count_children_with_several_births(con: duckdb.DuckDBPyConnection) -> int:
    """Children (child person_ids) linked to more than one birth, or listed twice in a case."""
    return _count(
        con,
        """
        select
            (select count(*) from (select person_id from linkage.child_births
                where birth_id is not null group by person_id
                having count(distinct birth_id) > 1))
            + (select count(*) from (select case_id, person_id from linkage.child_births
                group by case_id, person_id having count(*) > 1))
        """,
    )
