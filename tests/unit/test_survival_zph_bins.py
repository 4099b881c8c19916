"""Scaled Schoenfeld residuals (R's ``cox.zph`` ``y``) and their disclosure-safe bins.

The fixture (tests/fixtures/cox_zph, R survival 3.5) holds R's test statistics but not the
``y`` of the ``cox.zph`` object, so the residuals are checked against a direct, loop-by-loop
computation from the definitions in R's ``zph1.c`` and ``cox.zph``; the test statistics made
from the same pieces already match R to 1e-6 (test_survival_ph.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from recurrence.survival.cox import fit_cox
from recurrence.survival.ph import efron_fit, zph_residuals
from recurrence.survival.zph_bins import (
    MAX_BINS,
    MONTH_DAYS,
    bin_residuals,
    month_bins,
    small_differences,
    smooth,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cox_zph"
TERMS = {"age_band": [0], "region": [1, 2]}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = pd.read_csv(FIXTURES / "cohort.csv")
    x = np.column_stack([d.age_band == "under_20", d.region == "south", d.region == "wales"])
    return d.time_years.to_numpy(), d.event.to_numpy().astype(bool), x.astype(float)


def _direct(time, event, x, beta):
    """R's scaled residuals by loops: Efron mean of means per tie, I/d scaling, collapse."""
    risk = np.exp(x @ beta)
    p = x.shape[1]
    info = np.zeros((p, p))
    rows, times = [], []
    for t in np.unique(time[event]):
        at = time >= t
        dead = (time == t) & event
        m = dead.sum()
        s0, s1 = risk[at].sum(), (risk[at, None] * x[at]).sum(0)
        s2 = (risk[at, None, None] * x[at, :, None] * x[at, None, :]).sum(0)
        d0, d1 = risk[dead].sum(), (risk[dead, None] * x[dead]).sum(0)
        d2 = (risk[dead, None, None] * x[dead, :, None] * x[dead, None, :]).sum(0)
        means = []
        for k in range(m):
            f = k / m
            a0, a1, a2 = s0 - f * d0, s1 - f * d1, s2 - f * d2
            mean = a1 / a0
            means.append(mean)
            info += a2 / a0 - np.outer(mean, mean)
        for i in np.flatnonzero(dead):
            rows.append(x[i] - np.mean(means, axis=0))
            times.append(t)
    r = np.array(rows)
    d = len(r)
    # Terms: age is one column; region's two columns collapse onto its linear predictor.
    c = np.array([[1.0, 0.0], [0.0, beta[1]], [0.0, beta[2]]])
    vmean = c.T @ (info / d) @ c
    scaled = (r @ c) @ np.linalg.inv(vmean)
    return np.array(times), scaled + np.array([beta[0], 1.0])


def test_scaled_residuals_equal_a_direct_computation(data):
    time, event, x = data
    beta = efron_fit(time, event, x).coef
    got = zph_residuals(time, event, x, beta, TERMS)
    times, y = _direct(time, event, x, beta)
    np.testing.assert_array_equal(got.time, times)
    np.testing.assert_allclose(got.y, y, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got.coef, [beta[0], 1.0])
    # The score is zero at the fitted coefficients, so each term's β(t) averages to its line.
    np.testing.assert_allclose(got.y.mean(axis=0), got.coef, atol=1e-8)


def _frame(got, stratified=()) -> pl.DataFrame:
    return pl.concat(
        pl.DataFrame(
            {
                "variable": term,
                "time_days": got.time * 365.25,
                "transformed_time": got.x,
                "beta_t": got.y[:, k],
                "coefficient": float(got.coef[k]),
                "scale": "coefficient" if k == 0 else "linear_predictor",
                "variance": float(got.var[k, k]),
                "stratified": term in stratified,
                "min_level_mothers": 500,
                "min_level_events": 100,
            }
        )
        for k, term in enumerate(got.terms)
    )


