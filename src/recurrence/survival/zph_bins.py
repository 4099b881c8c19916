"""A disclosure-safe summary of the scaled Schoenfeld residuals: R's ``plot.cox.zph``, binned.

Each scaled Schoenfeld residual is one mother's return, so none is published. For each tested
term the returns are grouped by whole months of follow-up (a month is 365.25 / 12 days),
consecutive months are joined into a bin until it holds at least ``min_cell`` returns (or a
tenth of the term's returns, if more: at most :data:`MAX_BINS` bins), and a last bin short of
that is joined to the one before. A term with fewer than ``min_cell`` returns in all has no
bins. Per bin: the months it covers, its returns, their mean follow-up in years and mean
transformed time, and the mean β(t) (coefficient + scaled residual, R's ``zph$y``). Beside it,
R's smooth: a natural cubic spline with 4 degrees of freedom (knots at the quartiles of the
transformed time, as ``ns(x, df=4)``) fitted to every return's β(t), evaluated at the bin's
mean transformed time, with R's band of ±2 standard errors (the spline's hat matrix times
``zph$var``). The smooth is a fit of five parameters to all returns, not to the bin, and is
given only when the term has at least two bins.

Disclosure: a term any of whose levels has fewer than ``min_cell`` mothers or returns (the rule
hiding a hazard ratio) has its values hidden. Counts are hidden when the model's returns by a
published horizon differ from the cohort's (mothers with an unknown covariate are left out of
the model) by 1 to ``min_cell`` − 1: that difference would be a small count.
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: Days in a month of the bins' time axis.
MONTH_DAYS = 365.25 / 12
#: At most this many bins per term (more returns make each bin larger, not the bins more).
MAX_BINS = 10
#: Degrees of freedom of the smooth (R's ``plot.cox.zph`` default ``df = 4``).
SMOOTH_DF = 4
#: Width of the band in standard errors (R's ``plot.cox.zph``).
BAND_SE = 2.0
BIN_COLUMNS: tuple[str, ...] = (
    "variable",
    "bin",
    "stratified",
    "scale",
    "coefficient",
    "time_from_months",
    "time_to_months",
    "n_events",
    "mean_years",
    "transformed_time",
    "mean_beta_t",
    "smooth_beta_t",
    "smooth_lower",
    "smooth_upper",
    "suppressed",
)
BIN_SCHEMA = {
    "variable": pl.String,
    "bin": pl.Int64,
    "stratified": pl.Boolean,
    "scale": pl.String,
    "coefficient": pl.Float64,
    "time_from_months": pl.Int64,
    "time_to_months": pl.Int64,
    "n_events": pl.Int64,
    "mean_years": pl.Float64,
    "transformed_time": pl.Float64,
    "mean_beta_t": pl.Float64,
    "smooth_beta_t": pl.Float64,
    "smooth_lower": pl.Float64,
    "smooth_upper": pl.Float64,
    "suppressed": pl.Boolean,
}
_VALUES = ("coefficient", "mean_beta_t", "smooth_beta_t", "smooth_lower", "smooth_upper")


def month_bins(months: np.ndarray, *, min_cell: int) -> list[tuple[int, int]]:
    """Runs of whole months ``[from, to)`` each holding at least ``min_cell`` of ``months``.

    Examples
    --------
    >>> month_bins(np.array([0, 0, 1, 2, 2, 2, 5]), min_cell=3)
    [(0, 2), (2, 6)]
    >>> month_bins(np.array([0, 1]), min_cell=3)
    []
    """
    if months.size < max(min_cell, 1):
        return []
    values, counts = np.unique(months.astype(np.int64), return_counts=True)
    bins: list[tuple[int, int]] = []
    start, held = int(values[0]), 0
    for v, c in zip(values, counts, strict=True):
        held += int(c)
        if held >= min_cell:
            bins.append((start, int(v) + 1))
            start, held = int(v) + 1, 0
    if held:  # a tail short of the threshold joins the bin before it
        bins[-1] = (bins[-1][0], int(values[-1]) + 1)
    return bins


def _natural_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Natural cubic spline basis with an intercept (the span of ``1 + ns(x, knots)``)."""
    k = knots

    def d(j: int) -> np.ndarray:
        return (np.maximum(x - k[j], 0) ** 3 - np.maximum(x - k[-1], 0) ** 3) / (k[-1] - k[j])

    cols = [np.ones_like(x), x] + [d(j) - d(len(k) - 2) for j in range(len(k) - 2)]
    return np.column_stack(cols)


