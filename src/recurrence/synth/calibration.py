"""Published calibration targets and the corruption rates of the synthetic generator.

Every number the generator aims at is a named constant here, with its source. Sources (see
``shared/reference/published_figures.md``):

* Broadhurst et al. 2015 (*British Journal of Social Work* 45(8)) and Broadhurst et al. 2017
  (*Vulnerable Birth Mothers and Recurrent Care Proceedings*): about 1 in 4 mothers return within
  7 years; highest for mothers aged 16-19 at index; 25% of returns are issued before the earlier
  set's final hearing and a further 35% within a year of it; about 70% of returns concern an infant
  born during or after the earlier proceedings and 60% a child under 4 weeks.
* Alrouh, Broadhurst and Cusworth 2020 (Nuffield FJO, Wales): 38% of mothers under 20 at index
  return within 8 years against 18% of those over 30; most returns within 3 years.
* Broadhurst et al. 2018 (*Born into care*, Nuffield FJO): newborns (under 7 days) in England
  15 per 10,000 live births in 2008 rising to 35 in 2016; Yorkshire and The Humber and North West
  above 30, London 18 (lowest), South East 20 (pooled 2008-2016).
* Alrouh et al. 2019 and Pattinson et al. 2021 (Nuffield FJO): newborns under 14 days, England
  about 48 and Wales about 68 per 10,000 in 2019/20 (derived from counts over ONS births).
* Cafcass care demand statistics: s.31 applications 8,832 (2009/10), 11,110 (2012/13), 14,599
  (2016/17), 13,556 (2018/19).
* ONS *Births in England and Wales*: 613,936 (2020), 624,828 (2021), 605,479 (2022), 591,072
  (2023), about 730,000 at the 2012 peak; 2022 regional counts (secondary summary).

Rates of the built-in data problems (corruption) are also here, so the manifest can report them.
"""

from __future__ import annotations

import datetime as dt
import itertools

from recurrence.contract import REGIONS

GENERATOR_VERSION = "1.0.0"

# --- time window --------------------------------------------------------------------------------
EXTRACT_END = dt.date(2024, 3, 31)
WINDOW_START = dt.date(2008, 4, 1)  # first care proceedings written (England and Wales)
CAREER_START = dt.date(2003, 4, 1)  # careers simulated from here: earlier sets are left-truncated
BIRTHS_START = dt.date(2008, 1, 1)  # maternity extract covers births from here to EXTRACT_END
SYSTEM_CHANGE = dt.date(2014, 4, 1)  # case-management change: every person gets new person_ids

# --- scale --------------------------------------------------------------------------------------
SCALE_FRACTION = {"national": 1.0, "sample": 1.0 / 50.0}

# --- live births (ONS) --------------------------------------------------------------------------
# England and Wales live births by calendar year; 2020-2023 confirmed, 2012 peak about 730,000,
# other years interpolated to the published shape. 2024 covers January-March only.
LIVE_BIRTHS_EW: dict[int, int] = {
    2008: 690_000,
    2009: 706_000,
    2010: 723_000,
    2011: 724_000,
    2012: 730_000,
    2013: 698_000,
    2014: 696_000,
    2015: 697_000,
    2016: 696_000,
    2017: 679_000,
    2018: 657_000,
    2019: 641_000,
    2020: 613_936,
    2021: 624_828,
    2022: 605_479,
    2023: 591_072,
    2024: 590_000,
}
# Live births by region of usual residence, 2022 (ONS via a secondary summary); used as shares.
LIVE_BIRTHS_2022_BY_REGION: dict[str, int] = {
    "E12000001": 24_701,
    "E12000002": 76_399,
    "E12000003": 55_203,
    "E12000004": 46_849,
    "E12000005": 63_368,
    "E12000006": 64_294,
    "E12000007": 106_696,
    "E12000008": 90_589,
    "E12000009": 48_947,
    "W92000004": 28_296,
}
NON_LIVE_BIRTH_RATE = 0.004  # extra maternity records with live_birth = false

