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
