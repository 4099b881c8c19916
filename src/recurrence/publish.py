"""Write the published newborn-rate tables and figures into a run's report folder.

Every file is written under a temporary name in the same folder and moved into place with
``os.replace``, so a reader never sees a half-written file. Only the published (suppressed)
table goes into these files.

A run's files are written into a hidden staging folder, ``reports/.<run_id>.partial/``
(:func:`staging_folder`), and the whole folder is renamed to ``reports/<run_id>/`` by the run's
commit (:func:`recurrence.safety.commit`) only once every file is written and every blocking
check has passed; so ``reports/<run_id>/`` either does not exist or is complete.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import polars as pl
from matplotlib.figure import Figure

from recurrence.config import Config
from recurrence.disclosure import mark
from recurrence.ingest.extract import SYNTHETIC_BANNER
from recurrence.plotting import funnel_plot, rates_over_time
from recurrence.rates.newborns import ENGLAND_AND_WALES, PUBLISHED_COLUMNS, age_bands
from recurrence.safety import released_folder as released_folder  # re-exported for stages
from recurrence.safety import staging_folder as staging_folder

CSV_NAME = "newborn_rates.csv"
XLSX_NAME = "newborn_rates.xlsx"
TREND_NAME = "newborn_rates_by_region"
FUNNEL_NAME = "newborn_rates_funnel"
RATE_DECIMALS = 1

with warnings.catch_warnings():
    # gptables 2.0.2 opens its theme file at import without closing it (a ResourceWarning).
    warnings.simplefilter("ignore", ResourceWarning)
    import gptables as gpt


@dataclass(frozen=True)
class PublishedFiles:
    """Paths of everything written for one run."""

    csv: Path
    xlsx: Path
    figures: tuple[Path, ...]

    @property
    def all(self) -> tuple[Path, ...]:
        """Every file written."""
        return (self.csv, self.xlsx, *self.figures)


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it into place.

    Parameters
    ----------
    path
        Final file name.
    write
        Writes the whole file to the path it is given.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        tmp.replace(path)  # os.replace: atomic within one folder
    finally:
        tmp.unlink(missing_ok=True)
    return path


def format_for_release(published: pl.DataFrame, *, symbol: str) -> pl.DataFrame:
    """The published table as text: rates to one decimal place, hidden values as ``symbol``.

    Parameters
    ----------
    published
        ``published.newborn_rates`` (hidden values are null).
    symbol
        The suppression symbol.

    Returns
    -------
    polars.DataFrame
        All columns of :data:`recurrence.rates.newborns.PUBLISHED_COLUMNS` as strings.
    """
    rounded = published.with_columns(
        pl.col(c)
        .round(RATE_DECIMALS)
        .map_elements(lambda v: f"{v:.{RATE_DECIMALS}f}", return_dtype=pl.String)
        for c in ("rate_per_10000", "ci_lower", "ci_upper")
    ).with_columns(
        pl.col("live_births").cast(pl.Int64).cast(pl.String),
        pl.col("suppressed").cast(pl.String),
    )
    return mark(rounded, ["children", "rate_per_10000", "ci_lower", "ci_upper"], symbol=symbol)


def write_csv(published: pl.DataFrame, folder: Path, *, symbol: str) -> Path:
    """Write ``newborn_rates.csv``: tidy, one row per geography x year x age band.

    Parameters
    ----------
    published
        ``published.newborn_rates``.
    folder
        The run's report folder.
    symbol
        Suppression symbol written in place of hidden values.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    text = format_for_release(published, symbol=symbol).select(PUBLISHED_COLUMNS)
    return atomic_write(folder / CSV_NAME, lambda tmp: text.write_csv(tmp))


NO_RATES_NOTES = ("definitions", "denominators")


