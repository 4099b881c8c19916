"""What a reader sees (issue 23): the synthetic-data banner, GSS marks for hidden and for
impossible values, and plain words and honest charts, on small inputs that need no pipeline run."""

import datetime as dt
import itertools
import zipfile
from pathlib import Path

import polars as pl
import pytest

from recurrence.ingest.extract import (
    SYNTHETIC_BANNER,
    extract_is_synthetic,
    is_synthetic_source,
    read_extract_info,
)
from recurrence.publish import write_outputs
from recurrence.report import build_report, render_html, report_text
from recurrence.report.content import Paragraph, Section
from recurrence.report.pdf import _flowables, render_pdf
from tests.unit.test_publish import published_table
from tests.unit.test_report_parts import CONFIG, _inputs

SAMPLE = Path(__file__).resolve().parents[2] / "data_samples" / "sample"


def _info(source: str, synthetic: bool | None = None) -> pl.DataFrame:
    columns = {"extract_end_date": [dt.date(2024, 3, 31)], "source": [source]}
    if synthetic is not None:
        columns["synthetic"] = [synthetic]
    return pl.DataFrame(columns)


def _title(inputs) -> Section:
    return Section("s", "S", (Paragraph("Body."),))


# --- (a) synthetic data are said to be synthetic, from the extract's metadata -------------------


def test_the_bundled_sample_is_synthetic_by_its_metadata():
    assert read_extract_info(SAMPLE, checksums=False).synthetic


def test_synthetic_is_read_from_extract_toml_not_from_the_path(tmp_path):
    for name in ("cases", "case_people", "births"):
        (tmp_path / f"{name}.csv").write_text("x\n", encoding="utf-8")
    toml = tmp_path / "extract.toml"
    toml.write_text('extract_end_date = 2024-03-31\nsource = "MoJ FamilyMan"\n', encoding="utf-8")
    assert not read_extract_info(tmp_path, checksums=False).synthetic
    toml.write_text(
        'extract_end_date = 2024-03-31\nsource = "MoJ FamilyMan"\nsynthetic = true\n',
        encoding="utf-8",
    )
    assert read_extract_info(tmp_path, checksums=False).synthetic
    toml.write_text(
        'extract_end_date = 2024-03-31\nsource = "recurrence synthetic generator v9"\n'
        "synthetic = false\n",
        encoding="utf-8",
    )
    assert not read_extract_info(tmp_path, checksums=False).synthetic


def test_synthetic_column_wins_over_the_source_and_an_old_warehouse_uses_the_source():
    assert is_synthetic_source("recurrence synthetic generator v1.0.0, seed 1, scale sample")
    assert not is_synthetic_source("HES maternity extract")
    assert extract_is_synthetic(_info("HES", synthetic=True))
    assert not extract_is_synthetic(_info("recurrence synthetic generator v1", synthetic=False))
    assert extract_is_synthetic(_info("recurrence synthetic generator v1"))
    assert not extract_is_synthetic(_info("HES"))
    assert not extract_is_synthetic(pl.DataFrame())


