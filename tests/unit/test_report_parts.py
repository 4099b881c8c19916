"""Report pieces that need no pipeline run: wording rules, small-count hiding, and the audit
of hidden values by identity, on small report inputs that reproduce each coincidence the old
text search failed on."""

import base64
import datetime as dt

import polars as pl
import pytest
from matplotlib.figure import Figure

from recurrence.config import load_config
from recurrence.plotting import Curve, forest_plot, recurrence_curves
from recurrence.rates.newborns import ENGLAND_AND_WALES, age_bands
from recurrence.report import (
    Numbers,
    ReportInputs,
    audit_report,
    build_report,
    render_html,
    report_text,
)
from recurrence.report.about_sections import (
    data_section,
    provenance_section,
    safe_counts,
    safe_rate,
)
from recurrence.report.audit import audit_csv
from recurrence.report.content import Paragraph, Section, count, rate, ratio
from recurrence.report.html import figure_svg
from recurrence.report.sections import RATES, RATIOS, cox_section, one_in_n, rates_section


def test_one_in_n_only_where_the_interval_supports_it():
    assert one_in_n(0.24, 0.22, 0.26) == 4
    assert one_in_n(0.192, 0.177, 0.207) == 5
    assert one_in_n(0.25, 0.15, 0.35) is None  # 1 in 3 to 1 in 7: no single N
    assert one_in_n(0.7, 0.6, 0.8) is None  # N would be 1


def test_small_counts_are_hidden_with_a_partner():
    shown = safe_counts({"a": 3, "b": 40, "c": 55}, 98, min_cell=10)
    assert shown["a"] is None
    assert sum(v is None for v in shown.values()) == 2
    assert safe_rate(95, 100, min_cell=10) is None  # only 5 unlinked
    assert safe_rate(50, 100, min_cell=10) == 0.5


def _page_with(figure: Figure, text: str) -> str:
    svg = base64.b64encode(figure_svg(figure)).decode()
    return (
        f"<html><style>p {{ width: 100%; }}</style><p>{text}</p>"
        f"<img src='data:image/svg+xml;base64,{svg}'></html>"
    )


def test_forest_plot_marks_hidden_rows():
    fig = forest_plot(
        ["Age (vs 25-29)", "  under 20", "  35+"],
        [None, 1.7, None],
        [None, 1.3, None],
        [None, 2.3, None],
        title="t",
        headings=[True, False, False],
    )
    assert "[c] (hidden" in figure_svg(fig).decode()


def test_many_groups_are_drawn_as_panels_with_numbers_at_risk_as_text():
    curves = [
        Curve(f"G{i}", (1, 3), (0.1, 0.2), (0.05, 0.1), (0.2, 0.3), (500 + i, 200 + i))
        for i in range(6)
    ]
    fig = recurrence_curves(curves, title="t")
    assert len(fig.axes) == 6  # five groups after the reference, in a 2 x 3 grid
    assert "503" in report_text(_page_with(fig, ""))


def test_panels_share_a_scale_that_shows_the_highest_band():
    curves = [Curve("All", (1, 7), (0.1, 0.2), (0.05, 0.15), (0.15, 0.25), (900, 400))]
    curves += [
        Curve(f"G{i}", (1, 7), (0.1, 0.2 + i / 10), (0.05, 0.1), (0.2, 0.3 + i / 10), (90, 40))
        for i in range(5)
    ]
    fig = recurrence_curves(curves, title="t")
    for ax in fig.axes:
        if ax.get_visible() and ax.axison:
            assert ax.get_ylim()[1] >= 70  # G4's band reaches 70%


CONFIG = load_config()
NEWBORN, INFANT = age_bands(CONFIG.rates)


def _inputs(**tables: pl.DataFrame) -> ReportInputs:
    base = {
        "audit.extract_info": pl.DataFrame(
            {"extract_end_date": [dt.date(2024, 3, 31)], "source": ["provider"]}
        ),
        "audit.extract_files": pl.DataFrame(
            {"table_name": ["cases"], "file_name": ["cases.csv"], "sha256": ["ab12"]}
        ),
        "audit.ingest_accounting": pl.DataFrame(
            {
                "table_name": ["cases"],
                "source_file": ["cases.csv"],
                "rows_read": [4758],
                "rows_loaded": [4758],
                "rows_quarantined": [0],
            }
        ),
    }
    return ReportInputs(
        run_id="run-1",
        created=dt.datetime(2026, 1, 2, 3, 4, 5),
        config=CONFIG,
        tables=base | {k.replace("__", "."): v for k, v in tables.items()},
        quarantine=pl.DataFrame(
            schema={"table_name": str, "column_name": str, "reason": str, "rows": int}
        ),
        numbers=Numbers(CONFIG.disclosure.symbol),
    )


