"""Runs that cannot corrupt the warehouse or the release: one writer, and one commit at the end.

Every run, however it is launched (``recurrence run``, the Dagster UI, the inbox sensor,
``dagster asset materialize``), follows the same protocol, held by the ``recurrence`` resource for
the length of the run:

1. **Lock.** An exclusive ``fcntl.flock`` on ``<warehouse>.lock`` (:func:`warehouse_lock`). A
   second run on the same warehouse stops at once with a message naming the holder. The
   operating system releases the lock when its holder exits, however it exits.
2. **Repair and clean.** Under the lock, a commit left half-done by a killed run is finished or
   undone (:func:`recover`), then stale build and ``.partial`` folders are removed
   (:func:`clean_stale`): nobody else can be using them while we hold the lock.
3. **Build beside.** The previous warehouse is copied into ``.<name>.build/`` beside it
   (:func:`begin_build`); every step writes the copy, and report files go to
   ``reports/.<run_id>.partial/``. The current warehouse and release are never written.
4. **Commit** (:func:`commit`), only when every step and blocking check has passed, in this
   order, each step printing ``commit  <step>``:

   ``checkpoint``   fold the build's write-ahead log into its file; fsync.
   ``journal``      write ``<warehouse>.commit`` (run id, reports folder): the intent to commit.
   ``report``       rename ``reports/.<run>.partial`` to ``reports/<run>``.
   ``warehouse``    rename the build over the warehouse (``os.replace``): the commit point.
   ``models``       move the build's linkage models beside the warehouse.
   ``latest_run``   write ``reports/LATEST_RUN`` (atomically): the published commit record.
   ``latest``       point ``reports/latest`` at ``<run>`` (a symbolic link swapped atomically).
   ``done``         remove the journal and the build folder.

What "the old pair or the new pair" means at every instant: the *current pair* is the warehouse
file and the run named by ``reports/LATEST_RUN`` (``latest/`` always points at that run).

- Before ``warehouse``: the old warehouse and the old ``LATEST_RUN``/``latest`` (a released
  ``reports/<run>/`` folder may exist for the new run, but nothing names it).
- After ``latest``: the new pair.
- Between ``warehouse`` and ``latest`` (no computation happens there, only renames): the journal
  ``<warehouse>.commit`` exists and marks the state as *committing*; the warehouse is already the
  new one. The next run, from any path, rolls the journal forward under the lock before anything
  else (:func:`recover`); a journal whose build file is still in the build folder is rolled back
  (the new report folder is removed, nothing else had changed). :func:`committed_state` tells a
  reader which case holds.

A run of part of the graph that writes no report files commits its warehouse alone (no journal
``reports`` entry): ``LATEST_RUN`` keeps naming the last full release.

Every file that holds row-level data (the warehouse, its write-ahead log, the linkage models,
the lock, the journal, error logs) is owner-only: the run holds a umask of 077 while it builds
(:func:`private_umask`), and published report files are given the user's normal permissions when
they are released.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from recurrence.errors import RecurrenceError

#: Files that belong to a warehouse ``name.duckdb``: the database, then its Splink models.
MODEL_GLOB = "{stem}.splink_*.json"
LATEST = "latest"
LATEST_POINTER = "LATEST_RUN"
PARTIAL_SUFFIX = ".partial"


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The user's umask when the program started: published files get the permissions it gives.
USER_UMASK = _read_umask()


class WarehouseBusyError(RecurrenceError):
    """Another run holds the warehouse's lock, or another process has it open for writing."""


def lock_path(warehouse: Path) -> Path:
    """The lock file of a warehouse: ``<warehouse>.lock`` beside it."""
    return warehouse.with_name(warehouse.name + ".lock")


def journal_path(warehouse: Path) -> Path:
    """The commit journal of a warehouse: ``<warehouse>.commit`` beside it (see module notes)."""
    return warehouse.with_name(warehouse.name + ".commit")


def build_dir(warehouse: Path) -> Path:
    """The private folder in which a run builds the next warehouse: ``.<name>.build`` beside it."""
    return warehouse.with_name(f".{warehouse.name}.build")


def build_path(warehouse: Path) -> Path:
    """The warehouse file a run writes, inside :func:`build_dir`, with the same file name."""
    return build_dir(warehouse) / warehouse.name


