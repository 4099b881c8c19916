"""Report pieces that need no pipeline run: wording rules, small-count hiding, the leak search."""

import base64

import duckdb
from matplotlib.figure import Figure

from recurrence.plotting import Curve, forest_plot, recurrence_curves
from recurrence.report import hidden_values, leaked_values, report_text
from recurrence.report.about_sections import safe_counts, safe_rate
from recurrence.report.html import figure_svg
from recurrence.report.sections import one_in_n


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


def test_leak_search_finds_values_in_text_and_figures_but_not_inside_other_numbers():
    curve = Curve("All", (1, 2), (0.1, 0.2), (0.05, 0.15), (0.15, 0.25), (1308, None))
    page = _page_with(recurrence_curves([curve], title="t"), "Rate 35.2 per 10,000; id ab1308f")
    text = report_text(page)
    assert leaked_values(text, {"1,308"}) == ["1,308"]  # a number at risk drawn in the figure
    assert leaked_values(text, {"35.2", "12.5%"}) == ["35.2"]
    assert leaked_values(text, {"1308", "5.2", "100"}) == []  # inside an id, a number, CSS


def test_a_number_of_weeks_is_a_duration_not_a_hidden_count_or_rate():
    text = "median 40.0 weeks; rate 40.0 per 10,000; 26 weeks; 26 sets"
    assert leaked_values("median 40.0 weeks", {"40.0"}) == []
    assert leaked_values(text, {"40.0", "26"}) == ["26", "40.0"]


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


def test_a_hidden_value_written_like_a_shown_outcome_proportion_is_not_searched_for():
    con = duckdb.connect()
    con.execute("create schema analysis; create schema published")
    keys = "'age' as group_variable, g as group_value, 7 as horizon_years, 'any' as method"
    values = "e as estimate, 0.01 as ci_lower, 0.9 as ci_upper, 50 as n_at_start, "
    values += "40 as n_at_risk, 12 as n_events"
    rows = "(values ('a', 0.074), ('b', 0.123)) v(g, e)"
    con.execute(
        f"create table analysis.recurrence_estimates as select {keys}, {values} from {rows}"
    )
    con.execute(
        "create table published.recurrence_estimates as select * replace (null as estimate) "
        "from analysis.recurrence_estimates"
    )
    assert {"7.4%", "12.3%"} <= hidden_values(con)
    con.execute(
        "create table published.outcomes as select * from (values "
        "('within_target', 0.0741, 0.07, 0.08), ('weeks_median', 0.123, 0.1, 0.2)) "
        "v(measure, value, ci_lower, ci_upper)"
    )
    # 7.4% is shown as an outcome proportion; a number of weeks is never a percentage.
    forbidden = hidden_values(con)
    assert "7.4%" not in forbidden
    assert "12.3%" in forbidden
