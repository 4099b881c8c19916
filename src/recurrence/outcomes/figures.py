"""The key outcome figures of a released table, in a plain structure for the report.

:func:`key_outcome_figures` reads only ``published.outcomes`` (after disclosure control), so
every number it returns is one that may be released.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from recurrence.outcomes.proportions import ALL, ALL_YEARS
from recurrence.rates.newborns import ENGLAND_AND_WALES


@dataclass(frozen=True)
class Figure:
    """One released proportion (or number of weeks) with its interval; None where suppressed."""

    label: str
    numerator: int | None
    denominator: int | None
    value: float | None
    ci_lower: float | None
    ci_upper: float | None

    def text(self, *, percent: bool = True) -> str:
        """The figure as text, e.g. ``"47.5% (45.9-49.1), 1,982 of 4,176"`` or ``"[c]"``."""
        if self.value is None:
            return "[c]"
        if not percent:
            return f"{self.value:.1f}"
        out = f"{100 * self.value:.1f}%"
        if self.ci_lower is not None and self.ci_upper is not None:
            out += f" ({100 * self.ci_lower:.1f}-{100 * self.ci_upper:.1f})"
        if self.numerator is not None and self.denominator is not None:
            out += f", {self.numerator:,} of {self.denominator:,}"
        return out


@dataclass(frozen=True)
class KeyOutcomeFigures:
    """Headline outcomes for England and Wales, all years of issue together.

    ``home_by_group`` maps each group (``index``, ``returning``, ``previous_removal``,
    ``no_previous_removal``, ...) to the share of its concluded proceedings ending at home or
    with family. ``latest_year`` is the latest year of issue in the table, with ``home_latest``
    its share.
    """

    home: Figure
    removal: Figure
    ongoing: Figure
    within_target: Figure
    weeks_median: Figure
    weeks_q1: Figure
    weeks_q3: Figure
    home_by_group: dict[str, Figure]
    latest_year: str | None
    home_latest: Figure | None


def _figure(rows: pl.DataFrame, label: str) -> Figure:
    if rows.is_empty():
        return Figure(label, None, None, None, None, None)
    r = rows.row(0, named=True)
    return Figure(label, r["numerator"], r["denominator"], r["value"], r["ci_lower"], r["ci_upper"])


def key_outcome_figures(published: pl.DataFrame) -> KeyOutcomeFigures:
    """Pick the headline figures out of ``published.outcomes``.

    Parameters
    ----------
    published
        ``published.outcomes`` (hidden values null).

    Returns
    -------
    KeyOutcomeFigures
        Suppressed figures have ``value`` None (shown as ``[c]`` by :meth:`Figure.text`).
    """
    national = published.filter(pl.col("geography_code") == ENGLAND_AND_WALES)
    pooled = national.filter(pl.col("year") == ALL_YEARS)
    everyone = pooled.filter(pl.col("group_variable") == ALL)

    def pick(frame: pl.DataFrame, measure: str, label: str) -> Figure:
        return _figure(frame.filter(pl.col("measure") == measure), label)

    groups = {
        row["group"]: _figure(
            pooled.filter(
                (pl.col("group_variable") == row["group_variable"])
                & (pl.col("group") == row["group"])
                & (pl.col("measure") == "home_or_family")
            ),
            row["group"],
        )
        for row in pooled.filter(pl.col("group_variable") != ALL)
        .select("group_variable", "group")
        .unique(maintain_order=True)
        .iter_rows(named=True)
    }
    years = [y for y in national["year"].unique(maintain_order=True).to_list() if y != ALL_YEARS]
    latest = years[-1] if years else None
    home_latest = None
    if latest is not None:
        home_latest = pick(
            national.filter((pl.col("year") == latest) & (pl.col("group_variable") == ALL)),
            "home_or_family",
            f"home or family, {latest}",
        )
    return KeyOutcomeFigures(
        home=pick(everyone, "home_or_family", "home or family"),
        removal=pick(everyone, "removal", "removal"),
        ongoing=pick(everyone, "ongoing", "ongoing at extract end"),
        within_target=pick(everyone, "within_target", "final hearing within the target"),
        weeks_median=pick(everyone, "weeks_median", "median weeks to final hearing"),
        weeks_q1=pick(everyone, "weeks_q1", "lower quartile of weeks"),
        weeks_q3=pick(everyone, "weeks_q3", "upper quartile of weeks"),
        home_by_group=groups,
        latest_year=latest,
        home_latest=home_latest,
    )
