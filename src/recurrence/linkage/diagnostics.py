"""Linkage diagnostics for notebooks: match weights, threshold trade-offs, clerical review.

Small readers over a finished run's warehouse (opened read-only with
:func:`recurrence.open_warehouse`); nothing here re-runs or changes the linkage.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from recurrence.linkage.evaluate import THRESHOLDS, evaluate_linkage
from recurrence.warehouse import Warehouse

PAIRS_TABLE = "linkage.mother_pairs"
CLERICAL_TABLE = "linkage.clerical_sample"


def match_weights(wh: Warehouse) -> pl.DataFrame:
    """Splink's match weight and probability of every scored pair of mother records.

    Parameters
    ----------
    wh
        An open warehouse.

    Returns
    -------
    polars.DataFrame
        Columns ``match_weight`` and ``match_probability`` (no record identifiers); empty when
        the run linked by person id only.
    """
    if PAIRS_TABLE not in wh.tables():
        return pl.DataFrame(schema={"match_weight": pl.Float64, "match_probability": pl.Float64})
    return wh.sql(f"select match_weight, match_probability from {PAIRS_TABLE}")


def pairs_by_threshold(
    weights: pl.DataFrame, thresholds: Sequence[float] = THRESHOLDS
) -> pl.DataFrame:
    """How many scored pairs would be accepted at each match-probability threshold.

    Parameters
    ----------
    weights
        From :func:`match_weights`.
    thresholds
        Match probabilities.

    Returns
    -------
    polars.DataFrame
        ``threshold``, ``pairs_accepted`` and ``share_accepted`` (of all scored pairs).
    """
    p = weights["match_probability"].to_numpy()
    accepted = [int(np.sum(p >= t)) for t in thresholds]
    return pl.DataFrame(
        {
            "threshold": list(thresholds),
            "pairs_accepted": accepted,
            "share_accepted": [a / len(p) if len(p) else 0.0 for a in accepted],
        }
    )


def threshold_tradeoff(
    warehouse: Path | str, truth_dir: Path | str, thresholds: Sequence[float] = THRESHOLDS
) -> pl.DataFrame:
    """Precision and recall of mother linkage at each threshold, against known truth.

    Re-clusters in memory (the warehouse is not changed); needs a synthetic extract's
    ``truth/`` folder, so it is for synthetic data or a clerically reviewed sample.

    Parameters
    ----------
    warehouse
        The run's warehouse file.
    truth_dir
        The extract's ``truth/`` folder.
    thresholds
        Match probabilities to score.

    Returns
    -------
    polars.DataFrame
        ``threshold``, pairwise and B-cubed precision, recall and F1, and the share of women
        whose records are exactly one cluster.
    """
    result = evaluate_linkage(warehouse, truth_dir, evidence_sets={}, thresholds=thresholds)
    measures = (
        "pairwise_precision",
        "pairwise_recall",
        "pairwise_f1",
        "bcubed_precision",
        "bcubed_recall",
        "bcubed_f1",
        "share_women_exact",
    )
    rows = [
        {"threshold": float(label.split()[-1]), **{m: scores.get(m) for m in measures}}
        for label, scores in result.thresholds.items()
    ]
    return pl.DataFrame(rows).sort("threshold") if rows else pl.DataFrame()


def clerical_sample(wh: Warehouse) -> pl.DataFrame:
    """The pairs near the threshold kept for clerical review (pseudonymised fields only).

    Parameters
    ----------
    wh
        An open warehouse.

    Returns
    -------
    polars.DataFrame
        ``linkage.clerical_sample`` ordered by its pair hash; empty when there is none.
    """
    if CLERICAL_TABLE not in wh.tables():
        return pl.DataFrame()
    return wh.sql(f"select * from {CLERICAL_TABLE} order by pair_hash")