def _audit(inputs: ReportInputs, *builders):
    report = build_report(inputs, builders)
    text = report_text(render_html(report))
    return text, audit_report(text, report.numbers, inputs.tables)


#: Cox ratios as released: the 2020+ level is hidden (its lower bound, 0.16, is not shown).
COX = pl.DataFrame(
    {
        "variable": ["index_period", "age_group"],
        "level": ["2020+", "20-24"],
        "reference_level": ["2008-2011", "25-29"],
        "hazard_ratio": [None, 1.23],
        "ci_lower": [None, 0.96],
        "ci_upper": [None, 1.56],
        "p_value": [None, 0.097],
    },
    schema_overrides={"hazard_ratio": pl.Float64, "ci_lower": pl.Float64, "p_value": pl.Float64},
)


def _leak(cell_key, column, value, fmt):
    def builder(inputs: ReportInputs) -> Section:
        shown = inputs.numbers.cell(RATIOS, cell_key, column, value, fmt)
        return Section("leak", "Leak", (Paragraph(f"The hidden figure was {shown}."),))

    return builder


def test_free_text_and_labels_equal_to_hidden_values_are_not_leaks():
    """extract.toml's free text says 0.16 (a hidden Cox bound); a label says 2020+."""
    info = pl.DataFrame(
        {"extract_end_date": [dt.date(2024, 3, 31)], "source": ["sample 0.16 of 2020 cases"]}
    )
    inputs = _inputs(published__cox_hazard_ratios=COX, audit__extract_info=info)
    text, found = _audit(inputs, cox_section, provenance_section)
    assert "0.16" in text
    assert "2020+" in text
    assert "4,758" in text
    assert found.passed, found.summary()
    assert found.cells_checked >= 4


def test_a_suppressed_cell_rendered_is_found_by_identity():
    hidden = {"variable": "index_period", "level": "2020+"}
    inputs = _inputs(published__cox_hazard_ratios=COX)
    _, found = _audit(inputs, cox_section, _leak(hidden, "ci_lower", 0.16, ratio))
    assert [(c.table, c.where(), c.column) for c in found.suppressed_shown] == [
        (RATIOS, hidden, "ci_lower")
    ]
    assert not found.passed
    # A published cell written with another value than the released one is caught too.
    shown = {"variable": "age_group", "level": "20-24"}
    _, found = _audit(
        _inputs(published__cox_hazard_ratios=COX), _leak(shown, "ci_lower", 0.5, ratio)
    )
    assert found.not_as_published
    assert not found.passed


def test_a_number_that_bypasses_the_registry_is_found_whatever_it_equals():
    def bypass(inputs: ReportInputs) -> Section:
        return Section("leak", "Leak", (Paragraph(f"The hidden bound was {0.16:.2f}."),))

    info = pl.DataFrame(
        {"extract_end_date": [dt.date(2024, 3, 31)], "source": ["sample 0.16 of 2020 cases"]}
    )
    inputs = _inputs(published__cox_hazard_ratios=COX, audit__extract_info=info)
    _, found = _audit(inputs, cox_section, provenance_section, bypass)
    # 0.16 also appears in the free text, but free text is never counted as a number.
    assert found.unaccounted == ["0.16"]


def _rates(national_rate: float | None) -> pl.DataFrame:
    rows = [
        ("england_and_wales", ENGLAND_AND_WALES, "England and Wales", 40, 9000, national_rate),
        ("local_authority", "E06000001", "Hartlepool", 12, 3000, 40.0),
        ("local_authority", "E06000002", "Middlesbrough", None, 2000, None),
    ]
    frame = pl.DataFrame(
        rows,
        schema=[
            "geography_level",
            "geography_code",
            "geography_name",
            "children",
            "live_births",
            "rate_per_10000",
        ],
        orient="row",
    )
    frame = pl.concat(
        [
            frame.with_columns(age_band=pl.lit(NEWBORN)),
            frame.head(1).with_columns(age_band=pl.lit(INFANT), rate_per_10000=pl.lit(80.0)),
        ]
    )
    return frame.with_columns(
        year=pl.lit("2022/23"),
        ci_lower=pl.col("rate_per_10000") * 0.8,
        ci_upper=pl.col("rate_per_10000") * 1.2,
        suppressed=pl.col("rate_per_10000").is_null(),
    )


