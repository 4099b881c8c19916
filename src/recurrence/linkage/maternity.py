"""Children and mothers to maternity records (link-only), and the linkage summary table.

Steps (each writes one ``linkage.*`` table):

1. ``child_records`` and ``birth_records`` - both sides of the link with the same columns (SQL);
2. ``child_birth_pairs`` - Splink match probabilities, child rows against births;
3. ``child_births`` - each child row's best birth at or above the threshold (SQL);
4. ``mother_births`` - every mother_key's births, through her children and the maternity
   system's own mother id (SQL, after :func:`recurrence.linkage.link_mothers`);
5. ``summary`` - counts, linkage rates by region and year, missing fields (SQL).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
from splink import DuckDBAPI

from recurrence.config import LinkageConfig
from recurrence.linkage import settings as s
from recurrence.linkage.model import (
    NothingToTrainError,
    model_json,
    narrow_to_blocked,
    non_null_columns,
    record_model,
    score_pairs,
    splink_workspace,
    train_linker,
)
from recurrence.sql import run_sql

log = logging.getLogger(__name__)

MODEL_NAME = "child_births"


@dataclass(frozen=True)
class ChildBirthLinkage:
    """What :func:`link_children_to_births` did."""

    children: int
    births: int
    children_linked: int
    pairs_scored: int
    messages: tuple[str, ...] = ()
    model_trained: bool = False


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    row = con.sql(query).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _empty_pairs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create or replace table linkage.child_birth_pairs (source_dataset_l varchar, "
        "record_id_l varchar, source_dataset_r varchar, record_id_r varchar, "
        "match_weight double, match_probability double, "
        "baby_birth_date_l date, baby_birth_date_r date)"
    )


def week_of_birth(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the children's dates of birth are weeks of birth (the Monday of the week).

    Exact dates fall on a Monday about one time in seven; a source that records the week of
    birth as its Monday (SAIL's ``WEEKOFBIRTH``) has all of them there, but for a few errors.
    Judged on ``linkage.child_records`` when it has at least
    :data:`settings.WEEK_OF_BIRTH_MIN_DATES` dates: at least
    :data:`settings.WEEK_OF_BIRTH_SHARE` of them on a Monday.
    """
    row = con.sql(
        "select count(baby_birth_date), count(*) filter (where isodow(baby_birth_date) = 1) "
        "from linkage.child_records"
    ).fetchone()
    dates, mondays = (int(row[0]), int(row[1])) if row else (0, 0)
    return dates >= s.WEEK_OF_BIRTH_MIN_DATES and mondays >= s.WEEK_OF_BIRTH_SHARE * dates


