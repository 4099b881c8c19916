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


def exit_code(exc: BaseException | type[BaseException]) -> int:
    """The exit status for an error (or its class): 2 setting, 3 extract, 5 busy, 4 other rule.

    Anything that is not a :class:`RecurrenceError` is a bug in the program: 1.
    """
    from recurrence.safety import WarehouseBusyError

    kind = exc if isinstance(exc, type) else type(exc)
    for base, code in (
        (ConfigError, EXIT_SETTING),
        (ExtractError, EXIT_EXTRACT),
        (WarehouseBusyError, EXIT_BUSY),
        (RecurrenceError, EXIT_CHECK),
    ):
        if issubclass(kind, base):
            return code
    return EXIT_INTERNAL


def exit_code_by_name(class_name: str) -> int | None:
    """The exit status of the :class:`RecurrenceError` subclass of that name, else ``None``.

    Errors raised while a run starts reach the command line only as a class name and a message.
    """
    import recurrence.safety  # noqa: F401  (defines WarehouseBusyError, a subclass to be found)

    pending: list[type[RecurrenceError]] = [RecurrenceError]
    while pending:
        kind = pending.pop()
        if kind.__name__ == class_name:
            return exit_code(kind)
        pending.extend(kind.__subclasses__())
    return None
