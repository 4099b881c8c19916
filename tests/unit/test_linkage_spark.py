"""linkage.engine = "spark": Splink's Spark backend gives the same links as DuckDB on the sample."""

import os
import shutil

import pytest

from recurrence.config import load_config
from recurrence.linkage import link_children_to_births, link_mothers
from recurrence.linkage.spark import to_spark_dialect
from recurrence.warehouse import connect

pytestmark = pytest.mark.slow

pytest.importorskip("pyspark", reason="pyspark comes with the test extra: pip install -e '.[test]'")


@pytest.fixture(scope="session")
def spark():
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java (17 or later), and no java is on this machine")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("recurrence-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _link(staged, warehouse, engine):
    shutil.copy(staged, warehouse)
    config = load_config(
        overrides=[f"linkage.engine={engine}", "linkage.spark_shuffle_partitions=4"]
    ).linkage
    con = connect(warehouse)
    try:
        children = link_children_to_births(con, config)
        mothers = link_mothers(con, config)
        partition = {
            frozenset(row[0])
            for row in con.sql(
                "select list(case_id || '|' || person_id order by case_id, person_id) "
                "from linkage.mother_keys group by mother_key"
            ).fetchall()
        }
        links = con.sql(
            "select case_id, person_id, birth_id from linkage.child_births "
            "order by case_id, person_id"
        ).fetchall()
        pairs = con.sql(
            "select record_id_l, record_id_r, round(match_probability, 9) "
            "from linkage.mother_pairs order by 1, 2"
        ).fetchall()
        child_pairs = con.sql("select count(*) from linkage.child_birth_pairs").fetchone()[0]
    finally:
        con.close()
    return children, mothers, partition, links, pairs, child_pairs


@pytest.fixture(scope="module")
def both(staged_sample, spark, tmp_path_factory):
    folder = tmp_path_factory.mktemp("engines")
    return (
        _link(staged_sample, folder / "duckdb.duckdb", "duckdb"),
        _link(staged_sample, folder / "spark.duckdb", "spark"),
    )


def test_spark_gives_the_same_mother_clusters(both):
    duck, spark = both
    assert duck[2] == spark[2]
    # Not trivially equal: Splink joined records beyond person_id on both engines.
    assert duck[1].edges_by_evidence.get("splink", 0) > 0
    assert duck[1].edges_by_evidence == spark[1].edges_by_evidence


def test_spark_gives_the_same_child_birth_links(both):
    duck, spark = both
    assert duck[0].children_linked > 0
    assert duck[3] == spark[3]
    assert duck[5] == spark[5]


def test_spark_scores_the_same_pairs(both):
    duck, spark = both
    assert duck[4]
    assert duck[4] == spark[4]


def test_model_sql_is_rewritten_for_spark():
    model = {
        "sql_dialect": "duckdb",
        "comparisons": [
            {
                "comparison_levels": [
                    {"sql_condition": 'abs(date_diff(\'day\', "d_l", "d_r")) <= 7'},
                    {"sql_condition": "ELSE"},
                ]
            }
        ],
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": 'l."d" = r."d"', "sql_dialect": "duckdb"}
        ],
    }
    out = to_spark_dialect(model)
    assert out["sql_dialect"] == "spark"
    level = out["comparisons"][0]["comparison_levels"][0]["sql_condition"]
    assert "`d_l`" in level
    assert "DATEDIFF" in level.upper()
    assert out["comparisons"][0]["comparison_levels"][1]["sql_condition"] == "ELSE"
    assert out["blocking_rules_to_generate_predictions"][0]["blocking_rule"] == "l.`d` = r.`d`"
    assert model["sql_dialect"] == "duckdb"  # the input is not changed
