"""docs/data_contract.md must describe exactly the contract in recurrence.contract."""

from __future__ import annotations

from recurrence.contract import REGIONS, TABLES
from recurrence.ingest.rules import SQL_TYPES
from recurrence.paths import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "data_contract.md"
KINDS = {
    "string": "text",
    "code": "code (text)",
    "date": "date `YYYY-MM-DD`",
    "year_month": "year-month `YYYY-MM`",
    "boolean": "boolean",
    "integer": "whole number",
}


def column_tables() -> str:
    """The column tables of the doc, as generated from the contract."""
    lines = []
    for t in TABLES:
        lines.append(f"### `{t.name}` — {t.meaning}\n")
        need = "required" if t.required else "optional"
        lines.append(
            f"File `{t.name}.csv` or `{t.name}.parquet`; {need}. "
            f"Key: {' + '.join('`' + k + '`' for k in t.key)} (unique).\n"
        )
        lines.append("| column | type | required | meaning | allowed values |")
        lines.append("|---|---|---|---|---|")
        for c in t.columns:
            allowed = ", ".join(f"`{a}`" for a in c.allowed) if c.allowed else ""
            lines.append(
                f"| `{c.name}` | {KINDS[c.kind]} → {SQL_TYPES[c.kind].upper()} | "
                f"{'yes' if c.required else 'no'} | {c.meaning} | {allowed} |"
            )
        lines.append("")
    return "\n".join(lines)


def test_doc_column_tables_match_contract():
    assert column_tables() in DOC.read_text(encoding="utf-8")


def test_doc_lists_every_region():
    text = DOC.read_text(encoding="utf-8")
    for code, name in REGIONS.items():
        assert f"| `{code}` | {name} |" in text


def test_doc_names_every_rule():
    text = DOC.read_text(encoding="utf-8")
    for rule in (
        "structure",
        "required",
        "invalid_date",
        "invalid_year_month",
        "invalid_boolean",
        "invalid_integer",
        "negative",
        "not_allowed",
        "after_extract_end",
        "before_earliest",
        "final_before_issue",
        "duplicate_row",
        "duplicate_key",
        "unknown_case",
        "control_character",
        "impossible_year",
        "zero_count",
    ):
        assert f"| `{rule}` |" in text


def test_doc_names_every_plausibility_rule_and_setting():
    from recurrence.config import load_config

    text = DOC.read_text(encoding="utf-8")
    ingest = load_config().ingest
    for rule in (
        "mother_age_under_min",
        "mother_age_over_max",
        "child_born_after_issue",
        "long_before_end",
        "mother_in_many_cases",
    ):
        assert f"| `{rule}` |" in text
    for setting in (
        "plausible_mother_age_min",
        "plausible_mother_age_max",
        "plausible_years_before_end",
        "plausible_cases_per_mother",
    ):
        assert f"`{setting}` ({getattr(ingest, setting)})" in text
    assert f"(default {ingest.max_end_date_gap_days}," in text
