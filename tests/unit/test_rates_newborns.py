"""Newborn and infant rates: the counting rules on hand-made data, and the sample's truth."""

import datetime as dt
import re

import numpy as np
import polars as pl
import pytest

from recurrence.config import load_config
from recurrence.errors import RecurrenceError
from recurrence.ingest import ingest_extract
from recurrence.linkage import link_children_to_births, link_mothers
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.rates import (
    age_bands,
    build_live_births,
    build_newborn_children,
    build_newborn_rates,
    headline_rates,
    publish_newborn_rates,
)
from recurrence.rates.audit import (
    derivable_hidden_cells,
    hidden_values_shown,
    nonpositive_denominators,
    totals_that_do_not_add_up,
    visible_small_counts,
)
from recurrence.rates.newborns import disclosure_structure
from recurrence.synth import calibration as cal
from recurrence.warehouse import connect

TRUTH = SAMPLE_EXTRACT_DIR / "truth" / "newborn_counts.csv"
NE, NW = "E12000001", "E12000002"


def rates_for(con, *overrides):
    config = load_config(overrides=list(overrides))
    build_newborn_children(con, config.rates, config.ingest.care_application_types)
    build_live_births(con, config.rates)
    return config, build_newborn_rates(con, config.rates)


# --- hand-made warehouse ----------------------------------------------------------------------


@pytest.fixture
def tiny(tmp_path):
    con = connect(tmp_path / "tiny.duckdb")
    con.execute(
        """
        create table staging.cases (source_row bigint, case_id varchar, issue_date date,
            application_type varchar, region_code varchar, la_code varchar,
            final_hearing_date date, outcome varchar);
        create table staging.case_people (source_row bigint, case_id varchar, person_id varchar,
            role varchar, birth_date date, birth_year_month varchar, sex varchar,
            birth_date_precision varchar);
        create table staging.births (source_row bigint, birth_id varchar, baby_birth_date date,
            region_code varchar, la_code varchar, live_birth boolean);
        create table staging.live_births (source_row bigint, region_code varchar, year bigint,
            live_births bigint);
        create table audit.extract_info (extract_end_date date, source varchar);
        -- No child here links to a birth: each is identified by its person_id.
        create table linkage.child_births (case_id varchar, person_id varchar, birth_id varchar,
            match_probability double);
        -- No set has a mother_key either, until a test adds one.
        create table linkage.mother_keys (case_id varchar, person_id varchar, mother_key varchar);
        insert into audit.extract_info values ('2022-03-31', 'test');
        insert into staging.cases values
            (1, 'c1', '2020-05-10', 's31_care', 'E12000001', 'LA1', null, null),
            (2, 'c2', '2020-09-01', 's31_supervision', 'E12000001', 'LA1', null, null),
            (3, 'c3', '2020-06-01', 'epo', 'E12000001', 'LA1', null, null),
            (4, 'c4', '2021-02-01', 's31_care', 'E12000002', null, null, null),
            (5, 'c5', '2021-03-30', 's31_care', 'E12000002', 'LA2', null, null),
            (6, 'c6', '2020-04-01', 's31_care', 'W92000004', 'LA3', null, null);
        insert into staging.case_people
            (source_row, case_id, person_id, role, birth_date, birth_year_month, sex) values
            -- aged 3 days at issue: newborn and infant
            (1, 'c1', 'k1', 'child', '2020-05-07', null, 'F'),
            -- the same child again in the same year: counted only in c1
            (2, 'c2', 'k1', 'child', '2020-05-07', null, 'F'),
            -- born after the issue date (added at birth): age 0, in the issue's year
            (3, 'c2', 'k2', 'child', '2020-10-15', null, 'M'),
            -- aged 20 days: infant only
            (4, 'c1', 'k3', 'child', '2020-04-20', null, 'M'),
            -- an EPO is not care proceedings
            (5, 'c3', 'k4', 'child', '2020-05-30', null, 'M'),
            -- no birth date: cannot be aged, but is counted and reported
            (6, 'c4', 'k5', 'child', null, null, 'U'),
            -- 2 years old: in neither band; the mother row is not a child
            (7, 'c5', 'k6', 'child', '2019-03-01', null, 'F'),
            (8, 'c5', 'm1', 'mother', null, '1990-01', 'F'),
            -- Wales, aged 13 days
            (9, 'c6', 'k7', 'child', '2020-03-19', null, 'F');
        """
    )
    rows = []
    for i, (region, la, day) in enumerate(
        [
            (NE, "LA1", "2020-06-01"),
            (NE, "LA1", "2021-01-01"),
            (NW, "LA2", "2020-07-01"),
            (NW, None, "2021-03-31"),
            ("W92000004", "LA3", "2020-04-01"),
            (NE, "LA1", "2020-03-31"),
            (NE, "LA1", "2021-04-01"),
        ]
    ):
        rows.append((i, f"b{i}", dt.date.fromisoformat(day), region, la, True))
    rows.append((99, "b99", dt.date(2020, 8, 1), NE, "LA1", False))  # a stillbirth
    con.executemany("insert into staging.births values (?, ?, ?, ?, ?, ?)", rows)
    yield con
    con.close()


