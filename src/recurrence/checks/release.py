"""The checks of the reports stage: the run's report folder, read back before it is released.

They read the files written into ``reports/.<run_id>.partial/`` (and the report's content,
rebuilt from the released tables) rather than the warehouse alone: the last line of defence
before anything leaves the run.
"""

from __future__ import annotations

from recurrence import catalog
from recurrence.checks.factories import Check, CheckInputs, Finding
from recurrence.release import scan_for_identifiers, scan_release_folder
from recurrence.report import audit_report, build_report, read_inputs, released_tables, report_text
from recurrence.report.audit import audit_released_csvs, built_time
from recurrence.report.write import HTML_NAME, PDF_NAME

#: How many findings a check lists in its metadata (all are counted).
SHOWN = 20


def _whole_folder(inputs: CheckInputs) -> Finding:
    disclosure = inputs.config.disclosure
    found = scan_release_folder(
        inputs.folder, min_cell=disclosure.min_cell, symbol=disclosure.symbol
    )
    return Finding(
        passed=found.safe,
        metadata={
            "files_checked": found.files,
            "small_counts_visible": len(found.small_counts),
            "where": found.small_counts[:SHOWN],
            "files_of_unknown_kind": found.unreadable,
            "min_cell": disclosure.min_cell,
        },
    )


def _no_identifiers(inputs: CheckInputs) -> Finding:
    found, columns = scan_for_identifiers(inputs.folder, inputs.con)
    return Finding(
        passed=not found,
        metadata={"identifier_columns_searched": columns, "files_with_identifiers": found},
    )


def _csv_cells(inputs: CheckInputs) -> Finding:
    problems = audit_released_csvs(inputs.folder, released_tables(inputs.con))
    return Finding(
        passed=not problems,
        metadata={"cells_not_released": len(problems), "where": problems[:SHOWN]},
    )


def _no_hidden_value(inputs: CheckInputs) -> Finding:
    """Rebuild the report's content (and its number registry) and audit the rendered HTML.

    The content is rebuilt from the same released tables with the build time read from the
    HTML, so the registry is the one the file was written with. The PDF is rendered from the
    same content and figures; its text is checked by the tests.
    """
    folder = inputs.folder
    document = (folder / HTML_NAME).read_text(encoding="utf-8")
    report_inputs = read_inputs(
        inputs.con, inputs.config, inputs.run_id, created=built_time(document)
    )
    report = build_report(report_inputs)
    found = audit_report(report_text(document), report.numbers, released_tables(inputs.con))
    return Finding(
        passed=found.passed and (folder / PDF_NAME).stat().st_size > 0,
        metadata={
            **found.summary(),
            "hidden_values_found": len(found.suppressed_shown) + len(found.not_as_published),
        },
    )


#: The checks of the reports stage, by catalog name.
RELEASE_CHECKS = {
    catalog.RUN_FOLDER_CONTENTS: (
        Check(
            "whole_folder_passes_disclosure",
            "Every count in every CSV and spreadsheet of the run's report folder is suppressed "
            "or at least disclosure.min_cell, and every file is of a kind that can be checked.",
            _whole_folder,
            kind="disclosure",
        ),
        Check(
            "no_identifier_in_any_file",
            "No file of the run's report folder contains any id or name hash read from the "
            "extract (every raw row, quarantined ones included).",
            _no_identifiers,
            kind="disclosure",
        ),
        Check(
            "csv_cells_are_released_cells",
            "By identity: each cell of the released CSV files (newborn rates, recurrence "
            "estimates, hazard ratios, outcomes) is the published table's cell with the same row "
            "key and column, and shows no number where that cell is hidden.",
            _csv_cells,
            kind="disclosure",
        ),
    ),
    catalog.RUN_REPORT: (
        Check(
            "no_hidden_value_in_report",
            "By identity: no number in the HTML report or its figures is a cell hidden by "
            "disclosure control, every published cell it shows is as released, and every number "
            "in it was written through the report's number registry.",
            _no_hidden_value,
            kind="disclosure",
        ),
    ),
}
