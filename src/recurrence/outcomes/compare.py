"""Before-and-after comparison of how proceedings end, for one area that changed its practice.

A service that changes its pre-birth practice asks whether more proceedings then ended with the
child at home or with family. :func:`compare_periods` answers with counts, both proportions, their
difference (after minus before) with Newcombe's hybrid score interval, and Fisher's exact test,
for all families and split by whether the mother had an earlier set ending in removal; and a
sentence that says what such a comparison can and cannot show. See ``docs/outcomes.md``.

The interval for the difference is Newcombe's (1998) method 10, built from the two Wilson score
intervals: for ``d = p2 - p1``, ``d - sqrt((p2 - l2)^2 + (u1 - p1)^2)`` to
``d + sqrt((u2 - p2)^2 + (p1 - l1)^2)``. It keeps close to nominal coverage for small samples
and proportions near 0 or 1, where the simple Wald interval does not.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from scipy.stats import fisher_exact

from recurrence.config import DisclosureConfig
from recurrence.contract import ENGLAND_REGIONS, REGIONS, WALES
from recurrence.errors import ConfigError, RecurrenceError
from recurrence.outcomes.classify import CASE_OUTCOMES_TABLE, HOME, ONGOING, REMOVAL
from recurrence.publish import atomic_write
from recurrence.rates.intervals import wilson_ci
from recurrence.rates.newborns import ENGLAND, ENGLAND_AND_WALES, GEOGRAPHY_NAMES

ALL_FAMILIES = "all families"


@dataclass(frozen=True)
class Period:
    """Proceedings issued from ``start`` to ``end``, both days included."""

    start: dt.date
    end: dt.date

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read ``START:END`` (ISO dates), as given on the command line.

        Examples
        --------
        >>> str(Period.parse("2016-04-01:2019-03-31"))
        '2016-04-01 to 2019-03-31'
        """
        start, sep, end = text.partition(":")
        try:
            period = cls(dt.date.fromisoformat(start.strip()), dt.date.fromisoformat(end.strip()))
        except ValueError:
            raise RecurrenceError(
                f"Period {text!r} is not START:END with ISO dates, e.g. 2016-04-01:2019-03-31."
            ) from None
        if not sep or period.end < period.start:
            raise RecurrenceError(f"Period {text!r} must be START:END with END not before START.")
        return period


@dataclass(frozen=True)
class Split:
    """How the concluded proceedings of one group in one period ended."""

    home: int
    removal: int
    ongoing: int

    @property
    def concluded(self) -> int:
        """Proceedings that ended (home or family, or removal)."""
        return self.home + self.removal

    @property
    def proportion_home(self) -> float | None:
        """Share of concluded proceedings ending at home or with family (None if none ended)."""
        return self.home / self.concluded if self.concluded else None

    def wilson(self, level: float = 0.95) -> tuple[float, float] | None:
        """Wilson score interval of :attr:`proportion_home`."""
        if not self.concluded:
            return None
        lo, hi = wilson_ci([self.home], [self.concluded], level=level)
        return float(lo[0]), float(hi[0])


@dataclass(frozen=True)
class GroupComparison:
    """One group's split before and after, and the change in the share going home."""

    group: str
    before: Split
    after: Split
    difference: float | None
    ci_lower: float | None
    ci_upper: float | None
    p_value: float | None


def newcombe_difference_ci(
    x_before: int, n_before: int, x_after: int, n_after: int, *, level: float = 0.95
) -> tuple[float, float, float]:
    """Difference of two proportions (after minus before) with Newcombe's hybrid score interval.

    Parameters
    ----------
    x_before, n_before
        Successes and trials before (n > 0).
    x_after, n_after
        Successes and trials after (n > 0).
    level
        Confidence level.

    Returns
    -------
    tuple of float
        Difference, lower limit, upper limit.

    Examples
    --------
    Newcombe (1998), example (a): 56/70 against 48/80, difference 0.2000, 95% CI
    0.0524 to 0.3339 (method 10):

    >>> d, lo, hi = newcombe_difference_ci(48, 80, 56, 70)
    >>> round(d, 4), round(lo, 4), round(hi, 4)
    (0.2, 0.0524, 0.3339)
    """
    p1, p2 = x_before / n_before, x_after / n_after
    (l1,), (u1,) = wilson_ci([x_before], [n_before], level=level)
    (l2,), (u2,) = wilson_ci([x_after], [n_after], level=level)
    d = p2 - p1
    lower = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    upper = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return d, float(lower), float(upper)


