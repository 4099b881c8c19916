"""Errors a user can act on: each message names the file, row and column and says how to fix it."""

from __future__ import annotations


class RecurrenceError(Exception):
    """Base class for errors shown to users as one clear message, without a traceback."""


class ConfigError(RecurrenceError):
    """The configuration is missing, malformed or holds an unknown or ill-typed setting."""


class ExtractError(RecurrenceError):
    """An extract cannot be read at all: a missing file or column, an unreadable file.

    Row-level problems never raise this: those rows are quarantined with a reason instead.
    """

    def __init__(self, file: str, problem: str, fix: str) -> None:
        self.file = file
        self.problem = problem
        self.fix = fix
        super().__init__(f"{file}: {problem} {fix}")


#: Exit status of the ``recurrence`` program for each kind of failure (README "Commands").
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_SETTING = 2
EXIT_EXTRACT = 3
EXIT_CHECK = 4
EXIT_BUSY = 5


def exit_code(exc: BaseException) -> int:
    """The exit status for an error: 2 setting, 3 extract, 5 warehouse busy, 4 other data rule.

    Anything that is not a :class:`RecurrenceError` is a bug in the program: 1.
    """
    from recurrence.safety import WarehouseBusyError

    if isinstance(exc, ConfigError):
        return EXIT_SETTING
    if isinstance(exc, ExtractError):
        return EXIT_EXTRACT
    if isinstance(exc, WarehouseBusyError):
        return EXIT_BUSY
    if isinstance(exc, RecurrenceError):
        return EXIT_CHECK
    return EXIT_INTERNAL
