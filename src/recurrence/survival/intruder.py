"""A linear-programming intruder against the published recurrence estimates (one method).

The intruder reads the published table and knows what anyone knows about it: the groups of
each covariate add up to the overall row (mothers at start once, mothers at risk and returns at
every horizon), a group's mothers at start are one number at every horizon, cumulative returns
never fall and mothers at risk never rise as the horizon grows, neither exceeds the mothers at
start, counts are non-negative, and a horizon nobody in a group could reach (given the extract
end date) has nobody at risk and no returns beyond those of the last reachable horizon. For every
hidden count, and every hidden interval count of returns, it finds the smallest and largest
value consistent with all of that; a range narrower than ``min_cell`` is a finding. It also
reports published interval counts of returns under ``min_cell`` and any estimate published
beside hidden counts (an estimate gives its counts back).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import linprog

from recurrence.survival.disclosure import applicable, index_floor


@dataclass(frozen=True)
class Finding:
    """A number the intruder can narrow to less than ``min_cell`` (or read directly)."""

    group: tuple[str, str]
    cell: str
    lower: float
    upper: float


def attack(
    published: pl.DataFrame,
    *,
    min_cell: int,
    extract_end: dt.date | None,
    truth: pl.DataFrame | None = None,
) -> list[Finding]:
    """Attack one method's published estimates table; return what leaks (empty when safe).

    Parameters
    ----------
    published
        Published rows of one method: ``group_variable``, ``group_value``, ``horizon_years``,
        ``estimate``, ``n_at_start``, ``n_at_risk``, ``n_events`` (null where not published).
    min_cell
        Every hidden number must have a feasible range at least this wide.
    extract_end
        The extract end date (public).
    truth
        The unsuppressed table, if at hand: not used as knowledge, only as one feasible point
        that spares linear programmes (a range already wider than ``min_cell`` across known
        feasible points needs no solving).

    Returns
    -------
    list of Finding
        Hidden cells narrowed below ``min_cell``, published interval counts under it, and
        estimates published beside hidden counts.
    """
    if published.is_empty():
        return []
    # Public knowledge of the whole table: nobody was indexed before its first index period.
    floor = index_floor(
        zip(published["group_variable"].to_list(), published["group_value"].to_list(), strict=True)
    )
    overall = published.filter(pl.col("group_variable") == "all")
    if overall.height and overall["n_at_start"].is_not_null().all():
        # With the overall row published the covariates share no unknown: attack each alone.
        found: dict[Finding, None] = {}
        for variable in published["group_variable"].unique(maintain_order=True):
            if variable != "all":
                part = published.filter(pl.col("group_variable").is_in(["all", variable]))
                found.update(dict.fromkeys(_attack(part, min_cell, extract_end, truth, floor)))
        return list(found)
    return _attack(published, min_cell, extract_end, truth, floor)


def _attack(
    published: pl.DataFrame,
    min_cell: int,
    extract_end: dt.date | None,
    truth: pl.DataFrame | None,
    floor: dt.date | None,
) -> list[Finding]:
    """:func:`attack` on one set of rows linked by unknowns (``floor``: :func:`index_floor`)."""
    findings: list[Finding] = []
    horizons = sorted(set(published["horizon_years"].to_list()))
    rows = {
        (r["group_variable"], r["group_value"], r["horizon_years"]): r
        for r in published.iter_rows(named=True)
    }
    groups = list(dict.fromkeys((k[0], k[1]) for k in rows))
    index: dict[tuple, int] = {}

    def var(key: tuple) -> int:
        return index.setdefault(key, len(index))

    known: dict[int, float] = {}
    for g in groups:
        starts = {rows[(*g, h)]["n_at_start"] for h in horizons if (*g, h) in rows}
        if None in starts and len(starts) > 1:
            # Hidden at one horizon, shown at another: the same mothers, so the same number.
            shown = float(next(v for v in starts if v is not None))
            findings.append(Finding(g, "start", shown, shown))
        starts.discard(None)
        if starts:
            known[var((g, "start"))] = float(starts.pop())
        var((g, "start"))
        for h in horizons:
            r = rows.get((*g, h))
            for name, col in (("risk", "n_at_risk"), ("events", "n_events")):
                i = var((g, f"{name}{h}"))
                if r is not None and r[col] is not None:
                    known[i] = float(r[col])
            if (
                r is not None
                and r["estimate"] is not None
                and (r["n_at_start"] is None or r["n_events"] is None)
            ):
                findings.append(Finding(g, f"estimate{h}", r["estimate"], r["estimate"]))
    n = len(index)
    a_eq: list[np.ndarray] = []
    b_eq: list[float] = []
    a_ub: list[np.ndarray] = []

    def row(*terms: tuple[int, float]) -> np.ndarray:
        out = np.zeros(n)
        for i, c in terms:
            out[i] += c
        return out

    overall = ("all", "all")
    by_variable: dict[str, list[tuple[str, str]]] = {}
    for g in groups:
        if g != overall:
            by_variable.setdefault(g[0], []).append(g)
    if overall in groups:
        for members in by_variable.values():
            for name in ["start", *(f"{c}{h}" for c in ("risk", "events") for h in horizons)]:
                a_eq.append(
                    row((index[(overall, name)], 1.0), *((index[(m, name)], -1.0) for m in members))
                )
                b_eq.append(0.0)
    for g in groups:
        s = index[(g, "start")]
        last_reachable = None
        for k, h in enumerate(horizons):
            risk, ev = index[(g, f"risk{h}")], index[(g, f"events{h}")]
            a_ub += [row((risk, 1.0), (s, -1.0)), row((ev, 1.0), (s, -1.0))]
            if k:
                prev = horizons[k - 1]
                a_ub.append(row((index[(g, f"events{prev}")], 1.0), (ev, -1.0)))
                a_ub.append(row((risk, 1.0), (index[(g, f"risk{prev}")], -1.0)))
            if applicable(g[0], g[1], h, extract_end, floor):
                last_reachable = h
                continue
            # Structural: nobody at risk, and no return after the last reachable horizon.
            a_eq.append(row((risk, 1.0)))
            b_eq.append(0.0)
            if last_reachable is None:
                a_eq.append(row((ev, 1.0)))
            else:
                a_eq.append(row((ev, 1.0), (index[(g, f"events{last_reachable}")], -1.0)))
            b_eq.append(0.0)
    bounds = [(known[i], known[i]) if i in known else (0.0, None) for i in range(n)]
    names = {i: key for key, i in index.items()}
    targets: list[tuple[tuple[str, str], str, np.ndarray]] = []
    for i in range(n):
        g, name = names[i]
        if i in known or not _is_open(g, name, extract_end, floor):
            continue
        targets.append((g, name, row((i, 1.0))))
    for g in groups:
        reach = [h for h in horizons if applicable(g[0], g[1], h, extract_end, floor)]
        previous = None
        for h in reach:
            cur = index[(g, f"events{h}")]
            terms = ((cur, 1.0),) if previous is None else ((cur, 1.0), (previous, -1.0))
            if all(i in known for i, _ in terms):
                value = sum(known[i] * c for i, c in terms)
                if value < min_cell:
                    findings.append(Finding(g, f"returns{h}", value, value))
            elif previous is not None:
                targets.append((g, f"returns{h}", row(*terms)))
            previous = cur
    if not targets:
        return findings
    eq = (np.array(a_eq), np.array(b_eq)) if a_eq else (None, None)
    ub = np.array(a_ub) if a_ub else None
    # Every optimum is a feasible point: a target already seen to spread over min_cell across
    # the points found so far needs no programme of its own (most of them, in practice).
    points: list[np.ndarray] = [] if truth is None else [_point(truth, index)]
    for g, name, objective in targets:
        if points:
            seen = np.array([objective @ x for x in points])
            if seen.max() - seen.min() >= min_cell:
                continue
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(
                sign * objective,
                A_ub=ub,
                b_ub=None if ub is None else np.zeros(len(ub)),
                A_eq=eq[0],
                b_eq=eq[1],
                bounds=bounds,
                method="highs",
            )
            if res.status == 3:
                ends.append(np.inf)
            elif res.status != 0:
                raise ValueError(f"The published recurrence table is inconsistent ({res.message}).")
            else:
                ends.append(sign * res.fun)
                points.append(res.x)
        lower, upper = ends[0], ends[1]
        if upper - lower < min_cell:
            findings.append(Finding(g, name, lower, upper))
    return findings


def _is_open(
    group: tuple[str, str], name: str, extract_end: dt.date | None, floor: dt.date | None
) -> bool:
    """Whether a hidden cell is a real unknown (not a structural, not-applicable one)."""
    if name == "start":
        return True
    h = int(name.removeprefix("risk").removeprefix("events"))
    return applicable(group[0], group[1], h, extract_end, floor)


def _point(truth: pl.DataFrame, index: dict[tuple, int]) -> np.ndarray:
    """The true counts as a point of the intruder's programme (a feasible point)."""
    x = np.zeros(len(index))
    for r in truth.iter_rows(named=True):
        g, h = (r["group_variable"], r["group_value"]), r["horizon_years"]
        for key, value in (
            ((g, "start"), r["n_at_start"]),
            ((g, f"risk{h}"), r["n_at_risk"]),
            ((g, f"events{h}"), r["n_events"]),
        ):
            if key in index:
                x[index[key]] = float(value)
    return x
