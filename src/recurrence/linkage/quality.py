"""Linkage quality of a run against ground truth, kept in the warehouse beside the run.

Real extracts have no truth, so this is opt-in: a synthetic extract written by
``recurrence synth`` carries a ``truth/`` folder with a ``manifest.toml``, and with
``linkage.truth = "auto"`` (the default) a run over such an extract scores its own linkage and
stores the scores in ``linkage.quality``. Truth is read only here, after linkage has finished;
no estimate ever depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from recurrence.linkage.evaluate import LinkageEvaluation, evaluate_linkage

#: Written by the generator beside its truth files; its presence marks a truth folder.
TRUTH_MANIFEST = "manifest.toml"

#: (link, measure) rows of ``linkage.quality``, in display order.
MOTHER_MEASURES: tuple[str, ...] = (
    "pairwise_precision",
    "pairwise_recall",
    "pairwise_f1",
    "bcubed_precision",
    "bcubed_recall",
    "bcubed_f1",
    "share_women_exact",
)
LINK_MEASURES: tuple[str, ...] = ("precision", "recall", "f1")


@dataclass(frozen=True)
class QualityRow:
    """One measure of linkage quality: the run's value and the person-id-only baseline's."""

    link: str
    measure: str
    run: float | None
    person_id_baseline: float | None


def resolve_truth_dir(setting: str, extract: Path) -> Path | None:
    """Return the truth folder to score against, or None when quality is not measured.

    Parameters
    ----------
    setting
        ``linkage.truth``: ``"auto"`` uses ``<extract>/truth`` when it holds the generator's
        manifest, ``""`` turns scoring off, anything else is a path to a truth folder.
    extract
        The run's extract folder.

    Returns
    -------
    Path or None
        The truth folder, or None when there is none to use.
    """
    if not setting:
        return None
    if setting == "auto":
        candidate = extract / "truth"
        return candidate if (candidate / TRUTH_MANIFEST).is_file() else None
    return Path(setting)


def quality_rows(evaluation: LinkageEvaluation) -> list[QualityRow]:
    """Flatten an evaluation into rows: run beside the person-id-only baseline."""
    rows: list[QualityRow] = []
    run_label = next((k for k in evaluation.mothers if k.startswith("run")), None)
    run = evaluation.mothers.get(run_label, {}) if run_label else {}
    baseline = evaluation.mothers.get("person_id only (baseline)", {})
    rows += [
        QualityRow("mothers", m, _number(run.get(m)), _number(baseline.get(m)))
        for m in MOTHER_MEASURES
    ]
    for link, table in (
        ("child_births", evaluation.child_births),
        ("mother_births", evaluation.mother_births),
    ):
        run_scores = table.get("run", {})
        rows += [
            QualityRow(link, m, _number(run_scores.get(m)), None)
            for m in LINK_MEASURES
            if run_scores
        ]
    return rows


def _number(value: object) -> float | None:
    return None if value is None else round(float(value), 6)  # type: ignore[arg-type]


def measure_linkage_quality(warehouse: Path, truth_dir: Path | None) -> list[QualityRow]:
    """Score a warehouse's linkage against truth; no rows when there is no truth.

    The warehouse must not be open for writing in this process: scoring attaches the file
    read-only.

    Parameters
    ----------
    warehouse
        A warehouse on which the linkage stage has run.
    truth_dir
        The truth folder, or None (quality not measured).

    Returns
    -------
    list of QualityRow
        The run's measures beside the person-id-only baseline.
    """
    if truth_dir is None:
        return []
    return quality_rows(evaluate_linkage(warehouse, truth_dir, evidence_sets={}, thresholds=()))


def write_linkage_quality(con: duckdb.DuckDBPyConnection, rows: list[QualityRow]) -> None:
    """(Re)write ``linkage.quality``: empty when quality was not measured."""
    con.execute(
        "create or replace table linkage.quality ("
        "link varchar not null, measure varchar not null, run double, "
        "person_id_baseline double)"
    )
    if rows:
        con.executemany(
            "insert into linkage.quality values (?, ?, ?, ?)",
            [(r.link, r.measure, r.run, r.person_id_baseline) for r in rows],
        )
