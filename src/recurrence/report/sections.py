"""The report's sections, each built by one function from the run's released tables.

:data:`SECTIONS` is the ordered list of builders; a later stage adds its section by adding one
function (``ReportInputs -> Section | None``) to the list. A builder returning None is left out.
Every number is taken from a released table (see :mod:`recurrence.report.inputs`) and turned
into text by the formatters of :mod:`recurrence.report.content`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import polars as pl
from matplotlib.figure import Figure

from recurrence.contract import REGIONS
from recurrence.plotting import Curve, forest_plot, rates_over_time, recurrence_curves
from recurrence.publish import funnel_figure, left_out_sheets, trend_figure
from recurrence.rates.intervals import funnel_limits
from recurrence.rates.newborns import ENGLAND_AND_WALES, age_bands
from recurrence.report.about_sections import (
    caveats_section,
    data_section,
    methods_section,
    provenance_section,
)
from recurrence.report.content import (
    Block,
    Bullets,
    FigureBlock,
    Paragraph,
    Report,
    Section,
    Table,
    count,
    interval,
    p_value,
    pct,
    rate,
    ratio,
)
from recurrence.report.inputs import ReportInputs, first_row
from recurrence.report.outcomes_section import outcomes_section
from recurrence.survival.cohort import REFERENCE_LEVELS
from recurrence.survival.estimates import METHOD_AJ, METHOD_KM, OVERALL

Builder = Callable[[ReportInputs], Section | None]

VARIABLE_NAMES = {
    "age_group": "Mother's age at her first set",
    "region_code": "Region",
    "index_period": "Year of her first set",
    "youngest_child_age": "Age of her youngest child then",
    "children_in_index_set": "Children in her first set",
}
CHILD_AGE_NAMES = {"newborn": "newborn", "infant": "infant (not newborn)", "older": "older child"}


def level_name(variable: str, value: str) -> str:
    """Plain-English name of one level of a covariate (region codes become region names)."""
    if variable == "region_code":
        return REGIONS.get(value, value)
    if variable == "age_group":
        return f"aged {value}" if value not in ("unknown",) else "age unknown"
    if variable == "youngest_child_age":
        return CHILD_AGE_NAMES.get(value, value)
    return value


def _primary(estimates: pl.DataFrame) -> pl.DataFrame:
    method = METHOD_AJ if METHOD_AJ in set(estimates["method"]) else METHOD_KM
    return estimates.filter(pl.col("method") == method)


def one_in_n(estimate: float, lower: float, upper: float) -> int | None:
    """N for "about 1 in N", or None when the interval does not support one whole N.

    N is 1/estimate rounded; the phrase is used only when 1/N lies inside the 95% interval and
    the interval's ends round to N or its neighbours (so "1 in 4" is never said of an
    interval running from 1 in 3 to 1 in 6).
    """
    if not (0 < lower <= estimate <= upper < 1) or estimate <= 0:
        return None
    n = round(1 / estimate)
    if n < 2 or not lower <= 1 / n <= upper:
        return None
    if abs(round(1 / upper) - n) > 1 or abs(round(1 / lower) - n) > 1:
        return None
    return n


def _chance_sentence(row: dict[str, Any], who: str, years: int, symbol: str) -> str:
    if row["estimate"] is None:
        return (
            f"The chance of return within {years} years for {who} is hidden ({symbol}): "
            "too few mothers."
        )
    p, lo, hi = row["estimate"], row["ci_lower"], row["ci_upper"]
    ci = f"95% confidence interval {interval(pct(lo, symbol), pct(hi, symbol))}"
    n = one_in_n(p, lo, hi)
    lead = f"About 1 in {n} {who} ({pct(p, symbol)}" if n else f"{pct(p, symbol)} of {who} ("
    lead = f"{lead}; {ci})" if n else f"{lead}{ci})"
    return f"{lead} returned to court with another set of care proceedings within {years} years."


def key_figures(inputs: ReportInputs) -> Section:
    """The headline numbers in plain English."""
    cfg, symbol = inputs.config, inputs.config.disclosure.symbol
    estimates = _primary(inputs.tables["published.recurrence_estimates"])
    years = cfg.recurrence.horizon_years
    items: list[str] = []
    overall = first_row(estimates, group_variable=OVERALL, horizon_years=years)
    if overall:
        items.append(_chance_sentence(overall, "mothers", years, symbol))
        if overall["n_at_start"] is not None:
            items.append(
                f"These figures follow {count(overall['n_at_start'], symbol)} mothers from their "
                "first observed set of care proceedings."
            )
    teen = first_row(
        estimates, group_variable="age_group", group_value="under 20", horizon_years=years
    )
    if teen:
        items.append(
            _chance_sentence(teen, "mothers aged under 20 at their first set", years, symbol)
        )
    early = [y for y in cfg.recurrence.report_years if y <= 3]
    if overall and overall["estimate"] and early:
        three = first_row(estimates, group_variable=OVERALL, horizon_years=max(early))
        if three and three["estimate"] is not None:
            share = three["estimate"] / overall["estimate"]
            items.append(
                f"Most returns come early: {pct(three['estimate'], symbol)} of mothers had "
                f"returned within {max(early)} years: {share:.0%} of the returns seen within "
                f"{years} years came in the first {max(early)}."
            )
    items += _rate_key_figures(inputs)
    return Section("key-figures", "Key figures", (Bullets(tuple(items)),))


def _rate_key_figures(inputs: ReportInputs) -> list[str]:
    cfg, symbol = inputs.config, inputs.config.disclosure.symbol
    rates = inputs.tables["published.newborn_rates"]
    newborn, _ = age_bands(cfg.rates)
    national = rates.filter(
        (pl.col("geography_code") == ENGLAND_AND_WALES)
        & (pl.col("age_band") == newborn)
        & pl.col("rate_per_10000").is_not_null()
    ).sort("year")
    if national.is_empty():
        return ["No England and Wales newborn rate could be published for any year."]
    first, last = national.row(0, named=True), national.row(-1, named=True)
    items = [
        f"In {last['year']}, {rate(last['rate_per_10000'], symbol)} newborns ({newborn} old) "
        f"per 10,000 live births in England and Wales were subject to care proceedings (95% "
        "confidence interval "
        f"{interval(rate(last['ci_lower'], symbol), rate(last['ci_upper'], symbol))}),"
        f" against {rate(first['rate_per_10000'], symbol)} in {first['year']}."
    ]
    return items


def estimate_curves(estimates: pl.DataFrame, variable: str, years: tuple[int, ...]) -> list[Curve]:
    """Curves for :func:`recurrence.plotting.recurrence_curves` from published estimates.

    Parameters
    ----------
    estimates
        ``published.recurrence_estimates`` (one method).
    variable
        ``"all"`` or a covariate such as ``"age_group"``; one curve per level.
    years
        The horizons to draw.

    Returns
    -------
    list of Curve
        One per group, sorted by label (hidden values are None).
    """
    out = []
    part = estimates.filter(pl.col("group_variable") == variable)
    for (value,), group in part.group_by("group_value", maintain_order=True):
        by = {r["horizon_years"]: r for r in group.iter_rows(named=True)}
        rows = [by.get(y, {}) for y in years]
        label = "All mothers" if variable == OVERALL else level_name(variable, str(value))
        out.append(
            Curve(
                label=label[:1].upper() + label[1:],
                years=years,
                estimate=tuple(r.get("estimate") for r in rows),
                lower=tuple(r.get("ci_lower") for r in rows),
                upper=tuple(r.get("ci_upper") for r in rows),
                at_risk=tuple(r.get("n_at_risk") for r in rows),
            )
        )
    return sorted(out, key=lambda c: c.label) if variable != OVERALL else out


def recurrence_section(inputs: ReportInputs) -> Section:
    """Curves of the chance of return, overall and by age group and region, and a table."""
    cfg, symbol = inputs.config, inputs.config.disclosure.symbol
    estimates = _primary(inputs.tables["published.recurrence_estimates"])
    years = tuple(cfg.recurrence.report_years)
    overall = estimate_curves(estimates, OVERALL, years)
    note = (
        f"Points are the published horizons ({', '.join(map(str, years))} years), joined by "
        f"lines; shading is the 95% confidence interval; {symbol} and gaps are hidden values."
    )
    blocks: list[Block] = [
        Paragraph(
            "Each curve shows the share of mothers who had come back to court with another set of "
            "care proceedings by each number of years after their first observed set. Beneath "
            "each chart is the number of mothers still followed up (at risk) at each point."
        )
    ]
    for variable, name, what in (
        (OVERALL, "recurrence_overall", "all mothers"),
        ("age_group", "recurrence_by_age", "mother's age at her first set"),
        ("region_code", "recurrence_by_region", "region"),
    ):
        curves = estimate_curves(estimates, variable, years)
        if variable != OVERALL:
            curves = overall + curves
        fig = recurrence_curves(
            curves,
            title=f"Mothers returning to court, by {what}"
            if variable != OVERALL
            else "Mothers returning to court",
            symbol=symbol,
        )
        blocks.append(
            FigureBlock(
                name,
                f"Cumulative chance of return to court, {what}. {note}",
                "Line chart of the percentage of mothers who returned to court by each year, "
                f"{what}.",
                fig,
            )
        )
    rows = []
    for row in estimates.sort("group_variable", "group_value", "horizon_years").iter_rows(
        named=True
    ):
        if row["horizon_years"] != cfg.recurrence.horizon_years:
            continue
        group = (
            "All mothers"
            if row["group_variable"] == OVERALL
            else (
                f"{VARIABLE_NAMES.get(row['group_variable'], row['group_variable'])}: "
                f"{level_name(row['group_variable'], row['group_value'])}"
            )
        )
        rows.append(
            (
                group,
                pct(row["estimate"], symbol),
                interval(pct(row["ci_lower"], symbol), pct(row["ci_upper"], symbol)),
                count(row["n_at_start"], symbol),
                count(row["n_events"], symbol),
            )
        )
    rows.sort(key=lambda r: (r[0] != "All mothers", r[0]))
    blocks.append(
        Table(
            f"Chance of return within {cfg.recurrence.horizon_years} years, by group",
            ("Group", "Returned", "95% confidence interval", "Mothers", "Returns"),
            tuple(rows),
            note=f"{symbol}: hidden to protect confidentiality (fewer than "
            f"{cfg.disclosure.min_cell} mothers or returns, or needed to protect such a group).",
        )
    )
    return Section("recurrence", "How many mothers return to court, and how soon", tuple(blocks))


def cox_section(inputs: ReportInputs) -> Section:
    """The Cox model's hazard ratios as a forest plot and a table."""
    symbol = inputs.config.disclosure.symbol
    ratios = inputs.tables["published.cox_hazard_ratios"]
    if ratios.is_empty():
        return Section(
            "cox",
            "What is associated with returning",
            (
                Paragraph(
                    "The Cox proportional-hazards model could not be fitted on this extract: no "
                    "mother returned within the follow-up, or no group of mothers differed from "
                    "its reference group, so there are no hazard ratios to publish."
                ),
            ),
        )
    labels, hr, lo, hi, heads, rows = [], [], [], [], [], []
    for (variable,), part in ratios.group_by("variable", maintain_order=True):
        ref = REFERENCE_LEVELS.get(str(variable), "")
        labels.append(
            f"{VARIABLE_NAMES.get(str(variable), variable)} (vs {level_name(str(variable), ref)})"
        )
        hr.append(None), lo.append(None), hi.append(None), heads.append(True)
        for r in part.iter_rows(named=True):
            labels.append(f"  {level_name(str(variable), r['level'])}")
            hr.append(r["hazard_ratio"]), lo.append(r["ci_lower"]), hi.append(r["ci_upper"])
            heads.append(False)
            rows.append(
                (
                    VARIABLE_NAMES.get(str(variable), str(variable)),
                    f"{level_name(str(variable), r['level'])} vs {level_name(str(variable), ref)}",
                    ratio(r["hazard_ratio"], symbol),
                    interval(ratio(r["ci_lower"], symbol), ratio(r["ci_upper"], symbol)),
                    p_value(r["p_value"], symbol),
                )
            )
    fig = forest_plot(
        labels,
        hr,
        lo,
        hi,
        title="What goes with returning sooner: hazard ratios",
        headings=heads,
        symbol=symbol,
    )
    return Section(
        "cox",
        "What is associated with returning",
        (
            Paragraph(
                "A Cox proportional-hazards model compares groups of mothers while holding the "
                "others fixed. A hazard ratio above 1 means mothers in that group returned sooner "
                "or more often than those in the reference group; the interval shows the "
                "uncertainty. These are associations, not causes."
            ),
            FigureBlock(
                "cox_forest",
                "Hazard ratios with 95% confidence intervals (log scale).",
                "Forest plot of hazard ratios by group.",
                fig,
            ),
            Table(
                "Hazard ratios",
                ("Characteristic", "Group", "Hazard ratio", "95% confidence interval", "p-value"),
                tuple(rows),
            ),
        ),
    )


