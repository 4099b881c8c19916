"""Cox model: hazard ratios against an independent partial likelihood, and the PH check."""

import numpy as np
import polars as pl
import pytest
from scipy.optimize import minimize_scalar

from recurrence.survival.cox import COX_COLUMNS, PH_COLUMNS, fit_cox


def _cohort(rng, n, hazard_ratio, *, crossing=False):
    group = rng.random(n) < 0.4
    base = rng.exponential(1500, n)
    time = np.where(group, base / hazard_ratio, base)
    if crossing:  # early excess hazard that then vanishes: proportional hazards fail
        late = group & (time > 400)
        time = np.where(late, 400 + (time - 400) * hazard_ratio**2, time)
    censor = rng.uniform(0, 4000, n)
    days = np.minimum(time, censor)
    # Distinct whole days: a permutation rank keeps order and leaves no ties.
    order = np.argsort(days, kind="stable")
    unique_days = np.empty(n, dtype=np.int64)
    unique_days[order] = np.arange(n)
    return pl.DataFrame(
        {
            "time_days": unique_days,
            "event": time <= censor,
            "age_group": np.where(group, "under 20", "25-29"),
        }
    )


def _partial_likelihood_beta(time, event, x):
    order = np.argsort(-time)  # descending, so the risk set is a running sum
    e, z = event[order], x[order]  # no ties: each risk set is everyone at or after

    def negloglik(beta):
        risk = np.log(np.cumsum(np.exp(beta * z)))
        return -np.sum(e * (beta * z - risk))

    return minimize_scalar(negloglik, bounds=(-5, 5), method="bounded", options={"xatol": 1e-10}).x


def test_hazard_ratio_matches_an_independent_partial_likelihood():
    rng = np.random.default_rng(7)
    cohort = _cohort(rng, 3000, 1.8)
    result = fit_cox(cohort, covariates=["age_group"], horizon_years=100)
    assert result.hazard_ratios.columns[:7] == list(COX_COLUMNS)
    row = result.hazard_ratios.row(0, named=True)
    assert (row["variable"], row["level"]) == ("age_group", "under 20")
    beta = _partial_likelihood_beta(
        cohort["time_days"].to_numpy().astype(float),
        cohort["event"].to_numpy().astype(float),
        (cohort["age_group"] == "under 20").to_numpy().astype(float),
    )
    assert np.log(row["hazard_ratio"]) == pytest.approx(beta, abs=1e-6)
    assert row["ci_lower"] < row["hazard_ratio"] < row["ci_upper"]
    assert 1.5 < row["hazard_ratio"] < 2.2
    assert result.stratified == ()
    assert result.n_mothers == 3000


def test_horizon_censors_follow_up():
    rng = np.random.default_rng(8)
    cohort = _cohort(rng, 2000, 1.5)
    full = fit_cox(cohort, covariates=["age_group"], horizon_years=100)
    short = fit_cox(cohort, covariates=["age_group"], horizon_years=1)
    assert short.n_events < full.n_events
    assert short.n_events == int(((cohort["time_days"] <= 365) & cohort["event"]).sum())


def test_non_proportional_hazards_are_detected_and_stratified():
    rng = np.random.default_rng(9)
    cohort = _cohort(rng, 6000, 3.0, crossing=True).with_columns(
        pl.Series("region_code", np.where(rng.random(6000) < 0.5, "E12000007", "E12000001"))
    )
    result = fit_cox(cohort, covariates=["age_group", "region_code"], horizon_years=100)
    assert "age_group" in result.stratified
    assert result.ph_test.filter(pl.col("variable") == "age_group")["stratified"].all()
    assert set(result.hazard_ratios["variable"]) == {"region_code"}


def test_unknown_covariates_are_left_out():
    rng = np.random.default_rng(10)
    cohort = _cohort(rng, 500, 1.5)
    cohort = cohort.with_columns(
        pl.when(pl.int_range(pl.len()) < 50)
        .then(pl.lit("unknown"))
        .otherwise(pl.col("age_group"))
        .alias("age_group")
    )
    assert fit_cox(cohort, covariates=["age_group"], horizon_years=100).n_mothers == 450


def test_ph_test_is_rs_exact_test_per_covariate():
    rng = np.random.default_rng(11)
    result = fit_cox(_cohort(rng, 1500, 1.5), covariates=["age_group"], horizon_years=100)
    assert result.ph_test.columns == list(PH_COLUMNS)
    assert result.ph_test["variable"].to_list() == ["age_group", "GLOBAL"]
    assert result.ph_test["df"].to_list() == [1, 1]


def test_no_returns_gives_an_empty_typed_result():
    rng = np.random.default_rng(12)
    cohort = _cohort(rng, 200, 1.5).with_columns(pl.lit(False).alias("event"))
    result = fit_cox(cohort, covariates=["age_group"], horizon_years=100)
    assert result.hazard_ratios.is_empty()
    assert result.n_events == 0
    assert result.ph_test.columns == list(PH_COLUMNS)


def test_each_ratio_names_the_reference_it_was_fitted_against():
    rng = np.random.default_rng(11)
    cohort = _cohort(rng, 3000, 1.6).with_columns(
        # No London (the configured reference) in this extract: the most common region is used.
        pl.Series(
            "region_code",
            rng.choice(["E12000001", "E12000002", "E12000002"], 3000),
        )
    )
    result = fit_cox(cohort, covariates=["age_group", "region_code"], horizon_years=100)
    refs = dict(result.hazard_ratios.select("variable", "reference_level").unique().iter_rows())
    assert refs == {"age_group": "25-29", "region_code": "E12000002"}
    assert set(result.hazard_ratios.filter(pl.col("variable") == "region_code")["level"]) == {
        "E12000001"
    }


def test_mothers_in_a_level_with_no_returns_are_left_out_not_merged_into_the_reference():
    rng = np.random.default_rng(12)
    cohort = _cohort(rng, 3000, 1.6).with_columns(
        pl.Series("region_code", rng.choice(["E12000007", "E12000001"], 3000))
    )
    quiet = pl.DataFrame(
        {
            "time_days": np.arange(5000, 5400, dtype=np.int64),
            "event": [False] * 400,
            "age_group": ["25-29"] * 400,
            "region_code": ["E12000009"] * 400,
        }
    )
    with_quiet = fit_cox(
        pl.concat([cohort, quiet]), covariates=["age_group", "region_code"], horizon_years=100
    )
    without = fit_cox(cohort, covariates=["age_group", "region_code"], horizon_years=100)
    assert with_quiet.n_mothers == without.n_mothers == 3000
    assert "E12000009" not in set(with_quiet.hazard_ratios["level"])
    assert with_quiet.hazard_ratios.select("level", "hazard_ratio").equals(
        without.hazard_ratios.select("level", "hazard_ratio")
    )


def test_a_separated_fit_publishes_no_ratio_and_no_warning(recwarn):
    # Every under-20 mother returns before any 25-29 mother: the likelihood is monotone and
    # lifelines returned a hazard ratio near 1e9 with only a warning.
    n = 30
    cohort = pl.DataFrame(
        {
            "time_days": np.r_[np.arange(1, n + 1), np.arange(100, 100 + n)].astype(np.int64),
            "event": [True] * (2 * n),
            "age_group": ["under 20"] * n + ["25-29"] * n,
        }
    )
    result = fit_cox(cohort, covariates=["age_group"], horizon_years=100)
    assert result.hazard_ratios.is_empty()
    assert result.n_mothers == 2 * n
    assert not recwarn.list
