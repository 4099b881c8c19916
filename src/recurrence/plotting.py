"""Figures for publication: data in, matplotlib Figure out, no file I/O.

Every figure is readable in greyscale (lines differ by marker and dash, not only colour), and its
title and axis labels are written for a non-specialist reader.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, Locator, NullFormatter

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


#: Geography levels drawn as highlighted series (named, with intervals) in a trend chart.
HIGHLIGHT_LEVELS = ("england_and_wales", "country")
#: At most this many highlighted series in a trend chart; the rest are thin unnamed lines.
MAX_HIGHLIGHTED = 4


def rates_over_time(
    table: pl.DataFrame,
    *,
    title: str,
    ylabel: str = "Children per 10,000 live births",
    xlabel: str = "Year",
    note: str | None = "Gaps are values hidden to protect confidentiality.",
    highlight: Sequence[str] | None = None,
) -> Figure:
    """Line chart of a rate by area over time; hidden (suppressed) values leave gaps.

    At most :data:`MAX_HIGHLIGHTED` areas are highlighted: drawn in black and greys with
    markers, named in the legend and, when the table has ``ci_lower`` and ``ci_upper``, shaded
    with their 95% confidence interval. Other areas are thin light-grey lines with no legend
    entry (the note says what they are). An area with no published value at all is not drawn
    and has no legend entry; the note names it.

    Parameters
    ----------
    table
        Columns ``geography_name``, ``year`` and ``rate_per_10000`` (null where suppressed), one
        row per area and year, years sortable as text; optional ``ci_lower``, ``ci_upper`` and
        ``geography_level``.
    title, ylabel, xlabel
        Plain-English labels.
    note
        Footnote under the chart (``None`` for none).
    highlight
        Names of the areas to highlight; by default the areas at the levels in
        :data:`HIGHLIGHT_LEVELS` (England and Wales and the countries) when the table says
        levels, otherwise the first :data:`MAX_HIGHLIGHTED`.

    Returns
    -------
    matplotlib.figure.Figure
        The chart.
    """
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    years = sorted(table["year"].unique().to_list())
    x = np.arange(len(years))
    names = [n for (n,) in table.select("geography_name").unique(maintain_order=True).iter_rows()]
    if highlight is None:
        if "geography_level" in table.columns:
            levels = table.filter(pl.col("geography_level").is_in(HIGHLIGHT_LEVELS))
            highlight = levels["geography_name"].unique(maintain_order=True).to_list()
        else:
            highlight = names
    highlight = [n for n in highlight if n in names][:MAX_HIGHLIGHTED]
    has_ci = {"ci_lower", "ci_upper"} <= set(table.columns)

    def series(name: str, column: str) -> np.ndarray:
        rows = table.filter(pl.col("geography_name") == name)
        by_year = dict(zip(rows["year"].to_list(), rows[column].to_list(), strict=True))
        return np.array([np.nan if by_year.get(v) is None else by_year[v] for v in years], float)

    empty, others = [], 0
    for name in names:
        y = series(name, "rate_per_10000")
        if not np.isfinite(y).any():
            empty.append(name)
        elif name not in highlight:
            ax.plot(x, y, color="0.75", linewidth=0.8, zorder=1)
            others += 1
    for i, name in enumerate(n for n in highlight if n not in empty):
        style = _style(i)
        y = series(name, "rate_per_10000")
        ax.plot(x, y, label=name, zorder=3, **style)
        if has_ci:
            lo, hi = series(name, "ci_lower"), series(name, "ci_upper")
            ax.fill_between(x, lo, hi, color=str(style["color"]), alpha=0.15, linewidth=0)
    notes = [note] if note else []
    if has_ci and highlight:
        notes.append("Shading: 95% confidence interval of each named area.")
    if others:
        notes.append("Thin grey lines: the other areas (regions), named in the tables.")
    if empty:
        notes.append(f"No published value, so not drawn: {', '.join(empty)}.")
    notes = [textwrap.fill(n, 110) for n in notes]
    ax.set_xticks(x, years, rotation=45, ha="right")
    # The footnote goes under the axis label so the layout engine makes room for it.
    ax.set_xlabel(f"{xlabel}\n\n" + "\n".join(notes) if notes else xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="0.85")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    return fig


def funnel_plot(
    children: Sequence[float],
    live_births: Sequence[float],
    *,
    pooled_rate: float | None,
    title: str,
    labels: Sequence[str] | None = None,
    label_outside: bool = True,
    hidden_count: int = 0,
    target_label: str = "National rate",
    target_text: str | None = None,
    hidden_text: str | None = None,
) -> Figure:
    """Funnel plot of areas' rates against their births, with 95% and 99.8% limits.

    Parameters
    ----------
    children, live_births
        Counts and denominators of the areas to plot. Pass only areas whose counts may be
        published: a point's position gives its count back.
    pooled_rate
        Target rate per 10,000 (the national rate), or None when it is hidden: then no target
        line, no limits and no number in the legend are drawn.
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
    target_text, hidden_text
        The target rate and the number of hidden areas as text, already formatted (the report
        passes its registry's text); by default formatted here.

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
    if pooled_rate is not None:
        for level, style, name in ((0.95, "--", "95% limits"), (0.998, ":", "99.8% limits")):
            lo, hi = funnel_limits(pooled_rate, grid, level=level)
            ax.plot(grid, lo, color="0.2", linestyle=style, linewidth=1.2, label=name)
            ax.plot(grid, hi, color="0.2", linestyle=style, linewidth=1.2)
        shown = target_text if target_text is not None else f"{pooled_rate:.1f}"
        ax.axhline(pooled_rate, color="0.0", linewidth=1.2, label=f"{target_label} ({shown})")
    rate = np.divide(o * 10_000, n, out=np.zeros_like(o), where=n > 0)
    ax.scatter(n, rate, s=22, facecolor="white", edgecolor="black", zorder=3, label="Area")
    if labels is not None and label_outside and o.size and pooled_rate is not None:
        lo, hi = funnel_limits(pooled_rate, n, level=0.998)
        for xi, yi, name, low, high in zip(n, rate, labels, lo, hi, strict=True):
            if yi > high or yi < low:
                ax.annotate(name, (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=8)
    xlabel = "Live births in the area (mother's residence)"
    if hidden_count:
        hidden = hidden_text if hidden_text is not None else str(hidden_count)
        xlabel += f"\n\n{hidden} areas are not shown because their counts are suppressed."
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Children per 10,000 live births")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    if ax.get_legend_handles_labels()[0]:  # nothing to name when the target and areas are hidden
        ax.legend(loc="upper right", frameon=False, fontsize=8)
    return fig


@dataclass(frozen=True)
class Curve:
    """One group's cumulative chance of return at the published horizons.

    Attributes
    ----------
    label
        Plain-English name of the group (such as ``"Aged 16-19"``).
    years
        Horizons in years, ascending.
    estimate, lower, upper
        Cumulative probability of return and its 95% limits at each horizon, as proportions;
        ``None`` where the value is hidden by disclosure control (the curve has a gap there).
    at_risk
        Mothers still followed up at each horizon, ``None`` where hidden; or the text to write
        for each, already formatted (the report passes text from its number registry, so every
        number drawn is one it recorded).
    """

    label: str
    years: tuple[int, ...]
    estimate: tuple[float | None, ...]
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]
    at_risk: tuple[int | str | None, ...]


def _values(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _draw_curve(ax: Axes, curve: Curve, i: int, *, band: bool = True) -> None:
    """Points at the horizons joined by lines, starting from 0 at time 0, with a 95% band."""
    x = np.array([0, *curve.years], dtype=float)
    y = np.concatenate([[0.0], _values(curve.estimate)]) * 100
    lo = np.concatenate([[0.0], _values(curve.lower)]) * 100
    hi = np.concatenate([[0.0], _values(curve.upper)]) * 100
    style = _style(i)
    ax.plot(x, y, label=curve.label, **style)
    if band:
        ax.fill_between(x, lo, hi, color=str(style["color"]), alpha=0.15, linewidth=0)
        # Dashed edges keep the band readable when shades of grey are hard to tell apart.
        for edge in (lo, hi):
            ax.plot(x, edge, color=str(style["color"]), linewidth=0.6, linestyle=":")


def _at_risk_text(value: int | str | None, symbol: str) -> str:
    if isinstance(value, str):
        return value
    return symbol if value is None else f"{value:,}"


def recurrence_curves(
    curves: Sequence[Curve],
    *,
    title: str,
    horizon_label: str = "Years since the first set of care proceedings",
    symbol: str = "[c]",
    note: str | None = None,
) -> Figure:
    """Cumulative chance of return by group, with 95% bands and numbers at risk beneath.

    Up to four groups share one chart, with a table of mothers still followed up beneath it;
    more groups are drawn as small panels (one per group, the first curve repeated as a dashed
    reference in each), with the numbers at risk under each panel's axis.

    Parameters
    ----------
    curves
        The groups; the first is the reference (usually all mothers).
    title
        Plain-English title.
    horizon_label
        The x-axis label.
    symbol
        What to write where a number at risk is hidden.
    note
        Footnote under the chart.

    Returns
    -------
    matplotlib.figure.Figure
        The chart.
    """
    if len(curves) <= 4:
        return _curves_one_chart(
            curves, title=title, xlabel=horizon_label, symbol=symbol, note=note
        )
    return _curves_panels(curves, title=title, xlabel=horizon_label, symbol=symbol, note=note)


#: Steps of a percentage axis: whole or half percentages, never 2.5 (shown rounded as 2%, 5%, 8%).
PERCENT_STEPS: tuple[float, ...] = (0.5, 1, 2, 5, 10, 20, 25, 50)


class PercentLocator(Locator):
    """Ticks of a percentage axis at a step of :data:`PERCENT_STEPS`, at most ``most`` ticks."""

    def __init__(self, most: int = 8) -> None:
        self.most = most

    def __call__(self) -> Sequence[float]:
        """The ticks of the axis's current view."""
        lo, hi = self.axis.get_view_interval()
        return self.tick_values(lo, hi)

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
        """Ticks from ``vmin`` to ``vmax`` at the smallest step giving at most ``most``."""
        vmin, vmax = min(vmin, vmax), max(vmin, vmax)
        span = max(vmax - vmin, 1e-9)
        step = next((s for s in PERCENT_STEPS if span / s <= self.most), PERCENT_STEPS[-1])
        first = math.ceil(vmin / step - 1e-9) * step
        return [round(v, 6) for v in np.arange(first, vmax + step * 1e-6, step)]


def percent_label(value: float, _pos: object = None) -> str:
    """A percentage tick: ``5%`` for a whole number, ``2.5%`` for a half."""
    return f"{value:.0f}%" if float(value).is_integer() else f"{value:.1f}%"


def _curve_axes(ax: Axes, years: Sequence[int], xlabel: str | None) -> None:
    ax.set_xlim(0, max(years, default=1) + 0.3)
    ax.set_xticks([0, *years])
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(PercentLocator())
    ax.yaxis.set_major_formatter(percent_label)
    ax.grid(axis="y", color="0.85")
    if xlabel:
        ax.set_xlabel(xlabel)


def _curves_one_chart(
    curves: Sequence[Curve], *, title: str, xlabel: str, symbol: str, note: str | None
) -> Figure:
    rows = len(curves)
    fig = Figure(figsize=(9, 5.2 + 0.28 * rows), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[5, 0.5 + 0.35 * rows])
    ax = fig.add_subplot(grid[0])
    blank = [c.label for c in curves if not _has_values(c)]
    for i, curve in enumerate(curves):
        if _has_values(curve):  # a curve with every value hidden has no line and no legend entry
            _draw_curve(ax, curve, i)
    if blank:
        hidden = f"Not drawn, every value hidden ({symbol}): {', '.join(blank)}."
        note = f"{note} {hidden}" if note else hidden
    years = curves[0].years if curves else ()
    _curve_axes(ax, years, xlabel)
    ax.set_ylabel("Mothers who have returned to court (%)")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", frameon=False, fontsize=9)
    table = fig.add_subplot(grid[1], sharex=ax)
    table.set_ylim(rows - 0.5, -1.2)
    table.text(0, -1, "Mothers still followed up:", fontsize=8, ha="left", va="center")
    for r, curve in enumerate(curves):
        table.text(-0.05, r, curve.label, fontsize=8, ha="right", va="center")
        for x, value in zip(curve.years, curve.at_risk, strict=True):
            table.text(x, r, _at_risk_text(value, symbol), fontsize=8, ha="center", va="center")
    table.axis("off")
    if note:
        table.set_title(textwrap.fill(note, 120), fontsize=8, loc="left", y=-0.6 - 0.1 * rows)
    return fig


def _has_values(curve: Curve) -> bool:
    """Whether any estimate of the curve is published (not every value hidden)."""
    return any(v is not None for v in curve.estimate)


def _curves_panels(
    curves: Sequence[Curve], *, title: str, xlabel: str, symbol: str, note: str | None
) -> Figure:
    reference, groups = curves[0], list(curves[1:])
    ncols = 3
    nrows = -(-len(groups) // ncols)
    fig = Figure(figsize=(10, 2.9 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    handles: list = []
    for k, ax in enumerate(axes.flat):
        if k >= len(groups):
            ax.axis("off")
            continue
        curve = groups[k]
        _curve_axes(ax, curve.years, None)
        ax.set_title(curve.label, fontsize=9)
        if _has_values(curve):
            (ref_line,) = ax.plot(
                [0, *reference.years],
                np.concatenate([[0.0], _values(reference.estimate)]) * 100,
                color="0.55",
                linestyle="--",
                linewidth=1,
            )
            _draw_curve(ax, curve, 0)
            if not handles:
                handles = [ax.get_lines()[1], ref_line]
        else:
            # Say why the panel is empty rather than draw a panel with nothing of its own.
            ax.text(
                0.5,
                0.5,
                f"Every value hidden ({symbol}):\ntoo few mothers",
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=8,
                color="0.3",
            )
        # Numbers at risk are text of their own, never tick labels (the report audit reads
        # figure text but skips tick labels, which are an axis scale). The label has a line
        # of its own so it never runs into the first number.
        under = ax.get_xaxis_transform()
        ax.text(0, -0.2, "Mothers at risk:", transform=under, fontsize=7, ha="left", va="top")
        for x, n in zip(curve.years, curve.at_risk, strict=True):
            ax.text(
                x,
                -0.32,
                _at_risk_text(n, symbol),
                transform=under,
                fontsize=7,
                ha="center",
                va="top",
            )
        ax.tick_params(labelsize=7)
    # The panels share one scale, set from every curve and band: each panel's own autoscale
    # would cut off the groups with the highest chance of return.
    tops = [_values(c.upper) for c in curves] + [_values(c.estimate) for c in curves]
    top = max((float(np.nanmax(t)) for t in tops if np.isfinite(t).any()), default=0.0)
    axes[0, 0].set_ylim(0, max(top * 100 * 1.05, 1.0))
    names = [
        "The group's chance of return\n(shading: 95% confidence interval)",
        f"{reference.label}, for comparison",
    ]
    spare = [ax for k, ax in enumerate(axes.flat) if k >= len(groups)]
    if handles and spare:
        # The legend takes a spare panel: above the panels it would run into the title.
        spare[0].legend(handles, names, loc="center", frameon=False, fontsize=8)
    elif handles:
        key = (
            f"Dashed grey line: {reference.label}, for comparison; shading: 95% confidence "
            "interval."
        )
        note = f"{note} {key}" if note else key
    fig.suptitle(title)
    fig.supxlabel(xlabel + (f"\n{note}" if note else ""), fontsize=9)
    fig.supylabel("Mothers who have returned to court (%)", fontsize=9)
    return fig


#: Ticks of a hazard-ratio axis (log scale), written as plain numbers.
RATIO_TICKS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20)


def forest_plot(
    labels: Sequence[str],
    ratio: Sequence[float | None],
    lower: Sequence[float | None],
    upper: Sequence[float | None],
    *,
    title: str,
    headings: Sequence[bool] | None = None,
    symbol: str = "[c]",
) -> Figure:
    """Hazard ratios with 95% intervals on a log scale, one row per label, top to bottom.

    Parameters
    ----------
    labels
        Row labels (a covariate heading or a level against its reference).
    ratio, lower, upper
        Hazard ratio and limits; ``None`` where hidden (the row says so) or for a heading.
    title
        Plain-English title.
    headings
        Which rows are headings (written in bold, no point).
    symbol
        Written on rows whose ratio is hidden.

    Returns
    -------
    matplotlib.figure.Figure
        The plot.
    """
    n = len(labels)
    headings = list(headings) if headings is not None else [False] * n
    fig = Figure(figsize=(9, 1.2 + 0.28 * n), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)
    r, lo, hi = _values(ratio), _values(lower), _values(upper)
    shown = ~np.isnan(r)
    ax.errorbar(
        r[shown],
        y[shown],
        xerr=[r[shown] - lo[shown], hi[shown] - r[shown]],
        fmt="s",
        color="black",
        markersize=5,
        capsize=3,
        linewidth=1.2,
    )
    ax.axvline(1.0, color="0.4", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    finite = np.concatenate([lo[shown], hi[shown], [0.5, 2.0]])
    ax.set_xlim(float(finite.min()) / 1.2, float(finite.max()) * 1.2)
    ax.set_yticks(y, labels, fontsize=8)
    for tick, heading in zip(ax.get_yticklabels(), headings, strict=True):
        if heading:
            tick.set_fontweight("bold")
    for yi, hidden, heading in zip(y, ~shown, headings, strict=True):
        if hidden and not heading:
            ax.text(1.0, yi, f" {symbol} (hidden: too few mothers)", fontsize=7, va="center")
    ax.set_ylim(n - 0.5, -0.5)
    # Plain numbers at fixed ratios: matplotlib's log axis would label minor ticks "6 × 10⁻¹".
    left, right = ax.get_xlim()
    ax.xaxis.set_major_locator(FixedLocator([t for t in RATIO_TICKS if left <= t <= right]))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(
        "Hazard ratio (log scale)\nabove 1: returns sooner or more often than the reference group"
    )
    ax.set_title(title)
    ax.grid(axis="x", color="0.9")
    return fig


@dataclass(frozen=True)
class EffectPanel:
    """One term of :func:`effect_over_time`: its binned β(t) and R's smooth, in years.

    ``coefficient`` is the fitted coefficient (or 1 for a term of several groups, whose β(t)
    is relative to the model's average effect); all values are None when hidden.
    """

    title: str
    ylabel: str
    start: tuple[float, ...]
    end: tuple[float, ...]
    at: tuple[float, ...]
    mean: tuple[float | None, ...]
    smooth: tuple[float | None, ...]
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]
    coefficient: float | None


def effect_over_time(
    panels: Sequence[EffectPanel],
    *,
    title: str,
    xlabel: str = "Years since the first set of care proceedings",
    symbol: str = "[c]",
) -> Figure:
    """R's ``plot.cox.zph`` from published bins: β(t) over follow-up, one panel per term.

    Each bin is a point at the mean β(t) and mean follow-up (``at``) of its returns, drawn
    across the years it covers;
    R's smooth with its band of ±2 standard errors joins the bins; a dashed line marks the
    fitted coefficient and a dotted line no effect. Legends hold words only (the report audit
    reads figure text; the axes' tick labels are a scale).

    Parameters
    ----------
    panels
        One per tested term.
    title, xlabel
        Plain-English labels.
    symbol
        Written on a panel whose values are hidden.

    Returns
    -------
    matplotlib.figure.Figure
        The chart.
    """
    ncols = 1 if len(panels) <= 1 else 2
    nrows = max(-(-len(panels) // ncols), 1)
    fig = Figure(figsize=(9, 3.2 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(panels):
            ax.axis("off")
            continue
        panel = panels[k]
        start, end = np.array(panel.start), np.array(panel.end)
        mid = np.array(panel.at)
        mean, fit = _values(panel.mean), _values(panel.smooth)
        lo, hi = _values(panel.lower), _values(panel.upper)
        ax.set_title(panel.title, fontsize=9)
        ax.set_ylabel(panel.ylabel, fontsize=8)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
        if panel.coefficient is None:
            ax.text(
                0.5,
                0.5,
                f"{symbol} hidden: too few mothers in a group",
                transform=ax.transAxes,
                ha="center",
                fontsize=8,
            )
            continue
        if np.isfinite(fit).any():
            ax.fill_between(mid, lo, hi, color="0.6", alpha=0.25, linewidth=0)
            ax.plot(mid, fit, color="0.0", linewidth=1.4, label="Smooth, ± two standard errors")
            for edge in (lo, hi):
                ax.plot(mid, edge, color="0.3", linewidth=0.6, linestyle=":")
        ax.errorbar(
            mid,
            mean,
            xerr=[np.maximum(mid - start, 0), np.maximum(end - mid, 0)],
            fmt="o",
            color="0.25",
            markersize=4,
            capsize=0,
            linewidth=0.8,
            label="Mean of a group of returns",
        )
        ax.axhline(
            panel.coefficient,
            color="0.2",
            linestyle="--",
            linewidth=1,
            label="Fitted (constant) effect",
        )
        ax.axhline(0.0, color="0.5", linestyle=":", linewidth=1, label="No effect")
        ax.set_xlim(left=0)
        ax.grid(axis="y", color="0.9")
        if not fig.legends:
            fig.legend(loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    fig.suptitle(title)
    return fig
