"""The output-checking pack: what a trusted research environment's output checkers ask for.

Every released folder (``reports/<run id>/``) holds ``output_checking.md``, written by the run
before its last blocking checks read the folder back. For each file it states what the file
contains, the disclosure rules applied, the threshold and rounding, the cells hidden by primary
and by secondary suppression, and the verdict of the intruder test; then what the run checked
over the whole folder. It holds counts of cells and groups, never a count of people from the
data, an identifier or a date of a person (see ``docs/secure_environments.md``).

Suppression counts are recorded when each table is published (:func:`record_suppression`, table
``audit.disclosure_control``) or, for the recurrence estimates, worked out from the published
table and the family's own rules (:func:`estimate_suppression`). The intruder verdicts are
computed here by the same functions the blocking checks use.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from recurrence.config import Config
from recurrence.warehouse import table_exists

PACK_NAME = "output_checking.md"
AUDIT_TABLE = "audit.disclosure_control"


@dataclass(frozen=True)
class Described:
    """What a released file holds and which published table it shows."""

    pattern: str
    contains: str
    table: str | None


#: Every kind of file a run releases. A file matching none is listed as "not described".
FILES: tuple[Described, ...] = (
    Described(
        r"newborn_rates\.csv",
        "Newborns and infants in care proceedings per 10,000 live births, by area (England and "
        "Wales, countries, regions, local authorities), year and age band: children (count), "
        "live births (published population statistics), rate and 95% interval.",
        "published.newborn_rates",
    ),
    Described(
        r"newborn_rates\.xlsx",
        "The newborn and infant rates as an accessible spreadsheet (cover, contents, notes, one "
        "table per sheet); the same cells as newborn_rates.csv.",
        "published.newborn_rates",
    ),
    Described(
        r"newborn_rates_(by_region|funnel)\.(png|svg)",
        "A figure of the newborn rates (rates over time by region; funnel plot of local "
        "authorities), drawn from visible cells of the published table only.",
        "published.newborn_rates",
    ),
    Described(
        r"newborn_precision\.csv",
        "For children dated only to a week of birth: the lower (surely), stated and upper "
        "(possibly) counts of newborns and infants, England and Wales, over the years of the "
        "rates.",
        "published.newborn_precision",
    ),
    Described(
        r"recurrence_estimates\.csv",
        "Chance that a mother returns to court with new care proceedings, by group and horizon: "
        "estimate, 95% interval, mothers at start, mothers at risk and returns.",
        "published.recurrence_estimates",
    ),
    Described(
        r"cox_hazard_ratios\.csv",
        "Hazard ratios of return by covariate level, with 95% intervals and the mothers and "
        "returns behind each level.",
        "published.cox_hazard_ratios",
    ),
    Described(
        r"cox_zph_bins\.csv",
        "Binned scaled Schoenfeld residuals of the Cox model (proportional-hazards check).",
        "published.cox_zph_bins",
    ),
    Described(
        r"outcomes\.csv",
        "How care proceedings ended (removal, home or family, ongoing, not recorded) and "
        "whether within the target weeks, by area, year and group: counts, proportions and "
        "intervals.",
        "published.outcomes",
    ),
    Described(
        r"la_recurrence\.csv",
        "Chance that a mother returns to court within 5 and 7 years by local authority (the "
        "authority of her first set of proceedings), with 95% intervals, mothers at start and "
        "returns, and the authority's position against funnel limits around England and Wales.",
        "published.la_recurrence",
    ),
    Described(
        r"la_recurrence_funnel\.(png|svg)",
        "A funnel plot of the published authority estimates against England and Wales, drawn "
        "from visible cells of the published table only.",
        "published.la_recurrence",
    ),
    Described(
        r"newborn_timing\.csv",
        "Newborns in care proceedings by days from birth to issue (before birth, 0-6 days, 7 "
        "days or more), by area and year: counts and shares.",
        "published.newborn_timing",
    ),
    Described(
        r"profiles/[^/]+\.(html|pdf)",
        "A profile of one local authority, from the published tables above only (its figures "
        "beside its region and England and Wales, or a sentence saying why one is hidden).",
        None,
    ),
    Described(
        r"report\.(html|pdf)",
        "The run report: every number in it is a cell of a published table above, or a "
        "constant of the method (audited by the blocking check no_hidden_value_in_report).",
        None,
    ),
    Described(
        re.escape(PACK_NAME),
        "This output-checking pack.",
        None,
    ),
)

#: The disclosure rules of each published table, in words.
RULES: dict[str, str] = {
    "published.newborn_rates": (
        "A count of children under the threshold is hidden, zeros included (primary). "
        "Secondary suppression keeps every additive relation safe (England and Wales = England "
        "+ Wales; England = its regions; a region = its authorities + children whose authority "
        "is not recorded, treated as known), verified by linear programming. The rate and "
        "interval of a hidden count are hidden. Live births are published statistics, not "
        "suppressed. With a rounding base, visible counts are rounded and their rates computed "
        "from the rounded counts."
    ),
    "published.newborn_precision": (
        "A count under the threshold is hidden, zeros included (primary); a bound whose "
        "difference from the stated count is below the threshold is hidden too (secondary), "
        "because that difference is a count of children."
    ),
    "published.recurrence_estimates": (
        "The table is protected as one family: a group is hidden at every horizon when its "
        "mothers at start, mothers at risk, returns or any interval count of returns is under "
        "the threshold (primary); further groups of a covariate are hidden until the hidden "
        "groups together hide every quantity (secondary); horizons no mother could reach are "
        "marked [x] (they cannot exist). The intruder test then tries to narrow every hidden "
        "cell by linear programming."
    ),
    "published.cox_hazard_ratios": (
        "A covariate level with fewer mothers or returns than the threshold is hidden "
        "(primary; no secondary suppression is needed: ratios do not add up). Ratios are "
        "rounded to a few significant figures."
    ),
    "published.cox_zph_bins": (
        "Residuals are released only as bins of at least the threshold's number of returns, "
        "so nothing is hidden."
    ),
    "published.la_recurrence": (
        "Each region is one family: its published row is the total of its authorities (and of "
        "its mothers with no authority recorded). An authority is hidden when its mothers at "
        "start or returns are under the threshold (primary); further authorities are hidden "
        "until no hidden one can be worked out from the region (secondary); every authority "
        "of a region hidden in the national table is hidden."
    ),
    "published.newborn_timing": (
        "A count under the threshold is hidden, zeros included (primary); the newborns total "
        "of a row is hidden where the rates table hides it, and further counts are hidden "
        "until no hidden one can be worked out from its row or the area totals (verified by "
        "linear programming)."
    ),
    "published.outcomes": (
        "A count under the threshold is hidden, zeros too except zeros of ongoing and not "
        "recorded (primary), with secondary suppression verified by linear programming; "
        "proportions and intervals of a hidden numerator or denominator are hidden."
    ),
}


def record_suppression(
    con: duckdb.DuckDBPyConnection, table: str, *, primary: int, secondary: int, unit: str
) -> None:
    """Record how many cells of a published table disclosure control hid, for the pack.

    Parameters
    ----------
    con
        Warehouse connection.
    table
        The published table, ``schema.name``.
    primary, secondary
        Cells (or groups) hidden by primary and by secondary suppression.
    unit
        What was counted: ``"cells"``, ``"counts"``, ``"groups"``.
    """
    con.execute(
        f"create table if not exists {AUDIT_TABLE} (table_name varchar, primary_hidden bigint, "
        "secondary_hidden bigint, unit varchar)"
    )
    con.execute(f"delete from {AUDIT_TABLE} where table_name = $t", {"t": table})
    con.execute(
        f"insert into {AUDIT_TABLE} values ($t, $p, $s, $u)",
        {"t": table, "p": primary, "s": secondary, "u": unit},
    )


def estimate_suppression(
    con: duckdb.DuckDBPyConnection, *, min_cell: int
) -> tuple[int, int, int] | None:
    """Groups of the recurrence estimates hidden by primary and by secondary suppression.

    The published table says which groups are hidden; rule 2 of
    :mod:`recurrence.survival.disclosure` applied to the unsuppressed table says which of them
    were hidden for their own counts. Returns (primary groups, secondary groups, rows hidden),
    or None when the tables are absent.
    """
    from recurrence.survival.cohort import extract_end_date
    from recurrence.survival.disclosure import FamilyCounts, primary_groups

    if not (
        table_exists(con, "analysis.recurrence_estimates")
        and table_exists(con, "published.recurrence_estimates")
    ):
        return None
    published = con.sql("select * from published.recurrence_estimates").pl()
    analysis = con.sql("select * from analysis.recurrence_estimates").pl()
    if published.is_empty():
        return 0, 0, 0
    method = analysis["method"][0]
    counts = FamilyCounts.from_table(
        analysis.filter(pl.col("method") == method), extract_end_date(con)
    )
    hidden = {
        (r["group_variable"], r["group_value"])
        for r in published.filter(pl.col("suppressed")).iter_rows(named=True)
    }
    primary = primary_groups(counts, min_cell=min_cell) & hidden
    return len(primary), len(hidden - primary), int(published["suppressed"].sum())


def _intruder_verdicts(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, str]:
    """The intruder test's verdict per published table, where one applies."""
    from recurrence.rates.audit import derivable_hidden_cells
    from recurrence.survival.cohort import extract_end_date
    from recurrence.survival.stage import intruder_findings

    out: dict[str, str] = {}
    if table_exists(con, "published.recurrence_estimates"):
        if config.disclosure.rounding_base > 1:
            out["published.recurrence_estimates"] = (
                "not attacked: counts are rounded, so the partitions no longer add up exactly"
            )
        else:
            found = intruder_findings(
                con.sql("select * from published.recurrence_estimates").pl(),
                min_cell=config.disclosure.min_cell,
                extract_end=extract_end_date(con),
            )
            out["published.recurrence_estimates"] = (
                "passed: no hidden cell can be narrowed below the threshold"
                if not found
                else f"FAILED: {len(found)} hidden cell(s) can be narrowed below the threshold"
            )
    if table_exists(con, "published.newborn_rates") and table_exists(con, "analysis.newborn_rates"):
        found = derivable_hidden_cells(
            con.sql("select * from analysis.newborn_rates").pl(),
            con.sql("select * from published.newborn_rates").pl(),
        )
        out["published.newborn_rates"] = (
            "passed: no hidden count can be worked out from the published cells and totals"
            if not found
            else f"FAILED: {len(found)} hidden count(s) can be worked out"
        )
    for table in ("published.la_recurrence", "published.newborn_timing"):
        if table_exists(con, table):
            out[table] = _declared_verdict(con, config, table)
    return out