def test_children_rules(tiny):
    config = load_config()
    summary = build_newborn_children(tiny, config.rates, config.ingest.care_application_types)
    kids = tiny.sql("select * from analysis.newborn_children order by case_id, person_id").pl()
    assert summary.rows == 7  # the EPO child and the mother are out
    assert summary.counted == 6
    assert summary.without_birth_date == 1
    assert summary.added_at_birth == 1
    k1 = kids.filter(pl.col("person_id") == "k1")
    assert k1["counted"].to_list() == [True, False]
    k2 = kids.filter(pl.col("person_id") == "k2").row(0, named=True)
    assert (k2["age_at_entry_days"], k2["year"], k2["newborn"]) == (0, "2020/21", True)
    k3 = kids.filter(pl.col("person_id") == "k3").row(0, named=True)
    assert (k3["newborn"], k3["infant"]) == (False, True)
    k5 = kids.filter(pl.col("person_id") == "k5").row(0, named=True)
    assert k5["age_at_entry_days"] is None
    assert k5["counted"]
    k7 = kids.filter(pl.col("person_id") == "k7").row(0, named=True)
    assert (k7["year"], k7["newborn"]) == ("2020/21", True)


def test_a_child_with_two_person_ids_counts_once_and_children_of_one_set_twice(tiny):
    tiny.execute(
        """
        insert into staging.cases values
            (7, 'c7', '2020-07-01', 's31_care', 'E12000001', 'LA1', null, null),
            (8, 'c8', '2020-11-01', 's31_care', 'E12000001', 'LA1', null, null),
            (9, 'c9', '2021-06-01', 's31_care', 'E12000001', 'LA1', null, null);
        insert into staging.case_people
            (source_row, case_id, person_id, role, birth_date, birth_year_month, sex) values
            -- one child, given a new person_id (d2) for the second set of the same year
            (10, 'c7', 'd1', 'child', '2020-06-25', null, 'F'),
            (11, 'c8', 'd2', 'child', '2020-06-25', null, 'F'),
            -- the same child again the next year: counted in that year too
            (12, 'c9', 'd2', 'child', '2020-06-25', null, 'F'),
            -- twins in one set, which the linkage gave the same birth: still two children
            (13, 'c7', 't1', 'child', '2020-06-30', null, 'M'),
            (14, 'c7', 't2', 'child', '2020-06-30', null, 'M'),
            -- two children of one set with their own births (siblings, same birth date)
            (15, 'c8', 'e1', 'child', '2020-10-20', null, 'F'),
            (16, 'c8', 'e2', 'child', '2020-10-20', null, 'M');
        insert into linkage.child_births values
            ('c7', 'd1', 'bd', 0.99), ('c8', 'd2', 'bd', 0.99), ('c9', 'd2', 'bd', 0.99),
            ('c7', 't1', 'bt', 0.99), ('c7', 't2', 'bt', 0.98),
            ('c8', 'e1', 'be1', 0.99), ('c8', 'e2', 'be2', 0.99);
        """
    )
    config = load_config()
    summary = build_newborn_children(tiny, config.rates, config.ingest.care_application_types)
    kids = tiny.sql(
        "select case_id, person_id, year, child_key, counted from analysis.newborn_children "
        "where case_id in ('c7', 'c8', 'c9') order by case_id, person_id"
    ).fetchall()
    assert kids == [
        ("c7", "d1", "2020/21", "birth:bd", True),  # first set of the year
        ("c7", "t1", "2020/21", "person:t1", True),
        ("c7", "t2", "2020/21", "person:t2", True),
        ("c8", "d2", "2020/21", "birth:bd", False),  # d1 under another id
        ("c8", "e1", "2020/21", "birth:be1", True),
        ("c8", "e2", "2020/21", "birth:be2", True),
        ("c9", "d2", "2021/22", "birth:bd", True),
    ]
    assert summary.merged_ids == 1
    assert summary.identified_by_birth == 4
    _, rates = rates_for(tiny)
    ne = rates.filter(
        (pl.col("geography_code") == NE)
        & (pl.col("year") == "2020/21")
        & (pl.col("age_band") == "under 1 year")
    )
    # k1, k2 and k3 as before, plus d1, t1, t2, e1 and e2 (d2 is d1): 8, not 9.
    assert ne["children"].to_list() == [8]


