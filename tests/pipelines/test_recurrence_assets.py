"""The recurrence assets: their place in the graph, their checks, and a run on the sample."""

import csv
import re
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from pipelines.definitions import defs as load_defs
from pipelines.runner import run_pipeline
from recurrence.config import load_config
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.survival import (
    COX_COLUMNS,
    ESTIMATE_COLUMNS,
    build_cohort,
    horizon_days,
    person_id_cohort,
    product_limit,
    read_cohort,
)
from recurrence.warehouse import connect

RECURRENCE_ASSETS = {
    "analysis/recurrence_cohort": {
        "staging/cases",
        "staging/case_people",
        "linkage/mother_keys",
        "audit/extract_info",
    },
    "analysis/recurrence_estimates": {"analysis/recurrence_cohort"},
    "analysis/cox_hazard_ratios": {"analysis/recurrence_cohort"},
    "analysis/recurrence_linkage_sensitivity": {"analysis/recurrence_cohort"},
    "published/recurrence_estimates": {
        "analysis/recurrence_estimates",
        "analysis/cox_hazard_ratios",
    },
}
BLOCKING_CHECKS = {
    ("analysis/recurrence_cohort", "every_mother_in_exactly_one_row"),
    ("analysis/recurrence_cohort", "follow_up_within_extract"),
    ("analysis/recurrence_estimates", "estimates_non_empty_and_monotone"),
    ("published/recurrence_estimates", "no_published_estimate_below_min_cell"),
    ("published/recurrence_estimates", "no_schoenfeld_bin_below_min_cell"),
}


def test_recurrence_assets_depend_on_linkage_and_each_other():
    graph = load_defs().resolve_asset_graph()
    for key, parents in RECURRENCE_ASSETS.items():
        node = graph.get(dg.AssetKey.from_user_string(key))
        assert node.group_name == "recurrence"
        assert {p.to_user_string() for p in node.parent_keys} == parents
        for word in ("Population", "Unit", "Time window"):
            assert word in " ".join(node.description.split()), (key, word)


def test_recurrence_checks_are_blocking(blocking_checks):
    assert blocking_checks >= BLOCKING_CHECKS


def _truth_estimate(truth_dir, event_column):
    mothers = pl.read_csv(truth_dir / "mothers.csv").filter(pl.col("first_case_id").is_not_null())
    returned = mothers[event_column].is_not_null() & (
        mothers[event_column] <= mothers["censor_days"]
    )
    time = np.where(returned, mothers[event_column].fill_null(0), mothers["censor_days"])
    return product_limit(time, returned.to_numpy(), np.array([horizon_days(7)]))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("recurrence")
    home = root / "dagster_home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(home))
        code = run_pipeline(
            extract=str(SAMPLE_EXTRACT_DIR),
            warehouse=str(root / "wh.duckdb"),
            overrides=[f'paths.reports="{root / "reports"}"'],
            select="group:ingest or group:linkage or group:recurrence",
            quiet=True,
        )
    return code, root


