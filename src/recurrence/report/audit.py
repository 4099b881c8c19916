"""Check that no value hidden by disclosure control appears in a rendered report.

:func:`hidden_values` compares each unsuppressed analysis table with its published version and
writes every hidden value the way the report would write it (the formatters of
:mod:`recurrence.report.content`); :func:`leaked_values` searches a report's text for them as
whole numbers. Limits, by design: a hidden count under 10 cannot be searched for as text (a
single digit appears legitimately everywhere) and is instead kept out structurally (the report
reads only published tables, where hidden values are null); a hidden value whose text equals a
published value's text is not searched for, because its presence would prove nothing.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from xml.etree import ElementTree

import duckdb
import polars as pl

from recurrence.report.content import count, p_value, pct, rate, ratio

_SYMBOL = "\x00"  # never equal to a formatted number
#: (analysis table, published table, key columns, value columns with their formatter)
PAIRS = (
    (
        "analysis.recurrence_estimates",
        "published.recurrence_estimates",
        ("group_variable", "group_value", "horizon_years", "method"),
        {
            "estimate": pct,
            "ci_lower": pct,
            "ci_upper": pct,
            "n_at_start": count,
            "n_at_risk": count,
            "n_events": count,
        },
    ),
    (
        "analysis.cox_hazard_ratios",
        "published.cox_hazard_ratios",
        ("variable", "level"),
        {"hazard_ratio": ratio, "ci_lower": ratio, "ci_upper": ratio, "p_value": p_value},
    ),
    (
        "analysis.newborn_rates",
        "published.newborn_rates",
        ("geography_level", "geography_code", "year", "age_band"),
        {"children": count, "rate_per_10000": rate, "ci_lower": rate, "ci_upper": rate},
    ),
    # Counts only: the outcomes table hides hundreds of proportions, and one-decimal percentages
    # from 0 to 100 would match percentages shown elsewhere in the report by coincidence. The
    # section reads published.outcomes only, so a hidden proportion has no way in.
    (
        "analysis.outcome_proportions",
        "published.outcomes",
        ("geography_level", "geography_code", "year", "group_variable", "group", "measure"),
        {"numerator": count, "denominator": count},
    ),
)
#: (published table, rows, value columns with their formatter): values the report shows whose
#: hidden counterparts are not searched for (the outcome proportions above). Their text still
#: counts as shown, so a hidden value written the same way is no evidence of a leak: nationally
#: at 10% scale a hidden 7.4% recurrence estimate matched the 7.4% of sets ended within 26 weeks.
SHOWN_ONLY = (
    (
        "published.outcomes",
        "measure not like 'weeks%'",
        {"value": pct, "ci_lower": pct, "ci_upper": pct},
    ),
)
#: Counts below this are not searched for as text (see the module notes).
SMALLEST_SEARCHED_COUNT = 10


def _tokens(value: object, fmt) -> set[str]:
    if value is None:
        return set()
    if fmt is count:
        if int(value) < SMALLEST_SEARCHED_COUNT:
            return set()
        return {count(int(value), _SYMBOL), str(int(value))}
    if fmt is p_value and float(value) < 0.001:
        return set()
    return {fmt(float(value), _SYMBOL)}


def hidden_tokens(
    analysis: pl.DataFrame, published: pl.DataFrame, keys, formats
) -> tuple[set[str], set[str]]:
    """Text of the hidden values of one table, and text of its published values.

    Parameters
    ----------
    analysis, published
        The unsuppressed table and its released version (hidden values null).
    keys
        Columns identifying a row in both.
    formats
        Value column to the formatter the report uses for it.

    Returns
    -------
    tuple of set
        (hidden, published) formatted values.
    """
    joined = analysis.join(published, on=list(keys), how="inner", suffix="__pub")
    hidden: set[str] = set()
    shown: set[str] = set()
    for column, fmt in formats.items():
        for raw, pub in zip(
            joined[column].to_list(), joined[f"{column}__pub"].to_list(), strict=True
        ):
            if pub is None:
                hidden |= _tokens(raw, fmt)
            else:
                shown |= _tokens(pub, fmt)
    return hidden, shown


def hidden_values(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every hidden value of the run, as the report would write it, less published look-alikes.

    Parameters
    ----------
    con
        The run's warehouse.

    Returns
    -------
    set of str
        Text that must not appear in the report.
    """
    hidden: set[str] = set()
    shown: set[str] = set()
    present = {
        f"{schema}.{table}"
        for schema, table in con.sql(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
    }
    for analysis, published, keys, formats in PAIRS:
        if analysis not in present or published not in present:
            continue  # a stage that did not run hides nothing
        h, s = hidden_tokens(
            con.sql(f"select * from {analysis}").pl(),
            con.sql(f"select * from {published}").pl(),
            keys,
            formats,
        )
        hidden |= h
        shown |= s
    for published, rows, formats in SHOWN_ONLY:
        if published in present:
            frame = con.sql(f"select * from {published} where {rows}").pl()
            for column, fmt in formats.items():
                shown |= {text for v in frame[column].to_list() for text in _tokens(v, fmt)}
    return hidden - shown


_DATA_URI = re.compile(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)")
_TAG = re.compile(r"<[^>]+>")
_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)


def svg_text(svg: bytes | str) -> str:
    """The text drawn in a matplotlib SVG figure, less its axis tick labels.

    Tick labels are the scale of an axis (0, 50, 100...), not data, and would otherwise match a
    hidden count by coincidence; so data must never be written as tick labels (the plotting
    functions write numbers at risk as text of their own).
    """
    root = ElementTree.fromstring(svg)
    out: list[str] = []

    def walk(node: ElementTree.Element) -> None:
        if node.get("id", "").startswith(("xtick_", "ytick_")):
            return
        if node.tag.endswith("text"):
            out.append("".join(node.itertext()))
            return
        for child in node:
            walk(child)

    walk(root)
    return "\n".join(out)


def report_text(document: str) -> str:
    """The visible text of an HTML report, including the text inside its embedded SVG figures."""
    figures = [svg_text(base64.b64decode(m)) for m in _DATA_URI.findall(document)]
    page = html.unescape(_TAG.sub(" ", _STYLE.sub(" ", _DATA_URI.sub("", document))))
    return "\n".join([page, *figures])


def leaked_values(text: str, forbidden: Iterable[str]) -> list[str]:
    """The forbidden values found in ``text`` as whole numbers (not inside a longer number).

    Parameters
    ----------
    text
        Text of a report (from :func:`report_text`, or pdftotext).
    forbidden
        From :func:`hidden_values`.

    Returns
    -------
    list of str
        The values found, sorted.
    """
    found = []
    for token in forbidden:
        # A number followed by % is a percentage, and one followed by "weeks" a duration, never
        # a rate, ratio or count. Digits joined by - : / belong to a date, time or id
        # (2024-03-31, 13:05, a run id).
        tail = (
            r"(?![\w%:/-]|[.,]\d)" if token.endswith("%") else r"(?![\w:/-]|[.,]\d|\s?%|\sweeks\b)"
        )
        pattern = rf"(?<![\w.,:/-]){re.escape(token)}{tail}"
        if re.search(pattern, text):
            found.append(token)
    return sorted(found)