def test_a_suppressed_national_rate_gives_a_funnel_legend_with_no_number():
    text, found = _audit(_inputs(published__newborn_rates=_rates(None)), rates_section)
    assert "England and Wales rate (" not in text
    assert "(0.0)" not in text
    assert found.passed, found.summary()
    text, found = _audit(_inputs(published__newborn_rates=_rates(44.4)), rates_section)
    assert "England and Wales rate (44.4)" in text  # the legend's number is a checked cell
    assert found.passed, found.summary()
    assert found.cells_checked >= 8


def test_linkage_counts_equal_to_hidden_denominators_are_not_leaks():
    """'3,649 person ids' and 'joined into 2,309 mothers', when 2,309 was a hidden count."""
    summary = pl.DataFrame(
        {
            "measure": [
                "mother_records",
                "mother_person_ids",
                "mother_keys",
                "mother_linked_to_births",
            ],
            "breakdown": ["all"] * 4,
            "category": ["all"] * 4,
            "numerator": [4758, 3649, 2309, 2000],
            "denominator": [None, None, None, 2309],
        }
    )
    released = pl.DataFrame(
        {
            "geography_code": [ENGLAND_AND_WALES],
            "year": ["all"],
            "group": ["all"],
            "measure": ["removal"],
            "value": [None],
            "denominator": [None],
        },
        schema_overrides={"value": pl.Float64, "denominator": pl.Int64},
    )  # the outcomes cell whose hidden denominator was 2,309
    inputs = _inputs(linkage__summary=summary, published__outcomes=released)
    text, found = _audit(inputs, data_section)
    assert "3,649 person ids" in text
    assert "joined into 2,309 mothers" in text
    assert found.passed, found.summary()


def test_every_constant_has_a_declared_kind():
    numbers = Numbers()
    assert numbers.constant(2024, "year") == "2024"
    with pytest.raises(ValueError, match="convenient"):
        numbers.constant(5, "convenient")
    assert numbers.cell(RATES, {"geography_code": "x"}, "children", None, count) == "[c]"
    assert numbers.cell(RATES, {"geography_code": "y"}, "rate_per_10000", 3.14159, rate) == "3.1"
    assert len(numbers.hidden) == 1
    assert len(numbers.rendered_cells()) == 1


def test_a_released_csv_is_checked_cell_by_cell_against_its_table(tmp_path):
    published = _rates(44.4)
    keys = ("geography_level", "geography_code", "year", "age_band")
    path = tmp_path / "newborn_rates.csv"
    shown = published.with_columns(
        pl.col(c).round(1) for c in ("rate_per_10000", "ci_lower", "ci_upper")
    ).with_columns(pl.col(pl.Float64, pl.Int64).cast(pl.String).fill_null("[c]"))
    shown.write_csv(path)
    assert audit_csv(path, published, keys) == []  # rounded as the files are, [c] where hidden
    # Middlesbrough's count is hidden: a file showing it (as a coincidental 12, say) fails.
    shown.with_columns(
        children=pl.when(pl.col("geography_name") == "Middlesbrough")
        .then(pl.lit("12"))
        .otherwise(pl.col("children"))
    ).write_csv(path)
    assert audit_csv(path, published, keys) == [
        "newborn_rates.csv row 4 children: shows a value hidden (or not released) in the table"
    ]


def _ph(stratified: dict[str, float]) -> pl.DataFrame:
    variables = ["age_group", "index_period", "GLOBAL"]
    return pl.DataFrame(
        {
            "variable": variables,
            "transform": ["km"] * 3,
            "chisq": [7.1, 14.1, 21.2],
            "df": [4, 3, 7],
            "p_value": [stratified.get(v, 0.4) for v in variables],
            "stratified": [v in stratified for v in variables],
        }
    )


def test_the_cox_section_names_a_stratified_covariate_with_its_p_value():
    inputs = _inputs(
        published__cox_hazard_ratios=COX, published__cox_ph_test=_ph({"index_period": 0.0028})
    )
    text, found = _audit(inputs, cox_section)
    flat = " ".join(text.split())
    assert "the effect of year of her first set (p = 0.003) changes over the follow-up" in flat
    assert "stratified on it" in flat
    assert "no departure" not in flat
    assert found.passed, found.summary()
    # The p-value is a released cell, checked against the table like any other.
    cells = [s.source for s in inputs.numbers.shown if not isinstance(s.source, str)]
    assert ("published.cox_ph_test", "p_value") in {(c.table, c.column) for c in cells}