def link_children_to_births(
    con: duckdb.DuckDBPyConnection,
    config: LinkageConfig,
    *,
    model_file: Path | None = None,
) -> ChildBirthLinkage:
    """Link every child row of ``staging.case_people`` to at most one maternity birth record.

    A Splink link-only model compares the baby's date of birth and sex and the mother's fields
    (from the mother in the same case) with each birth record; parameters are estimated from
    the data. Each child takes its best birth at or above ``config.match_threshold``. The same
    model is used whatever ``config.method`` says (that switch is about mothers).

    Parameters
    ----------
    con
        Warehouse connection holding ``staging.cases``, ``staging.case_people``,
        ``staging.births``.
    config
        The ``[linkage]`` settings.
    model_file
        Where to write the trained model's JSON as well as ``linkage.splink_model``.

    Returns
    -------
    ChildBirthLinkage
        Counts and messages; the results are in ``linkage.child_births``.
    """
    run_sql(con, "linkage/child_records.sql")
    run_sql(con, "linkage/birth_records.sql")
    children = _count(con, "select count(*) from linkage.child_records")
    births = _count(con, "select count(*) from linkage.birth_records")
    messages: list[str] = []
    text: str | None = None
    fallback: str | None = None
    week = False
    if children == 0 or births == 0:
        messages.append(
            "No children in staging.case_people or no live births in staging.births: "
            "no child is linked to a birth."
        )
    else:
        available = non_null_columns(con, "linkage.child_records") & non_null_columns(
            con, "linkage.birth_records"
        )
        if "baby_birth_date" not in available:
            messages.append(
                "No child has a birth_date (or no birth a baby_birth_date): "
                "children cannot be linked to births."
            )
        else:
            # A source that records only the week of birth (SAIL's WEEKOFBIRTH) would agree
            # with the exact birth date one time in seven, and no blocking rule (each needs the
            # same date) would compare the rest: both sides are compared by week instead.
            week = week_of_birth(con)
            if week:
                messages.append(
                    "Children's dates of birth are weeks of birth (all but a few on a Monday): "
                    "children are linked to births by week of birth."
                )
            weeks = ("baby_birth_date",) if week else ()
            with splink_workspace(con) as ws:
                ws.import_table(
                    "linkage.child_records",
                    "work_child_records",
                    s.CHILD_BIRTH_COLUMNS,
                    week_columns=weeks,
                )
                ws.import_table(
                    "linkage.birth_records",
                    "work_birth_records",
                    s.CHILD_BIRTH_COLUMNS,
                    as_view=True,
                    week_columns=weeks,
                )
                settings = s.child_birth_settings(available)
                em_rules = s.em_sessions(settings, s.CHILD_BIRTH_EM_RULES, available)
                narrow_to_blocked(
                    con,
                    "work_birth_records",
                    "work_child_records",
                    [*s.usable_rules(s.CHILD_BIRTH_BLOCKING, available), *em_rules],
                    "work_birth_candidates",
                )
                inputs = [("work_child_records", "children"), ("work_birth_records", "births")]
                try:
                    linker = train_linker(
                        DuckDBAPI(connection=con),
                        inputs,
                        settings,
                        prior_rules=s.usable_rules(s.CHILD_BIRTH_PRIOR_RULES, available),
                        prior_recall=s.CHILD_BIRTH_PRIOR_RECALL,
                        em_rules=em_rules,
                        seed=config.seed,
                        candidates=[
                            ("work_child_records", "children"),
                            ("work_birth_candidates", "births"),
                        ],
                    )
                    score_pairs(
                        ws,
                        linker,
                        config,
                        inputs=inputs,
                        threshold=min(config.match_threshold, s.PREDICT_FLOOR),
                        output="linkage.child_birth_pairs",
                        order_by="record_id_l, record_id_r",
                    )
                    text = model_json(linker)
                except NothingToTrainError:
                    # Nothing to estimate m from: no pair is scored, which is the deterministic
                    # result (no child shares a birth's date of birth and mother details).
                    fallback = (
                        "The child-to-birth model found no record pairs to train on (no birth "
                        "agrees with any child on the blocking fields): it was not trained, and "
                        "no child is linked to a birth."
                    )
                    messages.append(fallback)
    if text is None:
        _empty_pairs(con)
    run_sql(
        con,
        "linkage/child_births.sql",
        threshold=config.match_threshold,
        max_days=s.BABY_DOB_NEAR_DAYS,
    )
    record_model(
        con,
        MODEL_NAME,
        text,
        path=model_file,
        run_settings={
            "match_threshold": config.match_threshold,
            "seed": config.seed,
            "baby_birth_date_precision": "week" if week else "day",
            **({"fallback": fallback} if fallback else {}),
        },
    )
    for message in messages:
        log.warning(message)
    return ChildBirthLinkage(
        children=children,
        births=births,
        children_linked=_count(
            con, "select count(*) from linkage.child_births where birth_id is not null"
        ),
        pairs_scored=_count(con, "select count(*) from linkage.child_birth_pairs"),
        messages=tuple(messages),
        model_trained=text is not None,
    )


def link_mothers_to_births(con: duckdb.DuckDBPyConnection) -> int:
    """Write ``linkage.mother_births`` (mother_key to births); return its number of rows.

    Needs ``linkage.mother_keys`` and ``linkage.child_births``.
    """
    run_sql(con, "linkage/mother_births.sql")
    return _count(con, "select count(*) from linkage.mother_births")


def summarise_linkage(con: duckdb.DuckDBPyConnection) -> int:
    """Write ``linkage.summary`` (counts, rates by region and year, missing fields); return rows.

    A probabilistic model that could not be trained (no record pairs) adds a row with measure
    ``model_not_trained``, breakdown ``model`` and the model's name as category, so the fallback
    to the deterministic result is stated beside the counts.
    """
    run_sql(con, "linkage/summary.sql")
    exists = _count(
        con,
        "select count(*) from information_schema.tables "
        "where table_schema = 'linkage' and table_name = 'splink_model'",
    )
    if exists:
        con.execute(
            "insert into linkage.summary select 'model_not_trained', 'model', model_name, 1, "
            "null, null from linkage.splink_model "
            "where json_extract_string(run_settings, '$.fallback') is not null"
        )
    _summarise_blocking(con)
    return _count(con, "select count(*) from linkage.summary")


