"""Runs that cannot corrupt the warehouse: one writer at a time, and a build swapped in whole.

A full run (``recurrence run``) never writes the analyst's warehouse file in place. It copies the
previous warehouse into a private build folder beside it, runs every asset against the copy, and
only when every asset and blocking check has succeeded checkpoints the copy and renames it over
the previous file (``os.replace``, atomic within one file system). Killing the run at any moment
therefore leaves the previous warehouse exactly as it was.

An exclusive lock file next to the warehouse (``<warehouse>.lock``, held with ``fcntl.flock``)
keeps two runs from using the same warehouse at once: the second one stops straight away with a
message naming the process and the time at which the holder started. The operating system
releases the lock when its holder exits, however it exits, so a killed run never leaves a stale
lock behind.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from recurrence.errors import RecurrenceError

#: Files that belong to a warehouse ``name.duckdb``: the database, then its Splink models.
MODEL_GLOB = "{stem}.splink_*.json"


class WarehouseBusyError(RecurrenceError):
    """Another run holds the warehouse's lock."""


def lock_path(warehouse: Path) -> Path:
    """The lock file of a warehouse: ``<warehouse>.lock`` beside it."""
    return warehouse.with_name(warehouse.name + ".lock")


def build_dir(warehouse: Path) -> Path:
    """The private folder in which a run builds the next warehouse: ``.<name>.build`` beside it."""
    return warehouse.with_name(f".{warehouse.name}.build")


def build_path(warehouse: Path) -> Path:
    """The warehouse file a run writes, inside :func:`build_dir`, with the same file name."""
    return build_dir(warehouse) / warehouse.name


def _holder(lock: Path) -> str:
    try:
        text = lock.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "another process (no details recorded)"


@contextmanager
def warehouse_lock(warehouse: Path | str) -> Iterator[Path]:
    """Hold the warehouse's exclusive lock for the length of the block, or fail at once.

    Parameters
    ----------
    warehouse
        The warehouse file (it need not exist yet).

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    WarehouseBusyError
        When another process holds the lock; the message names it and when it started.
    """
    warehouse = Path(warehouse)
    lock = lock_path(warehouse)
    lock.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseBusyError(
                f"The warehouse {warehouse} is in use by {_holder(lock)}. "
                "Wait for that run to finish (or stop it) and run again; nothing was changed."
            ) from None
        started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()}, started {started}\n".encode())
        os.fsync(fd)
        yield lock
    finally:
        # Closing the descriptor releases the lock; the file stays (removing it would race with
        # a process that has just opened it).
        os.close(fd)


def ensure_not_locked(warehouse: Path | str) -> None:
    """Fail at once if a run holds the warehouse's lock; otherwise return (holding nothing).

    Steps of runs launched from the Dagster UI write the warehouse in place and call this before
    opening it, so they never write under a ``recurrence run`` in progress.

    Parameters
    ----------
    warehouse
        The warehouse file.

    Raises
    ------
    WarehouseBusyError
        When another process holds the lock.
    """
    warehouse = Path(warehouse)
    lock = lock_path(warehouse)
    if not lock.exists():
        return
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise WarehouseBusyError(
            f"The warehouse {warehouse} is in use by {_holder(lock)}. "
            "Wait for that run to finish and run again."
        ) from None
    finally:
        os.close(fd)


def _models(folder: Path, stem: str) -> list[Path]:
    return sorted(folder.glob(MODEL_GLOB.format(stem=stem)))


def _checkpoint(path: Path) -> None:
    """Fold a write-ahead log left by an interrupted writer into the database file."""
    if path.with_name(path.name + ".wal").exists():
        con = duckdb.connect(str(path))
        try:
            con.execute("checkpoint")
        finally:
            con.close()


def begin_build(warehouse: Path | str) -> Path:
    """Start a fresh build of the warehouse from a copy of the previous one.

    Call it while holding :func:`warehouse_lock`. Anything left by an interrupted run is
    discarded; the copy keeps the previous tables so that a run of part of the graph still sees
    the rest.

    Parameters
    ----------
    warehouse
        The warehouse file the run will replace.

    Returns
    -------
    pathlib.Path
        The build file to run against (see :func:`build_path`).
    """
    warehouse = Path(warehouse)
    folder = build_dir(warehouse)
    shutil.rmtree(folder, ignore_errors=True)
    old_umask = os.umask(0o077)
    try:
        folder.mkdir(parents=True, mode=0o700)
        if warehouse.exists():
            _checkpoint(warehouse)
            shutil.copyfile(warehouse, folder / warehouse.name)
            for model in _models(warehouse.parent, warehouse.stem):
                shutil.copyfile(model, folder / model.name)
    finally:
        os.umask(old_umask)
    return folder / warehouse.name


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_build(warehouse: Path | str) -> None:
    """Move a finished build into place: models first, then the warehouse file in one rename.

    Parameters
    ----------
    warehouse
        The warehouse file to replace with :func:`build_path` of it.
    """
    warehouse = Path(warehouse)
    built = build_path(warehouse)
    _checkpoint(built)
    if built.with_name(built.name + ".wal").exists():
        raise RecurrenceError(f"The new warehouse {built} could not be checkpointed; not moved.")
    for model in _models(built.parent, built.stem):
        model.chmod(0o600)  # like the warehouse: written beside personal data, owner only
        _fsync(model)
        model.replace(warehouse.parent / model.name)
    _fsync(built)
    built.replace(warehouse)
    _fsync(warehouse.parent)
    shutil.rmtree(build_dir(warehouse), ignore_errors=True)