# --- mothers entering a first set of care proceedings -------------------------------------------
# England, by financial year of first issue (interpolated between these points). Cafcass s.31
# applications (cases, including returns) were 8,832 in 2009/10 and 14,599 in 2016/17; first-time
# mothers are roughly applications less returns.
FIRST_MOTHERS_ENGLAND_BY_FY: dict[int, float] = {
    2003: 6_500,
    2008: 6_900,
    2009: 7_200,
    2012: 9_000,
    2016: 11_600,
    2018: 10_900,
    2023: 10_500,
}
WALES_TO_ENGLAND_MOTHERS = 1.0 / 20.0
# Relative rate of care proceedings per live birth by region (England regions only).
REGION_CASE_RATE: dict[str, float] = {
    "E12000001": 1.45,
    "E12000002": 1.30,
    "E12000003": 1.30,
    "E12000004": 1.00,
    "E12000005": 1.10,
    "E12000006": 0.85,
    "E12000007": 0.65,
    "E12000008": 0.75,
    "E12000009": 0.90,
}

# --- age at index -------------------------------------------------------------------------------
AGE_GROUPS: tuple[str, ...] = ("under 20", "20-24", "25-29", "30-34", "35+")
AGE_GROUP_SHARE: tuple[float, ...] = (0.15, 0.27, 0.24, 0.18, 0.16)
AGE_GROUP_RANGE: tuple[tuple[float, float], ...] = (
    (16.0, 20.0),
    (20.0, 25.0),
    (25.0, 30.0),
    (30.0, 35.0),
    (35.0, 45.0),
)

# --- recurrence ---------------------------------------------------------------------------------
# Target probability of a later set within 7 years, by age group at index (Broadhurst 2015/2017:
# 24% overall; Alrouh 2020: 38% under 20 vs 18% over 30 at 8 years).
RETURN_7Y_BY_AGE: tuple[float, ...] = (0.35, 0.27, 0.23, 0.19, 0.165)
RETURN_REGION_EFFECT: dict[str, float] = {
    "E12000001": 1.10,
    "E12000002": 1.06,
    "E12000003": 1.08,
    "E12000004": 1.06,
    "E12000005": 1.06,
    "E12000006": 0.97,
    "E12000007": 0.80,
    "E12000008": 0.95,
    "E12000009": 0.97,
    "W92000004": 1.00,
}
# Mild period effect: multiplier rises linearly from the first to the last financial year.
RETURN_PERIOD_EFFECT = (0.92, 1.10)  # (2003/04, 2023/24)
# Time from one set's issue to the next: lognormal (years). Reproduces 25% of returns before the
# earlier final hearing and a further 35% within a year of it (median 1.3-1.45 years).
RETURN_TIME_MEDIAN_YEARS = 1.45
RETURN_TIME_SIGMA = 0.96
RETURN_MIN_GAP_DAYS = 14
# Probability that a mother who has returned returns again (relative to her first-return chance).
REPEAT_RETURN_FACTOR = 1.25
MAX_SETS_PER_MOTHER = 6
# Composition of returns (Broadhurst 2017): 70% concern a child born during/after the earlier
# proceedings; 60% (of all returns) a child under 4 weeks.
RETURN_NEW_CHILD_SHARE = 0.70
RETURN_UNDER_4_WEEKS_SHARE = 0.60
RETURN_REGION_MOVE_RATE = 0.05  # later set brought by an authority in another region

# --- newborns -----------------------------------------------------------------------------------
# Under-14-day newborns per 10,000 live births, England (Broadhurst 2018: 15 under 7 days in 2008,
# 35 in 2016; Pattinson 2021: about 48 under 14 days in 2019/20). About 75% are under 7 days.
NEWBORN_14D_RATE_ENGLAND: dict[int, float] = {
    2003: 17.0,
    2008: 20.0,
    2016: 44.0,
    2020: 48.0,
    2024: 48.0,
}
NEWBORN_REGION_EFFECT: dict[str, float] = {  # relative to England; Wales from Alrouh 2019
    "E12000001": 1.40,
    "E12000002": 1.35,
    "E12000003": 1.35,
    "E12000004": 1.00,
    "E12000005": 1.10,
    "E12000006": 0.85,
    "E12000007": 0.60,
    "E12000008": 0.70,
    "E12000009": 0.90,
    "W92000004": 1.40,
}
# Age at entry of a newborn (under 14 days): share added at birth (born after issue; age 0),
# share aged 0-6 days at issue, and share aged 7-13 days. Gives about 75% under 7 days.
NEWBORN_AGE_MIX = (0.22, 0.53, 0.25)
CHILDREN_EXTRA_MEAN = 0.65  # Poisson mean of additional children in a first set
FATHER_PRESENT_RATE = 0.60
SAME_FATHER_RATE = 0.65  # a father in a later set is the same man as her usual partner
OTHER_PERSON_RATE = 0.10  # an 'other' adult (grandparent, relative) in the case
EPO_BEFORE_CARE_RATE = 0.04  # an EPO issued a few days before a care application (not counted)
OTHER_APPLICATION_RATE = 0.015  # an 'other' application about one of her children (not counted)
SUPERVISION_APPLICATION_RATE = 0.08
DURATION_MEDIAN_WEEKS = 40.0
DURATION_SIGMA = 0.30