def test_the_cox_section_says_when_the_ph_test_found_no_departure():
    inputs = _inputs(published__cox_hazard_ratios=COX, published__cox_ph_test=_ph({}))
    text, found = _audit(inputs, cox_section)
    assert "found no departure for any characteristic" in " ".join(text.split())
    assert "stratified on it" not in text
    assert found.passed, found.summary()
    # A run without the released test (an older warehouse) says nothing about it.
    text, _ = _audit(_inputs(published__cox_hazard_ratios=COX), cox_section)
    assert "proportional hazards (the score test" not in " ".join(text.split())


def test_the_cox_section_compares_against_the_reference_the_model_used():
    # An extract that starts in 2014 has no 2008-2011 mothers: the fit used another period.
    cox = COX.with_columns(
        pl.when(pl.col("variable") == "index_period")
        .then(pl.lit("2016-2019"))
        .otherwise(pl.col("reference_level"))
        .alias("reference_level")
    )
    text, found = _audit(_inputs(published__cox_hazard_ratios=cox), cox_section)
    flat = " ".join(text.split())
    assert "2020+ vs 2016-2019" in flat
    assert "2008-2011" not in flat
    assert found.passed, found.summary()


def _zph_bins(*, hidden: bool = False) -> pl.DataFrame:
    from recurrence.survival.zph_bins import BIN_SCHEMA

    rows = []
    for variable, scale, coef, stratified in (
        ("age_group", "linear_predictor", 1.0, False),
        ("index_period", "linear_predictor", 1.0, True),
    ):
        for b, (lo, hi) in enumerate(((0, 7), (7, 19), (19, 84)), start=1):
            rows.append(
                {
                    "variable": variable,
                    "bin": b,
                    "stratified": stratified,
                    "scale": scale,
                    "coefficient": None if hidden else coef,
                    "time_from_months": lo,
                    "time_to_months": hi,
                    "n_events": 137 + b,
                    "mean_years": (lo + hi) / 24,
                    "transformed_time": None if hidden else 0.03 * b,
                    "mean_beta_t": None if hidden else 1.4 - 0.3 * b,
                    "smooth_beta_t": None if hidden else 1.3 - 0.25 * b,
                    "smooth_lower": None if hidden else 0.6 - 0.25 * b,
                    "smooth_upper": None if hidden else 2.0 - 0.25 * b,
                    "suppressed": hidden,
                }
            )
    return pl.DataFrame(rows, schema=BIN_SCHEMA)


def test_the_cox_section_draws_the_schoenfeld_plot_without_unregistered_numbers():
    inputs = _inputs(
        published__cox_hazard_ratios=COX,
        published__cox_ph_test=_ph({"index_period": 0.0028}),
        published__cox_zph_bins=_zph_bins(),
    )
    report = build_report(inputs, [cox_section])
    names = [b.name for b in report.sections[0].blocks if hasattr(b, "figure")]
    assert names == ["cox_schoenfeld", "cox_forest"]
    text, found = _audit(inputs, cox_section)
    flat = " ".join(text.split())
    assert "Year of her first set (stratified in the final model)" in flat
    assert "scaled Schoenfeld residuals" in flat
    # Bin counts are not written anywhere in the report.
    assert "138" not in text
    assert found.passed, found.summary()


def test_the_schoenfeld_plot_says_why_when_there_are_no_bins_or_values_are_hidden():
    from recurrence.survival.zph_bins import BIN_SCHEMA

    inputs = _inputs(
        published__cox_hazard_ratios=COX,
        published__cox_ph_test=_ph({}),
        published__cox_zph_bins=pl.DataFrame(schema=BIN_SCHEMA),
    )
    text, found = _audit(inputs, cox_section)
    assert "no group of returns is large enough to publish" in " ".join(text.split())
    assert found.passed, found.summary()
    inputs = _inputs(
        published__cox_hazard_ratios=COX,
        published__cox_ph_test=_ph({}),
        published__cox_zph_bins=_zph_bins(hidden=True),
    )
    text, found = _audit(inputs, cox_section)
    assert "[c] hidden: too few mothers in a group" in text
    assert found.passed, found.summary()
