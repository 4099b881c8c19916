"""Chance of return by local authority and its funnel limits (issue 22, part 1).

Published as ``published.la_recurrence`` and ``la_recurrence.csv``. The authority is that of the
mother's index set (``cases.la_code``, the applicant authority). Disclosure control is that of the
national table (:func:`recurrence.survival.disclosure.protect_family`), applied to each region
as a family of its own: the region's row is the family's total and its authorities are the
groups, with the region's mothers whose index set names no authority as one more group
(``none:<region>``), so the parts add up to the region exactly, as an intruder would know.

1. A region hidden in ``published.recurrence_estimates`` hides all its authorities (otherwise
   they would add up to the hidden region).
2. Within a region: an authority is hidden at both horizons when its mothers at start, mothers
   at risk or returns at a reachable horizon, or its returns between the horizons are below
   ``disclosure.min_cell``; secondary suppression hides more until the hidden authorities of
   the region hide every count together by at least ``min_cell`` across two or more; the
   linear-programming intruder (:func:`recurrence.survival.intruder.attack`) attacks each
   region's family with everything an intruder knows and hides more until it finds nothing.
3. Counts rounded to ``disclosure.rounding_base`` when above 1, as the national table.

The regions and England and Wales are released by the national table, so this table carries
authority rows only. Funnel limits (:func:`funnel_limits`) are computed from published cells only:
the England and Wales estimate, its confidence interval and its mothers at start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from matplotlib.figure import Figure
from scipy.stats import norm

from recurrence.config import Config
from recurrence.survival.cohort import extract_end_date, read_cohort
from recurrence.survival.disclosure import protect_family
from recurrence.survival.estimates import (
    ESTIMATE_COLUMNS,
    METHOD_KM,
    estimate_table,
    has_competing_events,
    primary_method,
)
from recurrence.survival.intruder import attack
from recurrence.survival.km import horizon_days, product_limit

ANALYSIS_TABLE = "analysis.la_recurrence_estimates"
PUBLISHED_TABLE = "published.la_recurrence"
CSV_NAME = "la_recurrence.csv"
#: Horizons of the authority table (issue 22: the 5- and 7-year chance of return).
HORIZONS: tuple[int, ...] = (5, 7)
LA = "la_code"
REGION = "region_code"
OVERALL = "all"
#: Prefix of the group of a region's mothers whose index set names no authority.
NO_AUTHORITY = "none:"
#: Funnel columns, filled for authority rows with a published estimate.
FUNNEL_COLUMNS: tuple[str, ...] = (
    "funnel_lower_95",
    "funnel_upper_95",
    "funnel_lower_998",
    "funnel_upper_998",
    "funnel_position",
)
#: Columns of ``la_recurrence.csv``, in order.
CSV_COLUMNS: tuple[str, ...] = (
    "group_variable",
    "group_value",
    "region_code",
    "la_code",
    *ESTIMATE_COLUMNS[2:],
    *FUNNEL_COLUMNS,
    "suppressed",
)
Z95 = float(norm.ppf(0.975))
Z998 = float(norm.ppf(0.999))


def has_la_code(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``staging.cases`` carries ``la_code`` (the contract makes it optional).

    Parameters
    ----------
    con
        Open warehouse.

    Returns
    -------
    bool
        True when the column exists.
    """
    row = con.execute(
        "select count(*) from information_schema.columns "
        "where table_schema = 'staging' and table_name = 'cases' and column_name = 'la_code'"
    ).fetchone()
    return bool(row and row[0])