@pytest.mark.slow
def test_sample_run_passes_its_checks_and_writes_the_published_files(sample_run):
    code, root = sample_run
    assert code == 0
    (run_dir,) = [p for p in (root / "reports").iterdir() if p.is_dir() and p.name != "latest"]
    with (run_dir / "recurrence_estimates.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == ESTIMATE_COLUMNS
    assert len(rows) > 20
    with (run_dir / "cox_hazard_ratios.csv").open(encoding="utf-8") as handle:
        assert tuple(next(csv.reader(handle))) == COX_COLUMNS
    con = connect(root / "wh.duckdb", read_only=True)
    try:
        assert con.sql("select count(*) from published.recurrence_estimates").fetchone()[0] == (
            len(rows) - 1
        )
    finally:
        con.close()


@pytest.mark.slow
def test_sample_estimate_is_within_the_truth_interval_and_person_id_only_is_low(sample_run):
    code, root = sample_run
    assert code == 0
    truth = _truth_estimate(SAMPLE_EXTRACT_DIR / "truth", "return_new_child_days")
    con = connect(root / "wh.duckdb", read_only=True)
    try:
        linked = con.sql(
            "select estimate from analysis.recurrence_estimates "
            "where group_variable = 'all' and horizon_years = 7"
        ).fetchone()[0]
        sensitivity = dict(
            con.sql(
                "select linkage, estimate from analysis.recurrence_linkage_sensitivity"
            ).fetchall()
        )
    finally:
        con.close()
    assert truth.ci_lower[0] <= linked <= truth.ci_upper[0]
    assert sensitivity["mother_key"] == pytest.approx(linked)
    # The April 2014 system change gave mothers new person_ids: without linkage returns are lost.
    assert sensitivity["person_id"] < truth.ci_lower[0]


@pytest.mark.slow
def test_any_return_on_the_sample_is_within_the_truth_interval(sample_run):
    code, root = sample_run
    assert code == 0
    truth = _truth_estimate(SAMPLE_EXTRACT_DIR / "truth", "return_any_days")
    con = connect(root / "wh.duckdb")
    try:
        build_cohort(con, load_config(), event="any")
        cohort = read_cohort(con)
    finally:
        con.close()
    linked = product_limit(
        cohort["time_days"].to_numpy(), cohort["event"].to_numpy(), np.array([horizon_days(7)])
    )
    assert truth.ci_lower[0] <= linked.estimate[0] <= truth.ci_upper[0]


@pytest.mark.slow
def test_recorded_deaths_make_aalen_johansen_the_estimate(sample_run, tmp_path):
    """An extract with a mother_death_date column: AJ is published, naive 1 − KM beside it."""
    import shutil

    code, root = sample_run
    assert code == 0
    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(root / "wh.duckdb", warehouse)
    con = connect(warehouse)
    try:
        con.execute("alter table raw.case_people add column mother_death_date varchar")
        # About one mother row in 15 records a death 400 days after that case was issued; two
        # rows hold unusable values (counted, not used).
        con.execute(
            """
            update raw.case_people as r
            set mother_death_date = cast(c.issue_date + 400 as varchar)
            from staging.cases as c
            where r.case_id = c.case_id and r.role = 'mother' and hash(r.person_id) % 15 = 0
            """
        )
        con.execute(
            "update raw.case_people set mother_death_date = 'unknown' where source_row = "
            "(select min(source_row) from raw.case_people where role = 'mother')"
        )
        con.execute(
            "update raw.case_people set mother_death_date = '2999-01-01' where source_row = "
            "(select max(source_row) from raw.case_people where role = 'mother')"
        )
    finally:
        con.close()
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path / "dagster_home"
        home.mkdir()
        mp.setenv("DAGSTER_HOME", str(home))
        code = run_pipeline(
            extract=str(SAMPLE_EXTRACT_DIR),
            warehouse=str(warehouse),
            overrides=[f'paths.reports="{tmp_path / "reports"}"'],
            select="group:recurrence",
            quiet=True,
        )
    assert code == 0
    con = connect(warehouse, read_only=True)
    try:
        competing = con.sql(
            "select count(*) from analysis.recurrence_cohort where in_cohort and competing_event"
        ).fetchone()[0]
        overall = dict(
            con.sql(
                "select method, estimate from analysis.recurrence_estimates "
                "where group_variable = 'all' and horizon_years = 7"
            ).fetchall()
        )
        methods = {
            r[0] for r in con.sql("select method from published.recurrence_estimates").fetchall()
        }
        sensitivity = {
            r[0]
            for r in con.sql(
                "select method from analysis.recurrence_linkage_sensitivity"
            ).fetchall()
        }
    finally:
        con.close()
    assert competing > 50
    assert set(overall) == {"aalen_johansen", "kaplan_meier_naive"}
    assert overall["aalen_johansen"] < overall["kaplan_meier_naive"]
    assert methods == {"aalen_johansen", "kaplan_meier_naive"}
    assert sensitivity == {"aalen_johansen"}


DOCS = Path(__file__).resolve().parents[2] / "docs" / "recurrence.md"
SAMPLE_RESULTS = re.compile(
    r"look-back 1 year: (?P<estimate>[\d.]+) \(95% CI (?P<lower>[\d.]+)–(?P<upper>[\d.]+)\) over "
    r"(?P<mothers>[\d,]+) mothers; truth from the generator \([^)]*\) (?P<truth>[\d.]+) "
    r"\((?P<truth_lower>[\d.]+)–(?P<truth_upper>[\d.]+)\)\. `any` event: (?P<any>[\d.]+) against "
    r"truth (?P<truth_any>[\d.]+)\. Person-id-only linkage: (?P<person_id>[\d.]+) \(`new_child`\), "
    r"(?P<person_id_any>[\d.]+) \(`any`\).*? Cox model: (?P<stratified>.*?) fails? the "
    r"proportional-hazards test"
)


def _docs_sample_results() -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Results on the synthetic sample", 1)[1].split("\n## ", 1)[0]
    match = SAMPLE_RESULTS.search(" ".join(section.split()))
    assert match, "docs/recurrence.md: the sample results no longer read as this test expects"
    return match.groupdict()


@pytest.mark.slow
def test_figures_quoted_in_the_docs_are_the_sample_runs(sample_run):
    """Every figure in docs/recurrence.md's sample results is the run's, to the digits quoted."""
    code, root = sample_run
    assert code == 0
    quoted = _docs_sample_results()
    config = load_config()
    con = connect(root / "wh.duckdb")
    try:
        headline = con.sql(
            "select estimate, ci_lower, ci_upper, n_at_start from analysis.recurrence_estimates "
            "where group_variable = 'all' and horizon_years = 7 and method = 'kaplan_meier'"
        ).fetchone()
        person_id = con.sql(
            "select estimate from analysis.recurrence_linkage_sensitivity "
            "where linkage = 'person_id'"
        ).fetchone()[0]
        stratified = [
            r[0]
            for r in con.sql(
                "select variable from analysis.cox_ph_test where stratified order by variable"
            ).fetchall()
        ]
        seven = np.array([horizon_days(7)])
        build_cohort(con, config, event="any")
        cohort = read_cohort(con)
        linked_any = product_limit(
            cohort["time_days"].to_numpy(), cohort["event"].to_numpy(), seven
        )
        alone = person_id_cohort(con, config, event="any")
        person_id_any = product_limit(
            alone["time_days"].to_numpy(), alone["event"].to_numpy(), seven
        )
        build_cohort(con, config)  # leave the warehouse as the run left it
    finally:
        con.close()
    truth = _truth_estimate(SAMPLE_EXTRACT_DIR / "truth", "return_new_child_days")
    truth_any = _truth_estimate(SAMPLE_EXTRACT_DIR / "truth", "return_any_days")
    run = {
        "estimate": headline[0],
        "lower": headline[1],
        "upper": headline[2],
        "truth": truth.estimate[0],
        "truth_lower": truth.ci_lower[0],
        "truth_upper": truth.ci_upper[0],
        "any": linked_any.estimate[0],
        "truth_any": truth_any.estimate[0],
        "person_id": person_id,
        "person_id_any": person_id_any.estimate[0],
    }
    for name, value in run.items():
        assert quoted[name] == f"{value:.3f}", name
    assert quoted["mothers"] == f"{headline[3]:,}"
    named = re.findall(r"`([a-z_]+)`", quoted["stratified"])
    assert named == stratified or (not stratified and quoted["stratified"] == "no covariate")
