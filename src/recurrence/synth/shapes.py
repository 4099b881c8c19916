"""Transforms of a small contract extract into the valid shapes our generator never makes.

A real provider may send one region, one nation, one year, no local-authority codes, no maternity
rows, nothing to suppress or everything to suppress. Each :class:`Shape` here rewrites an extract
folder into one such shape that is still valid under the data contract, so the tests (and anyone
checking a change) can run the whole pipeline on it. Shapes compose: :func:`write_shape` applies a
sequence of them in order to one extract read into memory.

Every table is read as text (so CSV and Parquet files round-trip the same way) and written back as
``NAME.csv`` unless a shape asks for Parquet. ``truth/`` is not copied: after a transform it no
longer describes the extract.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from recurrence.contract import BIRTHS, CASE_PEOPLE, CASES, LIVE_BIRTHS, WALES

__all__ = ["SHAPES", "Extract", "Shape", "read_extract", "write_extract", "write_shape"]

_TABLES = {t.name: t for t in (CASES, CASE_PEOPLE, BIRTHS, LIVE_BIRTHS)}


@dataclass(frozen=True)
class Extract:
    """An extract held in memory: its tables as text columns, file formats and end date.

    Attributes
    ----------
    tables
        Table name to a frame of text columns (``live_births`` may be absent).
    end_date
        ``extract_end_date`` of ``extract.toml``.
    formats
        Table name to ``"csv"`` or ``"parquet"``; tables not named are written as CSV.
    overrides
        Configuration overrides (``section.key=value``) the shape needs at run time, such as a
        disclosure threshold.
    """

    tables: dict[str, pl.DataFrame]
    end_date: dt.date
    formats: dict[str, str] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shape:
    """One valid shape: a name, what it models, and the transform that makes it."""

    name: str
    meaning: str
    transform: Callable[[Extract], Extract]


def read_extract(folder: Path) -> Extract:
    """Read an extract folder into memory, every column as text.

    Parameters
    ----------
    folder
        A contract extract folder.

    Returns
    -------
    Extract
        Its tables, end date and file formats.
    """
    tables: dict[str, pl.DataFrame] = {}
    formats: dict[str, str] = {}
    for name in _TABLES:
        csv, parquet = folder / f"{name}.csv", folder / f"{name}.parquet"
        if csv.exists():
            tables[name] = pl.read_csv(csv, infer_schema=False)
            formats[name] = "csv"
        elif parquet.exists():
            frame = pl.read_parquet(parquet)
            tables[name] = frame.with_columns(pl.all().cast(pl.String))
            formats[name] = "parquet"
    meta = tomllib.loads((folder / "extract.toml").read_text(encoding="utf-8"))
    end = meta["extract_end_date"]
    end_date = end if isinstance(end, dt.date) else dt.date.fromisoformat(str(end))
    return Extract(tables, end_date, formats)


def write_extract(extract: Extract, folder: Path) -> Path:
    """Write an in-memory extract as a contract extract folder.

    Parameters
    ----------
    extract
        What to write.
    folder
        Destination (created; must not already hold tables).

    Returns
    -------
    Path
        ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in extract.tables.items():
        if extract.formats.get(name) == "parquet":
            frame.write_parquet(folder / f"{name}.parquet")
        else:
            frame.write_csv(folder / f"{name}.csv")
    (folder / "extract.toml").write_text(
        f'extract_end_date = {extract.end_date.isoformat()}\nsource = "shape transform"\n',
        encoding="utf-8",
    )
    return folder


def write_shape(source: Path, folder: Path, shapes: Iterable[str]) -> Extract:
    """Read ``source``, apply the named shapes in order and write the result to ``folder``.

    Parameters
    ----------
    source
        A contract extract folder (for example a small generated one).
    folder
        Where to write the shaped extract.
    shapes
        Names from :data:`SHAPES`.

    Returns
    -------
    Extract
        The shaped extract (its ``overrides`` are needed by the run).
    """
    extract = read_extract(source)
    for name in shapes:
        extract = SHAPES[name].transform(extract)
    write_extract(extract, folder)
    return extract


def _date(column: str) -> pl.Expr:
    return pl.col(column).str.to_date("%Y-%m-%d", strict=False)


def _keep_cases(extract: Extract, keep: pl.Expr) -> Extract:
    """Keep the cases matching ``keep`` and their people."""
    cases = extract.tables["cases"].filter(keep)
    people = extract.tables["case_people"].join(cases.select("case_id"), on="case_id", how="semi")
    # Keeping fewer cases can leave the end date long after the last proceedings; such a provider
    # would say the extract covers to that date, so ingest is told the gap is expected.
    overrides = extract.overrides
    if "ingest.max_end_date_gap_days=36500" not in overrides:
        overrides = (*overrides, "ingest.max_end_date_gap_days=36500")
    return replace(
        extract,
        tables={**extract.tables, "cases": cases, "case_people": people},
        overrides=overrides,
    )