def area_cohort(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """The recurrence cohort with the authority of each mother's index set, or None without one.

    Parameters
    ----------
    con
        Warehouse holding ``analysis.recurrence_cohort`` and ``staging.cases``.

    Returns
    -------
    polars.DataFrame or None
        The in-cohort mothers with ``la_code`` (``none:<region>`` when the index set names no
        authority); None when the extract has no ``la_code`` column.
    """
    if not has_la_code(con):
        return None
    cohort = read_cohort(con)
    las = con.sql("select case_id as index_case_id, la_code as _la from staging.cases").pl()
    cohort = cohort.join(las, on="index_case_id", how="left")
    # An authority code seen in two regions (a data fault or a boundary change) is split by
    # region, so that every region is exactly the sum of its authorities.
    split = (
        cohort.drop_nulls("_la")
        .group_by("_la")
        .agg(pl.col(REGION).n_unique().alias("_regions"))
        .filter(pl.col("_regions") > 1)["_la"]
    )
    return cohort.with_columns(
        pl.when(pl.col("_la").is_null())
        .then(pl.lit(NO_AUTHORITY) + pl.col(REGION))
        .when(pl.col("_la").is_in(split.implode()))
        .then(pl.col("_la") + pl.lit("@") + pl.col(REGION))
        .otherwise(pl.col("_la"))
        .alias(LA)
    ).drop("_la")


def area_table(cohort: pl.DataFrame, horizons: Sequence[int] = HORIZONS) -> pl.DataFrame:
    """Chance of return overall, by region and by authority, with each authority's region.

    Kaplan–Meier; Aalen–Johansen with the naive Kaplan–Meier beside it when a mother's death
    ended follow-up (as :func:`recurrence.survival.estimates.estimate_table`).

    Parameters
    ----------
    cohort
        Output of :func:`area_cohort`.
    horizons
        Horizons in years.

    Returns
    -------
    polars.DataFrame
        Columns of :func:`recurrence.survival.estimates.estimate_table` and ``region_code``
        (the authority's or region's), unsuppressed.
    """
    if has_competing_events(cohort):
        table = estimate_table(cohort, horizons, covariates=(REGION, LA))
    else:
        # Without deaths the estimate is Kaplan–Meier. With about 200 groups the vectorised
        # product-limit (equal to lifelines' fit to 1e-9, tested in the survival tests) takes a
        # fraction of lifelines' time per group.
        days = np.array([horizon_days(y) for y in horizons])
        rows: list[tuple] = []
        groups = [((OVERALL, OVERALL), cohort)] + [
            ((variable, str(value)), part)
            for variable in (REGION, LA)
            for (value,), part in cohort.group_by(variable, maintain_order=False)
        ]
        for (variable, value), part in groups:
            pts = product_limit(part["time_days"].to_numpy(), part["event"].to_numpy(), days)
            rows += [
                (
                    variable,
                    value,
                    int(y),
                    float(pts.estimate[i]),
                    float(pts.ci_lower[i]),
                    float(pts.ci_upper[i]),
                    pts.n_at_start,
                    int(pts.n_at_risk[i]),
                    int(pts.n_events[i]),
                    METHOD_KM,
                )
                for i, y in enumerate(horizons)
            ]
        schema = estimate_table(pl.DataFrame(), horizons, covariates=()).schema
        table = pl.DataFrame(rows, schema=schema, orient="row")
    region_of = dict(cohort.group_by(LA).agg(pl.col(REGION).first()).iter_rows())
    table = table.with_columns(
        pl.when(pl.col("group_variable") == LA)
        .then(pl.col("group_value").replace_strict(region_of, default=None))
        .when(pl.col("group_variable") == REGION)
        .then(pl.col("group_value"))
        .otherwise(None)
        .alias(REGION)
    )
    return table.sort(
        pl.col("method") != primary_method(table),
        pl.col("group_variable") != OVERALL,
        "group_variable",
        "group_value",
        "horizon_years",
    )


def region_family(table: pl.DataFrame, region: str) -> pl.DataFrame:
    """One region's family: its row as the total (``all``) and its authorities as the groups.

    Parameters
    ----------
    table
        Output of :func:`area_table`.
    region
        Region code.

    Returns
    -------
    polars.DataFrame
        Rows in the shape :func:`recurrence.survival.disclosure.protect_family` takes.
    """
    total = table.filter(
        (pl.col("group_variable") == REGION) & (pl.col("group_value") == region)
    ).with_columns(pl.lit(OVERALL).alias("group_variable"), pl.lit(OVERALL).alias("group_value"))
    parts = table.filter((pl.col("group_variable") == LA) & (pl.col(REGION) == region))
    return pl.concat([total, parts]).select(*ESTIMATE_COLUMNS)


def protect_areas(
    table: pl.DataFrame,
    *,
    hidden_regions: set[str],
    min_cell: int,
    extract_end: dt.date | None,
    rounding_base: int = 0,
) -> pl.DataFrame:
    """The authority rows of ``table``, protected region by region (rules of the module).

    Parameters
    ----------
    table
        Output of :func:`area_table`.
    hidden_regions
        Regions hidden in ``published.recurrence_estimates``.
    min_cell
        Smallest publishable count.
    extract_end
        The extract end date (public).
    rounding_base
        Round published counts to this base (0 or 1: none).

    Returns
    -------
    polars.DataFrame
        Authority rows with hidden values null and ``suppressed``, ``not_applicable`` and
        ``region_code`` columns.
    """
    out = []
    regions = sorted(table.filter(pl.col("group_variable") == REGION)["group_value"].unique())
    for region in regions:
        family = region_family(table, region)
        if family.filter(pl.col("group_variable") == LA).is_empty():
            continue
        if region in hidden_regions:
            # Shown, the authorities would add up to the region the national table hides: a
            # threshold no count reaches hides the whole family (rule 4 of the national table).
            protected = protect_family(
                family, min_cell=2**62, extract_end=extract_end, verify=False
            )
        else:
            protected = protect_family(
                family,
                min_cell=min_cell,
                extract_end=extract_end,
                rounding_base=rounding_base,
                verify=rounding_base <= 1,
            )
        out.append(
            protected.filter(pl.col("group_variable") == LA).with_columns(
                pl.lit(region).alias(REGION)
            )
        )
    if not out:
        return _empty().drop(*FUNNEL_COLUMNS)
    return pl.concat(out)


def region_findings(
    published: pl.DataFrame,
    national: pl.DataFrame,
    *,
    min_cell: int,
    extract_end: dt.date | None,
) -> list[str]:
    """What the intruder narrows below ``min_cell`` in any region's family of published rows.

    Parameters
    ----------
    published
        ``published.la_recurrence``.
    national
        ``published.recurrence_estimates`` (the region rows, the families' totals).
    min_cell, extract_end
        As for :func:`recurrence.survival.intruder.attack`.

    Returns
    -------
    list of str
        ``"<region> <la_code> <cell>"`` for each finding; empty when safe.
    """
    found: list[str] = []
    if published.is_empty():
        return found
    method = primary_method(published)
    las = published.filter(pl.col("method") == method)
    horizons = las["horizon_years"].unique().to_list()
    for (region,), part in las.group_by(REGION, maintain_order=True):
        total = national.filter(
            (pl.col("group_variable") == REGION)
            & (pl.col("group_value") == region)
            & (pl.col("method") == method)
            & pl.col("horizon_years").is_in(horizons)
        ).with_columns(
            pl.lit(OVERALL).alias("group_variable"), pl.lit(OVERALL).alias("group_value")
        )
        family = pl.concat(
            [total.select(part.select(ESTIMATE_COLUMNS).columns), part.select(ESTIMATE_COLUMNS)]
        )
        found += [
            f"{region} {f.group[1]} {f.cell}"
            for f in attack(family, min_cell=min_cell, extract_end=extract_end)
        ]
    return found


def funnel_limits(
    estimate: float, ci_upper: float, n_national: int, n: np.ndarray | float, *, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Control limits for a chance of return in an area of ``n`` mothers.

    The England and Wales Kaplan–Meier estimate *p* (survival *S* = 1 − *p*) and its 95%
    interval are published on the log(−log) scale with Greenwood's variance, so its standard
    error there is ``se = (log(−log(1 − ci_upper)) − log(−log S)) / 1.96``. With the same
    follow-up pattern, Greenwood's variance is inversely proportional to the number of mothers,
    so an area of ``n`` mothers has ``se × √(N / n)``. The limits are ``1 − S^exp(±z se_n)``:
    inside [0, 1], asymmetric as a proportion's should be, and they narrow as ``n`` grows.

    Parameters
    ----------
    estimate, ci_upper
        The England and Wales estimate and its upper 95% limit (both published).
    n_national
        Its mothers at start (published).
    n
        Mothers at start in each area.
    z
        1.96 for the 95% limits, 3.09 for 99.8%.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper limits of the chance of return.

    Examples
    --------
    >>> lo, hi = funnel_limits(0.2, 0.21, 10_000, 10_000, z=1.959964)
    >>> round(float(hi), 4)
    0.21
    """
    s = 1.0 - estimate
    n = np.asarray(n, dtype=float)
    if not 0.0 < s < 1.0 or n_national <= 0:
        # No return at all, or everyone returned: no spread to scale.
        return np.full_like(n, estimate), np.full_like(n, estimate)
    se = (np.log(-np.log(1.0 - ci_upper)) - np.log(-np.log(s))) / Z95
    se_n = se * np.sqrt(n_national / np.maximum(n, 1.0))
    upper = 1.0 - s ** np.exp(z * se_n)
    lower = 1.0 - s ** np.exp(-z * se_n)
    return lower, upper


def position(value: float, lo95: float, hi95: float, lo998: float, hi998: float) -> str:
    """Where a value lies against the funnel limits, in words a reader can quote.

    Examples
    --------
    >>> position(0.3, 0.15, 0.25, 0.12, 0.28)
    'above the 99.8% limit'
    >>> position(0.2, 0.15, 0.25, 0.12, 0.28)
    'within the 95% limits'
    """
    if value > hi998:
        return "above the 99.8% limit"
    if value > hi95:
        return "above the 95% limit"
    if value < lo998:
        return "below the 99.8% limit"
    if value < lo95:
        return "below the 95% limit"
    return "within the 95% limits"


def add_funnel(published: pl.DataFrame, national: pl.DataFrame) -> pl.DataFrame:
    """Funnel limits and position for each published authority row, from published cells only.

    Parameters
    ----------
    published
        The protected authority rows (one or two methods).
    national
        ``published.recurrence_estimates``: its England and Wales row is the target.

    Returns
    -------
    polars.DataFrame
        ``published`` with :data:`FUNNEL_COLUMNS` (null where the authority or the England and
        Wales row is hidden, or the horizon not applicable).
    """
    overall = {
        (r["horizon_years"], r["method"]): r
        for r in national.filter(pl.col("group_variable") == OVERALL).iter_rows(named=True)
    }
    rows = []
    for r in published.iter_rows(named=True):
        values: dict[str, object] = dict.fromkeys(FUNNEL_COLUMNS)
        target = overall.get((r["horizon_years"], r["method"]))
        if r["estimate"] is not None and target is not None and target["estimate"] is not None:
            p, upper, big = target["estimate"], target["ci_upper"], target["n_at_start"]
            lo95, hi95 = funnel_limits(p, upper, big, r["n_at_start"], z=Z95)
            lo998, hi998 = funnel_limits(p, upper, big, r["n_at_start"], z=Z998)
            values = {
                "funnel_lower_95": float(lo95),
                "funnel_upper_95": float(hi95),
                "funnel_lower_998": float(lo998),
                "funnel_upper_998": float(hi998),
                "funnel_position": position(
                    r["estimate"], float(lo95), float(hi95), float(lo998), float(hi998)
                ),
            }
        rows.append(values)
    schema = {c: pl.Float64 for c in FUNNEL_COLUMNS[:-1]} | {"funnel_position": pl.String}
    return pl.concat([published, pl.DataFrame(rows, schema=schema, orient="row")], how="horizontal")


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.execute(f"create schema if not exists {table.split('.')[0]}")
    con.register("_frame", frame.to_arrow())
    try:
        con.execute(f"create or replace table {table} as select * from _frame")
    finally:
        con.unregister("_frame")


@dataclass(frozen=True)
class AreaRelease:
    """What the authority stage wrote, and why not when it wrote nothing."""

    published: pl.DataFrame
    files: tuple[Path, ...]
    left_out: str | None
    authorities: int
    authorities_published: int


def _empty() -> pl.DataFrame:
    schema = (
        {
            "group_variable": pl.String,
            "group_value": pl.String,
            "region_code": pl.String,
            "la_code": pl.String,
            "horizon_years": pl.Int64,
            "estimate": pl.Float64,
            "ci_lower": pl.Float64,
            "ci_upper": pl.Float64,
            "n_at_start": pl.Int64,
            "n_at_risk": pl.Int64,
            "n_events": pl.Int64,
            "method": pl.String,
            "suppressed": pl.Boolean,
            "not_applicable": pl.Boolean,
        }
        | {c: pl.Float64 for c in FUNNEL_COLUMNS[:-1]}
        | {"funnel_position": pl.String}
    )
    return pl.DataFrame(schema=schema)


def build_area_estimates(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Write ``analysis.la_recurrence_estimates`` (unsuppressed; empty without ``la_code``).

    Parameters
    ----------
    con
        Warehouse holding the recurrence cohort.

    Returns
    -------
    polars.DataFrame
        The table written.
    """
    cohort = area_cohort(con)
    table = (
        area_table(cohort)
        if cohort is not None and cohort.height
        else pl.DataFrame(
            schema=estimate_table(pl.DataFrame(), HORIZONS, covariates=()).schema
            | {REGION: pl.String}
        )
    )
    _write(con, ANALYSIS_TABLE, table)
    return table


def publish_area_estimates(
    con: duckdb.DuckDBPyConnection, config: Config, out_dir: Path | None
) -> AreaRelease:
    """Protect the authority rows, add funnel limits, write ``published.la_recurrence`` + CSV.

    Parameters
    ----------
    con
        Warehouse after :func:`build_area_estimates` and the national release
        (``published.recurrence_estimates``).
    config
        Run configuration (``disclosure``).
    out_dir
        Folder for ``la_recurrence.csv``, or None.

    Returns
    -------
    AreaRelease
        The published table, the files written, and a sentence when no authority is published.
    """
    from recurrence.survival.stage import _write_csv

    dc = config.disclosure
    table = con.sql(f"select * from {ANALYSIS_TABLE}").pl()
    if not has_la_code(con):
        left_out = "The extract has no la_code column, so no authority can be shown."
    elif table.is_empty():
        left_out = "No mother is in the recurrence cohort, so no authority can be shown."
    else:
        left_out = None
    if left_out is not None:
        _write(con, PUBLISHED_TABLE, _empty())
        files = (
            (_write_csv(out_dir / CSV_NAME, _empty(), CSV_COLUMNS, dc.symbol),)
            if out_dir is not None and has_la_code(con)
            else ()
        )
        return AreaRelease(_empty(), files, left_out, 0, 0)
    national = con.sql("select * from published.recurrence_estimates").pl()
    hidden_regions = set(
        national.filter((pl.col("group_variable") == REGION) & pl.col("suppressed"))[
            "group_value"
        ].to_list()
    )
    if national.filter((pl.col("group_variable") == OVERALL) & pl.col("suppressed")).height:
        hidden_regions |= set(table[REGION].drop_nulls().to_list())
    protected = protect_areas(
        table,
        hidden_regions=hidden_regions,
        min_cell=dc.min_cell,
        extract_end=extract_end_date(con),
        rounding_base=dc.rounding_base,
    )
    published = (
        add_funnel(protected, national)
        .with_columns(pl.col("group_value").alias(LA))
        .select(_empty().columns)
    )
    _write(con, PUBLISHED_TABLE, published)
    shown = published.filter(~pl.col("suppressed"))[LA].n_unique()
    total = published[LA].n_unique()
    if not shown:
        left_out = (
            f"No authority's chance of return is published: each of the {total} has fewer than "
            f"{dc.min_cell} mothers, mothers still followed or returns in some count, or is "
            "hidden to protect one that has."
        )
    files: tuple[Path, ...] = ()
    if out_dir is not None:
        from recurrence.publish import _save_figure

        files = (_write_csv(out_dir / CSV_NAME, published, CSV_COLUMNS, dc.symbol),)
        figure = funnel_figure(published, national)
        if figure is not None:
            files += tuple(_save_figure(figure, out_dir, FUNNEL_STEM))
    return AreaRelease(published, files, left_out, total, shown)


FUNNEL_STEM = "la_recurrence_funnel"


def funnel_figure(
    published: pl.DataFrame,
    national: pl.DataFrame,
    *,
    horizon: int = max(HORIZONS),
    highlight: str | None = None,
) -> Figure | None:
    """Funnel plot: published authorities' chance of return against their mothers at start.

    Only authorities whose estimate is published are drawn (a point gives its counts back);
    how many are left out is said in words under the axis. The limits are those of
    :func:`funnel_limits`. Numbers appear only on the axes, so a hidden value cannot be read off
    the figure.

    Parameters
    ----------
    published
        ``published.la_recurrence``.
    national
        ``published.recurrence_estimates`` (the England and Wales row is the target).
    horizon
        Years.
    highlight
        An authority to mark (a profile's own), if published.

    Returns
    -------
    matplotlib.figure.Figure or None
        None when the England and Wales estimate is hidden or no authority is published.
    """
    if published.is_empty():
        return None
    method = primary_method(published)
    rows = published.filter(
        (pl.col("horizon_years") == horizon)
        & (pl.col("method") == method)
        & ~pl.col("la_code").str.starts_with(NO_AUTHORITY)
    )
    shown = rows.filter(pl.col("estimate").is_not_null())
    target = national.filter(
        (pl.col("group_variable") == OVERALL)
        & (pl.col("horizon_years") == horizon)
        & (pl.col("method") == method)
    )
    if shown.is_empty() or target.is_empty() or target["estimate"][0] is None:
        return None
    t = target.row(0, named=True)
    n = shown["n_at_start"].to_numpy().astype(float)
    grid = np.linspace(max(n.min() * 0.8, 10.0), n.max() * 1.05, 300)
    fig = Figure(figsize=(8, 4.8), layout="constrained")
    ax = fig.add_subplot()
    for z, style, name in ((Z95, "--", "95% limits"), (Z998, ":", "99.8% limits")):
        lo, hi = funnel_limits(t["estimate"], t["ci_upper"], t["n_at_start"], grid, z=z)
        ax.plot(grid, lo, color="0.2", linestyle=style, linewidth=1.2, label=name)
        ax.plot(grid, hi, color="0.2", linestyle=style, linewidth=1.2)
    ax.axhline(t["estimate"], color="0.0", linewidth=1.2, label="England and Wales")
    ax.scatter(
        n,
        shown["estimate"].to_numpy(),
        s=22,
        facecolor="white",
        edgecolor="black",
        zorder=3,
        label="Authority",
    )
    mine = shown.filter(pl.col("la_code") == highlight) if highlight else shown.clear()
    if mine.height:
        ax.scatter(
            mine["n_at_start"].to_numpy(),
            mine["estimate"].to_numpy(),
            s=70,
            color="black",
            marker="D",
            zorder=4,
            label=str(highlight),
        )
    hidden = rows.height - shown.height
    xlabel = "Mothers in a first observed set of care proceedings in the authority"
    if hidden:
        xlabel += f"\n{hidden} authorities are not shown because their numbers are suppressed."
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"Chance of return within {horizon} years")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_title(f"Chance of return within {horizon} years, by local authority")
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    return fig
