"""The report's sections, each built by one function from the run's released tables.

:data:`SECTIONS` is the ordered list of builders; a later stage adds its section by adding one
function (``ReportInputs -> Section | None``) to the list. A builder returning None is left out.
Every number is taken from a released table (see :mod:`recurrence.report.inputs`) and written
through the run's number registry, ``inputs.numbers`` (:mod:`recurrence.report.numbers`): a
cell with ``numbers.cell(table, key, column, value, fmt)``, a setting or year with
``numbers.constant``, and labels and free text with ``numbers.text``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import polars as pl
from matplotlib.figure import Figure

from recurrence.contract import REGIONS
from recurrence.disclosure import NOT_APPLICABLE_SYMBOL
from recurrence.ingest.extract import SYNTHETIC_BANNER, extract_is_synthetic
from recurrence.plotting import (
    Curve,
    EffectPanel,
    effect_over_time,
    forest_plot,
    funnel_plot,
    rates_over_time,
    recurrence_curves,
)
from recurrence.publish import left_out_sheets, trend_figure
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
from recurrence.report.numbers import Numbers
from recurrence.report.outcomes_section import outcomes_section
from recurrence.survival.disclosure import NOT_APPLICABLE_COLUMNS
from recurrence.survival.estimates import METHOD_AJ, METHOD_KM, OVERALL

Builder = Callable[[ReportInputs], Section | None]

ESTIMATES = "published.recurrence_estimates"
RATIOS = "published.cox_hazard_ratios"
PH_TEST = "published.cox_ph_test"
ZPH_BINS = "published.cox_zph_bins"
RATES = "published.newborn_rates"
PRECISION = "published.newborn_precision"
ESTIMATE_KEY = ("group_variable", "group_value", "horizon_years", "method")
RATE_KEY = ("geography_level", "geography_code", "year", "age_band")


def row_key(row: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    """The key columns of one row (the identity its cells are recorded under)."""
    return {c: row[c] for c in columns}


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


#: "About 1 in N" is said only when 1/N is within this share of the estimate (19.1%: 1 in 5).
ONE_IN_N_TOLERANCE = 0.1


def one_in_n(estimate: float, lower: float, upper: float) -> int | None:
    """N for "about 1 in N", or None when the interval does not support one whole N.

    N is 1/estimate rounded; the phrase is used only when 1/N lies inside the 95% interval, the
    interval's ends round to N or its neighbours (so "1 in 4" is never said of an interval
    running from 1 in 3 to 1 in 6), and 1/N is within :data:`ONE_IN_N_TOLERANCE` of the
    estimate (so 28.6% is never "about 1 in 4").
    """
    if not (0 < lower <= estimate <= upper < 1) or estimate <= 0:
        return None
    n = round(1 / estimate)
    if n < 2 or not lower <= 1 / n <= upper:
        return None
    if abs(round(1 / upper) - n) > 1 or abs(round(1 / lower) - n) > 1:
        return None
    if abs(estimate - 1 / n) > ONE_IN_N_TOLERANCE * estimate:
        return None  # "about 1 in 4" of 28.6% is not about: say the percentage alone
    return n


def _not_applicable(row: dict[str, Any], column: str) -> bool:
    """The cell cannot exist (a horizon beyond the group's follow-up), as published."""
    return bool(row.get("not_applicable")) and column in NOT_APPLICABLE_COLUMNS


#: The note under a table that shows :data:`NOT_APPLICABLE_SYMBOL`.
NOT_APPLICABLE_NOTE = (
    f"{NOT_APPLICABLE_SYMBOL}: not available: no mother in the group could have been followed up "
    "this long before the extract ends, so the value does not exist (it is not hidden)."
)


def _chance_sentence(row: dict[str, Any], who: str, years: str, numbers: Numbers) -> str:
    key = row_key(row, ESTIMATE_KEY)

    def cell(column: str) -> str:
        return numbers.cell(
            ESTIMATES,
            key,
            column,
            row[column],
            pct,
            not_applicable=_not_applicable(row, column),
        )

    if row["estimate"] is None and _not_applicable(row, "estimate"):
        return (
            f"The chance of return within {years} years for {who} is not available "
            f"({cell('estimate')}): the data end before any of them could be followed up that "
            "long."
        )
    if row["estimate"] is None:
        return (
            f"The chance of return within {years} years for {who} is hidden ({cell('estimate')}): "
            "too few mothers."
        )
    p, lo, hi = row["estimate"], row["ci_lower"], row["ci_upper"]
    ci = f"95% confidence interval {interval(cell('ci_lower'), cell('ci_upper'))}"
    n = one_in_n(p, lo, hi)
    shown = cell("estimate")
    if n:
        lead = f"About 1 in {numbers.constant(n, 'derived')} {who} ({shown}; {ci})"
    else:
        lead = f"{shown} of {who} ({ci})"
    return f"{lead} returned to court with another set of care proceedings within {years} years."


def key_figures(inputs: ReportInputs) -> Section:
    """The headline numbers in plain English."""
    cfg, numbers = inputs.config, inputs.numbers
    estimates = _primary(inputs.tables[ESTIMATES])
    horizon = cfg.recurrence.horizon_years
    years = numbers.constant(horizon, "setting")
    items: list[str] = []
    overall = first_row(estimates, group_variable=OVERALL, horizon_years=horizon)
    if overall:
        items.append(_chance_sentence(overall, "mothers", years, numbers))
        if overall["n_at_start"] is not None:
            start = numbers.cell(
                ESTIMATES,
                row_key(overall, ESTIMATE_KEY),
                "n_at_start",
                overall["n_at_start"],
                count,
            )
            items.append(
                f"These figures follow {start} mothers from their first observed set of care "
                "proceedings."
            )
    teen = first_row(
        estimates, group_variable="age_group", group_value="under 20", horizon_years=horizon
    )
    if teen:
        who = f"mothers {numbers.text('aged under 20')} at their first set"
        items.append(_chance_sentence(teen, who, years, numbers))
    early = [y for y in cfg.recurrence.report_years if y <= 3]
    if overall and overall["estimate"] and early:
        three = first_row(estimates, group_variable=OVERALL, horizon_years=max(early))
        if three and three["estimate"] is not None:
            share = three["estimate"] / overall["estimate"]
            first = numbers.constant(max(early), "setting")
            shown = numbers.cell(
                ESTIMATES, row_key(three, ESTIMATE_KEY), "estimate", three["estimate"], pct
            )
            items.append(
                f"Most returns come early: {shown} of mothers had returned within {first} years, "
                f"so {numbers.constant(share, 'derived', lambda v, _: f'{v:.0%}')} of the returns "
                f"seen within {years} years came in the first {first}."
            )
    items += _rate_key_figures(inputs)
    return Section("key-figures", "Key figures", (Bullets(tuple(items)),))


def _rate_key_figures(inputs: ReportInputs) -> list[str]:
    cfg, numbers = inputs.config, inputs.numbers
    rates = inputs.tables[RATES]
    newborn, _ = age_bands(cfg.rates)
    national = rates.filter(
        (pl.col("geography_code") == ENGLAND_AND_WALES)
        & (pl.col("age_band") == newborn)
        & pl.col("rate_per_10000").is_not_null()
    ).sort("year")
    if national.is_empty():
        return ["No England and Wales newborn rate could be published for any year."]
    first, last = national.row(0, named=True), national.row(-1, named=True)

    def cell(row: dict[str, Any], column: str) -> str:
        return numbers.cell(RATES, row_key(row, RATE_KEY), column, row[column], rate)

    items = [
        f"In {numbers.constant(last['year'], 'year')}, {cell(last, 'rate_per_10000')} newborns "
        f"({numbers.text(newborn)} old) per 10,000 live births in England and Wales were subject "
        "to care proceedings (95% confidence interval "
        f"{interval(cell(last, 'ci_lower'), cell(last, 'ci_upper'))}),"
        f" against {cell(first, 'rate_per_10000')} in {numbers.constant(first['year'], 'year')}."
    ]
    return items


def estimate_curves(
    estimates: pl.DataFrame,
    variable: str,
    years: tuple[int, ...],
    numbers: Numbers | None = None,
) -> list[Curve]:
    """Curves for :func:`recurrence.plotting.recurrence_curves` from published estimates.

    Parameters
    ----------
    estimates
        ``published.recurrence_estimates`` (one method).
    variable
        ``"all"`` or a covariate such as ``"age_group"``; one curve per level.
    years
        The horizons to draw.
    numbers
        The report's registry: when given, numbers at risk are written through it (as text)
        and the labels recorded as text.

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
        label = label[:1].upper() + label[1:]
        at_risk: tuple[int | str | None, ...] = tuple(r.get("n_at_risk") for r in rows)
        if numbers is not None:
            numbers.text(label)
            at_risk = tuple(
                numbers.cell(
                    ESTIMATES,
                    row_key(r, ESTIMATE_KEY),
                    "n_at_risk",
                    r["n_at_risk"],
                    count,
                    not_applicable=_not_applicable(r, "n_at_risk"),
                )
                if r
                else numbers.symbol
                for r in rows
            )
        out.append(
            Curve(
                label=label,
                years=years,
                estimate=tuple(r.get("estimate") for r in rows),
                lower=tuple(r.get("ci_lower") for r in rows),
                upper=tuple(r.get("ci_upper") for r in rows),
                at_risk=at_risk,
            )
        )
    return sorted(out, key=lambda c: c.label) if variable != OVERALL else out


def all_hidden_sentence(what: str, symbol: str) -> str:
    """Said in place of a chart by ``what`` whose every group has every value hidden."""
    return (
        f"No chart by {what} is shown: the chance of return of every group is hidden "
        f"({symbol}) to protect confidentiality, because each group has too few mothers or "
        "returns."
    )


def recurrence_section(inputs: ReportInputs) -> Section:
    """Curves of the chance of return, overall and by age group and region, and a table."""
    cfg, numbers = inputs.config, inputs.numbers
    symbol = numbers.symbol
    estimates = _primary(inputs.tables[ESTIMATES])
    years = tuple(cfg.recurrence.report_years)
    overall = estimate_curves(estimates, OVERALL, years, numbers)
    shown_years = ", ".join(numbers.constant(y, "setting") for y in years)
    note = (
        f"Points are the published horizons ({shown_years} years), joined by "
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
        curves = estimate_curves(estimates, variable, years, numbers)
        if variable != OVERALL and not any(v is not None for c in curves for v in c.estimate):
            # A chart of empty panels says nothing: say why there is none instead.
            blocks.append(Paragraph(all_hidden_sentence(what, symbol)))
            continue
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
        group = numbers.text(
            "All mothers"
            if row["group_variable"] == OVERALL
            else (
                f"{VARIABLE_NAMES.get(row['group_variable'], row['group_variable'])}: "
                f"{level_name(row['group_variable'], row['group_value'])}"
            )
        )
        key = row_key(row, ESTIMATE_KEY)

        def cell(column: str, fmt=pct, row=row, key=key) -> str:
            na = _not_applicable(row, column)
            return numbers.cell(ESTIMATES, key, column, row[column], fmt, not_applicable=na)

        rows.append(
            (
                group,
                cell("estimate"),
                interval(cell("ci_lower"), cell("ci_upper")),
                cell("n_at_start", count),
                cell("n_events", count),
            )
        )
    rows.sort(key=lambda r: (r[0] != "All mothers", r[0]))
    horizon = numbers.constant(cfg.recurrence.horizon_years, "setting")
    min_cell = numbers.constant(cfg.disclosure.min_cell, "setting")
    blocks.append(
        Table(
            f"Chance of return within {horizon} years, by group",
            ("Group", "Returned", "95% confidence interval", "Mothers", "Returns"),
            tuple(rows),
            note=f"{symbol}: hidden to protect confidentiality (fewer than "
            f"{min_cell} mothers or returns, or needed to protect such a group)."
            + (
                f" {NOT_APPLICABLE_NOTE}"
                if any(NOT_APPLICABLE_SYMBOL in c for r in rows for c in r)
                else ""
            ),
        )
    )
    return Section("recurrence", "How many mothers return to court, and how soon", tuple(blocks))


def ph_sentence(inputs: ReportInputs) -> Paragraph | None:
    """What the proportional-hazards test found: which covariates were stratified, or none.

    Parameters
    ----------
    inputs
        The run's released tables (``published.cox_ph_test``, optional).

    Returns
    -------
    Paragraph or None
        One sentence, or None when the run released no test (the model was not fitted).
    """
    test = inputs.tables.get(PH_TEST)
    if test is None or test.is_empty():
        return None
    numbers = inputs.numbers
    terms = test.filter(pl.col("variable") != "GLOBAL")
    failing = terms.filter(pl.col("stratified"))
    if failing.is_empty():
        return Paragraph(
            "The test of proportional hazards (the score test of R's cox.zph) found no "
            "departure for any characteristic: each hazard ratio describes the whole follow-up."
        )
    parts = []
    for r in failing.iter_rows(named=True):
        name = numbers.text(VARIABLE_NAMES.get(r["variable"], r["variable"]).lower())
        key = {"variable": r["variable"]}
        parts.append(f"{name} (p = {numbers.cell(PH_TEST, key, 'p_value', r['p_value'], p_value)})")
    listed = "; ".join(parts)
    return Paragraph(
        "The test of proportional hazards (the score test of R's cox.zph) found that the "
        f"effect of {listed} changes over the follow-up, so the model is stratified on it "
        "instead: it has no hazard ratios here, and the others are estimated within its groups."
    )


def ph_figure(inputs: ReportInputs) -> list[Block]:
    """How each tested effect changes over follow-up: R's Schoenfeld-residual plot, binned.

    Parameters
    ----------
    inputs
        The run's released tables (``published.cox_zph_bins`` and ``published.cox_ph_test``,
        optional).

    Returns
    -------
    list of Block
        The figure, or a sentence saying why there is none; nothing when the run released no
        proportional-hazards test.
    """
    test = inputs.tables.get(PH_TEST)
    bins = inputs.tables.get(ZPH_BINS)
    if test is None or test.is_empty() or bins is None:
        return []
    numbers = inputs.numbers
    min_cell = numbers.constant(inputs.config.disclosure.min_cell, "setting")
    if bins.is_empty():
        return [
            Paragraph(
                "The plot of how each effect changes over the follow-up is not shown: the model "
                f"rests on fewer than {min_cell} returns, so no group of returns is large "
                "enough to publish."
            )
        ]
    panels = []
    for (variable,), part in bins.group_by("variable", maintain_order=True):
        part = part.sort("bin")
        row = part.row(0, named=True)
        name = numbers.text(VARIABLE_NAMES.get(str(variable), str(variable)))
        if row["stratified"]:
            name = f"{name} (stratified in the final model)"
        several = row["scale"] == "linear_predictor"
        panels.append(
            EffectPanel(
                title=name,
                ylabel="Scaled effect" if several else "Log hazard ratio",
                start=tuple(v / 12 for v in part["time_from_months"].to_list()),
                end=tuple(v / 12 for v in part["time_to_months"].to_list()),
                at=tuple(part["mean_years"].to_list()),
                mean=tuple(part["mean_beta_t"].to_list()),
                smooth=tuple(part["smooth_beta_t"].to_list()),
                lower=tuple(part["smooth_lower"].to_list()),
                upper=tuple(part["smooth_upper"].to_list()),
                coefficient=row["coefficient"],
            )
        )
    fig = effect_over_time(
        panels, title="Does each effect change over the follow-up?", symbol=numbers.symbol
    )
    return [
        FigureBlock(
            "cox_schoenfeld",
            "How each characteristic's effect on returning changes over the years after the "
            "first set (the scaled Schoenfeld residuals of the proportional-hazards test, as R's "
            "plot.cox.zph draws them). Each point is the average over a group of at least "
            f"{min_cell} returns, drawn across the months it covers; the solid line is a "
            "smooth through all returns with a band of two standard errors each side. The "
            "dashed line is the effect the model assumes constant (for a characteristic with "
            "several groups, the model's combined effect of its groups, scaled so that the "
            "line is one); the dotted line is no effect. Where the points and the smooth stay "
            "near the dashed line the effect is constant and its hazard ratio describes the "
            "whole follow-up; where they drift away, the effect changes with time. A "
            "characteristic stratified in the final model is drawn from the model that was "
            "tested, before stratification.",
            "Panels, one per characteristic, of its estimated effect on returning against "
            "years since the first set, with a dashed line at the constant effect the model "
            "assumes and a dotted line at no effect.",
            fig,
        )
    ]


def cox_section(inputs: ReportInputs) -> Section:
    """The Cox model's hazard ratios as a forest plot and a table, and the PH test's finding."""
    numbers = inputs.numbers
    symbol = numbers.symbol
    ratios = inputs.tables[RATIOS]
    if ratios.is_empty():
        return Section(
            "cox",
            "What is associated with returning",
            (
                Paragraph(
                    "The Cox proportional-hazards model could not be fitted on this extract: no "
                    "mother returned within the follow-up, no group of mothers differed from "
                    "its reference group, or the groups were too small for the model to give "
                    "finite estimates (one group's returns all came before another's), so "
                    "there are no hazard ratios to publish."
                ),
            ),
        )
    labels, hr, lo, hi, heads, rows = [], [], [], [], [], []
    for (variable,), part in ratios.group_by("variable", maintain_order=True):
        # The fit's own reference: the configured one is absent from some extracts.
        ref = str(part["reference_level"][0])
        name = numbers.text(VARIABLE_NAMES.get(str(variable), str(variable)))
        against = numbers.text(level_name(str(variable), ref))
        labels.append(f"{name} (vs {against})")
        hr.append(None), lo.append(None), hi.append(None), heads.append(True)
        for r in part.iter_rows(named=True):
            level = numbers.text(level_name(str(variable), r["level"]))
            labels.append(f"  {level}")
            hr.append(r["hazard_ratio"]), lo.append(r["ci_lower"]), hi.append(r["ci_upper"])
            heads.append(False)
            key = {"variable": variable, "level": r["level"]}

            def cell(column: str, fmt=ratio, r=r, key=key) -> str:
                return numbers.cell(RATIOS, key, column, r[column], fmt)

            rows.append(
                (
                    name,
                    f"{level} vs {against}",
                    cell("hazard_ratio"),
                    interval(cell("ci_lower"), cell("ci_upper")),
                    cell("p_value", p_value),
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
            *((ph,) if (ph := ph_sentence(inputs)) is not None else ()),
            *ph_figure(inputs),
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


def outliers(
    published: pl.DataFrame, *, age_band: str
) -> tuple[str, list[tuple[str, float, str, str]]]:
    """Local authorities outside the 99.8% funnel limits in the latest year (published only).

    Returns the year and, for each outlier, its name, rate, "above" or "below", and its code.
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
                    r["geography_code"],
                )
            )
    return year, out


