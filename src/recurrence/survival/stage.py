"""The recurrence stage's steps over the warehouse: estimates, Cox model, sensitivity, release.

Each function reads ``analysis.recurrence_cohort`` (built by
:func:`recurrence.survival.cohort.build_cohort`), writes one table and returns what the
orchestration reports as metadata.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from recurrence.config import Config
from recurrence.disclosure import NOT_APPLICABLE_SYMBOL
from recurrence.publish import atomic_write
from recurrence.survival.cohort import (
    COHORT_TABLE,
    extract_end_date,
    person_id_cohort,
    read_cohort,
)
from recurrence.survival.cox import COX_COLUMNS, PH_COLUMNS, ZPH_COLUMNS, CoxResult, fit_cox
from recurrence.survival.disclosure import NOT_APPLICABLE_COLUMNS, protect_family
from recurrence.survival.estimates import (
    ESTIMATE_COLUMNS,
    METHOD_AJ,
    METHOD_KM,
    estimate_points,
    estimate_table,
    has_competing_events,
)
from recurrence.survival.intruder import attack
from recurrence.survival.km import horizon_days
from recurrence.survival.zph_bins import (
    BIN_COLUMNS,
    BIN_SCHEMA,
    MONTH_DAYS,
    bin_residuals,
    small_differences,
)

ESTIMATES_TABLE = "analysis.recurrence_estimates"
COX_TABLE = "analysis.cox_hazard_ratios"
PH_TABLE = "analysis.cox_ph_test"
SENSITIVITY_TABLE = "analysis.recurrence_linkage_sensitivity"
PUBLISHED_TABLE = "published.recurrence_estimates"
PUBLISHED_COX_TABLE = "published.cox_hazard_ratios"
#: The proportional-hazards test as released: test statistics per covariate, no counts, so the
#: report can say which covariate was stratified.
PUBLISHED_PH_TABLE = "published.cox_ph_test"
#: Scaled Schoenfeld residuals of the tested fit, one row per return (warehouse only).
ZPH_TABLE = "analysis.cox_zph_residuals"
#: Their binned, disclosure-safe summary (:mod:`recurrence.survival.zph_bins`).
PUBLISHED_ZPH_TABLE = "published.cox_zph_bins"
ZPH_CSV = "cox_zph_bins.csv"
ESTIMATES_CSV = "recurrence_estimates.csv"
COX_CSV = "cox_hazard_ratios.csv"
#: Significant figures of a published hazard ratio and its bounds. lifelines stops Newton's
#: method at a relative change of about 4e-5, so a fifth figure would be noise that moves between
#: library versions and platforms.
RATIO_SIG_FIGS = 4
#: The columns rounded to :data:`RATIO_SIG_FIGS` (p-values keep their precision: a small p-value
#: is read by its order of magnitude, which rounding would not change).
ROUNDED_RATIO_COLUMNS: tuple[str, ...] = ("hazard_ratio", "ci_lower", "ci_upper")
SENSITIVITY_COLUMNS: tuple[str, ...] = (
    "linkage",
    "horizon_years",
    "estimate",
    "ci_lower",
    "ci_upper",
    "n_at_start",
    "n_events",
    "method",
)


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    schema = table.split(".")[0]
    con.execute(f"create schema if not exists {schema}")
    con.register("_frame", frame.to_arrow())
    try:
        con.execute(f"create or replace table {table} as select * from _frame")
    finally:
        con.unregister("_frame")


def build_estimates(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """Write ``analysis.recurrence_estimates`` (unsuppressed) and return it.

    Parameters
    ----------
    con
        Warehouse holding the cohort.
    config
        Run configuration (``recurrence.report_years``).

    Returns
    -------
    polars.DataFrame
        Columns :data:`recurrence.survival.estimates.ESTIMATE_COLUMNS`.
    """
    table = estimate_table(read_cohort(con), config.recurrence.report_years)
    _write(con, ESTIMATES_TABLE, table)
    return table


def build_cox(con: duckdb.DuckDBPyConnection, config: Config) -> CoxResult:
    """Fit the Cox model on the cohort; write ``analysis.cox_hazard_ratios`` and the PH test.

    Parameters
    ----------
    con
        Warehouse holding the cohort.
    config
        Run configuration (``recurrence.horizon_years`` censors follow-up).

    Returns
    -------
    CoxResult
        The fitted model's hazard ratios and proportional-hazards test.
    """
    result = fit_cox(read_cohort(con), horizon_years=config.recurrence.horizon_years)
    _write(con, COX_TABLE, result.hazard_ratios)
    _write(con, PH_TABLE, result.ph_test.select(PH_COLUMNS))
    _write(con, ZPH_TABLE, result.zph_residuals.select(ZPH_COLUMNS))
    return result


def build_sensitivity(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """The headline-horizon estimate with linkage and with ``person_id`` only, side by side.

    Parameters
    ----------
    con
        Warehouse holding the cohort and its inputs.
    config
        Run configuration.

    Returns
    -------
    polars.DataFrame
        Columns :data:`SENSITIVITY_COLUMNS`, one row per linkage (``mother_key``,
        ``person_id``); also written to ``analysis.recurrence_linkage_sensitivity``. Both use
        Aalen–Johansen when either cohort holds a competing event (death), else Kaplan–Meier.
    """
    years = config.recurrence.horizon_years
    rows = []
    cohorts = (
        ("mother_key", read_cohort(con)),
        ("person_id", person_id_cohort(con, config)),
    )
    method = METHOD_AJ if any(has_competing_events(c) for _, c in cohorts) else METHOD_KM
    for name, cohort in cohorts:
        if cohort.is_empty():
            # No mother in the cohort (e.g. every one excluded by the look-back): no estimate.
            continue
        p = estimate_points(cohort, np.array([horizon_days(years)]), method)
        rows.append(
            (
                name,
                years,
                float(p.estimate[0]),
                float(p.ci_lower[0]),
                float(p.ci_upper[0]),
                p.n_at_start,
                int(p.n_events[0]),
                method,
            )
        )
    types = (pl.String, pl.Float64, pl.Float64, pl.Float64, pl.Float64, pl.Int64, pl.Int64)
    schema = dict(zip(SENSITIVITY_COLUMNS, (*types, pl.String), strict=True))
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    _write(con, SENSITIVITY_TABLE, frame)
    return frame


@dataclass(frozen=True)
class Published:
    """What was released: the tables and the files written."""

    estimates: pl.DataFrame
    hazard_ratios: pl.DataFrame
    files: tuple[Path, ...]
    zph_bins: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=BIN_SCHEMA))


def _suppress_cox(ratios: pl.DataFrame, *, min_cell: int) -> pl.DataFrame:
    hide = (pl.col("n_mothers") < min_cell) | (pl.col("n_events") < min_cell)
    values = ["hazard_ratio", "ci_lower", "ci_upper", "p_value"]
    return ratios.with_columns(hide.alias("suppressed")).with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in values
    )


def round_ratios(ratios: pl.DataFrame, *, sig_figs: int = RATIO_SIG_FIGS) -> pl.DataFrame:
    """Round hazard ratios and their confidence bounds to ``sig_figs`` significant figures.

    Parameters
    ----------
    ratios
        Hazard ratios with the columns :data:`ROUNDED_RATIO_COLUMNS` (nulls stay null).
    sig_figs
        Significant figures kept.

    Returns
    -------
    polars.DataFrame
        ``ratios`` with those columns rounded; every other column unchanged.

    Examples
    --------
    >>> frame = pl.DataFrame({"hazard_ratio": [1.234567], "ci_lower": [0.0123456],
    ...                       "ci_upper": [12.34567]})
    >>> round_ratios(frame).row(0)
    (1.235, 0.01235, 12.35)
    """
    return ratios.with_columns(pl.col(c).round_sig_figs(sig_figs) for c in ROUNDED_RATIO_COLUMNS)


def _write_csv(path: Path, frame: pl.DataFrame, columns: tuple[str, ...], symbol: str) -> Path:
    na = (
        frame["not_applicable"].to_list()
        if "not_applicable" in frame.columns
        else [False] * frame.height
    )

    def cell(v: object, column: str, not_applicable: bool) -> object:
        if v is None:
            return (
                NOT_APPLICABLE_SYMBOL
                if not_applicable and column in NOT_APPLICABLE_COLUMNS
                else symbol
            )
        return f"{v:.6g}" if isinstance(v, float) else v

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(columns)
            for row, flag in zip(frame.select(columns).iter_rows(), na, strict=True):
                out.writerow(cell(v, c, flag) for v, c in zip(row, columns, strict=True))

    return atomic_write(path, write)


def publish_estimates(
    con: duckdb.DuckDBPyConnection, config: Config, out_dir: Path | None
) -> Published:
    """Suppress small groups, write the published tables and (if ``out_dir``) the CSV files.

    Estimates: the table family is protected as a whole
    (:func:`recurrence.survival.disclosure.protect_family`: groups hidden at every horizon,
    horizons nobody in a group could reach marked not applicable, interval counts of returns
    protected, counts rounded to ``disclosure.rounding_base`` when set). Hazard ratios: a level
    with fewer than ``disclosure.min_cell`` mothers or returns is hidden; the others and their
    bounds are rounded to :data:`RATIO_SIG_FIGS` significant figures (:func:`round_ratios`) in
    the published table and the CSV alike. Hidden values are null
    in the warehouse and ``disclosure.symbol`` in the CSV files; values that cannot exist are
    null with ``not_applicable`` true and ``[x]`` in the CSV.

    Parameters
    ----------
    con
        Warehouse holding ``analysis.recurrence_estimates``, ``analysis.cox_hazard_ratios`` and
        ``analysis.cox_ph_test`` (released unchanged as ``published.cox_ph_test``).
    config
        Run configuration (``disclosure``).
    out_dir
        Folder for ``recurrence_estimates.csv`` and ``cox_hazard_ratios.csv``, or None.

    Returns
    -------
    Published
        The released tables and the files written.
    """
    min_cell = config.disclosure.min_cell
    estimates = protect_family(
        con.sql(f"select * from {ESTIMATES_TABLE}").pl(),
        min_cell=min_cell,
        extract_end=extract_end_date(con),
        rounding_base=config.disclosure.rounding_base,
    )
    ratios = round_ratios(
        _suppress_cox(con.sql(f"select * from {COX_TABLE}").pl(), min_cell=min_cell)
    )
    _write(con, PUBLISHED_TABLE, estimates)
    _write(con, PUBLISHED_COX_TABLE, ratios.select(*COX_COLUMNS, "suppressed"))
    # Chi-squares, degrees of freedom and p-values of the model, not of a cell: nothing to hide.
    _write(con, PUBLISHED_PH_TABLE, con.sql(f"select * from {PH_TABLE}").pl().select(PH_COLUMNS))
    zph = publish_zph_bins(con, config)
    files: tuple[Path, ...] = ()
    if out_dir is not None:
        symbol = config.disclosure.symbol
        files = (
            _write_csv(out_dir / ESTIMATES_CSV, estimates, ESTIMATE_COLUMNS, symbol),
            _write_csv(out_dir / COX_CSV, ratios, COX_COLUMNS, symbol),
            _write_csv(out_dir / ZPH_CSV, zph, BIN_COLUMNS, symbol),
        )
    return Published(estimates, ratios, files, zph)


def publish_zph_bins(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """Bin the scaled Schoenfeld residuals and write ``published.cox_zph_bins``.

    Every bin holds at least ``disclosure.min_cell`` returns
    (:func:`recurrence.survival.zph_bins.bin_residuals`); counts are hidden when the model's
    returns by a report horizon differ from the cohort's by a small number.

    Parameters
    ----------
    con
        Warehouse holding ``analysis.cox_zph_residuals`` and ``analysis.recurrence_estimates``.
    config
        Run configuration (``disclosure.min_cell``, ``recurrence`` horizons).

    Returns
    -------
    polars.DataFrame
        The published table, columns :data:`recurrence.survival.zph_bins.BIN_COLUMNS`.
    """
    min_cell = config.disclosure.min_cell
    present = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'analysis' and table_name = 'cox_zph_residuals'"
    ).fetchone()
    if not (present and present[0]):
        # A warehouse built before the residuals were kept: nothing to bin.
        _write(con, PUBLISHED_ZPH_TABLE, pl.DataFrame(schema=BIN_SCHEMA))
        return pl.DataFrame(schema=BIN_SCHEMA)
    residuals = con.sql(f"select * from {ZPH_TABLE}").pl()
    overall = (
        con.sql(f"select * from {ESTIMATES_TABLE}")
        .pl()
        .filter(pl.col("group_variable") == "all")
        .unique(["horizon_years"])
    )
    returns = {
        horizon_days(h): int(n)
        for h, n in zip(overall["horizon_years"], overall["n_events"], strict=True)
        if n is not None
    }
    hide = small_differences(residuals, returns, min_cell=min_cell)
    bins = bin_residuals(residuals, min_cell=min_cell, hide_counts=hide)
    _write(con, PUBLISHED_ZPH_TABLE, bins)
    return bins


def count_mothers_not_in_one_row(
    con: duckdb.DuckDBPyConnection, application_types: tuple[str, ...]
) -> dict[str, int]:
    """Mothers in care proceedings without exactly one cohort row, and cohort rows of nobody.

    Parameters
    ----------
    con
        Warehouse holding the cohort, ``linkage.mother_keys`` and ``staging.cases``.
    application_types
        The application types that are care proceedings.

    Returns
    -------
    dict
        ``missing`` (mothers with no row), ``duplicated`` (mothers with several rows) and
        ``unexpected`` (rows whose mother_key is not a mother in care proceedings).
    """
    row = con.execute(
        f"""
        with expected as (
            select distinct k.mother_key
            from linkage.mother_keys as k
            inner join staging.cases as c on k.case_id = c.case_id
            where list_contains($types, c.application_type)
        ),
        counted as (select mother_key, count(*) as n from {COHORT_TABLE} group by mother_key)
        select
            (select count(*) from expected anti join counted using (mother_key)),
            (select count(*) from counted where n > 1),
            (select count(*) from counted anti join expected using (mother_key))
        """,
        {"types": list(application_types)},
    ).fetchone() or (0, 0, 0)
    return {"missing": int(row[0]), "duplicated": int(row[1]), "unexpected": int(row[2])}


def count_bad_follow_up(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Cohort rows whose follow-up is negative, runs past the extract end, or is inconsistent.

    Parameters
    ----------
    con
        Warehouse holding the cohort.

    Returns
    -------
    dict
        ``negative`` (time_days < 0 or null), ``past_extract_end`` (index or event date after the
        censoring date, or time beyond it) and ``inconsistent`` (an event without an event date
        equal to index + time, a competing event (death) without a death date equal to index +
        time, or a censored row not followed to the censoring date).
    """
    row = con.sql(
        f"""
        select
            count(*) filter (where time_days is null or time_days < 0),
            count(*) filter (
                where index_issue_date > censor_date
                or event_issue_date > censor_date
                or index_issue_date + cast(time_days as integer) > censor_date
            ),
            count(*) filter (
                where (event and event_issue_date - index_issue_date != time_days)
                or (competing_event and mother_death_date - index_issue_date != time_days)
                or (competing_event and event)
                or (not event and not competing_event
                    and censor_date - index_issue_date != time_days)
                or (event and event_issue_date <= index_issue_date)
            )
        from {COHORT_TABLE}
        """
    ).fetchone() or (0, 0, 0)
    return {"negative": int(row[0]), "past_extract_end": int(row[1]), "inconsistent": int(row[2])}


