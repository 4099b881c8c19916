"""Per-column validation rules, built as DuckDB SQL from the contract in :mod:`recurrence.contract`.

Only identifiers from the contract are written into SQL text; every value (dates from the
configuration and ``extract.toml``) is bound as a ``$parameter``. Reasons never quote an
identifier or a date value: only column names, row numbers and, for code columns, the code found.
"""

from __future__ import annotations

from dataclasses import dataclass

from recurrence.contract import Column, Table
from recurrence.ingest.read import quote_ident

BOOLEAN_TRUE = ("true", "1", "t", "yes")
BOOLEAN_FALSE = ("false", "0", "f", "no")
# Published live-birth denominators before this year are not plausible for any extract.
EARLIEST_LIVE_BIRTHS_YEAR = 1900
# Dates that must not lie after the extract end date.
DATE_SANITY_COLUMNS = ("issue_date", "final_hearing_date", "birth_date", "baby_birth_date")
SQL_TYPES = {
    "string": "varchar",
    "code": "varchar",
    "year_month": "varchar",
    "date": "date",
    "boolean": "boolean",
    "integer": "bigint",
}
EXPECTED = {
    "date": "a date written YYYY-MM-DD, such as 2016-04-30",
    "year_month": "a year and month written YYYY-MM, such as 1985-07",
    "boolean": "true or false (or 1/0, t/f, yes/no)",
    "integer": "a whole number written in digits, such as 2016",
}


@dataclass(frozen=True)
class Rule:
    """One validation rule: rows of the normalised table where ``condition`` holds fail it."""

    name: str
    column: str | None
    condition: str
    reason: str


def lit(text: str) -> str:
    """A SQL string literal for text that comes from the contract (never from data)."""
    return "'" + text.replace("'", "''") + "'"


def v(column: str) -> str:
    """Name of the normalised text of ``column`` in the normalised table."""
    return quote_ident(f"v_{column}")


def t(column: str) -> str:
    """Name of the typed value of ``column`` in the normalised table."""
    return quote_ident(f"t_{column}")


def o(column: str) -> str:
    """Name of the trimmed, original-case text of a code column."""
    return quote_ident(f"o_{column}")


def code_case(column: Column) -> str:
    """``"upper"`` or ``"lower"``: the case a code column is folded to before checking."""
    if column.allowed and all(a == a.lower() for a in column.allowed):
        return "lower"
    return "upper"


#: Code points of the characters in the regular expression class ``\s`` of DuckDB's RE2 (tab,
#: line feed, form feed, carriage return, space).
_WHITE_SPACE_CODES = (9, 10, 12, 13, 32)


def _trimmed(name: str) -> str:
    """SQL for a raw column with white space trimmed and empty text as null.

    The regular expression runs only on values that begin or end with white space or another
    control character: checking the first and last character is several times cheaper, and on
    11 million births most values need no trimming. (``trim(x, characters)`` was slower still
    than the expression.) The first character is compared as a number, not with
    ``ascii(x) in (...)``: DuckDB turns an IN list into a join, one for each column, and every
    query on the normalised values was several times slower.
    """
    col = quote_ident(name)
    ends = " or ".join(f"ends_with({col}, chr({c}))" for c in _WHITE_SPACE_CODES)
    return (
        f"nullif(case when ascii({col}) <= 32 or {ends} "
        f"then regexp_replace({col}, '^\\s+|\\s+$', '', 'g') else {col} end, '')"
    )


def normalise_expr(column: Column, raw_columns: set[str]) -> tuple[str, str | None]:
    """SQL for the normalised text of a column and, for code columns, its trimmed original.

    White space is trimmed and an empty value becomes null; codes are folded to the contract's
    case; postcode districts are upper-cased with inner spaces removed.
    """
    if column.name not in raw_columns:
        return "null::varchar", "null::varchar" if column.kind == "code" else None
    trimmed = _trimmed(column.name)
    if column.kind != "code":
        return trimmed, None
    if column.name.endswith("postcode_district"):
        return f"upper(replace({trimmed}, ' ', ''))", trimmed
    return f"{code_case(column)}({trimmed})", trimmed