def fisher_p_value(before: Split, after: Split) -> float:
    """Two-sided Fisher's exact test of the 2 x 2 table (home, removal) x (before, after).

    Examples
    --------
    >>> round(fisher_p_value(Split(20, 20, 0), Split(33, 7, 0)), 4)
    0.0041
    """
    table = [[after.home, after.removal], [before.home, before.removal]]
    return float(fisher_exact(table, alternative="two-sided").pvalue)


def compare_splits(
    group: str, before: Split, after: Split, *, level: float = 0.95
) -> GroupComparison:
    """Compare one group's split before and after (no difference when a period has none ended).

    Examples
    --------
    The worked example: 20 of 40 families going home before, 33 of 40 after.

    >>> g = compare_splits("all families", Split(20, 20, 0), Split(33, 7, 0))
    >>> round(g.difference, 3), round(g.ci_lower, 3), round(g.ci_upper, 3)
    (0.325, 0.118, 0.497)
    """
    if not (before.concluded and after.concluded):
        return GroupComparison(group, before, after, None, None, None, None)
    d, lo, hi = newcombe_difference_ci(
        before.home, before.concluded, after.home, after.concluded, level=level
    )
    return GroupComparison(group, before, after, d, lo, hi, fisher_p_value(before, after))


@dataclass(frozen=True)
class PeriodComparison:
    """The whole comparison for one area: all families first, then by previous removal."""

    geography: str
    geography_name: str
    before: Period
    after: Period
    groups: tuple[GroupComparison, ...]
    level: float = 0.95

    @property
    def overall(self) -> GroupComparison:
        """The comparison for all families."""
        return self.groups[0]

    def table(self) -> pl.DataFrame:
        """One row per group: counts, proportions going home with Wilson limits, difference.

        Returns
        -------
        polars.DataFrame
            Unsuppressed: for analysts inside the secure environment only.
        """
        rows = []
        for g in self.groups:
            row: dict[str, object] = {"group": g.group}
            for name, split in (("before", g.before), ("after", g.after)):
                ci = split.wilson(self.level)
                row |= {
                    f"{name}_home": split.home,
                    f"{name}_removal": split.removal,
                    f"{name}_concluded": split.concluded,
                    f"{name}_ongoing": split.ongoing,
                    f"{name}_proportion_home": split.proportion_home,
                    f"{name}_ci_lower": ci[0] if ci else None,
                    f"{name}_ci_upper": ci[1] if ci else None,
                }
            row |= {
                "difference": g.difference,
                "difference_ci_lower": g.ci_lower,
                "difference_ci_upper": g.ci_upper,
                "fisher_p_value": g.p_value,
            }
            rows.append(row)
        return pl.DataFrame(rows, infer_schema_length=None)

    def sentence(self) -> str:
        """A plain-English summary of the overall comparison that does not claim a cause."""
        return summary_sentence(self.overall, self.geography_name, self.before, self.after)

    def describe(self) -> str:
        """A readable table of every group, then the sentence, for the console."""
        pct = self.level * 100
        lines = [
            f"Proceedings ending at home or with family, {self.geography_name} ({self.geography})",
            f"  before: issued {self.before}    after: issued {self.after}",
            "  (concluded proceedings only; those still ongoing at the extract end are left out)",
            "",
            f"  {'group':<22}{'before':>22}{'after':>22}{'difference (' + f'{pct:g}' + '% CI)':>32}"
            f"{'Fisher p':>10}",
        ]
        for g in self.groups:
            diff = (
                "n/a"
                if g.difference is None
                else f"{100 * g.difference:+.1f} ({100 * g.ci_lower:+.1f} to "
                f"{100 * g.ci_upper:+.1f}) pts"
            )
            p = "n/a" if g.p_value is None else _p(g.p_value)
            lines.append(
                f"  {g.group:<22}{_cell(g.before):>22}{_cell(g.after):>22}{diff:>32}{p:>10}"
            )
        ongoing = [(g.group, g.before.ongoing, g.after.ongoing) for g in self.groups[:1]]
        for _, b, a in ongoing:
            lines.append(f"  still ongoing (left out): {b} before, {a} after")
        lines += ["", self.sentence()]
        return "\n".join(lines)


