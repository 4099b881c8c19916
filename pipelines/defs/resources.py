"""Resources shared by every stage: the run's configuration and its DuckDB warehouse."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from pydantic import Field

from pipelines.failures import user_errors_as_failure
from recurrence.config import (
    ENV_CONFIG,
    ENV_EXTRACT,
    ENV_WAREHOUSE,
    Config,
    load_config,
    path_overrides,
)
from recurrence.safety import ensure_not_locked
from recurrence.warehouse import connect


class RecurrenceResource(dg.ConfigurableResource):
    """The run's configuration (``defaults.toml`` + a config file + overrides) and warehouse.

    Every field may be set in the run config (Dagster UI launchpad) to choose the extract, the
    warehouse, the reports folder and the definitions of one run.
    """

    config_file: str | None = None
    overrides: list[str] = Field(default_factory=list)
    extract: str | None = None
    warehouse: str | None = None
    reports: str | None = None

    def load(self) -> Config:
        """Return the merged configuration, with ``extract`` and ``warehouse`` applied on top."""
        overrides = [
            *self.overrides,
            *path_overrides(extract=self.extract, warehouse=self.warehouse, reports=self.reports),
        ]
        return load_config(self.config_file, overrides)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the warehouse for writing; closed when the block ends."""
        config = self.load()
        with user_errors_as_failure():
            ensure_not_locked(config.paths.warehouse)
        con = connect(config.paths.warehouse, memory_limit=config.duckdb.memory_limit)
        try:
            yield con
        finally:
            con.close()


@dg.definitions
def resources() -> dg.Definitions:
    """Bind the ``recurrence`` resource, with defaults taken from the environment if set.

    Every step writes the same DuckDB file, which one process at a time may open for writing, so
    runs launched from the UI or a sensor execute their steps one after another in one process.
    """
    return dg.Definitions(
        executor=dg.in_process_executor,
        resources={
            "recurrence": RecurrenceResource(
                config_file=os.environ.get(ENV_CONFIG) or None,
                extract=os.environ.get(ENV_EXTRACT) or None,
                warehouse=os.environ.get(ENV_WAREHOUSE) or None,
            )
        },
    )