def _notes(config: Config, extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    newborn, infant = age_bands(config.rates)
    d = config.disclosure
    year_rule = (
        "Years are financial years (1 April to 31 March, shown as 2016/17): children by the date "
        "the application was issued, births by the baby's date of birth. Where only calendar-year "
        "birth totals are supplied, the financial year Y/Y+1 uses three quarters of year Y's "
        "births plus one quarter of year Y+1's."
        if config.rates.year_type == "financial"
        else "Years are calendar years: children by the date the application was issued, births "
        "by the baby's date of birth."
    )
    return [
        (
            "definitions",
            f"Children who are the subject of care proceedings (application types "
            f"{', '.join(config.ingest.care_application_types)}). A newborn is {newborn} old and "
            f"an infant {infant} old when proceedings are issued; a child added at birth is aged "
            "0. A child is counted once per set of proceedings, and once a year: in the first "
            "set of that year.",
        ),
        ("years", year_rule),
        (
            "denominators",
            "Live births by the mother's area of usual residence. Children are placed in the "
            "area of the local authority that made the application.",
        ),
        (
            "intervals",
            "95% confidence intervals by the exact Poisson method"
            + (
                " (Byar's approximation from 10 events)."
                if config.rates.ci_method == "byar"
                else "."
            ),
        ),
        (
            "suppression",
            f"{d.symbol} = confidential: a count under {d.min_cell} (including zero), or a count "
            "hidden so that another one cannot be worked out from the totals. Rates and "
            "intervals of a hidden count are hidden too."
            + (
                f" Counts are rounded to the nearest {d.rounding_base}."
                if d.rounding_base > 1
                else ""
            ),
        ),
        *extra,
    ]


SHEET_COLUMNS = {
    "geography_code": "Area code",
    "geography_name": "Area name",
    "year": "Year",
    "age_band": "Age at start of proceedings",
    "children": "Children (number)",
    "live_births": "Live births (number)",
    "rate_per_10000": "Rate per 10,000 live births",
    "ci_lower": "Lower 95% confidence limit (per 10,000)",
    "ci_upper": "Upper 95% confidence limit (per 10,000)",
}
RATE_HEADERS = [SHEET_COLUMNS[c] for c in ("rate_per_10000", "ci_lower", "ci_upper")]
COUNT_HEADERS = [SHEET_COLUMNS[c] for c in ("children", "live_births")]


def _sheet_frame(published: pl.DataFrame, *, symbol: str) -> pd.DataFrame:
    """Numbers stay numbers (rates rounded to one decimal place); hidden cells hold ``symbol``.

    The area-name column is left out when every name only repeats its code (the contract carries
    no local-authority names).
    """
    frame = published.with_columns(
        pl.col(c).round(RATE_DECIMALS) for c in ("rate_per_10000", "ci_lower", "ci_upper")
    ).with_columns(pl.col("live_births").cast(pl.Int64))
    out = frame.select(list(SHEET_COLUMNS)).rename(SHEET_COLUMNS).to_pandas()
    for column in ("children", "rate_per_10000", "ci_lower", "ci_upper"):
        header = SHEET_COLUMNS[column]
        values = frame[column].to_list()
        out[header] = pd.Series(
            [symbol if v is None else v for v in values], dtype=object, index=out.index
        )
    if frame.height and (frame["geography_name"] == frame["geography_code"]).all():
        out = out.drop(columns=[SHEET_COLUMNS["geography_name"]])
    return out


def left_out_sheets(published: pl.DataFrame, config: Config) -> dict[str, str]:
    """Sheets of the spreadsheet that have no rows, each with the reason in words.

    A sheet with no rows cannot be written (and would say nothing), so it is left out and the
    cover sheet and the report say why.

    Parameters
    ----------
    published
        ``published.newborn_rates``.
    config
        The run's configuration (the age bands name the sheets' contents).

    Returns
    -------
    dict
        Sheet name to the reason, for each sheet left out (empty when none is).
    """
    newborn, infant = age_bands(config.rates)
    areas = published.filter(pl.col("geography_level") != "local_authority")
    reasons: dict[str, str] = {}
    no_rates = (
        "no live births to divide by (the births file has no live births and no live_births "
        "file was supplied), so no rate can be computed"
    )
    for name, band in (("Newborns", newborn), ("Infants", infant)):
        if areas.filter(pl.col("age_band") == band).is_empty():
            reasons[name] = no_rates
    authorities = published.filter(pl.col("geography_level") == "local_authority")
    if authorities.is_empty():
        reasons["Local_authorities"] = (
            "no local-authority codes in this extract (or no rates at all), so local-authority "
            "rates are not published"
        )
    elif authorities.filter(pl.col("children").is_not_null()).is_empty():
        reasons["Local_authorities"] = (
            "every local authority's count of children is hidden to protect confidentiality in "
            f"every year, so a sheet would hold nothing but {config.disclosure.symbol}; "
            f"{CSV_NAME} lists every authority and year"
        )
    return reasons


def local_authority_rows(published: pl.DataFrame) -> pl.DataFrame:
    """The rows of the spreadsheet's local-authority sheet: those whose count is published.

    An authority-year whose count is hidden has nothing but its births to show; thousands of
    such rows bury the few that have a rate. They stay in the CSV (as the symbol); the sheet's
    subtitle says so.
    """
    return published.filter(
        (pl.col("geography_level") == "local_authority") & pl.col("children").is_not_null()
    )


def write_spreadsheet(
    published: pl.DataFrame,
    folder: Path,
    config: Config,
    *,
    synthetic: bool = False,
    released: dt.date | None = None,
) -> Path:
    """Write ``newborn_rates.xlsx`` with gptables: cover, contents, notes, one table per sheet.

    Parameters
    ----------
    published
        ``published.newborn_rates``.
    folder
        The run's report folder.
    config
        The run's configuration (definitions and disclosure rules are stated in the notes).
    synthetic
        The extract is synthetic (:func:`recurrence.ingest.extract.extract_is_synthetic`): the
        cover says so first, and the cover's title says so too.
    released
        The release date written on the cover (default: today, UTC).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    symbol = config.disclosure.symbol
    release_date = released or dt.datetime.now(dt.UTC).date()
    newborn, infant = age_bands(config.rates)
    areas = pl.col("geography_level") != "local_authority"
    tables = {
        "Newborns": (
            published.filter(areas & (pl.col("age_band") == newborn)),
            f"Newborns ({newborn} old) in care proceedings per 10,000 live births, "
            "England and Wales, countries and regions",
        ),
        "Infants": (
            published.filter(areas & (pl.col("age_band") == infant)),
            f"Infants ({infant} old) in care proceedings per 10,000 live births, "
            "England and Wales, countries and regions",
        ),
        "Local_authorities": (
            local_authority_rows(published),
            "Newborns and infants in care proceedings per 10,000 live births, local authorities",
        ),
    }
    sheets = {}
    left_out = left_out_sheets(published, config)
    for name, (frame, title) in tables.items():
        if name in left_out:
            continue
        sheets[name] = gpt.GPTable(
            table=_sheet_frame(frame, symbol=symbol),
            table_name=f"{name.lower()}_rates",
            title=title,
            subtitles=[
                *(
                    [
                        "Only authorities and years whose count is published are listed; "
                        f"{CSV_NAME} lists every one, with {symbol} where hidden"
                    ]
                    if name == "Local_authorities"
                    else []
                ),
                f"Confidential values are shown as {symbol}$$suppression$$",
                "Definitions of newborn and infant$$definitions$$",
                "Years, and how children meet births$$years$$$$denominators$$",
                "Rates with 95% confidence intervals$$intervals$$",
            ],
            scope="England and Wales",
            source="Family court records and maternity records (pseudonymised extract)",
            table_notes={},
            index_columns={2: 0},
            additional_formatting=[
                {"column": {"columns": RATE_HEADERS, "format": {"num_format": "0.0"}}},
                {"column": {"columns": COUNT_HEADERS, "format": {"num_format": "#,##0"}}},
            ],
        )
    notes = _notes(config, [])
    if not sheets:
        # The sheet that says why no rate is published refers only to what a rate would count and
        # divide by; gptables refuses notes no sheet refers to.
        notes = [n for n in notes if n[0] in NO_RATES_NOTES]
    notes_table = pl.DataFrame(
        {"Note reference": [n[0] for n in notes], "Note text": [n[1] for n in notes]}
    ).to_pandas()
    cover = gpt.Cover(
        title="Newborns and infants in care proceedings per 10,000 live births"
        + (" (synthetic data)" if synthetic else ""),
        intro=[
            *([SYNTHETIC_BANNER] if synthetic else []),
            "Children who are the subject of care proceedings in their first weeks or first year "
            "of life, per 10,000 live births, for England and Wales, countries, regions and "
            "local authorities.",
        ],
        about=[
            "Produced by the recurrence pipeline from pseudonymised extracts.",
            f"Released {release_date:%d %B %Y}.",
            f"Suppressed values are shown as {symbol}; see the Notes sheet.",
            f"Tables: {', '.join(sheets) or 'none'} (one table per sheet).",
            *(f"{name} is left out: {why}." for name, why in left_out.items()),
        ],
        contact=[
            config.publication.contact.strip()
            or "No contact was set for this release (set publication.contact in the "
            "configuration, see docs/configuration.md)."
        ],
    )
    if not sheets:
        # gptables needs one table; an empty workbook would say nothing, so say why in a table.
        sheets["No_rates"] = gpt.GPTable(
            table=pd.DataFrame({"Why no rates are published": list(left_out.values())}),
            table_name="no_rates",
            title="No rates are published from this extract",
            subtitles=[
                "Definitions of newborn and infant$$definitions$$",
                "Live births, what rates would be divided by$$denominators$$",
            ],
            scope="England and Wales",
            source="Family court records and maternity records (pseudonymised extract)",
            table_notes={},
        )

    def write(tmp: Path) -> None:
        gpt.write_workbook(
            filename=str(tmp),
            sheets=sheets,
            cover=cover,
            notes_table=notes_table,
            contentsheet_options={"additional_elements": ["subtitles", "scope"]},
        )

    return atomic_write(folder / XLSX_NAME, write)


def _save_figure(fig: Figure, folder: Path, stem: str) -> list[Path]:
    paths = []
    for ext in ("png", "svg"):
        paths.append(
            atomic_write(
                folder / f"{stem}.{ext}",
                lambda tmp, ext=ext: fig.savefig(tmp, format=ext, dpi=150),
            )
        )
    return paths


def trend_figure(published: pl.DataFrame, config: Config) -> Figure:
    """Newborn rates by region (and Wales, England, England and Wales) over time.

    Parameters
    ----------
    published
        ``published.newborn_rates``.
    config
        The run's configuration.

    Returns
    -------
    matplotlib.figure.Figure
        The chart; suppressed rates are gaps.
    """
    newborn, _ = age_bands(config.rates)
    data = published.filter(
        (pl.col("geography_level") != "local_authority") & (pl.col("age_band") == newborn)
    ).select("geography_level", "geography_name", "year", "rate_per_10000", "ci_lower", "ci_upper")
    return rates_over_time(
        data,
        title=f"Newborns ({newborn} old) in care proceedings per 10,000 live births, by region",
        xlabel="Financial year" if config.rates.year_type == "financial" else "Year",
    )


def funnel_figure(published: pl.DataFrame, config: Config) -> Figure:
    """Funnel plot of local authorities' newborn rates in the latest year.

    Only authorities whose count is published are drawn (a point's position would give a hidden
    count back), and the target line is the England and Wales rate only if it is published.

    Parameters
    ----------
    published
        ``published.newborn_rates``.
    config
        The run's configuration.

    Returns
    -------
    matplotlib.figure.Figure
        The plot.
    """
    newborn, _ = age_bands(config.rates)
    latest = published.filter(pl.col("age_band") == newborn)
    year = latest.sort("year")["year"][-1] if not latest.is_empty() else ""
    latest = latest.filter(pl.col("year") == year)
    national = latest.filter(
        (pl.col("geography_level") == "england_and_wales")
        & (pl.col("geography_code") == ENGLAND_AND_WALES)
    )
    areas = latest.filter(pl.col("geography_level") == "local_authority")
    shown = areas.filter(~pl.col("suppressed"))
    target = national["rate_per_10000"][0] if national.height else None
    title = f"Newborns in care proceedings per 10,000 live births, local authorities, {year}"
    if target is None:
        shown = shown.clear()
        title += " (national rate suppressed: not drawn)"
    return funnel_plot(
        shown["children"].to_list(),
        shown["live_births"].cast(pl.Float64).to_list(),
        pooled_rate=None if target is None else float(target),
        labels=shown["geography_name"].to_list(),
        title=title,
        hidden_count=areas.height - shown.height,
        target_label="England and Wales rate",
    )


def write_outputs(
    published: pl.DataFrame, folder: Path, config: Config, *, synthetic: bool = False
) -> PublishedFiles:
    """Write the CSV, the spreadsheet and the figures (PNG and SVG) into ``folder``.

    Parameters
    ----------
    published
        ``published.newborn_rates``, after disclosure control.
    folder
        ``reports/<run_id>``.
    config
        The run's configuration.
    synthetic
        The extract is synthetic: the spreadsheet's cover says so.

    Returns
    -------
    PublishedFiles
        The paths written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    csv = write_csv(published, folder, symbol=config.disclosure.symbol)
    xlsx = write_spreadsheet(published, folder, config, synthetic=synthetic)
    figures = [
        *_save_figure(trend_figure(published, config), folder, TREND_NAME),
        *_save_figure(funnel_figure(published, config), folder, FUNNEL_NAME),
    ]
    return PublishedFiles(csv, xlsx, tuple(figures))