def staging_folder(reports: Path | str, run_id: str) -> Path:
    """The hidden folder in which run ``run_id`` writes its files before release.

    Parameters
    ----------
    reports
        The reports root (``paths.reports``).
    run_id
        The Dagster run id.

    Returns
    -------
    pathlib.Path
        ``reports/.<run_id>.partial``.
    """
    return Path(reports) / f".{run_id}{PARTIAL_SUFFIX}"


def released_folder(reports: Path | str, run_id: str) -> Path:
    """Where run ``run_id``'s files are once released: ``reports/<run_id>``."""
    return Path(reports) / run_id


def _holder(lock: Path) -> str:
    try:
        text = lock.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "another process (no details recorded)"


class WarehouseLock:
    """An exclusive lock on a warehouse, held from :meth:`acquire` until :meth:`release`.

    Parameters
    ----------
    warehouse
        The warehouse file (it need not exist yet).
    holder
        Words naming the holder, written into the lock file for the message another run gets.
    """

    def __init__(self, warehouse: Path | str, holder: str = "") -> None:
        self.warehouse = Path(warehouse)
        self.path = lock_path(self.warehouse)
        self.holder = holder
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or fail at once.

        Raises
        ------
        WarehouseBusyError
            When another process holds the lock; the message names it and when it started.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise WarehouseBusyError(
                f"The warehouse {self.warehouse} is in use by {_holder(self.path)}. "
                "Wait for that run to finish (or stop it) and run again; nothing was changed."
            ) from None
        started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        who = f"process {os.getpid()}, started {started}"
        os.ftruncate(fd, 0)
        os.write(fd, f"{who}{', ' + self.holder if self.holder else ''}\n".encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        """Release the lock (closing the descriptor; the file stays, to avoid a race)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@contextmanager
def warehouse_lock(warehouse: Path | str, holder: str = "") -> Iterator[Path]:
    """Hold the warehouse's exclusive lock for the length of the block, or fail at once.

    Parameters
    ----------
    warehouse
        The warehouse file (it need not exist yet).
    holder
        Words naming the holder (such as the run id), shown to a run that is refused.

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    WarehouseBusyError
        When another process holds the lock; the message names it and when it started.
    """
    lock = WarehouseLock(warehouse, holder)
    lock.acquire()
    try:
        yield lock.path
    finally:
        lock.release()


def ensure_not_locked(warehouse: Path | str) -> None:
    """Fail at once if a run holds the warehouse's lock; otherwise return (holding nothing).

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
            "Wait for that run to finish (or stop it) and run again; nothing was changed."
        ) from None
    finally:
        os.close(fd)


