"""Mothers' careers in care proceedings, and the true people and children in each set.

Everything here is the *truth*: true mothers, sets of proceedings (including those before the
extract window), true children and fathers. :mod:`recurrence.synth.records` turns it into the
recorded, corrupted extract rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recurrence.synth import calibration as cal
from recurrence.synth.geography import Geography
from recurrence.synth.names import NameModel
from recurrence.synth.util import day, years_to_days

END = day(cal.EXTRACT_END)
WINDOW = day(cal.WINDOW_START)
CAREER = day(cal.CAREER_START)
YEAR = 365.25

# Kinds of set.
FIRST, RETURN_NEW, RETURN_EXISTING = 0, 1, 2


@dataclass
class Truth:
    """The true population of mothers, sets, children and other adults (all numpy arrays)."""

    # mothers
    m_region: np.ndarray
    m_dob: np.ndarray
    m_age_group: np.ndarray
    m_age_years: np.ndarray
    m_forename: np.ndarray
    m_surname: np.ndarray
    m_alt_surname: np.ndarray
    m_father: np.ndarray
    # sets of care proceedings (s31), sorted by mother then order
    s_mother: np.ndarray
    s_order: np.ndarray
    s_issue: np.ndarray
    s_final: np.ndarray  # -1 when ongoing at extract end
    s_region: np.ndarray
    s_la: np.ndarray
    s_district: np.ndarray
    s_kind: np.ndarray
    s_supervision: np.ndarray
    s_surname: np.ndarray  # the mother's true surname at this set
    s_father: np.ndarray  # -1 when no father takes part
    s_other: np.ndarray  # -1 when no other adult takes part
    # children and their membership of sets
    c_mother: np.ndarray
    c_dob: np.ndarray
    c_sex: np.ndarray  # 0 F, 1 M
    c_forename: np.ndarray
    c_surname: np.ndarray
    c_first_set: np.ndarray
    cs_set: np.ndarray
    cs_child: np.ndarray
    # fathers and other adults
    f_dob: np.ndarray
    f_forename: np.ndarray
    f_surname: np.ndarray
    f_district: np.ndarray
    o_dob: np.ndarray
    o_sex: np.ndarray
    o_forename: np.ndarray
    o_surname: np.ndarray
    stats: dict[str, float] = field(default_factory=dict)


def _fy_start(year: int) -> int:
    return day(cal.CAREER_START.replace(year=year))


def _first_mothers(
    rng: np.random.Generator, fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Region index, financial year and issue day of each mother's first set."""
    share = cal.region_birth_share()
    england = [r for r in cal.REGION_CODES if r.startswith("E")]
    weight = np.array([share[r] * cal.REGION_CASE_RATE[r] for r in england])
    weight = weight / weight.sum()
    regions, years, issues = [], [], []
    for fy in range(cal.CAREER_START.year, cal.EXTRACT_END.year):
        total = cal.interpolate(cal.FIRST_MOTHERS_ENGLAND_BY_FY, fy) * fraction
        expected = np.concatenate([total * weight, [total * cal.WALES_TO_ENGLAND_MOTHERS]])
        counts = rng.poisson(expected)
        start, stop = _fy_start(fy), _fy_start(fy + 1)
        for r, n in enumerate(counts):
            regions.append(np.full(n, r))
            years.append(np.full(n, fy))
            issues.append(rng.integers(start, stop, size=n))
    return np.concatenate(regions), np.concatenate(years), np.concatenate(issues)


def _return_time_days(rng: np.random.Generator, n: int) -> np.ndarray:
    years = rng.lognormal(np.log(cal.RETURN_TIME_MEDIAN_YEARS), cal.RETURN_TIME_SIGMA, size=n)
    return np.maximum(years_to_days(years), cal.RETURN_MIN_GAP_DAYS)


