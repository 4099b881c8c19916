"""Blocking checks of the reports stage: nothing hidden in the report, the whole folder safe."""

import dagster as dg
from dagster import AssetCheckExecutionContext

from pipelines.catalog import key
from pipelines.defs.resources import RecurrenceResource
from recurrence import catalog
from recurrence.publish import staging_folder
from recurrence.release import scan_for_identifiers, scan_release_folder
from recurrence.report import (
    audit_report,
    build_report,
    read_inputs,
    released_tables,
    report_text,
)
from recurrence.report.audit import audit_released_csvs, built_time
from recurrence.report.write import HTML_NAME, PDF_NAME

CONTENTS = key(catalog.RUN_FOLDER_CONTENTS)
REPORT = key(catalog.RUN_REPORT)

NO_HIDDEN_VALUE = "no_hidden_value_in_report"
FOLDER_PASSES_DISCLOSURE = "whole_folder_passes_disclosure"
NO_IDENTIFIERS = "no_identifier_in_any_file"
CSV_CELLS_RELEASED = "csv_cells_are_released_cells"
_SHOWN = 20


@dg.asset_check(
    asset=CONTENTS,
    name=FOLDER_PASSES_DISCLOSURE,
    blocking=True,
    description=(
        "Every count in every CSV and spreadsheet of the run's report folder is suppressed or "
        "at least disclosure.min_cell, and every file is of a kind that can be checked."
    ),
)
def whole_folder_passes_disclosure(
    context: AssetCheckExecutionContext, recurrence: RecurrenceResource
) -> dg.AssetCheckResult:
    """Fail when any released file shows a small count or cannot be read back."""
    config = recurrence.load()
    folder = staging_folder(config.paths.reports, context.run.run_id)
    found = scan_release_folder(
        folder, min_cell=config.disclosure.min_cell, symbol=config.disclosure.symbol
    )
    return dg.AssetCheckResult(
        passed=found.safe,
        metadata={
            "files_checked": found.files,
            "small_counts_visible": len(found.small_counts),
            "where": dg.MetadataValue.json(found.small_counts[:_SHOWN]),
            "files_of_unknown_kind": dg.MetadataValue.json(found.unreadable),
            "min_cell": config.disclosure.min_cell,
        },
    )


@dg.asset_check(
    asset=CONTENTS,
    name=NO_IDENTIFIERS,
    blocking=True,
    description=(
        "No file of the run's report folder contains any id or name hash read from the extract "
        "(every raw row, quarantined ones included)."
    ),
)
def no_identifier_in_any_file(
    context: AssetCheckExecutionContext, recurrence: RecurrenceResource
) -> dg.AssetCheckResult:
    """Fail when an identifier value from the extract appears in a file about to be released."""
    config = recurrence.load()
    folder = staging_folder(config.paths.reports, context.run.run_id)
    with recurrence.connect() as con:
        found, columns = scan_for_identifiers(folder, con)
    return dg.AssetCheckResult(
        passed=not found,
        metadata={
            "identifier_columns_searched": columns,
            "files_with_identifiers": dg.MetadataValue.json(found),
        },
    )


@dg.asset_check(
    asset=REPORT,
    name=NO_HIDDEN_VALUE,
    blocking=True,
    description=(
        "By identity: no number in the HTML report or its figures is a cell hidden by "
        "disclosure control, every published cell it shows is as released, and every number "
        "in it was written through the report's number registry."
    ),
)
def no_hidden_value_in_report(
    context: AssetCheckExecutionContext, recurrence: RecurrenceResource
) -> dg.AssetCheckResult:
    """Rebuild the report's content (and its number registry) and audit the rendered HTML.

    The content is rebuilt from the same released tables with the build time read from the
    HTML, so the registry is the one the file was written with. The PDF is rendered from the
    same content and figures; its text is checked by the tests.
    """
    config = recurrence.load()
    folder = staging_folder(config.paths.reports, context.run.run_id)
    document = (folder / HTML_NAME).read_text(encoding="utf-8")
    with recurrence.connect() as con:
        inputs = read_inputs(con, config, context.run.run_id, created=built_time(document))
        released = released_tables(con)
    report = build_report(inputs)
    found = audit_report(report_text(document), report.numbers, released)
    return dg.AssetCheckResult(
        passed=found.passed and (folder / PDF_NAME).stat().st_size > 0,
        metadata={
            **{
                k: dg.MetadataValue.json(v) if isinstance(v, list) else v
                for k, v in found.summary().items()
            },
            "hidden_values_found": len(found.suppressed_shown) + len(found.not_as_published),
        },
    )


@dg.asset_check(
    asset=CONTENTS,
    name=CSV_CELLS_RELEASED,
    blocking=True,
    description=(
        "By identity: each cell of the released CSV files (newborn rates, recurrence "
        "estimates, hazard ratios, outcomes) is the published table's cell with the same row "
        "key and column, and shows no number where that cell is hidden."
    ),
)
def csv_cells_are_released_cells(
    context: AssetCheckExecutionContext, recurrence: RecurrenceResource
) -> dg.AssetCheckResult:
    """Fail when a released CSV shows a value its published table hides, or another value."""
    config = recurrence.load()
    folder = staging_folder(config.paths.reports, context.run.run_id)
    with recurrence.connect() as con:
        problems = audit_released_csvs(folder, released_tables(con))
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "cells_not_released": len(problems),
            "where": dg.MetadataValue.json(problems[:_SHOWN]),
        },
    )
