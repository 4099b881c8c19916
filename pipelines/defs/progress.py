"""A quiet progress logger for `recurrence run`: one line per finished table or failure."""

from __future__ import annotations

import logging
import sys

import dagster as dg


class _ProgressHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None:
            return
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            counts = {
                k: v.value
                for k, v in mat.metadata.items()
                if k.startswith("rows") and isinstance(v.value, int)
            }
            detail = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items())
            print(f"  done  {mat.asset_key.to_user_string():28} {detail}", flush=True)
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            check = event.event_specific_data
            if not check.passed:
                label = (
                    "CHECK WARNING"
                    if check.severity == dg.AssetCheckSeverity.WARN
                    else ("CHECK FAILED")
                )
                print(
                    f"  {label}  {check.asset_key.to_user_string()}: {check.check_name}",
                    file=sys.stderr,
                    flush=True,
                )


@dg.logger(description="One line per finished asset and per failed check (used by the CLI).")
def progress_logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
    """Return a logger that prints friendly progress from Dagster's structured events."""
    logger = logging.getLogger("recurrence.progress")
    logger.setLevel(logging.DEBUG)
    logger.handlers = [_ProgressHandler()]
    logger.propagate = False
    return logger


@dg.definitions
def loggers() -> dg.Definitions:
    """Offer the progress logger alongside Dagster's default console logger."""
    return dg.Definitions(
        loggers={"progress": progress_logger, "console": dg.colored_console_logger}
    )