def test_an_unlinked_record_is_its_mothers_child_of_that_birth_date(tiny):
    tiny.execute(
        """
        insert into staging.cases values
            (7, 'c7', '2020-07-01', 's31_care', 'E12000001', 'LA1', null, null),
            (8, 'c8', '2020-11-01', 's31_care', 'E12000001', 'LA1', null, null),
            (9, 'c9', '2020-12-01', 's31_care', 'E12000001', 'LA1', null, null),
            (10, 'c10', '2021-01-05', 's31_care', 'E12000001', 'LA1', null, null);
        insert into staging.case_people
            (source_row, case_id, person_id, role, birth_date, birth_year_month, sex) values
            (10, 'c7', 'm7', 'mother', null, '1995-01', 'F'),
            (11, 'c8', 'm8', 'mother', null, '1995-01', 'F'),
            (12, 'c9', 'm9', 'mother', null, '1988-05', 'F'),
            (13, 'c10', 'm10', 'mother', null, '1988-05', 'F'),
            -- linked in c7; a new person_id that failed to link in c8: the same child
            (14, 'c7', 'd1', 'child', '2020-06-25', null, 'F'),
            (15, 'c8', 'd2', 'child', '2020-06-25', null, 'F'),
            -- unlinked twins in c9, and one of them again under a new id in c10
            (16, 'c9', 'u1', 'child', '2020-11-20', null, 'F'),
            (17, 'c9', 'u2', 'child', '2020-11-20', null, 'M'),
            (18, 'c10', 'u3', 'child', '2020-11-20', null, 'F');
        insert into linkage.child_births values
            ('c7', 'd1', 'bd', 0.99), ('c8', 'd2', null, null),
            ('c9', 'u1', null, null), ('c9', 'u2', null, null), ('c10', 'u3', null, null);
        insert into linkage.mother_keys values
            ('c7', 'm7', 'M1'), ('c8', 'm8', 'M1'), ('c9', 'm9', 'M2'), ('c10', 'm10', 'M2');
        """
    )
    config = load_config()
    build_newborn_children(tiny, config.rates, config.ingest.care_application_types)
    kids = tiny.sql(
        "select case_id, person_id, child_key, counted from analysis.newborn_children "
        "where case_id in ('c7', 'c8', 'c9', 'c10') order by case_id, person_id"
    ).fetchall()
    assert kids == [
        ("c10", "u3", "mother:M2:2020-11-20", True),
        ("c7", "d1", "birth:bd", True),
        ("c8", "d2", "birth:bd", False),  # d1 under another id, found through the mother
        ("c9", "u1", "person:u1", True),  # twins of one set are two children, told apart
        ("c9", "u2", "person:u2", True),  # by nothing else: neither takes the mother's key
    ]