def _declared_verdict(con: duckdb.DuckDBPyConnection, config: Config, table: str) -> str:
    """Run the table's declared disclosure checks (the blocking ones of the run) for a verdict."""
    from recurrence import catalog
    from recurrence.checks import CheckInputs, checks_for

    checks = [c for c in checks_for(catalog.dataset(table)) if c.kind == "disclosure"]
    failed = [c.name for c in checks if not c.measure(CheckInputs(con, config, "")).passed]
    names = ", ".join(c.name for c in checks)
    return f"FAILED: {', '.join(failed)}" if failed else f"passed ({names})"


#: Tables with an intruder test of their own (a linear programme over the published cells).
ATTACKED = (
    "published.recurrence_estimates",
    "published.newborn_rates",
    "published.la_recurrence",
    "published.newborn_timing",
)


def _verdict(table: str, verdicts: dict[str, str]) -> str:
    if table in verdicts:
        return verdicts[table]
    if table in ATTACKED:
        return "not run: the table or its unsuppressed counterpart is not in the warehouse"
    return "no separate attack: the rules above are verified when the table is published"


def _hidden_cells(frame: pl.DataFrame) -> int:
    """Rows of a published table with a hidden value (its ``suppressed`` flag)."""
    return int(frame["suppressed"].sum()) if "suppressed" in frame.columns else 0


