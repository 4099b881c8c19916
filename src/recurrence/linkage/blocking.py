"""Blocking recall: the share of true pairs that any blocking rule puts in front of the model.

A pair no blocking rule compares can never be linked by the model, however good its
comparisons; so blocking recall caps the model's recall. Two measures:

* :func:`blocking_recall` scores the rules against known pairs: with truth (synthetic data),
  every pair of records of the same true mother; without truth, the pairs of records that share
  a person id, which are the same woman by construction and whose fields carry the same kinds
  of recording error, so the share of them blocked estimates blocking recall on a run with no
  truth (:func:`estimated_blocking_recall`, written to ``linkage.summary``);
* :func:`pairs_compared` counts the distinct pairs the rules compare (the cost), rule by rule
  as Splink does: each rule's pairs that no earlier rule already compared.

Everything is SQL over the records table, so it scales with the pairs blocked, not all pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from recurrence.linkage import settings as s


@dataclass(frozen=True)
class BlockingRecall:
    """Known pairs, how many any rule compares, and how many each rule compares on its own."""

    known_pairs: int
    blocked_pairs: int
    by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def recall(self) -> float | None:
        """Share of known pairs any rule compares (None with no known pairs)."""
        return self.blocked_pairs / self.known_pairs if self.known_pairs else None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {
            "known_pairs": self.known_pairs,
            "blocked_pairs": self.blocked_pairs,
            "recall": self.recall,
            "by_rule": dict(self.by_rule),
        }


def _any(rules: Sequence[s.Rule]) -> str:
    return " or ".join(f"coalesce({r.sql()}, false)" for r in rules) or "false"


def blocking_recall(
    con: duckdb.DuckDBPyConnection,
    records: str,
    pairs: str,
    rules: Sequence[s.Rule],
) -> BlockingRecall:
    """Score ``rules`` against known pairs of records.

    Parameters
    ----------
    con
        Connection holding the records.
    records
        Table (or view) of records with ``record_id`` and the rules' columns.
    pairs
        SQL giving the known pairs as ``record_id_l``, ``record_id_r`` (each pair once).
    rules
        The blocking rules.

    Returns
    -------
    BlockingRecall
        Known pairs, pairs any rule compares, and pairs each rule compares.
    """
    hits = ", ".join(
        f"count(*) filter (where coalesce({r.sql()}, false)) as rule_{i}"
        for i, r in enumerate(rules)
    )
    row = con.sql(
        f"""
        with known as ({pairs})
        select count(*), count(*) filter (where {_any(rules)}){", " + hits if hits else ""}
        from known as k
        inner join {records} as l on l.record_id = k.record_id_l
        inner join {records} as r on r.record_id = k.record_id_r
        """
    ).fetchone()
    assert row is not None
    return BlockingRecall(
        known_pairs=int(row[0]),
        blocked_pairs=int(row[1]),
        by_rule={r.label: int(v) for r, v in zip(rules, row[2:], strict=True)},
    )


def pairs_compared(
    con: duckdb.DuckDBPyConnection, records: str, rules: Sequence[s.Rule]
) -> dict[str, int]:
    """Distinct pairs each rule adds (pairs no earlier rule compares), in the rules' order.

    Parameters
    ----------
    con
        Connection holding the records.
    records
        Table (or view) of records with ``record_id`` and the rules' columns.
    rules
        The blocking rules, in prediction order.

    Returns
    -------
    dict of str to int
        Pairs added by each rule's label; their sum is the pairs the model scores.
    """
    out: dict[str, int] = {}
    for i, rule in enumerate(rules):
        earlier = _any(rules[:i]) if i else "false"
        row = con.sql(
            f"select count(*) from {records} as l inner join {records} as r "
            f"on {rule.sql()} and l.record_id < r.record_id where not ({earlier})"
        ).fetchone()
        out[rule.label] = int(row[0]) if row else 0
    return out


#: Pairs of mother records that share a person id: the same woman, without truth.
SAME_PERSON_ID_PAIRS = (
    "select l.record_id as record_id_l, r.record_id as record_id_r "
    "from linkage.mother_records as l inner join linkage.mother_records as r "
    "on l.person_id = r.person_id and l.record_id < r.record_id"
)
#: Pairs of mother records of the same true mother (needs ``linkage.eval_truth_records``).
TRUE_PAIRS = (
    "select l.record_id as record_id_l, r.record_id as record_id_r "
    "from linkage.eval_truth_records as l inner join linkage.eval_truth_records as r "
    "on l.true_mother_id = r.true_mother_id and l.record_id < r.record_id"
)


def estimated_prior_recall(con: duckdb.DuckDBPyConnection, rules: Sequence[s.Rule]) -> float:
    """Recall of the mother prior rules, estimated on record pairs that share a person id.

    Splink's prior (the probability two random records match) is the count of pairs the
    deterministic rules find divided by their recall. The recall was assumed (0.7); it is the
    share of true pairs agreeing exactly on forename, surname and year-month, which depends on
    the data: 0.69 on the default sample, 0.28 on the hard profile (and 0.30 on FEBRL3). Pairs
    sharing a person id are true pairs with the same recording errors, so their share agreeing
    on the rules estimates it (0.675 and 0.296 on the sample). With fewer than
    :data:`settings.PRIOR_RECALL_MIN_PAIRS` such pairs the assumed value is used.

    Returns
    -------
    float
        The estimated recall, or :data:`settings.MOTHER_PRIOR_RECALL`; never below
        :data:`settings.PRIOR_RECALL_FLOOR`.
    """
    if not rules:
        return s.MOTHER_PRIOR_RECALL
    scored = blocking_recall(con, "linkage.mother_records", SAME_PERSON_ID_PAIRS, rules)
    if scored.known_pairs < s.PRIOR_RECALL_MIN_PAIRS or scored.recall is None:
        return s.MOTHER_PRIOR_RECALL
    return max(round(scored.recall, 4), s.PRIOR_RECALL_FLOOR)


def mother_rules(available: set[str]) -> list[s.Rule]:
    """The mother prediction rules a run with these non-null columns uses."""
    return s.usable_rules(s.MOTHER_BLOCKING, available)


def estimated_blocking_recall(
    con: duckdb.DuckDBPyConnection, available: set[str]
) -> BlockingRecall:
    """Blocking recall of the mother rules on pairs sharing a person id (no truth needed)."""
    return blocking_recall(
        con, "linkage.mother_records", SAME_PERSON_ID_PAIRS, mother_rules(available)
    )


__all__ = [
    "SAME_PERSON_ID_PAIRS",
    "TRUE_PAIRS",
    "BlockingRecall",
    "blocking_recall",
    "estimated_blocking_recall",
    "estimated_prior_recall",
    "mother_rules",
    "pairs_compared",
]