# --- data problems in case_people (rates per row unless stated) --------------------------------
DUPLICATE_ID_RATE_MOTHER = 0.04  # the same woman under a second person_id in one system
DUPLICATE_ID_RATE_OTHER = 0.01  # children and fathers
SURNAME_CHANGE_RATE = 0.10  # mothers' later records under a different surname
TYPO_RATE = 0.02  # per name: a typing error (changes the hash and usually the Soundex)
VARIANT_SPELLING_RATE = 0.03  # per name: a variant spelling with the same Soundex code
BYM_MISSING_RATE = 0.02  # adult birth_year_month missing
BYM_OFF_BY_ONE_RATE = 0.03  # adult birth_year_month one month out
POSTCODE_MOVE_RATE = 0.25  # a later set under a different postcode district
POSTCODE_MOVE_OUT_OF_LA_RATE = 0.40  # of moves within a region, to another authority
MISSING_FIELD_RATE = 0.02  # sex, postcode, each name: missing
MISSING_LA_RATE = 0.01  # cases.la_code missing

# --- data problems in births (the maternity extract) --------------------------------------------
MATERNITY_MISSING_RECORD_RATE = 0.03  # child in proceedings born in window without a record
MATERNITY_TYPO_RATE = 0.01
MATERNITY_VARIANT_RATE = 0.01
MATERNITY_BYM_MISSING_RATE = 0.01
MATERNITY_BYM_OFF_BY_ONE_RATE = 0.01
MATERNITY_MISSING_FIELD_RATE = 0.01
MATERNITY_DUPLICATE_ID_RATE = 0.01  # a birth recorded under a second maternity mother id
BACKGROUND_REPEAT_BIRTH_SHARE = 0.40  # births that are a later birth of an earlier mother

REGION_CODES: tuple[str, ...] = tuple(REGIONS)


def interpolate(points: dict[int, float], year: float) -> float:
    """Linear interpolation in a ``{year: value}`` table, flat beyond its ends.

    Parameters
    ----------
    points
        Values at whole years.
    year
        The year to evaluate at.

    Returns
    -------
    float
        The interpolated value.
    """
    keys = sorted(points)
    if year <= keys[0]:
        return float(points[keys[0]])
    if year >= keys[-1]:
        return float(points[keys[-1]])
    for lo, hi in itertools.pairwise(keys):
        if lo <= year <= hi:
            frac = (year - lo) / (hi - lo)
            return float(points[lo] + frac * (points[hi] - points[lo]))
    raise AssertionError("unreachable")  # pragma: no cover


def region_birth_share() -> dict[str, float]:
    """Share of England and Wales live births in each region (2022 shares).

    Returns
    -------
    dict of str to float
        Region code to share; the shares sum to 1.
    """
    total = sum(LIVE_BIRTHS_2022_BY_REGION.values())
    return {r: n / total for r, n in LIVE_BIRTHS_2022_BY_REGION.items()}


def parameters() -> dict[str, object]:
    """All scalar calibration and corruption constants, for the manifest.

    Returns
    -------
    dict of str to object
        Upper-case constant names (lower-cased) to their values; tables are left out.
    """
    out: dict[str, object] = {}
    for name, value in globals().items():
        if name.isupper() and isinstance(value, int | float) and not isinstance(value, bool):
            out[name.lower()] = value
    return out
