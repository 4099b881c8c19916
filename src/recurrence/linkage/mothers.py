"""Mothers across proceedings: one ``mother_key`` per woman, from several sources of evidence.

Steps (each writes one ``linkage.*`` table):

1. ``mother_records`` - one record per mother row of ``case_people`` (SQL);
2. ``mother_pairs`` - Splink match probabilities for pairs of records (probabilistic method);
3. ``mother_evidence`` - rule-based edges: same person_id, a shared child, children whose
   births carry the same maternity mother id (SQL);
4. ``mother_edges`` - the edges of the chosen kinds, Splink pairs at the threshold (SQL), less
   Splink edges that would join two records the model scored as two women by forename
   (``mother_conflicts``, ``mother_edges_split``; :mod:`recurrence.linkage.bridges`);
5. ``mother_clusters`` - connected components of those edges (Splink's clustering);
6. ``mother_keys`` - a stable ``mother_key`` per record and the rule that joined it (SQL).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from splink import DuckDBAPI

from recurrence.config import LinkageConfig
from recurrence.errors import ConfigError
from recurrence.linkage import settings as s
from recurrence.linkage.blocking import estimated_prior_recall
from recurrence.linkage.bridges import split_conflicting_bridges
from recurrence.linkage.model import (
    NothingToTrainError,
    cluster_edges,
    model_json,
    non_null_columns,
    record_model,
    score_pairs,
    splink_workspace,
    train_linker,
)
from recurrence.sql import run_sql

log = logging.getLogger(__name__)

MODEL_NAME = "mothers"


@dataclass(frozen=True)
class MotherLinkage:
    """What :func:`link_mothers` did: counts, evidence used, and any warning for the user."""

    method: str
    evidence: tuple[str, ...]
    records: int
    person_ids: int
    mother_keys: int
    pairs_scored: int
    edges_by_evidence: dict[str, int] = field(default_factory=dict)
    largest_cluster_cases: int = 0
    messages: tuple[str, ...] = ()
    model_trained: bool = False
    #: The threshold Splink pairs were joined at, and the rule that chose it.
    threshold: float | None = None
    threshold_rule: str = "fixed"
    #: Splink edges refused for joining clusters without internal support.
    edges_split: int = 0


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    row = con.sql(query).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _ensure_child_tables(con: duckdb.DuckDBPyConnection) -> None:
    # Evidence from children needs the child-to-birth link; without it those edges are empty.
    con.execute(
        "create table if not exists linkage.child_births "
        "(case_id varchar, person_id varchar, birth_id varchar, match_probability double)"
    )
    con.execute(
        "create table if not exists linkage.birth_records "
        "(record_id varchar, birth_id varchar, mother_person_id varchar)"
    )


def _empty_pairs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create or replace table linkage.mother_pairs (record_id_l varchar, record_id_r varchar, "
        "match_weight double, match_probability double)"
    )
    con.execute(
        "create or replace table linkage.clerical_sample (pair_hash varchar, "
        "record_id_l varchar, record_id_r varchar, match_weight double, match_probability double)"
    )


def _score_pairs(
    con: duckdb.DuckDBPyConnection, config: LinkageConfig, available: set[str]
) -> tuple[str, float]:
    """Train the mother model, score pairs into ``linkage.mother_pairs``.

    Returns the model JSON and the recall of the prior rules used (estimated from the data).
    """
    prior_rules = s.usable_rules(s.MOTHER_PRIOR_RULES, available)
    prior_recall = estimated_prior_recall(con, prior_rules)
    with splink_workspace(con) as ws:
        ws.import_table("linkage.mother_records", "work_mother_records")
        db_api = DuckDBAPI(connection=con)
        inputs = [("work_mother_records", "mothers")]
        linker = train_linker(
            db_api,
            inputs,
            s.mother_settings(available),
            prior_rules=prior_rules,
            prior_recall=prior_recall,
            em_rules=s.usable_rules(s.MOTHER_EM_RULES, available),
            seed=config.seed,
        )
        score_pairs(
            ws,
            linker,
            config,
            inputs=inputs,
            threshold=min(config.match_threshold, s.PREDICT_FLOOR),
            output="linkage.mother_pairs",
            order_by="record_id_l, record_id_r",
        )
        text = model_json(linker)
    return text, prior_recall


def _clerical_sample(con: duckdb.DuckDBPyConnection, threshold: float) -> None:
    weight = _weight(threshold)
    run_sql(
        con,
        "linkage/clerical_sample.sql",
        weight_low=weight - s.CLERICAL_WEIGHT_BAND,
        weight_high=weight + s.CLERICAL_WEIGHT_BAND,
        sample_size=s.CLERICAL_SAMPLE_SIZE,
    )


def expected_precision_threshold(con: duckdb.DuckDBPyConnection, target: float) -> float | None:
    """The lowest match probability at which the model expects ``target`` precision.

    Taking each scored pair's match probability at its word, the pairs at or above a threshold
    hold, in expectation, the sum of their probabilities in true matches; their mean
    probability is the model's expected precision. Lowering the threshold only adds pairs less
    probable than every pair already in, so that mean falls as the threshold falls, and the
    threshold returned is the lowest probability of a scored pair at which it is still at
    least ``target``. Never below :data:`settings.THRESHOLD_FLOOR`: a pair below it is more
    likely two women than one, whatever the pairs above it.

    Parameters
    ----------
    con
        Connection holding ``linkage.mother_pairs``.
    target
        Expected precision wanted, in (0, 1].

    Returns
    -------
    float or None
        The threshold, or None when no scored pair at or above the floor reaches the target
        (no pairs, or the model doubts even its best pairs).
    """
    if not 0 < target <= 1:
        raise ConfigError(
            f"Setting linkage.mother_precision_target must be in (0, 1]; it is {target}."
        )
    row = con.sql(
        """
        with above as (
            select
                match_probability as p,
                -- range, not rows: pairs of equal probability are all in or all out
                avg(match_probability) over (
                    order by match_probability desc
                    range between unbounded preceding and current row
                ) as mean_above
            from linkage.mother_pairs
            where match_probability >= $floor
        )
        select min(p) from above where mean_above >= $target
        """,
        params={"floor": s.THRESHOLD_FLOOR, "target": target},
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def mother_threshold(
    con: duckdb.DuckDBPyConnection, config: LinkageConfig, *, scored: bool
) -> tuple[float, str]:
    """The threshold at which Splink pairs join mother records, and the rule that chose it.

    With ``config.mother_threshold_rule == "expected_precision"`` and scored pairs, the
    threshold of :func:`expected_precision_threshold` at ``config.mother_precision_target``;
    otherwise (the rule ``"fixed"``, no model, or a target no pair reaches)
    ``config.match_threshold``.

    Returns
    -------
    tuple of (float, str)
        The threshold and the rule applied: ``expected_precision`` or ``fixed``.
    """
    rule = config.mother_threshold_rule
    if rule not in s.THRESHOLD_RULES:
        raise ConfigError(
            f"Setting linkage.mother_threshold_rule is {rule!r}; known: "
            f"{', '.join(s.THRESHOLD_RULES)}."
        )
    if rule == "expected_precision" and scored:
        chosen = expected_precision_threshold(con, config.mother_precision_target)
        if chosen is not None:
            return chosen, rule
        log.warning(
            "No mother pairs reach the expected precision %s: linkage.match_threshold %s is "
            "used instead.",
            config.mother_precision_target,
            config.match_threshold,
        )
    return config.match_threshold, "fixed"


def _weight(probability: float) -> float:
    """Match weight (log2 Bayes factor) of a match probability, clipped away from 0 and 1."""
    p = min(max(probability, 1e-9), 1 - 1e-9)
    return math.log2(p / (1 - p))


def cluster_mothers(
    con: duckdb.DuckDBPyConnection, *, evidence: Sequence[str], threshold: float
) -> None:
    """Cluster mother records on the chosen evidence and write ``linkage.mother_keys``.

    Needs ``linkage.mother_records``, ``linkage.mother_evidence`` and ``linkage.mother_pairs``.

    Parameters
    ----------
    con
        Warehouse connection.
    evidence
        Kinds of edge to use: any of :data:`recurrence.linkage.settings.ALL_EVIDENCE`.
    threshold
        Splink pairs at or above this match probability join two records.
    """
    unknown = set(evidence) - set(s.ALL_EVIDENCE)
    if unknown:
        raise ValueError(f"Unknown evidence {sorted(unknown)}; known: {s.ALL_EVIDENCE}.")
    run_sql(con, "linkage/mother_edges_held_back.sql", evidence=list(evidence), threshold=threshold)
    run_sql(con, "linkage/mother_edges.sql", evidence=list(evidence), threshold=threshold)
    run_sql(con, "linkage/mother_conflicts.sql", threshold=threshold)
    split_conflicting_bridges(con)
    with splink_workspace(con) as ws:
        ws.import_table("linkage.mother_records", "work_nodes", ["record_id"])
        ws.import_table("linkage.mother_edges", "work_edges")
        clusters = cluster_edges(DuckDBAPI(connection=con), "work_nodes", "work_edges")
        ws.export_table(clusters, "linkage.mother_clusters", "record_id")
    run_sql(con, "linkage/mother_keys.sql")


def link_mothers(
    con: duckdb.DuckDBPyConnection,
    config: LinkageConfig,
    *,
    model_file: Path | None = None,
    evidence: Sequence[str] | None = None,
) -> MotherLinkage:
    """Give every mother row of ``staging.case_people`` a ``mother_key``.

    With ``config.method == "person_id"`` records are joined only when they share a person_id
    (the baseline). With ``"probabilistic"`` a Splink model is trained on the data (random-sample
    u with ``config.seed``, EM for m, no labels) and pairs at or above
    the threshold of :func:`mother_threshold` are joined, together with evidence from children. Run
    :func:`recurrence.linkage.link_children_to_births` first for the maternity evidence.

    Parameters
    ----------
    con
        Warehouse connection holding ``staging.cases`` and ``staging.case_people``.
    config
        The ``[linkage]`` settings.
    model_file
        Where to write the trained model's JSON as well as ``linkage.splink_model``.
    evidence
        Override the kinds of evidence used (default: all for probabilistic, person_id only
        for the person_id method).

    Returns
    -------
    MotherLinkage
        Counts and messages; the results are in ``linkage.mother_keys``.
    """
    run_sql(con, "linkage/mother_records.sql")
    _ensure_child_tables(con)
    if evidence is None:
        evidence = s.ALL_EVIDENCE if config.method == "probabilistic" else s.PERSON_ID_EVIDENCE
    chosen = tuple(evidence)
    messages: list[str] = []
    records = _count(con, "select count(*) from linkage.mother_records")
    text: str | None = None
    prior_recall: float | None = None
    fallback: str | None = None
    if records == 0:
        messages.append(
            "No mother rows in staging.case_people (role = 'mother'): linkage.mother_keys is empty."
        )
    elif s.EVIDENCE_SPLINK in chosen:
        available = non_null_columns(con, "linkage.mother_records")
        lacking = [c for c in s.MOTHER_FIELDS if c not in available]
        if lacking:
            messages.append(
                f"Mother field(s) {', '.join(lacking)} are empty in every record: "
                "matching goes on without them."
            )
        if not available & set(s.MOTHER_IDENTIFYING_FIELDS):
            messages.append(
                "Mothers have no birth_year_month, forename_hash or surname_hash at all: "
                "probabilistic linkage is impossible, so mothers are linked by person_id only."
            )
            chosen = tuple(e for e in chosen if e != s.EVIDENCE_SPLINK)
        else:
            try:
                text, prior_recall = _score_pairs(con, config, available)
            except NothingToTrainError:
                fallback = (
                    "The mother model found no record pairs to train on: it was not trained, "
                    "and mothers are linked deterministically (by person_id and births) only."
                )
                messages.append(fallback)
                chosen = tuple(e for e in chosen if e != s.EVIDENCE_SPLINK)
    if text is None:
        _empty_pairs(con)
    threshold, threshold_rule = mother_threshold(con, config, scored=text is not None)
    if text is not None:
        _clerical_sample(con, threshold)
    run_sql(con, "linkage/mother_evidence.sql")
    cluster_mothers(con, evidence=chosen, threshold=threshold)
    record_model(
        con,
        MODEL_NAME,
        text,
        path=model_file,
        run_settings={
            "method": config.method,
            # The threshold used (chosen or configured); the configured one as well.
            "match_threshold": threshold,
            "threshold_rule": threshold_rule,
            "configured_match_threshold": config.match_threshold,
            **(
                {"precision_target": config.mother_precision_target}
                if threshold_rule == "expected_precision"
                else {}
            ),
            "seed": config.seed,
            "evidence": list(chosen),
            **({"prior_rule_recall": prior_recall} if prior_recall is not None else {}),
            **({"fallback": fallback} if fallback else {}),
        },
    )
    for message in messages:
        log.warning(message)
    edges = dict(
        con.sql(
            "select evidence, count(*) from linkage.mother_edges group by 1 order by 1"
        ).fetchall()
    )
    return MotherLinkage(
        method=config.method,
        evidence=chosen,
        records=records,
        person_ids=_count(con, "select count(distinct person_id) from linkage.mother_records"),
        mother_keys=_count(con, "select count(distinct mother_key) from linkage.mother_keys"),
        pairs_scored=_count(con, "select count(*) from linkage.mother_pairs"),
        edges_by_evidence={str(k): int(v) for k, v in edges.items()},
        largest_cluster_cases=_count(con, "select max(cluster_cases) from linkage.mother_keys"),
        messages=tuple(messages),
        model_trained=text is not None,
        threshold=threshold,
        threshold_rule=threshold_rule,
        edges_split=_count(con, "select count(*) from linkage.mother_edges_split"),
    )
