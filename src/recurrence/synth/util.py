"""Small vectorised helpers: opaque ids, day numbers and year-month strings."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

_EPOCH = dt.date(1970, 1, 1)
_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def day(d: dt.date) -> int:
    """Days since 1970-01-01 of a date.

    Parameters
    ----------
    d
        A date.

    Returns
    -------
    int
        The day number.
    """
    return (d - _EPOCH).days


def unique_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` distinct random 64-bit ids.

    Parameters
    ----------
    rng
        The seeded generator.
    n
        How many.

    Returns
    -------
    numpy.ndarray
        ``uint64`` ids, all different.
    """
    ids = rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)
    while True:
        _, first = np.unique(ids, return_index=True)
        if len(first) == n:
            return ids
        keep = np.zeros(n, dtype=bool)
        keep[first] = True
        redo = np.flatnonzero(~keep)
        ids[redo] = rng.integers(0, np.iinfo(np.uint64).max, size=len(redo), dtype=np.uint64)


def hex_ids(ids: np.ndarray) -> pa.Array:
    """Format ``uint64`` ids as 16-character lower-case hex strings (an Arrow string array).

    Parameters
    ----------
    ids
        ``uint64`` ids.

    Returns
    -------
    pyarrow.Array
        Strings such as ``'3fa2c41b09d8e7a1'``.
    """
    as_bytes = np.ascontiguousarray(ids.astype(">u8")).view(np.uint8).reshape(-1, 8)
    text = np.ascontiguousarray(_HEX[as_bytes]).view("S16").ravel()
    return pa.array(text, type=pa.binary(16)).cast(pa.binary()).cast(pa.string())


def year_month_array(days: np.ndarray, missing: np.ndarray) -> pa.DictionaryArray:
    """Year and month (``YYYY-MM``) of day numbers as a dictionary-encoded Arrow array.

    Parameters
    ----------
    days
        Day numbers since 1970-01-01.
    missing
        Boolean mask of missing values.

    Returns
    -------
    pyarrow.DictionaryArray
        Strings such as ``'1990-07'``, null where missing.
    """
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    uniq, inverse = np.unique(months, return_inverse=True)
    return coded_array(inverse, missing, np.datetime_as_string(uniq, unit="M"))


def coded_array(codes: np.ndarray, missing: np.ndarray | None, values: np.ndarray) -> pa.Array:
    """Dictionary-encoded Arrow strings from integer codes into ``values``.

    Parameters
    ----------
    codes
        Indices into ``values``.
    missing
        Boolean mask of nulls, or ``None``.
    values
        The distinct strings.

    Returns
    -------
    pyarrow.DictionaryArray
        The encoded array.
    """
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=missing)
    return pa.DictionaryArray.from_arrays(indices, pa.array(np.asarray(values, dtype=str)))


def date_array(days: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Arrow ``date32`` array from day numbers.

    Parameters
    ----------
    days
        Day numbers since 1970-01-01.
    missing
        Boolean mask of nulls, or ``None``.

    Returns
    -------
    pyarrow.Array
        Dates.
    """
    return pa.array(np.asarray(days, dtype=np.int32), mask=missing).cast(pa.date32())


def shift_month(days: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Move day numbers by a whole number of months (to the 15th of the month).

    Parameters
    ----------
    days
        Day numbers.
    delta
        Months to move by.

    Returns
    -------
    numpy.ndarray
        Day numbers of the 15th of the target month.
    """
    months = days.astype("datetime64[D]").astype("datetime64[M]") + delta.astype(np.int64)
    return (months.astype("datetime64[D]") + 14).astype(np.int64)


def years_to_days(years: np.ndarray) -> np.ndarray:
    """Convert years to whole days (365.25 days a year).

    Parameters
    ----------
    years
        Durations in years.

    Returns
    -------
    numpy.ndarray
        Durations in days (int64).
    """
    return np.round(np.asarray(years) * 365.25).astype(np.int64)
