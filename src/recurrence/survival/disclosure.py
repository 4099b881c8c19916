"""Disclosure control for the recurrence table family (``recurrence_estimates``), as one family.

The estimates table is not a set of independent cells: every group of a covariate is shown at
several horizons with three counts each, and an intruder has more than the cell values. They
know that a group's mothers at start are the same at every horizon, that the groups of a
covariate add up to the overall row at every horizon, that cumulative returns never fall and
mothers at risk never rise, that nobody can be followed for longer than the extract allows (an
index period that began less than seven years before the extract end has no-one at risk at seven
years: a *structural* zero) and that an estimate and its bounds give the counts back. Cell-by-cell
suppression leaks through each of these (issue 18). The rules here decide per *group*:

1. **Not applicable** (``[x]``): a horizon no mother of a group could reach, given the earliest
   possible index date of the group (index periods start on 1 January of their first year) and
   the extract end date. Its estimate, bounds, mothers at risk and returns are not published as
   numbers: they cannot exist. They are public knowledge, never a reason to hide anything and
   never a partner for secondary suppression.
2. **Primary**: a group is hidden at every horizon (all counts, estimates and bounds) when its
   mothers at start, any applicable horizon's mothers at risk or returns, or any *interval*
   count of returns (between one applicable horizon and the next: the difference of two
   published cumulative counts) is below ``min_cell`` — zeros included, since "none returned"
   is disclosive in a small group.
3. **Secondary**: within each covariate the hidden groups must together hide every quantity
   (mothers at start, at risk and returns at each applicable horizon, and each interval count):
   each such sum over the hidden groups, where the cell is not structural, has to involve at
   least two groups and be at least ``min_cell``; otherwise the smallest published group of the
   covariate is hidden too, until it holds or every group is hidden (the hidden sum is then the
   overall row, published anyway).
4. **Overall**: if the overall row itself fails rule 2, the whole table is hidden.
5. **Verification**: :func:`recurrence.survival.intruder.attack` solves the intruder's linear
   programmes; a covariate with a cell narrowed below ``min_cell`` gets one more hidden group
   and is checked again.
6. Optional **rounding** of published counts to ``disclosure.rounding_base`` (0 or 1: none).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from recurrence.disclosure import round_to_base
from recurrence.survival.estimates import ESTIMATE_COLUMNS
from recurrence.survival.km import horizon_days

OVERALL = "all"
#: Columns that cannot exist at a horizon nobody in the group could reach.
NOT_APPLICABLE_COLUMNS: tuple[str, ...] = (
    "estimate",
    "ci_lower",
    "ci_upper",
    "n_at_risk",
    "n_events",
)
#: Every value column of the table: what a hidden group loses.
HIDDEN_COLUMNS: tuple[str, ...] = tuple(
    c
    for c in ESTIMATE_COLUMNS
    if c not in ("group_variable", "group_value", "horizon_years", "method")
)
COUNT_COLUMNS: tuple[str, ...] = ("n_at_start", "n_at_risk", "n_events")
_PERIOD = re.compile(r"^(\d{4})")

Group = tuple[str, str]


def earliest_index(variable: str, value: str) -> dt.date | None:
    """The earliest index date a group's label allows (index periods only), else None.

    Examples
    --------
    >>> earliest_index("index_period", "2020+")
    datetime.date(2020, 1, 1)
    >>> earliest_index("region_code", "E12000007") is None
    True
    """
    if variable != "index_period":
        return None
    found = _PERIOD.match(value)
    return dt.date(int(found.group(1)), 1, 1) if found else None


def index_floor(groups: Iterable[Group]) -> dt.date | None:
    """The earliest index date any mother of the table can have, read from its index periods.

    Every mother is in one index period, so a table that lists its index-period groups tells
    everyone that nobody was indexed before the first of them: a horizon longer than the extract
    allows from there is out of reach for every group, the overall row included.

    Examples
    --------
    >>> index_floor([("index_period", "2020+"), ("age_group", "30-34")])
    datetime.date(2020, 1, 1)
    >>> index_floor([("age_group", "30-34")]) is None
    True
    """
    dates = [earliest_index(v, g) for v, g in groups if v == "index_period"]
    if not dates or any(d is None for d in dates):
        return None
    return min(d for d in dates if d is not None)


def applicable(
    variable: str, value: str, years: int, end: dt.date | None, floor: dt.date | None = None
) -> bool:
    """Whether any mother of the group could have been followed for ``years`` by ``end``.

    ``floor`` is the earliest index date of the whole table (:func:`index_floor`); a group whose
    label says nothing about its index dates is bounded by it.

    Examples
    --------
    >>> applicable("index_period", "2020+", 5, dt.date(2024, 3, 31))
    False
    >>> applicable("index_period", "2016-2019", 5, dt.date(2024, 12, 31))
    True
    >>> applicable("all", "all", 5, dt.date(2024, 3, 31), floor=dt.date(2020, 1, 1))
    False
    """
    start = earliest_index(variable, value) or floor
    if start is None or end is None:
        return True
    return (end - start).days >= horizon_days(years)


@dataclass(frozen=True)
class FamilyCounts:
    """The counts of one method's table, keyed by group, at sorted horizons."""

    horizons: tuple[int, ...]
    start: dict[Group, int]
    at_risk: dict[Group, dict[int, int]]
    events: dict[Group, dict[int, int]]
    reachable: dict[Group, tuple[int, ...]]

    @classmethod
    def from_table(cls, table: pl.DataFrame, end: dt.date | None) -> FamilyCounts:
        """Read the counts from an estimates table of one method."""
        horizons = tuple(sorted(set(table["horizon_years"].to_list())))
        start: dict[Group, int] = {}
        risk: dict[Group, dict[int, int]] = {}
        events: dict[Group, dict[int, int]] = {}
        for row in table.iter_rows(named=True):
            g = (row["group_variable"], row["group_value"])
            start[g] = int(row["n_at_start"])
            risk.setdefault(g, {})[row["horizon_years"]] = int(row["n_at_risk"])
            events.setdefault(g, {})[row["horizon_years"]] = int(row["n_events"])
        floor = index_floor(start)
        reach = {
            g: tuple(h for h in horizons if applicable(g[0], g[1], h, end, floor)) for g in start
        }
        return cls(horizons, start, risk, events, reach)

    def quantities(self, g: Group) -> dict[str, int]:
        """Every number the group publishes or lets be worked out, keyed by name."""
        out = {"start": self.start[g]}
        previous = 0
        for h in self.reachable[g]:
            out[f"risk{h}"] = self.at_risk[g][h]
            out[f"events{h}"] = self.events[g][h]
            out[f"returns{h}"] = self.events[g][h] - previous
            previous = self.events[g][h]
        return out


