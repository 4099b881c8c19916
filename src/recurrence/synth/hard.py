"""The hard corruption profile: the errors a benchmark such as FEBRL puts in, on mothers' rows.

Off by default (``corruption="default"``), so extracts made without it are byte-identical to
those made before it existed. When on, it rewrites the recorded mother rows of ``case_people``
after the default recording, with its own random stream, adding:

* **people who really are alike** (per true mother): common full names shared by many women
  (nine forename-surname pairs); twins (same date of birth, surname and postcode district,
  another forename); sisters (same surname and district, born 1-6 years apart);
* **errors in the date of birth** (per row): missing; day and month transposed (where the day is
  12 or less, so the result is a date); one digit of ``YYYYMM`` wrong; year one out;
* **errors in names** (per row): forename and surname swapped; a further one or two typos (a
  typo changes the name's hash and, unless it keeps the Soundex code, its Soundex hash);
* **person ids re-issued** (per row): a fresh person id, as a system change or a re-registration
  gives, so person ids join fewer of her records.

Truth is unchanged: every row keeps its true mother, so the truth tables score linkage against
who the women really are. Births (the maternity side) are not touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recurrence.synth.names import NameModel
from recurrence.synth.proceedings import Truth
from recurrence.synth.records import ROLE_MOTHER, Cases
from recurrence.synth.util import unique_ids

PROFILES = ("default", "hard")

# --- per true mother ----------------------------------------------------------------------------
COMMON_NAME_SHARE = 0.10  # given a forename and a surname from the three commonest of each
TWIN_SHARE = 0.02  # made the twin of another mother
SISTER_SHARE = 0.04  # made the sister of another mother
# --- per mother row -------------------------------------------------------------------------------
DOB_MISSING_RATE = 0.05
DOB_TRANSPOSED_RATE = 0.04  # day and month swapped (applied only where the day is 1-12)
DOB_DIGIT_RATE = 0.03  # one digit of YYYYMM wrong
DOB_YEAR_RATE = 0.03  # year one out either way
NAME_SWAP_RATE = 0.05  # forename and surname swapped
EXTRA_TYPO_RATE = 0.10  # per name: one more typo ...
SECOND_TYPO_RATE = 0.04  # ... and, per name, another one
REISSUED_ID_RATE = 0.10  # a fresh person id


@dataclass
class HardReport:
    """How many mother rows (or true mothers) each hard-profile corruption touched."""

    counts: dict[str, int]

    def manifest_lines(self) -> list[str]:
        """``key = value`` lines for ``truth/manifest.toml``."""
        return [f"{k} = {v}" for k, v in sorted(self.counts.items())]


def parameters() -> dict[str, float]:
    """The hard profile's rates, for the manifest."""
    return {
        "common_name_share": COMMON_NAME_SHARE,
        "twin_share": TWIN_SHARE,
        "sister_share": SISTER_SHARE,
        "dob_missing_rate": DOB_MISSING_RATE,
        "dob_transposed_rate": DOB_TRANSPOSED_RATE,
        "dob_digit_rate": DOB_DIGIT_RATE,
        "dob_year_rate": DOB_YEAR_RATE,
        "name_swap_rate": NAME_SWAP_RATE,
        "extra_typo_rate": EXTRA_TYPO_RATE,
        "second_typo_rate": SECOND_TYPO_RATE,
        "reissued_id_rate": REISSUED_ID_RATE,
    }


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, dd


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    months = (y - 1970) * 12 + (m - 1)
    start = months.astype("datetime64[M]").astype("datetime64[D]")
    # clip the day to the month's length (a transposed 31st never happens: day <= 12)
    end = (months + 1).astype("datetime64[M]").astype("datetime64[D]")
    length = (end - start).astype(np.int64)
    return start.astype(np.int64) + np.minimum(d, length) - 1