def count_non_monotone(estimates: pl.DataFrame) -> int:
    """Groups whose estimate or event count falls as the horizon grows (should be none).

    Parameters
    ----------
    estimates
        Columns :data:`recurrence.survival.estimates.ESTIMATE_COLUMNS` (nulls are skipped).

    Returns
    -------
    int
        Number of (group, horizon) steps where the estimate or ``n_events`` decreases or
        ``n_at_risk`` increases.
    """
    steps = (
        estimates.drop_nulls("estimate")
        .sort("method", "group_variable", "group_value", "horizon_years")
        .with_columns(
            (pl.col(c).diff().over("method", "group_variable", "group_value")).alias(f"d_{c}")
            for c in ("estimate", "n_events", "n_at_risk")
        )
    )
    bad = steps.filter(
        (pl.col("d_estimate") < -1e-12) | (pl.col("d_n_events") < 0) | (pl.col("d_n_at_risk") > 0)
    )
    return bad.height


def count_published_below_min_cell(published: pl.DataFrame, *, min_cell: int) -> int:
    """Published (not hidden) estimates resting on fewer than ``min_cell`` mothers or returns.

    Parameters
    ----------
    published
        Output of :func:`recurrence.survival.disclosure.protect_family`.
    min_cell
        Disclosure threshold.

    Returns
    -------
    int
        Rows with a visible estimate but a count under the threshold (should be none).
    """
    visible = published.filter(pl.col("estimate").is_not_null())
    return visible.filter(
        (pl.col("n_at_start") < min_cell)
        | (pl.col("n_at_risk") < min_cell)
        | (pl.col("n_events") < min_cell)
    ).height