def _with(extract: Extract, **tables: pl.DataFrame) -> Extract:
    return replace(extract, tables={**extract.tables, **tables})


def _drop_la(tables: tuple[str, ...]) -> Callable[[Extract], Extract]:
    def transform(extract: Extract) -> Extract:
        return _with(
            extract, **{t: extract.tables[t].drop("la_code", strict=False) for t in tables}
        )

    return transform


def _regions(keep: Callable[[pl.DataFrame], list[str]]) -> Callable[[Extract], Extract]:
    def transform(extract: Extract) -> Extract:
        codes = keep(extract.tables["cases"])
        out = _keep_cases(extract, pl.col("region_code").is_in(codes))
        births = out.tables["births"].filter(pl.col("region_code").is_in(codes))
        tables = {"births": births}
        if "live_births" in out.tables:
            tables["live_births"] = out.tables["live_births"].filter(
                pl.col("region_code").is_in(codes)
            )
        return _with(out, **tables)

    return transform


def _busiest_english_region(cases: pl.DataFrame) -> list[str]:
    english = cases.filter(pl.col("region_code") != WALES)
    top = english["region_code"].value_counts(sort=True)
    return [top["region_code"][0]] if top.height else []


def _one_financial_year(extract: Extract) -> Extract:
    cases = extract.tables["cases"].with_columns(issued=_date("issue_date"))
    fy = pl.col("issued").dt.year() - (pl.col("issued").dt.month() < 4).cast(pl.Int32)
    years = cases.with_columns(fy=fy)["fy"].value_counts(sort=True)["fy"]
    if years.is_empty():
        return extract
    return _keep_cases(extract, pl.col("case_id").is_in(cases.filter(fy == years[0])["case_id"]))


def _no_return(extract: Extract) -> Extract:
    """Keep one case per mother: by person id and by every name/birth identity she could link on."""
    people = extract.tables["case_people"]
    cases = extract.tables["cases"].sort("issue_date", "case_id")
    mothers = people.filter(pl.col("role") == "mother")
    identities = ["person_id", "forename_hash", "surname_hash", "birth_year_month"]
    seen: dict[str, set] = {c: set() for c in identities if c in mothers.columns}
    by_case = {k[0]: g for k, g in mothers.group_by("case_id")}
    keep: list[str] = []
    for case_id in cases["case_id"]:
        group = by_case.get(case_id)
        if group is not None:
            values = {c: {v for v in group[c] if v is not None} for c in seen}
            # A surname or year-month alone is common; a repeat person id or forename is the risk.
            if any(values[c] & seen[c] for c in seen if c in ("person_id", "forename_hash")):
                continue
            for c in seen:
                seen[c] |= values[c]
        keep.append(case_id)
    return _keep_cases(extract, pl.col("case_id").is_in(keep))


def _births_share_no_dob(extract: Extract) -> Extract:
    people = extract.tables["case_people"]
    if "birth_date" not in people.columns:
        # Without children's dates of birth no birth can share one: already this shape.
        return extract
    dobs = people.filter(pl.col("birth_date").is_not_null())["birth_date"].unique()
    births = extract.tables["births"].filter(~pl.col("baby_birth_date").is_in(dobs))
    return _with(extract, births=births)


def _births_empty(extract: Extract) -> Extract:
    out = _with(extract, births=extract.tables["births"].clear())
    tables = {k: v for k, v in out.tables.items() if k != "live_births"}
    return replace(out, tables=tables)


def _live_births(extract: Extract) -> Extract:
    """Published denominators: ten times the maternity births per region and calendar year."""
    births = extract.tables["births"]
    counts = (
        births.with_columns(year=pl.col("baby_birth_date").str.slice(0, 4))
        .group_by("region_code", "year")
        .len()
        .with_columns((pl.col("len") * 10).cast(pl.String).alias("live_births"))
        .select("region_code", "year", "live_births")
        .sort("region_code", "year")
    )
    return _with(extract, live_births=counts)


def _births_empty_with_live_births(extract: Extract) -> Extract:
    with_denominators = _live_births(extract)
    return _with(with_denominators, births=extract.tables["births"].clear())


def _few_cases(n: int) -> Callable[[Extract], Extract]:
    def transform(extract: Extract) -> Extract:
        first = extract.tables["cases"].sort("case_id").head(n)["case_id"]
        return _keep_cases(extract, pl.col("case_id").is_in(first))

    return transform