def _cell(split: Split) -> str:
    if not split.concluded:
        return "0 ended"
    return f"{split.home}/{split.concluded} ({100 * split.home / split.concluded:.1f}%)"


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def summary_sentence(g: GroupComparison, place: str, before: Period, after: Period) -> str:
    """Plain English: counts, both proportions, the difference with its interval, and the caveat.

    The caveat is always stated: a before-and-after difference is an association in time, not
    evidence the change of practice caused it. The word "significant" is never used.

    Examples
    --------
    >>> g = compare_splits("all families", Split(20, 20, 0), Split(33, 7, 0))
    >>> p1, p2 = Period.parse("2016-04-01:2018-03-31"), Period.parse("2018-04-01:2020-03-31")
    >>> "association in time, not evidence the change caused it" in summary_sentence(
    ...     g, "Somewhere", p1, p2)
    True
    """
    b, a = g.before, g.after
    if g.difference is None:
        return (
            f"In {place}, {b.concluded} proceedings issued {before} and {a.concluded} issued "
            f"{after} had ended by the extract end, too few to compare: a comparison needs "
            "ended proceedings in both periods."
        )
    text = (
        f"In {place}, {a.home} of {a.concluded} care proceedings issued {after} that had ended "
        f"({100 * a.home / a.concluded:.1f}%) ended with the child at home or with family, "
        f"against {b.home} of {b.concluded} ({100 * b.home / b.concluded:.1f}%) of those "
        f"issued {before}: a difference of {100 * g.difference:+.1f} percentage points (95% "
        f"confidence interval {100 * g.ci_lower:+.1f} to {100 * g.ci_upper:+.1f}; Fisher's "
        f"exact test p {'< 0.001' if g.p_value < 0.001 else '= ' + format(g.p_value, '.3f')}). "
    )
    if g.ci_lower > 0 or g.ci_upper < 0:
        text += (
            "A difference this large would be unlikely from chance alone if the share had not "
            "changed. "
        )
    else:
        text += (
            "The interval includes no change, so these numbers cannot tell a real shift from "
            "chance. "
        )
    text += (
        "This is an association in time, not evidence the change caused it: other things that "
        "changed over the same years (the families referred, the local courts, how outcomes "
        "are recorded) could account for it."
    )
    return text


def _area_filter(code: str) -> pl.Expr:
    if code == ENGLAND_AND_WALES:
        return pl.lit(True)
    if code == ENGLAND:
        return pl.col("region_code") != WALES
    if code in REGIONS:
        return pl.col("region_code") == code
    return pl.col("la_code") == code


def compare_periods(
    case_outcomes: pl.DataFrame,
    *,
    geography: str,
    before: Period,
    after: Period,
    level: float = 0.95,
) -> PeriodComparison:
    """Compare how care proceedings ended in one area before and after a change of practice.

    Parameters
    ----------
    case_outcomes
        ``analysis.case_outcomes``.
    geography
        A region code (or ``W92000004`` Wales, ``E92000001`` England, ``K04000001`` England and
        Wales), or a local authority code (``la_code``).
    before, after
        The two periods of issue; they may not overlap.
    level
        Confidence level of the intervals.

    Returns
    -------
    PeriodComparison
        All families, then each ``previous_removal`` group with proceedings in either period.

    Raises
    ------
    RecurrenceError
        If the periods overlap or the area has no care proceedings at all.
    """
    if not (before.end < after.start or after.end < before.start):
        raise RecurrenceError(f"The periods overlap: before {before}, after {after}.")
    care = case_outcomes.filter(pl.col("care_proceedings") & _area_filter(geography))
    if care.is_empty():
        raise RecurrenceError(
            f"No care proceedings with region or local authority code {geography!r} in the "
            f"warehouse; region codes are {', '.join(ENGLAND_REGIONS)}, {WALES}."
        )

    def split(frame: pl.DataFrame, period: Period) -> Split:
        inside = frame.filter(pl.col("issue_date").is_between(period.start, period.end))
        cls = inside["outcome_class"]
        return Split(
            home=int((cls == HOME).sum()),
            removal=int((cls == REMOVAL).sum()),
            ongoing=int((cls == ONGOING).sum()),
        )

    groups = [compare_splits(ALL_FAMILIES, split(care, before), split(care, after), level=level)]
    for value in ("previous_removal", "no_previous_removal", "no_mother_recorded"):
        part = care.filter(pl.col("previous_removal") == value)
        if part.is_empty():
            continue
        groups.append(compare_splits(value, split(part, before), split(part, after), level=level))
    name = GEOGRAPHY_NAMES.get(geography, f"local authority {geography}")
    return PeriodComparison(geography, name, before, after, tuple(groups), level)


