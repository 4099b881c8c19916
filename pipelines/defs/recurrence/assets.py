"""Recurrence: mothers returning to court with another set of care proceedings."""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from pipelines.catalog import asset_args
from pipelines.defs.resources import RecurrenceResource
from pipelines.failures import user_errors_as_failure
from recurrence import catalog
from recurrence.publish import staging_folder
from recurrence.survival import (
    CI_TRANSFORM,
    CI_TRANSFORM_AJ,
    build_cohort,
    build_cox,
    build_estimates,
    build_sensitivity,
    primary_method,
    publish_estimates,
)


@dg.asset(**asset_args(catalog.COHORT))
def recurrence_cohort(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Birth mothers in a first observed set of care proceedings, and their first return.

    Population: every mother_key in care proceedings (ingest.care_application_types); in_cohort
    marks those whose index set is after the look-back (recurrence.lookback_years from the start
    of the data) and who have follow-up (index issue date before the extract end). Unit: one
    row per mother with index case, event case, time in days, event flag (recurrence.event) and
    covariates at index. Time window: index issue date to the extract end
    date (censoring).
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        s = build_cohort(con, config)
    return dg.MaterializeResult(
        metadata={
            "mothers": s.mothers,
            "mothers_in_cohort": s.in_cohort,
            "mothers_excluded_by_lookback": s.excluded_by_lookback,
            # Index issue date on the extract end date: no day of follow-up, so excluded.
            "mothers_excluded_zero_follow_up": s.zero_follow_up,
            "returns": s.events,
            "event": config.recurrence.event,
            "lookback_years": config.recurrence.lookback_years,
            "extract_end_date": s.extract_end_date.isoformat(),
            # The optional competing event (raw.case_people.mother_death_date): mother rows by
            # parse status (invalid and after-extract-end dates are not used), implausible
            # deaths before the index set, and deaths ending follow-up before a return.
            "mother_death_date_column": s.death_column,
            "mother_death_date_rows": dg.MetadataValue.json(s.death_rows),
            "mother_death_dates_invalid": s.death_rows.get("invalid", 0),
            "mother_death_dates_after_extract_end": s.death_rows.get("after_extract_end", 0),
            "mother_deaths_before_index": s.deaths_before_index,
            "competing_events": s.competing_events,
            "returns_after_recorded_death": s.returns_after_death,
        }
    )


@dg.asset(**asset_args(catalog.ESTIMATES))
def recurrence_estimates(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Chance of return by each horizon, overall and by covariate (unsuppressed).

    Kaplan–Meier; Aalen–Johansen (with naive 1 − KM beside it) where the extract records
    mothers' deaths and any ends follow-up before a return.

    Population: mothers in analysis.recurrence_cohort with in_cohort. Unit: one row per group
    (all, or one level of a covariate) and horizon (recurrence.report_years), with the
    cumulative probability of return, its 95% confidence interval, mothers at start, still at
    risk and returned. Time window: from each mother's index issue date up to each horizon.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        table = build_estimates(con, config)
    method = primary_method(table)
    headline = table.filter(
        (table["group_variable"] == "all")
        & (table["horizon_years"] == config.recurrence.horizon_years)
        & (table["method"] == method)
    )
    return dg.MaterializeResult(
        metadata={
            "rows": table.height,
            "headline_estimate": float(headline["estimate"][0]) if headline.height else -1.0,
            "horizon_years": config.recurrence.horizon_years,
            "method": method,
            "ci_transform": CI_TRANSFORM_AJ if method == "aalen_johansen" else CI_TRANSFORM,
        }
    )


@dg.asset(**asset_args(catalog.COX))
def cox_hazard_ratios(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Cox model of return: hazard ratios of each covariate level at index, with PH check.

    Population: mothers in analysis.recurrence_cohort with in_cohort and no unknown covariate.
    Unit: one row per covariate level against its reference, with hazard ratio, 95% CI and
    p-value; the proportional-hazards test is in analysis.cox_ph_test. Time window: index
    issue date to recurrence.horizon_years later (censored there) or the extract end.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        result = build_cox(con, config)
    return dg.MaterializeResult(
        metadata={
            "rows": result.hazard_ratios.height,
            "mothers": result.n_mothers,
            "returns": result.n_events,
            "stratified_for_non_proportional_hazards": dg.MetadataValue.json(
                list(result.stratified)
            ),
            "smallest_ph_p_value": float(result.ph_test["p_value"].min() or 1.0),
        }
    )


@dg.asset(**asset_args(catalog.SENSITIVITY))
def recurrence_linkage_sensitivity(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """The headline chance of return with linkage beside person_id-only linkage.

    Population: mothers in care proceedings after the look-back, identified by mother_key
    and, for comparison, by person_id alone. Unit: one row per identification, with the
    Kaplan–Meier estimate at recurrence.horizon_years, 95% CI, mothers and returns. Time window:
    index issue date to the horizon.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        frame = build_sensitivity(con, config)
    values = dict(zip(frame["linkage"], frame["estimate"], strict=True))
    # An empty cohort has no estimate for either identification, so no difference either.
    both = {"mother_key", "person_id"} <= values.keys()
    return dg.MaterializeResult(
        metadata={f"estimate_{k}": float(v) for k, v in values.items()}
        | ({"difference": float(values["mother_key"] - values["person_id"])} if both else {})
    )


@dg.asset(**asset_args(catalog.PUBLISHED_RECURRENCE))
def published_recurrence_estimates(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """Released chance of return and hazard ratios, with small groups suppressed.

    Population: as analysis.recurrence_estimates and analysis.cox_hazard_ratios. Unit: one row
    per group and horizon; a row resting on fewer than disclosure.min_cell mothers, mothers at
    risk or returns is hidden, with secondary suppression. Time window: up to each horizon.
    The scaled Schoenfeld residuals of the PH test are released only as bins of at least
    disclosure.min_cell returns (published.cox_zph_bins). Also written as
    recurrence_estimates.csv, cox_hazard_ratios.csv and cox_zph_bins.csv into the run's report
    folder (reports/<run_id>/ once released).
    """
    config = recurrence.load()
    out_dir = staging_folder(config.paths.reports, context.run_id)
    with user_errors_as_failure(), recurrence.connect() as con:
        published = publish_estimates(con, config, out_dir)
    return dg.MaterializeResult(
        metadata={
            "rows": published.estimates.height,
            "rows_suppressed": int(published.estimates["suppressed"].sum()),
            "hazard_ratios_suppressed": int(published.hazard_ratios["suppressed"].sum()),
            # Bins of scaled Schoenfeld residuals (each at least min_cell returns), per term.
            "schoenfeld_bins": published.zph_bins.height,
            "min_cell": config.disclosure.min_cell,
            "files": dg.MetadataValue.json([p.name for p in published.files]),
            # Taken from the released table, so only published numbers reach the metadata.
            "headline": dg.MetadataValue.json(
                {
                    f"{row['method']}, {row['horizon_years']} years": {
                        k: row[k] for k in ("estimate", "ci_lower", "ci_upper")
                    }
                    for row in published.estimates.filter(
                        (pl.col("group_variable") == "all")
                        & (pl.col("horizon_years") == config.recurrence.horizon_years)
                    ).iter_rows(named=True)
                }
            ),
        }
    )
