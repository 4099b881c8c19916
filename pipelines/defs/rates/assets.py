"""Rates: newborns and infants in care proceedings per 10,000 live births, and what is released."""

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.catalog import asset_args
from pipelines.defs.resources import RecurrenceResource
from pipelines.failures import user_errors_as_failure
from recurrence import catalog
from recurrence.checking_pack import record_suppression
from recurrence.ingest.extract import extract_is_synthetic
from recurrence.publish import released_folder, staging_folder, write_outputs
from recurrence.rates import (
    build_live_births,
    build_newborn_children,
    build_newborn_rates,
    headline_rates,
    publish_newborn_rates,
    write_published,
)
from recurrence.rates.precision import (
    build_precision_bounds,
    publish_precision_bounds,
    write_precision_csv,
    write_published_bounds,
)


@dg.asset(**asset_args(catalog.NEWBORN_CHILDREN))
def newborn_children(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Children in care proceedings, aged at entry and placed in a year.

    Population: every child row of staging.case_people in a set of care proceedings
    (ingest.care_application_types). Unit: one row per child per set, with age at entry in days
    (issue date minus birth date; 0 when born after the issue date) and the financial or calendar
    year of the issue date; `counted` marks the first set of each child in each year. A child
    is identified by its linked birth (linkage.child_births), else by its mother (mother_key)
    and date of birth, else by its person_id, so a child with two person_ids counts once. Time
    window: the whole extract.
    Children without a birth date are kept with a null age.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        s = build_newborn_children(con, config.rates, config.ingest.care_application_types)
    return dg.MaterializeResult(
        metadata={
            "rows": s.rows,
            "children_counted": s.counted,
            "children_without_birth_date": s.without_birth_date,
            "children_added_at_birth": s.added_at_birth,
            "children_identified_by_birth": s.identified_by_birth,
            "children_with_two_ids_merged": s.merged_ids,
            # Children dated to a week (Cafcass): their newborn status has lower/upper counts.
            "children_dated_to_a_week": s.dated_to_a_week,
            "year_type": config.rates.year_type,
        }
    )


@dg.asset(**asset_args(catalog.LIVE_BIRTHS_BY_YEAR))
def live_births_by_region_year(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Live births by the mother's region (and local authority) of residence and year.

    Population: live births in staging.live_births when supplied, otherwise counted from
    staging.births. Unit: one row per region (la_code null) or local authority per year, with
    its source. Time window: every year with births; financial years from calendar-year totals
    take three quarters of year Y and one quarter of year Y+1.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        sources = build_live_births(con, config.rates)
    return dg.MaterializeResult(metadata={"rows_by_source": dg.MetadataValue.json(sources)})


@dg.asset(**asset_args(catalog.NEWBORN_RATES))
def newborn_rates(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Newborns and infants in care proceedings per 10,000 live births, unsuppressed.

    Population: children counted in analysis.newborn_children, over live births. Unit: one row
    per geography (England and Wales, country, region, local authority) x year x age band, with
    children, live births, the rate and its 95% interval. Time window: whole years covered by
    the extract. For the warehouse only: never released as it stands.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        table = build_newborn_rates(con, config.rates)
        bounds = build_precision_bounds(con, config.rates)
    years = sorted(table["year"].unique().to_list())
    return dg.MaterializeResult(
        metadata={
            "rows": table.height,
            "years": f"{years[0]} to {years[-1]}" if years else "(none)",
            "ci_method": config.rates.ci_method,
            "children_dated_to_a_week": int(bounds["n_children_dated_to_a_week"].max() or 0),
        }
    )


@dg.asset(**asset_args(catalog.PUBLISHED_RATES))
def published_newborn_rates(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """The releasable newborn and infant rates, after disclosure control.

    Population and unit as analysis.newborn_rates: one row per geography x year x age band.
    Counts under disclosure.min_cell (and zeros) are suppressed, with secondary suppression so
    no hidden count can be worked out from totals; rates and intervals of hidden counts are
    hidden. Time window: whole years covered by the extract.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        rates = con.sql("select * from analysis.newborn_rates").pl()
        table, stats = publish_newborn_rates(
            rates, config.disclosure, ci_method=config.rates.ci_method
        )
        write_published(con, table)
        # The lower/upper newborn counts where dates are known to the week, released beside.
        bounds, bound_stats = publish_precision_bounds(
            con.sql("select * from analysis.newborn_precision").pl(), config.disclosure
        )
        write_published_bounds(con, bounds)
        # Kept for the output-checking pack written with the release.
        record_suppression(con, "published.newborn_rates", **stats, unit="cells")
        record_suppression(con, "published.newborn_precision", **bound_stats, unit="cells")
    return dg.MaterializeResult(
        metadata={
            "rows": table.height,
            "cells_suppressed_primary": stats["primary"],
            "cells_suppressed_secondary": stats["secondary"],
            "precision_cells_suppressed_primary": bound_stats["primary"],
            "precision_cells_suppressed_secondary": bound_stats["secondary"],
            "min_cell": config.disclosure.min_cell,
            # Taken from the released table, so only published numbers reach the metadata.
            "headline": dg.MetadataValue.json(headline_rates(table)),
        }
    )


@dg.asset(**asset_args("reports.newborn_rates"))
def newborn_rate_files(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """The released files: newborn_rates.csv, newborn_rates.xlsx, newborn_precision.csv, figures.

    Population and unit as published.newborn_rates (one CSV row per geography x year x age
    band), written only after every blocking disclosure check on the published table has
    passed, into reports/.<run_id>.partial/; reports/released moves the folder to
    reports/<run_id>/ after the checks over the whole folder. Time window: whole years covered
    by the extract.
    """
    config = recurrence.load()
    folder = staging_folder(config.paths.reports, context.run_id)
    with user_errors_as_failure(), recurrence.connect() as con:
        table = con.sql("select * from published.newborn_rates").pl()
        bounds = con.sql("select * from published.newborn_precision").pl()
        synthetic = extract_is_synthetic(con.sql("select * from audit.extract_info").pl())
    files = write_outputs(table, folder, config, synthetic=synthetic)
    # Only where some child is dated to a week (Cafcass): otherwise the bounds are the counts.
    extra = (
        [write_precision_csv(bounds, folder, symbol=config.disclosure.symbol)]
        if bounds.height
        else []
    )
    return dg.MaterializeResult(
        metadata={
            "folder_when_released": dg.MetadataValue.path(
                str(released_folder(config.paths.reports, context.run_id))
            ),
            "files": dg.MetadataValue.json([p.name for p in [*files.all, *extra]]),
            "rows": table.height,
            "headline": dg.MetadataValue.json(headline_rates(table)),
        }
    )