def compare_periods_in_warehouse(
    warehouse: Path | str, *, geography: str, before: Period, after: Period
) -> PeriodComparison:
    """:func:`compare_periods` on a built warehouse's ``analysis.case_outcomes`` (read only).

    Raises
    ------
    RecurrenceError
        If the warehouse or its outcomes table is missing.
    """
    import duckdb

    from recurrence.warehouse import connect

    try:
        con = connect(warehouse, read_only=True)
    except FileNotFoundError as exc:
        # The warehouse is a setting (--warehouse or paths.warehouse): exit status 2.
        raise ConfigError(str(exc)) from None
    try:
        frame = con.sql(f"select * from {CASE_OUTCOMES_TABLE}").pl()
    except duckdb.CatalogException:
        raise RecurrenceError(
            f"The warehouse {warehouse} has no {CASE_OUTCOMES_TABLE}: run the pipeline "
            "(recurrence run) with the outcomes stage first."
        ) from None
    finally:
        con.close()
    return compare_periods(frame, geography=geography, before=before, after=after)


def write_comparison_csv(
    result: PeriodComparison, path: Path, disclosure: DisclosureConfig
) -> Path:
    """Write the comparison to a CSV file, with small counts suppressed.

    A period's counts are hidden (``disclosure.symbol``) when its ended, home or removal count
    is under ``disclosure.min_cell`` (zero included), together with its proportion and
    interval; the difference, its interval and the p-value are hidden when either period is.
    This is primary suppression only: the file is for use inside the secure environment, to be
    checked before any release.

    Parameters
    ----------
    result
        The comparison.
    path
        The CSV file to write.
    disclosure
        Threshold and symbol.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    table = result.table()
    small = disclosure.min_cell

    def unsafe(prefix: str) -> pl.Expr:
        return pl.any_horizontal(
            pl.col(f"{prefix}_{c}") < small for c in ("home", "removal", "concluded")
        )

    period_columns = {
        p: [c for c in table.columns if c.startswith(f"{p}_") and not c.endswith("_ongoing")]
        for p in ("before", "after")
    }
    ongoing = [f"{p}_ongoing" for p in ("before", "after")]
    hidden = (
        table.with_columns(_before=unsafe("before"), _after=unsafe("after"))
        .with_columns(
            *(
                pl.when(pl.col(f"_{p}")).then(None).otherwise(pl.col(c)).alias(c)
                for p, cols in period_columns.items()
                for c in cols
            ),
            *(pl.when(pl.col(c) < small).then(None).otherwise(pl.col(c)).alias(c) for c in ongoing),
            *(
                pl.when(pl.col("_before") | pl.col("_after"))
                .then(None)
                .otherwise(pl.col(c))
                .alias(c)
                for c in (
                    "difference",
                    "difference_ci_lower",
                    "difference_ci_upper",
                    "fisher_p_value",
                )
            ),
        )
        .drop("_before", "_after")
    )
    header = ["geography", "before_period", "after_period", *hidden.columns]

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(header)
            for row in hidden.iter_rows():
                out.writerow(
                    [result.geography, str(result.before), str(result.after)]
                    + [
                        disclosure.symbol
                        if v is None
                        else (f"{v:.6g}" if isinstance(v, float) else v)
                        for v in row
                    ]
                )

    return atomic_write(path, write)