def _no_small_cells(extract: Extract) -> Extract:
    # A small extract cannot have every count at 10 or more; a threshold of 1 hides only zeros,
    # which is the same code path (nothing needs primary suppression for a count).
    return replace(extract, overrides=(*extract.overrides, "disclosure.min_cell=1"))


def _mixed_formats(extract: Extract) -> Extract:
    formats = {"cases": "parquet", "case_people": "csv", "births": "parquet", "live_births": "csv"}
    return replace(extract, formats=formats)


def _optional_columns(action: str) -> Callable[[Extract], Extract]:
    def transform(extract: Extract) -> Extract:
        tables = {}
        for name, frame in extract.tables.items():
            optional = [
                c.name for c in _TABLES[name].columns if not c.required and c.name in frame.columns
            ]
            if action == "drop":
                tables[name] = frame.drop(optional)
            else:
                tables[name] = frame.with_columns(
                    pl.lit(None, pl.String).alias(c) for c in optional
                )
        return _with(extract, **tables)

    return transform


def _born_after_issue(extract: Extract) -> Extract:
    """Move the issue date of some cases to 30 days before their first child's birth."""
    people = extract.tables["case_people"]
    if "birth_date" not in people.columns:
        return extract
    first_birth = (
        people.filter((pl.col("role") == "child") & pl.col("birth_date").is_not_null())
        .group_by("case_id")
        .agg(born=_date("birth_date").min())
    )
    cases = extract.tables["cases"].join(first_birth, on="case_id", how="left")
    pick = pl.col("born").is_not_null() & (pl.col("case_id").str.slice(-1).is_in(list("02468ace")))
    moved = (pl.col("born") - pl.duration(days=30)).dt.strftime("%Y-%m-%d")
    cases = cases.with_columns(
        issue_date=pl.when(pick).then(moved).otherwise(pl.col("issue_date"))
    ).drop("born")
    # Moving an issue date earlier never puts it after the final hearing or past the end date.
    return _with(extract, cases=cases)


def _short_follow_up(extract: Extract) -> Extract:
    """Keep only cases issued in the last five years, so follow-up is under seven years."""
    start = extract.end_date.replace(year=extract.end_date.year - 5)
    return _keep_cases(extract, _date("issue_date") > pl.lit(start))


def _cases_empty(extract: Extract) -> Extract:
    return _with(
        extract,
        cases=extract.tables["cases"].clear(),
        case_people=extract.tables["case_people"].clear(),
    )


def _compose(*transforms: Callable[[Extract], Extract]) -> Callable[[Extract], Extract]:
    def transform(extract: Extract) -> Extract:
        for t in transforms:
            extract = t(extract)
        return extract

    return transform


_LIST = (
    Shape("no_la_cases", "no la_code column in cases", _drop_la(("cases",))),
    Shape("no_la_births", "no la_code column in births", _drop_la(("births",))),
    Shape("no_la", "no la_code column in cases or births", _drop_la(("cases", "births"))),
    Shape("wales_only", "cases and births of Wales only", _regions(lambda _: [WALES])),
    Shape("one_region", "one English region only", _regions(_busiest_english_region)),
    Shape("one_year", "one financial year of proceedings", _one_financial_year),
    Shape("no_return", "no mother is in more than one set of proceedings", _no_return),
    Shape("births_unlinkable", "births share no child's date of birth", _births_share_no_dob),
    Shape("births_empty", "births header-only, no live_births", _births_empty),
    Shape(
        "births_empty_live_births",
        "births header-only, live_births supplied",
        _births_empty_with_live_births,
    ),
    Shape("live_births", "live_births supplied (published denominators)", _live_births),
    Shape("all_small", "so few cases that every count is below the threshold", _few_cases(25)),
    Shape("none_small", "no count below the disclosure threshold", _no_small_cells),
    Shape("mixed_formats", "CSV and Parquet mixed", _mixed_formats),
    Shape("optional_absent", "every optional column absent", _optional_columns("drop")),
    Shape("optional_null", "optional columns present but entirely null", _optional_columns("null")),
    Shape("born_after_issue", "children born after the issue date", _born_after_issue),
    Shape("short_follow_up", "extract ends < 7 years after the first issue", _short_follow_up),
    Shape("cases_empty", "cases and case_people header-only", _cases_empty),
    Shape(
        "one_region_suppressed",
        "one English region and so few cases that everything is suppressed",
        _compose(_regions(_busiest_english_region), _few_cases(15)),
    ),
)

SHAPES: dict[str, Shape] = {s.name: s for s in _LIST}
"""Every shape by name, in the order of the shape matrix."""
