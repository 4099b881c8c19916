"""Score a linkage run against ground truth, and export a clerical-review sample.

Evaluation never changes the warehouse: the linkage tables are copied into an in-memory
database, and every re-clustering (the person-id baseline, each subset of evidence, other
thresholds) happens there. All measures are computed in SQL from contingency tables, so they
scale with records, not with pairs.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from recurrence.errors import ConfigError, RecurrenceError
from recurrence.linkage import settings as s
from recurrence.linkage.blocking import TRUE_PAIRS, blocking_recall, mother_rules, pairs_compared
from recurrence.linkage.model import load_run_settings, non_null_columns
from recurrence.linkage.mothers import MODEL_NAME, cluster_mothers
from recurrence.sql import run_sql
from recurrence.warehouse import connect

#: Truth files of a synthetic extract (``<extract>/truth/``) and the columns read from each.
TRUTH_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "truth_mother_person_ids": ("mother_person_ids.csv", ("person_id", "true_mother_id")),
    "truth_child_births": ("child_births.csv", ("case_id", "person_id", "birth_id")),
    "truth_birth_mothers": ("birth_mothers.csv", ("birth_id", "true_mother_id")),
}
#: Linkage tables copied from the warehouse for scoring.
RUN_TABLES: tuple[str, ...] = (
    "mother_records",
    "mother_keys",
    "mother_evidence",
    "mother_pairs",
    "child_records",
    "birth_records",
    "child_births",
    "mother_births",
    "splink_model",
)
#: Subsets of evidence scored to show what each source adds (always with person_id).
EVIDENCE_SETS: dict[str, tuple[str, ...]] = {
    "person_id only (baseline)": s.PERSON_ID_EVIDENCE,
    "+ splink": (s.EVIDENCE_PERSON_ID, s.EVIDENCE_SPLINK),
    "+ shared child": (s.EVIDENCE_PERSON_ID, s.EVIDENCE_SHARED_CHILD),
    "+ maternity mother id": (s.EVIDENCE_PERSON_ID, s.EVIDENCE_MATERNITY_MOTHER),
    "+ splink + shared child": (
        s.EVIDENCE_PERSON_ID,
        s.EVIDENCE_SPLINK,
        s.EVIDENCE_SHARED_CHILD,
    ),
    "all evidence": s.ALL_EVIDENCE,
}
#: Thresholds scored (with all evidence) to show how the choice of threshold trades P for R.
THRESHOLDS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)


@dataclass(frozen=True)
class LinkageEvaluation:
    """Scores of one run against truth.

    Attributes
    ----------
    mothers
        Cluster scores of the run and of the person-id baseline: label to measures
        (pairwise_precision, pairwise_recall, pairwise_f1, bcubed_precision, bcubed_recall,
        bcubed_f1, share_women_exact, and counts: mixed_women, predicted women holding two or
        more true women, and chained_women, those of them with more than two records).
    evidence
        The same measures re-clustered on each subset of evidence, at the run's threshold.
    thresholds
        The same measures with all evidence at several thresholds.
    child_births
        Precision, recall, F1 of child-to-birth links: the run and an exact-match rule.
    mother_births
        Precision, recall, F1 of (mother record, birth) pairs for the run.
    blocking
        The mother blocking rules against truth: ``true_pairs``, ``blocked_pairs`` and
        ``recall`` (the share of pairs of records of one true woman that any rule compares),
        ``recall_with_person_id`` (the share any rule compares or that share a person id, and
        so are joined without a comparison),
        ``true_pairs_by_rule`` (compared by each rule alone), ``pairs_compared`` (distinct
        pairs the rules compare) and ``pairs_added_by_rule`` (each rule's pairs not already
        compared by an earlier one).
    """

    mothers: dict[str, dict[str, Any]]
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)
    child_births: dict[str, dict[str, Any]] = field(default_factory=dict)
    mother_births: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocking: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dicts, for JSON or Dagster metadata."""
        return {
            "mothers": self.mothers,
            "evidence": self.evidence,
            "thresholds": self.thresholds,
            "child_births": self.child_births,
            "mother_births": self.mother_births,
            "blocking": self.blocking,
        }

    def describe(self) -> str:
        """A plain-text report: one table per kind of link."""
        lines: list[str] = []
        cluster_cols = (
            ("pairwise_precision", "pair P"),
            ("pairwise_recall", "pair R"),
            ("pairwise_f1", "pair F1"),
            ("bcubed_precision", "B3 P"),
            ("bcubed_recall", "B3 R"),
            ("share_women_exact", "exact"),
            ("predicted_women", "women"),
            ("mixed_women", "mixed"),
            ("chained_women", "chained"),
        )
        for title, table in (
            ("Mothers across proceedings", self.mothers),
            ("Mothers: what each source of evidence adds (run threshold)", self.evidence),
            ("Mothers: all evidence at other thresholds", self.thresholds),
        ):
            if table:
                lines += _table(title, table, cluster_cols)
        link_cols = (
            ("precision", "P"),
            ("recall", "R"),
            ("f1", "F1"),
            ("predicted_links", "predicted"),
            ("true_links", "true"),
        )
        if self.child_births:
            lines += _table("Children to birth records", self.child_births, link_cols)
        if self.mother_births:
            lines += _table(
                "Mothers to births (record x birth pairs)", self.mother_births, link_cols
            )
        if self.blocking:
            b = self.blocking
            lines += [
                "",
                "Mother blocking rules against truth",
                f"  blocking recall {_fmt(b['recall'])}: {b['blocked_pairs']:,} of "
                f"{b['true_pairs']:,} true pairs compared by some rule; "
                f"{b['pairs_compared']:,} pairs compared in all",
                f"  compared by some rule or sharing a person id: "
                f"{_fmt(b.get('recall_with_person_id'))}",
                "  rule: true pairs it compares / pairs it adds",
            ]
            lines += [
                f"    {rule}: {b['true_pairs_by_rule'][rule]:,} / "
                f"{b['pairs_added_by_rule'][rule]:,}"
                for rule in b["true_pairs_by_rule"]
            ]
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _table(
    title: str, rows: dict[str, dict[str, Any]], columns: Sequence[tuple[str, str]]
) -> list[str]:
    width = max(len(label) for label in rows) + 2
    out = ["", title, " " * width + "".join(f"{h:>10}" for _, h in columns)]
    for label, values in rows.items():
        out.append(f"{label:<{width}}" + "".join(f"{_fmt(values.get(k)):>10}" for k, _ in columns))
    return out


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
    # Rounded: parallel sums differ in the last digits from run to run.
    rel = con.sql(f"select * from {table}")
    names = rel.columns
    return [
        {k: round(v, 6) if isinstance(v, float) else v for k, v in zip(names, row, strict=True)}
        for row in rel.fetchall()
    ]


