"""Load and run the SQL files in ``sql/``: one output table per file, values bound as parameters."""

from __future__ import annotations

import re

import duckdb

from recurrence.paths import SQL_DIR

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


def load_sql(name: str) -> str:
    """Return the text of ``sql/<name>`` (for example ``"staging/mothers.sql"``)."""
    path = SQL_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"No SQL file {path}.")
    return path.read_text(encoding="utf-8")


def run_sql(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> None:
    """Run ``sql/<name>``, binding exactly the ``$parameters`` it names.

    Raises
    ------
    ValueError
        If the file names a parameter that was not given, or one was given that it does not use.
    """
    text = load_sql(name)
    used = set(_PARAM.findall(text))
    missing = used - params.keys()
    extra = params.keys() - used
    if missing or extra:
        raise ValueError(
            f"sql/{name}: parameters missing {sorted(missing)}, not used {sorted(extra)}."
        )
    con.execute(text, {k: params[k] for k in used} or None)