@contextmanager
def private_umask() -> Iterator[None]:
    """Create every file in the block owner-only (umask 077), DuckDB's write-ahead log included."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def open_for_writing_error(path: Path, exc: duckdb.Error) -> WarehouseBusyError | None:
    """The clear error for DuckDB refusing a file another process holds open, else ``None``."""
    text = str(exc)
    if "lock" not in text.lower():
        return None
    pid = ""
    if "PID " in text:
        pid = " (process " + text.split("PID ", 1)[1].split(")", 1)[0].strip() + ")"
    return WarehouseBusyError(
        f"The warehouse {path} is open for writing in another program{pid}, such as a notebook: "
        "close that connection (con.close(), or restart the notebook's kernel) and run again; "
        "nothing was changed."
    )


def _models(folder: Path, stem: str) -> list[Path]:
    return sorted(folder.glob(MODEL_GLOB.format(stem=stem)))


def _connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        error = open_for_writing_error(path, exc)
        if error is None:
            raise
        raise error from None


def _checkpoint(path: Path) -> None:
    """Fold a write-ahead log left by a writer into the file (nothing to do without one)."""
    if not path.with_name(path.name + ".wal").exists():
        return
    con = _connect(path, read_only=False)
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def _refuse_if_open_for_writing(path: Path) -> None:
    """Fail clearly if another program (a notebook) has the file open for writing.

    DuckDB lets readers share a file but gives a writer it alone, so a read-only open fails
    exactly when someone holds it for writing; readers are not disturbed.
    """
    _connect(path, read_only=True).close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_stale(warehouse: Path | str, reports: Path | str | None) -> list[Path]:
    """Remove what killed or failed runs left: the build folder and ``.partial`` report folders.

    Call it only while holding the warehouse's lock (and after :func:`recover`).

    Parameters
    ----------
    warehouse
        The warehouse file.
    reports
        The reports root, or ``None``.

    Returns
    -------
    list of pathlib.Path
        The folders removed.
    """
    warehouse = Path(warehouse)
    removed = []
    # Temporary files of the atomic writes of a killed commit, then its folders.
    candidates = [
        build_dir(warehouse),
        journal_path(warehouse).with_name(f".{warehouse.name}.commit.tmp"),
    ]
    if reports is not None and Path(reports).is_dir():
        candidates += [
            p
            for p in Path(reports).iterdir()
            if p.name.startswith(".")
            and (
                p.name.endswith(PARTIAL_SUFFIX)
                or p.name.startswith((f".{LATEST}.", f".{LATEST_POINTER}."))
            )
        ]
    for path in candidates:
        if not path.exists() and not path.is_symlink():
            continue
        if path.is_symlink() or path.is_file():
            path.unlink()
            removed.append(path)
        else:
            shutil.rmtree(path)
            removed.append(path)
    return removed


def begin_build(warehouse: Path | str) -> Path:
    """Start a fresh build of the warehouse from a copy of the previous one.

    Call it while holding the lock, after :func:`clean_stale`. The copy keeps the previous
    tables, so that a run of part of the graph still sees the rest.

    Parameters
    ----------
    warehouse
        The warehouse file the run will replace.

    Returns
    -------
    pathlib.Path
        The build file to run against (see :func:`build_path`).

    Raises
    ------
    WarehouseBusyError
        When another program has the warehouse open for writing.
    """
    warehouse = Path(warehouse)
    folder = build_dir(warehouse)
    shutil.rmtree(folder, ignore_errors=True)
    with private_umask():
        folder.mkdir(parents=True, mode=0o700)
        if warehouse.exists():
            _refuse_if_open_for_writing(warehouse)
            _checkpoint(warehouse)
            shutil.copyfile(warehouse, folder / warehouse.name)
            for model in _models(warehouse.parent, warehouse.stem):
                shutil.copyfile(model, folder / model.name)
    return folder / warehouse.name


def _write_atomic(path: Path, text: str, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)
    tmp.replace(path)
    _fsync(path.parent)


def _publishable(folder: Path) -> None:
    """Give a released folder the user's normal permissions (the run built it owner-only)."""
    for path in [folder, *folder.rglob("*")]:
        base = 0o777 if path.is_dir() else 0o666
        path.chmod(base & ~USER_UMASK)


def point_latest(reports: Path | str, run_id: str) -> Path:
    """Make ``reports/latest`` a symbolic link to ``<run_id>``, swapped in one rename.

    A reader of ``latest/`` sees the previous run's complete folder or the new one's, never a
    mixture nor nothing. A ``latest`` left as a plain folder by an older version is replaced.

    Parameters
    ----------
    reports
        The reports root.
    run_id
        The released run folder's name.

    Returns
    -------
    pathlib.Path
        ``reports/latest``.
    """
    root = Path(reports)
    target = root / LATEST
    tmp = root / f".{LATEST}.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_id, target_is_directory=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)  # the copy an older version made; replaced once
    tmp.replace(target)
    _fsync(root)
    return target


def current_run(reports: Path | str) -> str | None:
    """The run named by ``reports/LATEST_RUN`` (the last committed release), if any."""
    path = Path(reports) / LATEST_POINTER
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class CommitState:
    """What a reader finds: ``"clean"``, or ``"committing"`` with the run being committed."""

    state: str
    run_id: str | None
    warehouse_swapped: bool