def test_bins_equal_a_direct_computation_from_the_fixture(data):
    time, event, x = data
    beta = efron_fit(time, event, x).coef
    got = zph_residuals(time, event, x, beta, TERMS)
    bins = bin_residuals(_frame(got, ("age_band",)), min_cell=10)
    times, y = _direct(time, event, x, beta)
    months = np.floor(times * 365.25 / MONTH_DAYS)
    for k, term in enumerate(("age_band", "region")):
        part = bins.filter(pl.col("variable") == term).sort("bin")
        assert 2 <= part.height <= MAX_BINS
        assert part["n_events"].sum() == len(times)
        assert (part["n_events"] >= max(10, len(times) // MAX_BINS)).all()
        assert part["stratified"].to_list() == [term == "age_band"] * part.height
        for row in part.iter_rows(named=True):
            inside = (months >= row["time_from_months"]) & (months < row["time_to_months"])
            assert inside.sum() == row["n_events"]
            np.testing.assert_allclose(row["mean_beta_t"], y[inside, k].mean(), rtol=1e-6)
        # Bins tile the follow-up without gaps.
        assert part["time_from_months"][1:].to_list() == part["time_to_months"][:-1].to_list()


def test_smooth_is_rs_natural_spline_fit():
    # R's ns(x, df=4): cubic B-splines on knots (min, quartiles, max) with zero second
    # derivative at both boundary knots (ns() takes that null space by QR). Build it that way
    # with scipy and compare the fit and R's band (sqrt(var * p'(X'X)^-1 p)) with smooth().
    from scipy.interpolate import BSpline
    from scipy.linalg import null_space

    rng = np.random.default_rng(5)
    x = np.sort(rng.random(300))
    y = np.sin(4 * x) + rng.normal(0, 0.3, x.size)
    at = np.array([0.05, 0.3, 0.6, 0.95])
    knots = np.concatenate(([x.min()], np.quantile(x, [0.25, 0.5, 0.75]), [x.max()]))
    t = np.concatenate(([knots[0]] * 3, knots, [knots[-1]] * 3))
    n_basis = len(t) - 4

    def basis(v, nu=0):
        return np.column_stack([BSpline(t, np.eye(n_basis)[j], 3)(v, nu) for j in range(n_basis)])

    constraints = basis(knots[[0, -1]], nu=2)
    # The constrained B-splines sum to 1, so they hold the intercept: five columns, as 1 + ns().
    design = basis(x) @ null_space(constraints)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    p = basis(at) @ null_space(constraints)
    want_se = np.sqrt(2.5 * np.einsum("ij,jk,ik->i", p, np.linalg.inv(design.T @ design), p))
    fit, se = smooth(x, y, at, variance=2.5)
    np.testing.assert_allclose(fit, p @ coef, rtol=1e-8)
    np.testing.assert_allclose(se, want_se, rtol=1e-8)
    assert smooth(np.array([0.0, 0.1, 0.2]), np.zeros(3), np.array([0.1]), 1.0) is None


def test_month_bins_never_hold_fewer_than_the_threshold():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(0, 120))
        months = rng.integers(0, 84, n)
        bins = month_bins(months, min_cell=10)
        if n < 10:
            assert bins == []
            continue
        counts = [((months >= a) & (months < b)).sum() for a, b in bins]
        assert min(counts) >= 10
        assert sum(counts) == n


def _cohort(n: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    young = rng.random(n) < 0.4
    base = rng.exponential(1500, n) / np.where(young, 2.0, 1.0)
    censor = rng.integers(1, 3000, n)
    return pl.DataFrame(
        {
            "time_days": np.minimum(base, censor).astype(np.int64) + 1,
            "event": base <= censor,
            "age_group": np.where(young, "under 20", "25-29"),
        }
    )


def test_a_tiny_cohort_has_no_bins_and_does_not_crash():
    cohort = _cohort(40)
    result = fit_cox(cohort, covariates=("age_group",), horizon_years=7)
    assert result.zph_residuals.height == result.n_events
    # Fewer returns than the threshold: no bin can be published.
    bins = bin_residuals(result.zph_residuals, min_cell=result.n_events + 1)
    assert bins.is_empty()
    assert bins.columns[:2] == ["variable", "bin"]


def test_every_bin_holds_at_least_the_threshold_on_random_cohorts():
    for seed in range(10):
        result = fit_cox(_cohort(300, seed), covariates=("age_group",), horizon_years=7)
        bins = bin_residuals(result.zph_residuals, min_cell=10)
        assert (bins["n_events"] >= 10).all()
        assert bins["n_events"].sum() in (0, result.n_events)


def test_a_cohort_without_returns_gives_an_empty_typed_table():
    cohort = _cohort(50).with_columns(pl.lit(False).alias("event"))
    result = fit_cox(cohort, covariates=("age_group",), horizon_years=7)
    assert result.zph_residuals.is_empty()
    assert bin_residuals(result.zph_residuals, min_cell=10).is_empty()


def test_a_term_with_a_small_level_is_hidden():
    cohort = _cohort(400)
    result = fit_cox(cohort, covariates=("age_group",), horizon_years=7)
    small = result.zph_residuals.with_columns(pl.lit(5).alias("min_level_events"))
    bins = bin_residuals(small, min_cell=10)
    assert bins["suppressed"].all()
    assert bins["mean_beta_t"].is_null().all()
    assert bins["coefficient"].is_null().all()


def test_counts_are_hidden_when_the_model_leaves_out_a_few_returns():
    cohort = _cohort(400)
    result = fit_cox(cohort, covariates=("age_group",), horizon_years=7)
    resid = result.zph_residuals
    total = resid.height
    assert not small_differences(resid, {2556: total}, min_cell=10)
    assert small_differences(resid, {2556: total + 3}, min_cell=10)
    assert not small_differences(resid, {2556: total + 10}, min_cell=10)
    hidden = bin_residuals(resid, min_cell=10, hide_counts=True)
    assert hidden["n_events"].is_null().all()
    assert hidden["mean_beta_t"].is_not_null().all()
