"""Statistical disclosure control for published tables of counts.

A table is a set of cells, each with a count, and a set of additive relations between them
(``total = part + part + ...``): rows and columns with their margins, or a hierarchy of areas
(England = its regions, a region = its local authorities). The rules, applied to every published
number:

1. **Primary suppression**: a count under ``min_cell`` is hidden (zeros too, unless
   ``zeros_disclosive=False``).
2. **Secondary suppression**: further cells are hidden until no hidden count can be worked out
   from the published ones; in particular no relation is left with exactly one hidden cell.
3. **Verification**: :func:`verify_suppression` proves it, by linear programming: for each
   hidden cell it finds the smallest and largest value consistent with every published count and
   every relation (counts are non-negative). A cell whose range is narrower than one is exposed.
4. Optional **rounding** of the published counts to a base (:func:`round_to_base`).

Rates and intervals whose numerator is hidden must be hidden too (the denominator is published,
so a rate would give the count back); :func:`hide_dependent` does that on a polars frame.

Examples
--------
A row of three cells and its total; one cell is under 10, so a second one must go with it:

>>> values = {"a": 3, "b": 25, "c": 40, "total": 68}
>>> rel = [Relation("total", ("a", "b", "c"))]
>>> result = suppress(values, rel, min_cell=10)
>>> sorted(result.suppressed)
['a', 'b']
>>> verify_suppression(values, rel, result.suppressed)
[]
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import sparse
from scipy.optimize import linprog

from recurrence.errors import RecurrenceError

#: Shown in place of a value that cannot exist (e.g. a horizon nobody could reach): GSS ``[x]``.
NOT_APPLICABLE_SYMBOL = "[x]"

Cell = Hashable


class DisclosureError(RecurrenceError):
    """A table cannot be made safe by suppression under the given rules."""


@dataclass(frozen=True)
class Relation:
    """An additive relation between cells: ``total`` equals the sum of ``parts``."""

    total: Cell
    parts: tuple[Cell, ...]

    @property
    def cells(self) -> tuple[Cell, ...]:
        """The total followed by its parts."""
        return (self.total, *self.parts)


@dataclass(frozen=True)
class Exposure:
    """A hidden cell whose value can be narrowed to less than one from what is published."""

    cell: Cell
    lower: float
    upper: float


@dataclass(frozen=True)
class SuppressionResult:
    """Which cells to hide: all of them, and those hidden for being small (primary)."""

    suppressed: frozenset[Cell]
    primary: frozenset[Cell]
    rounds: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def secondary(self) -> frozenset[Cell]:
        """Cells hidden only to protect primary cells."""
        return self.suppressed - self.primary


def primary_cells(
    values: Mapping[Cell, int], *, min_cell: int, zeros_disclosive: bool = True
) -> frozenset[Cell]:
    """Cells whose count is under ``min_cell`` (zeros included when ``zeros_disclosive``).

    Parameters
    ----------
    values
        Count of every cell.
    min_cell
        Smallest count that may be published.
    zeros_disclosive
        Treat a zero as disclosive (it tells that nobody in the group had the attribute).

    Returns
    -------
    frozenset
        The cells to hide.

    Examples
    --------
    >>> sorted(primary_cells({"a": 0, "b": 4, "c": 10}, min_cell=10))
    ['a', 'b']
    >>> sorted(primary_cells({"a": 0, "b": 4, "c": 10}, min_cell=10, zeros_disclosive=False))
    ['b']
    """
    return frozenset(
        c for c, v in values.items() if v < min_cell and (v > 0 or (zeros_disclosive and v == 0))
    )


def _components(
    relations: Sequence[Relation], hidden: Collection[Cell]
) -> list[tuple[list[Cell], list[Relation]]]:
    """Split the relations that involve hidden cells into independent groups."""
    parent: dict[Cell, Cell] = {c: c for c in hidden}

    def find(c: Cell) -> Cell:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    used = [r for r in relations if any(c in parent for c in r.cells)]
    for r in used:
        cells = [c for c in r.cells if c in parent]
        for other in cells[1:]:
            parent[find(other)] = find(cells[0])
    groups: dict[Cell, tuple[list[Cell], list[Relation]]] = {}
    order = {c: i for i, c in enumerate(hidden)}
    for c in sorted(parent, key=order.__getitem__):
        groups.setdefault(find(c), ([], []))[0].append(c)
    for r in used:
        root = find(next(c for c in r.cells if c in parent))
        groups[root][1].append(r)
    return list(groups.values())


def _equations(
    values: Mapping[Cell, float], rels: Sequence[Relation], index: Mapping[Cell, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The relations as ``a @ x = b`` over the hidden cells ``index``; known cells move to b."""
    a = np.zeros((len(rels), len(index)))
    b = np.zeros(len(rels))
    for k, r in enumerate(rels):
        for c, coef in ((r.total, 1.0), *((p, -1.0) for p in r.parts)):
            if c in index:
                a[k, index[c]] += coef
            else:
                b[k] -= coef * float(values[c])
    return a, b


