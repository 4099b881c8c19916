"""Reports: the run report, then the run's folder checked as a whole, then the run's one commit.

Every asset that writes files for release writes them into ``reports/.<run_id>.partial/``
(:func:`recurrence.publish.staging_folder`) and is listed in :data:`REPORT_WRITERS`. The last
asset, ``reports/released``, depends on every other asset of the graph, so it runs only when every
step and blocking check before it has passed; it commits the run's warehouse and its report folder
together (:func:`recurrence.safety.commit`): ``reports/<run_id>/``, the warehouse file,
``reports/LATEST_RUN`` and the ``reports/latest`` link.
"""

import hashlib

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.defs.ingest.assets import EXTRACT_INFO, PLAUSIBILITY
from pipelines.defs.outcomes.assets import PUBLISHED as PUBLISHED_OUTCOMES
from pipelines.defs.outcomes.assets import REPORT_FILES as OUTCOME_FILES
from pipelines.defs.profiles.assets import PROFILES, PUBLISHED_AREAS, PUBLISHED_TIMING
from pipelines.defs.rates.assets import PUBLISHED_RATES
from pipelines.defs.rates.assets import REPORT_FILES as RATE_FILES
from pipelines.defs.recurrence.assets import PUBLISHED as PUBLISHED_RECURRENCE
from pipelines.defs.recurrence.assets import SENSITIVITY
from pipelines.defs.resources import RecurrenceResource
from pipelines.failures import user_errors_as_failure
from recurrence.contract import TABLES
from recurrence.publish import released_folder, staging_folder
from recurrence.report import build_report, read_inputs, write_report

GROUP = "reports"
REPORT = dg.AssetKey(["reports", "run_report"])
CONTENTS = dg.AssetKey(["reports", "run_folder_contents"])
RELEASED = dg.AssetKey(["reports", "released"])

#: Every asset that writes into the run's report folder. A new writer is one more line here.
REPORT_WRITERS: list[dg.AssetKey] = [
    RATE_FILES,
    PUBLISHED_RECURRENCE,
    OUTCOME_FILES,
    PUBLISHED_AREAS,
    PUBLISHED_TIMING,
    PROFILES,
    REPORT,
]
#: The assets that check and release what the writers wrote, committing the run.
RELEASE_ASSETS: list[dg.AssetKey] = [CONTENTS, RELEASED]


@dg.asset(
    key=REPORT,
    group_name=GROUP,
    deps=[
        EXTRACT_INFO,
        PLAUSIBILITY,
        *(dg.AssetKey(["staging", t.name]) for t in TABLES),
        dg.AssetKey(["linkage", "summary"]),
        dg.AssetKey(["linkage", "quality"]),
        PUBLISHED_RECURRENCE,
        PUBLISHED_RATES,
        PUBLISHED_OUTCOMES,
    ],
)
def run_report(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """The run report, report.html and report.pdf, written for release in reports/<run_id>/.

    Population and unit: as the published tables it reads (published.recurrence_estimates,
    published.cox_hazard_ratios, published.newborn_rates, published.outcomes), with the ingest
    audit, linkage.summary and linkage.quality. Time window: the whole extract. Every number
    comes from those released tables; nothing from analysis.* is read.
    """
    config = recurrence.load()
    folder = staging_folder(config.paths.reports, context.run_id)
    with user_errors_as_failure(), recurrence.connect() as con:
        inputs = read_inputs(con, config, context.run_id)
    report = build_report(inputs)
    files = write_report(report, folder)
    released = released_folder(config.paths.reports, context.run_id)
    return dg.MaterializeResult(
        metadata={
            "html": dg.MetadataValue.path(str(released / files.html.name)),
            "pdf": dg.MetadataValue.path(str(released / files.pdf.name)),
            "sections": dg.MetadataValue.json([s.title for s in report.sections]),
            "linkage_quality_section": "linkage.quality" in inputs.tables,
        }
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dg.asset(key=CONTENTS, group_name=GROUP, deps=REPORT_WRITERS)
def run_folder_contents(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """Every file this run wrote for release, before release: name, size and SHA-256.

    Population: the files written into reports/.<run_id>.partial/ by the published-table
    assets of this run. Unit: one entry per file. Time window: this run. The blocking checks on
    this asset read every file back (disclosure and identifiers); only then is the folder
    released.
    """
    config = recurrence.load()
    folder = staging_folder(config.paths.reports, context.run_id)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        str(p.relative_to(folder)): {"bytes": p.stat().st_size, "sha256": _sha256(p.read_bytes())}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    return dg.MaterializeResult(
        metadata={"files_count": len(files), "files": dg.MetadataValue.json(files)}
    )


@dg.asset(key=RELEASED, group_name=GROUP, deps=[CONTENTS, SENSITIVITY])
def released(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """The run's commit: reports/<run_id>/ and the warehouse made current together.

    Population and unit: the files listed by reports/run_folder_contents, unchanged, and every
    table of the run's warehouse. Time window: this run. Runs only when every step and blocking
    check of the run before it has passed (the disclosure check over the whole folder last; it
    depends, directly or not, on every other asset). A run that fails or is killed earlier
    leaves the previous warehouse, reports/LATEST_RUN and reports/latest as they were; a kill
    inside the commit is finished or undone by the next run (see recurrence.safety).
    """
    config = recurrence.load()
    with user_errors_as_failure():
        recurrence.commit_run(context, with_report=True)
    final = released_folder(config.paths.reports, context.run_id)
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(final)),
            "files_count": sum(1 for p in final.rglob("*") if p.is_file()),
            "warehouse": dg.MetadataValue.path(str(recurrence.target())),
        }
    )