@pytest.mark.parametrize("table", ["child_births", "mother_keys"])
def test_newborn_children_needs_the_linkage_tables(tiny, table):
    tiny.execute(f"drop table linkage.{table}")
    config = load_config()
    with pytest.raises(RecurrenceError, match=f"linkage/{table}"):
        build_newborn_children(tiny, config.rates, config.ingest.care_application_types)


def test_newborn_days_seven(tiny):
    config = load_config(overrides=["rates.newborn_days=7"])
    build_newborn_children(tiny, config.rates, config.ingest.care_application_types)
    newborns = tiny.sql(
        "select count(*) from analysis.newborn_children where counted and newborn"
    ).fetchone()[0]
    assert newborns == 2  # k1 (3 days) and k2 (added at birth); k7 is 13 days
    assert age_bands(config.rates) == ("under 7 days", "under 1 year")


def test_counts_and_denominators_by_area(tiny):
    _, rates = rates_for(tiny)
    # 2019/20 starts before the first issue date; 2021/22 ends on the extract end date.
    assert sorted(rates["year"].unique()) == ["2020/21", "2021/22"]
    rates = rates.filter(pl.col("year") == "2020/21")
    row = {
        (r["geography_level"], r["geography_code"], r["age_band"]): r
        for r in rates.iter_rows(named=True)
    }
    ne = row[("region", NE, "under 14 days")]
    assert (ne["children"], ne["live_births"]) == (2, 2)
    assert ne["rate_per_10000"] == pytest.approx(10_000.0)
    assert row[("region", NE, "under 1 year")]["children"] == 3
    nw = row[("region", NW, "under 1 year")]
    assert (nw["children"], nw["children_without_birth_date"], nw["live_births"]) == (0, 1, 2)
    assert row[("country", "W92000004", "under 14 days")]["children"] == 1
    assert row[("country", "E92000001", "under 1 year")]["children"] == 3
    assert row[("england_and_wales", "K04000001", "under 1 year")]["live_births"] == 5
    assert row[("local_authority", "LA2", "under 1 year")]["live_births"] == 1
    assert row[("local_authority", "LA2", "under 1 year")]["geography_name"] == "LA2"
    assert ne["geography_name"] == "North East"
    assert totals_that_do_not_add_up(rates).is_empty()
    assert nonpositive_denominators(rates) == 0


def test_only_whole_years_are_kept(tiny):
    tiny.execute("update audit.extract_info set extract_end_date = '2022-03-30'")
    _, rates = rates_for(tiny)
    assert sorted(rates["year"].unique()) == ["2020/21"]
    tiny.execute("update audit.extract_info set extract_end_date = '2021-03-30'")
    _, rates = rates_for(tiny)
    assert rates.is_empty()


def test_supplied_calendar_births_are_apportioned_to_financial_years(tiny):
    tiny.execute(
        "insert into staging.live_births values (1, 'E12000001', 2020, 1000), "
        "(2, 'E12000001', 2021, 1201), (3, 'E12000002', 2020, 400), (4, 'E12000002', 2021, 800),"
        "(5, 'W92000004', 2020, 100), (6, 'W92000004', 2021, 100)"
    )
    config = load_config()
    assert build_live_births(tiny, config.rates) == {"births": 5, "live_births_apportioned": 3}
    region = tiny.sql(
        "select region_code, year, live_births from analysis.live_births_by_region_year "
        "where la_code is null order by 1"
    ).fetchall()
    assert region == [
        (NE, "2020/21", 1050),  # round((3 * 1000 + 1201) / 4) = round(1050.25)
        (NW, "2020/21", 500),
        ("W92000004", "2020/21", 100),
    ]
    calendar = load_config(overrides=['rates.year_type="calendar"'])
    build_live_births(tiny, calendar.rates)
    assert tiny.sql(
        "select count(*) from analysis.live_births_by_region_year where source = 'live_births'"
    ).fetchone() == (6,)


