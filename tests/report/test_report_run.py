"""The report of a whole run on the sample: files, sections, and no hidden value anywhere."""

import re
import subprocess
from pathlib import Path

import pytest

from recurrence.config import load_config
from recurrence.paths import PACKAGE_DIR
from recurrence.report import (
    audit_report,
    build_report,
    read_inputs,
    released_tables,
    report_text,
)
from recurrence.report.audit import built_time
from recurrence.report.content import Paragraph, Section, count
from recurrence.report.sections import RATE_KEY, RATES, SECTIONS
from recurrence.report.write import HTML_NAME, LATEST_POINTER, PDF_NAME
from recurrence.warehouse import connect

pytestmark = pytest.mark.slow

SECTION_TITLES = (
    "Key figures",
    "How many mothers return to court, and how soon",
    "What is associated with returning",
    "Newborns and infants in care proceedings",
    "Data and linkage",
    "Methods and definitions",
    "Caveats",
    "Provenance",
)


@pytest.fixture(scope="module")
def rebuilt(full_sample_run):
    """The run's report content rebuilt as the check rebuilds it, with the released tables and
    the warehouse's unsuppressed newborn rates (to inject a hidden one)."""
    html = (full_sample_run.run_folder / HTML_NAME).read_text(encoding="utf-8")
    # The run's paths as its report states them (the warehouse was built under a temporary
    # name), so the rebuilt provenance tables are the ones the file was written with.
    paths = re.findall(r"<tr><td>paths\.(\w+)</td><td>([^<]*)</td></tr>", html)
    config = load_config(overrides=[f'paths.{k}="{v}"' for k, v in paths])
    con = connect(full_sample_run.warehouse, read_only=True)
    try:
        inputs = read_inputs(con, config, full_sample_run.run_folder.name, created=built_time(html))
        released = released_tables(con)
        hidden = con.sql(
            "select a.* from analysis.newborn_rates a join published.newborn_rates p "
            "using (geography_level, geography_code, year, age_band) "
            "where p.children is null and a.children >= 10 limit 1"
        ).pl()
    finally:
        con.close()
    return inputs, released, hidden, html


def test_run_writes_the_report_and_refreshes_latest(full_sample_run):
    assert full_sample_run.code == 0
    folder = full_sample_run.run_folder
    latest = full_sample_run.reports / "latest"
    for name in (HTML_NAME, PDF_NAME):
        assert (folder / name).stat().st_size > 10_000
        assert (latest / name).read_bytes() == (folder / name).read_bytes()
    assert (latest / "newborn_rates.csv").exists()
    assert (full_sample_run.reports / LATEST_POINTER).read_text().strip() == folder.name
    assert not [p for p in full_sample_run.reports.iterdir() if p.name.startswith(".")]


def test_html_is_self_contained_and_has_every_section(full_sample_run):
    html = (full_sample_run.run_folder / HTML_NAME).read_text(encoding="utf-8")
    for title in SECTION_TITLES:
        assert f">{title}</h2>" in html, title
    # Nothing fetched from anywhere: no http(s) or protocol-relative references, no scripts.
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
    assert "<script" not in html
    # A chart whose every group is hidden is a sentence, not a figure of empty panels.
    figures = html.count("data:image/svg+xml;base64,")
    assert figures + html.count("No chart by ") + html.count("no funnel plot is drawn") >= 7
    # The sample is a synthetic extract: its linkage is scored against its truth.
    assert "Linkage quality against known truth" in html
    assert "no truth was available" not in html
    assert full_sample_run.run_folder.name in html


def test_every_number_in_the_html_is_a_released_cell_or_declared(rebuilt):
    inputs, released, _, html = rebuilt
    report = build_report(inputs)
    found = audit_report(report_text(html), report.numbers, released)
    assert found.passed, found.summary()
    assert found.cells_checked > 150  # the sample shows and hides values: the check means something
    assert report.numbers.hidden


def test_every_number_in_the_pdf_text_is_accounted_for(full_sample_run, rebuilt, system_tools):
    inputs, released, _, _ = rebuilt
    report = build_report(inputs)
    text = subprocess.run(
        [system_tools["pdftotext"], str(full_sample_run.run_folder / PDF_NAME), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Key figures" in text
    # Lines wrap in a PDF, so long verbatim text (paths, checksums) can be cut in two: the audit
    # is told so, and allows the footer's page numbers.
    pages = {str(n) for n in range(1, text.count("\f") + 2)}
    found = audit_report(text, report.numbers, released, extra=pages, wrapped=True)
    assert found.passed, found.summary()


def test_a_suppressed_cell_in_the_report_is_caught(rebuilt):
    """Not vacuous: a section that writes a hidden newborn count (from analysis.*) fails."""
    inputs, released, hidden, html = rebuilt
    assert hidden.height == 1
    row = hidden.row(0, named=True)

    def leak(inp):
        key = {k: row[k] for k in RATE_KEY}
        shown = inp.numbers.cell(RATES, key, "children", row["children"], count)
        return Section("leak", "Leak", (Paragraph(f"{shown} children"),))

    report = build_report(inputs, [*SECTIONS, leak])
    found = audit_report(report_text(html), report.numbers, released)
    assert len(found.suppressed_shown) == 1
    assert not found.passed
    # And a number written around the registry is caught by the text check.
    leaked = html.replace("</main>", "<p>The hidden figure was 123,457 here.</p></main>")
    assert audit_report(report_text(leaked), report.numbers, released).unaccounted == ["123,457"]


def test_the_report_reads_no_unsuppressed_table():
    for name in ("inputs.py", "sections.py", "content.py", "html.py", "pdf.py", "write.py"):
        source = (PACKAGE_DIR / "report" / name).read_text(encoding="utf-8")
        assert not re.search(r"analysis\.\w", source), name


def test_pdf_pages_are_not_blank(full_sample_run, system_tools, tmp_path):
    from matplotlib.image import imread

    subprocess.run(
        [
            system_tools["pdftoppm"],
            "-r",
            "40",
            "-png",
            str(full_sample_run.run_folder / PDF_NAME),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 5
    for page in pages:
        pixels = imread(page)[..., :3]
        # The footer (run id, page number) is on every page: look above it for content.
        body = pixels[: int(pixels.shape[0] * 0.9)]
        assert body.std() > 0.01, page.name
        assert (body < 0.5).mean() > 0.0002, page.name


def test_pdf_has_the_same_sections(full_sample_run, system_tools):
    text = subprocess.run(
        [system_tools["pdftotext"], str(full_sample_run.run_folder / PDF_NAME), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for title in SECTION_TITLES:
        assert title in text, title
    assert Path(full_sample_run.run_folder).name in text
