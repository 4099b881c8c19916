"""Linkage: one mother_key per woman across proceedings, and links to maternity birth records."""

from __future__ import annotations

import dagster as dg
import splink

from pipelines.catalog import asset_args
from pipelines.defs.resources import RecurrenceResource
from pipelines.failures import user_errors_as_failure
from recurrence import catalog
from recurrence.errors import RecurrenceError
from recurrence.linkage import (
    link_children_to_births,
    link_mothers,
    link_mothers_to_births,
    summarise_linkage,
)
from recurrence.linkage.model import model_path
from recurrence.linkage.quality import (
    measure_linkage_quality,
    resolve_truth_dir,
    write_linkage_quality,
)


@dg.asset(**asset_args(catalog.CHILD_BIRTHS))
def child_births(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Each child in care proceedings linked to its maternity birth record, if one matches.

    Population: every child row of staging.case_people (any application type), against every
    live birth in staging.births. Unit: one row per child per set of proceedings (case_id,
    person_id) with its birth_id (null when none reaches linkage.match_threshold) and match
    probability. Time window: the whole extract; only children born within the maternity
    extract's dates can link. The trained Splink model is saved in linkage.splink_model.
    """
    config = recurrence.load()
    path = model_path(config.paths.warehouse, "child_births")
    with user_errors_as_failure(), recurrence.connect() as con:
        result = link_children_to_births(con, config.linkage, model_file=path)
    return dg.MaterializeResult(
        metadata={
            "rows_children": result.children,
            "rows_births": result.births,
            "children_linked": result.children_linked,
            "share_linked": round(result.children_linked / result.children, 4)
            if result.children
            else 0.0,
            "pairs_scored": result.pairs_scored,
            "model_trained": result.model_trained,
            "model_file": str(path) if result.model_trained else "(none)",
            "splink_version": splink.__version__,
            "messages": dg.MetadataValue.json(list(result.messages)),
        }
    )


@dg.asset(**asset_args(catalog.MOTHER_KEYS))
def mother_keys(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """The woman (mother_key) behind every mother row of care proceedings.

    Population: every row of staging.case_people with role 'mother', any application type.
    Unit: one row per mother per set of proceedings (case_id, person_id) with its mother_key,
    the rule that joined it (person_id, shared_child, maternity_mother, splink or alone) and
    its Splink match probability. Time window: the whole extract. linkage.method chooses
    person-id-only linkage (the baseline) or Splink plus evidence from children.
    """
    config = recurrence.load()
    path = model_path(config.paths.warehouse, "mothers")
    with user_errors_as_failure(), recurrence.connect() as con:
        result = link_mothers(con, config.linkage, model_file=path)
    return dg.MaterializeResult(
        metadata={
            "rows_mother_records": result.records,
            "method": result.method,
            # The threshold Splink pairs were joined at (chosen from the model by default).
            "match_threshold": (
                result.threshold if result.threshold is not None else "(no Splink model)"
            ),
            "match_threshold_rule": result.threshold_rule,
            "edges_split": result.edges_split,
            "evidence": dg.MetadataValue.json(list(result.evidence)),
            "person_ids": result.person_ids,
            "mother_keys": result.mother_keys,
            "mother_keys_vs_person_id_baseline": result.mother_keys - result.person_ids,
            "pairs_scored": result.pairs_scored,
            "edges_by_evidence": dg.MetadataValue.json(result.edges_by_evidence),
            "largest_mother_cases": result.largest_cluster_cases,
            "model_trained": result.model_trained,
            "model_file": str(path) if result.model_trained else "(none)",
            "splink_version": splink.__version__,
            "messages": dg.MetadataValue.json(list(result.messages)),
        }
    )


@dg.asset(**asset_args(catalog.MOTHER_BIRTHS))
def mother_births(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Every maternity birth of each mother (mother_key), before and after her proceedings.

    Population: mothers in linkage.mother_keys whose children link to a birth record. Unit:
    one row per mother_key and birth_id, with the baby's date of birth, region and how it was
    found: the birth of a child in her proceedings, or another birth under the same maternity
    mother id. Time window: births in the maternity extract (live births only).
    """
    with user_errors_as_failure(), recurrence.connect() as con:
        rows = link_mothers_to_births(con)
        row = con.sql(
            "select count(distinct mother_key), count(*) filter (where linked_via = 'child') "
            "from linkage.mother_births"
        ).fetchone() or (0, 0)
    return dg.MaterializeResult(
        metadata={
            "rows_mother_births": rows,
            "mothers_with_births": int(row[0]),
            "births_of_children_in_proceedings": int(row[1]),
        }
    )


@dg.asset(**asset_args("linkage.summary"))
def summary(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Linkage counts, linkage rates by region and year, and records lacking each field.

    Population: mother and child rows of care proceedings and live births in the maternity
    extract. Unit: one row per measure, breakdown (all, region, year of issue or, for missing
    fields, the kind of record) and category, with numerator, denominator and rate. Time
    window: the whole extract; child linkage rates count children born within the maternity
    extract's dates.
    """
    with user_errors_as_failure(), recurrence.connect() as con:
        rows = summarise_linkage(con)
        overall = dict(
            con.sql(
                "select measure, coalesce(rate, numerator) from linkage.summary "
                "where breakdown = 'all' order by measure"
            ).fetchall()
        )
    return dg.MaterializeResult(
        metadata={
            "rows_summary": rows,
            "overall": dg.MetadataValue.json({k: float(v) for k, v in overall.items()}),
        }
    )


@dg.asset(**asset_args("linkage.quality"))
def quality(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Linkage quality against ground truth, beside the person-id-only baseline (synthetic data).

    Population: the run's mother rows, child links and mother-to-birth links, scored against
    the truth folder of a synthetic extract (linkage.truth; "auto" finds the extract's own).
    Unit: one row per link kind and measure (pairwise and B-cubed precision, recall and F1,
    share of women recovered exactly), with the run's value and the baseline's. Time window:
    the whole extract. Real extracts have no truth: the table is then empty and nothing
    downstream reads it.
    """
    config = recurrence.load()
    truth_dir = resolve_truth_dir(config.linkage.truth, config.paths.extract)
    problem = None
    try:
        rows = measure_linkage_quality(config.paths.warehouse, truth_dir)
    except RecurrenceError as exc:
        # A truth folder of another shape must not stop a run: quality is extra information.
        rows, problem = [], str(exc)
    with user_errors_as_failure(), recurrence.connect() as con:
        write_linkage_quality(con, rows)
    if problem:
        return dg.MaterializeResult(metadata={"truth": f"not used: {problem}"})
    if not rows:
        return dg.MaterializeResult(
            metadata={"truth": "none: quality not measured (real extracts have no truth)"}
        )
    metadata: dict[str, dg.MetadataValue | str | float] = {"truth": str(truth_dir)}
    for row in rows:
        if row.measure in ("pairwise_f1", "f1", "share_women_exact") and row.run is not None:
            metadata[f"{row.link}_{row.measure}"] = row.run
            if row.person_id_baseline is not None:
                metadata[f"{row.link}_{row.measure}_person_id_baseline"] = row.person_id_baseline
    return dg.MaterializeResult(metadata=metadata)