def _copy_run(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    if not warehouse.is_file():
        raise ConfigError(f"No warehouse at {warehouse}: run `recurrence run` first.")
    quoted = str(warehouse).replace("'", "''")
    con.execute(f"attach '{quoted}' as run_warehouse (read_only)")
    try:
        present = {
            r[0]
            for r in con.sql(
                "select table_name from information_schema.tables "
                "where table_catalog = 'run_warehouse' and table_schema = 'linkage'"
            ).fetchall()
        }
        missing = [t for t in RUN_TABLES if t not in present]
        if missing:
            raise RecurrenceError(
                f"Warehouse {warehouse} has no linkage.{missing[0]}: run the linkage stage "
                "first (recurrence run)."
            )
        for table in RUN_TABLES:
            con.execute(
                f"create table linkage.{table} as select * from run_warehouse.linkage.{table}"
            )
    finally:
        con.execute("detach run_warehouse")


def _load_truth(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> None:
    for table, (filename, columns) in TRUTH_FILES.items():
        path = truth_dir / filename
        if not path.is_file():
            raise RecurrenceError(
                f"{path}: no such truth file. Point --truth at the truth/ folder of a "
                "synthetic extract (written by `recurrence synth`)."
            )
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
        lacking = [c for c in columns if c not in header]
        if lacking:
            raise RecurrenceError(f"{path}: lacks column(s) {', '.join(lacking)}.")
        select = ", ".join(f'nullif("{c}", \'\') as "{c}"' for c in columns)
        con.execute(
            f"create table linkage.{table} as select {select} "
            "from read_csv($path, all_varchar = true, header = true)",
            {"path": str(path)},
        )


def _score_clusters(con: duckdb.DuckDBPyConnection, predicted_sql: str) -> dict[str, Any]:
    con.execute(f"create or replace view linkage.eval_predicted as {predicted_sql}")
    run_sql(con, "linkage/eval_cluster_scores.sql")
    return _rows(con, "linkage.eval_cluster_scores")[0]


_RUN_CLUSTERS = (
    "select r.record_id, k.mother_key as pred_cluster from linkage.mother_keys as k "
    "inner join linkage.mother_records as r on k.case_id = r.case_id and k.person_id = r.person_id"
)
_PERSON_ID_CLUSTERS = "select record_id, person_id as pred_cluster from linkage.mother_records"


def evaluate_linkage(
    warehouse: Path | str,
    truth_dir: Path | str,
    *,
    evidence_sets: dict[str, tuple[str, ...]] | None = None,
    thresholds: Sequence[float] | None = None,
) -> LinkageEvaluation:
    """Score the linkage tables of a warehouse against a synthetic extract's truth folder.

    Parameters
    ----------
    warehouse
        A warehouse on which the linkage stage has run (opened read-only, never changed).
    truth_dir
        The ``truth/`` folder of a synthetic extract.
    evidence_sets
        Label to evidence kinds, each re-clustered and scored (default
        :data:`EVIDENCE_SETS`; pass ``{}`` to skip).
    thresholds
        Thresholds at which all evidence is re-clustered and scored (default
        :data:`THRESHOLDS`; pass ``()`` to skip).

    Returns
    -------
    LinkageEvaluation
        Pairwise and cluster scores for mothers (run and person-id baseline), per evidence
        subset and threshold, and link scores for children to births and mothers to births.

    Raises
    ------
    RecurrenceError
        If the warehouse has no linkage tables or the truth folder lacks a file or column.

    Examples
    --------
    >>> result = evaluate_linkage("wh.duckdb", "data_samples/sample/truth")  # doctest: +SKIP
    >>> print(result.describe())  # doctest: +SKIP
    """
    evidence_sets = EVIDENCE_SETS if evidence_sets is None else evidence_sets
    thresholds = THRESHOLDS if thresholds is None else thresholds
    con = duckdb.connect()
    try:
        con.execute("create schema linkage")
        _copy_run(con, Path(warehouse))
        _load_truth(con, Path(truth_dir))
        run_settings = load_run_settings(con, MODEL_NAME)
        threshold = float(run_settings.get("match_threshold", 0.95))
        run_label = f"run ({run_settings.get('method', 'unknown')}, threshold {threshold:.3g})"
        run_sql(con, "linkage/eval_truth_records.sql")
        blocking = _score_blocking(con)
        mothers = {
            run_label: _score_clusters(con, _RUN_CLUSTERS),
            "person_id only (baseline)": _score_clusters(con, _PERSON_ID_CLUSTERS),
        }
        run_sql(con, "linkage/eval_child_birth_scores.sql")
        child = {r.pop("method"): r for r in _rows(con, "linkage.eval_child_birth_scores")}
        run_sql(con, "linkage/eval_mother_birth_scores.sql")
        mother_births = {r.pop("method"): r for r in _rows(con, "linkage.eval_mother_birth_scores")}
        # Re-clustering overwrites linkage.mother_keys, so it comes after the run's scores.
        scored_pairs = con.sql("select count(*) from linkage.mother_pairs").fetchone()
        has_pairs = bool(scored_pairs and scored_pairs[0])
        by_evidence: dict[str, dict[str, Any]] = {}
        for label, kinds in evidence_sets.items():
            if s.EVIDENCE_SPLINK in kinds and not has_pairs:
                continue
            cluster_mothers(con, evidence=kinds, threshold=threshold)
            by_evidence[label] = _score_clusters(con, _RUN_CLUSTERS)
        by_threshold: dict[str, dict[str, Any]] = {}
        if has_pairs:
            for value in thresholds:
                cluster_mothers(con, evidence=s.ALL_EVIDENCE, threshold=value)
                by_threshold[f"threshold {value:g}"] = _score_clusters(con, _RUN_CLUSTERS)
    finally:
        con.close()
    return LinkageEvaluation(
        mothers=mothers,
        evidence=by_evidence,
        thresholds=by_threshold,
        child_births=child,
        mother_births=mother_births,
        blocking=blocking,
    )


def _score_blocking(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Blocking recall of the run's mother rules against truth, and the pairs they cost."""
    rules = mother_rules(non_null_columns(con, "linkage.mother_records"))
    scored = blocking_recall(con, "linkage.mother_records", TRUE_PAIRS, rules)
    # A true pair no rule compares is still joined directly when the two records share a
    # person id (the deterministic pass): the pairs lost to the linkage are those neither does.
    with_ids = blocking_recall(
        con, "linkage.mother_records", TRUE_PAIRS, [*rules, s.Rule(("person_id",))]
    )
    added = pairs_compared(con, "linkage.mother_records", rules)
    return {
        "true_pairs": scored.known_pairs,
        "blocked_pairs": scored.blocked_pairs,
        "recall": None if scored.recall is None else round(scored.recall, 6),
        "recall_with_person_id": None if with_ids.recall is None else round(with_ids.recall, 6),
        "true_pairs_by_rule": scored.by_rule,
        "pairs_compared": sum(added.values()),
        "pairs_added_by_rule": added,
    }


def export_clerical_sample(warehouse: Path | str, path: Path | str) -> int:
    """Write ``linkage.clerical_sample`` (pairs near the threshold) to a CSV file.

    The sample holds pseudonymised record ids, the hashed and coarsened fields compared and
    Splink's comparison vector and match weight of each pair: enough for a reviewer with
    access to the extract to label the pairs, and no identifier beyond those in the extract.

    Parameters
    ----------
    warehouse
        A warehouse on which the probabilistic linkage stage has run.
    path
        The CSV file to write.

    Returns
    -------
    int
        Number of pairs written (0 when the run used person ids only).
    """
    con = connect(warehouse, read_only=True)
    try:
        rel = con.sql("select * from linkage.clerical_sample order by pair_hash")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        rel.write_csv(str(path))
        row = con.sql("select count(*) from linkage.clerical_sample").fetchone()
        return int(row[0]) if row else 0
    except duckdb.CatalogException:
        raise RecurrenceError(
            f"Warehouse {warehouse} has no linkage.clerical_sample: run the linkage stage first."
        ) from None
    finally:
        con.close()
