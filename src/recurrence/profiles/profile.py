"""A one- or two-page profile of one local authority, from published cells only (issue 22.2).

Reads ``published.la_recurrence``, ``published.recurrence_estimates``,
``published.newborn_rates`` and ``published.outcomes`` — tables that have passed the run's
disclosure checks — and never ``analysis.*``. Every figure has the authority beside its region
and England and Wales, and a sentence a commissioner can quote; a figure that cannot be shown
(no ``la_code`` in the extract, or the authority's numbers suppressed) is replaced by a sentence
saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from recurrence.config import Config
from recurrence.contract import REGIONS
from recurrence.profiles.areas import HORIZONS, PUBLISHED_TABLE, funnel_figure
from recurrence.rates.intervals import funnel_limits as rate_funnel_limits
from recurrence.rates.newborns import ENGLAND_AND_WALES, age_bands
from recurrence.report.content import Bullets, FigureBlock, Paragraph, Report, Section, Table
from recurrence.report.html import render_html
from recurrence.report.pdf import render_pdf
from recurrence.warehouse import table_exists

#: Folder of the profiles inside a run's report folder.
FOLDER = "profiles"


@dataclass(frozen=True)
class Published:
    """The released tables a profile reads (read once for all profiles of a run)."""

    areas: pl.DataFrame
    national: pl.DataFrame
    rates: pl.DataFrame
    outcomes: pl.DataFrame
    run_id: str


def _table(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    return con.sql(f"select * from {name}").pl() if table_exists(con, name) else pl.DataFrame()


def read_published(con: duckdb.DuckDBPyConnection, run_id: str = "") -> Published:
    """The published tables of a finished warehouse (absent ones empty).

    Parameters
    ----------
    con
        Warehouse (read-only is enough).
    run_id
        The run the profiles belong to (printed on them).

    Returns
    -------
    Published
        The four released tables a profile reads.
    """
    return Published(
        _table(con, PUBLISHED_TABLE),
        _table(con, "published.recurrence_estimates"),
        _table(con, "published.newborn_rates"),
        _table(con, "published.outcomes"),
        run_id,
    )


def _pct(value: float | None) -> str:
    return "[c]" if value is None else f"{100 * value:.1f}%"


def _count(value: int | None, symbol: str) -> str:
    return symbol if value is None else f"{value:,}"


def _national_row(national: pl.DataFrame, variable: str, value: str, horizon: int) -> dict | None:
    if national.is_empty():
        return None
    method = "aalen_johansen" if "aalen_johansen" in set(national["method"]) else "kaplan_meier"
    rows = national.filter(
        (pl.col("group_variable") == variable)
        & (pl.col("group_value") == value)
        & (pl.col("horizon_years") == horizon)
        & (pl.col("method") == method)
    )
    return rows.row(0, named=True) if rows.height else None


def region_of(published: Published, la: str) -> str | None:
    """The authority's region, from the authority table or the rates table.

    Parameters
    ----------
    published
        Output of :func:`read_published`.
    la
        Local authority code.

    Returns
    -------
    str or None
        Region code, or None when neither table places the authority.
    """
    for frame, code in ((published.areas, "la_code"), (published.rates, "geography_code")):
        if not frame.is_empty() and "region_code" in frame.columns:
            rows = frame.filter(pl.col(code) == la)["region_code"].drop_nulls()
            if rows.len():
                return str(rows[0])
    return None


def _recurrence_section(published: Published, la: str, region: str | None, symbol: str) -> Section:
    blocks: list = []
    areas = published.areas
    rows = areas.filter(pl.col("la_code") == la) if not areas.is_empty() else pl.DataFrame()
    region_name = REGIONS.get(region or "", region or "its region")
    if areas.is_empty():
        blocks.append(
            Paragraph(
                "No authority's chance of return is published in this run: the extract has no "
                "local-authority code (la_code) on its cases, or no mother is in the cohort."
            )
        )
    elif rows.is_empty():
        blocks.append(Paragraph(f"No mother's first set of care proceedings was issued by {la}."))
    table_rows = []
    for h in HORIZONS:
        mine = (
            rows.filter(pl.col("horizon_years") == h).sort("method").row(0, named=True)
            if not rows.is_empty() and rows.filter(pl.col("horizon_years") == h).height
            else None
        )
        reg = _national_row(published.national, "region_code", region or "", h)
        ew = _national_row(published.national, "all", "all", h)
        cells = [f"{h} years"]
        for r in (mine, reg, ew):
            if r is None or r["estimate"] is None:
                cells.append(symbol)
            else:
                cells.append(f"{_pct(r['estimate'])} ({_pct(r['ci_lower'])}–{_pct(r['ci_upper'])})")
        cells.append((mine or {}).get("funnel_position") or symbol if mine is not None else symbol)
        table_rows.append(tuple(cells))
    shown = rows.filter(~pl.col("suppressed")) if not rows.is_empty() else rows
    if not rows.is_empty() and shown.is_empty():
        blocks.append(
            Paragraph(
                f"{la}'s chance of return is not published: too few mothers or returns "
                "(or hidden so that a smaller authority of the same region cannot be worked out "
                "by subtraction). The region and England and Wales are shown for comparison."
            )
        )
    elif not shown.is_empty():
        seven = shown.filter(pl.col("horizon_years") == max(HORIZONS))
        if seven.height and seven["estimate"][0] is not None:
            r = seven.row(0, named=True)
            blocks.append(
                Paragraph(
                    f"Of the {r['n_at_start']:,} birth mothers whose first observed set of care "
                    f"proceedings was issued by {la}, an estimated {_pct(r['estimate'])} "
                    f"returned to court with another set within {max(HORIZONS)} years "
                    f"(95% confidence interval {_pct(r['ci_lower'])} to {_pct(r['ci_upper'])}). "
                    f"Against England and Wales this is {r['funnel_position']} for an authority "
                    "of its size."
                )
            )
    if not shown.is_empty():
        # Only when the authority itself is drawn: a funnel without it answers nothing about it.
        figure = funnel_figure(areas, published.national, highlight=la)
        if figure is not None:
            blocks.append(
                FigureBlock(
                    name=f"funnel_{la}",
                    caption=(
                        f"Chance of return within {max(HORIZONS)} years: {la} (diamond) among "
                        "the authorities whose numbers are published, with the England and "
                        "Wales figure and its 95% and 99.8% limits for an authority's size."
                    ),
                    alt=(
                        f"Funnel plot of authorities' chance of return against their number of "
                        f"mothers; {la} is {shown['funnel_position'].drop_nulls()[-1]}."
                    ),
                    figure=figure,
                )
            )
    blocks.append(
        Table(
            caption=f"Chance of return to court: {la}, {region_name} and England and Wales",
            columns=(
                "Years after the first set",
                la,
                str(region_name),
                "England and Wales",
                f"{la} against England and Wales",
            ),
            rows=tuple(table_rows),
            note=(
                "Kaplan–Meier estimate with 95% confidence interval (log(−log) Greenwood). "
                "Funnel limits: the England and Wales estimate with limits from its Greenwood "
                "variance scaled to the authority's number of mothers (95% and 99.8%)."
            ),
        )
    )
    return Section("recurrence", "Mothers returning to court", tuple(blocks))


def _newborn_section(
    published: Published, la: str, region: str | None, config: Config, symbol: str
) -> Section:
    rates = published.rates
    band = age_bands(config.rates)[0]
    if rates.is_empty():
        return Section(
            "newborns",
            "Newborns in care proceedings",
            (Paragraph("Newborn rates are not published in this run."),),
        )
    mine = rates.filter(
        (pl.col("geography_level") == "local_authority")
        & (pl.col("geography_code") == la)
        & (pl.col("age_band") == band)
    ).sort("year")
    if mine.is_empty():
        return Section(
            "newborns",
            "Newborns in care proceedings",
            (
                Paragraph(
                    f"No newborn rate is published for {la}: the extract has no local-authority "
                    "code on its cases or births, or the authority has no births recorded."
                ),
            ),
        )
    shown = mine.filter(pl.col("rate_per_10000").is_not_null())
    year = shown["year"][-1] if shown.height else mine["year"][-1]

    def rate(level: str, code: str) -> dict | None:
        rows = rates.filter(
            (pl.col("geography_level") == level)
            & (pl.col("geography_code") == code)
            & (pl.col("age_band") == band)
            & (pl.col("year") == year)
        )
        return rows.row(0, named=True) if rows.height else None

    own = rate("local_authority", la)
    reg = rate("country" if region == "W92000004" else "region", region or "")
    ew = rate("england_and_wales", ENGLAND_AND_WALES)
    blocks: list = []
    position = symbol
    if own and own["rate_per_10000"] is not None and ew and ew["rate_per_10000"] is not None:
        lo95, hi95 = rate_funnel_limits(ew["rate_per_10000"], [own["live_births"]], level=0.95)
        lo998, hi998 = rate_funnel_limits(ew["rate_per_10000"], [own["live_births"]], level=0.998)
        from recurrence.profiles.areas import position as where

        position = where(
            own["rate_per_10000"], float(lo95[0]), float(hi95[0]), float(lo998[0]), float(hi998[0])
        )
        blocks.append(
            Paragraph(
                f"In {year}, {own['children']:,} children {band} were in care proceedings "
                f"issued by {la}: {own['rate_per_10000']:.1f} per 10,000 live births "
                f"(95% confidence interval {own['ci_lower']:.1f} to {own['ci_upper']:.1f}). "
                f"Against the England and Wales rate this is {position} for an authority with "
                f"{own['live_births']:,} live births."
            )
        )
    else:
        blocks.append(
            Paragraph(
                f"{la}'s newborn count is not published for {year}: it is below the disclosure "
                "threshold, or hidden so that another cell cannot be worked out by subtraction."
            )
        )

    def cell(r: dict | None) -> str:
        if r is None or r["rate_per_10000"] is None:
            return symbol
        return f"{r['rate_per_10000']:.1f} ({r['ci_lower']:.1f}–{r['ci_upper']:.1f})"

    blocks.append(
        Table(
            caption=f"Children {band} in care proceedings per 10,000 live births, {year}",
            columns=(la, str(REGIONS.get(region or "", region)), "England and Wales", "Position"),
            rows=((cell(own), cell(reg), cell(ew), position),),
            note=(
                "Exact Poisson 95% interval; funnel limits are exact Poisson limits around the "
                "England and Wales rate at the authority's live births (95% and 99.8%)."
            ),
        )
    )
    return Section("newborns", "Newborns in care proceedings", tuple(blocks))


def _outcome_section(published: Published, region: str | None) -> Section:
    if published.outcomes.is_empty():
        text = "Outcomes of proceedings are not published in this run."
    else:
        text = (
            "Outcomes of proceedings are published for England and Wales, the countries and the "
            f"regions, not for authorities; {REGIONS.get(region or '', 'the region')}'s are in "
            "the run's report and outcomes.csv."
        )
    return Section("outcomes", "Outcomes", (Paragraph(text),))


def build_profile(published: Published, la: str, config: Config) -> Report:
    """The profile of authority ``la`` as a report (HTML and PDF are rendered from it).

    Parameters
    ----------
    published
        Output of :func:`read_published`.
    la
        Local authority code.
    config
        Run configuration (``disclosure``, ``rates``).

    Returns
    -------
    Report
        Sections on return to court, newborns, outcomes and notes.
    """
    symbol = config.disclosure.symbol
    region = region_of(published, la)
    notes = Bullets(
        (
            f"Every number here is a published cell: counts below {config.disclosure.min_cell} "
            f"are hidden ({symbol}), and others are hidden so that they cannot be worked out by "
            "subtraction from the region or England and Wales.",
            "An authority is the applicant local authority of the mother's first observed set "
            "of proceedings; mothers whose set names no authority count in their region only.",
            "'First observed' means first in the data: mothers with earlier proceedings are "
            "counted from a later set, which understates the chance of return.",
            "Funnel limits show what chance variation alone would give an authority of this "
            "size; no allowance is made for over-dispersion between authorities.",
        )
    )
    sections = (
        _recurrence_section(published, la, region, symbol),
        _newborn_section(published, la, region, config, symbol),
        _outcome_section(published, region),
        Section("notes", "Disclosure and data-quality notes", (notes,)),
    )
    return Report(
        title=f"Recurrent care proceedings: {la}",
        subtitle=f"Local authority profile ({REGIONS.get(region or '', 'region unknown')})",
        sections=sections,
        run_id=published.run_id,
        symbol=symbol,
    )


def write_profile(report: Report, folder: Path, la: str) -> tuple[Path, Path]:
    """Write ``<la>.html`` and ``<la>.pdf`` into ``folder`` (each atomically).

    Parameters
    ----------
    report
        Output of :func:`build_profile`.
    folder
        Destination folder (created if missing).
    la
        Local authority code (the file names).

    Returns
    -------
    tuple of pathlib.Path
        The HTML and PDF files.
    """
    from recurrence.publish import atomic_write

    folder.mkdir(parents=True, exist_ok=True)
    text = render_html(report)
    html = atomic_write(folder / f"{la}.html", lambda t: t.write_text(text, encoding="utf-8"))
    pdf = atomic_write(folder / f"{la}.pdf", lambda t: render_pdf(report, t))
    return html, pdf


def authorities(published: Published) -> list[str]:
    """Every authority with a row in the authority or the newborn-rates table.

    Parameters
    ----------
    published
        Output of :func:`read_published`.

    Returns
    -------
    list of str
        Sorted codes; never a ``none:<region>`` group or a split ``<code>@<region>``.
    """
    codes: set[str] = set()
    if not published.areas.is_empty():
        codes |= {c for c in published.areas["la_code"].drop_nulls() if ":" not in c}
    if not published.rates.is_empty():
        codes |= set(
            published.rates.filter(pl.col("geography_level") == "local_authority")[
                "geography_code"
            ].drop_nulls()
        )
    return sorted(c for c in codes if "@" not in c)


def write_all_profiles(
    published: Published, config: Config, folder: Path
) -> Mapping[str, tuple[Path, Path]]:
    """A profile for every authority (:func:`authorities`) into ``folder``.

    Parameters
    ----------
    published
        Output of :func:`read_published`.
    config
        Run configuration.
    folder
        Destination folder.

    Returns
    -------
    dict
        Authority code to its HTML and PDF files.
    """
    return {
        la: write_profile(build_profile(published, la, config), folder, la)
        for la in authorities(published)
    }
