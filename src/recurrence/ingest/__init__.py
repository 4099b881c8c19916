"""Validated ingest: an extract folder into the warehouse, with a quarantine and row accounting.

Typical use (the Dagster assets call the same functions one table at a time)::

    con = connect("warehouse/recurrence.duckdb")
    accounting = ingest_extract(con, Path("data_samples/sample"), load_config().ingest)
"""

from recurrence.ingest.extract import ExtractInfo, read_extract_info, record_extract_info
from recurrence.ingest.load import TableAccounting, ingest_extract, validate_table
from recurrence.ingest.plausibility import PlausibilityCount, build_plausibility
from recurrence.ingest.read import load_raw_table

__all__ = [
    "ExtractInfo",
    "PlausibilityCount",
    "TableAccounting",
    "build_plausibility",
    "ingest_extract",
    "load_raw_table",
    "read_extract_info",
    "record_extract_info",
    "validate_table",
]
