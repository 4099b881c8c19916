"""Checks on the run report: nothing hidden by disclosure control appears in it."""

from pathlib import Path

import dagster as dg
from dagster import AssetCheckExecutionContext

from pipelines.defs.report.assets import REPORT
from pipelines.defs.resources import RecurrenceResource
from recurrence.report import hidden_values, leaked_values, report_text
from recurrence.report.write import HTML_NAME, PDF_NAME

NO_HIDDEN_VALUE = "no_hidden_value_in_report"


@dg.asset_check(
    asset=REPORT,
    name=NO_HIDDEN_VALUE,
    blocking=True,
    description="No value hidden by disclosure control appears in the HTML report or its figures.",
)
def no_hidden_value_in_report(
    context: AssetCheckExecutionContext, recurrence: RecurrenceResource
) -> dg.AssetCheckResult:
    """Search the report's text and figure text for every hidden value, as the report writes it.

    The PDF is rendered from the same content and figures; its text is checked by the tests.
    """
    config = recurrence.load()
    folder = Path(config.paths.reports) / context.run.run_id
    html = folder / HTML_NAME
    with recurrence.connect() as con:
        forbidden = hidden_values(con)
    leaks = leaked_values(report_text(html.read_text(encoding="utf-8")), forbidden)
    return dg.AssetCheckResult(
        passed=not leaks and (folder / PDF_NAME).stat().st_size > 0,
        metadata={"hidden_values_searched": len(forbidden), "hidden_values_found": len(leaks)},
    )
