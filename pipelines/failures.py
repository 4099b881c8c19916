"""How every stage reports an error the user can fix: a Dagster failure with just its message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from recurrence.errors import RecurrenceError, exit_code

#: Metadata key of a failure carrying the exit status `recurrence run` ends with.
EXIT_CODE = "exit_code"


@contextmanager
def user_errors_as_failure() -> Iterator[None]:
    """Turn an error the user can fix into a Dagster failure carrying its message and exit code."""
    try:
        yield
    except RecurrenceError as exc:
        raise dg.Failure(
            description=str(exc), metadata={EXIT_CODE: exit_code(exc)}, allow_retries=False
        ) from None
