"""Assets of local-area figures: authority chance of return (22.1) and pre-birth timing (22.5)."""

import time

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.catalog import asset_args
from pipelines.defs.resources import RecurrenceResource
from pipelines.failures import user_errors_as_failure
from recurrence import catalog
from recurrence.profiles.areas import build_area_estimates, publish_area_estimates
from recurrence.profiles.profile import FOLDER, read_published, write_all_profiles
from recurrence.profiles.timing import publish_timing
from recurrence.publish import staging_folder


@dg.asset(**asset_args(catalog.LA_ESTIMATES))
def la_recurrence_estimates(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Chance of return at 5 and 7 years overall, by region and by local authority (unsuppressed).

    Population: mothers in analysis.recurrence_cohort with in_cohort. Unit: one row per group
    (all, region, or the authority of the index set; none:<region> where it names none) and
    horizon. Time window: index issue date to each horizon. Empty without cases.la_code.
    """
    with user_errors_as_failure(), recurrence.connect() as con:
        table = build_area_estimates(con)
    return dg.MaterializeResult(metadata={"rows": table.height})


@dg.asset(**asset_args(catalog.PUBLISHED_LA))
def published_la_recurrence(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """Released chance of return by local authority, with funnel limits; la_recurrence.csv.

    Population and unit: as analysis.la_recurrence_estimates, authority rows only. Each region
    is protected as a family of its authorities; a region hidden nationally hides them all.
    Time window: up to each horizon. Also written to the run's report folder.
    """
    config = recurrence.load()
    out_dir = staging_folder(config.paths.reports, context.run_id)
    with user_errors_as_failure(), recurrence.connect() as con:
        release = publish_area_estimates(con, config, out_dir)
    return dg.MaterializeResult(
        metadata={
            "authorities": release.authorities,
            "authorities_published": release.authorities_published,
            # Why no authority is shown, when none is (no la_code, or all suppressed).
            "left_out": release.left_out or "",
            "files": dg.MetadataValue.json([p.name for p in release.files]),
        }
    )


@dg.asset(**asset_args(catalog.PUBLISHED_TIMING))
def published_newborn_timing(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """Newborns by days from birth to issue, by region and year; newborn_timing.csv.

    Population: newborns counted in analysis.newborn_children (counted and newborn; those
    issued before birth are newborns aged 0). Unit: one row per region, country or England and
    Wales and year, with the numbers issued before birth, 0-6 and 7+ days after. Time window:
    the whole years of published.newborn_rates.
    """
    config = recurrence.load()
    out_dir = staging_folder(config.paths.reports, context.run_id)
    with user_errors_as_failure(), recurrence.connect() as con:
        release = publish_timing(con, config, out_dir)
    return dg.MaterializeResult(
        metadata={
            "rows": release.published.height,
            "rows_suppressed": int(release.published["suppressed"].sum()),
            "left_out": release.left_out or "",
            "files": dg.MetadataValue.json([p.name for p in release.files]),
        }
    )


@dg.asset(**asset_args(catalog.LA_PROFILES))
def la_profiles(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """One HTML and PDF profile per local authority, in profiles/ of the run's report folder.

    Population and unit: every authority with a row in published.la_recurrence or the
    local-authority rows of published.newborn_rates; one profile each. Reads published tables
    only. Time window: the whole extract. An authority whose figures are suppressed, or an
    extract without la_code, gets sentences saying why instead of numbers.
    """
    config = recurrence.load()
    folder = staging_folder(config.paths.reports, context.run_id) / FOLDER
    with user_errors_as_failure(), recurrence.connect() as con:
        published = read_published(con, context.run_id)
    start = time.perf_counter()
    written = write_all_profiles(published, config, folder)
    return dg.MaterializeResult(
        metadata={
            "profiles": len(written),
            # The target: all profiles of a national run in under two minutes.
            "seconds": round(time.perf_counter() - start, 1),
        }
    )
