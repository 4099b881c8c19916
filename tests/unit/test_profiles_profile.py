"""One authority's profile: what it says, where its numbers come from, and how it degrades."""

from __future__ import annotations

import subprocess
import time

import polars as pl
import pytest
from profiles_fixtures import make_cohort, warehouse

from recurrence.config import load_config
from recurrence.profiles.areas import build_area_estimates, publish_area_estimates
from recurrence.profiles.profile import (
    Published,
    authorities,
    build_profile,
    read_published,
    write_profile,
)
from recurrence.report.content import FigureBlock, Paragraph, Table

REGION = "E12000007"


def _rates(la_children: int | None) -> pl.DataFrame:
    rows = [
        ("england_and_wales", "K04000001", None, 600, 100_000),
        ("region", REGION, REGION, 120, 20_000),
        ("local_authority", "A", REGION, la_children, 2_000),
    ]
    frame = pl.DataFrame(
        rows,
        schema=["geography_level", "geography_code", "region_code", "children", "live_births"],
        orient="row",
    )
    rate = pl.col("children") / pl.col("live_births") * 10_000
    return frame.with_columns(
        pl.lit("2016/17").alias("year"),
        pl.lit("under 14 days").alias("age_band"),
        rate.alias("rate_per_10000"),
        (rate * 0.8).alias("ci_lower"),
        (rate * 1.2).alias("ci_upper"),
        pl.col("children").is_null().alias("suppressed"),
    )


@pytest.fixture(scope="module")
def published():
    cohort = make_cohort({REGION: {"A": 500, "B": 450}, "E12000008": {"C": 500, "D": 450}})
    con = warehouse(cohort, la_column=True)
    build_area_estimates(con)
    publish_area_estimates(con, load_config(), None)
    base = read_published(con, "run-1")
    return Published(base.areas, base.national, _rates(40), pl.DataFrame(), "run-1")


def _text(report) -> str:
    out = []
    for s in report.sections:
        for b in s.blocks:
            if isinstance(b, Paragraph):
                out.append(b.text)
            elif isinstance(b, Table):
                out += [" ".join(r) for r in b.rows]
    return "\n".join(out)


def test_the_profile_quotes_the_published_estimate_and_its_funnel_position(published):
    config = load_config()
    report = build_profile(published, "A", config)
    text = _text(report)
    row = published.areas.filter((pl.col("la_code") == "A") & (pl.col("horizon_years") == 7))
    r = row.row(0, named=True)
    assert f"Of the {r['n_at_start']:,} birth mothers" in text
    assert f"{100 * r['estimate']:.1f}%" in text
    assert r["funnel_position"] in text
    # The newborn rate: 40 / 2,000 × 10,000 = 200.0 per 10,000, beside the region and E&W.
    assert "200.0 per 10,000 live births" in text
    assert "60.0 (48.0–72.0)" in text  # England and Wales: 600 / 100,000
    assert "above the 99.8% limit" in text  # 40 children where about 12 are expected


def test_a_profile_renders_to_html_and_pdf_in_under_ten_seconds(published, tmp_path, system_tools):
    start = time.perf_counter()
    html, pdf = write_profile(build_profile(published, "A", load_config()), tmp_path, "A")
    assert time.perf_counter() - start < 10
    assert "Mothers returning to court" in html.read_text(encoding="utf-8")
    text = subprocess.run(
        [system_tools["pdftotext"], str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    # pdftotext ends every page with a form feed: one or two pages, as the issue asks.
    assert 1 <= text.count("\f") <= 2
    assert "Newborns in care proceedings" in text


def test_a_suppressed_authority_says_why_and_shows_no_number(published):
    hidden = published.areas.with_columns(
        pl.when(pl.col("la_code") == "A").then(None).otherwise(pl.col(c)).alias(c)
        for c in ("estimate", "ci_lower", "ci_upper", "n_at_start", "funnel_position")
    ).with_columns(
        pl.when(pl.col("la_code") == "A")
        .then(True)
        .otherwise(pl.col("suppressed"))
        .alias("suppressed")
    )
    data = Published(hidden, published.national, _rates(None), pl.DataFrame(), "run-1")
    text = _text(build_profile(data, "A", load_config()))
    assert "chance of return is not published" in text
    assert "newborn count is not published" in text
    assert "Of the" not in text


def test_without_la_code_the_profile_says_so(published):
    data = Published(
        published.areas.clear(), published.national, pl.DataFrame(), pl.DataFrame(), "run-1"
    )
    text = _text(build_profile(data, "A", load_config()))
    assert "no local-authority code" in text
    assert authorities(data) == []


def test_every_authority_gets_a_profile_but_not_the_no_authority_group(published):
    assert authorities(published) == ["A", "B", "C", "D"]


def test_the_funnel_figure_marks_a_published_authority_and_is_left_out_for_a_hidden_one(published):
    config = load_config()
    shown = build_profile(published, "A", config)
    figures = [b for s in shown.sections for b in s.blocks if isinstance(b, FigureBlock)]
    assert len(figures) == 1
    labels = [t.get_text() for t in figures[0].figure.axes[0].get_legend().get_texts()]
    assert "A" in labels
    hidden = published.areas.with_columns(
        pl.when(pl.col("la_code") == "A")
        .then(True)
        .otherwise(pl.col("suppressed"))
        .alias("suppressed")
    )
    data = Published(hidden, published.national, published.rates, pl.DataFrame(), "run-1")
    report = build_profile(data, "A", config)
    assert not [b for s in report.sections for b in s.blocks if isinstance(b, FigureBlock)]


def test_the_command_writes_one_profile_and_refuses_an_unknown_code(tmp_path, capsys):
    from recurrence.cli import main

    cohort = make_cohort({REGION: {"A": 500, "B": 450}})
    con = warehouse(cohort, la_column=True)
    build_area_estimates(con)
    publish_area_estimates(con, load_config(), None)
    path = tmp_path / "w.duckdb"
    con.execute(f"attach '{path}' as f")
    for name in ("published.la_recurrence", "published.recurrence_estimates"):
        schema = name.split(".")[0]
        con.execute(f"create schema if not exists f.{schema}")
        con.execute(f"create table f.{name} as select * from {name}")
    con.execute("detach f")
    out = tmp_path / "out"
    assert main(["profile", "--la", "A", "--warehouse", str(path), "--out", str(out)]) == 0
    assert (out / "A.html").exists()
    assert (out / "A.pdf").exists()
    assert main(["profile", "--la", "Z99", "--warehouse", str(path), "--out", str(out)]) == 2
    assert "Z99 is not an authority" in capsys.readouterr().out