# --- the synthetic sample against its ground truth ---------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("rates") / "sample.duckdb")
    config = load_config()
    ingest_extract(con, SAMPLE_EXTRACT_DIR, config.ingest)
    link_children_to_births(con, config.linkage)
    link_mothers(con, config.linkage)
    yield con
    con.close()


def truth(year_type):
    return pl.read_csv(TRUTH, schema_overrides={"year": pl.String}).filter(
        pl.col("year_type") == year_type
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("year_type", "days", "column"),
    [
        ("financial", 14, "newborns_under_14_days"),
        ("financial", 7, "newborns_under_7_days"),
        ("calendar", 14, "newborns_under_14_days"),
    ],
)
def test_every_rate_matches_the_truth(sample, year_type, days, column):
    _, rates = rates_for(sample, f'rates.year_type="{year_type}"', f"rates.newborn_days={days}")
    areas = rates.filter(pl.col("geography_level").is_in(["region", "country"])).filter(
        pl.col("geography_code") != "E92000001"
    )
    expected = truth(year_type).select(
        pl.col("region_code").alias("geography_code"),
        "year",
        pl.col(column).alias("newborn"),
        pl.col("infants_under_1_year").alias("infant"),
        pl.col("live_births").alias("births_truth"),
    )
    got = areas.join(expected, on=["geography_code", "year"], how="left")
    assert got["births_truth"].null_count() == 0
    want = np.where(got["band_order"] == 1, got["newborn"], got["infant"])
    np.testing.assert_array_equal(got["children"].to_numpy(), want)
    np.testing.assert_array_equal(got["live_births"].to_numpy(), got["births_truth"].to_numpy())
    np.testing.assert_allclose(
        got["rate_per_10000"].to_numpy(), want / got["births_truth"].to_numpy() * 10_000, rtol=0
    )
    # Every whole year of the truth is there; only the partial first calendar year is left out.
    years = set(truth(year_type)["year"]) - set(rates["year"])
    assert years == (set() if year_type == "financial" else {"2008"})
    assert totals_that_do_not_add_up(rates).is_empty()


@pytest.mark.slow
def test_true_rate_lies_in_the_interval_at_about_the_nominal_rate(sample):
    _, rates = rates_for(sample, 'rates.year_type="calendar"')
    areas = rates.filter(
        pl.col("geography_level").is_in(["region", "country"])
        & (pl.col("geography_code") != "E92000001")
        & (pl.col("band_order") == 1)
    )
    true_rate = np.array(
        [
            cal.interpolate(cal.NEWBORN_14D_RATE_ENGLAND, int(year))
            * cal.NEWBORN_REGION_EFFECT[code]
            for code, year in areas.select("geography_code", "year").iter_rows()
        ]
    )
    inside = (areas["ci_lower"].to_numpy() <= true_rate) & (
        true_rate <= areas["ci_upper"].to_numpy()
    )
    assert len(inside) == 150
    assert 0.92 <= inside.mean() <= 1.0