#: Why no local authority can be compared with the funnel limits (see :func:`funnel_comparable`).
_NOT_COMPARABLE = {
    "no_year": "No local authority can be compared with England and Wales: the extract has no "
    "year of newborn rates.",
    "national_hidden": "No local authority could be compared with England and Wales in {year}: "
    "the England and Wales rate is hidden to protect confidentiality, so there are no limits "
    "to compare with and no funnel plot is drawn.",
    "no_area": "No local authority could be compared with England and Wales in {year}: every "
    "authority's count of newborns is hidden to protect confidentiality (too few children), so "
    "no funnel plot is drawn and no authority can be said to lie inside or outside the limits.",
}


def funnel_comparable(published: pl.DataFrame, newborn: str) -> str:
    """Whether the funnel plot of the latest year has anything to show.

    Returns ``"ok"`` when the England and Wales rate and at least one authority's rate are
    published; otherwise why not: ``"no_year"``, ``"national_hidden"`` or ``"no_area"``.
    """
    latest = published.filter(pl.col("age_band") == newborn)
    if latest.is_empty():
        return "no_year"
    latest = latest.filter(pl.col("year") == latest.sort("year")["year"][-1])
    national = latest.filter(pl.col("geography_code") == ENGLAND_AND_WALES)
    if national.is_empty() or national["rate_per_10000"][0] is None:
        return "national_hidden"
    areas = latest.filter(
        (pl.col("geography_level") == "local_authority") & pl.col("rate_per_10000").is_not_null()
    )
    return "ok" if areas.height else "no_area"


