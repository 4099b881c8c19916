"""The report's closing sections: data and linkage, methods, caveats and provenance."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from typing import Any

import polars as pl

from recurrence.contract import REGIONS
from recurrence.disclosure import DisclosureError, Relation, suppress
from recurrence.paths import DEFAULTS_FILE
from recurrence.rates.newborns import age_bands
from recurrence.report.content import (
    Block,
    Bullets,
    Paragraph,
    Section,
    Table,
    count,
    pct,
)
from recurrence.report.inputs import ReportInputs, first_row

Builder = Callable[[ReportInputs], Section | None]


def safe_counts(
    values: dict[str, int], total: int | None, *, min_cell: int
) -> dict[str, int | None]:
    """Counts with small ones hidden (and enough others that none can be worked out).

    Parameters
    ----------
    values
        Label to count; parts of ``total`` when it is given.
    total
        The published total the parts add up to (never hidden here), or None.
    min_cell
        Disclosure threshold.

    Returns
    -------
    dict
        Label to count, None where hidden.
    """
    if not values:
        return {}
    cells: dict[Any, int] = dict(values)
    relations = []
    if total is not None:
        cells["__total__"] = total
        relations = [Relation("__total__", tuple(values))]
    try:
        hidden = suppress(
            cells, relations, min_cell=min_cell, fixed=("__total__",) if relations else ()
        ).suppressed
    except DisclosureError:
        hidden = frozenset(values)
    return {k: (None if k in hidden else v) for k, v in values.items()}


def safe_rate(numerator: int | None, denominator: int | None, *, min_cell: int) -> float | None:
    """Numerator / denominator, or None when either side (linked or not) is under ``min_cell``."""
    if numerator is None or not denominator:
        return None
    if min(numerator, denominator - numerator) < min_cell:
        return None
    return numerator / denominator


def data_section(inputs: ReportInputs) -> Section:
    """Rows read and quarantined, linkage rates and, where truth exists, linkage quality."""
    cfg, symbol = inputs.config, inputs.config.disclosure.symbol
    min_cell = cfg.disclosure.min_cell
    accounting = inputs.tables["audit.ingest_accounting"]
    blocks: list[Block] = [
        Table(
            "Rows read from the extract",
            ("Table", "File", "Rows read", "Rows loaded", "Rows quarantined"),
            tuple(
                (
                    r["table_name"],
                    r["source_file"] or "(not supplied)",
                    count(r["rows_read"], symbol),
                    count(r["rows_loaded"], symbol),
                    count(r["rows_quarantined"], symbol),
                )
                for r in accounting.iter_rows(named=True)
            ),
            note="Every row read is either loaded or quarantined with a reason; none is dropped. "
            "These are counts of records in the extract, not of people.",
        )
    ]
    q = inputs.quarantine
    if q.is_empty():
        blocks.append(Paragraph("No rows were quarantined."))
    else:
        rows = []
        totals = dict(zip(accounting["table_name"], accounting["rows_quarantined"], strict=True))
        for (table,), part in q.group_by("table_name", maintain_order=True):
            keys = [f"{r['column_name']}|{r['reason']}" for r in part.iter_rows(named=True)]
            shown = safe_counts(
                dict(zip(keys, part["rows"].to_list(), strict=True)),
                totals.get(table),
                min_cell=min_cell,
            )
            for key, r in zip(keys, part.iter_rows(named=True), strict=True):
                rows.append(
                    (
                        str(table),
                        r["column_name"] or "(row)",
                        r["reason"],
                        count(shown[key], symbol),
                    )
                )
        blocks.append(
            Table(
                "Rows quarantined, by reason",
                ("Table", "Column", "Reason", "Rows"),
                tuple(rows),
                note=f"{symbol}: fewer than {min_cell} rows, or hidden so that such a count "
                "cannot be worked out.",
            )
        )
    blocks += _linkage_blocks(inputs)
    return Section("data", "Data and linkage", tuple(blocks))


LINKAGE_MEASURES = {
    "child_linked_to_birth": "Children in proceedings linked to their birth record",
    "mother_linked_to_births": "Mothers linked to at least one maternity birth record",
    "mothers_with_several_ids": "Mothers whose records carry more than one person id",
}


def _linkage_blocks(inputs: ReportInputs) -> list[Block]:
    cfg, symbol = inputs.config, inputs.config.disclosure.symbol
    min_cell = cfg.disclosure.min_cell
    summary = inputs.tables["linkage.summary"]
    counts = {
        r["measure"]: r["numerator"]
        for r in summary.filter(pl.col("denominator").is_null()).iter_rows(named=True)
    }
    blocks: list[Block] = [
        Paragraph(
            f"Linkage method: {cfg.linkage.method}, match threshold "
            f"{cfg.linkage.match_threshold:g}. "
            f"{count(_at_least(counts.get('mother_records'), min_cell), symbol)} mother records "
            "with "
            f"{count(_at_least(counts.get('mother_person_ids'), min_cell), symbol)} person ids "
            "were "
            f"joined into {count(_at_least(counts.get('mother_keys'), min_cell), symbol)} mothers."
        )
    ]
    rows = []
    for measure, name in LINKAGE_MEASURES.items():
        r = first_row(summary, measure=measure, breakdown="all")
        if r:
            rows.append(
                (name, pct(safe_rate(r["numerator"], r["denominator"], min_cell=min_cell), symbol))
            )
    blocks.append(Table("Linkage rates", ("Measure", "Rate"), tuple(rows)))
    by_region = summary.filter(pl.col("breakdown") == "region").sort("category")
    region_rows = []
    for (code,), part in by_region.group_by("category", maintain_order=True):
        cells = {r["measure"]: r for r in part.iter_rows(named=True)}
        region_rows.append(
            (
                REGIONS.get(str(code), str(code)),
                *(
                    pct(
                        safe_rate(
                            cells[m]["numerator"], cells[m]["denominator"], min_cell=min_cell
                        ),
                        symbol,
                    )
                    if m in cells
                    else ""
                    for m in ("child_linked_to_birth", "mother_linked_to_births")
                ),
            )
        )
    blocks.append(
        Table(
            "Linkage rates by region",
            ("Region", "Children linked to birth", "Mothers linked to births"),
            tuple(region_rows),
            note=f"{symbol}: fewer than {min_cell} records linked or unlinked.",
        )
    )
    quality = inputs.table("linkage.quality")
    if quality is None or quality.is_empty():
        blocks.append(
            Paragraph(
                "Linkage quality against known truth: no truth was available for this run, so the "
                "precision and recall of linkage are not known. They can be measured on synthetic "
                "data with `recurrence linkage-eval`, or estimated from a clerical review sample."
            )
        )
    else:
        blocks.append(
            Table(
                "Linkage quality against known truth (synthetic data)",
                ("Link", "Measure", "This run", "Person id only"),
                tuple(
                    (
                        QUALITY_LINKS.get(r["link"], r["link"]),
                        r["measure"].replace("_", " "),
                        _score(r["run"]),
                        _score(r["person_id_baseline"]),
                    )
                    for r in quality.iter_rows(named=True)
                ),
                note=(
                    "Precision: share of links made that are right; recall: share of true "
                    "links made; F1: their harmonic mean. 'Person id only' treats records "
                    "with the same person id, and no others, as the same woman."
                ),
            )
        )
    return blocks


QUALITY_LINKS: dict[str, str] = {
    "mothers": "Mothers across proceedings",
    "child_births": "Children to birth records",
    "mother_births": "Mothers to their births",
}


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _at_least(value: int | None, min_cell: int) -> int | None:
    return None if value is None or value < min_cell else value


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.3f}"
    return "" if value is None else str(value)


def _defaults_comments() -> dict[tuple[str, str], str]:
    """The comment above each key of ``defaults.toml``: the documented meaning of a setting."""
    out: dict[tuple[str, str], str] = {}
    section, comment = "", []
    for line in DEFAULTS_FILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if m := re.fullmatch(r"\[(\w+)\]", stripped):
            section, comment = m.group(1), []
        elif stripped.startswith("#"):
            comment.append(stripped.lstrip("# "))
        elif m := re.match(r"(\w+)\s*=", stripped):
            out[(section, m.group(1))] = " ".join(comment)
            comment = []
        else:
            comment = []
    return out


def _setting_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def methods_section(inputs: ReportInputs) -> Section:
    """Every configurable definition as used in this run, with its documented meaning."""
    comments = _defaults_comments()
    defaults = tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    rows = []
    for section, values in inputs.config.as_dict().items():
        if section in ("paths", "duckdb"):
            continue
        for key, value in values.items():
            default = defaults.get(section, {}).get(key)
            changed = (
                ""
                if _setting_text(default) == _setting_text(value)
                else " (changed from the default)"
            )
            rows.append(
                (
                    f"{section}.{key}",
                    _setting_text(value) + changed,
                    comments.get((section, key), ""),
                )
            )
    cfg = inputs.config
    newborn, infant = age_bands(cfg.rates)
    event_text = (
        "about a child not in her earlier sets"
        if cfg.recurrence.event == "new_child"
        else "any later set"
    )
    return Section(
        "methods",
        "Methods and definitions",
        (
            Bullets(
                (
                    "A mother's first observed set of care proceedings is her index set; she "
                    "returns when a "
                    "later set is issued "
                    f"({event_text}).",
                    "The chance of return is the Kaplan-Meier estimate (Aalen-Johansen where "
                    "mothers' deaths "
                    "are recorded and compete with return), with 95% confidence intervals; "
                    "follow-up ends at "
                    "the extract's end date.",
                    "Hazard ratios come from a Cox proportional-hazards model with time in days; a "
                    "characteristic failing the proportional-hazards test is stratified instead.",
                    f"Newborn: {newborn} old at issue; infant: {infant} old; rates per 10,000 "
                    "live births "
                    f"with {cfg.rates.ci_method} Poisson 95% intervals; {cfg.rates.year_type} "
                    "years.",
                    f"Disclosure control: counts under {cfg.disclosure.min_cell} (zeros "
                    "included) are hidden "
                    f"as {cfg.disclosure.symbol}, with secondary suppression so a hidden count "
                    "cannot be worked "
                    "out from totals; estimates resting on such counts are hidden too.",
                )
            ),
            Table("Settings used in this run", ("Setting", "Value", "Meaning"), tuple(rows)),
        ),
    )


def caveats_section(inputs: ReportInputs) -> Section:
    """What the reader must keep in mind: truncation, linkage error, denominators."""
    cfg = inputs.config
    return Section(
        "caveats",
        "Caveats",
        (
            Bullets(
                (
                    "Left truncation: proceedings before the data begin are unseen, so a "
                    "mother's first "
                    "observed set may not be her first. Mothers whose first set falls in the "
                    "first "
                    f"{cfg.recurrence.lookback_years} year(s) of the data are left out, which "
                    "reduces but does "
                    "not remove the bias; the chance of return is, if anything, understated.",
                    "Linkage error: a woman recorded under two identities who is not linked "
                    "looks like two "
                    "mothers who never returned (understating return); two women wrongly "
                    "joined overstate it. "
                    "The person-id-only estimate kept in the warehouse "
                    "(recurrence_linkage_sensitivity) "
                    "shows how much linkage moves the headline.",
                    "Denominators: births are counted by the mother's area of residence, "
                    "children by the "
                    "local authority that applied, so an area's rate can mix two populations; "
                    "where only "
                    "calendar-year births are supplied, financial-year denominators are "
                    "apportioned.",
                    "Follow-up: mothers with recent first sets are followed for less than the "
                    "full horizon; "
                    "the later points of the curves rest on earlier cohorts only.",
                    "Small numbers: hidden values protect confidentiality; a group whose value "
                    "is hidden is "
                    "not zero.",
                )
            ),
        ),
    )


def provenance_section(inputs: ReportInputs) -> Section:
    """Input files, row counts, configuration, package versions, commit, run id and time."""
    symbol = inputs.config.disclosure.symbol
    info = (
        inputs.tables["audit.extract_info"].row(0, named=True)
        if inputs.tables["audit.extract_info"].height
        else {}
    )
    files = inputs.tables["audit.extract_files"]
    accounting = inputs.tables["audit.ingest_accounting"]
    loaded = dict(zip(accounting["table_name"], accounting["rows_read"], strict=True))
    config_rows = tuple(
        (f"{s}.{k}", _setting_text(v))
        for s, vals in inputs.config.as_dict().items()
        for k, v in vals.items()
    )
    return Section(
        "provenance",
        "Provenance",
        (
            Table(
                "This run",
                ("Item", "Value"),
                (
                    ("Run id", inputs.run_id),
                    ("Report built (UTC)", inputs.created.isoformat()),
                    ("Code commit", inputs.git_commit),
                    ("Extract end date", str(info.get("extract_end_date", ""))),
                    ("Extract source", str(info.get("source", ""))),
                ),
            ),
            Table(
                "Input files",
                ("Table", "File", "Rows read", "SHA-256"),
                tuple(
                    (
                        r["table_name"],
                        r["file_name"] or "(not supplied)",
                        count(loaded.get(r["table_name"]), symbol),
                        r["sha256"] or "",
                    )
                    for r in files.iter_rows(named=True)
                ),
            ),
            Table("Configuration", ("Setting", "Value"), config_rows),
            Table("Software", ("Package", "Version"), tuple(sorted(inputs.packages.items()))),
        ),
    )