def _calendar_year(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def simulate(rng: np.random.Generator, names: NameModel, geo: Geography, fraction: float) -> Truth:
    """Simulate mothers' careers from 2003, with the children and adults in every set.

    Parameters
    ----------
    rng
        The seeded generator.
    names
        The name model (vocabularies).
    geo
        The synthetic geography.
    fraction
        Scale relative to national volumes.

    Returns
    -------
    Truth
        The true population.
    """
    m_region, m_fy, m_issue = _first_mothers(rng, fraction)
    n_m = len(m_region)
    group = rng.choice(len(cal.AGE_GROUPS), size=n_m, p=np.array(cal.AGE_GROUP_SHARE))
    lo = np.array([a for a, _ in cal.AGE_GROUP_RANGE])[group]
    hi = np.array([b for _, b in cal.AGE_GROUP_RANGE])[group]
    age = lo + rng.random(n_m) ** 1.3 * (hi - lo)  # slightly more at the young end of each group
    m_dob = m_issue - years_to_days(age)
    n_fy = cal.EXTRACT_END.year - cal.CAREER_START.year - 1
    lo_p, hi_p = cal.RETURN_PERIOD_EFFECT
    period = lo_p + (hi_p - lo_p) * (m_fy - cal.CAREER_START.year) / n_fy
    region_effect = np.array([cal.RETURN_REGION_EFFECT[r] for r in cal.REGION_CODES])[m_region]
    target7 = np.array(cal.RETURN_7Y_BY_AGE)[group] * region_effect * period
    from scipy.stats import lognorm

    f7 = lognorm.cdf(7.0, s=cal.RETURN_TIME_SIGMA, scale=cal.RETURN_TIME_MEDIAN_YEARS)
    p_return = np.clip(target7 / f7, 0.0, 0.95)

    m_forename = names.sample(rng, "female", n_m)
    m_surname = names.sample(rng, "surname", n_m)
    m_alt_surname = names.sample(rng, "surname", n_m)
    m_la = geo.sample_la(rng, m_region)

    # --- sets, one round per order ---------------------------------------------------------
    birth_share = np.array([cal.region_birth_share()[r] for r in cal.REGION_CODES])
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("mother", "order", "issue", "region", "la", "district")
    }
    active = np.arange(n_m)
    issue, region, la = m_issue, m_region.copy(), m_la
    district = geo.sample_district(rng, la)
    order = 0
    while len(active):
        for k, v in zip(
            cols, (active, np.full(len(active), order), issue, region, la, district), strict=True
        ):
            cols[k].append(v)
        if order + 1 >= cal.MAX_SETS_PER_MOTHER:
            break
        p = p_return[active] * (1.0 if order == 0 else cal.REPEAT_RETURN_FACTOR)
        nxt = rng.random(len(active)) < np.minimum(p, 0.9)
        gap = _return_time_days(rng, len(active))
        nxt &= issue + gap <= END
        active, issue = active[nxt], (issue + gap)[nxt]
        region, la, district = region[nxt], la[nxt], district[nxt]
        n = len(active)
        u = rng.random(n)
        moved_region = u < cal.RETURN_REGION_MOVE_RATE
        new_region = rng.choice(len(cal.REGION_CODES), size=n, p=birth_share)
        region = np.where(moved_region, new_region, region)
        moved = moved_region | (rng.random(n) < cal.POSTCODE_MOVE_RATE)
        new_la = moved_region | (moved & (rng.random(n) < cal.POSTCODE_MOVE_OUT_OF_LA_RATE))
        la = np.where(new_la, geo.sample_la(rng, region), la)
        district = np.where(moved, geo.sample_district(rng, la), district)
        order += 1
    s = {k: np.concatenate(v) for k, v in cols.items()}
    sort = np.lexsort((s["order"], s["mother"]))
    s = {k: v[sort] for k, v in s.items()}
    n_s = len(s["mother"])
    s_mother, s_order, s_issue = s["mother"], s["order"], s["issue"]
    prev = np.where(s_order > 0, np.arange(n_s) - 1, -1)
    gap = np.where(prev >= 0, s_issue - s_issue[np.maximum(prev, 0)], 0)

    weeks = rng.lognormal(np.log(cal.DURATION_MEDIAN_WEEKS), cal.DURATION_SIGMA, size=n_s)
    s_final = s_issue + np.round(np.clip(weeks, 4, 150) * 7).astype(np.int64)
    s_final = np.where(s_final > END, -1, s_final)
    s_supervision = rng.random(n_s) < cal.SUPERVISION_APPLICATION_RATE

    # --- kind of each return -----------------------------------------------------------------
    s_kind = np.full(n_s, FIRST)
    is_return = s_order > 0
    u = rng.random(n_s)
    s_kind[is_return] = np.where(u[is_return] < cal.RETURN_NEW_CHILD_SHARE, RETURN_NEW, 2)
    under4 = is_return & (s_kind == RETURN_NEW)
    under4 &= rng.random(n_s) < cal.RETURN_UNDER_4_WEEKS_SHARE / cal.RETURN_NEW_CHILD_SHARE
    under4 |= (s_kind == RETURN_NEW) & (gap < 60)  # too soon for an older new child

    # --- the new child of each return with a new child ---------------------------------------
    # Age at issue (days) of under-4-week children: added at birth, 0-6, 7-13 or 14-27 days.
    ret_new = np.flatnonzero(s_kind == RETURN_NEW)
    age = np.empty(len(ret_new), dtype=np.int64)
    u4 = under4[ret_new]
    mix = rng.choice(4, size=len(ret_new), p=[0.20, 0.46, 0.20, 0.14])
    bands = np.array([[0, 1], [0, 7], [7, 14], [14, 28]])
    age_u4 = rng.integers(bands[mix, 0], bands[mix, 1])
    older_max = np.minimum(gap[ret_new] - 1, 3 * 365)
    age_old = rng.integers(28, np.maximum(older_max, 29))
    age[:] = np.where(u4, age_u4, age_old)
    age = np.minimum(age, gap[ret_new] - 1)
    at_birth = u4 & (mix == 0)
    dob_new = s_issue[ret_new] - age
    dob_new[at_birth] = _born_during(rng, s_issue[ret_new][at_birth], s_final[ret_new][at_birth])

    # --- newborn fill of first sets to the published newborn rates ---------------------------
    care_year = _calendar_year(s_issue)
    age_at_entry = np.maximum(s_issue[ret_new] - dob_new, 0)
    nb_return = np.zeros((len(cal.REGION_CODES), 2025), dtype=float)
    np.add.at(nb_return, (s["region"][ret_new], care_year[ret_new]), age_at_entry < 14)
    first = np.flatnonzero(s_order == 0)
    n_first = np.zeros_like(nb_return)
    np.add.at(n_first, (s["region"][first], care_year[first]), 1)
    share = cal.region_birth_share()
    p_nb = np.zeros_like(nb_return)
    for r, code in enumerate(cal.REGION_CODES):
        # A year whose returns alone overshoot the target (or that hits the cap) carries the
        # difference into the next year, so small (sample-scale) counts are not biased upwards.
        carry = 0.0
        for y in range(cal.CAREER_START.year, cal.EXTRACT_END.year + 1):
            births = cal.LIVE_BIRTHS_EW[min(max(y, 2008), 2024)] * share[code] * fraction
            if y == cal.EXTRACT_END.year:
                births *= 0.25
            elif y == cal.CAREER_START.year:
                births *= 0.75
            rate = cal.interpolate(cal.NEWBORN_14D_RATE_ENGLAND, y)
            target = rate * cal.NEWBORN_REGION_EFFECT[code] * births / 10_000
            need = target - nb_return[r, y] + carry
            p_nb[r, y] = np.clip(need / max(n_first[r, y], 1.0), 0.0, 0.9)
            carry = need - p_nb[r, y] * n_first[r, y]
    newborn_first = rng.random(len(first)) < p_nb[s["region"][first], care_year[first]]
    nb_sets = first[newborn_first]
    mix = rng.choice(3, size=len(nb_sets), p=np.array(cal.NEWBORN_AGE_MIX))
    bands = np.array([[0, 1], [0, 7], [7, 14]])
    nb_age = rng.integers(bands[mix, 0], bands[mix, 1])
    nb_dob = s_issue[nb_sets] - nb_age
    at_birth = mix == 0
    nb_dob[at_birth] = _born_during(rng, s_issue[nb_sets][at_birth], s_final[nb_sets][at_birth])

    # --- older children of first sets --------------------------------------------------------
    extra = rng.poisson(cal.CHILDREN_EXTRA_MEAN, size=len(first))
    n_older = np.where(newborn_first, rng.poisson(0.5, size=len(first)), 1 + extra)
    n_older = np.minimum(n_older, 6)
    older_sets = np.repeat(first, n_older)
    mother_age = s_issue[older_sets] - m_dob[s_mother[older_sets]]
    max_age = np.clip(mother_age - int(15.5 * YEAR), 60, int(17.5 * YEAR))
    older_age = 14 + (rng.random(len(older_sets)) ** 1.15 * (max_age - 14)).astype(np.int64)
    older_dob = s_issue[older_sets] - older_age

    # --- true children ----------------------------------------------------------------------
    c_set = np.concatenate([nb_sets, older_sets, ret_new])
    c_dob = np.concatenate([nb_dob, older_dob, dob_new])
    order_c = np.argsort(c_set, kind="stable")
    c_set, c_dob = c_set[order_c], c_dob[order_c]
    n_c = len(c_set)
    c_mother = s_mother[c_set]

    # --- returns about a child already in her first set: the youngest child of set 1 --------
    ret_ex = np.flatnonzero(s_kind == RETURN_EXISTING)
    first_of_mother = np.full(n_m, -1)
    first_of_mother[s_mother[first]] = first
    youngest = np.full(n_s, -1)
    # children are sorted by set; pick per first set the child with the latest dob
    by = np.lexsort((c_dob, c_set))
    last_in_set = np.r_[c_set[by][1:] != c_set[by][:-1], True]
    youngest[c_set[by][last_in_set]] = by[last_in_set]
    pick = youngest[first_of_mother[s_mother[ret_ex]]]
    too_old = (pick < 0) | (s_issue[ret_ex] - c_dob[np.maximum(pick, 0)] >= 18 * YEAR)
    # a return whose earlier children are all adults is about a new child instead
    conv = ret_ex[too_old]
    s_kind[conv] = RETURN_NEW
    conv_dob = s_issue[conv] - rng.integers(28, np.maximum(np.minimum(gap[conv] - 1, 1095), 29))
    ret_ex, pick = ret_ex[~too_old], pick[~too_old]
    c_set = np.concatenate([c_set, conv])
    c_dob = np.concatenate([c_dob, conv_dob])
    c_mother = s_mother[c_set]
    c_ids = np.arange(len(c_set))
    cs_set = np.concatenate([c_set, ret_ex])
    cs_child = np.concatenate([c_ids, pick])
    o = np.lexsort((cs_child, cs_set))
    cs_set, cs_child = cs_set[o], cs_child[o]
    n_c = len(c_set)

    c_sex = (rng.random(n_c) < 0.5).astype(np.int64)
    c_forename = np.where(
        c_sex == 0, names.sample(rng, "female", n_c), names.sample(rng, "male", n_c)
    )

    # --- fathers and other adults -------------------------------------------------------------
    n_f0 = n_m
    m_father = np.arange(n_m)
    present = rng.random(n_s) < cal.FATHER_PRESENT_RATE
    same = rng.random(n_s) < cal.SAME_FATHER_RATE
    same |= s_order == 0
    new_f = present & ~same
    s_father = np.where(present, m_father[s_mother], -1)
    s_father[new_f] = n_f0 + np.arange(int(new_f.sum()))
    n_f = n_f0 + int(new_f.sum())
    f_mother = np.concatenate([np.arange(n_m), s_mother[new_f]])
    f_dob = m_dob[f_mother] + years_to_days(rng.normal(-2.5, 4.0, size=n_f))
    f_forename = names.sample(rng, "male", n_f)
    f_surname = names.sample(rng, "surname", n_f)
    f_region = np.concatenate([m_region, s["region"][new_f]])
    f_district = geo.sample_district(rng, geo.sample_la(rng, f_region))
    # child surname: the mother's usually, else the father's
    s_surname = np.where(
        (s_order > 0) & (rng.random(n_s) < cal.SURNAME_CHANGE_RATE),
        m_alt_surname[s_mother],
        m_surname[s_mother],
    )
    c_surname = np.where(
        rng.random(n_c) < 0.75,
        s_surname[c_set],
        f_surname[m_father[c_mother]],
    )
    has_other = rng.random(n_s) < cal.OTHER_PERSON_RATE
    n_o = int(has_other.sum())
    s_other = np.full(n_s, -1)
    s_other[has_other] = np.arange(n_o)
    o_sex = (rng.random(n_o) < 0.3).astype(np.int64)
    o_dob = m_dob[s_mother[has_other]] - years_to_days(rng.normal(24, 4, size=n_o))
    o_forename = np.where(
        o_sex == 0, names.sample(rng, "female", n_o), names.sample(rng, "male", n_o)
    )
    o_surname = np.where(
        rng.random(n_o) < 0.6, m_surname[s_mother[has_other]], names.sample(rng, "surname", n_o)
    )

    return Truth(
        m_region=m_region,
        m_dob=m_dob,
        m_age_group=group,
        m_age_years=np.floor((m_issue - m_dob) / YEAR).astype(np.int64),
        m_forename=m_forename,
        m_surname=m_surname,
        m_alt_surname=m_alt_surname,
        m_father=m_father,
        s_mother=s_mother,
        s_order=s_order,
        s_issue=s_issue,
        s_final=s_final,
        s_region=s["region"],
        s_la=s["la"],
        s_district=s["district"],
        s_kind=s_kind,
        s_supervision=s_supervision,
        s_surname=s_surname,
        s_father=s_father,
        s_other=s_other,
        c_mother=c_mother,
        c_dob=c_dob,
        c_sex=c_sex,
        c_forename=c_forename,
        c_surname=c_surname,
        c_first_set=c_set,
        cs_set=cs_set,
        cs_child=cs_child,
        f_dob=f_dob,
        f_forename=f_forename,
        f_surname=f_surname,
        f_district=f_district,
        o_dob=o_dob,
        o_sex=o_sex,
        o_forename=o_forename,
        o_surname=o_surname,
    )


def _born_during(rng: np.random.Generator, issue: np.ndarray, final: np.ndarray) -> np.ndarray:
    """Birth days of babies born during proceedings (after issue, before the final hearing)."""
    stop = np.where(final < 0, END, final)
    latest = np.minimum(stop, issue + 200)
    return issue + (rng.random(len(issue)) * np.maximum(latest - issue, 0)).astype(np.int64)