def outliers(published: pl.DataFrame, *, age_band: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Local authorities outside the 99.8% funnel limits in the latest year (published only).

    Returns the year and, for each outlier, its name, rate and "above" or "below".
    """
    part = published.filter(pl.col("age_band") == age_band)
    if part.is_empty():
        return "", []
    year = part.sort("year")["year"][-1]
    part = part.filter(pl.col("year") == year)
    national = part.filter(pl.col("geography_code") == ENGLAND_AND_WALES)
    if national.is_empty() or national["rate_per_10000"][0] is None:
        return year, []
    areas = part.filter((pl.col("geography_level") == "local_authority") & ~pl.col("suppressed"))
    if areas.is_empty():
        return year, []
    lo, hi = funnel_limits(
        float(national["rate_per_10000"][0]),
        areas["live_births"].cast(pl.Float64).to_numpy(),
        level=0.998,
    )
    out = []
    for r, low, high in zip(areas.iter_rows(named=True), lo, hi, strict=True):
        if r["rate_per_10000"] > high or r["rate_per_10000"] < low:
            out.append(
                (
                    r["geography_name"],
                    r["rate_per_10000"],
                    "above" if r["rate_per_10000"] > high else "below",
                )
            )
    return year, out


_SHEET_WORDS = {
    "Newborns": "Newborn rates",
    "Infants": "Infant rates",
    "Local_authorities": "Local-authority rates",
}


def rates_section(inputs: ReportInputs) -> Section:
    """Newborn and infant rates by region over time, and the funnel plot of authorities."""
    cfg, symbol = inputs.config, inputs.config.disclosure.symbol
    published = inputs.tables["published.newborn_rates"]
    newborn, infant = age_bands(cfg.rates)
    blocks: list[Block] = [
        Paragraph(
            f"Newborns are children {newborn} old, and infants children {infant} old, when "
            "care proceedings about them are issued; rates are per 10,000 live births to "
            "mothers living in the area."
        ),
        *(
            Paragraph(f"{_SHEET_WORDS[name]} are not published: {why}.")
            for name, why in left_out_sheets(published, cfg).items()
        ),
        FigureBlock(
            "newborn_rates_by_region",
            "Newborn rates by region over time; gaps are hidden values.",
            "Line chart of newborn rates per 10,000 live births by region and year.",
            trend_figure(published, cfg),
        ),
        FigureBlock(
            "infant_rates_by_region",
            "Infant rates by region over time; gaps are hidden values.",
            "Line chart of infant rates per 10,000 live births by region and year.",
            _infant_trend(published, infant),
        ),
        FigureBlock(
            "newborn_rates_funnel",
            "Local authorities' newborn rates against their births in the latest year, with "
            "95% and 99.8% limits around the England and Wales rate. Authorities with "
            "hidden counts are left out.",
            "Funnel plot of local authority newborn rates.",
            funnel_figure(published, cfg),
        ),
    ]
    year, found = outliers(published, age_band=newborn)
    if found:
        blocks.append(
            Table(
                f"Local authorities outside the 99.8% limits, {year}",
                (
                    "Local authority",
                    "Newborns per 10,000 live births",
                    "Compared with England and Wales",
                ),
                tuple((n, rate(r, symbol), side) for n, r, side in sorted(found)),
            )
        )
    else:
        blocks.append(
            Paragraph(
                f"No local authority with a published rate lies outside the 99.8% limits in {year}."
            )
        )
    latest = published.filter(
        (pl.col("geography_level") != "local_authority") & (pl.col("year") == year)
    ).sort("geography_level", "geography_name", "age_band")
    rows = tuple(
        (
            r["geography_name"],
            r["age_band"],
            count(r["children"], symbol),
            count(r["live_births"], symbol),
            rate(r["rate_per_10000"], symbol),
            interval(rate(r["ci_lower"], symbol), rate(r["ci_upper"], symbol)),
        )
        for r in latest.iter_rows(named=True)
    )
    blocks.append(
        Table(
            f"Rates per 10,000 live births, {year}",
            ("Area", "Age", "Children", "Live births", "Rate", "95% confidence interval"),
            rows,
            note=f"{symbol}: hidden to protect confidentiality.",
        )
    )
    return Section("rates", "Newborns and infants in care proceedings", tuple(blocks))


def _infant_trend(published: pl.DataFrame, infant: str) -> Figure:
    data = published.filter(
        (pl.col("geography_level") != "local_authority") & (pl.col("age_band") == infant)
    ).select("geography_name", "year", "rate_per_10000")
    return rates_over_time(
        data, title=f"Infants ({infant} old) in care proceedings per 10,000 live births, by region"
    )


#: The report's sections, in order. Add a section by appending (or inserting) one builder.
SECTIONS: list[Builder] = [
    key_figures,
    recurrence_section,
    cox_section,
    rates_section,
    outcomes_section,
    data_section,
    methods_section,
    caveats_section,
    provenance_section,
]


def build_report(inputs: ReportInputs, sections: Iterable[Builder] | None = None) -> Report:
    """Run each section builder on the run's inputs and assemble the report.

    Parameters
    ----------
    inputs
        From :func:`recurrence.report.inputs.read_inputs`.
    sections
        Builders to run, in order (default :data:`SECTIONS`).

    Returns
    -------
    Report
        The report as plain data, ready to render.
    """
    built = tuple(s for s in (b(inputs) for b in (SECTIONS if sections is None else sections)) if s)
    info = inputs.tables["audit.extract_info"]
    end = str(info["extract_end_date"][0]) if info.height else "unknown"
    return Report(
        title="Recurrent care proceedings and newborns in care proceedings",
        subtitle=f"Run {inputs.run_id}, extract ending {end}, "
        f"built {inputs.created:%d %B %Y %H:%M} UTC",
        sections=built,
        run_id=inputs.run_id,
        symbol=inputs.config.disclosure.symbol,
    )
