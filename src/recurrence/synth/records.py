"""Turn the true population into recorded extract rows: cases, case_people and births.

Recording adds the data problems real extracts have (rates in :mod:`calibration`): duplicate and
system-changed person ids, surname changes, typos and variant spellings, coarse and wrong birth
months, moves, missing fields, missing and duplicated maternity records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recurrence.contract import OUTCOMES, SEXES
from recurrence.synth import calibration as cal
from recurrence.synth.geography import Geography
from recurrence.synth.names import NameModel
from recurrence.synth.proceedings import END, RETURN_NEW, WINDOW, Truth
from recurrence.synth.util import day, shift_month, unique_ids

SYSTEM_CHANGE = day(cal.SYSTEM_CHANGE)
BIRTHS_START = day(cal.BIRTHS_START)
ROLE_CHILD, ROLE_MOTHER, ROLE_FATHER, ROLE_OTHER = 0, 1, 2, 3
CARE, SUPERVISION, EPO, OTHER = 0, 1, 2, 3
CARE_OUTCOME_P = (0.35, 0.20, 0.12, 0.18, 0.08, 0.02, 0.05)
SUPERVISION_OUTCOME_P = (0.10, 0.00, 0.50, 0.10, 0.20, 0.05, 0.05)
assert len(CARE_OUTCOME_P) == len(OUTCOMES)


@dataclass
class Cases:
    """Recorded cases and case_people rows (numpy arrays of codes), plus truth links."""

    case_uid: np.ndarray
    issue: np.ndarray
    final: np.ndarray
    app_type: np.ndarray
    region: np.ndarray
    la: np.ndarray  # -1 missing
    outcome: np.ndarray  # -1 null
    case_set: np.ndarray  # the true set behind the case
    p_case: np.ndarray  # row -> case index
    p_uid: np.ndarray
    p_role: np.ndarray
    p_person: np.ndarray  # index into the role's truth array (mother, child, father, other)
    p_dob: np.ndarray  # children: birth day; adults: recorded birth day (year-month used)
    p_dob_missing: np.ndarray
    p_sex: np.ndarray  # index into SEXES, -1 missing
    p_forename: np.ndarray
    p_surname: np.ndarray
    p_district: np.ndarray  # -1 missing


@dataclass
class Births:
    """Recorded maternity rows (numpy arrays of codes), with truth links for care children."""

    uid: np.ndarray
    baby_dob: np.ndarray
    region: np.ndarray
    la: np.ndarray  # -1 missing
    mother_uid: np.ndarray
    mother_uid_missing: np.ndarray
    mother_dob: np.ndarray
    mother_dob_missing: np.ndarray
    forename: np.ndarray
    surname: np.ndarray
    district: np.ndarray
    sex: np.ndarray
    live: np.ndarray
    child: np.ndarray  # true child index for births of children in proceedings, else -1
    mother: np.ndarray  # true mother index for those births, else -1


def record_cases(rng: np.random.Generator, t: Truth, names: NameModel) -> Cases:
    """Record the sets in the window as cases, with EPO and other applications around them.

    Parameters
    ----------
    rng
        The seeded generator.
    t
        The true population.
    names
        The name model (corrupted spellings are added to its vocabulary).

    Returns
    -------
    Cases
        The recorded cases and people.
    """
    care = np.flatnonzero(t.s_issue >= WINDOW)
    c_type = np.where(t.s_supervision[care], SUPERVISION, CARE)
    # EPOs a few days before a care application
    epo = care[rng.random(len(care)) < cal.EPO_BEFORE_CARE_RATE]
    epo_issue = t.s_issue[epo] - rng.integers(1, 11, size=len(epo))
    keep = epo_issue >= WINDOW
    epo, epo_issue = epo[keep], epo_issue[keep]
    epo_final = epo_issue + (rng.random(len(epo)) * (t.s_issue[epo] - epo_issue + 1)).astype(int)
    # other applications after a set has ended
    done = care[t.s_final[care] >= 0]
    oth = done[rng.random(len(done)) < cal.OTHER_APPLICATION_RATE]
    oth_issue = t.s_final[oth] + rng.integers(60, 600, size=len(oth))
    keep = oth_issue <= END
    oth, oth_issue = oth[keep], oth_issue[keep]
    oth_final = oth_issue + rng.integers(30, 200, size=len(oth))
    oth_final = np.where(oth_final > END, -1, oth_final)

    case_set = np.concatenate([care, epo, oth])
    issue = np.concatenate([t.s_issue[care], epo_issue, oth_issue])
    final = np.concatenate([t.s_final[care], epo_final, oth_final])
    app_type = np.concatenate([c_type, np.full(len(epo), EPO), np.full(len(oth), OTHER)]).astype(
        np.int64
    )
    order = np.lexsort((case_set, issue))
    case_set, issue, final, app_type = case_set[order], issue[order], final[order], app_type[order]
    n_case = len(case_set)
    outcome = np.where(
        app_type == SUPERVISION,
        rng.choice(len(OUTCOMES), size=n_case, p=SUPERVISION_OUTCOME_P),
        rng.choice(len(OUTCOMES), size=n_case, p=CARE_OUTCOME_P),
    )
    outcome = np.where(app_type == EPO, -1, outcome)
    outcome = np.where(app_type == OTHER, OUTCOMES.index("child_arrangements_order"), outcome)
    outcome = np.where(final < 0, -1, outcome)
    la = np.where(rng.random(n_case) < cal.MISSING_LA_RATE, -1, t.s_la[case_set])

    # --- people rows ---------------------------------------------------------------------------
    # children: membership rows of each case's set (cs sorted by set)
    starts = np.searchsorted(t.cs_set, case_set, side="left")
    stops = np.searchsorted(t.cs_set, case_set, side="right")
    counts = stops - starts
    ch_case = np.repeat(np.arange(n_case), counts)
    offsets = np.arange(len(ch_case)) - np.repeat(np.cumsum(counts) - counts, counts)
    ch_person = t.cs_child[np.repeat(starts, counts) + offsets]
    mo_case = np.arange(n_case)
    mo_person = t.s_mother[case_set]
    fa_case = np.flatnonzero(t.s_father[case_set] >= 0)
    fa_person = t.s_father[case_set[fa_case]]
    ot_case = np.flatnonzero((t.s_other[case_set] >= 0) & (app_type != OTHER))
    ot_person = t.s_other[case_set[ot_case]]

    p_case = np.concatenate([mo_case, ch_case, fa_case, ot_case])
    p_role = np.concatenate(
        [
            np.full(len(mo_case), ROLE_MOTHER),
            np.full(len(ch_case), ROLE_CHILD),
            np.full(len(fa_case), ROLE_FATHER),
            np.full(len(ot_case), ROLE_OTHER),
        ]
    )
    p_person = np.concatenate([mo_person, ch_person, fa_person, ot_person])
    o = np.lexsort((p_role, p_case))
    p_case, p_role, p_person = p_case[o], p_role[o], p_person[o]
    n = len(p_case)
    is_m, is_c = p_role == ROLE_MOTHER, p_role == ROLE_CHILD
    is_f, is_o = p_role == ROLE_FATHER, p_role == ROLE_OTHER
    row_set = case_set[p_case]

    # person ids: 4 per true person (system A, A duplicate, system B, B duplicate)
    n_people = [len(t.m_dob), len(t.c_dob), len(t.f_dob), len(t.o_dob)]
    base = np.cumsum([0, *n_people])
    role_base = np.select([is_m, is_c, is_f], [base[0], base[1], base[2]], base[3])
    ids = unique_ids(rng, int(base[-1]) * 4).reshape(-1, 4)
    era = (issue[p_case] >= SYSTEM_CHANGE).astype(np.int64)
    dup_rate = np.where(is_m, cal.DUPLICATE_ID_RATE_MOTHER, cal.DUPLICATE_ID_RATE_OTHER)
    dup = (rng.random(n) < dup_rate).astype(np.int64)
    p_uid = ids[role_base + p_person, era * 2 + dup]

    # dates of birth
    dob = np.select(
        [is_m, is_c, is_f],
        [t.m_dob[np.where(is_m, p_person, 0)], t.c_dob[np.where(is_c, p_person, 0)],
         t.f_dob[np.where(is_f, p_person, 0)]],
        t.o_dob[np.where(is_o, p_person, 0)] if len(t.o_dob) else 0,
    )  # fmt: skip
    adult = ~is_c
    u = rng.random(n)
    off = adult & (u < cal.BYM_OFF_BY_ONE_RATE)
    dob = np.where(off, shift_month(dob, np.where(rng.random(n) < 0.5, -1, 1)), dob)
    dob_missing = adult & (u > 1.0 - cal.BYM_MISSING_RATE)

    # sex
    sex = np.select(
        [is_m, is_f, is_c],
        [0, 1, t.c_sex[np.where(is_c, p_person, 0)]],
        t.o_sex[np.where(is_o, p_person, 0)] if len(t.o_sex) else 0,
    )
    u = rng.random(n)
    sex = np.where(u < 0.003, SEXES.index("U"), sex)
    sex = np.where(u > 1.0 - cal.MISSING_FIELD_RATE, -1, sex)

    # names
    forename = np.select(
        [is_m, is_c, is_f],
        [t.m_forename[np.where(is_m, p_person, 0)], t.c_forename[np.where(is_c, p_person, 0)],
         t.f_forename[np.where(is_f, p_person, 0)]],
        t.o_forename[np.where(is_o, p_person, 0)] if len(t.o_forename) else 0,
    )  # fmt: skip
    surname = np.select(
        [is_m, is_c, is_f],
        [t.s_surname[row_set], t.c_surname[np.where(is_c, p_person, 0)],
         t.f_surname[np.where(is_f, p_person, 0)]],
        t.o_surname[np.where(is_o, p_person, 0)] if len(t.o_surname) else 0,
    )  # fmt: skip
    forename = names.corrupt(
        rng, forename, cal.TYPO_RATE, cal.VARIANT_SPELLING_RATE, cal.MISSING_FIELD_RATE
    )
    surname = names.corrupt(
        rng, surname, cal.TYPO_RATE, cal.VARIANT_SPELLING_RATE, cal.MISSING_FIELD_RATE
    )

    district = np.where(is_f, t.f_district[np.where(is_f, p_person, 0)], t.s_district[row_set])
    district = np.where(rng.random(n) < cal.MISSING_FIELD_RATE, -1, district)

    return Cases(
        case_uid=unique_ids(rng, n_case),
        issue=issue,
        final=final,
        app_type=app_type,
        region=t.s_region[case_set],
        la=la,
        outcome=outcome,
        case_set=case_set,
        p_case=p_case,
        p_uid=p_uid,
        p_role=p_role,
        p_person=p_person,
        p_dob=dob,
        p_dob_missing=dob_missing,
        p_sex=sex,
        p_forename=forename,
        p_surname=surname,
        p_district=district,
    )


def record_births(
    rng: np.random.Generator,
    t: Truth,
    names: NameModel,
    geo: Geography,
    fraction: float,
) -> Births:
    """Build the maternity extract: births of children in proceedings plus all other births.

    Parameters
    ----------
    rng
        The seeded generator.
    t
        The true population.
    names
        The name model.
    geo
        The synthetic geography.
    fraction
        Scale relative to national volumes.

    Returns
    -------
    Births
        The recorded births.
    """
    n_regions = len(cal.REGION_CODES)
    # --- births of children in proceedings ---------------------------------------------------
    in_window = (t.c_dob >= BIRTHS_START) & (t.c_dob <= END)
    recorded = in_window & (rng.random(len(t.c_dob)) >= cal.MATERNITY_MISSING_RECORD_RATE)
    child = np.flatnonzero(recorded)
    cset = t.c_first_set[child]
    mother = t.c_mother[child]
    n_mothers = len(t.m_dob)
    care_region = t.s_region[cset]

    # --- background births per region and year, to the ONS totals ----------------------------
    share = cal.region_birth_share()
    care_year = _year(t.c_dob[child])
    care_count = np.zeros((n_regions, 2025), dtype=np.int64)
    np.add.at(care_count, (care_region, care_year), 1)
    b_days, b_region = [], []
    for year in range(cal.BIRTHS_START.year, cal.EXTRACT_END.year + 1):
        start = day(cal.BIRTHS_START.replace(year=year))
        stop = (
            day(cal.EXTRACT_END) + 1
            if year == cal.EXTRACT_END.year
            else start + 365 + (1 if year % 4 == 0 else 0)
        )
        quarter = 0.25 if year == cal.EXTRACT_END.year else 1.0
        for r, code in enumerate(cal.REGION_CODES):
            live = round(cal.LIVE_BIRTHS_EW[year] * share[code] * fraction * quarter)
            n = max(live - care_count[r, year], 0)
            n += rng.binomial(live, cal.NON_LIVE_BIRTH_RATE)
            b_days.append(rng.integers(start, stop, size=n))
            b_region.append(np.full(n, r))
    days = np.concatenate(b_days)
    region = np.concatenate(b_region)
    nb = len(days)
    # the extra births of each region-year block are the non-live ones (random rows)
    block = np.repeat(np.arange(len(b_days)), [len(a) for a in b_days])
    block_sizes = np.array([len(a) for a in b_days])
    targets = []
    for year in range(cal.BIRTHS_START.year, cal.EXTRACT_END.year + 1):
        quarter = 0.25 if year == cal.EXTRACT_END.year else 1.0
        for r, code in enumerate(cal.REGION_CODES):
            live = round(cal.LIVE_BIRTHS_EW[year] * share[code] * fraction * quarter)
            targets.append(max(live - care_count[r, year], 0))
    n_nonlive = block_sizes - np.array(targets)
    rank = np.empty(nb, dtype=np.int64)
    perm = np.lexsort((rng.random(nb), block))
    block_start = np.cumsum(block_sizes) - block_sizes
    rank[perm] = np.arange(nb) - np.repeat(block_start, block_sizes)
    live_flag = rank >= n_nonlive[block]

    # repeat mothers: a share of births are a later birth of an earlier birth's mother
    order = np.lexsort((days, region))
    days, region, live_flag = days[order], region[order], live_flag[order]
    parent = np.arange(nb)
    follow = rng.random(nb) < cal.BACKGROUND_REPEAT_BIRTH_SHARE
    per_day = np.bincount(region, minlength=n_regions) / max(END - BIRTHS_START, 1)
    lag = np.round(rng.gamma(4.0, 0.7, size=nb) * 365.25 * per_day[region]).astype(np.int64)
    region_start = np.searchsorted(region, region, side="left")
    cand = np.arange(nb) - np.maximum(lag, 1)
    follow &= cand >= region_start
    parent[follow] = cand[follow]
    root = parent
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    mother_age = np.clip(rng.normal(29.5, 5.8, size=nb), 15.5, 46.0)
    mother_dob_root = days - np.round(mother_age * 365.25).astype(np.int64)
    mother_dob = mother_dob_root[root]
    forename = names.sample(rng, "female", nb)[root]
    surname = names.sample(rng, "surname", nb)[root]
    la_bg = geo.sample_la(rng, region)[root]
    district = geo.sample_district(rng, la_bg)
    moved = rng.random(nb) < 0.7  # a later birth at the same address 30% of the time
    district = np.where(moved | (root == np.arange(nb)), district, district[root])
    la_bg = geo.district_la[district]
    region = geo.la_region[la_bg]

    # --- put the two together ------------------------------------------------------------------
    n_care = len(child)
    all_days = np.concatenate([t.c_dob[child], days])
    all_region = np.concatenate([care_region, region])
    all_la = np.concatenate([t.s_la[cset], la_bg])
    all_district = np.concatenate([t.s_district[cset], district])
    all_mdob = np.concatenate([t.m_dob[mother], mother_dob])
    all_fore = np.concatenate([t.m_forename[mother], forename])
    all_sur = np.concatenate([t.s_surname[cset], surname])
    all_sex = np.concatenate([t.c_sex[child], (rng.random(nb) < 0.512).astype(np.int64)])
    all_live = np.concatenate([np.ones(n_care, dtype=bool), live_flag])
    # maternity mother ids: one per true care mother and per background root
    mid = unique_ids(rng, n_mothers + nb)
    all_mid = np.concatenate([mid[mother], mid[n_mothers + root]])
    total = n_care + nb
    dup = rng.random(total) < cal.MATERNITY_DUPLICATE_ID_RATE
    all_mid = np.where(dup, unique_ids(rng, total), all_mid)
    mid_missing = rng.random(total) < 0.002

    u = rng.random(total)
    off = u < cal.MATERNITY_BYM_OFF_BY_ONE_RATE
    all_mdob = np.where(
        off, shift_month(all_mdob, np.where(rng.random(total) < 0.5, -1, 1)), all_mdob
    )
    mdob_missing = u > 1.0 - cal.MATERNITY_BYM_MISSING_RATE
    all_fore = names.corrupt(
        rng, all_fore, cal.MATERNITY_TYPO_RATE, cal.MATERNITY_VARIANT_RATE,
        cal.MATERNITY_MISSING_FIELD_RATE,
    )  # fmt: skip
    all_sur = names.corrupt(
        rng, all_sur, cal.MATERNITY_TYPO_RATE, cal.MATERNITY_VARIANT_RATE,
        cal.MATERNITY_MISSING_FIELD_RATE,
    )  # fmt: skip
    all_district = np.where(rng.random(total) < cal.MATERNITY_MISSING_FIELD_RATE, -1, all_district)
    all_la = np.where(rng.random(total) < cal.MISSING_LA_RATE, -1, all_la)
    all_sex = np.where(rng.random(total) < 0.003, -1, all_sex)

    # rows in date order, ties in random order
    uid = unique_ids(rng, total)
    o = np.lexsort((uid, all_days))
    child_all = np.concatenate([child, np.full(nb, -1)])
    mother_all = np.concatenate([mother, np.full(nb, -1)])
    return Births(
        uid=uid[o],
        baby_dob=all_days[o],
        region=all_region[o],
        la=all_la[o],
        mother_uid=all_mid[o],
        mother_uid_missing=mid_missing[o],
        mother_dob=all_mdob[o],
        mother_dob_missing=mdob_missing[o],
        forename=all_fore[o],
        surname=all_sur[o],
        district=all_district[o],
        sex=all_sex[o],
        live=all_live[o],
        child=child_all[o],
        mother=mother_all[o],
    )


def _year(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def new_child_return_days(t: Truth) -> np.ndarray:
    """Days from each mother's true first issue to her first return with a new child (-1: none).

    Parameters
    ----------
    t
        The true population.

    Returns
    -------
    numpy.ndarray
        One value per true mother.
    """
    n_m = len(t.m_dob)
    first_issue = np.full(n_m, -1)
    first_issue[t.s_mother[t.s_order == 0]] = t.s_issue[t.s_order == 0]
    out = np.full(n_m, np.iinfo(np.int64).max)
    sel = (t.s_order > 0) & (t.s_kind == RETURN_NEW)
    np.minimum.at(out, t.s_mother[sel], t.s_issue[sel] - first_issue[t.s_mother[sel]])
    return np.where(out == np.iinfo(np.int64).max, -1, out)


__all__ = ["Births", "Cases", "new_child_return_days", "record_births", "record_cases"]
