"""Everything a report is built from, read once from the warehouse of one run.

Only released tables are read: ``published.*`` (after disclosure control), the ingest audit
tables (``audit.*``), ``linkage.summary`` and, where a truth evaluation was run,
``linkage.quality``; ``published.outcomes`` where the outcomes stage ran. Nothing under
``analysis.*`` is read here, so a hidden value cannot reach the report through this module (a
test checks the source for it).
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from recurrence.config import Config
from recurrence.paths import PROJECT_ROOT
from recurrence.report.numbers import Numbers
from recurrence.warehouse import table_exists

#: Tables read by the report, as ``schema.table``; optional ones may be missing.
REQUIRED_TABLES: tuple[str, ...] = (
    "published.recurrence_estimates",
    "published.cox_hazard_ratios",
    "published.newborn_rates",
    "audit.extract_info",
    "audit.extract_files",
    "audit.ingest_accounting",
    "linkage.summary",
)
OPTIONAL_TABLES: tuple[str, ...] = (
    "linkage.quality",
    "published.outcomes",
    "audit.plausibility",
    "published.cox_ph_test",
    "published.cox_zph_bins",
    "published.newborn_precision",
)
#: Packages whose versions are recorded in the provenance section.
PACKAGES: tuple[str, ...] = (
    "recurrence",
    "dagster",
    "duckdb",
    "splink",
    "polars",
    "lifelines",
    "scipy",
    "matplotlib",
    "gptables",
    "jinja2",
    "reportlab",
)


@dataclass(frozen=True)
class ReportInputs:
    """The run's released tables and its provenance.

    Attributes
    ----------
    run_id, created
        The run's id and when the report was built (UTC).
    config
        The run's configuration.
    tables
        ``schema.table`` to polars frame (optional tables only when present).
    quarantine
        Rows quarantined by table, column and reason (counts only; no row values).
    packages
        Package name to version.
    git_commit
        The commit of the code, with ``(modified)`` when the work tree had changes, or
        ``"unknown"`` outside a git checkout.
    numbers
        The registry every section writes its numbers through (:mod:`recurrence.report.numbers`).
    """

    run_id: str
    created: dt.datetime
    config: Config
    tables: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    packages: dict[str, str] = field(default_factory=dict)
    git_commit: str = "unknown"
    numbers: Numbers = field(default_factory=Numbers)

    def table(self, name: str) -> pl.DataFrame | None:
        """A table by ``schema.table``, or None when the run did not make it."""
        return self.tables.get(name)


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed version of each package (``"not installed"`` when missing), and Python's."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(root: Path = PROJECT_ROOT) -> str:
    """The checked-out commit of ``root``, marked ``(modified)`` if the tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (modified)" if dirty else head


def read_inputs(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    run_id: str,
    *,
    created: dt.datetime | None = None,
) -> ReportInputs:
    """Read the released tables and provenance of the run in ``con``.

    Parameters
    ----------
    con
        The run's warehouse.
    config
        The run's configuration.
    run_id
        The run's id (names ``reports/<run_id>/``).
    created
        When the report is built (default: now, UTC).

    Returns
    -------
    ReportInputs
        What the section builders need.
    """
    tables = {}
    for name in REQUIRED_TABLES:
        tables[name] = con.sql(f"select * from {name}").pl()
    for name in OPTIONAL_TABLES:
        if table_exists(con, name):
            tables[name] = con.sql(f"select * from {name}").pl()
    quarantine = con.sql(
        "select table_name, column_name, reason, count(*) as rows from audit.quarantine "
        "group by all order by table_name, column_name, reason"
    ).pl()
    return ReportInputs(
        run_id=run_id,
        created=created or dt.datetime.now(dt.UTC).replace(microsecond=0),
        config=config,
        tables=tables,
        quarantine=quarantine,
        packages=package_versions(),
        git_commit=git_commit(),
        numbers=Numbers(config.disclosure.symbol),
    )


def first_row(frame: pl.DataFrame, **where: Any) -> dict[str, Any] | None:
    """The first row of ``frame`` whose columns equal ``where``, as a dict; None if none."""
    for key, value in where.items():
        frame = frame.filter(pl.col(key) == value)
    return frame.row(0, named=True) if frame.height else None
