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
