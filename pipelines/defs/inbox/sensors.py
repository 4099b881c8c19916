"""A sensor over the inbox folder: each new, complete extract folder starts one run over it.

A folder inside ``inbox.folder`` is run when (1) it has not changed between two ticks of the
sensor (same file names, sizes and modification times), so a copy still in progress is never
read, and (2) :func:`recurrence.ingest.read_extract_info` accepts it: ``extract.toml`` is valid
and every required table has a file. A folder that fails (2) is reported by name with the problem
and is not run. Each folder runs once for its content: the run key is the folder name and a
digest of its tables' SHA-256 checksums and its
``extract.toml``, so changing a file makes it run again.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import dagster as dg

from recurrence.config import ENV_CONFIG, load_config
from recurrence.errors import RecurrenceError
from recurrence.ingest import read_extract_info

SENSOR_NAME = "extract_inbox"
EXTRACT_TAG = "recurrence/extract"


def _fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of every file in ``folder``, as one digest."""
    entries = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            entries.append(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def run_config_for_extract(folder: Path, config_file: str | None) -> dict[str, Any]:
    """Run config selecting ``folder`` as the extract (warehouse and definitions as configured)."""
    resource: dict[str, Any] = {"extract": str(folder.resolve())}
    if config_file:
        resource["config_file"] = str(Path(config_file).resolve())
    return {"resources": {"recurrence": {"config": resource}}}


@dg.sensor(
    name=SENSOR_NAME,
    target="*",
    minimum_interval_seconds=30,
    description=(
        "Watches inbox.folder: each complete extract folder put inside it (extract.toml and "
        "every required table, unchanged since the previous tick) starts one run of the whole "
        "graph over it; an invalid folder is reported by name with its problem and not run."
    ),
)
def extract_inbox(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Request one run per new complete extract folder in the inbox; report invalid ones."""
    config_file = os.environ.get(ENV_CONFIG) or None
    try:
        config = load_config(config_file)
    except RecurrenceError as exc:
        return dg.SkipReason(f"The configuration cannot be read: {exc}")
    if not config.inbox.folder:
        return dg.SkipReason("No inbox: set inbox.folder in the configuration to use this sensor.")
    inbox = Path(config.inbox.folder)
    if not inbox.is_dir():
        return dg.SkipReason(f"The inbox folder {inbox} does not exist.")

    # Cursor: folder name -> [fingerprint, run key once requested], so a folder is hashed and
    # requested once, not at every tick.
    previous: dict[str, list] = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, list] = {}
    requests: list[dg.RunRequest] = []
    notes: list[str] = []
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")):
        fingerprint = _fingerprint(folder)
        seen, requested = previous.get(folder.name, [None, None])
        current[folder.name] = [fingerprint, None]
        if seen != fingerprint:
            notes.append(f"{folder.name}: new or still changing; will look again next tick")
            continue
        if requested:
            current[folder.name] = [fingerprint, requested]
            continue
        try:
            info = read_extract_info(folder)
        except RecurrenceError as exc:
            context.log.warning(f"Extract folder {folder.name} is not valid and was not run: {exc}")
            notes.append(f"{folder.name}: not valid, not run: {exc}")
            continue
        # The tables' checksums and extract.toml itself (its end date changes every figure).
        digest = hashlib.sha256(
            "\n".join(f"{k}={v}" for k, v in sorted(info.sha256.items())).encode()
            + (folder / "extract.toml").read_bytes()
        ).hexdigest()
        run_key = f"{folder.name}:{digest[:16]}"
        current[folder.name] = [fingerprint, run_key]
        requests.append(
            dg.RunRequest(
                run_key=run_key,
                run_config=run_config_for_extract(folder, config_file),
                tags={EXTRACT_TAG: folder.name},
            )
        )
    cursor = json.dumps(current, sort_keys=True)
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=cursor)
    return dg.SensorResult(
        skip_reason=dg.SkipReason("; ".join(notes) or f"No new extract folders in {inbox}."),
        cursor=cursor,
    )