def typed_expr(column: Column) -> str | None:
    """SQL turning the normalised text into the column's type (null when it does not parse)."""
    value = v(column.name)
    if column.kind == "date":
        return (
            f"case when regexp_full_match({value}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
            f"and {value}[1:4] <> '0000' then try_cast({value} as date) end"
        )
    if column.kind == "year_month":
        return (
            f"case when regexp_full_match({value}, '[0-9]{{4}}-(0[1-9]|1[0-2])') "
            f"and {value}[1:4] <> '0000' then {value} end"
        )
    if column.kind == "boolean":
        true = ", ".join(lit(x) for x in BOOLEAN_TRUE)
        false = ", ".join(lit(x) for x in BOOLEAN_FALSE)
        return (
            f"case when list_contains([{true}], lower({value})) then true "
            f"when list_contains([{false}], lower({value})) then false end"
        )
    if column.kind == "integer":
        return (
            f"case when regexp_full_match({value}, '[+-]?[0-9]+') "
            f"then try_cast({value} as bigint) end"
        )
    return None


def column_rules(table: Table) -> list[Rule]:
    """The row-level rules of one table that look at one row at a time.

    Lists of values are tested with ``list_contains``, never ``x in (...)``: DuckDB turns an IN
    list into a join, which was many times slower on millions of rows (3.6 s against 0.4 s for
    174 codes) and lost the row order of the table written from it.

    Conditions refer to the normalised table (``v_``, ``t_``, ``o_`` columns) and to the bound
    parameters ``$extract_end_date``, ``$extract_end_month``, ``$earliest_issue_date`` and
    ``$earliest_birth_year_month``.
    """
    rules: list[Rule] = []
    names = {c.name for c in table.columns}
    for column in table.columns:
        name = column.name
        value, typed = v(name), t(name)
        if column.required:
            rules.append(
                Rule("required", name, f"{value} is null", f"{name} is missing: it is required")
            )
        if column.kind in ("string", "code"):
            # Typed columns need no such rule: a control character makes them fail to parse.
            rules.append(
                Rule(
                    "control_character",
                    name,
                    f"regexp_matches({value}, '[\\x00-\\x1f\\x7f]')",
                    f"{name} holds a control character (such as a NUL byte, a tab or a line "
                    "break), which no value of the contract has",
                )
            )
        if column.kind == "date":
            rules.append(
                Rule(
                    "invalid_date",
                    name,
                    f"{value} is not null and {typed} is null",
                    f"{name} is not a valid date: expected YYYY-MM-DD, such as 2016-04-30, "
                    "and a real calendar date",
                )
            )
            if name in DATE_SANITY_COLUMNS:
                rules.append(
                    Rule(
                        "after_extract_end",
                        name,
                        f"{typed} > $extract_end_date",
                        f"{name} is after the extract end date (extract_end_date in extract.toml)",
                    )
                )
        elif column.kind == "year_month":
            rules.append(
                Rule(
                    "invalid_year_month",
                    name,
                    f"{value} is not null and {typed} is null",
                    f"{name} is not a valid year and month: expected YYYY-MM with a month from "
                    "01 to 12, such as 1985-07",
                )
            )
            rules.append(
                Rule(
                    "after_extract_end",
                    name,
                    f"{typed} > $extract_end_month",
                    f"{name} is after the month of the extract end date (extract_end_date in "
                    "extract.toml)",
                )
            )
            rules.append(
                Rule(
                    "before_earliest",
                    name,
                    f"{typed} < $earliest_birth_year_month",
                    f"{name} is before the earliest plausible year and month "
                    "(ingest.earliest_birth_year_month in the configuration)",
                )
            )
        elif column.kind == "boolean":
            rules.append(
                Rule(
                    "invalid_boolean",
                    name,
                    f"{value} is not null and {typed} is null",
                    f"{name} is not true or false: expected one of true, false, 1, 0, t, f, "
                    "yes, no",
                )
            )
        elif column.kind == "integer":
            rules.append(
                Rule(
                    "invalid_integer",
                    name,
                    f"{value} is not null and {typed} is null",
                    f"{name} is not a whole number: expected digits only, such as 2016",
                )
            )
            rules.append(
                Rule(
                    "negative",
                    name,
                    f"{typed} < 0",
                    f"{name} is negative: expected a whole number of 0 or more",
                )
            )
        elif column.kind == "code" and column.allowed:
            allowed = ", ".join(lit(a) for a in column.allowed)
            # The code found is echoed (codes are not identifiers), unless it could be an
            # identifier or a date put in the wrong column: more than 5 characters longer than
            # the longest allowed code, a hex hash, or holding more than three digits in a shape
            # that no allowed code has.
            shapes = ", ".join(lit(x) for x in sorted({shape_of(a) for a in column.allowed}))
            shape = (
                f"regexp_replace(regexp_replace({o(name)}, '[0-9]', '9', 'g'), "
                "'[A-Za-z]', 'A', 'g')"
            )
            longest = min(40, max(len(a) for a in column.allowed) + 5)
            safe = (
                f"length({o(name)}) <= {longest} "
                f"and not regexp_full_match({o(name)}, '[0-9A-Fa-f]{{16,}}') "
                f"and (length(regexp_replace({o(name)}, '[^0-9]', '', 'g')) <= 3 "
                f"or list_contains([{shapes}], {shape}))"
            )
            quote = lit("'")
            shown = (
                f"case when {safe} then {lit(name + ' ')} || {quote} || {o(name)} || {quote} "
                f"else {lit(name + ' holds a value that')} end"
            )
            rules.append(
                Rule(
                    "not_allowed",
                    name,
                    f"{value} is not null and not list_contains([{allowed}], {value})",
                    f"{shown} || {lit(' is not one of ' + ', '.join(column.allowed))}",
                )
            )
    if {"issue_date", "final_hearing_date"} <= names:
        rules.append(
            Rule(
                "final_before_issue",
                "final_hearing_date",
                f"{t('final_hearing_date')} < {t('issue_date')}",
                "final_hearing_date is before issue_date",
            )
        )
    if table.name == "live_births":
        rules.append(
            Rule(
                "impossible_year",
                "year",
                f"{t('year')} < {EARLIEST_LIVE_BIRTHS_YEAR} or {t('year')} > $extract_end_year",
                f"year is not a calendar year from {EARLIEST_LIVE_BIRTHS_YEAR} to the year of the "
                "extract end date (extract_end_date in extract.toml)",
            )
        )
        rules.append(
            Rule(
                "zero_count",
                "live_births",
                f"{t('live_births')} = 0",
                "live_births is 0: a region has live births every year, and a rate cannot be "
                "divided by 0",
            )
        )
    if "issue_date" in names:
        rules.append(
            Rule(
                "before_earliest",
                "issue_date",
                f"{t('issue_date')} < $earliest_issue_date",
                "issue_date is before the earliest plausible issue date "
                "(ingest.earliest_issue_date in the configuration)",
            )
        )
    return rules


