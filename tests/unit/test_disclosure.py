"""Disclosure control: primary and secondary suppression, the verifier, rounding, marking."""

import itertools
import time

import numpy as np
import polars as pl
import pytest

from recurrence.disclosure import (
    DisclosureError,
    Relation,
    feasible_ranges,
    hide_dependent,
    mark,
    primary_cells,
    round_to_base,
    suppress,
    verify_suppression,
)


def grid(data):
    """A two-way table with row, column and grand totals, and its relations."""
    data = np.asarray(data)
    rows, cols = data.shape
    values = {(i, j): int(data[i, j]) for i in range(rows) for j in range(cols)}
    for i in range(rows):
        values[(i, "T")] = int(data[i].sum())
    for j in range(cols):
        values[("T", j)] = int(data[:, j].sum())
    values[("T", "T")] = int(data.sum())
    rels = [Relation((i, "T"), tuple((i, j) for j in range(cols))) for i in [*range(rows), "T"]]
    rels += [Relation(("T", j), tuple((i, j) for i in range(rows))) for j in [*range(cols), "T"]]
    return values, rels


def test_primary_cells_zero_rule():
    values = {"a": 0, "b": 9, "c": 10}
    assert primary_cells(values, min_cell=10) == {"a", "b"}
    assert primary_cells(values, min_cell=10, zeros_disclosive=False) == {"b"}


def test_single_suppressed_cell_in_a_row_with_a_total_is_exposed_and_fixed():
    values = {"a": 4, "b": 30, "c": 50, "t": 84}
    rel = [Relation("t", ("a", "b", "c"))]
    assert [e.cell for e in verify_suppression(values, rel, {"a"})] == ["a"]
    result = suppress(values, rel, min_cell=10)
    assert result.primary == {"a"}
    assert result.suppressed == {"a", "b"}  # the smallest visible partner
    assert verify_suppression(values, rel, result.suppressed) == []


def test_two_suppressed_cells_whose_sum_a_column_total_gives_away():
    # Cells (0,0) and (0,1) hide together in row 0, but each is alone in its column: the column
    # totals give both back. Secondary suppression must spread to another row.
    values, rels = grid([[3, 4, 40], [20, 30, 50], [25, 35, 60]])
    naive = {(0, 0), (0, 1)}
    exposed = {e.cell for e in verify_suppression(values, rels, naive)}
    assert exposed == naive
    result = suppress(values, rels, min_cell=10)
    assert naive <= result.suppressed
    assert verify_suppression(values, rels, result.suppressed) == []
    assert len(result.suppressed) >= 4


def test_suppression_spreads_across_linked_rows_and_columns():
    data = [[3, 20, 30, 12], [15, 25, 12, 40], [40, 4, 50, 11], [13, 14, 2, 60]]
    values, rels = grid(data)
    result = suppress(values, rels, min_cell=10)
    assert result.primary == {(0, 0), (2, 1), (3, 2)}
    assert verify_suppression(values, rels, result.suppressed) == []
    for r in rels:
        assert sum(c in result.suppressed for c in r.cells) != 1, r


def test_hidden_cells_that_must_sum_to_zero_are_exposed():
    values = {"a": 0, "b": 0, "c": 12, "t": 12}
    rel = [Relation("t", ("a", "b", "c"))]
    exposed = verify_suppression(values, rel, {"a", "b"})
    assert {e.cell for e in exposed} == {"a", "b"}
    result = suppress(values, rel, min_cell=10)
    assert result.suppressed == {"a", "b", "c"}
    assert verify_suppression(values, rel, result.suppressed) == []


def test_hierarchy_total_of_a_hidden_region_is_protected():
    # England = R1 + R2 + R3; R1 = L1 + L2. L1 small: its partner L2 is then also hidden, and R1
    # stays visible; the hierarchy is verified as a whole.
    values = {"E": 100, "R1": 30, "R2": 35, "R3": 35, "L1": 5, "L2": 25}
    rels = [Relation("E", ("R1", "R2", "R3")), Relation("R1", ("L1", "L2"))]
    result = suppress(values, rels, min_cell=10)
    assert result.suppressed == {"L1", "L2"}
    assert verify_suppression(values, rels, result.suppressed) == []


def test_fixed_cells_are_known_and_never_hidden():
    values = {"t": 40, "a": 3, "b": 30, "rest": 7}
    rel = [Relation("t", ("a", "b", "rest"))]
    result = suppress(values, rel, min_cell=10, fixed={"rest"})
    assert "rest" not in result.suppressed
    assert result.suppressed == {"a", "b"}
    with pytest.raises(DisclosureError):
        suppress(
            {"t": 13, "a": 3, "r": 10}, [Relation("t", ("a", "r"))], min_cell=10, fixed={"t", "r"}
        )


def test_inconsistent_totals_are_an_error():
    with pytest.raises(DisclosureError, match="inconsistent"):
        feasible_ranges({"t": 5, "a": 3, "b": 40}, [Relation("t", ("a", "b"))], {"a"})