def feasible_ranges(
    values: Mapping[Cell, float],
    relations: Sequence[Relation],
    hidden: Collection[Cell],
    *,
    only: Collection[Cell] | None = None,
) -> dict[Cell, tuple[float, float]]:
    """The range of values each hidden cell could take, given everything published.

    Every cell not in ``hidden`` is taken as known to the reader (published, or knowable);
    hidden cells are only known to be non-negative and to satisfy every relation.

    Parameters
    ----------
    values
        True count of every cell (used for the known cells only).
    relations
        The table's additive relations.
    hidden
        The suppressed cells.
    only
        Compute ranges for these hidden cells only (default all).

    Returns
    -------
    dict
        For each hidden cell, its smallest and largest feasible value (``inf`` if unbounded).
    """
    hidden = list(dict.fromkeys(hidden))
    out: dict[Cell, tuple[float, float]] = {}
    for cells, rels in _components(relations, hidden):
        index = {c: i for i, c in enumerate(cells)}
        a, b = _equations(values, rels, index)
        for c, i in index.items():
            if only is not None and c not in only:
                continue
            bounds = []
            for sign in (1.0, -1.0):
                objective = np.zeros(len(cells))
                objective[i] = sign
                if not rels:
                    bounds.append(0.0 if sign > 0 else -np.inf)
                    continue
                res = linprog(objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
                if res.status == 3:  # unbounded
                    bounds.append(-np.inf if sign > 0 else np.inf)
                elif res.status != 0:
                    raise DisclosureError(
                        f"The table's totals are inconsistent with its cells ({res.message})."
                    )
                else:
                    bounds.append(sign * res.fun)
            out[c] = (bounds[0], bounds[1])
    for c in hidden if only is None else only:
        out.setdefault(c, (0.0, np.inf))
    return out


def _swap_certified(
    values: Mapping[Cell, float], relations: Sequence[Relation], hidden: Collection[Cell]
) -> set[Cell]:
    """Hidden cells shown to range over at least one by a swap with a neighbour.

    If two hidden parts of one relation appear in no other relation, moving one unit from one to
    the other keeps every relation true; so when either has a count of at least one, both can
    differ by one from their true value and neither is pinned down. This settles most cells of
    large tables without solving a linear programme.
    """
    hidden = set(hidden)
    uses: dict[Cell, int] = {}
    for r in relations:
        for c in r.cells:
            if c in hidden:
                uses[c] = uses.get(c, 0) + 1
    certified: set[Cell] = set()
    for r in relations:
        loose = [p for p in r.parts if p in hidden and uses[p] == 1]
        if len(loose) < 2:
            continue
        positive = [p for p in loose if values[p] >= 1]
        if len(positive) >= 2:
            certified.update(loose)
        elif len(positive) == 1:
            certified.update(loose)  # each zero can take a unit from the positive one, and back
    return certified


def verify_suppression(
    values: Mapping[Cell, float],
    relations: Sequence[Relation],
    suppressed: Collection[Cell],
    *,
    min_width: float = 1.0,
    only: Collection[Cell] | None = None,
) -> list[Exposure]:
    """Prove that no suppressed cell can be recovered from the published cells and totals.

    Parameters
    ----------
    values
        True count of every cell.
    relations
        The table's additive relations (row, column and hierarchy totals).
    suppressed
        The cells that are hidden.
    min_width
        A hidden cell is exposed if the range of values it could take is narrower than this.
        With whole counts, 1 means the value is pinned down exactly.
    only
        Check these suppressed cells only (default all); the others still count as unknown.

    Returns
    -------
    list of Exposure
        The exposed cells with their feasible range; empty when the suppression is safe.

    Examples
    --------
    >>> rel = [Relation("t", ("a", "b"))]
    >>> verify_suppression({"a": 3, "b": 40, "t": 43}, rel, {"a"})
    [Exposure(cell='a', lower=3.0, upper=3.0)]
    """
    suppressed = list(dict.fromkeys(suppressed))
    certified = _swap_certified(values, relations, suppressed)
    exposed: list[Exposure] = []
    for cells, rels in _components(relations, suppressed):
        todo = [c for c in cells if c not in certified and (only is None or c in only)]
        if todo:
            exposed += _exposed_in_component(values, cells, rels, todo, min_width)
    return exposed


def _exposed_in_component(
    values: Mapping[Cell, float],
    cells: list[Cell],
    rels: list[Relation],
    todo: list[Cell],
    min_width: float,
) -> list[Exposure]:
    # The true values are one feasible point. Every optimum found is another, so any hidden cell
    # whose value there differs from its true value by min_width already ranges that widely:
    # one linear programme usually settles many cells, not just the one it optimises.
    if not rels:
        return []
    index = {c: i for i, c in enumerate(cells)}
    a, b = _equations(values, rels, index)
    # Sparse: a component can hold thousands of cells, each in a handful of relations.
    a = sparse.csr_array(a)
    truth = np.array([float(values[c]) for c in cells])
    settled = _unbounded(a)
    wanted = np.zeros(len(cells), dtype=bool)
    wanted[[index[c] for c in todo]] = True
    settled |= _settle_together(a, b, truth, wanted & ~settled, min_width)
    exposed: list[Exposure] = []
    for c in todo:
        i = index[c]
        if settled[i]:
            continue
        bounds: list[float] = []
        for sign in (1.0, -1.0):
            objective = np.zeros(len(cells))
            objective[i] = -sign  # maximise, then minimise, the cell
            res = linprog(objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            if res.status == 3:  # unbounded: the cell can be as large as you like
                settled[i] = True
                break
            if res.status != 0:
                raise DisclosureError(
                    f"The table's totals are inconsistent with its cells ({res.message})."
                )
            settled |= np.abs(res.x - truth) >= min_width - 1e-9
            bounds.append(float(res.x[i]))
            if settled[i]:
                break
        if not settled[i]:
            upper, lower = bounds
            if upper - lower < min_width - 1e-9:
                exposed.append(Exposure(c, lower, upper))
            settled[i] = True
    return exposed


def _unbounded(a: sparse.csr_array) -> np.ndarray:
    """Hidden cells that can grow without limit, from one linear programme.

    A non-negative ``r`` with ``a @ r = 0`` can be added, scaled up at will, to any feasible
    point, so every cell where some such ``r`` is positive is unbounded and cannot be pinned
    down. The sum of two such ``r`` is another, so one programme (maximise the number of cells
    with ``y = 1``, where ``y <= r`` and ``y <= 1``) finds them all. When everything in a
    component is hidden this settles nearly every cell at once, instead of two programmes per
    cell; cells it does not settle are still checked one by one.
    """
    n_rel, n = a.shape
    zeros = sparse.csr_array((n_rel, n))
    a_eq = sparse.hstack([a, zeros], format="csr")
    eye = sparse.identity(n, format="csr")
    a_ub = sparse.hstack([-eye, eye], format="csr")
    objective = np.concatenate([np.zeros(n), -np.ones(n)])
    bounds = [(0, None)] * n + [(0, 1)] * n
    res = linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.zeros(n),
        A_eq=a_eq,
        b_eq=np.zeros(n_rel),
        bounds=bounds,
        method="highs",
    )
    if res.status != 0:
        return np.zeros(n, dtype=bool)
    return res.x[n:] > 0.5


def _settle_together(
    a: sparse.csr_array, b: np.ndarray, truth: np.ndarray, open_: np.ndarray, min_width: float
) -> np.ndarray:
    """Cells moved at least ``min_width`` from their true value by pushing many cells at once.

    Every cell here is bounded (see :func:`_unbounded`), so pushing a weighted combination of
    the open cells up or down has an optimum; any cell whose value there differs from the truth
    by ``min_width`` ranges that widely. Rounds with fresh random weights continue while
    they settle something; the cells left are checked one by one, so nothing is settled
    without a feasible point that proves it.
    """
    rng = np.random.default_rng(0)
    settled = np.zeros(len(truth), dtype=bool)
    while True:
        pending = open_ & ~settled
        if not pending.any():
            return settled
        before = settled.sum()
        # Cells share totals, so pushing them all the same way mostly cancels out: push each a
        # random way (a cell near zero can only go up), then every cell the opposite way.
        up = (truth < min_width) | (rng.random(len(truth)) < 0.5)
        weights = np.where(pending, np.where(up, 1.0, -1.0) * rng.uniform(0.5, 1.5, len(truth)), 0)
        for sign in (1.0, -1.0):
            flip = np.where(truth < min_width, np.abs(weights), sign * weights)
            res = linprog(-flip, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            if res.status != 0:
                return settled
            settled |= np.abs(res.x - truth) >= min_width - 1e-9
        if settled.sum() == before:
            return settled


def _pick_partner(
    candidates: Iterable[Cell], values: Mapping[Cell, float], order: Mapping[Cell, int]
) -> Cell | None:
    # The smallest non-zero count loses least information; a visible zero adds no uncertainty.
    ranked = sorted(candidates, key=lambda c: (values[c] == 0, values[c], order[c]))
    return ranked[0] if ranked else None


def suppress(
    values: Mapping[Cell, int],
    relations: Sequence[Relation],
    *,
    min_cell: int,
    zeros_disclosive: bool = True,
    fixed: Collection[Cell] = (),
    max_rounds: int = 1000,
    hide: Collection[Cell] = (),
) -> SuppressionResult:
    """Choose the cells to hide: primary suppression, then secondary until verified safe.

    Secondary suppression works in two passes, repeated until nothing changes. First, every
    relation with exactly one hidden cell gets a second: the smallest non-zero visible part (the
    total only if no part can be hidden). Then :func:`verify_suppression` looks for cells that can
    still be worked out through several relations together (or because the hidden cells of a
    relation must sum to zero); for each, the smallest visible cell sharing a relation with it is
    hidden too.

    Parameters
    ----------
    values
        Count of every cell, including totals.
    relations
        Additive relations between cells.
    min_cell
        Smallest publishable count.
    zeros_disclosive
        Whether a zero is suppressed as a primary cell.
    fixed
        Cells that must never be hidden (for example a known residual such as "area not
        recorded" that the reader can work out anyway). They are treated as known to the
        reader and are not subject to primary suppression (they are not published themselves).
    max_rounds
        Safety limit on the number of passes.
    hide
        Cells hidden whatever their value (for example a total another table already hides:
        shown here, it would give that table's hidden cell away). They count as primary.

    Returns
    -------
    SuppressionResult
        The hidden cells.

    Raises
    ------
    DisclosureError
        If no choice of further cells makes the table safe.
    """
    fixed = frozenset(fixed)
    primary = primary_cells(
        {c: v for c, v in values.items() if c not in fixed},
        min_cell=min_cell,
        zeros_disclosive=zeros_disclosive,
    ) | frozenset(hide)
    order = {c: i for i, c in enumerate(values)}
    hidden = set(primary)
    by_cell: dict[Cell, list[Relation]] = {}
    for r in relations:
        for c in r.cells:
            by_cell.setdefault(c, []).append(r)
    for rounds in range(1, max_rounds + 1):
        changed = False
        for r in relations:
            if sum(c in hidden for c in r.cells) != 1:
                continue
            partner = _pick_partner(
                (p for p in r.parts if p not in hidden and p not in fixed), values, order
            )
            if partner is None and r.total not in hidden and r.total not in fixed:
                partner = r.total
            if partner is not None:
                hidden.add(partner)
                changed = True
        if changed:
            continue
        # In the table's own order, never a set's: which partner is hidden must not change
        # from one process to the next (Python's string hashing differs between processes).
        exposed = sorted(
            verify_suppression(values, relations, sorted(hidden, key=order.__getitem__)),
            key=lambda e: order[e.cell],
        )
        if not exposed:
            return SuppressionResult(frozenset(hidden), primary, rounds)
        added: set[Cell] = set()
        for e in exposed:
            if any(c in added for r in by_cell.get(e.cell, ()) for c in r.cells):
                continue  # a cell just hidden beside it may already protect it: verify again
            near = {
                c
                for r in by_cell.get(e.cell, ())
                for c in r.cells
                if c not in hidden and c not in fixed
            }
            partner = _pick_partner(near, values, order)
            if partner is not None:
                hidden.add(partner)
                added.add(partner)
                changed = True
        if not changed:
            raise DisclosureError(
                f"{len(exposed)} suppressed cell(s) can still be worked out and no further cell "
                "can be hidden to protect them."
            )
    raise DisclosureError(f"Secondary suppression did not settle within {max_rounds} rounds.")


def round_to_base(values: np.ndarray | Sequence[float], base: int) -> np.ndarray:
    """Round counts to the nearest multiple of ``base`` (halves up); base 0 or 1 leaves them.

    Parameters
    ----------
    values
        Counts.
    base
        Rounding base, such as 5 or 10.

    Returns
    -------
    numpy.ndarray
        Rounded counts (integers).

    Examples
    --------
    >>> round_to_base([12, 13, 15, 17], 5).tolist()
    [10, 15, 15, 15]
    """
    v = np.asarray(values, dtype=float)
    if base <= 1:
        return np.round(v).astype(np.int64)
    return (np.floor(v / base + 0.5) * base).astype(np.int64)


def hide_dependent(frame: pl.DataFrame, *, flag: str, columns: Sequence[str]) -> pl.DataFrame:
    """Set ``columns`` to null wherever ``flag`` is true (values derived from a hidden count).

    Parameters
    ----------
    frame
        A table with a boolean column ``flag``.
    flag
        Name of the column saying a row's count is suppressed.
    columns
        Columns computed from that count (rates, interval limits, the count itself).

    Returns
    -------
    polars.DataFrame
        The table with those values removed.
    """
    return frame.with_columns(
        pl.when(pl.col(flag)).then(None).otherwise(pl.col(c)).alias(c) for c in columns
    )


def mark(frame: pl.DataFrame, columns: Sequence[str], *, symbol: str) -> pl.DataFrame:
    """Render ``columns`` as text, with ``symbol`` in place of every missing (hidden) value.

    Parameters
    ----------
    frame
        The table, with hidden values as nulls.
    columns
        Columns to mark.
    symbol
        The suppression symbol, such as ``"[c]"``.

    Returns
    -------
    polars.DataFrame
        The table with those columns as strings.
    """
    return frame.with_columns(pl.col(c).cast(pl.String).fill_null(symbol).alias(c) for c in columns)