def _summarise_blocking(con: duckdb.DuckDBPyConnection) -> None:
    """Add the mother model's estimated blocking recall and pairs scored to the summary.

    Without truth, blocking recall is estimated on the pairs of records sharing a person id
    (the same woman by construction, with the same kinds of recording error): measure
    ``mother_blocking_recall_estimated``, numerator the pairs any blocking rule compares,
    denominator the pairs; and ``mother_pairs_held_back``, Splink pairs above the threshold not
    used because their forenames disagree entirely (``sql/linkage/mother_edges_held_back.sql``);
    and the Splink model's expected precision and recall at the run's threshold (from its own
    match probabilities: ``mother_model_expected_precision``, ``mother_model_expected_recall``)
    and the recall of its prior rule estimated from the data
    (``mother_prior_rule_recall_estimated``); and the threshold used,
    ``mother_match_threshold``, its category the rule that chose it.
    Written only when the mother model scored pairs. Pairs that share a
    person id do not need blocking to be linked (person ids are evidence of their own), so this
    measures how well the rules would find a woman whose id changed.
    """
    from recurrence.linkage.blocking import estimated_blocking_recall
    from recurrence.linkage.model import non_null_columns

    present = _count(
        con,
        "select count(*) from information_schema.tables where table_schema = 'linkage' "
        "and table_name in ('mother_records', 'mother_pairs', 'mother_edges_held_back', "
        "'mother_edges_split')",
    )
    if present < 4 or not _count(con, "select count(*) from linkage.mother_pairs"):
        return
    scored = estimated_blocking_recall(con, non_null_columns(con, "linkage.mother_records"))
    con.execute(
        "insert into linkage.summary values "
        "('mother_blocking_recall_estimated', 'all', 'all', $n, $d, "
        "round($n / nullif($d, 0), 4)), "
        "('mother_pairs_held_back', 'all', 'all', "
        "(select count(*) from linkage.mother_edges_held_back), null, null), "
        "('mother_edges_split', 'all', 'all', "
        "(select count(*) from linkage.mother_edges_split), null, null)",
        {"n": scored.blocked_pairs, "d": scored.known_pairs},
    )
    # The model's own expectation of its precision and recall, for users with no truth: taking
    # each scored pair's match probability at its word, the pairs at or above the threshold
    # hold sum(p) true matches of count(*) (precision), out of sum(p) over every scored pair
    # (recall among compared pairs; multiply by blocking recall for recall of all pairs).
    threshold = con.sql(
        "select json_extract(run_settings, '$.match_threshold')::double "
        "from linkage.splink_model where model_name = 'mothers'"
    ).fetchone()
    if threshold is None or threshold[0] is None:
        return
    # The threshold the mother pairs were joined at, and (as the category) the rule that chose
    # it: expected_precision (from the model, linkage.mother_precision_target) or fixed.
    con.execute(
        "insert into linkage.summary select 'mother_match_threshold', 'all', "
        "coalesce(json_extract_string(run_settings, '$.threshold_rule'), 'fixed'), "
        "null, null, round($t, 4) from linkage.splink_model where model_name = 'mothers'",
        {"t": threshold[0]},
    )
    con.execute(
        "insert into linkage.summary select 'mother_prior_rule_recall_estimated', 'all', 'all', "
        "null, null, json_extract(run_settings, '$.prior_rule_recall')::double "
        "from linkage.splink_model where model_name = 'mothers' "
        "and json_extract(run_settings, '$.prior_rule_recall') is not null"
    )
    con.execute(
        "insert into linkage.summary "
        "select 'mother_model_expected_precision', 'all', 'all', round(sum(match_probability) "
        "filter (where match_probability >= $t), 2), count(*) filter (where match_probability "
        ">= $t), round(sum(match_probability) filter (where match_probability >= $t) / "
        "nullif(count(*) filter (where match_probability >= $t), 0), 4) "
        "from linkage.mother_pairs "
        "union all "
        "select 'mother_model_expected_recall', 'all', 'all', round(sum(match_probability) "
        "filter (where match_probability >= $t), 2), round(sum(match_probability), 2), "
        "round(sum(match_probability) filter (where match_probability >= $t) / "
        "nullif(sum(match_probability), 0), 4) from linkage.mother_pairs",
        {"t": threshold[0]},
    )