@pytest.mark.slow
def test_published_table_is_safe_and_its_visible_rates_are_exact(sample):
    config, rates = rates_for(sample)
    published, stats = publish_newborn_rates(rates, config.disclosure, ci_method="exact")
    assert stats["primary"] > 0
    # The sample's authority codes include E92000001 (England's code): still named by their code.
    authorities = published.filter(pl.col("geography_level") == "local_authority")
    assert "E92000001" in authorities["geography_code"].to_list()
    assert (authorities["geography_name"] == authorities["geography_code"]).all()
    assert visible_small_counts(published, min_cell=10) == 0
    assert hidden_values_shown(published) == 0
    assert derivable_hidden_cells(rates, published) == []
    visible = published.filter(~pl.col("suppressed"))
    assert visible.height > 0
    headline = headline_rates(published)
    assert "England and Wales, 2023/24, under 14 days" in headline
    assert all(
        v == "[c]" or re.fullmatch(r"[\d.]+ \([\d.]+-[\d.]+\)", v) for v in headline.values()
    )
    joined = visible.join(
        rates.select("geography_level", "geography_code", "year", "age_band", "children"),
        on=["geography_level", "geography_code", "year", "age_band"],
        suffix="_true",
    )
    np.testing.assert_array_equal(joined["children"], joined["children_true"])
    np.testing.assert_allclose(
        joined["rate_per_10000"].to_numpy(),
        joined["children_true"].to_numpy() / joined["live_births"].to_numpy() * 10_000,
        rtol=0,
    )


@pytest.mark.slow
def test_rounding_hides_exact_counts_in_rates(sample):
    _config, rates = rates_for(sample)
    rounded = load_config(overrides=["disclosure.rounding_base=5"]).disclosure
    published, _ = publish_newborn_rates(rates, rounded, ci_method="exact")
    visible = published.filter(~pl.col("suppressed"))
    assert (visible["children"] % 5 == 0).all()
    np.testing.assert_allclose(
        visible["rate_per_10000"].to_numpy(),
        visible["children"].to_numpy() / visible["live_births"].to_numpy() * 10_000,
    )


@pytest.mark.slow
def test_the_checks_catch_a_tampered_table(sample):
    config, rates = rates_for(sample)
    published, _ = publish_newborn_rates(rates, config.disclosure, ci_method="exact")
    key = ["geography_level", "geography_code", "year", "age_band"]
    hidden = {tuple(r) for r in published.filter(pl.col("suppressed")).select(key).iter_rows()}
    values, relations, _ = disclosure_structure(rates)
    # A relation with exactly two hidden cells: reveal one and the other can be worked out.
    pair = next(
        [c for c in r.cells if c in hidden]
        for r in relations
        if sum(c in hidden for c in r.cells) == 2
    )
    target = dict(zip(key, pair[0], strict=True))
    is_target = pl.all_horizontal(pl.col(k) == v for k, v in target.items())
    tampered = published.with_columns(
        children=pl.when(is_target).then(pl.lit(values[pair[0]])).otherwise(pl.col("children")),
        suppressed=pl.when(is_target).then(False).otherwise(pl.col("suppressed")),
    )
    assert pair[1] in {e.cell for e in derivable_hidden_cells(rates, tampered)}
    if values[pair[0]] < 10:
        assert visible_small_counts(tampered, min_cell=10) == 1
    leaky = published.with_columns(
        rate_per_10000=pl.when(is_target).then(1.0).otherwise(pl.col("rate_per_10000"))
    )
    assert hidden_values_shown(leaky) == 1


# --- date precision: children dated to a week -------------------------------------------------


def test_a_child_dated_to_a_week_has_lower_and_upper_ages(tiny):
    # k1 (c1, issued Sunday 2020-05-10) written as Thursday 2020-05-07 of the week Monday 4 May -
    # Sunday 10 May: 0 to 6 days old. k3 written as Monday 2020-04-20 (week 20-26 April): 14 to 20
    # days old at c1's issue, so possibly but not surely a newborn; k7 (Wales) is dated to the day.
    tiny.execute(
        "update staging.case_people set birth_date_precision = 'week' "
        "where person_id in ('k1', 'k3')"
    )
    _config, _ = rates_for(tiny)
    rows = {
        r["person_id"]: r
        for r in tiny.sql(
            "select * from analysis.newborn_children where counted and case_id = 'c1'"
        )
        .pl()
        .iter_rows(named=True)
    }
    k1, k3 = rows["k1"], rows["k3"]
    assert (k1["age_at_entry_min_days"], k1["age_at_entry_days"], k1["age_at_entry_max_days"]) == (
        0,
        3,
        6,
    )
    assert (k3["age_at_entry_min_days"], k3["age_at_entry_days"], k3["age_at_entry_max_days"]) == (
        14,
        20,
        20,
    )
    assert k1["newborn_surely"]
    assert k1["newborn"]
    assert k1["newborn_possibly"]
    assert not k3["newborn_surely"]
    assert not k3["newborn"]
    assert not k3["newborn_possibly"]
    wales = (
        tiny.sql("select * from analysis.newborn_children where person_id = 'k7'")
        .pl()
        .row(0, named=True)
    )
    assert wales["birth_date_precision"] == "day"
    assert wales["age_at_entry_min_days"] == wales["age_at_entry_max_days"] == 13


