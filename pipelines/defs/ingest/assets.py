"""Ingest: read the extract folder into the warehouse, validate every row, quarantine failures."""

from __future__ import annotations

import dagster as dg

from pipelines.catalog import asset_args
from pipelines.defs.resources import RecurrenceResource
from pipelines.failures import user_errors_as_failure
from recurrence import catalog
from recurrence.contract import TABLES, Table
from recurrence.ingest import (
    build_plausibility,
    load_raw_table,
    read_extract_info,
    record_extract_info,
    validate_table,
)


@dg.asset(**asset_args(catalog.EXTRACT_INFO))
def extract_info(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """The extract being read: its end date (follow-up is censored there), source and files.

    One row describing the extract folder, and one row per file with its size and SHA-256
    checksum, so every later figure can be traced to the exact files it came from.
    """
    config = recurrence.load()
    with user_errors_as_failure(), recurrence.connect() as con:
        info = read_extract_info(config.paths.extract)
        record_extract_info(con, info)
        checksums = dict(info.sha256)
    return dg.MaterializeResult(
        metadata={
            "extract_end_date": info.extract_end_date.isoformat(),
            "source": info.source,
            "files": dg.MetadataValue.json(
                {
                    name: {"file": path.name, "sha256": checksums[name]}
                    for name, path in info.files.items()
                    if path is not None
                }
            ),
        }
    )


def _raw_asset(table: Table) -> dg.AssetsDefinition:
    @dg.asset(
        **asset_args(f"raw.{table.name}"),
        description=(
            f"Every row of the extract's `{table.name}` file exactly as read ({table.meaning}): "
            "all columns as text, extra columns kept, each row with its source row number. "
            "Covers whatever period the extract covers, up to its end date."
            + ("" if table.required else " Empty when the extract has no such file.")
        ),
    )
    def _asset(recurrence: RecurrenceResource) -> dg.MaterializeResult:
        config = recurrence.load()
        with user_errors_as_failure(), recurrence.connect() as con:
            info = read_extract_info(config.paths.extract, checksums=False)
            rows = load_raw_table(con, info, table.name)
        path = info.files.get(table.name)
        return dg.MaterializeResult(
            metadata={
                "rows_read": rows,
                "file": path.name if path is not None else "(absent)",
            }
        )

    return _asset


def _staging_asset(table: Table) -> dg.AssetsDefinition:
    # Its dependencies (the raw table, and the tables its foreign keys refer to) are declared in
    # the catalog from the data contract.
    @dg.asset(
        **asset_args(f"staging.{table.name}"),
        description=(
            f"Valid rows of `{table.name}` ({table.meaning}), typed per the data contract. "
            "Rows that fail any rule are in audit.quarantine with the column and reason instead; "
            "rows read = rows loaded + rows quarantined."
        ),
    )
    def _asset(recurrence: RecurrenceResource) -> dg.MaterializeResult:
        config = recurrence.load()
        with user_errors_as_failure(), recurrence.connect() as con:
            info = read_extract_info(config.paths.extract, checksums=False)
            result = validate_table(con, info, table.name, config.ingest)
        return dg.MaterializeResult(
            metadata={
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_quarantined": result.rows_quarantined,
                "quarantine_reasons": dg.MetadataValue.json(dict(result.problems_by_rule)),
            }
        )

    return _asset


raw_assets = [_raw_asset(t) for t in TABLES]
staging_assets = [_staging_asset(t) for t in TABLES]


@dg.asset(**asset_args(catalog.PLAUSIBILITY))
def plausibility(recurrence: RecurrenceResource) -> dg.MaterializeResult:
    """Legal but implausible values, counted by rule; no row is dropped or changed.

    A mother under or over the plausible age at a birth, a child born after its set's issue
    date, dates long before the extract end, a mother in very many sets: limits are the
    ``ingest.plausible_*`` settings. Only counts are stored, never an identifier.
    """
    config = recurrence.load()
    with recurrence.connect() as con:
        counts = build_plausibility(con, config.ingest)
    return dg.MaterializeResult(
        metadata={
            "rows_flagged": sum(c.rows_flagged for c in counts),
            "by_rule": dg.MetadataValue.json(
                {f"{c.rule} ({c.table_name}.{c.column_name})": c.rows_flagged for c in counts}
            ),
        }
    )
