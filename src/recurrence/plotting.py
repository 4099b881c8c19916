"""Figures for publication: data in, matplotlib Figure out, no file I/O.

Every figure is readable in greyscale (lines differ by marker and dash, not only colour), and its
title and axis labels are written for a non-specialist reader.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from matplotlib.figure import Figure

from recurrence.rates.intervals import funnel_limits

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
DASHES = ("-", "--", ":", "-.")
GREYS = ("0.0", "0.35", "0.6")


def _style(i: int) -> dict[str, object]:
    return {
        "marker": MARKERS[i % len(MARKERS)],
        "linestyle": DASHES[i % len(DASHES)],
        "color": GREYS[i % len(GREYS)],
        "markersize": 5,
        "linewidth": 1.4,
    }


def rates_over_time(
    table: pl.DataFrame,
    *,
    title: str,
    ylabel: str = "Children per 10,000 live births",
    xlabel: str = "Year",
    note: str | None = "Gaps are values hidden to protect confidentiality.",
) -> Figure:
    """Line chart of a rate by area over time; hidden (suppressed) values leave gaps.

    Parameters
    ----------
    table
        Columns ``geography_name``, ``year`` and ``rate_per_10000`` (null where suppressed), one
        row per area and year, years sortable as text.
    title, ylabel, xlabel
        Plain-English labels.
    note
        Footnote under the chart (``None`` for none).

    Returns
    -------
    matplotlib.figure.Figure
        The chart.
    """
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    years = sorted(table["year"].unique().to_list())
    x = np.arange(len(years))
    for i, (name,) in enumerate(
        table.select("geography_name").unique(maintain_order=True).iter_rows()
    ):
        rows = table.filter(pl.col("geography_name") == name)
        by_year = dict(zip(rows["year"].to_list(), rows["rate_per_10000"].to_list(), strict=True))
        y = np.array([np.nan if by_year.get(v) is None else by_year[v] for v in years], float)
        ax.plot(x, y, label=name, **_style(i))
    ax.set_xticks(x, years, rotation=45, ha="right")
    # The footnote goes under the axis label so the layout engine makes room for it.
    ax.set_xlabel(f"{xlabel}\n\n{note}" if note else xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="0.85")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    return fig


def funnel_plot(
    children: Sequence[float],
    live_births: Sequence[float],
    *,
    pooled_rate: float,
    title: str,
    labels: Sequence[str] | None = None,
    label_outside: bool = True,
    hidden_count: int = 0,
    target_label: str = "National rate",
) -> Figure:
    """Funnel plot of areas' rates against their births, with 95% and 99.8% limits.

    Parameters
    ----------
    children, live_births
        Counts and denominators of the areas to plot. Pass only areas whose counts may be
        published: a point's position gives its count back.
    pooled_rate
        Target rate per 10,000 (the national rate).
    title
        Plain-English title.
    labels
        Area names; those outside the 99.8% limits are written beside their point.
    label_outside
        Whether to name areas outside the 99.8% limits.
    hidden_count
        Number of areas left out because their counts are suppressed (said in a footnote).
    target_label
        Name of the target line in the legend, such as ``"England and Wales rate"``.

    Returns
    -------
    matplotlib.figure.Figure
        The plot.
    """
    o = np.asarray(children, dtype=float)
    n = np.asarray(live_births, dtype=float)
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    top = max(float(n.max()) if n.size else 1000.0, 100.0) * 1.05
    start = max(float(n.min()) * 0.8 if n.size else top / 20, 1.0)
    grid = np.linspace(start, top, 400)
    for level, style, name in ((0.95, "--", "95% limits"), (0.998, ":", "99.8% limits")):
        lo, hi = funnel_limits(pooled_rate, grid, level=level)
        ax.plot(grid, lo, color="0.2", linestyle=style, linewidth=1.2, label=name)
        ax.plot(grid, hi, color="0.2", linestyle=style, linewidth=1.2)
    ax.axhline(pooled_rate, color="0.0", linewidth=1.2, label=f"{target_label} ({pooled_rate:.1f})")
    rate = np.divide(o * 10_000, n, out=np.zeros_like(o), where=n > 0)
    ax.scatter(n, rate, s=22, facecolor="white", edgecolor="black", zorder=3, label="Area")
    if labels is not None and label_outside and o.size:
        lo, hi = funnel_limits(pooled_rate, n, level=0.998)
        for xi, yi, name, low, high in zip(n, rate, labels, lo, hi, strict=True):
            if yi > high or yi < low:
                ax.annotate(name, (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=8)
    xlabel = "Live births in the area (mother's residence)"
    if hidden_count:
        xlabel += f"\n\n{hidden_count} areas are not shown because their counts are suppressed."
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Children per 10,000 live births")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    return fig
