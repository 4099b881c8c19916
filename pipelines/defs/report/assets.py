"""The run report: HTML and PDF built from the run's published tables."""

from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.defs.ingest.assets import EXTRACT_INFO
from pipelines.defs.resources import RecurrenceResource
from pipelines.failures import user_errors_as_failure
from recurrence.contract import TABLES
from recurrence.report import build_report, read_inputs, write_report

GROUP = "reports"
REPORT = dg.AssetKey(["reports", "run_report"])
DEPS = [
    EXTRACT_INFO,
    *(dg.AssetKey(["staging", t.name]) for t in TABLES),
    dg.AssetKey(["linkage", "summary"]),
    dg.AssetKey(["published", "recurrence_estimates"]),
    dg.AssetKey(["published", "newborn_rates"]),
    # The rate files are in the run's folder before it is copied to reports/latest/.
    dg.AssetKey(["reports", "newborn_rates"]),
]


@dg.asset(key=REPORT, group_name=GROUP, deps=DEPS)
def run_report(
    context: AssetExecutionContext, recurrence: RecurrenceResource
) -> dg.MaterializeResult:
    """reports/<run_id>/report.html and report.pdf, and reports/latest/ refreshed.

    Population and unit: as the published tables it reads (published.recurrence_estimates,
    published.cox_hazard_ratios, published.newborn_rates), with the ingest audit and
    linkage.summary (and linkage.quality when present). Time window: the whole extract. Every
    number comes from those released tables; nothing from analysis.* is read.
    """
    config = recurrence.load()
    folder = Path(config.paths.reports) / context.run_id
    with user_errors_as_failure(), recurrence.connect() as con:
        inputs = read_inputs(con, config, context.run_id)
    report = build_report(inputs)
    files = write_report(report, folder)
    return dg.MaterializeResult(
        metadata={
            "html": dg.MetadataValue.path(str(files.html)),
            "pdf": dg.MetadataValue.path(str(files.pdf)),
            "latest": dg.MetadataValue.path(str(files.latest)),
            "sections": dg.MetadataValue.json([s.title for s in report.sections]),
            "linkage_quality_section": "linkage.quality" in inputs.tables,
        }
    )
