"""The report's closing sections: data and linkage, methods, caveats and provenance.

Rows read, loaded and quarantined per extract file (``audit.ingest_accounting``) are declared
public: they count records of the files as delivered, not people or any group of people. Every
other count here is hidden under ``disclosure.min_cell`` by the report itself and recorded as a
``report.*`` cell of the number registry.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
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


ACCOUNTING = "audit.ingest_accounting"
NOT_SUPPLIED = "(not supplied)"


def _absent_tables(inputs: ReportInputs) -> set[str]:
    """Optional tables the extract does not have (no file in ``audit.extract_files``)."""
    files = inputs.tables.get("audit.extract_files")
    if files is None or "file_name" not in files.columns:
        return set()
    return {r["table_name"] for r in files.iter_rows(named=True) if r["file_name"] is None}


def data_section(inputs: ReportInputs) -> Section:
    """Rows read and quarantined, linkage rates and, where truth exists, linkage quality."""
    cfg, numbers = inputs.config, inputs.numbers
    symbol = numbers.symbol
    min_cell = cfg.disclosure.min_cell
    accounting = inputs.tables[ACCOUNTING]
    absent = _absent_tables(inputs)
    blocks: list[Block] = [
        Table(
            "Rows read from the extract",
            ("Table", "File", "Rows read", "Rows loaded", "Rows quarantined"),
            tuple(
                (
                    numbers.text(r["table_name"]),
                    *(
                        # An optional table the extract does not have: said once, no counts.
                        (NOT_SUPPLIED, "-", "-", "-")
                        if r["table_name"] in absent
                        else (
                            numbers.text(r["source_file"] or NOT_SUPPLIED),
                            *(
                                numbers.cell(
                                    ACCOUNTING, {"table_name": r["table_name"]}, c, r[c], count
                                )
                                for c in ("rows_read", "rows_loaded", "rows_quarantined")
                            ),
                        )
                    ),
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
                        numbers.text(table),
                        numbers.text(r["column_name"] or "(row)"),
                        numbers.text(r["reason"]),
                        numbers.cell(
                            "report.quarantine_reasons",
                            {
                                "table_name": table,
                                "column_name": r["column_name"],
                                "reason": r["reason"],
                            },
                            "rows",
                            shown[key],
                            count,
                        ),
                    )
                )
        blocks.append(
            Table(
                "Rows quarantined, by reason",
                ("Table", "Column", "Reason", "Rows"),
                tuple(rows),
                note=f"{symbol}: fewer than {numbers.constant(min_cell, 'setting')} rows, or "
                "hidden so that such a count "
                "cannot be worked out.",
            )
        )
    blocks += _plausibility_blocks(inputs)
    blocks += _linkage_blocks(inputs)
    return Section("data", "Data and linkage", tuple(blocks))


def _plausibility_blocks(inputs: ReportInputs) -> list[Block]:
    """Legal but implausible values, counted by rule (audit.plausibility); none was dropped."""
    frame = inputs.tables.get("audit.plausibility")
    if frame is None or frame.is_empty():
        return []
    numbers = inputs.numbers
    symbol, min_cell = inputs.config.disclosure.symbol, inputs.config.disclosure.min_cell
    rows = list(frame.iter_rows(named=True))
    # Each count is a separate cell, not part of a total, so only small counts are hidden; a
    # zero (nothing implausible) reveals nobody and is shown.
    shown: dict[str, int | None] = {str(i): 0 for i, r in enumerate(rows) if not r["rows_flagged"]}
    shown |= safe_counts(
        {str(i): r["rows_flagged"] for i, r in enumerate(rows) if r["rows_flagged"]},
        None,
        min_cell=min_cell,
    )
    return [
        Table(
            "Implausible but legal values (kept, not quarantined)",
            ("Table", "Column", "Rule", "Counted", "Number"),
            tuple(
                (
                    numbers.text(r["table_name"]),
                    numbers.text(r["column_name"]),
                    numbers.text(r["limit_text"]),
                    numbers.text(r["counted_unit"]),
                    numbers.cell(
                        "report.plausibility",
                        {
                            "table_name": r["table_name"],
                            "column_name": r["column_name"],
                            "rule": r["limit_text"],
                        },
                        "rows_flagged",
                        shown[str(i)],
                        count,
                    ),
                )
                for i, r in enumerate(rows)
            ),
            note="These values pass the data contract but are unlikely to be true; every such "
            "row stays in the analysis. Limits are the ingest.plausible_* settings. "
            f"{symbol}: fewer than {numbers.constant(min_cell, 'setting')}.",
        )
    ]


LINKAGE_MEASURES = {
    "child_linked_to_birth": "Children in proceedings linked to their birth record",
    "mother_linked_to_births": "Mothers linked to at least one maternity birth record",
    "mothers_with_several_ids": "Mothers whose records carry more than one person id",
}


def _linkage_blocks(inputs: ReportInputs) -> list[Block]:
    cfg, numbers = inputs.config, inputs.numbers
    symbol = numbers.symbol
    min_cell = cfg.disclosure.min_cell
    summary = inputs.tables["linkage.summary"]
    counts = {
        r["measure"]: r["numerator"]
        for r in summary.filter(pl.col("denominator").is_null()).iter_rows(named=True)
    }

    def total(measure: str) -> str:
        value = _at_least(counts.get(measure), min_cell)
        return numbers.cell(
            "report.linkage_totals", {"measure": measure}, "numerator", value, count
        )

    # The mothers' threshold is chosen by the run (linkage.mother_threshold_rule) unless fixed:
    # the value used is the summary's, not the configured one.
    chosen = summary.filter(pl.col("measure") == "mother_match_threshold")
    if chosen.height and chosen["category"][0] == "expected_precision":
        threshold = (
            numbers.cell(
                "report.linkage_threshold",
                {"measure": "mother_match_threshold"},
                "rate",
                chosen["rate"][0],
                lambda v, _: f"{v:.3f}",
            )
            + " for mothers (the lowest at which the model expects "
            + numbers.constant(
                cfg.linkage.mother_precision_target, "setting", lambda v, _: f"{v:g}"
            )
            + " of the pairs it joins to be the same woman), "
            + numbers.constant(cfg.linkage.match_threshold, "setting", lambda v, _: f"{v:g}")
            + " for children to births"
        )
    else:
        threshold = numbers.constant(cfg.linkage.match_threshold, "setting", lambda v, _: f"{v:g}")
    blocks: list[Block] = [
        Paragraph(
            f"Linkage method: {numbers.text(cfg.linkage.method)}, match threshold {threshold}. "
            f"{total('mother_records')} mother records with {total('mother_person_ids')} person "
            f"ids were joined into {total('mother_keys')} mothers."
        )
    ]

    def linked(measure: str, breakdown: str, category: Any, r: dict[str, Any]) -> str:
        return numbers.cell(
            "report.linkage_rates",
            {"measure": measure, "breakdown": breakdown, "category": category},
            "rate",
            safe_rate(r["numerator"], r["denominator"], min_cell=min_cell),
            pct,
        )

    rows = []
    for measure, name in LINKAGE_MEASURES.items():
        r = first_row(summary, measure=measure, breakdown="all")
        if r:
            rows.append((numbers.text(name), linked(measure, "all", None, r)))
    blocks.append(Table("Linkage rates", ("Measure", "Rate"), tuple(rows)))
    by_region = summary.filter(pl.col("breakdown") == "region").sort("category")
    region_rows = []
    for (code,), part in by_region.group_by("category", maintain_order=True):
        cells = {r["measure"]: r for r in part.iter_rows(named=True)}
        region_rows.append(
            (
                numbers.text(REGIONS.get(str(code), str(code))),
                *(
                    linked(m, "region", code, cells[m]) if m in cells else ""
                    for m in ("child_linked_to_birth", "mother_linked_to_births")
                ),
            )
        )
    blocks.append(
        Table(
            "Linkage rates by region",
            ("Region", "Children linked to birth", "Mothers linked to births"),
            tuple(region_rows),
            note=f"{symbol}: fewer than {numbers.constant(min_cell, 'setting')} records linked "
            "or unlinked.",
        )
    )
    quality = inputs.table("linkage.quality")
    if quality is None or quality.is_empty():
        blocks.append(
            Paragraph(
                "Linkage quality against known truth: no truth was available for this run, so the "
                "precision and recall of linkage are not known. They can be measured on synthetic "
                "data with the command 'recurrence linkage-eval', or estimated from a clerical "
                "review sample."
            )
        )
    else:
        blocks.append(
            Table(
                "Linkage quality against known truth (synthetic data)",
                ("Link", "Measure", "This run", "Person id only"),
                tuple(
                    (
                        numbers.text(QUALITY_LINKS.get(r["link"], r["link"])),
                        numbers.text(measure_name(r["measure"])),
                        *(
                            "-"
                            if r[c] is None
                            else numbers.cell(
                                "linkage.quality",
                                {"link": r["link"], "measure": r["measure"]},
                                c,
                                r[c],
                                lambda v, _: f"{v:.3f}",
                            )
                            for c in ("run", "person_id_baseline")
                        ),
                    )
                    for r in quality.iter_rows(named=True)
                ),
                note=(
                    "Precision: share of links made that are right; recall: share of true "
                    "links made; F1 score: their harmonic mean. Pairs of records count each "
                    "pair of records of one woman; per record (B-cubed) averages over records, "
                    "so large groups do not dominate. 'Person id only' treats records "
                    "with the same person id, and no others, as the same woman."
                ),
            )
        )
    return blocks


#: Plain names of the measures of ``linkage.quality`` (see docs/linkage.md).
MEASURE_NAMES: dict[str, str] = {
    "pairwise_precision": "Precision, pairs of records",
    "pairwise_recall": "Recall, pairs of records",
    "pairwise_f1": "F1 score, pairs of records",
    "bcubed_precision": "Precision, per record (B-cubed)",
    "bcubed_recall": "Recall, per record (B-cubed)",
    "bcubed_f1": "F1 score, per record (B-cubed)",
    "share_women_exact": "Share of women whose records were joined exactly right",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1 score",
}


def measure_name(measure: str) -> str:
    """A linkage-quality measure in words (an unknown one with its underscores as spaces)."""
    if measure in MEASURE_NAMES:
        return MEASURE_NAMES[measure]
    words = measure.replace("_", " ")
    return words[:1].upper() + words[1:]


QUALITY_LINKS: dict[str, str] = {
    "mothers": "Mothers across proceedings",
    "child_births": "Children to birth records",
    "mother_births": "Mothers to their births",
}


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


def setting_meaning(section: str, key: str, comments: dict[tuple[str, str], str]) -> str:
    """The documented meaning of a setting, for readers: no backticks, never empty.

    A key sharing the comment of the key above it (the outcome codes) says what it classes.
    """
    text = comments.get((section, key), "").replace("`", "")
    if text:
        return text
    if section == "outcomes":
        return (
            f"How proceedings ending in a {key.replace('_', ' ')} are classed: removal or home "
            "or family (see outcomes.care_order)."
        )
    return "A setting of this run (described in defaults.toml)."


def _setting_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def methods_section(inputs: ReportInputs) -> Section:
    """Every configurable definition as used in this run, with its documented meaning."""
    numbers = inputs.numbers
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
            # Settings are shown as text: chosen before the data are seen, never a measurement.
            rows.append(
                (
                    numbers.text(f"{section}.{key}"),
                    numbers.text(_setting_text(value) + changed),
                    numbers.text(setting_meaning(section, key, comments)),
                )
            )
    cfg = inputs.config
    newborn, infant = numbers.texts(age_bands(cfg.rates))
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
                    f"with {numbers.text(cfg.rates.ci_method)} Poisson 95% intervals; "
                    f"{numbers.text(cfg.rates.year_type)} "
                    "years.",
                    "Disclosure control: counts under "
                    f"{numbers.constant(cfg.disclosure.min_cell, 'setting')} (zeros "
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
    lookback = inputs.numbers.constant(cfg.recurrence.lookback_years, "setting")
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
                    f"{lookback} year(s) of the data are left out, which "
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


def _released_path(section: str, key: str, value: object) -> object:
    """The warehouse a reader can open, not the private build copy the run wrote into."""
    if (section, key) != ("paths", "warehouse") or not value:
        return value
    path = Path(str(value))
    if path.parent.name == f".{path.name}.build":
        return str(path.parent.parent / path.name)
    return value


def provenance_section(inputs: ReportInputs) -> Section:
    """Input files, row counts, configuration, package versions, commit, run id and time."""
    numbers = inputs.numbers
    info = (
        inputs.tables["audit.extract_info"].row(0, named=True)
        if inputs.tables["audit.extract_info"].height
        else {}
    )
    files = inputs.tables["audit.extract_files"]
    accounting = inputs.tables["audit.ingest_accounting"]
    loaded = dict(zip(accounting["table_name"], accounting["rows_read"], strict=True))
    # Free text (the extract's source, file names), ids, checksums, settings and versions
    # are shown as text, never read as numbers.
    # Every other setting is in the Methods section's table: printed once, not twice.
    config_rows = tuple(
        (numbers.text(f"{s}.{k}"), numbers.text(_setting_text(_released_path(s, k, v))))
        for s, vals in inputs.config.as_dict().items()
        if s in ("paths", "duckdb")
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
                    ("Run id", numbers.text(inputs.run_id)),
                    ("Report built (UTC)", numbers.text(inputs.created.isoformat())),
                    ("Code commit", numbers.text(inputs.git_commit)),
                    ("Extract end date", numbers.text(str(info.get("extract_end_date", "")))),
                    ("Extract source", numbers.text(str(info.get("source", "")))),
                ),
            ),
            Table(
                "Input files",
                ("Table", "File", "Rows read", numbers.text("SHA-256")),
                tuple(
                    (
                        numbers.text(r["table_name"]),
                        numbers.text(r["file_name"] or NOT_SUPPLIED),
                        # A table not supplied has no rows read, not zero rows: as in Data.
                        "-"
                        if r["file_name"] is None
                        else numbers.cell(
                            ACCOUNTING,
                            {"table_name": r["table_name"]},
                            "rows_read",
                            loaded.get(r["table_name"]),
                            count,
                        ),
                        numbers.text(r["sha256"] or "-"),
                    )
                    for r in files.iter_rows(named=True)
                ),
            ),
            Table(
                "Paths and resources",
                ("Setting", "Value"),
                config_rows,
                note="Every other setting of this run, with its meaning, is in the table "
                "'Settings used in this run' under Methods and definitions.",
            ),
            Table(
                "Software",
                ("Package", "Version"),
                tuple(
                    (numbers.text(k), numbers.text(v)) for k, v in sorted(inputs.packages.items())
                ),
            ),
        ),
    )
