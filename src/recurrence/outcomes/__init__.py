"""Outcomes stage: how care proceedings end (removal, home or family, ongoing), for whom, when.

See ``docs/outcomes.md``. Modules: ``classify`` (``analysis.case_outcomes``), ``proportions``
(proportions, time to final hearing, disclosure control), ``stage`` (the steps over the
warehouse and the released CSV), ``compare`` (before-and-after comparison for one area),
``figures`` (key figures of the released table, for the report).
"""

from recurrence.outcomes.classify import (
    CASE_OUTCOMES_TABLE,
    OUTCOME_CLASSES,
    ClassSummary,
    build_case_outcomes,
    outcome_lists,
)
from recurrence.outcomes.compare import (
    GroupComparison,
    Period,
    PeriodComparison,
    Split,
    compare_periods,
    compare_periods_in_warehouse,
    compare_splits,
    fisher_p_value,
    newcombe_difference_ci,
    write_comparison_csv,
)
from recurrence.outcomes.figures import Figure, KeyOutcomeFigures, key_outcome_figures
from recurrence.outcomes.proportions import (
    PUBLISHED_COLUMNS,
    PublishedOutcomes,
    disclosure_structure,
    outcome_cells,
    proportion_table,
    publish_outcomes,
)

__all__ = [
    "CASE_OUTCOMES_TABLE",
    "OUTCOME_CLASSES",
    "PUBLISHED_COLUMNS",
    "ClassSummary",
    "Figure",
    "GroupComparison",
    "KeyOutcomeFigures",
    "Period",
    "PeriodComparison",
    "PublishedOutcomes",
    "Split",
    "build_case_outcomes",
    "compare_periods",
    "compare_periods_in_warehouse",
    "compare_splits",
    "disclosure_structure",
    "fisher_p_value",
    "key_outcome_figures",
    "newcombe_difference_ci",
    "outcome_cells",
    "outcome_lists",
    "proportion_table",
    "publish_outcomes",
    "write_comparison_csv",
]