def _unsafe(quantities: Mapping[str, int], min_cell: int) -> bool:
    return any(v < min_cell for v in quantities.values())


def primary_groups(counts: FamilyCounts, *, min_cell: int) -> set[Group]:
    """The groups hidden by rule 2 alone (every group when the overall row fails, rule 4).

    The groups :func:`choose_hidden` hides beyond these are its secondary suppression; the
    output-checking pack (:mod:`recurrence.checking_pack`) reports the two apart.

    Parameters
    ----------
    counts
        The table's counts.
    min_cell
        Smallest publishable count.

    Returns
    -------
    set
        ``(group_variable, group_value)`` pairs.
    """
    overall = (OVERALL, OVERALL)
    if overall in counts.start and _unsafe(counts.quantities(overall), min_cell):
        return set(counts.start)
    return {g for g in counts.start if g != overall and _unsafe(counts.quantities(g), min_cell)}


def _covariate_safe(
    counts: FamilyCounts, groups: Sequence[Group], hidden: set[Group], min_cell: int
) -> bool:
    """Whether the hidden groups of one covariate hide each of their quantities together."""
    members = [g for g in groups if g in hidden]
    if not members or len(members) == len(groups):
        return True
    sums: dict[str, list[int]] = {}
    for g in members:
        for name, v in counts.quantities(g).items():
            sums.setdefault(name, []).append(v)
    return all(len(v) >= 2 and sum(v) >= min_cell for v in sums.values())