def smooth(
    x: np.ndarray, y: np.ndarray, at: np.ndarray, variance: float, *, df: int = SMOOTH_DF
) -> tuple[np.ndarray, np.ndarray] | None:
    """R's ``plot.cox.zph`` smooth of ``y`` on ``x`` at ``at``, and its standard error.

    The fitted values and standard errors depend only on the spline space, not its basis, so
    this equals R's ``lm(y ~ ns(x, df))`` with ``se = sqrt(var * p' (X'X)⁻¹ p)``. None when
    there are too few distinct times to fit it.
    """
    if np.unique(x).size <= df + 1:
        return None
    inner = np.quantile(x, np.arange(1, df) / df)
    knots = np.concatenate(([x.min()], inner, [x.max()]))
    if np.unique(knots).size < knots.size:
        return None
    basis = _natural_basis(x, knots)
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    xtx_inv = np.linalg.pinv(basis.T @ basis)
    p = _natural_basis(np.asarray(at, dtype=float), knots)
    se = np.sqrt(variance * np.einsum("ij,jk,ik->i", p, xtx_inv, p))
    return p @ coef, se


def bin_residuals(
    residuals: pl.DataFrame,
    *,
    min_cell: int,
    hide_counts: bool = False,
) -> pl.DataFrame:
    """The published table: bins of at least ``min_cell`` returns per term (module notes).

    Parameters
    ----------
    residuals
        ``analysis.cox_zph_residuals`` (:data:`recurrence.survival.cox.ZPH_COLUMNS`).
    min_cell
        Disclosure threshold: every bin holds at least this many returns.
    hide_counts
        Hide ``n_events`` (null) in every bin.

    Returns
    -------
    polars.DataFrame
        Columns :data:`BIN_COLUMNS`; hidden values null with ``suppressed`` true.
    """
    rows = []
    for (variable,), part in residuals.group_by("variable", maintain_order=True):
        part = part.filter(pl.col("beta_t").is_not_nan()).sort("time_days")
        first = part.row(0, named=True) if part.height else None
        months = np.floor(part["time_days"].to_numpy() / MONTH_DAYS).astype(np.int64)
        size = max(min_cell, -(-months.size // MAX_BINS))
        bins = month_bins(months, min_cell=size)
        if first is None or not bins:
            continue
        x = part["transformed_time"].to_numpy()
        y = part["beta_t"].to_numpy()
        years = part["time_days"].to_numpy() / 365.25
        hide = first["min_level_mothers"] < min_cell or first["min_level_events"] < min_cell
        means = []
        for lo, hi in bins:
            inside = (months >= lo) & (months < hi)
            means.append(
                (
                    int(inside.sum()),
                    float(x[inside].mean()),
                    float(y[inside].mean()),
                    float(years[inside].mean()),
                )
            )
        fitted = (
            smooth(x, y, np.array([m[1] for m in means]), first["variance"])
            if len(bins) >= 2
            else None
        )
        for i, ((lo, hi), (n, tx, my, yr)) in enumerate(zip(bins, means, strict=True)):
            fit, se = (fitted[0][i], fitted[1][i]) if fitted is not None else (None, None)
            rows.append(
                {
                    "variable": variable,
                    "bin": i + 1,
                    "stratified": first["stratified"],
                    "scale": first["scale"],
                    "coefficient": first["coefficient"],
                    "time_from_months": lo,
                    "time_to_months": hi,
                    "n_events": None if hide_counts else n,
                    "mean_years": yr,
                    "transformed_time": tx,
                    "mean_beta_t": my,
                    "smooth_beta_t": None if fit is None else float(fit),
                    "smooth_lower": None if fit is None else float(fit - BAND_SE * se),
                    "smooth_upper": None if fit is None else float(fit + BAND_SE * se),
                    "suppressed": bool(hide),
                }
            )
    frame = pl.DataFrame(rows, schema=BIN_SCHEMA)
    return frame.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in _VALUES
    ).with_columns(pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("transformed_time")))


def small_differences(
    residuals: pl.DataFrame, cohort_returns: dict[int, int], *, min_cell: int
) -> bool:
    """Whether the model's returns by some horizon differ from the cohort's by 1 to min_cell − 1.

    Parameters
    ----------
    residuals
        ``analysis.cox_zph_residuals``.
    cohort_returns
        Horizon in days → the cohort's returns by then (the published ``n_events`` of the
        overall row of ``recurrence_estimates``).
    min_cell
        Disclosure threshold.
    """
    if residuals.is_empty():
        return False
    first = residuals["variable"][0]
    times = residuals.filter(pl.col("variable") == first)["time_days"].to_numpy()
    for days, returns in cohort_returns.items():
        diff = returns - int((times <= days).sum())
        if 0 < diff < min_cell:
            return True
    return False