def _funnel(published: pl.DataFrame, newborn: str, numbers: Numbers) -> Figure:
    """The funnel plot of :func:`recurrence.publish.funnel_figure`, its numbers from the registry.

    Only authorities whose count is published are drawn (a point's position gives its count
    back); without a published England and Wales rate there is no target, no limits and no
    number in the legend.
    """
    latest = published.filter(pl.col("age_band") == newborn)
    year = latest.sort("year")["year"][-1] if not latest.is_empty() else None
    latest = latest.filter(pl.col("year") == year)
    national = first_row(
        latest, geography_level="england_and_wales", geography_code=ENGLAND_AND_WALES
    )
    areas = latest.filter(pl.col("geography_level") == "local_authority")
    shown = areas.filter(~pl.col("suppressed"))
    target = national["rate_per_10000"] if national else None
    shown_year = "" if year is None else numbers.constant(year, "year")
    title = f"Newborns in care proceedings per 10,000 live births, local authorities, {shown_year}"
    target_text = None
    if target is None:
        shown = shown.clear()
        title += " (national rate suppressed: not drawn)"
    else:
        target_text = numbers.cell(
            RATES, row_key(national, RATE_KEY), "rate_per_10000", target, rate
        )
    hidden = areas.height - shown.height
    return funnel_plot(
        shown["children"].to_list(),
        shown["live_births"].cast(pl.Float64).to_list(),
        pooled_rate=target,
        labels=numbers.texts(shown["geography_name"].to_list()),
        title=title,
        hidden_count=hidden,
        hidden_text=numbers.constant(hidden, "areas") if hidden else None,
        target_label="England and Wales rate",
        target_text=target_text,
    )