@pytest.mark.parametrize("synthetic", [True, False])
def test_the_report_says_synthetic_first_only_when_the_extract_is(synthetic, tmp_path):
    inputs = _inputs(audit__extract_info=_info("provider", synthetic=synthetic))
    report = build_report(inputs, [_title])
    html = render_html(report)
    text = report_text(html)
    if synthetic:
        assert report.banner == SYNTHETIC_BANNER
        # Above the title: the first thing a reader meets.
        assert html.index('class="banner"') < html.index("<h1>")
        assert text.index("Synthetic data") < text.index("Run run-1")
    else:
        assert report.banner is None
        assert "Synthetic data" not in text
        assert 'class="banner"' not in html
    # The PDF: the banner is the first flowable of page 1, and the file is written.
    first = _flowables(report, 400)[0]
    assert ("Synthetic data" in _cell_text(first)) == synthetic
    assert render_pdf(report, tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


def _cell_text(flowable) -> str:
    data = getattr(flowable, "_cellvalues", None)
    if data:
        return " ".join(getattr(c, "text", str(c)) for row in data for c in row)
    return getattr(flowable, "text", "")


@pytest.mark.parametrize("synthetic", [True, False])
def test_the_spreadsheet_cover_says_synthetic_only_when_the_extract_is(synthetic, tmp_path):
    files = write_outputs(published_table(), tmp_path / "run", CONFIG, synthetic=synthetic)
    with zipfile.ZipFile(files.xlsx) as z:
        strings = z.read("xl/sharedStrings.xml").decode()
        cover = z.read("xl/worksheets/sheet1.xml").decode()
    assert ("Synthetic data" in strings) == synthetic
    assert ("(synthetic data)" in strings) == synthetic
    assert cover  # the cover sheet exists and comes first


# --- (b) [c] for hidden, [x] for values that cannot exist, as in the published CSV -------------


def _estimates() -> pl.DataFrame:
    rows = []
    for years in CONFIG.recurrence.report_years:
        rows.append(("all", "all", years, 0.1, 0.08, 0.12, 3191, 2000, 300, False, False))
        late = years > 3
        rows.append(
            (
                "index_period",
                "2020+",
                years,
                None if late else 0.05,
                None if late else 0.04,
                None if late else 0.07,
                967,
                None if late else 700,
                None if late else 45,
                False,
                late,
            )
        )
        rows.append(
            ("index_period", "2016-2019", years, *[None] * 6, True, False),
        )
    return pl.DataFrame(
        rows,
        schema={
            "group_variable": pl.String,
            "group_value": pl.String,
            "horizon_years": pl.Int64,
            "estimate": pl.Float64,
            "ci_lower": pl.Float64,
            "ci_upper": pl.Float64,
            "n_at_start": pl.Int64,
            "n_at_risk": pl.Int64,
            "n_events": pl.Int64,
            "suppressed": pl.Boolean,
            "not_applicable": pl.Boolean,
        },
        orient="row",
    ).with_columns(method=pl.lit("kaplan_meier"))


def test_the_recurrence_table_marks_impossible_cells_x_and_hidden_cells_c():
    from recurrence.report.sections import NOT_APPLICABLE_NOTE, recurrence_section

    inputs = _inputs(published__recurrence_estimates=_estimates())
    section = recurrence_section(inputs)
    table = next(b for b in section.blocks if getattr(b, "rows", None))
    rows = {r[0]: r for r in table.rows}
    late = rows["Year of her first set: 2020+"]
    assert late[1] == "[x]"
    assert late[2] == "[x] to [x]"
    assert late[3] == "967"  # mothers followed exist and are published
    assert late[4] == "[x]"
    hidden = rows["Year of her first set: 2016-2019"]
    assert set(hidden[1:]) <= {"[c]", "[c] to [c]"}
    assert NOT_APPLICABLE_NOTE in table.note
    assert "[c]: hidden" in table.note
    # The numbers at risk under the curves mark the same cells [x].
    text = report_text(render_html(build_report(inputs, [recurrence_section])))
    assert "[x]" in text


def test_no_x_note_when_nothing_is_impossible():
    from recurrence.report.sections import NOT_APPLICABLE_NOTE, recurrence_section

    estimates = _estimates().filter(pl.col("group_value") != "2020+")
    section = recurrence_section(_inputs(published__recurrence_estimates=estimates))
    table = next(b for b in section.blocks if getattr(b, "rows", None))
    assert NOT_APPLICABLE_NOTE not in table.note
    assert all("[x]" not in c for r in table.rows for c in r)


# --- (c) charts a statistician signs off ---------------------------------------------------------


def _draw(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig


def _ytick_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels() if t.get_text()]


@pytest.mark.parametrize("top", [0.02, 0.2, 0.37, 0.6])
def test_percentage_ticks_are_whole_or_half_percentages(top):
    from recurrence.plotting import Curve, recurrence_curves

    curve = Curve(
        "All mothers", (1, 3, 7), (top / 4, top / 2, top), (0, 0, 0), (top,) * 3, (9,) * 3
    )
    fig = _draw(recurrence_curves([curve], title="t"))
    labels = _ytick_labels(fig.axes[0])
    assert len(labels) >= 3
    for label in labels:
        value = float(label.rstrip("%"))
        assert (value * 2).is_integer(), labels  # never 2.5% shown as "2%"
    values = [float(label.rstrip("%")) for label in labels]
    steps = {round(b - a, 6) for a, b in itertools.pairwise(values)}
    assert len(steps) == 1, labels  # evenly spaced, so no rounding made them uneven


def _groups(n: int, hidden: int | None = None):
    from recurrence.plotting import Curve

    out = [Curve("All mothers", (1, 3), (0.05, 0.1), (0.04, 0.08), (0.06, 0.12), (900, 400))]
    for k in range(n):
        if k == hidden:
            out.append(
                Curve("Age unknown", (1, 3), (None, None), (None, None), (None,) * 2, ("[c]",) * 2)
            )
        else:
            out.append(
                Curve(f"Group {k}", (1, 3), (0.05, 0.1), (0.04, 0.08), (0.06, 0.12), (440, 200))
            )
    return out


def test_panels_name_the_dashed_line_and_say_why_a_panel_is_empty():
    from recurrence.plotting import recurrence_curves

    fig = _draw(recurrence_curves(_groups(5, hidden=2), title="t"))
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
    labels = [t.get_text() for legend in legends for t in legend.get_texts()]
    assert any("All mothers, for comparison" in label for label in labels)
    # With no spare panel, the caption under the panels names the dashed line instead.
    full = _draw(recurrence_curves(_groups(6), title="t"))
    assert "Dashed grey line: All mothers, for comparison" in full._supxlabel.get_text()
    empty = next(ax for ax in fig.axes if ax.get_title() == "Age unknown")
    assert not empty.get_lines()  # no reference line alone in an empty panel
    assert any("Every value hidden" in t.get_text() for t in empty.texts)


def test_at_risk_label_does_not_overlap_the_numbers():
    from recurrence.plotting import recurrence_curves

    fig = _draw(recurrence_curves(_groups(5), title="t"))
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        texts = [t for t in ax.texts if t.get_text()]
        label = next((t for t in texts if "at risk" in t.get_text()), None)
        if label is None:
            continue
        box = label.get_window_extent(renderer)
        for t in texts:
            if t is not label:
                assert not box.overlaps(t.get_window_extent(renderer)), t.get_text()


def test_forest_plot_ticks_are_plain_numbers_and_its_label_fits():
    from recurrence.plotting import forest_plot

    fig = _draw(
        forest_plot(
            ["Aged under 20 (vs 25-29)", "North East (vs London)"],
            [1.74, 0.61],
            [1.31, 0.55],
            [2.31, 0.7],
            title="t",
        )
    )
    ax = fig.axes[0]
    labels = [
        t.get_text() for t in ax.get_xticklabels(minor=False) + ax.get_xticklabels(minor=True)
    ]
    labels = [label for label in labels if label]
    assert labels
    assert all("10" not in label and "×" not in label for label in labels), labels
    assert all(float(label) > 0 for label in labels)
    renderer = fig.canvas.get_renderer()
    box = ax.xaxis.label.get_window_extent(renderer)
    assert box.x0 >= 0
    assert box.x1 <= fig.bbox.width


def _trend_table(with_empty: bool) -> pl.DataFrame:
    rows = []
    for year in ("2021/22", "2022/23", "2023/24"):
        rows.append(("england_and_wales", "England and Wales", year, 60.0, 50.0, 70.0))
        rows.append(("country", "England", year, 61.0, 51.0, 71.0))
        rows.append(("country", "Wales", year, None, None, None))
        for k in range(9):
            rows.append(("region", f"Region {k}", year, 55.0 + k, 40.0, 70.0))
        if with_empty:
            rows.append(("region", "Quiet region", year, None, None, None))
    return pl.DataFrame(
        rows,
        schema=[
            "geography_level",
            "geography_name",
            "year",
            "rate_per_10000",
            "ci_lower",
            "ci_upper",
        ],
        orient="row",
    )


def test_trend_chart_highlights_a_handful_with_intervals_and_no_empty_legend_entries():
    from recurrence.plotting import MAX_HIGHLIGHTED, rates_over_time

    fig = _draw(rates_over_time(_trend_table(True), title="t"))
    ax = fig.axes[0]
    named = [t.get_text() for t in ax.get_legend().get_texts()]
    assert named == ["England and Wales", "England"]  # Wales has no value: no legend entry
    assert len(named) <= MAX_HIGHLIGHTED
    assert ax.collections  # the 95% intervals are drawn
    label = ax.get_xlabel()
    assert "Wales" in label
    assert "Quiet region" in label
    assert "Thin grey lines" in label


# --- (d) a sentence about an empty set says the set is empty -------------------------------------


def _rates_text(frame: pl.DataFrame) -> tuple[str, str, object]:
    from recurrence.report import audit_report
    from recurrence.report.sections import rates_section

    inputs = _inputs(published__newborn_rates=frame)
    report = build_report(inputs, [rates_section])
    html = render_html(report)
    text = report_text(html)
    return html, text, audit_report(text, report.numbers, inputs.tables)


def test_no_funnel_and_no_claim_about_outliers_when_every_authority_is_hidden():
    from tests.unit.test_report_parts import _rates

    frame = (
        _rates(44.4)
        .with_columns(
            children=pl.when(pl.col("geography_level") == "local_authority")
            .then(None)
            .otherwise(pl.col("children")),
            rate_per_10000=pl.when(pl.col("geography_level") == "local_authority")
            .then(None)
            .otherwise(pl.col("rate_per_10000")),
        )
        .with_columns(suppressed=pl.col("rate_per_10000").is_null())
    )
    html, text, found = _rates_text(frame)
    assert "lies outside" not in text
    assert "every authority's count of newborns is hidden" in text
    assert 'id="fig-newborn_rates_funnel"' not in html
    assert found.passed, found.summary()


def test_no_funnel_when_the_national_rate_is_hidden():
    from tests.unit.test_report_parts import _rates

    html, text, found = _rates_text(_rates(None))
    assert "the England and Wales rate is hidden" in text
    assert "lies outside" not in text
    assert 'id="fig-newborn_rates_funnel"' not in html
    assert found.passed, found.summary()


def test_the_funnel_is_drawn_and_its_points_judged_when_an_authority_is_published():
    from tests.unit.test_report_parts import _rates

    html, text, found = _rates_text(_rates(44.4))
    assert 'id="fig-newborn_rates_funnel"' in html
    assert "None of the local authorities with a published rate in the funnel plot" in text
    assert found.passed, found.summary()


def test_a_chart_whose_every_group_is_hidden_is_replaced_by_a_sentence():
    from recurrence.report.sections import all_hidden_sentence, recurrence_section

    hidden_ages = pl.DataFrame(
        {
            "group_variable": ["age_group"] * len(CONFIG.recurrence.report_years),
            "group_value": ["35+"] * len(CONFIG.recurrence.report_years),
            "horizon_years": list(CONFIG.recurrence.report_years),
        }
    )
    estimates = pl.concat([_estimates(), hidden_ages], how="diagonal_relaxed").with_columns(
        method=pl.lit("kaplan_meier"),
        suppressed=pl.col("suppressed").fill_null(True),
        not_applicable=pl.col("not_applicable").fill_null(False),
    )
    section = recurrence_section(_inputs(published__recurrence_estimates=estimates))
    names = [getattr(b, "name", None) for b in section.blocks]
    assert "recurrence_overall" in names
    assert "recurrence_by_age" not in names
    texts = [b.text for b in section.blocks if isinstance(b, Paragraph)]
    assert all_hidden_sentence("mother's age at her first set", "[c]") in texts


# --- (e) words for people ------------------------------------------------------------------------


def test_linkage_measures_and_settings_are_in_words():
    from recurrence.linkage.quality import LINK_MEASURES, MOTHER_MEASURES
    from recurrence.report.about_sections import _defaults_comments, measure_name, setting_meaning

    for measure in (*MOTHER_MEASURES, *LINK_MEASURES):
        name = measure_name(measure)
        assert "_" not in name
        assert name[0].isupper()
    assert measure_name("pairwise_f1") == "F1 score, pairs of records"
    comments = _defaults_comments()
    for section, values in CONFIG.as_dict().items():
        for key in values:
            meaning = setting_meaning(section, key, comments)
            assert meaning.strip(), f"{section}.{key} has no meaning"
            assert "`" not in meaning, f"{section}.{key}"


def test_provenance_shows_the_warehouse_not_its_build_copy_and_settings_once():
    from recurrence.report.about_sections import _released_path, provenance_section

    built = "/data/.recurrence.duckdb.build/recurrence.duckdb"
    assert _released_path("paths", "warehouse", built) == "/data/recurrence.duckdb"
    assert _released_path("paths", "warehouse", "/data/recurrence.duckdb") == (
        "/data/recurrence.duckdb"
    )
    inputs = _inputs()
    section = provenance_section(inputs)
    settings = [r[0] for b in section.blocks if getattr(b, "rows", None) for r in b.rows]
    assert "linkage.method" not in settings  # it is in the Methods section's table
    assert "paths.warehouse" in settings


def test_pdf_columns_fit_their_longest_word():
    from recurrence.report.content import Table
    from recurrence.report.pdf import _CHAR_WIDTH, column_widths

    block = Table(
        "Settings",
        ("Setting", "Value", "Meaning"),
        (("linkage.spark_shuffle_partitions", "16", "word " * 80),),
    )
    widths = column_widths(block, 480)
    assert sum(widths) == pytest.approx(480)
    assert widths[0] >= len("linkage.spark_shuffle_partitions") * _CHAR_WIDTH
    assert widths[2] > widths[1]


#: Audit tables of an extract that supplied cases.csv and no live_births file.
_LIVE_BIRTHS_NOT_SUPPLIED = {
    "audit__extract_files": pl.DataFrame(
        {
            "table_name": ["cases", "live_births"],
            "file_name": ["cases.csv", None],
            "sha256": ["ab12", None],
        }
    ),
    "audit__ingest_accounting": pl.DataFrame(
        {
            "table_name": ["cases", "live_births"],
            "source_file": ["cases.csv", "live_births.csv"],
            "rows_read": [4758, 0],
            "rows_loaded": [4758, 0],
            "rows_quarantined": [0, 0],
        }
    ),
}


def test_an_optional_table_not_supplied_has_no_counts():
    from recurrence.report.about_sections import data_section

    inputs = _inputs(
        **_LIVE_BIRTHS_NOT_SUPPLIED,
        linkage__summary=pl.DataFrame(
            {
                "measure": ["mother_records", "mother_person_ids", "mother_keys"],
                "breakdown": ["all"] * 3,
                "category": ["all"] * 3,
                "numerator": [4758, 3649, 2309],
                "denominator": [None, None, None],
            },
            schema_overrides={"denominator": pl.Int64},
        ),
    )
    section = data_section(inputs)
    table = section.blocks[0]
    row = next(r for r in table.rows if r[0] == "live_births")
    assert row[1:] == ("(not supplied)", "-", "-", "-")


# --- (f) the local-authority sheet is what an observatory would publish --------------------------


def _sheet_strings(path: Path) -> tuple[list[str], dict[str, str]]:
    import re

    with zipfile.ZipFile(path) as z:
        names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
        shared = re.findall(r"<t[^>]*>([^<]*)</t>", z.read("xl/sharedStrings.xml").decode())
        sheets = {}
        for i, name in enumerate(names, start=1):
            xml = z.read(f"xl/worksheets/sheet{i}.xml").decode()
            ids = [int(v) for v in re.findall(r'<c [^>]*t="s"[^>]*><v>(\d+)</v>', xml)]
            sheets[name] = " | ".join(shared[k] for k in ids)
    return names, sheets


def test_local_authority_sheet_lists_published_rows_without_names_that_repeat_codes(tmp_path):
    files = write_outputs(published_table(), tmp_path / "run", CONFIG)
    _names, sheets = _sheet_strings(files.xlsx)
    la = sheets["Local_authorities"]
    assert "E06000001" in la  # its count is published
    assert "E06000002" not in la  # all hidden: in the CSV only
    assert "Area name" not in la  # the names only repeated the codes
    assert "Area name" in sheets["Newborns"]
    assert "lists every one" in la
    csv_text = files.csv.read_text(encoding="utf-8")
    assert "E06000002" in csv_text  # the CSV still lists every authority


def test_a_local_authority_sheet_of_nothing_but_c_is_left_out_and_the_cover_says_why(tmp_path):
    frame = published_table()
    frame = frame.with_columns(
        [
            pl.when(pl.col("geography_level") == "local_authority")
            .then(None)
            .otherwise(pl.col(c))
            .alias(c)
            for c in ("children", "rate_per_10000", "ci_lower", "ci_upper")
        ]
    )
    files = write_outputs(frame, tmp_path / "run", CONFIG)
    names, sheets = _sheet_strings(files.xlsx)
    assert "Local_authorities" not in names
    assert "every local authority's count of children is hidden" in sheets["Cover"]


# --- (g) a first run that guides -----------------------------------------------------------------


def test_a_finished_run_says_where_the_report_spreadsheet_and_tables_are(tmp_path):
    from pipelines.runner import finished_lines

    folder = tmp_path / "reports" / "run-1"
    folder.mkdir(parents=True)
    for name in ("report.html", "report.pdf", "newborn_rates.xlsx", "newborn_rates.csv"):
        (folder / name).write_text("x", encoding="utf-8")
    lines = finished_lines("run-1", 54.5, folder)
    assert lines[0] == "recurrence: run run-1 finished in 54.5 s"
    text = "\n".join(lines)
    assert f"report: {folder / 'report.html'}" in text
    assert f"spreadsheet: {folder / 'newborn_rates.xlsx'}" in text
    assert "newborn_rates.csv" in text
    assert finished_lines("run-1", 1.0, tmp_path / "absent") == [
        "recurrence: run run-1 finished in 1.0 s"
    ]


def test_a_failed_first_run_does_not_speak_of_a_previous_warehouse():
    from pipelines.runner import failed_line

    assert "previous warehouse" in failed_line("r", 1.0, had_warehouse=True)
    first = failed_line("r", 1.0, had_warehouse=False)
    assert "previous" not in first
    assert "there was none before" in first


def test_linkage_eval_on_a_missing_warehouse_is_one_line_not_a_traceback(tmp_path, capsys):
    from recurrence.cli import main

    code = main(
        [
            "linkage-eval",
            "--warehouse",
            str(tmp_path / "missing.duckdb"),
            "--clerical-sample",
            str(tmp_path / "x.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert "no such warehouse file" in err
    assert not (tmp_path / "missing.duckdb").exists()


def test_help_has_no_doubled_percent_and_every_option_has_help():
    import argparse

    from recurrence.cli import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subs.choices.items():
        assert "%%" not in sub.format_help(), name
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"{name} {action.option_strings[0]} has no help"


def test_configuration_page_exists_and_is_current():
    from recurrence.config_doc import configuration_markdown

    page = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    assert page.read_text(encoding="utf-8") == configuration_markdown(), (
        "docs/configuration.md is out of date: python -m recurrence.config_doc > "
        "docs/configuration.md"
    )
    for section, values in CONFIG.as_dict().items():
        for key in values:
            assert f"`{section}.{key}`" in page.read_text(encoding="utf-8")


def test_about_1_in_n_only_when_it_is_about_right():
    from recurrence.report.sections import one_in_n

    assert one_in_n(0.191, 0.177, 0.207) == 5
    assert one_in_n(0.286, 0.26, 0.31) is None  # not "about 1 in 4" (25%) nor 1 in 3 (33%)
    assert one_in_n(0.34, 0.30, 0.38) == 3


def test_key_figures_say_most_returns_come_early_with_one_colon():
    from recurrence.report.sections import key_figures
    from tests.unit.test_report_parts import _rates

    section = key_figures(
        _inputs(published__recurrence_estimates=_estimates(), published__newborn_rates=_rates(44.4))
    )
    items = [i for b in section.blocks for i in getattr(b, "items", ())]
    early = next(i for i in items if i.startswith("Most returns come early"))
    assert early.count(":") == 1, early


def test_the_pdf_is_dated_with_the_run_not_the_year_2000(tmp_path):
    import os

    before = os.environ.get("SOURCE_DATE_EPOCH")
    report = build_report(_inputs(), [_title])
    pdf = render_pdf(report, tmp_path / "report.pdf").read_bytes()
    assert b"D:20260102030405" in pdf  # the run's time (created 2026-01-02 03:04:05 UTC)
    assert b"D:2000" not in pdf
    assert os.environ.get("SOURCE_DATE_EPOCH") == before  # left as it was
    again = render_pdf(report, tmp_path / "again.pdf").read_bytes()
    assert again == pdf  # reruns stay reproducible


def test_every_header_problem_is_reported_at_once_and_a_misspelt_column_is_named(tmp_path):
    from recurrence.errors import ExtractError
    from recurrence.ingest.read import _check_header

    names = ["case_id", "case_id", "isue_date", "source_row", "Jane Smith 1984"]
    with pytest.raises(ExtractError) as caught:
        _check_header(tmp_path / "cases.csv", "cases", names)
    message = str(caught.value)
    assert "(1)" in message
    assert "(2)" in message
    assert "(3)" in message
    assert "more than once" in message
    assert "source_row" in message
    assert "'isue_date' should be written exactly 'issue_date'" in message
    assert "Jane Smith" not in message  # a name that may be data is still never shown


def test_spreadsheet_cover_has_the_configured_contact_and_a_release_date(tmp_path):
    import dataclasses

    from recurrence.config import PublicationConfig

    config = dataclasses.replace(
        CONFIG, publication=PublicationConfig(contact="Observatory team, stats@example.org")
    )
    files = write_outputs(published_table(), tmp_path / "a", config)
    _names, sheets = _sheet_strings(files.xlsx)
    assert "Observatory team, stats@example.org" in sheets["Cover"]
    assert "The analysis team that ran this release" not in sheets["Cover"]
    assert "Released " in sheets["Cover"]
    files = write_outputs(published_table(), tmp_path / "b", CONFIG)
    _names, sheets = _sheet_strings(files.xlsx)
    assert "No contact was set for this release" in sheets["Cover"]


def test_provenance_gives_no_row_count_for_a_table_not_supplied():
    from recurrence.report.about_sections import provenance_section

    inputs = _inputs(
        **_LIVE_BIRTHS_NOT_SUPPLIED,
    )
    files = next(b for b in provenance_section(inputs).blocks if b.caption == "Input files")
    row = next(r for r in files.rows if r[0] == "live_births")
    assert row[1:] == ("(not supplied)", "-", "-")