def transpose_day_month(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Swap day and month where that gives another valid date; return (days, changed)."""
    y, m, d = _ymd(days)
    ok = (d <= 12) & (d != m)
    out = np.where(ok, _days(y, np.where(ok, d, m), np.where(ok, m, d)), days)
    return out, ok


def one_digit_wrong(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Change one digit of each date's ``YYYYMM`` (the last two year digits or the month's).

    The result is always a valid year-month different from the input; the day is kept (clipped
    to the new month's length).
    """
    y, m, d = _ymd(days)
    y, m = y.copy(), m.copy()
    for i in range(len(days)):
        for _ in range(50):
            digits = list(f"{y[i]:04d}{m[i]:02d}")
            pos = int(rng.choice([2, 3, 4, 5]))
            new = str(int(rng.integers(0, 10)))
            if new == digits[pos]:
                continue
            digits[pos] = new
            ny, nm = int("".join(digits[:4])), int("".join(digits[4:]))
            if 1 <= nm <= 12 and 1940 <= ny <= 2015:
                y[i], m[i] = ny, nm
                break
    return _days(y, m, d)


def apply_hard_corruption(
    rng: np.random.Generator, c: Cases, t: Truth, names: NameModel
) -> HardReport:
    """Rewrite the mother rows of ``c`` in place with the hard profile's corruptions.

    Parameters
    ----------
    rng
        Its own seeded generator (so the default profile's stream is untouched).
    c
        Recorded cases and people (changed in place).
    t
        The true population (dates of birth for twins and sisters).
    names
        The name model (typo spellings are added to its vocabulary).

    Returns
    -------
    HardReport
        Counts of what was changed.
    """
    counts: dict[str, int] = {}
    rows = np.flatnonzero(c.p_role == ROLE_MOTHER)
    person = c.p_person[rows]
    n_m = len(t.m_dob)

    # --- women who are alike (per true mother, every row of hers) --------------------------------
    first_row = np.full(n_m, -1)
    first_row[person[::-1]] = rows[::-1]  # each mother's first row
    recorded = np.flatnonzero(first_row >= 0)
    top_f = names.female[np.argsort(-names.female_w)[:3]]
    top_s = names.surnames[np.argsort(-names.surname_w)[:3]]
    common = recorded[rng.random(len(recorded)) < COMMON_NAME_SHARE]
    fore_of = np.full(n_m, -1)
    sur_of = np.full(n_m, -1)
    fore_of[common] = rng.choice(top_f, size=len(common))
    sur_of[common] = rng.choice(top_s, size=len(common))
    counts["mothers_common_names"] = len(common)
    sel = fore_of[person] >= 0
    c.p_forename[rows[sel]] = np.where(c.p_forename[rows[sel]] >= 0, fore_of[person[sel]], -1)
    c.p_surname[rows[sel]] = np.where(c.p_surname[rows[sel]] >= 0, sur_of[person[sel]], -1)

    dob_of = np.full(n_m, -1)
    # twins, then sisters: mother b takes mother a's surname and district (and, for a twin,
    # her date of birth); b keeps her own forename, redrawn if it happens to equal a's
    u = rng.random(len(recorded))
    kind = np.where(u < TWIN_SHARE, 1, np.where(u < TWIN_SHARE + SISTER_SHARE, 2, 0))
    sibling_of = np.full(n_m, -1)
    b = recorded[kind > 0]
    a = rng.choice(recorded, size=len(b))
    keep = a != b
    b, a, k = b[keep], a[keep], kind[kind > 0][keep]
    sibling_of[b] = a
    gap = rng.integers(365, 6 * 365, size=len(b)) * np.where(rng.random(len(b)) < 0.5, -1, 1)
    dob_of[b] = np.where(k == 1, t.m_dob[a], t.m_dob[a] + gap)
    counts["mothers_twins"] = int((k == 1).sum())
    counts["mothers_sisters"] = int((k == 2).sum())
    sel = sibling_of[person] >= 0
    r, sib = rows[sel], first_row[sibling_of[person[sel]]]
    c.p_surname[r] = np.where(c.p_surname[r] >= 0, c.p_surname[sib], -1)
    c.p_district[r] = np.where(c.p_district[r] >= 0, c.p_district[sib], -1)
    c.p_dob[r] = dob_of[person[sel]]
    same = (c.p_forename[r] == c.p_forename[sib]) & (c.p_forename[r] >= 0)
    c.p_forename[r[same]] = names.sample(rng, "female", int(same.sum()))

    # --- errors in the date of birth (per row) ---------------------------------------------------
    n = len(rows)
    u = rng.random(n)
    edges = np.cumsum([DOB_MISSING_RATE, DOB_TRANSPOSED_RATE, DOB_DIGIT_RATE, DOB_YEAR_RATE])
    missing = u < edges[0]
    transposed = (u >= edges[0]) & (u < edges[1])
    digit = (u >= edges[1]) & (u < edges[2])
    year = (u >= edges[2]) & (u < edges[3])
    dob = c.p_dob[rows].copy()
    new, changed = transpose_day_month(dob[transposed])
    dob[transposed] = new
    dob[digit] = one_digit_wrong(rng, dob[digit])
    y, m, d = _ymd(dob[year])
    dob[year] = _days(y + np.where(rng.random(int(year.sum())) < 0.5, -1, 1), m, d)
    c.p_dob[rows] = dob
    c.p_dob_missing[rows] = c.p_dob_missing[rows] | missing
    counts["rows_dob_missing"] = int(missing.sum())
    counts["rows_dob_transposed"] = int(changed.sum())
    counts["rows_dob_digit"] = int(digit.sum())
    counts["rows_dob_year"] = int(year.sum())

    # --- errors in names (per row) ---------------------------------------------------------------
    swap = rng.random(n) < NAME_SWAP_RATE
    fore, sur = c.p_forename[rows].copy(), c.p_surname[rows].copy()
    fore[swap], sur[swap] = sur[swap], fore[swap].copy()
    before_f, before_s = fore.copy(), sur.copy()
    for rate in (EXTRA_TYPO_RATE, SECOND_TYPO_RATE):
        fore = names.corrupt(rng, fore, rate, 0.0, 0.0)
        sur = names.corrupt(rng, sur, rate, 0.0, 0.0)
    c.p_forename[rows], c.p_surname[rows] = fore, sur
    counts["rows_names_swapped"] = int(swap.sum())
    counts["rows_forename_typo"] = int((fore != before_f).sum())
    counts["rows_surname_typo"] = int((sur != before_s).sum())

    # --- person ids re-issued (per row) ----------------------------------------------------------
    reissue = rng.random(n) < REISSUED_ID_RATE
    fresh = unique_ids(rng, int(reissue.sum()))
    taken = set(c.p_uid.tolist())
    for i, value in enumerate(fresh):
        while int(value) in taken:
            value = rng.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True)
        fresh[i] = value
        taken.add(int(value))
    c.p_uid[rows[reissue]] = fresh
    counts["rows_person_id_reissued"] = int(reissue.sum())
    counts["mother_rows"] = n
    return HardReport(counts)


__all__ = ["PROFILES", "HardReport", "apply_hard_corruption", "parameters"]