_SHEET_WORDS = {
    "Newborns": "Newborn rates",
    "Infants": "Infant rates",
    "Local_authorities": "Local-authority rates",
}


def rates_section(inputs: ReportInputs) -> Section:
    """Newborn and infant rates by region over time, and the funnel plot of authorities."""
    cfg, numbers = inputs.config, inputs.numbers
    symbol = numbers.symbol
    published = inputs.tables[RATES]
    newborn, infant = age_bands(cfg.rates)
    numbers.texts((newborn, infant))
    # Area names are labels of the figures' legends and of the tables.
    numbers.texts(published["geography_name"].unique().to_list())
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
    ]
    year, found = outliers(published, age_band=newborn)
    shown_year = numbers.constant(year, "year") if year != "" else ""
    comparable = funnel_comparable(published, newborn)
    if comparable == "ok":
        blocks.append(
            FigureBlock(
                "newborn_rates_funnel",
                "Local authorities' newborn rates against their births in the latest year, with "
                "95% and 99.8% limits around the England and Wales rate. Authorities with "
                "hidden counts are left out.",
                "Funnel plot of local authority newborn rates.",
                _funnel(published, newborn, numbers),
            )
        )
    if comparable != "ok":
        # Say why there is no funnel plot, rather than draw an empty one and then say that none
        # of its (no) points lies outside the limits.
        blocks.append(Paragraph(_NOT_COMPARABLE[comparable].format(year=shown_year)))
    elif found:
        blocks.append(
            Table(
                f"Local authorities outside the 99.8% limits, {shown_year}",
                (
                    "Local authority",
                    "Newborns per 10,000 live births",
                    "Compared with England and Wales",
                ),
                tuple(
                    (
                        numbers.text(name),
                        numbers.cell(
                            RATES,
                            {
                                "geography_level": "local_authority",
                                "geography_code": code,
                                "year": year,
                                "age_band": newborn,
                            },
                            "rate_per_10000",
                            value,
                            rate,
                        ),
                        side,
                    )
                    for name, value, side, code in sorted(found)
                ),
            )
        )
    else:
        blocks.append(
            Paragraph(
                "None of the local authorities with a published rate in the funnel plot lies "
                f"outside the 99.8% limits in {shown_year}."
            )
        )
    latest = published.filter(
        (pl.col("geography_level") != "local_authority") & (pl.col("year") == year)
    ).sort("geography_level", "geography_name", "age_band")
    rows = []
    for r in latest.iter_rows(named=True):
        key = row_key(r, RATE_KEY)

        def cell(column: str, fmt=rate, r=r, key=key) -> str:
            return numbers.cell(RATES, key, column, r[column], fmt)

        rows.append(
            (
                numbers.text(r["geography_name"]),
                numbers.text(r["age_band"]),
                cell("children", count),
                cell("live_births", count),
                cell("rate_per_10000"),
                interval(cell("ci_lower"), cell("ci_upper")),
            )
        )
    blocks.append(
        Table(
            f"Rates per 10,000 live births, {shown_year}",
            ("Area", "Age", "Children", "Live births", "Rate", "95% confidence interval"),
            tuple(rows),
            note=f"{symbol}: hidden to protect confidentiality.",
        )
    )
    blocks.extend(_precision_blocks(inputs))
    return Section("rates", "Newborns and infants in care proceedings", tuple(blocks))


