"""Resources shared by every stage: the run's configuration, its warehouse and its one commit.

The ``recurrence`` resource carries the whole release protocol of :mod:`recurrence.safety` for
every run path alike (``recurrence run``, the UI launchpad, the inbox sensor, ``dagster asset
materialize``): when the run starts it takes the warehouse's lock, repairs a commit a killed run
left half-done, marks runs of this warehouse whose process died as failed, removes stale build and
``.partial`` folders and copies the warehouse into a private build; every step then reads and
writes the build. The asset ``reports/released`` commits the build and the report folder together
(:func:`commit_run`); a run that ends without that step commits its warehouse alone when nothing
in it failed, else nothing. Runs execute their steps one after another in one process (the
in-process executor), so the resource is set up once and holds the lock for the whole run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field, PrivateAttr

from pipelines.failures import user_errors_as_failure
from recurrence.config import (
    ENV_CONFIG,
    ENV_EXTRACT,
    ENV_WAREHOUSE,
    Config,
    load_config,
    path_overrides,
)
from recurrence.safety import (
    WarehouseLock,
    begin_build,
    build_path,
    clean_stale,
    commit,
    current_run,
    recover,
)
from recurrence.warehouse import connect

#: Run tags: the warehouse a run builds, and whether its commit was made.
WAREHOUSE_TAG = "recurrence/warehouse"
COMMITTED_TAG = "recurrence/committed"


def say(line: str) -> None:
    """Print one progress line of the release protocol (the crash tests stop at these)."""
    sys.stdout.write(f"  {line}\n")
    sys.stdout.flush()


def _step(name: str) -> None:
    say(f"commit  {name}")


class RecurrenceResource(dg.ConfigurableResource):
    """The run's configuration (``defaults.toml`` + a config file + overrides) and warehouse.

    Every field may be set in the run config (Dagster UI launchpad) to choose the extract, the
    warehouse, the reports folder and the definitions of one run. Within a run, ``load()`` names
    the run's private build as ``paths.warehouse``; :meth:`target` is the warehouse it replaces.
    """

    config_file: str | None = None
    overrides: list[str] = Field(default_factory=list)
    extract: str | None = None
    warehouse: str | None = None
    reports: str | None = None

    _lock: WarehouseLock | None = PrivateAttr(default=None)
    _build: Path | None = PrivateAttr(default=None)
    _umask: int | None = PrivateAttr(default=None)
    _committed: bool = PrivateAttr(default=False)

    def _configured(self) -> Config:
        overrides = [
            *self.overrides,
            *path_overrides(extract=self.extract, warehouse=self.warehouse, reports=self.reports),
        ]
        return load_config(self.config_file, overrides)

    def target(self) -> Path:
        """The warehouse file this run replaces when it commits."""
        return self._configured().paths.warehouse.resolve()

    def load(self) -> Config:
        """Return the merged configuration; within a run, ``paths.warehouse`` is the build."""
        config = self._configured()
        if self._build is None:
            return config
        return replace(config, paths=replace(config.paths, warehouse=self._build))

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the run's warehouse (its build, within a run) for writing; closed at the end."""
        config = self.load()
        with user_errors_as_failure():
            con = connect(config.paths.warehouse, memory_limit=config.duckdb.memory_limit)
        try:
            yield con
        finally:
            con.close()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Lock, repair, clean and copy the warehouse into a private build (module notes)."""
        run = context.run
        run_id = run.run_id if run is not None else "(no run)"
        # An error here is raised as it is (not as a step failure): Dagster reports it as the
        # resource's failure, and `recurrence run` maps its class to an exit status.
        config = self._configured()
        target = config.paths.warehouse.resolve()
        lock = WarehouseLock(target, holder=f"Dagster run {run_id}")
        lock.acquire()
        self._lock = lock
        try:
            repaired = recover(target, say=_step)
            if repaired:
                say(f"repaired an interrupted commit: {repaired}")
            if context.instance is not None and run is not None:
                _reconcile_dead_runs(context.instance, target, run_id, config.paths.reports)
                context.instance.add_run_tags(run_id, {WAREHOUSE_TAG: str(target)})
            clean_stale(target, config.paths.reports)
            # Made before the owner-only umask: the reports folder is for publishing.
            config.paths.reports.mkdir(parents=True, exist_ok=True)
            self._umask = os.umask(0o077)
            self._build = begin_build(target)
        except BaseException:
            self._release()
            raise

    def commit_run(self, context: dg.AssetExecutionContext, *, with_report: bool) -> None:
        """Commit the build (and this run's report folder) as the current pair."""
        config = self._configured()
        commit(
            config.paths.warehouse.resolve(),
            context.run_id,
            config.paths.reports if with_report else None,
            say=_step,
        )
        self._committed = True
        self._build = None
        context.instance.add_run_tags(context.run_id, {COMMITTED_TAG: "yes"})

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Commit the warehouse of a clean run that had no release step; release the lock."""
        try:
            run = context.run
            if self._build is not None and not self._committed and run is not None:
                if context.instance is not None and not _anything_failed(context.instance, run):
                    commit(self.target(), run.run_id, None, say=_step)
                    self._committed = True
                    context.instance.add_run_tags(run.run_id, {COMMITTED_TAG: "yes"})
                else:
                    sys.stderr.write(
                        f"recurrence: the previous warehouse {self.target()} and release are "
                        f"unchanged; this run's partial warehouse is kept for inspection at "
                        f"{build_path(self.target())} until the next run.\n"
                    )
        finally:
            self._release()

    def _release(self) -> None:
        if self._umask is not None:
            os.umask(self._umask)
            self._umask = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _anything_failed(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """Whether the run is not a clean success so far.

    That is: a step or a blocking check failed, a step started without succeeding (interrupted),
    a planned step never succeeded, or the run is being cancelled.
    """
    current = instance.get_run_by_id(run.run_id)
    if current is not None and current.status in (
        dg.DagsterRunStatus.CANCELING,
        dg.DagsterRunStatus.CANCELED,
    ):
        return True
    started, succeeded = set(), set()
    records = instance.all_logs(
        run.run_id,
        of_type={
            dg.DagsterEventType.STEP_START,
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
            dg.DagsterEventType.ASSET_CHECK_EVALUATION,
        },
    )
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            return True
        if event.event_type == dg.DagsterEventType.STEP_START:
            started.add(event.step_key)
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            succeeded.add(event.step_key)
        else:
            check = event.event_specific_data
            if not check.passed and check.blocking:
                return True
    planned = set(run.step_keys_to_execute or ())
    return bool((started | planned) - succeeded)


def _reconcile_dead_runs(
    instance: dg.DagsterInstance, target: Path, run_id: str, reports: Path
) -> None:
    """Mark as failed the runs of this warehouse whose process died (we hold its lock).

    A run that took the lock and never finished cannot still be running while we hold it. Its
    Dagster status is set from what the files say: committed if its commit tag was written or
    ``LATEST_RUN`` names it (the journal was rolled forward), otherwise not committed.
    """
    dead = instance.get_runs(
        filters=dg.RunsFilter(
            tags={WAREHOUSE_TAG: str(target)},
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
        )
    )
    for other in dead:
        if other.run_id == run_id:
            continue
        committed = other.tags.get(COMMITTED_TAG) == "yes" or current_run(reports) == other.run_id
        if committed:
            instance.add_run_tags(other.run_id, {COMMITTED_TAG: "yes"})
            message = (
                "The process running this run ended after its commit: its warehouse and report "
                "are current, but Dagster never heard that it finished."
            )
        else:
            message = (
                "The process running this run ended before its commit (killed?): nothing of it "
                "was committed; the previous warehouse and release stayed current."
            )
        instance.report_run_failed(other, message)


@dg.definitions
def resources() -> dg.Definitions:
    """Bind the ``recurrence`` resource, with defaults taken from the environment if set.

    Every step writes the same DuckDB build, which one process at a time may open for writing,
    so every run executes its steps one after another in one process.
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
