"""The outcomes stage: class mapping, proportions and intervals, suppression, comparison."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import polars as pl
import pytest
from scipy.stats import fisher_exact

from recurrence.cli import main
from recurrence.config import OutcomesConfig, load_config
from recurrence.contract import OUTCOMES
from recurrence.errors import ConfigError
from recurrence.outcomes import (
    Period,
    Split,
    build_case_outcomes,
    compare_periods,
    compare_splits,
    fisher_p_value,
    key_outcome_figures,
    newcombe_difference_ci,
    outcome_cells,
    outcome_lists,
    proportion_table,
    publish_outcomes,
)
from recurrence.outcomes.stage import (
    count_cases_not_classified_once,
    derivable_hidden_counts,
    format_for_release,
    hidden_values_shown,
    visible_small_counts,
)
from recurrence.synth import PracticeChange, generate_extract
from recurrence.warehouse import connect

Z = 1.959964
END = dt.date(2024, 3, 31)


def wilson_by_hand(x: int, n: int) -> tuple[float, float]:
    root = Z * math.sqrt(Z**2 + 4 * x * (1 - x / n))
    return (2 * x + Z**2 - root) / (2 * (n + Z**2)), (2 * x + Z**2 + root) / (2 * (n + Z**2))


# --- configuration and class mapping ------------------------------------------------------------


def test_every_contract_outcome_has_a_default_class():
    classes = load_config().outcomes.classes()
    assert set(classes) == set(OUTCOMES)
    assert {f for f in OutcomesConfig.__dataclass_fields__ if f != "target_weeks"} == set(OUTCOMES)
    removal, home = outcome_lists(load_config().outcomes)
    assert removal == ["care_order", "placement_order"]
    assert set(home) == set(OUTCOMES) - set(removal)


def test_class_mapping_is_configurable_and_checked():
    config = load_config(overrides=["outcomes.special_guardianship_order=removal"])
    assert "special_guardianship_order" in outcome_lists(config.outcomes)[0]
    with pytest.raises(ConfigError, match="must be one of removal, home_or_family"):
        load_config(overrides=["outcomes.no_order=home"])
    with pytest.raises(ConfigError, match="target_weeks"):
        load_config(overrides=["outcomes.target_weeks=0"])


CASES = [
    # case_id, issue, type, region, la, final, outcome
    ("c1", "2015-01-10", "s31_care", "E12000001", "E06000001", "2015-08-01", "care_order"),
    ("c2", "2016-03-01", "s31_care", "E12000001", "E06000001", "2016-07-01", "supervision_order"),
    ("c3", "2017-05-01", "s31_care", "E12000001", None, None, None),
    ("c4", "2015-06-01", "s31_supervision", "W92000004", None, "2015-09-01", None),
    ("c5", "2015-06-01", "epo", "E12000001", None, "2015-06-05", None),
    ("c6", "2015-02-01", "s31_care", "E12000002", None, "2015-12-01", "placement_order"),
    ("c7", "2015-03-01", "s31_care", "E12000002", None, "2016-01-01", "withdrawn"),
]
MOTHERS = [  # case_id, person_id, mother_key
    ("c1", "p1", "mA"),
    ("c2", "p1", "mA"),
    ("c3", "p9", "mA"),  # a second person_id of the same woman
    ("c4", "p4", "mB"),
    ("c5", "p1", "mA"),
    ("c7", "p6", "mC"),
]


@pytest.fixture
def small_warehouse():
    con = duckdb.connect()
    for schema in ("staging", "linkage", "analysis", "audit", "published"):
        con.execute(f"create schema {schema}")
    con.execute(
        "create table staging.cases (case_id varchar, issue_date date, application_type varchar,"
        " region_code varchar, la_code varchar, final_hearing_date date, outcome varchar)"
    )
    con.executemany("insert into staging.cases values (?, ?, ?, ?, ?, ?, ?)", CASES)
    con.execute(
        "create table linkage.mother_keys (case_id varchar, person_id varchar, mother_key varchar)"
    )
    con.executemany("insert into linkage.mother_keys values (?, ?, ?)", MOTHERS)
    yield con
    con.close()


def test_every_case_is_classed_once_with_the_mothers_history(small_warehouse):
    config = load_config()
    summary = build_case_outcomes(small_warehouse, config)
    rows = {
        r["case_id"]: r
        for r in small_warehouse.sql("select * from analysis.case_outcomes")
        .pl()
        .iter_rows(named=True)
    }
    assert summary.cases == 7
    assert summary.care_cases == 6
    assert {k: v["outcome_class"] for k, v in rows.items()} == {
        "c1": "removal",
        "c2": "home_or_family",
        "c3": "ongoing",
        "c4": "outcome_not_recorded",
        "c5": "outcome_not_recorded",
        "c6": "removal",
        "c7": "home_or_family",
    }
    assert not rows["c5"]["care_proceedings"]
    assert rows["c5"]["mother_history"] is None
    # c2 and c3: mother A returns after c1 ended in removal (final 2015-08-01 before issue).
    assert [rows[c]["mother_history"] for c in ("c1", "c2", "c3")] == [
        "index",
        "returning",
        "returning",
    ]
    assert rows["c2"]["previous_removal"] == "previous_removal"
    assert rows["c3"]["previous_removal"] == "previous_removal"
    assert rows["c6"]["mother_history"] == "no_mother_recorded"
    assert rows["c6"]["previous_removal"] == "no_mother_recorded"
    assert rows["c7"]["previous_removal"] == "no_previous_removal"
    assert rows["c1"]["weeks_to_final_hearing"] == pytest.approx(203 / 7)
    assert rows["c2"]["year"] == "2015/16"
    assert rows["c3"]["year"] == "2017/18"
    counts = count_cases_not_classified_once(small_warehouse)
    assert counts["cases_in_staging"] == counts["rows_classified"] == 7
    assert counts["missing"] == counts["duplicated"] == counts["without_a_class"] == 0


def test_a_removal_that_ended_after_the_next_issue_is_not_previous(small_warehouse):
    small_warehouse.execute(
        "update staging.cases set final_hearing_date = '2016-04-01' where case_id = 'c1'"
    )
    build_case_outcomes(small_warehouse, load_config())
    row = small_warehouse.sql(
        "select previous_removal from analysis.case_outcomes where case_id = 'c2'"
    ).fetchone()
    assert row == ("no_previous_removal",)


def test_the_recount_finds_a_lost_case(small_warehouse):
    build_case_outcomes(small_warehouse, load_config())
    small_warehouse.execute("delete from analysis.case_outcomes where case_id = 'c4'")
    assert count_cases_not_classified_once(small_warehouse)["missing"] == 1


# --- proportions, intervals, time to hearing ------------------------------------------------------


def _frame(
    n_removal: int, n_home: int, n_ongoing: int, *, region="E12000001", year="2016/17"
) -> pl.DataFrame:
    start = dt.date(int(year[:4]), 4, 1)
    rows = []
    for cls, n in (("removal", n_removal), ("home_or_family", n_home), ("ongoing", n_ongoing)):
        for i in range(n):
            weeks = None if cls == "ongoing" else float(20 + i)
            rows.append(
                {
                    "case_id": f"{region}{year}{cls}{i}",
                    "care_proceedings": True,
                    "region_code": region,
                    "issue_date": start,
                    "year": year,
                    "year_start": start,
                    "outcome_class": cls,
                    "weeks_to_final_hearing": weeks,
                    "mother_history": "returning" if i % 2 else "index",
                    "previous_removal": "previous_removal" if i % 3 == 0 else "no_previous_removal",
                }
            )
    return pl.DataFrame(rows)


def test_proportions_and_wilson_bounds_match_hand_computed_values():
    cells = outcome_cells(_frame(30, 70, 5), target_weeks=26, extract_end=END)
    table = proportion_table(cells)
    row = table.filter(
        (pl.col("geography_code") == "E12000001")
        & (pl.col("year") == "2016/17")
        & (pl.col("group_variable") == "all")
        & (pl.col("measure") == "removal")
    ).row(0, named=True)
    assert (row["numerator"], row["denominator"]) == (30, 100)
    assert row["value"] == pytest.approx(0.3)
    lo, hi = wilson_by_hand(30, 100)
    assert (row["ci_lower"], row["ci_upper"]) == (pytest.approx(lo), pytest.approx(hi))
    assert round(lo, 4) == 0.2189
    assert round(hi, 4) == 0.3958  # worked by hand
    ongoing = table.filter(
        (pl.col("geography_code") == "E12000001")
        & (pl.col("year") == "2016/17")
        & (pl.col("group_variable") == "all")
        & (pl.col("measure") == "ongoing")
    ).row(0, named=True)
    assert (ongoing["numerator"], ongoing["denominator"]) == (5, 105)


def test_time_to_hearing_quartiles_and_target_share():
    # Removal weeks 20..29, home weeks 20..29: 7 of each within 26 weeks.
    cells = outcome_cells(_frame(10, 10, 2), target_weeks=26, extract_end=END)
    table = proportion_table(cells)
    national = table.filter(
        (pl.col("geography_code") == "K04000001")
        & (pl.col("year") == "all years")
        & (pl.col("group_variable") == "all")
    )
    value = dict(zip(national["measure"], national["value"], strict=True))
    weeks = sorted([20.0 + i for i in range(10)] * 2)
    assert value["weeks_median"] == pytest.approx(24.5)
    assert value["weeks_q1"] == pytest.approx(pl.Series(weeks).quantile(0.25, "linear"))
    target = national.filter(pl.col("measure") == "within_target").row(0, named=True)
    # Ongoing sets issued long enough ago have missed the target: 14 of 22.
    assert (target["numerator"], target["denominator"]) == (14, 22)


# --- disclosure control -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published():
    frame = pl.concat(
        [
            _frame(40, 45, 12, region="E12000001", year="2016/17"),
            _frame(3, 30, 0, region="E12000002", year="2016/17"),
            _frame(25, 22, 11, region="E12000001", year="2017/18"),
            _frame(14, 16, 0, region="E12000002", year="2017/18"),
            _frame(20, 25, 10, region="W92000004", year="2016/17"),
            _frame(22, 18, 12, region="W92000004", year="2017/18"),
        ]
    )
    cells = outcome_cells(frame, target_weeks=26, extract_end=END)
    return cells, publish_outcomes(cells, load_config().disclosure)


def test_small_cells_and_their_proportions_are_suppressed(published):
    cells, result = published
    table = result.table
    assert result.primary > 0
    assert result.secondary > 0
    small = table.filter(
        (pl.col("geography_code") == "E12000002")
        & (pl.col("year") == "2016/17")
        & (pl.col("group_variable") == "all")
        & (pl.col("measure") == "removal")
    ).row(0, named=True)
    assert small["numerator"] is None
    assert small["value"] is None
    assert small["suppressed"]
    assert visible_small_counts(table, min_cell=10) == 0
    assert hidden_values_shown(table) == 0
    assert derivable_hidden_counts(cells, table, min_cell=10) == []
    text = format_for_release(table, symbol="[c]")
    assert "[c]" in text["numerator"].to_list()
    assert all(v == "[c]" for v in text.filter(pl.col("suppressed") == "true")["value"])


def test_the_checks_catch_a_shown_small_count(published):
    _, result = published
    leaked = result.table.with_columns(
        numerator=pl.when(pl.col("numerator").is_null()).then(3).otherwise(pl.col("numerator")),
        value=pl.when(pl.col("suppressed")).then(0.1).otherwise(pl.col("value")),
    )
    assert visible_small_counts(leaked, min_cell=10) > 0
    assert hidden_values_shown(leaked) > 0


def test_key_figures_come_from_the_released_table(published):
    _, result = published
    figures = key_outcome_figures(result.table)
    assert figures.home.numerator == 45 + 30 + 22 + 16 + 25 + 18
    assert figures.home.text().startswith(f"{100 * 156 / 280:.1f}%")
    assert figures.latest_year == "2017/18"
    assert set(figures.home_by_group) == {
        "index",
        "returning",
        "previous_removal",
        "no_previous_removal",
    }


# --- period comparison --------------------------------------------------------------------------


def test_newcombe_interval_matches_the_published_worked_value():
    # Newcombe (1998) Statistics in Medicine 17:873-890, example (a), method 10.
    d, lo, hi = newcombe_difference_ci(48, 80, 56, 70)
    assert (round(d, 4), round(lo, 4), round(hi, 4)) == (0.2, 0.0524, 0.3339)


@pytest.mark.parametrize(
    ("before", "after"),
    [((20, 20), (33, 7)), ((3, 1), (1, 3)), ((0, 5), (4, 1)), ((120, 80), (100, 100))],
)
def test_fisher_p_value_agrees_with_scipy(before, after):
    expected = fisher_exact([[after[0], after[1]], [before[0], before[1]]]).pvalue
    assert fisher_p_value(Split(*before, 0), Split(*after, 0)) == pytest.approx(expected)


def test_the_worked_example_40_families_before_and_after():
    g = compare_splits("all families", Split(20, 20, 0), Split(33, 7, 0))
    assert g.before.proportion_home == 0.5
    assert g.after.proportion_home == 0.825
    assert g.difference == pytest.approx(0.325)
    assert (round(g.ci_lower, 3), round(g.ci_upper, 3)) == (0.118, 0.497)
    assert g.p_value == pytest.approx(0.004107, abs=1e-6)
    from recurrence.outcomes.compare import summary_sentence

    text = summary_sentence(
        g, "Somewhere", Period.parse("2018-04-01:2020-03-31"), Period.parse("2020-04-01:2022-03-31")
    )
    assert "33 of 40" in text
    assert "20 of 40" in text
    assert "82.5%" in text
    assert "50.0%" in text
    assert "+32.5 percentage points" in text
    assert "p = 0.004" in text
    assert "association in time, not evidence the change caused it" in text
    assert "significant" not in text.lower()


def test_periods_must_not_overlap_and_must_parse():
    with pytest.raises(Exception, match="START:END"):
        Period.parse("2016-04-01")
    frame = _frame(5, 5, 0)
    with pytest.raises(Exception, match="overlap"):
        compare_periods(
            frame.with_columns(la_code=pl.lit(None, pl.String)),
            geography="E12000001",
            before=Period.parse("2016-01-01:2017-12-31"),
            after=Period.parse("2017-01-01:2018-12-31"),
        )


# --- a synthetic extract with a known change of practice ---------------------------------------

CHANGE = PracticeChange("E12000002", dt.date(2016, 4, 1), 0.25)
BEFORE = Period.parse("2010-04-01:2016-03-31")
AFTER = Period.parse("2016-04-01:2022-03-31")


def _warehouse_from_extract(folder: Path, path: Path) -> Path:
    """staging.cases from the extract, mothers keyed by their true identity (no Splink)."""
    con = connect(path)
    con.execute(
        "create table staging.cases as select case_id, issue_date, application_type, region_code,"
        " la_code, final_hearing_date, outcome from read_csv(?, all_varchar = false)",
        [str(folder / "cases.csv")],
    )
    con.execute(
        "create table linkage.mother_keys as select p.case_id, p.person_id,"
        " t.true_mother_id as mother_key from read_csv(?, all_varchar = true) as p"
        " inner join read_csv(?, all_varchar = true) as t on p.person_id = t.person_id"
        " where p.role = 'mother'",
        [str(folder / "case_people.csv"), str(folder / "truth" / "mother_person_ids.csv")],
    )
    build_case_outcomes(con, load_config())
    con.close()
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("practice")
    out = {}
    for name, change in (("changed", CHANGE), ("unchanged", None)):
        generate_extract(
            root / name, scale="sample", seed=11, file_format="csv", practice_change=change
        )
        out[name] = _warehouse_from_extract(root / name, root / f"{name}.duckdb")
    return out


def _compare(path: Path):
    con = connect(path, read_only=True)
    frame = con.sql("select * from analysis.case_outcomes").pl()
    con.close()
    return compare_periods(frame, geography=CHANGE.geography, before=BEFORE, after=AFTER)


def test_compare_periods_detects_an_injected_change_of_practice(synthetic):
    result = _compare(synthetic["changed"])
    g = result.overall
    assert g.ci_lower > 0.1
    assert g.p_value < 0.001
    assert g.difference == pytest.approx(CHANGE.shift, abs=0.08)
    assert {x.group for x in result.groups} >= {"all families", "previous_removal"}
    assert "association in time, not evidence the change caused it" in result.sentence()


def test_compare_periods_finds_no_change_where_none_was_injected(synthetic):
    g = _compare(synthetic["unchanged"]).overall
    assert g.ci_lower < 0 < g.ci_upper
    assert g.p_value > 0.05


def test_the_change_moves_only_outcomes_in_the_area(synthetic, tmp_path):
    changed = pl.read_csv(synthetic["changed"].parent / "changed" / "cases.csv")
    unchanged = pl.read_csv(synthetic["unchanged"].parent / "unchanged" / "cases.csv")
    assert changed.drop("outcome").equals(unchanged.drop("outcome"))
    moved = changed.filter(changed["outcome"].ne_missing(unchanged["outcome"]))
    assert moved.height > 0
    assert set(moved["region_code"]) == {CHANGE.geography}
    assert moved["issue_date"].cast(pl.String).min() >= "2016-04-01"


def test_compare_periods_command_prints_and_writes_a_suppressed_file(synthetic, tmp_path, capsys):
    out = tmp_path / "comparison.csv"
    code = main(
        [
            "compare-periods",
            "--warehouse",
            str(synthetic["changed"]),
            "--geography",
            CHANGE.geography,
            "--before",
            "2010-04-01:2016-03-31",
            "--after",
            "2016-04-01:2022-03-31",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "NOT disclosure-controlled" in printed
    assert "all families" in printed
    assert "association in time" in printed
    rows = out.read_text().splitlines()
    assert rows[0].startswith("geography,before_period,after_period,group")
    assert (
        main(
            [
                "compare-periods",
                "--warehouse",
                str(tmp_path / "none.duckdb"),
                "--geography",
                "E12000002",
                "--before",
                "2010-04-01:2011-03-31",
                "--after",
                "2012-04-01:2013-03-31",
            ]
        )
        == 2
    )