def intruder_findings(
    published: pl.DataFrame, *, min_cell: int, extract_end: dt.date | None
) -> list[str]:
    """Cells of the published estimates an intruder can narrow below ``min_cell``.

    Runs :func:`recurrence.survival.intruder.attack` on each method's rows. Counts rounded to a
    base are not attacked: their partitions no longer add up exactly, which is the protection.

    Parameters
    ----------
    published
        Output of :func:`recurrence.survival.disclosure.protect_family`.
    min_cell
        Disclosure threshold.
    extract_end
        The extract end date (public knowledge).

    Returns
    -------
    list of str
        ``"<method> <variable>=<value> <cell>"`` for each finding (no values): empty when safe.
    """
    found: list[str] = []
    for (method,), part in published.group_by("method", maintain_order=True):
        for f in attack(part, min_cell=min_cell, extract_end=extract_end):
            found.append(f"{method} {f.group[0]}={f.group[1]} {f.cell}")
    return found


def count_zph_bins_below_min_cell(
    con: duckdb.DuckDBPyConnection, *, min_cell: int
) -> dict[str, int]:
    """Published residual bins holding fewer than ``min_cell`` returns, recounted.

    Each bin of ``published.cox_zph_bins`` is recounted from ``analysis.cox_zph_residuals``
    (returns of its term whose whole month of follow-up lies in the bin), so a bin whose
    published count is hidden is checked too.

    Parameters
    ----------
    con
        Warehouse after :func:`publish_estimates`.
    min_cell
        Disclosure threshold.

    Returns
    -------
    dict
        ``bins`` (published) and ``bins_below_min_cell`` (should be 0).
    """
    present = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'published' and table_name = 'cox_zph_bins'"
    ).fetchone()
    if not (present and present[0]):
        return {"bins": 0, "bins_below_min_cell": 0}
    row = con.execute(
        f"""
        with counted as (
            select b.variable, b.bin, count(r.variable) as n
            from {PUBLISHED_ZPH_TABLE} as b
            left join {ZPH_TABLE} as r
                on r.variable = b.variable
                and not isnan(r.beta_t)
                and floor(r.time_days / $month) >= b.time_from_months
                and floor(r.time_days / $month) < b.time_to_months
            group by all
        )
        select count(*), count(*) filter (where n < $m) from counted
        """,
        {"month": MONTH_DAYS, "m": min_cell},
    ).fetchone() or (0, 0)
    return {"bins": int(row[0]), "bins_below_min_cell": int(row[1])}