def test_a_week_that_straddles_the_limit_is_possibly_a_newborn(tiny):
    # Written as Thursday 2020-04-23: the week 20-26 April is 14 to 20 days before 10 May;
    # moved to Thursday 2020-04-30 (week 27 April - 3 May): 7 to 13 days, surely under 14 days
    # and surely not under 7, whichever day of the week is written.
    tiny.execute(
        "update staging.case_people set birth_date_precision = 'week', "
        "birth_date = '2020-04-30' where person_id = 'k3'"
    )
    rates_for(tiny, "rates.newborn_days=7")
    k3 = (
        tiny.sql("select * from analysis.newborn_children where person_id = 'k3'")
        .pl()
        .row(0, named=True)
    )
    assert (k3["age_at_entry_min_days"], k3["age_at_entry_max_days"]) == (7, 13)
    assert not k3["newborn_surely"]
    assert not k3["newborn"]
    assert not k3["newborn_possibly"]
    tiny.execute("update staging.case_people set birth_date = '2020-05-01' where person_id = 'k3'")
    rates_for(tiny, "rates.newborn_days=7")
    k3 = (
        tiny.sql("select * from analysis.newborn_children where person_id = 'k3'")
        .pl()
        .row(0, named=True)
    )
    # 2020-05-01 is a Friday: written age 9, the week 27 April - 3 May gives 7 to 13 days.
    assert (k3["age_at_entry_min_days"], k3["age_at_entry_days"]) == (7, 9)
    assert not k3["newborn_possibly"]


def test_precision_bounds_are_published_with_small_differences_hidden():
    from recurrence.rates.precision import publish_precision_bounds

    bounds = pl.DataFrame(
        {
            "geography_name": ["England and Wales"] * 2,
            "years": ["2016/17 to 2020/21"] * 2,
            "age_band": ["under 14 days", "under 1 year"],
            "band_order": [1, 2],
            "n_children_dated_to_a_week": [400, 400],
            "n_children_surely": [80, 300],
            "children": [100, 303],
            "n_children_possibly": [120, 310],
        }
    )
    config = load_config()
    table, stats = publish_precision_bounds(bounds, config.disclosure)
    newborn, infant = table.row(0, named=True), table.row(1, named=True)
    assert (newborn["n_children_surely"], newborn["children"], newborn["n_children_possibly"]) == (
        80,
        100,
        120,
    )
    assert not newborn["suppressed"]
    # 303 - 300 = 3 children and 310 - 303 = 7: either bound would give a count under 10
    assert infant["n_children_surely"] is None
    assert infant["n_children_possibly"] is None
    assert infant["children"] == 303
    assert infant["suppressed"]
    assert stats == {"primary": 0, "secondary": 2}
    small = bounds.with_columns(n_children_dated_to_a_week=pl.Series([4, 4]))
    _, stats = publish_precision_bounds(small, config.disclosure)
    assert stats["primary"] == 2
    # every child dated to the day: the bounds are the counts, and nothing is published
    none = bounds.with_columns(n_children_dated_to_a_week=pl.Series([0, 0]))
    table, stats = publish_precision_bounds(none, config.disclosure)
    assert table.is_empty()
    assert stats == {"primary": 0, "secondary": 0}
