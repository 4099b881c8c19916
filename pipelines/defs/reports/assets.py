"""Release: the run's report folder, checked as a whole and then moved into place in one rename.

Every asset that writes files for release writes them into ``reports/.<run_id>.partial/``
(:func:`recurrence.publish.staging_folder`) and is listed in :data:`REPORT_WRITERS`; the folder
becomes ``reports/<run_id>/`` only after the blocking checks on :data:`CONTENTS` pass.
"""

import hashlib

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.defs.rates.assets import REPORT_FILES
from pipelines.defs.recurrence.assets import PUBLISHED as PUBLISHED_RECURRENCE
from pipelines.defs.resources import RecurrenceResource
from recurrence.publish import release_folder, staging_folder

GROUP = "reports"
CONTENTS = dg.AssetKey(["reports", "run_folder_contents"])
RELEASED = dg.AssetKey(["reports", "released"])

#: Every asset that writes into the run's report folder. A new writer is one more line here.
REPORT_WRITERS: list[dg.AssetKey] = [
    REPORT_FILES,
    PUBLISHED_RECURRENCE,
]


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


@dg.asset(key=RELEASED, group_name=GROUP, deps=[CONTENTS])
def released(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """The released report folder reports/<run_id>/, complete, moved into place in one rename.

    Population and unit: the files listed by reports/run_folder_contents, unchanged. Time
    window: this run. Exists only when every blocking check of the run up to here has passed,
    the disclosure check over the whole folder last; a run that fails or is killed earlier
    leaves only a hidden reports/.<run_id>.partial/ folder, never a partial release.
    """
    config = recurrence.load()
    final = release_folder(config.paths.reports, context.run_id)
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(final)),
            "files_count": sum(1 for p in final.rglob("*") if p.is_file()),
        }
    )
