"""Run the Dagster asset graph from the command line, and start the UI, on the same definitions.

This module is the command line's bridge to Dagster (``recurrence.cli`` imports it lazily; the
domain library never imports dagster). The lock, the build and the commit are not here: they
belong to every run, whatever launched it (:mod:`pipelines.defs.resources`). This module turns
the run's outcome into one actionable last line and an exit status (:mod:`recurrence.errors`):
0 success, 1 internal error (a bug), 2 bad setting, 3 unreadable extract, 4 a blocking check or
data rule failed, 5 warehouse busy.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recurrence.config import (
    ENV_CONFIG,
    ENV_EXTRACT,
    ENV_WAREHOUSE,
    Config,
    load_config,
    path_overrides,
)
from recurrence.errors import EXIT_CHECK, EXIT_INTERNAL, EXIT_OK, exit_code_by_name
from recurrence.paths import PROJECT_ROOT
from recurrence.safety import ensure_not_locked, private_umask, released_folder


def _prepare_dagster_home(config: Config) -> Path:
    """Use DAGSTER_HOME if set, else the configured folder, so the UI shows CLI runs too."""
    home = Path(os.environ.get("DAGSTER_HOME") or config.paths.dagster_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    if not instance_yaml.exists():
        # Runs happen in secure environments with no internet: nothing should try to phone home.
        instance_yaml.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def run_config_for(
    *,
    extract: str | None,
    warehouse: str | None,
    config_file: str | None,
    overrides: Sequence[str],
    reports: str | None = None,
) -> dict[str, Any]:
    """Dagster run config selecting the extract, warehouse and definitions of one run."""
    resource_config: dict[str, Any] = {"overrides": list(overrides)}
    if config_file:
        resource_config["config_file"] = str(Path(config_file).resolve())
    if extract:
        resource_config["extract"] = str(Path(extract).resolve())
    if warehouse:
        resource_config["warehouse"] = str(Path(warehouse).resolve())
    if reports:
        resource_config["reports"] = str(Path(reports).resolve())
    return {"resources": {"recurrence": {"config": resource_config}}}


def run_pipeline(
    *,
    extract: str | None = None,
    warehouse: str | None = None,
    reports: str | None = None,
    config_file: str | None = None,
    overrides: Sequence[str] = (),
    select: str | None = None,
    quiet: bool = False,
    verbose: bool = False,
) -> int:
    """Materialise the asset graph (or a selection of it) through Dagster, printing progress.

    Parameters
    ----------
    extract, warehouse, reports
        Override ``paths.extract``, ``paths.warehouse`` and ``paths.reports`` for this run.
    config_file, overrides
        As for :func:`recurrence.config.load_config`.
    select
        A Dagster asset selection string such as ``"group:ingest"``; default everything.
    quiet
        Print only the outcome.
    verbose
        Also show the linkage library's own training messages.

    Returns
    -------
    int
        0 when every asset and blocking check succeeded, 1 otherwise.
    """
    import dagster as dg

    from pipelines.definitions import defs as load_defs
    from pipelines.defs.reports.assets import RELEASE_ASSETS, REPORT_WRITERS

    # Analysts see our progress lines, not Dagster's notices about its own beta APIs nor Splink's
    # training chatter (its messages stay in each step's compute log in the UI).
    for category in (dg.BetaWarning, dg.PreviewWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    splink_logger = logging.getLogger("splink")
    splink_logger.setLevel(logging.INFO if verbose else logging.ERROR)
    if verbose and not splink_logger.handlers:
        splink_logger.addHandler(logging.StreamHandler(sys.stderr))

    extra = [
        *overrides,
        *path_overrides(
            extract=extract and str(Path(extract).resolve()),
            warehouse=warehouse and str(Path(warehouse).resolve()),
            reports=reports and str(Path(reports).resolve()),
        ),
    ]
    config = load_config(config_file, extra)  # fail fast, before Dagster starts, on a bad setting
    if config.source.adapter:
        from recurrence.sources import adapt

        log = adapt(
            [config.source.adapter],
            Path(config.source.input),
            config.paths.extract,
            config.source.settings or None,
        )
        if not quiet:
            print(log.describe(), flush=True)
    _prepare_dagster_home(config)

    definitions = load_defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    run_config = run_config_for(
        extract=extract,
        warehouse=warehouse,
        config_file=config_file,
        overrides=overrides,
        reports=reports,
    )
    run_config["loggers"] = (
        {"console": {"config": {"log_level": "CRITICAL"}}} if quiet else {"progress": {}}
    )
    graph = definitions.resolve_asset_graph()
    selection = dg.AssetSelection.from_string(select).resolve(graph) if select else None
    if selection and selection & set(REPORT_WRITERS):
        # Files written for release are released (after the final checks) by any run that writes
        # them, not left in the hidden staging folder.
        selection = selection | dg.AssetSelection.assets(*RELEASE_ASSETS).resolve(graph)
    started = time.monotonic()
    target = config.paths.warehouse.resolve()
    ensure_not_locked(target)  # a busy warehouse: one line and exit 5, before a run is recorded
    had_warehouse = target.exists()
    with dg.DagsterInstance.get() as instance:
        if not quiet:
            print(f"recurrence: running on {config.paths.extract} -> {target}", flush=True)
        result = job.execute_in_process(
            run_config=run_config,
            instance=instance,
            raise_on_error=False,
            asset_selection=list(selection) if selection else None,
        )
        return _report(
            result,
            time.monotonic() - started,
            target,
            reports=config.paths.reports.resolve(),
            had_warehouse=had_warehouse,
        )


#: The released files a first-time user looks for, in the order they are named.
RELEASED_FILES: tuple[tuple[str, str], ...] = (
    ("report", "report.html"),
    ("report (PDF)", "report.pdf"),
    ("spreadsheet", "newborn_rates.xlsx"),
)


def finished_lines(run_id: str, elapsed: float, folder: Path | None) -> list[str]:
    """What a successful run prints last: that it finished, and where its outputs are."""
    lines = [f"recurrence: run {run_id} finished in {elapsed:.1f} s"]
    if folder is None or not folder.is_dir():
        return lines
    for what, name in RELEASED_FILES:
        if (folder / name).is_file():
            lines.append(f"  {what}: {folder / name}")
    tables = sorted(p.name for p in folder.glob("*.csv"))
    if tables:
        lines.append(f"  tables (CSV): {', '.join(tables)} in {folder}")
    return lines


def failed_line(run_id: str, elapsed: float, had_warehouse: bool) -> str:
    """What a failed run prints: true to the state (no 'previous warehouse' if there was none)."""
    if had_warehouse:
        state = "the previous warehouse and release are unchanged."
    else:
        state = "no warehouse or release was written (there was none before this run)."
    return f"recurrence: run {run_id} FAILED in {elapsed:.1f} s; {state}"


def _report(
    result: Any,
    elapsed: float,
    target: Path,
    *,
    reports: Path | None = None,
    had_warehouse: bool = True,
) -> int:
    """Print failures and the outcome; the last line is what to do. Returns the exit status."""
    import dagster as dg

    from pipelines.failures import EXIT_CODE

    failures: list[tuple[int, str]] = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            check = event.event_specific_data
            if not check.passed:
                blocking = bool(check.blocking)
                line = (
                    f"{'FAILED' if blocking else 'warning:'} check {check.check_name} on "
                    f"{check.asset_key.to_user_string()}: {_plain_metadata(check.metadata)}"
                )
                print(f"  {line}", file=sys.stderr)
                if blocking:
                    failures.append(
                        (
                            EXIT_CHECK,
                            f"the blocking check {check.check_name} on "
                            f"{check.asset_key.to_user_string()} failed ("
                            f"{_plain_metadata(check.metadata)}); nothing was released. See "
                            "'When a check fails' in docs/operations.md for what it means and "
                            "what to do.",
                        )
                    )
        elif event.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE:
            # The run could not start (the lock, the repair or the copy): nothing was changed.
            error = event.event_specific_data.error
            code = exit_code_by_name(error.cls_name or "") if error is not None else None
            if code is not None:
                message = error.message.strip().split(": ", 1)[-1]
                failures.append((code, message))
            else:
                log = _log_internal_error(target, result.run_id, "run start", error)
                failures.append((EXIT_INTERNAL, _bug(result.run_id, "run start", error, log)))
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            data = event.event_specific_data
            step = (event.step_key or "").replace("__", "/")
            if _error_kind(data.error) == "DagsterAssetCheckFailedError":
                continue  # a failed blocking check, reported above from its evaluation
            user = getattr(data, "user_failure_data", None)
            code = (user.metadata.get(EXIT_CODE) if user is not None else None) or None
            if code is not None:
                message = (user.description or "").strip() or _failure_message(data.error)
                print(f"  FAILED {step}: {message}", file=sys.stderr)
                failures.append((int(getattr(code, "value", code)), message))
            else:
                log = _log_internal_error(target, result.run_id, step, data.error)
                kind = _error_kind(data.error)
                print(f"  FAILED {step}: internal error ({kind})", file=sys.stderr)
                failures.append((EXIT_INTERNAL, _bug(result.run_id, step, data.error, log)))
    if result.success and not failures:
        folder = released_folder(reports, result.run_id) if reports is not None else None
        for line in finished_lines(result.run_id, elapsed, folder):
            print(line, flush=True)
        return EXIT_OK
    print(failed_line(result.run_id, elapsed, had_warehouse), file=sys.stderr)
    code, message = failures[0] if failures else (EXIT_INTERNAL, "the run failed; see its log.")
    print(f"recurrence: {message}", file=sys.stderr, flush=True)
    return code


def _bug(run_id: str, step: str, error: Any, log: Path) -> str:
    return (
        f"internal error in {step} ({_error_kind(error)}): this is a bug in recurrence, not a "
        f"problem with your data. Please report run {run_id}; the traceback is in {log} and in "
        "the run's log in the Dagster UI. Nothing was committed."
    )


def _error_kind(error: Any) -> str:
    """The exception's class name, at the root of Dagster's wrapping."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error.cls_name if error is not None and error.cls_name else "unknown error"