def choose_hidden(
    counts: FamilyCounts,
    *,
    min_cell: int,
    exposed: Mapping[str, int] | None = None,
) -> set[Group]:
    """The groups to hide at every horizon (rules 2–4 of the module docstring).

    Parameters
    ----------
    counts
        The table's counts.
    min_cell
        Smallest publishable count.
    exposed
        Extra groups to hide per covariate (from a failed verification), beyond the rules.

    Returns
    -------
    set
        Hidden ``(group_variable, group_value)`` pairs; everything if the overall row fails.
    """
    overall = (OVERALL, OVERALL)
    if overall in counts.start and _unsafe(counts.quantities(overall), min_cell):
        return set(counts.start)
    hidden = {g for g in counts.start if g != overall and _unsafe(counts.quantities(g), min_cell)}
    by_variable: dict[str, list[Group]] = {}
    for g in counts.start:
        if g != overall:
            by_variable.setdefault(g[0], []).append(g)
    for variable, groups in by_variable.items():
        extra = (exposed or {}).get(variable, 0)
        while True:
            visible = sorted(
                (g for g in groups if g not in hidden), key=lambda g: (counts.start[g], g)
            )
            if not visible:
                break
            if extra <= 0 and _covariate_safe(counts, groups, hidden, min_cell):
                break
            if any(g in hidden for g in groups) or extra > 0:
                hidden.add(visible[0])
                extra -= 1
            else:
                break
    return hidden


def protect_family(
    table: pl.DataFrame,
    *,
    min_cell: int,
    extract_end: dt.date | None,
    rounding_base: int = 0,
    verify: bool = True,
) -> pl.DataFrame:
    """Suppress, mark not-applicable cells and round the estimates table as one family.

    Parameters
    ----------
    table
        Output of :func:`recurrence.survival.estimates.estimate_table` (one or two methods; the
        counts are the same under both, so the same groups are hidden).
    min_cell
        Smallest publishable count.
    extract_end
        The extract end date (what an intruder knows about possible follow-up).
    rounding_base
        Round published counts to this base (0 or 1: no rounding).
    verify
        Attack the result (:func:`recurrence.survival.intruder.attack`) and hide more groups of
        any covariate it breaks (rule 5). Off only to test that rules 1–4 alone suffice.

    Returns
    -------
    polars.DataFrame
        The table with hidden and not-applicable values null, and boolean columns
        ``suppressed`` (hidden for confidentiality) and ``not_applicable`` (cannot exist).
    """
    from recurrence.survival.intruder import attack

    if table.is_empty():
        return table.with_columns(
            pl.lit(False).alias("suppressed"), pl.lit(False).alias("not_applicable")
        )
    method = table["method"][0]
    counts = FamilyCounts.from_table(table.filter(pl.col("method") == method), extract_end)
    extra: dict[str, int] = {}
    for _ in range(len(counts.start) + 1):
        hidden = choose_hidden(counts, min_cell=min_cell, exposed=extra)
        if not verify:
            break
        out = _apply(table, counts, hidden, rounding_base=0)
        found = attack(
            out.filter(pl.col("method") == method), min_cell=min_cell, extract_end=extract_end
        )
        if not found:
            break
        for variable in {f.group[0] for f in found}:
            extra[variable] = extra.get(variable, 0) + 1
    return _apply(table, counts, hidden, rounding_base=rounding_base)


def _apply(
    table: pl.DataFrame, counts: FamilyCounts, hidden: set[Group], *, rounding_base: int
) -> pl.DataFrame:
    keys = pl.DataFrame(
        {
            "group_variable": [g[0] for g in counts.start],
            "group_value": [g[1] for g in counts.start],
            "suppressed": [g in hidden for g in counts.start],
        }
    )
    out = table.join(keys, on=["group_variable", "group_value"], how="left", maintain_order="left")
    na = pl.Series(
        "not_applicable",
        [
            h not in counts.reachable[(v, g)]
            for v, g, h in zip(
                out["group_variable"], out["group_value"], out["horizon_years"], strict=True
            )
        ],
        dtype=pl.Boolean,
    )
    out = out.with_columns(pl.col("suppressed").fill_null(False), na)
    out = out.with_columns(
        pl.when(pl.col("suppressed"))
        .then(None)
        .when(pl.col("not_applicable") & pl.lit(c in NOT_APPLICABLE_COLUMNS))
        .then(None)
        .otherwise(pl.col(c))
        .alias(c)
        for c in HIDDEN_COLUMNS
    )
    if rounding_base > 1:
        out = out.with_columns(
            pl.Series(c, round_to_base(out[c].fill_null(0).to_numpy(), rounding_base))
            .cast(pl.Int64)
            .zip_with(out[c].is_not_null(), pl.Series(c, [None] * out.height, dtype=pl.Int64))
            .alias(c)
            for c in COUNT_COLUMNS
        )
    return out
