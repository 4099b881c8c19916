"""Keyed pseudonymisation of names, as a data provider does it before an extract leaves them.

A name is normalised (accents stripped, upper case, letters A-Z only) and hashed with hex
HMAC-SHA256 under the provider's secret key. The Soundex code of the normalised name is hashed the
same way, so that spelling variants that sound alike still agree after hashing. The key is read
from a file or an environment variable and is never logged or written anywhere by this module.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from pathlib import Path

from recurrence.errors import ConfigError

KEY_ENV_VAR = "RECURRENCE_PSEUDONYMISATION_KEY"

# Letters that NFKD does not decompose into a base letter plus accents.
_SPECIAL_LETTERS = str.maketrans(
    {
        "ß": "SS",
        "ẞ": "SS",
        "Æ": "AE",
        "æ": "AE",
        "Œ": "OE",
        "œ": "OE",
        "Ø": "O",
        "ø": "O",
        "Ł": "L",
        "ł": "L",
        "Đ": "D",
        "đ": "D",
        "Þ": "TH",
        "þ": "TH",
        "Ð": "D",
        "ð": "D",
        "ı": "I",
    }
)
_SOUNDEX_CODES = {
    **dict.fromkeys("BFPV", "1"),
    **dict.fromkeys("CGJKQSXZ", "2"),
    **dict.fromkeys("DT", "3"),
    "L": "4",
    **dict.fromkeys("MN", "5"),
    "R": "6",
}


def normalise_name(name: str | None) -> str | None:
    """Normalise a name for hashing: strip accents, upper case, keep letters A-Z only.

    Parameters
    ----------
    name
        A name as recorded, or ``None``.

    Returns
    -------
    str or None
        The normalised name, or ``None`` when nothing is left.

    Examples
    --------
    >>> normalise_name("  Zoë O'Brien-Smith ")
    'ZOEOBRIENSMITH'
    """
    if name is None:
        return None
    decomposed = unicodedata.normalize("NFKD", name.translate(_SPECIAL_LETTERS))
    letters = "".join(ch for ch in decomposed.upper() if "A" <= ch <= "Z")
    return letters or None


def soundex(normalised: str | None) -> str | None:
    """American Soundex code of a normalised name (letters A-Z only).

    H and W do not separate letters with the same code; vowels do.

    Examples
    --------
    >>> soundex("ASHCRAFT"), soundex("TYMCZAK"), soundex("PFISTER")
    ('A261', 'T522', 'P236')
    """
    if not normalised:
        return None
    first = normalised[0]
    digits: list[str] = []
    previous = _SOUNDEX_CODES.get(first, "")
    for ch in normalised[1:]:
        code = _SOUNDEX_CODES.get(ch, "")
        if code and code != previous:
            digits.append(code)
        if ch not in "HW":
            previous = code
    return (first + "".join(digits) + "000")[:4]


def keyed_hash(value: str | None, key: bytes) -> str | None:
    """Hex HMAC-SHA256 of ``value`` under ``key``; ``None`` stays ``None``."""
    if value is None:
        return None
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def hash_name(name: str | None, key: bytes) -> tuple[str | None, str | None]:
    """Return the keyed hashes of a name and of its Soundex code.

    Parameters
    ----------
    name
        The name as recorded.
    key
        The provider's secret key.

    Returns
    -------
    tuple of (str or None, str or None)
        ``(name_hash, soundex_hash)``; both ``None`` when the name normalises to nothing.
    """
    normalised = normalise_name(name)
    return keyed_hash(normalised, key), keyed_hash(soundex(normalised), key)


def read_key(key_file: Path | str | None = None, env_var: str = KEY_ENV_VAR) -> bytes:
    """Read the secret key from a file, else from an environment variable.

    Surrounding white space (such as a final newline) is not part of the key.

    Raises
    ------
    ConfigError
        If neither source holds a key, or the key is shorter than 16 bytes.
    """
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"Cannot read the key file {key_file}: {exc.strerror}.") from None
        source = f"key file {key_file}"
    else:
        key = os.environ.get(env_var, "").strip().encode("utf-8")
        source = f"environment variable {env_var}"
    if not key:
        raise ConfigError(
            f"No pseudonymisation key found in the {source}. Give --key-file FILE or set {env_var}."
        )
    if len(key) < 16:
        raise ConfigError(
            f"The pseudonymisation key in the {source} is shorter than 16 bytes; use a long random "
            "key (for example 32 random bytes, hex encoded)."
        )
    return key


# Clear-text name columns of an identifiable extract, and the id columns of each table.
_NAME_COLUMNS: dict[str, tuple[str, str, str]] = {
    # table: (forename column, surname column, prefix of the hash columns)
    "case_people": ("forename", "surname", ""),
    "births": ("mother_forename", "mother_surname", "mother_"),
}
_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "cases": ("case_id",),
    "case_people": ("case_id", "person_id"),
    "births": ("birth_id", "mother_person_id"),
    "live_births": (),
}


def pseudonymise_extract(
    in_dir: Path, out_dir: Path, key: bytes, *, hash_ids: bool = True
) -> list[Path]:
    """Turn an identifiable extract into a contract extract with keyed-hashed names (and ids).

    The identifiable extract holds the contract's CSV tables, except that ``case_people`` has
    clear-text ``forename`` and ``surname`` columns and ``births`` has ``mother_forename`` and
    ``mother_surname``, in place of the hash columns. Those are dropped and the four hash columns
    added (see :func:`hash_name`). Files are processed lazily with polars, so large extracts fit in
    memory: each distinct value is hashed once and mapped back. The key is never logged or written.

    Parameters
    ----------
    in_dir
        Folder holding ``cases.csv``, ``case_people.csv``, ``births.csv`` (and optionally
        ``live_births.csv`` and ``extract.toml``).
    out_dir
        Folder to write the contract extract into (created if needed).
    key
        The provider's secret key.
    hash_ids
        Also replace ``case_id``, ``person_id``, ``birth_id`` and ``mother_person_id`` by their
        keyed hashes (the same value always gets the same hash, so joins between tables survive).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ExtractError
        If the folder, a table or a required column is missing.
    """
    import shutil

    import polars as pl

    from recurrence.contract import TABLES_BY_NAME
    from recurrence.errors import ExtractError

    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise ExtractError(
            str(in_dir),
            "the identifiable extract folder does not exist.",
            "Give --in the folder that holds cases.csv, case_people.csv and births.csv.",
        )
    tables = [name for name in _ID_COLUMNS if (in_dir / f"{name}.csv").is_file()]
    for name in ("cases", "case_people", "births"):
        if name not in tables:
            raise ExtractError(
                str(in_dir / f"{name}.csv"),
                f"the {name} table is missing.",
                f"Put {name}.csv (UTF-8 CSV with a header row) in the extract folder.",
            )
    if out_dir.resolve() == in_dir.resolve():
        raise ExtractError(
            str(out_dir),
            "the output folder is the input folder.",
            "Give --out a different folder, so the identifiable files are not overwritten.",
        )

    plans = []
    for name in tables:
        path = in_dir / f"{name}.csv"
        lf = pl.scan_csv(path, infer_schema=False, encoding="utf8")
        try:
            columns = lf.collect_schema().names()
        except pl.exceptions.PolarsError as exc:
            raise ExtractError(
                str(path), f"cannot be read as CSV ({exc}).", "Check it is UTF-8 CSV."
            ) from None
        table = TABLES_BY_NAME[name]
        fore, sur, prefix = _NAME_COLUMNS.get(name, ("", "", ""))
        hash_cols = {f"{prefix}{s}" for s in _HASH_SUFFIXES}
        needed = [c for c in table.required_columns if c not in hash_cols]
        if name in _NAME_COLUMNS:
            needed += [fore, sur]
        for column in needed:
            if column not in columns:
                raise ExtractError(
                    str(path),
                    f"has no column '{column}'.",
                    f"Add the column '{column}' (clear-text names go in "
                    f"'{fore or 'forename'}' and '{sur or 'surname'}').",
                )
        plans.append((name, path, lf, columns, fore, sur, prefix))

    # One id mapping per id column name across all tables, so joins survive hashing.
    id_maps: dict[str, pl.DataFrame] = {}
    if hash_ids:
        for id_col in sorted({c for ids in _ID_COLUMNS.values() for c in ids}):
            values = [
                lf.select(pl.col(id_col)) for name, _, lf, cols, *_ in plans if id_col in cols
            ]
            uniq = pl.concat(values).unique().drop_nulls().collect()[id_col].to_list()
            id_maps[id_col] = pl.DataFrame(
                {"old": uniq, "new": [keyed_hash(v, key) for v in uniq]},
                schema={"old": pl.String, "new": pl.String},
            )

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, _path, lf, columns, fore, sur, prefix in plans:
        exprs = []
        if name in _NAME_COLUMNS:
            for clear, part in ((fore, "forename"), (sur, "surname")):
                uniq = lf.select(pl.col(clear).unique().drop_nulls()).collect()[clear].to_list()
                pairs = [hash_name(v, key) for v in uniq]
                exprs.append(
                    pl.col(clear)
                    .replace_strict(
                        uniq, [p[0] for p in pairs], default=None, return_dtype=pl.String
                    )
                    .alias(f"{prefix}{part}_hash")
                )
                exprs.append(
                    pl.col(clear)
                    .replace_strict(
                        uniq, [p[1] for p in pairs], default=None, return_dtype=pl.String
                    )
                    .alias(f"{prefix}{part}_soundex_hash")
                )
        for id_col in _ID_COLUMNS[name] if hash_ids else ():
            if id_col in columns:
                mapping = id_maps[id_col]
                exprs.append(
                    pl.col(id_col).replace_strict(
                        mapping["old"], mapping["new"], default=None, return_dtype=pl.String
                    )
                )
        out = lf.with_columns(exprs)
        order = [c.name for c in TABLES_BY_NAME[name].columns]
        keep = [c for c in order if c in out.collect_schema().names()]
        extra = [c for c in columns if c not in keep and c not in (fore, sur)]
        target = out_dir / f"{name}.csv"
        out.select(keep + extra).sink_csv(target)
        written.append(target)
    toml = in_dir / "extract.toml"
    if toml.is_file():
        shutil.copyfile(toml, out_dir / "extract.toml")
        written.append(out_dir / "extract.toml")
    return written


_HASH_SUFFIXES = ("forename_hash", "surname_hash", "forename_soundex_hash", "surname_soundex_hash")