def _log_internal_error(target: Path, run_id: str, step: str, error: Any) -> Path:
    """Append the traceback of a bug to ``<warehouse>.errors.log`` (owner-only: may hold data)."""
    log = target.with_name(target.name + ".errors.log")
    text = error.to_string() if error is not None else "no error recorded"
    log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with private_umask(), log.open("a", encoding="utf-8") as out:
        out.write(f"--- run {run_id}, step {step}\n{text}\n")
    log.chmod(0o600)
    return log


def _plain_metadata(metadata: dict[str, Any]) -> str:
    return ", ".join(f"{k}={getattr(v, 'value', v)}" for k, v in metadata.items())


def _failure_message(error: Any) -> str:
    """The user-facing part of a step failure: a Failure's description, else the error line."""
    if error is None:
        return "unknown error"
    message = error.message.strip()
    prefix = "dagster._core.definitions.events.Failure:"
    if message.startswith(prefix):
        return message[len(prefix) :].strip()
    if error.cause is not None and "Failure" not in message:
        return f"{message} (caused by {error.cause.message.strip()})"
    return message


def start_ui(
    *,
    config_file: str | None = None,
    overrides: Sequence[str] = (),
    host: str = "127.0.0.1",
    port: int = 3000,
) -> int:
    """Start the Dagster UI on the same definitions, with the same configuration, until stopped."""
    config = load_config(config_file, overrides)
    _prepare_dagster_home(config)
    env = dict(os.environ)
    if config_file:
        env[ENV_CONFIG] = str(Path(config_file).resolve())
    env[ENV_EXTRACT] = str(config.paths.extract.resolve())
    env[ENV_WAREHOUSE] = str(config.paths.warehouse.resolve())
    # From the checkout root, `dagster dev` reads [tool.dagster] in pyproject.toml, so the code
    # location gets its configured name ("recurrence").
    command = [sys.executable, "-m", "dagster", "dev", "-h", host, "-p", str(port)]
    print(f"recurrence: Dagster UI on http://{host}:{port} (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(command, env=env, cwd=PROJECT_ROOT)
    except KeyboardInterrupt:
        return 0
