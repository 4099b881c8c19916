"""Newborn and infant rates per 10,000 live births, with confidence intervals."""

from recurrence.rates.intervals import (
    byar_ci,
    count_ci,
    exact_poisson_ci,
    funnel_limits,
    outside_limits,
    rate_ci,
    wilson_ci,
)
from recurrence.rates.newborns import (
    PUBLISHED_COLUMNS,
    age_bands,
    build_live_births,
    build_newborn_children,
    build_newborn_rates,
    headline_rates,
    publish_newborn_rates,
    write_published,
)

__all__ = [
    "PUBLISHED_COLUMNS",
    "age_bands",
    "build_live_births",
    "build_newborn_children",
    "build_newborn_rates",
    "byar_ci",
    "count_ci",
    "exact_poisson_ci",
    "funnel_limits",
    "headline_rates",
    "outside_limits",
    "publish_newborn_rates",
    "rate_ci",
    "wilson_ci",
    "write_published",
]