def write_checking_pack(
    con: duckdb.DuckDBPyConnection, folder: Path, config: Config, *, run_id: str
) -> Path:
    """Write ``output_checking.md`` into a run's report folder, describing every file in it.

    Parameters
    ----------
    con
        The run's warehouse.
    folder
        The run's report folder (the staging folder, before release).
    config
        The run's configuration (``disclosure``).
    run_id
        The run id (names the folder once released).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    d = config.disclosure
    rounding = (
        f"counts rounded to the nearest {d.rounding_base}"
        if d.rounding_base > 1
        else "no rounding of counts"
    )
    recorded: dict[str, tuple[int, int, str]] = {}
    if table_exists(con, AUDIT_TABLE):
        for table, primary, secondary, unit in con.sql(f"select * from {AUDIT_TABLE}").fetchall():
            recorded[table] = (int(primary), int(secondary), str(unit))
    estimates = estimate_suppression(con, min_cell=d.min_cell)
    if estimates is not None:
        recorded["published.recurrence_estimates"] = (estimates[0], estimates[1], "groups")
    for table in (
        "published.cox_hazard_ratios",
        "published.cox_zph_bins",
        "published.la_recurrence",
        "published.newborn_timing",
    ):
        if table_exists(con, table):
            recorded[table] = (_hidden_cells(con.sql(f"select * from {table}").pl()), 0, "rows")
    verdicts = _intruder_verdicts(con, config)

    files = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != PACK_NAME
    )
    lines = [
        "# Output-checking pack",
        "",
        f"Run `{run_id}`, written {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by recurrence.",
        "",
        "## Disclosure settings",
        "",
        f"- Threshold: counts under **{d.min_cell}** are hidden (`disclosure.min_cell`).",
        f"- Rounding: {rounding} (`disclosure.rounding_base`).",
        f"- Symbol: `{d.symbol}` marks a hidden value; `[x]` a value that cannot exist.",
        "- Denominators (live births) are published population statistics and are not hidden.",
        "",
        "## Files",
        "",
    ]
    undescribed = []
    for name in [*files, PACK_NAME]:
        match = next((f for f in FILES if re.fullmatch(f.pattern, name)), None)
        lines.append(f"### `{name}`")
        lines.append("")
        if match is None:
            undescribed.append(name)
            lines += ["**Not described by recurrence**: ask the analyst what it holds.", ""]
            continue
        lines.append(f"- Contains: {match.contains}")
        if match.table is not None:
            lines.append(f"- From: `{match.table}` (after disclosure control).")
            lines.append(f"- Rules: {RULES[match.table]}")
            lines.append(f"- Threshold {d.min_cell}; {rounding}.")
            if match.table in recorded:
                primary, secondary, unit = recorded[match.table]
                lines.append(
                    f"- Hidden by primary suppression: {primary} {unit}; "
                    f"by secondary suppression: {secondary} {unit}."
                )
            else:
                lines.append("- Hidden cells: not recorded for this run.")
            lines.append(f"- Intruder test: {_verdict(match.table, verdicts)}.")
        lines.append("")
    lines += [
        "## Checks over the whole folder",
        "",
        "The folder is released only after these blocking checks passed on it, reading every "
        "file back as it is released:",
        "",
        "- `whole_folder_passes_disclosure`: every count column of every CSV file and "
        "spreadsheet shows the symbol or a value of at least the threshold;",
        "- `csv_cells_are_released_cells`: every cell of the CSV files is the published table's "
        "cell of the same row and column;",
        "- `no_identifier_in_any_file`: no person, case or birth id and no name hash of the "
        "input appears in any file (this one included);",
        "- `no_hidden_value_in_report`: no hidden cell appears in the report.",
        "",
    ]
    if undescribed:
        lines += [f"Files not described above: {len(undescribed)}.", ""]
    path = folder / PACK_NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
