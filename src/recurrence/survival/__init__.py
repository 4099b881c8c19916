"""Recurrence: the cohort of mothers, the chance of return to court and what predicts it.

Never imports dagster; lifelines is reached through pandas at one boundary per estimator.
"""

from recurrence.survival.aj import CI_TRANSFORM_AJ, aalen_johansen
from recurrence.survival.cohort import (
    COVARIATES,
    build_cohort,
    extract_end_date,
    person_id_cohort,
    read_cohort,
)
from recurrence.survival.cox import COX_COLUMNS, CoxResult, fit_cox
from recurrence.survival.estimates import (
    ESTIMATE_COLUMNS,
    estimate_table,
    primary_method,
)
from recurrence.survival.km import CI_TRANSFORM, horizon_days, kaplan_meier, product_limit
from recurrence.survival.stage import (
    build_cox,
    build_estimates,
    build_sensitivity,
    count_bad_follow_up,
    count_mothers_not_in_one_row,
    count_non_monotone,
    count_published_below_min_cell,
    count_zph_bins_below_min_cell,
    intruder_findings,
    publish_estimates,
)

__all__ = [
    "CI_TRANSFORM",
    "CI_TRANSFORM_AJ",
    "COVARIATES",
    "COX_COLUMNS",
    "ESTIMATE_COLUMNS",
    "CoxResult",
    "aalen_johansen",
    "build_cohort",
    "build_cox",
    "build_estimates",
    "build_sensitivity",
    "count_bad_follow_up",
    "count_mothers_not_in_one_row",
    "count_non_monotone",
    "count_published_below_min_cell",
    "count_zph_bins_below_min_cell",
    "estimate_table",
    "extract_end_date",
    "fit_cox",
    "horizon_days",
    "intruder_findings",
    "kaplan_meier",
    "person_id_cohort",
    "primary_method",
    "product_limit",
    "publish_estimates",
    "read_cohort",
]
