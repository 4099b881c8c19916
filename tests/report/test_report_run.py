"""The report of a whole run on the sample: files, sections, and no hidden value anywhere."""

import re
import subprocess
from pathlib import Path

import pytest

from recurrence.paths import PACKAGE_DIR
from recurrence.report import hidden_values, leaked_values, report_text
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
def forbidden(full_sample_run):
    con = connect(full_sample_run.warehouse, read_only=True)
    try:
        return hidden_values(con)
    finally:
        con.close()


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
    assert html.count("data:image/svg+xml;base64,") >= 7
    # The sample is a synthetic extract: its linkage is scored against its truth.
    assert "Linkage quality against known truth" in html
    assert "no truth was available" not in html
    assert full_sample_run.run_folder.name in html


def test_no_hidden_value_appears_in_the_html(full_sample_run, forbidden):
    assert len(forbidden) > 50  # the sample hides values, so the search means something
    text = report_text((full_sample_run.run_folder / HTML_NAME).read_text(encoding="utf-8"))
    assert leaked_values(text, forbidden) == []


def test_no_hidden_value_appears_in_the_pdf(full_sample_run, forbidden, system_tools):
    pdf = full_sample_run.run_folder / PDF_NAME
    text = subprocess.run(
        [system_tools["pdftotext"], "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Key figures" in text
    assert leaked_values(text, forbidden) == []


def test_a_leaked_hidden_value_would_be_found(full_sample_run, forbidden):
    """The audit is not vacuous: put one hidden value into the report and it is caught."""
    html = (full_sample_run.run_folder / HTML_NAME).read_text(encoding="utf-8")
    token = sorted(forbidden)[len(forbidden) // 2]
    leaked = html.replace("</main>", f"<p>The hidden figure was {token} here.</p></main>")
    assert leaked_values(report_text(leaked), forbidden) == [token]


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
