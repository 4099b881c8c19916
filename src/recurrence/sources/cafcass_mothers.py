"""Mothers without ``ALF_PE``: joining a woman's CMS and ECMS ids on the evidence Cafcass holds.

SAIL's Cafcass tables hold no names and no postcodes. Where ``ALF_PE`` is missing, a woman's
CMS id and her ECMS id are two person keys, and her proceedings before and after the April 2014
switch are not joined. What the tables do hold about her is her week of birth, the local
authority of each set of proceedings, the people recorded as the children's fathers (their
weeks of birth) and the children themselves (week of birth and sex). This module scores pairs of
mother keys from the two systems on that evidence (Fellegi-Sunter: a likelihood ratio per
comparison) and joins the pairs whose match probability reaches a threshold, at most one key of
the other system per key.

Nothing is labelled by hand. The model's m probabilities (how often one woman's records agree)
come from the pairs of records the ids already join (one id in two sets of proceedings, or two
ids with one ``ALF_PE``); its u probabilities (how often two women's records agree) from pairs
of different ids of one system, which are different women by construction; its prior (the share
of candidate pairs that are one woman) by EM with m and u held fixed. The week-of-birth m
probabilities are settings (``[mother_linkage]``): the same woman's week of birth is recorded
once per system, so the ids alone cannot say how often the two systems disagree on it.

What cannot be told apart is reported, not guessed away: two women born in the same week, with
no father recorded in common and no child in common, score the same whether they are one woman
or two; the adaptation log counts such candidate pairs (see ``docs/sources.md``).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from recurrence.sources.log import AdaptationLog

#: Levels of each record comparison, in the order they are checked.
WEEK_LEVELS = ("exact", "one_week")
LA_LEVELS = ("same", "different")
FATHER_LEVELS = ("shared", "different", "unknown")
CHILD_LEVELS = ("shared", "none")


@dataclass(frozen=True)
class MotherRecord:
    """One mother row of the extract, with the evidence about her in that set of proceedings.

    Attributes
    ----------
    key
        The contract person key (``ALF-...``, ``CMS-...`` or ``ECMS-...``).
    system
        ``cms`` or ``ecms``: the system the case came from.
    case_id
        The contract case id.
    week
        Her ``WEEKOFBIRTH`` (the Monday), or None.
    la_code
        The case's local authority (ONS code).
    children
        The children of the case as (week of birth, sex).
    fathers
        Weeks of birth of the fathers recorded for the children of the case.
    """

    key: str
    system: str
    case_id: str
    week: dt.date | None
    la_code: str
    children: frozenset[tuple[dt.date, str]]
    fathers: frozenset[dt.date]


@dataclass
class MotherLinks:
    """What :func:`link_mothers_without_alf` decided.

    Attributes
    ----------
    joined
        Person key -> the key it is joined to (the smaller of the pair's keys).
    candidates
        Candidate key pairs scored (the two systems, week of birth within a week).
    only_week
        Candidate pairs whose only evidence is the week of birth (no father or child recorded
        in common, and none in conflict): one woman and two score alike.
    prior
        The EM estimate of the share of possible CMS x ECMS pairs that are one woman, for pairs
        where neither key is an ``ALF_PE`` (0) and where one is (1).
    probabilities
        Match probability of every candidate pair, keyed by the ordered key pair.
    """

    joined: dict[str, str]
    candidates: int
    only_week: int
    prior: dict[int, float]
    probabilities: dict[tuple[str, str], float]


def compare(a: MotherRecord, b: MotherRecord) -> tuple[str, str, str]:
    """The levels of the record comparisons: local authority, fathers, children.

    Parameters
    ----------
    a, b
        Two mother records.

    Returns
    -------
    tuple of str
        One of :data:`LA_LEVELS`, :data:`FATHER_LEVELS` and :data:`CHILD_LEVELS`.
    """
    la = "same" if a.la_code == b.la_code else "different"
    if a.fathers and b.fathers:
        father = "shared" if a.fathers & b.fathers else "different"
    else:
        father = "unknown"
    child = "shared" if a.children & b.children else "none"
    return la, father, child


def week_level(a: dt.date | None, b: dt.date | None) -> str | None:
    """``exact``, ``one_week`` (7 days apart) or None (further, or unknown)."""
    if a is None or b is None:
        return None
    gap = abs((a - b).days)
    return "exact" if gap == 0 else "one_week" if gap <= 7 else None


def _proportions(counts: Counter[tuple[int, str]], totals: list[int]) -> list[dict[str, float]]:
    """Smoothed proportions per comparison (Jeffreys: +0.5 per level), so none is 0 or 1."""
    levels = (LA_LEVELS, FATHER_LEVELS, CHILD_LEVELS)
    return [
        {level: (counts[(i, level)] + 0.5) / (totals[i] + 0.5 * len(names)) for level in names}
        for i, names in enumerate(levels)
    ]


def _tally(pairs: list[tuple[MotherRecord, MotherRecord]]) -> list[dict[str, float]]:
    counts: Counter[tuple[int, str]] = Counter()
    for a, b in pairs:
        for i, level in enumerate(compare(a, b)):
            counts[(i, level)] += 1
    return _proportions(counts, [len(pairs)] * 3)


def estimate_m(records: list[MotherRecord]) -> list[dict[str, float]]:
    """The m probabilities from pairs of records the person key already joins (one woman)."""
    by_key: dict[str, list[MotherRecord]] = defaultdict(list)
    for r in records:
        by_key[r.key].append(r)
    pairs = [
        (rs[i], rs[j])
        for rs in by_key.values()
        for i in range(len(rs))
        for j in range(i + 1, len(rs))
    ]
    return _tally(pairs)


def estimate_u(
    records: list[MotherRecord], rng: random.Random, sample: int
) -> list[dict[str, float]]:
    """The u probabilities from random pairs of different ids of one system (two women)."""
    by_system: dict[str, list[MotherRecord]] = defaultdict(list)
    for r in records:
        by_system[r.system].append(r)
    pairs = []
    groups = [g for g in by_system.values() if len({r.key for r in g}) > 1]
    for _ in range(sample if groups else 0):
        group = groups[rng.randrange(len(groups))]
        a, b = group[rng.randrange(len(group))], group[rng.randrange(len(group))]
        if a.key != b.key:
            pairs.append((a, b))
    return _tally(pairs)


def week_u(records: list[MotherRecord]) -> dict[str, float]:
    """The u probabilities of the week-of-birth levels, from different ids of one system.

    Two ids of one system are two women, so the share of such pairs born in the same week (or a
    week apart) is how often two women agree by chance: counted exactly from the weeks.
    """
    same = near = total = 0
    weeks: dict[str, dict[str, dt.date]] = defaultdict(dict)
    for r in records:
        if r.week is not None:
            weeks[r.system][r.key] = r.week
    for by_key in weeks.values():
        counts = Counter(by_key.values())
        n = len(by_key)
        total += n * (n - 1)
        same += sum(c * (c - 1) for c in counts.values())
        near += sum(
            c * (counts.get(w + dt.timedelta(days=7), 0) + counts.get(w - dt.timedelta(days=7), 0))
            for w, c in counts.items()
        )
    return {"exact": (same + 0.5) / (total + 1), "one_week": (near + 0.5) / (total + 1)}


def link_mothers_without_alf(
    records: list[MotherRecord],
    settings: dict[str, dict[str, Any]],
    log: AdaptationLog,
) -> MotherLinks:
    """Join mother keys of CMS and ECMS that the evidence says are one woman.

    Candidates are pairs of keys from the two systems, not both keyed by ``ALF_PE`` (two
    different ``ALF_PE`` values are two women), whose weeks of birth are at most a week apart.
    Each pair's Bayes factor is the week-of-birth factor times the largest product of the
    record factors (local authority, fathers, children) over the pair's records; the match
    probability uses the EM prior. Pairs at or above ``mother_linkage.threshold`` are joined,
    the most probable first, each key at most once.

    Parameters
    ----------
    records
        Every mother record of the extract.
    settings
        Adapter settings (``[mother_linkage]``).
    log
        The adaptation log: counts and the model's parameters are added (no identifiers).

    Returns
    -------
    MotherLinks
        The joins and the figures behind them.
    """
    conf = settings["mother_linkage"]
    empty = MotherLinks({}, 0, 0, {}, {})
    if not conf["enabled"] or not records:
        return empty
    rng = random.Random(conf["seed"])
    m = estimate_m(records)
    u = estimate_u(records, rng, conf["u_sample_pairs"])
    wu = week_u(records)
    wm = dict(zip(WEEK_LEVELS, conf["week_m"], strict=True))

    by_key: dict[str, list[MotherRecord]] = defaultdict(list)
    for r in records:
        by_key[r.key].append(r)
    week_of = {k: next((r.week for r in rs if r.week), None) for k, rs in by_key.items()}
    # A key already in both systems (one ALF_PE) has no gap at the switch to close.
    systems = {k: {r.system for r in rs} for k, rs in by_key.items()}
    system_of = {k: next(iter(v)) for k, v in systems.items() if len(v) == 1}
    alone = Counter((system_of[k], k.startswith("ALF-")) for k in system_of)
    # Every pair of a CMS-only and an ECMS-only key could be one woman, except two ALF_PE keys.
    # Every pair of a CMS-only and an ECMS-only key could be one woman, except two ALF_PE keys.
    # The pairs fall in two classes with their own prior: neither key has ALF_PE, or one has
    # (a woman SAIL matched in one system and not the other; rarer, and the EM says how rare).
    possible = {
        0: alone[("cms", False)] * alone[("ecms", False)],
        1: alone[("cms", True)] * alone[("ecms", False)]
        + alone[("cms", False)] * alone[("ecms", True)],
    }
    by_week: dict[tuple[str, dt.date], list[str]] = defaultdict(list)
    for k, w in week_of.items():
        if w is not None and k in system_of:
            by_week[(system_of[k], w)].append(k)

    # Log Bayes factors of every level, computed once.
    weight = [{lv: math.log(m[i][lv] / u[i][lv]) for lv in m[i]} for i in range(3)]
    week_weight = {lv: math.log(wm[lv] / wu[lv]) for lv in WEEK_LEVELS}
    factors: dict[tuple[str, str], float] = {}
    only_week = 0
    for k in sorted(k for k in system_of if system_of[k] == "cms" and week_of[k] is not None):
        w = week_of[k]
        for shift in (-7, 0, 7):
            for other in by_week.get(("ecms", w + dt.timedelta(days=shift)), []):
                if k.startswith("ALF-") and other.startswith("ALF-"):
                    continue
                level = week_level(w, week_of[other])
                if level is None:
                    continue
                best = -math.inf
                bare = True
                for a in by_key[k]:
                    for b in by_key[other]:
                        la, father, child = compare(a, b)
                        bare = bare and father == "unknown" and child == "none"
                        best = max(best, weight[0][la] + weight[1][father] + weight[2][child])
                only_week += bare
                factors[(k, other)] = week_weight[level] + best

    # The prior of each class is the share of its possible pairs that are one woman, by EM with
    # m and u fixed. Pairs outside the week-of-birth block have a likelihood ratio of about 0
    # (week_m puts all the weight within a week), so they add nothing to the sum but count in
    # the denominator: the block alone cannot push the prior to 1.
    pairs = list(factors)
    score = np.array([factors[p] for p in pairs])
    classes = np.array([sum(k.startswith("ALF-") for k in p) for p in pairs], dtype=int)
    prior = {
        c: min(max(min(len(factors), n) / max(n, 1) / 2, 1e-9), 1 - 1e-9)
        for c, n in possible.items()
    }
    chance = np.zeros(len(pairs))
    for _ in range(500 if pairs else 0):
        log_odds = np.array([math.log(prior[c] / (1 - prior[c])) for c in (0, 1)])[classes]
        chance = 1 / (1 + np.exp(-(score + log_odds)))
        new = {
            c: min(max(float(chance[classes == c].sum()) / n, 1e-9), 1 - 1e-9) if n else 1e-9
            for c, n in possible.items()
        }
        if all(abs(new[c] - prior[c]) < 1e-12 for c in prior):
            break
        prior = new
    probabilities = dict(zip(pairs, chance.tolist(), strict=True))

    joined: dict[str, str] = {}
    used: set[str] = set()
    for (a, b), p in sorted(probabilities.items(), key=lambda item: (-item[1], item[0])):
        if p < conf["threshold"] or a in used or b in used:
            continue
        used.update((a, b))
        joined[max(a, b)] = min(a, b)

    log.figures["mother model: candidate pairs (CMS x ECMS, week of birth within a week)"] = len(
        factors
    )
    log.figures["mother model: candidate pairs with only the week of birth as evidence"] = only_week
    log.figures["mother model: possible CMS x ECMS pairs and the estimated share one woman"] = {
        "neither has ALF_PE": [possible[0], float(f"{prior[0]:.3g}")],
        "one has ALF_PE": [possible[1], float(f"{prior[1]:.3g}")],
    }
    log.figures["mother model: m (same woman) and u (two women) per comparison"] = {
        name: {level: [round(m[i][level], 4), round(u[i][level], 4)] for level in levels}
        for i, (name, levels) in enumerate(
            (("local authority", LA_LEVELS), ("fathers", FATHER_LEVELS), ("children", CHILD_LEVELS))
        )
    } | {"week of birth": {lv: [wm[lv], round(wu[lv], 6)] for lv in WEEK_LEVELS}}
    log.figures["mothers joined by the model across CMS and ECMS"] = len(joined)
    return MotherLinks(joined, len(factors), only_week, prior, probabilities)