def shape_of(code: str) -> str:
    """A code with its digits replaced by 9 and its letters by A."""
    return "".join("9" if ch.isdigit() else "A" if ch.isalpha() else ch for ch in code)


def reason_sql(rule: Rule) -> str:
    """SQL for a rule's reason: a literal, or an expression for rules that echo a code."""
    if rule.name == "not_allowed":
        return rule.reason
    return lit(rule.reason)


def describe_shape(kind: str, shape: str) -> str:
    """Name the format of a value whose digits were replaced by 9 and letters by A."""
    import re

    known = [
        (r"9{1,2}/9{1,2}/9{4}", "DD/MM/YYYY (or MM/DD/YYYY)"),
        (r"9{1,2}-9{1,2}-9{4}", "DD-MM-YYYY"),
        (r"9{1,2}\.9{1,2}\.9{4}", "DD.MM.YYYY"),
        (r"9{1,2}/9{1,2}/9{2}", "DD/MM/YY"),
        (r"9{4}/9{1,2}/9{1,2}", "YYYY/MM/DD"),
        (r"9{8}", "YYYYMMDD, without separators"),
        (r"9{4}-9{1,2}-9{1,2}[T ].*", "a date with a time of day"),
        (r"9{1,2}[ -]A{3,}[ -]9{2,4}", "a day, a month name and a year (such as 14-Oct-1991)"),
        (r"9{1,2}/9{4}", "MM/YYYY"),
        (r"9{4}/9{1,2}", "YYYY/MM"),
        (r"9{4}-9", "YYYY-M, without a leading zero in the month"),
        (r"9{4}-99-99", "YYYY-MM-DD, a full date"),
        (r"9{4}-9-9{1,2}|9{4}-9{1,2}-9", "YYYY-M-D, without leading zeros"),
        (r"[+-]?9+\.9+", "numbers with a decimal point"),
    ]
    for pattern, name in known:
        if re.fullmatch(pattern, shape):
            return name
    return f"the shape {shape[:40]!r} (9 stands for a digit, A for a letter)"
