"""Outcomes: how care proceedings end (removal, home or family, ongoing), for whom, how fast."""

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.catalog import asset_args
from pipelines.defs.resources import RecurrenceResource
from pipelines.failures import user_errors_as_failure
from recurrence import catalog
from recurrence.checking_pack import record_suppression
from recurrence.outcomes import build_case_outcomes, key_outcome_figures
from recurrence.outcomes.stage import build_proportions, publish, write_outcomes_csv
from recurrence.publish import staging_folder


@dg.asset(**asset_args(catalog.CASE_OUTCOMES))
def case_outcomes(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Every set of proceedings classed as removal, home or family, ongoing or not recorded.

    Population: every case of staging.cases (care_proceedings marks those of
    ingest.care_application_types, the only ones published). Unit: one row per case, with its
    outcome class (mapping in [outcomes]), weeks from issue to final hearing, year of issue,
    and for care proceedings the mother's history (index, returning, no mother recorded) and
    whether an earlier set of hers ended in removal before this one was issued (mothers by
    linkage.mother_keys). Time window: the whole extract.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        s = build_case_outcomes(con, config)
    return dg.MaterializeResult(
        metadata={
            "cases": s.cases,
            "care_proceedings": s.care_cases,
            "by_class": dg.MetadataValue.json(s.by_class),
            "by_mother_history": dg.MetadataValue.json(s.by_mother_history),
            "by_previous_removal": dg.MetadataValue.json(s.by_previous_removal),
            "outcome_classes": dg.MetadataValue.json(config.outcomes.classes()),
        }
    )


@dg.asset(**asset_args(catalog.PROPORTIONS))
def outcome_proportions(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Shares of proceedings ending in removal or at home, and time to the final hearing.

    Population: care proceedings in analysis.case_outcomes. Unit: one row per area (England
    and Wales, country, region) x year of issue (and all years) x group x measure, with
    numerator, denominator, proportion and 95% Wilson interval, or quartile of weeks; the
    counts behind it are in analysis.outcome_cells. Time window: every year of issue; the
    target share counts sets issued at least outcomes.target_weeks before the extract end.
    For the warehouse only: never released as it stands.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        table = build_proportions(con, config)
    return dg.MaterializeResult(
        metadata={"rows": table.height, "target_weeks": config.outcomes.target_weeks}
    )


@dg.asset(**asset_args(catalog.PUBLISHED_OUTCOMES))
def published_outcomes(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """The releasable outcomes table, after disclosure control.

    Population and unit as analysis.outcome_proportions. Counts under disclosure.min_cell are
    hidden (zeros too, except zeros of ongoing or not-recorded), with secondary suppression
    verified so that no hidden count can be worked out from totals; proportions and intervals
    of a hidden numerator or denominator are hidden. Time window: every year of issue.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        result = publish(con, config)
        # Kept for the output-checking pack written with the release.
        record_suppression(
            con,
            "published.outcomes",
            primary=result.primary,
            secondary=result.secondary,
            unit="counts",
        )
    figures = key_outcome_figures(result.table)
    return dg.MaterializeResult(
        metadata={
            "rows": result.table.height,
            "rows_suppressed": int(result.table["suppressed"].sum()),
            "counts_suppressed_primary": result.primary,
            "counts_suppressed_secondary": result.secondary,
            "min_cell": config.disclosure.min_cell,
            # Taken from the released table, so only published numbers reach the metadata.
            "home_or_family_all_years": figures.home.text(),
            "within_target_all_years": figures.within_target.text(),
        }
    )


@dg.asset(**asset_args("reports.outcomes"))
def outcome_files(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """The released file outcomes.csv, written only after the disclosure checks pass.

    Population and unit as published.outcomes (one CSV row per area x year x group x
    measure, hidden values as disclosure.symbol); written into the run's staging folder and
    released with the rest of reports/<run_id>/. Time window: every year of issue.
    """
    config = recurrence.load()
    folder = staging_folder(config.paths.reports, context.run_id)
    with user_errors_as_failure(), recurrence.connect() as con:
        table = con.sql("select * from published.outcomes").pl()
    path = write_outcomes_csv(table, folder, symbol=config.disclosure.symbol)
    return dg.MaterializeResult(metadata={"file": dg.MetadataValue.path(str(path))})
