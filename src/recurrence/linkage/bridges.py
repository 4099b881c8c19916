"""Splink edges that would chain two women together through a third record.

Connected components join everything a chain of edges reaches: a record with no forename that
resembles two sisters (same surname, address and, for twins, date of birth) scores high against
each, and joins them, although the model scored the sisters themselves as two women. On the
hard profile every cluster holding two true women at the chosen threshold and larger than a
single pair was of this kind (``benchmarks/RESULTS.md``).

:func:`split_conflicting_bridges` builds the clusters edge by edge: first the rule-based
evidence (same person id, a shared child, the same maternity mother id), which is trusted; then
the Splink edges from the most probable down. A Splink edge that would join two clusters is
refused when, across them, the pairs the model scored as two women by forename (*conflicts*,
``linkage.mother_conflicts``: below the threshold, forenames disagreeing entirely) are at
least as many as its edges saying one woman: the clusters lack internal support. A refused
edge moves from ``linkage.mother_edges`` to ``linkage.mother_edges_split`` and the two sides
stay apart (unless other edges join them). An edge inside one cluster is kept.
"""

from __future__ import annotations

import duckdb

from recurrence.linkage import settings as s


class _Clusters:
    """Union-find over record ids that can weigh the pairs across two clusters."""

    def __init__(self, edges: dict[str, set[str]], conflicts: dict[str, set[str]]) -> None:
        self.parent: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}
        self.edges = edges
        self.conflicts = conflicts

    def find(self, node: str) -> str:
        if node not in self.parent:
            self.parent[node] = node
            self.members[node] = {node}
            return node
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def contested(self, a: str, b: str) -> bool:
        """Whether the pairs across a's and b's clusters say two women at least as often as one.

        Across the two clusters, count the Splink edges (the model says one woman) and the
        conflicts (the model and the forenames say two). A conflict alone does not part them:
        a cluster joined by trusted evidence may hold a forename mistyped beyond its Soundex
        code, and a record agreeing with her other records should still join.
        """
        ra, rb = self.find(a), self.find(b)
        if ra == rb:  # already one cluster: the edge splits nothing
            return False
        small, large = sorted((ra, rb), key=lambda r: len(self.members[r]))
        inside = self.members[large]
        against = sum(len(self.conflicts.get(m, set()) & inside) for m in self.members[small])
        if not against:
            return False
        support = sum(len(self.edges.get(m, set()) & inside) for m in self.members[small])
        return against >= support

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] |= self.members.pop(rb)


def _adjacency(pairs: list[tuple[str, str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


def split_conflicting_bridges(con: duckdb.DuckDBPyConnection) -> int:
    """Refuse the Splink edges of ``linkage.mother_edges`` that join contested clusters.

    Needs ``linkage.mother_edges`` and ``linkage.mother_conflicts``. Edges are taken in a fixed
    order (rule-based evidence first, then Splink edges by descending probability, ties by
    record ids), so the result does not depend on row order.

    Parameters
    ----------
    con
        Warehouse connection.

    Returns
    -------
    int
        The Splink edges refused, now in ``linkage.mother_edges_split`` (record_id_l,
        record_id_r, match_probability) and no longer in ``linkage.mother_edges``.
    """
    conflicts = [
        (str(a), str(b))
        for a, b in con.sql(
            "select record_id_l, record_id_r from linkage.mother_conflicts"
        ).fetchall()
    ]
    edges = con.sql(
        "select record_id_l, record_id_r, evidence, match_probability from linkage.mother_edges "
        f"order by evidence = '{s.EVIDENCE_SPLINK}', match_probability desc, "
        "record_id_l, record_id_r"
    ).fetchall()
    splink = [(str(a), str(b)) for a, b, kind, _ in edges if kind == s.EVIDENCE_SPLINK]
    clusters = _Clusters(_adjacency(splink), _adjacency(conflicts))
    refused: list[tuple[str, str, float]] = []
    for left, right, evidence, probability in edges:
        if evidence == s.EVIDENCE_SPLINK and clusters.contested(left, right):
            refused.append((left, right, probability))
            continue
        clusters.union(left, right)
    con.execute(
        "create or replace table linkage.mother_edges_split (record_id_l varchar, "
        "record_id_r varchar, match_probability double)"
    )
    if refused:
        con.executemany("insert into linkage.mother_edges_split values (?, ?, ?)", refused)
        con.execute(
            "delete from linkage.mother_edges as e using linkage.mother_edges_split as x "
            f"where e.evidence = '{s.EVIDENCE_SPLINK}' and e.record_id_l = x.record_id_l "
            "and e.record_id_r = x.record_id_r"
        )
    return len(refused)


__all__ = ["split_conflicting_bridges"]