def _precision_blocks(inputs: ReportInputs) -> list[Block]:
    """Lower and upper counts of newborns and infants where dates are known only to the week.

    Only when some counted child's date of birth is known to the week (a Cafcass extract): for
    day-precision data nothing is published, since the bounds equal the counts.
    """
    bounds = inputs.tables.get(PRECISION)
    if bounds is None or bounds.is_empty():
        return []
    numbers = inputs.numbers
    rows = []
    for r in bounds.iter_rows(named=True):
        key = {"age_band": r["age_band"]}

        def cell(column: str, r=r, key=key) -> str:
            return numbers.cell(PRECISION, key, column, r[column], count)

        rows.append(
            (
                numbers.text(r["age_band"]),
                cell("n_children_surely"),
                cell("children"),
                cell("n_children_possibly"),
                cell("n_children_dated_to_a_week"),
            )
        )
    years = numbers.text(bounds["years"][0])
    offset_rule = (
        "Some children's dates of birth are known only to the week (Cafcass records the week "
        "of birth), so their age when proceedings were issued is known only to within seven "
        "days. The newborn and infant counts age each such child from the day written for "
        "it (by default the middle of its week); the lower count takes every such child as "
        "born on the last day of its week (surely in the age band), the upper count on the "
        "first (possibly in it). The true counts lie between the two."
    )
    return [
        Paragraph(offset_rule),
        Table(
            f"Children counted by date precision, England and Wales, {years}",
            ("Age", "Lower (surely)", "As counted", "Upper (possibly)", "Dated to a week"),
            tuple(rows),
            note=f"{numbers.symbol}: hidden to protect confidentiality, or because the "
            "difference from the count as counted would be a small number.",
        ),
    ]


def _infant_trend(published: pl.DataFrame, infant: str) -> Figure:
    data = published.filter(
        (pl.col("geography_level") != "local_authority") & (pl.col("age_band") == infant)
    ).select("geography_level", "geography_name", "year", "rate_per_10000", "ci_lower", "ci_upper")
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
    numbers = inputs.numbers
    return Report(
        title="Recurrent care proceedings and newborns in care proceedings",
        subtitle=f"Run {numbers.text(inputs.run_id)}, extract ending {numbers.text(end)}, "
        f"built {numbers.text(f'{inputs.created:%d %B %Y %H:%M}')} UTC",
        sections=built,
        run_id=inputs.run_id,
        symbol=inputs.config.disclosure.symbol,
        meta={"built": inputs.created.isoformat()},
        numbers=numbers,
        banner=SYNTHETIC_BANNER if extract_is_synthetic(info) else None,
    )
