"""Reports: the run report, then the run's folder checked as a whole, then the run's one commit.

Every asset that writes files for release writes them into ``reports/.<run_id>.partial/``
(:func:`recurrence.publish.staging_folder`) and declares its files in the catalog
(:data:`REPORT_WRITERS` is derived from those declarations). The last asset,
``reports/released``, depends on every other asset of the graph, so it runs only when every step
and blocking check before it has passed; it commits the run's warehouse and its report folder
together (:func:`recurrence.safety.commit`): ``reports/<run_id>/``, the warehouse file,
``reports/LATEST_RUN`` and the ``reports/latest`` link.
"""

import hashlib

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.catalog import asset_args, key
from pipelines.defs.resources import RecurrenceResource
from pipelines.failures import user_errors_as_failure
from recurrence import catalog
from recurrence.checking_pack import PACK_NAME, write_checking_pack
from recurrence.publish import released_folder, staging_folder
from recurrence.report import build_report, read_inputs, write_report

#: Every asset that writes into the run's report folder: the catalog's datasets with files.
REPORT_WRITERS: list[dg.AssetKey] = [key(d.name) for d in catalog.release_writers()]
#: The assets that check and release what the writers wrote, committing the run.
RELEASE_ASSETS: list[dg.AssetKey] = [key(catalog.RUN_FOLDER_CONTENTS), key(catalog.RELEASED)]


@dg.asset(**asset_args(catalog.RUN_REPORT))
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


@dg.asset(**asset_args(catalog.RUN_FOLDER_CONTENTS))
def run_folder_contents(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """Every file this run wrote for release, before release: name, size and SHA-256.

    Writes the output-checking pack (output_checking.md: each file's contents, disclosure
    rules, hidden cells and intruder verdict; recurrence.checking_pack) first, so it is listed.

    Population: the files written into reports/.<run_id>.partial/ by the published-table
    assets of this run. Unit: one entry per file. Time window: this run. The blocking checks on
    this asset read every file back (disclosure and identifiers); only then is the folder
    released.
    """
    config = recurrence.load()
    folder = staging_folder(config.paths.reports, context.run_id)
    folder.mkdir(parents=True, exist_ok=True)
    # The output-checking pack describes every file written so far; it is written before the
    # blocking checks on this asset, so they read it back like every other released file.
    with user_errors_as_failure(), recurrence.connect() as con:
        write_checking_pack(con, folder, config, run_id=context.run_id)
    files = {
        str(p.relative_to(folder)): {"bytes": p.stat().st_size, "sha256": _sha256(p.read_bytes())}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    return dg.MaterializeResult(
        metadata={
            "files_count": len(files),
            "files": dg.MetadataValue.json(files),
            "output_checking_pack": PACK_NAME,
        }
    )


@dg.asset(**asset_args(catalog.RELEASED))
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