def brute_force_ranges(values, rels, hidden):
    """Every integer assignment of the hidden cells consistent with the published ones."""
    hidden = sorted(hidden, key=str)
    seen = {c: [] for c in hidden}
    tops = [min(values[(c[0], "T")], values[("T", c[1])]) for c in hidden]
    for combo in itertools.product(*(range(t + 1) for t in tops)):
        trial = dict(values) | dict(zip(hidden, combo, strict=True))
        if all(trial[r.total] == sum(trial[p] for p in r.parts) for r in rels):
            for c, v in zip(hidden, combo, strict=True):
                seen[c].append(v)
    return {c: (min(v), max(v)) for c, v in seen.items()}


@pytest.mark.parametrize("seed", range(6))
def test_random_tables_are_safe_and_the_verifier_agrees_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    data = rng.choice([0, 2, 5, 8, 12, 15, 30], size=(2, 3))
    values, rels = grid(data)
    result = suppress(values, rels, min_cell=10)
    assert verify_suppression(values, rels, result.suppressed) == []
    visible = {c: v for c, v in values.items() if c not in result.suppressed}
    assert all(v >= 10 for v in visible.values())
    inner = {c for c in result.suppressed if "T" not in c}
    if len(inner) <= 3 and not (result.suppressed - inner):
        brute = brute_force_ranges(values, rels, inner)
        assert all(hi - lo >= 1 for lo, hi in brute.values())
    lp = feasible_ranges(values, rels, result.suppressed)
    for c in result.suppressed:
        lo, hi = lp[c]
        assert lo <= values[c] <= hi


@pytest.mark.parametrize("seed", range(20))
def test_the_verifier_finds_exactly_the_cells_whose_exact_range_is_narrow(seed):
    # verify_suppression settles most cells from the optima of other cells' programmes; it must
    # still name exactly the cells whose exact feasible range is narrower than one.
    rng = np.random.default_rng(seed)
    values, rels = grid(rng.choice([0, 1, 3, 8, 12, 30], size=(3, 4)))
    hidden = {c for c, v in values.items() if v < 10 or rng.random() < 0.2}
    exact = feasible_ranges(values, rels, hidden)
    narrow = {c for c, (lo, hi) in exact.items() if hi - lo < 1 - 1e-9}
    found = verify_suppression(values, rels, hidden)
    assert {e.cell for e in found} == narrow
    for e in found:
        assert (e.lower, e.upper) == pytest.approx(exact[e.cell])
    some = set(list(hidden)[:3])
    assert {e.cell for e in verify_suppression(values, rels, hidden, only=some)} == narrow & some


def test_round_to_base():
    assert round_to_base([0, 2, 3, 7, 8, 12], 5).tolist() == [0, 0, 5, 5, 10, 10]
    assert round_to_base([3, 4], 0).tolist() == [3, 4]


def test_hide_dependent_and_mark():
    frame = pl.DataFrame({"children": [3, 40], "rate": [1.5, 20.0], "suppressed": [True, False]})
    hidden = hide_dependent(frame, flag="suppressed", columns=["children", "rate"])
    assert hidden["children"].to_list() == [None, 40]
    assert hidden["rate"].to_list() == [None, 20.0]
    marked = mark(hidden, ["children", "rate"], symbol="[c]")
    assert marked["children"].to_list() == ["[c]", "40"]


def _grid(n: int) -> tuple[dict, list]:
    """An n-by-n table with row, column and grand totals, every cell at least 1."""
    rng = np.random.default_rng(5)
    values = {("c", i, j): int(rng.integers(1, 5)) for i in range(n) for j in range(n)}
    relations = []
    for i in range(n):
        values[("r", i)] = sum(values[("c", i, j)] for j in range(n))
        relations.append(Relation(("r", i), tuple(("c", i, j) for j in range(n))))
        values[("k", i)] = sum(values[("c", j, i)] for j in range(n))
        relations.append(Relation(("k", i), tuple(("c", j, i) for j in range(n))))
    values["t"] = sum(values[("r", i)] for i in range(n))
    relations.append(Relation("t", tuple(("r", i) for i in range(n))))
    return values, relations


def test_verify_scales_when_everything_is_hidden():
    """All 1,600 cells of a 40x40 table hidden: one programme settles them, in well under a second
    per hundred cells (two programmes per cell took minutes on a table this size)."""
    values, relations = _grid(40)
    start = time.perf_counter()
    assert verify_suppression(values, relations, list(values)) == []
    assert time.perf_counter() - start < 20


def test_verify_still_finds_a_leak_in_a_large_hidden_table():
    """Showing all but one cell of a row with its total gives that cell away."""
    values, relations = _grid(30)
    hidden = [k for k in values if k != ("r", 0) and not (k[0] == "c" and k[1] == 0 and k[2])]
    exposed = verify_suppression(values, relations, hidden)
    assert [e.cell for e in exposed] == [("c", 0, 0)]
