"""The recurrence table family's disclosure control against a linear-programming intruder."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recurrence.survival.disclosure import applicable, protect_family
from recurrence.survival.estimates import estimate_table
from recurrence.survival.intruder import attack

END = dt.date(2024, 3, 31)
YEARS = [1, 3, 5, 7]
PERIODS = {"2008-2011": 2008, "2012-2015": 2012, "2016-2019": 2016, "2020+": 2020}


def _cohort(rng: np.random.Generator, n: int, scale: float = 3000) -> pl.DataFrame:
    period = rng.choice(list(PERIODS), n, p=[0.3, 0.3, 0.3, 0.1])
    first = np.array([(dt.date(PERIODS[p], 1, 1) - dt.date(2008, 1, 1)).days for p in period])
    index = first + rng.integers(0, 1400, n)
    follow_up = np.maximum((END - dt.date(2008, 1, 1)).days - index, 1)
    time = rng.exponential(scale, n).astype(int)
    return pl.DataFrame(
        {
            "time_days": np.minimum(time, follow_up),
            "event": time <= follow_up,
            "index_period": period,
            "age_group": rng.choice(
                ["under 20", "20-24", "25-29", "30+"], n, p=[0.1, 0.3, 0.4, 0.2]
            ),
        }
    )


def _table(cohort: pl.DataFrame) -> pl.DataFrame:
    return estimate_table(cohort, YEARS, covariates=["index_period", "age_group"])


def _row(variable, value, years, start, risk, events):
    return {
        "group_variable": variable,
        "group_value": value,
        "horizon_years": years,
        "estimate": events / start,
        "ci_lower": 0.0,
        "ci_upper": 1.0,
        "n_at_start": start,
        "n_at_risk": risk,
        "n_events": events,
        "method": "kaplan_meier",
    }


def test_the_intruder_breaks_cell_by_cell_suppression():
    """The three leaks of issue 18: repeats, structural zeros and small differences."""
    rows = []
    cumulative = [(30, 20, 12), (50, 40, 20), (60, 50, 25), (65, 55, 25)]
    for h, (a, b, c) in zip(YEARS, cumulative, strict=True):
        rows += [
            _row("all", "all", h, 600, 500 - 50 * h, a + b + c),
            _row("region", "north", h, 300, 250 - 25 * h, a),
            _row("region", "south", h, 200, 150 - 15 * h, b),
            _row("region", "wales", h, 100, 100 - 10 * h, c),
        ]
    truth = pl.DataFrame(rows)
    # Wales is hidden at 7 years only (returns 25 → 25: none in the interval) with a partner.
    hide = (pl.col("group_value").is_in(["wales", "south"])) & (pl.col("horizon_years") == 7)
    naive = truth.with_columns(
        pl.when(hide).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("estimate", "n_at_start", "n_at_risk", "n_events")
    )
    found = {(f.group[1], f.cell) for f in attack(naive, min_cell=10, extract_end=None)}
    assert ("wales", "start") in found  # the same number is shown at 1, 3 and 5 years
    assert ("wales", "returns5") in found or ("wales", "events7") in found
    assert not attack(
        protect_family(truth, min_cell=10, extract_end=None), min_cell=10, extract_end=None
    )


def test_a_group_is_hidden_at_every_horizon_or_none_and_with_a_partner():
    rng = np.random.default_rng(1)
    published = protect_family(_table(_cohort(rng, 400)), min_cell=10, extract_end=END)
    per_group = published.group_by("group_variable", "group_value").agg(
        pl.col("suppressed").n_unique().alias("kinds"), pl.col("suppressed").first()
    )
    assert per_group["kinds"].max() == 1
    hidden = per_group.filter(pl.col("suppressed"))
    assert hidden.height > 0
    assert hidden.group_by("group_variable").len()["len"].min() >= 2
    assert published.filter(pl.col("suppressed"))["estimate"].is_null().all()
    assert published.filter(pl.col("suppressed"))["ci_upper"].is_null().all()


def test_unreachable_horizons_are_not_applicable_not_suppressed():
    rng = np.random.default_rng(2)
    published = protect_family(_table(_cohort(rng, 3000)), min_cell=10, extract_end=END)
    late = published.filter(pl.col("group_value") == "2020+")
    assert late.filter(pl.col("horizon_years") >= 5)["not_applicable"].all()
    assert not late.filter(pl.col("horizon_years") < 5)["not_applicable"].any()
    assert late.filter(pl.col("not_applicable"))["n_at_risk"].is_null().all()
    assert not applicable("index_period", "2020+", 5, END)
    assert applicable("index_period", "2016-2019", 7, END)
    assert applicable("age_group", "30+", 7, END)


def test_rounding_to_base_five_is_a_policy_beside_suppression():
    rng = np.random.default_rng(3)
    table = _table(_cohort(rng, 3000))
    plain = protect_family(table, min_cell=10, extract_end=END)
    rounded = protect_family(table, min_cell=10, extract_end=END, rounding_base=5)
    assert plain["suppressed"].to_list() == rounded["suppressed"].to_list()
    counts = rounded["n_at_start"].drop_nulls()
    assert (counts % 5 == 0).all()
    assert rounded["estimate"].to_list() == plain["estimate"].to_list()
    assert not (plain["n_at_start"].drop_nulls() % 5 == 0).all()


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 250), scale=st.sampled_from([500, 3000]))
def test_the_rules_alone_resist_the_intruder_on_random_cohorts(seed, n, scale):
    """Rules 1–4 without the verification loop: the intruder finds nothing."""
    table = _table(_cohort(np.random.default_rng(seed), n, scale))
    published = protect_family(table, min_cell=10, extract_end=END, verify=False)
    truth = table.filter(pl.col("method") == "kaplan_meier")
    assert attack(published, min_cell=10, extract_end=END, truth=truth) == []


@pytest.mark.parametrize("n", [30, 600])
def test_an_extract_shorter_than_the_horizon_puts_it_out_of_reach_for_every_group(n):
    """Index periods all 2020+: nobody anywhere reached 5 years, the overall row included.

    The intruder knows it from the periods' labels, so it is public (``[x]``), not a hidden
    count the intruder can pin to zero — the shape 'short extract' of issue 16 failed on this.
    """
    rng = np.random.default_rng(5)
    cohort = _cohort(rng, n).with_columns(pl.lit("2020+").alias("index_period"))
    cohort = cohort.with_columns(pl.col("time_days").clip(upper_bound=1500))
    table = _table(cohort)
    published = protect_family(table, min_cell=10, extract_end=END)
    late = published.filter(pl.col("horizon_years") >= 5)
    assert late["not_applicable"].all()
    assert not published.filter(pl.col("horizon_years") < 5)["not_applicable"].any()
    assert attack(published, min_cell=10, extract_end=END) == []
    assert (
        attack(
            protect_family(table, min_cell=10, extract_end=END, verify=False),
            min_cell=10,
            extract_end=END,
        )
        == []
    )
