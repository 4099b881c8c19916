"""The released files: tidy CSV, accessible spreadsheet, figures, written atomically."""

import csv
import re
import zipfile

import polars as pl
import pytest
from matplotlib.figure import Figure

from recurrence.config import load_config
from recurrence.plotting import funnel_plot, rates_over_time
from recurrence.publish import XLSX_NAME, atomic_write, write_outputs
from recurrence.rates import PUBLISHED_COLUMNS

COLUMNS = [
    "geography_level",
    "geography_code",
    "geography_name",
    "year",
    "age_band",
    "children",
    "live_births",
    "rate_per_10000",
    "ci_lower",
    "ci_upper",
    "suppressed",
]


def published_table():
    rows = []
    for year in ("2021/22", "2022/23"):
        for band in ("under 14 days", "under 1 year"):
            rows += [
                ("england_and_wales", "K04000001", "England and Wales", year, band, 130, 20000),
                ("country", "E92000001", "England", year, band, None, 18000),
                ("country", "W92000004", "Wales", year, band, None, 2000),
                ("region", "E12000001", "North East", year, band, 40, 5000),
                ("region", "E12000002", "North West", year, band, None, 13000),
                ("local_authority", "E06000001", "E06000001", year, band, 12, 900),
                ("local_authority", "E06000002", "E06000002", year, band, None, 800),
            ]
    frame = pl.DataFrame(
        rows,
        schema=[
            "geography_level",
            "geography_code",
            "geography_name",
            "year",
            "age_band",
            "children",
            "live_births",
        ],
        orient="row",
    )
    return frame.with_columns(
        rate_per_10000=pl.col("children") / pl.col("live_births") * 10_000,
        ci_lower=pl.col("children") / pl.col("live_births") * 9_000,
        ci_upper=pl.col("children") / pl.col("live_births") * 11_000,
        suppressed=pl.col("children").is_null(),
    ).select(PUBLISHED_COLUMNS)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports") / "run-1"
    return write_outputs(published_table(), folder, load_config())


def test_csv_is_tidy_with_symbols(outputs):
    with outputs.csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == COLUMNS == list(PUBLISHED_COLUMNS)
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert len(body) == 28
    hidden = [r for r in body if r["suppressed"] == "true"]
    assert hidden
    for r in hidden:
        assert {r["children"], r["rate_per_10000"], r["ci_lower"], r["ci_upper"]} == {"[c]"}
        assert r["live_births"].isdigit()
    shown = [r for r in body if r["suppressed"] == "false"]
    assert all(re.fullmatch(r"\d+\.\d", r["rate_per_10000"]) for r in shown)
    assert shown[0]["rate_per_10000"] == "65.0"


def test_no_temporary_files_are_left(outputs):
    names = sorted(p.name for p in outputs.csv.parent.iterdir())
    assert names == sorted(p.name for p in outputs.all)
    assert not any(n.startswith(".") for n in names)


def _xlsx(path):
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        sheets = re.findall(r'<sheet name="([^"]+)"', workbook)
        strings = (
            z.read("xl/sharedStrings.xml").decode()
            if "xl/sharedStrings.xml" in (z.namelist())
            else ""
        )
        tables = [n for n in z.namelist() if n.startswith("xl/tables/")]
    return sheets, strings, tables


def test_spreadsheet_structure(outputs):
    assert outputs.xlsx.name == XLSX_NAME
    sheets, strings, tables = _xlsx(outputs.xlsx)
    assert sheets == ["Cover", "Contents", "Notes", "Newborns", "Infants", "Local_authorities"]
    assert len(tables) == 5  # contents, notes and the three data tables are marked-up tables
    for header in (
        "Children (number)",
        "Live births (number)",
        "Rate per 10,000 live births",
        "Lower 95% confidence limit (per 10,000)",
    ):
        assert header in strings
    assert "[c]" in strings
    assert "confidential" in strings
    with zipfile.ZipFile(outputs.xlsx) as z:
        newborns = z.read("xl/worksheets/sheet4.xml").decode()
    # Numbers are stored as numbers (the England and Wales row: 130 children, rate 65.0).
    assert re.search(r'<c r="E\d+" s="\d+"><v>130</v>', newborns)
    assert re.search(r'<c r="G\d+" s="\d+"><v>65(\.0)?</v>', newborns)


def test_figures_are_images(outputs):
    pngs = [p for p in outputs.figures if p.suffix == ".png"]
    svgs = [p for p in outputs.figures if p.suffix == ".svg"]
    assert len(pngs) == len(svgs) == 2
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert p.stat().st_size > 10_000
    for p in svgs:
        assert "<svg" in p.read_text(encoding="utf-8")[:500]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old", encoding="utf-8")

    def broken(tmp):
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_plots_are_figures_with_plain_labels():
    table = pl.DataFrame(
        {
            "geography_name": ["North East"] * 3 + ["London"] * 3,
            "year": ["2020/21", "2021/22", "2022/23"] * 2,
            "rate_per_10000": [40.0, None, 42.0, 20.0, 21.0, 22.0],
        }
    )
    fig = rates_over_time(table, title="Newborns per 10,000 live births")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Children per 10,000 live births"
    assert "hidden to protect confidentiality" in ax.get_xlabel()
    assert len(ax.get_lines()) == 2
    assert len({line.get_marker() for line in ax.get_lines()}) == 2  # distinct in greyscale
    funnel = funnel_plot(
        [60, 12, 30],
        [4000, 3000, 9000],
        pooled_rate=35.0,
        labels=["High LA", "Mid LA", "Other LA"],
        title="Funnel",
        hidden_count=4,
    )
    texts = [t.get_text() for t in funnel.axes[0].texts]
    assert texts == ["High LA"]
    assert "4 areas are not shown" in funnel.axes[0].get_xlabel()


def test_a_spreadsheet_with_no_rates_says_why_and_has_no_orphan_notes(tmp_path):
    # Under filterwarnings=error, gptables' warning about unreferenced notes fails this test.
    empty = published_table().clear()
    files = write_outputs(empty, tmp_path / "run-1", load_config())
    with zipfile.ZipFile(files.xlsx) as book:
        names = book.namelist()
        text = " ".join(book.read(n).decode("utf-8") for n in names if n.endswith(".xml"))
    assert "No rates are published from this extract" in text
    assert "Newborns is left out: no live births" in text
    assert "Live births by the mother's area of usual residence" in text
    assert "95% confidence intervals by the exact Poisson method" not in text