def committed_state(warehouse: Path | str) -> CommitState:
    """Whether a commit is half-done, and if so whether its warehouse is already in place.

    Parameters
    ----------
    warehouse
        The warehouse file.

    Returns
    -------
    CommitState
        ``clean`` when no journal exists (the warehouse and ``LATEST_RUN`` form one pair);
        else ``committing`` with ``warehouse_swapped`` telling which way :func:`recover` goes.
    """
    warehouse = Path(warehouse)
    journal = journal_path(warehouse)
    if not journal.exists():
        return CommitState("clean", None, warehouse_swapped=False)
    record = json.loads(journal.read_text(encoding="utf-8"))
    return CommitState(
        "committing", record["run_id"], warehouse_swapped=not build_path(warehouse).exists()
    )


Say = Callable[[str], None]


def _quiet(_line: str) -> None:
    return None


def _finish(warehouse: Path, record: dict, say: Say) -> None:
    """The steps after the commit point, each safe to repeat (used by commit and recover)."""
    built = build_path(warehouse)
    say("models")
    for model in _models(built.parent, built.stem):
        model.replace(warehouse.parent / model.name)
    _fsync(warehouse.parent)
    reports = record.get("reports")
    if reports:
        run_id = record["run_id"]
        staged = staging_folder(reports, run_id)
        if staged.exists():  # only if the kill came before the report step finished
            _publishable(staged)
            staged.rename(released_folder(reports, run_id))
        say("latest_run")
        _write_atomic(Path(reports) / LATEST_POINTER, run_id + "\n", 0o666 & ~USER_UMASK)
        say("latest")
        point_latest(reports, run_id)
    say("done")
    journal_path(warehouse).unlink(missing_ok=True)
    _fsync(warehouse.parent)
    shutil.rmtree(build_dir(warehouse), ignore_errors=True)


def commit(
    warehouse: Path | str, run_id: str, reports: Path | str | None, *, say: Say = _quiet
) -> None:
    """Make the build and the run's report folder current together (see module notes).

    Parameters
    ----------
    warehouse
        The warehouse file to replace with :func:`build_path` of it.
    run_id
        The run being committed.
    reports
        The reports root whose ``.<run_id>.partial`` folder is released with the warehouse, or
        ``None`` to commit the warehouse alone.
    say
        Called with the name of each commit step as it starts (progress lines).

    Raises
    ------
    RecurrenceError
        When the build could not be checkpointed (nothing is changed).
    """
    warehouse = Path(warehouse)
    built = build_path(warehouse)
    say("checkpoint")
    _checkpoint(built)
    if built.with_name(built.name + ".wal").exists():
        raise RecurrenceError(f"The new warehouse {built} could not be checkpointed; not moved.")
    _fsync(built)
    for model in _models(built.parent, built.stem):
        model.chmod(0o600)
        _fsync(model)
    staged = staging_folder(reports, run_id) if reports is not None else None
    with_report = staged is not None and staged.is_dir()
    record = {"run_id": run_id, "reports": str(Path(reports)) if with_report else None}
    say("journal")
    _write_atomic(journal_path(warehouse), json.dumps(record) + "\n", 0o600)
    if with_report:
        say("report")
        for child in staged.rglob("*"):
            if child.is_file():
                _fsync(child)
        _publishable(staged)
        _fsync(staged)
        staged.rename(released_folder(reports, run_id))
        _fsync(Path(reports))
    say("warehouse")
    built.replace(warehouse)
    _fsync(warehouse.parent)
    _finish(warehouse, record, say)


def recover(warehouse: Path | str, *, say: Say = _quiet) -> str | None:
    """Finish or undo a commit that a killed run left half-done; call it holding the lock.

    Parameters
    ----------
    warehouse
        The warehouse file.
    say
        Called with the name of each step redone.

    Returns
    -------
    str or None
        ``"rolled forward <run>"``, ``"rolled back <run>"``, or ``None`` when nothing was left.
    """
    warehouse = Path(warehouse)
    journal = journal_path(warehouse)
    if not journal.exists():
        return None
    record = json.loads(journal.read_text(encoding="utf-8"))
    run_id = record["run_id"]
    if build_path(warehouse).exists():
        # Killed before the warehouse rename: the old pair is current; undo the report rename.
        reports = record.get("reports")
        if reports and current_run(reports) != run_id:
            shutil.rmtree(released_folder(reports, run_id), ignore_errors=True)
        journal.unlink()
        _fsync(warehouse.parent)
        return f"rolled back {run_id}"
    _finish(warehouse, record, say)
    return f"rolled forward {run_id}"
