"""Scoring pairs on Splink's Spark backend (``linkage.engine = "spark"``).

Only the step whose cost grows with the data, blocking and scoring every candidate pair, moves
to Spark. The model is trained as on DuckDB (random-sample u with the configured seed, EM on
capped samples of pairs, one thread) and handed to Spark as its JSON, so both engines score with
identical parameters and give the same pairs, child-to-birth links and mother clusters. Inputs
and scored pairs pass between DuckDB and Spark as Parquet files in an exchange folder that the
driver and every executor can read (``linkage.spark_exchange_dir``); clustering and everything
after it stays in DuckDB.

pyspark is an optional dependency (``pip install 'recurrence[spark]'``) and Java must be
installed; both are needed only when the Spark engine is chosen.
"""

from __future__ import annotations

import copy
import logging
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot

from recurrence.config import LinkageConfig
from recurrence.errors import ConfigError

if TYPE_CHECKING:  # pyspark is optional: imported only when the Spark engine runs
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

APP_NAME = "recurrence-linkage"


def spark_session(config: LinkageConfig, scratch: Path | None = None) -> SparkSession:
    """The running Spark session, or a new one built from the ``linkage.spark_*`` settings.

    A session that already exists (started by ``spark-submit``, a notebook, a cluster's
    runtime or a test) is used as it is, with its own master and configuration. A new session
    keeps Spark's console progress bars and notices out of the run's output, and its (unused)
    SQL warehouse folder in ``scratch`` rather than the working directory.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            'linkage.engine is "spark" but pyspark is not installed. Install it with '
            "`pip install 'recurrence[spark]'` (Java 17 or later is needed too), or set "
            'linkage.engine = "duckdb".'
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = (
        SparkSession.builder.appName(APP_NAME)
        .config("spark.sql.shuffle.partitions", str(config.spark_shuffle_partitions))
        .config("spark.ui.showConsoleProgress", "false")
    )
    if scratch is not None:
        builder = builder.config("spark.sql.warehouse.dir", str(scratch.resolve()))
    if config.spark_master:
        builder = builder.master(config.spark_master)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def to_spark_dialect(model: dict[str, Any]) -> dict[str, Any]:
    """A model trained on DuckDB, with its SQL rewritten for Spark (parameters unchanged)."""
    out = copy.deepcopy(model)
    out["sql_dialect"] = "spark"

    def spark_sql(text: str) -> str:
        if text.strip().upper() == "ELSE":  # Splink's keyword for the last level, not SQL
            return text
        return sqlglot.transpile(text, read="duckdb", write="spark")[0]

    for comparison in out.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            if "sql_condition" in level:
                level["sql_condition"] = spark_sql(level["sql_condition"])
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict) and "blocking_rule" in rule:
            rule["blocking_rule"] = spark_sql(rule["blocking_rule"])
            rule.pop("sql_dialect", None)
    return out


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def exchange_root(con: duckdb.DuckDBPyConnection, config: LinkageConfig, warehouse: str) -> Path:
    """The exchange folder: ``linkage.spark_exchange_dir``, else beside the warehouse file."""
    if config.spark_exchange_dir:
        return Path(config.spark_exchange_dir)
    row = con.execute(
        "select path from duckdb_databases() where database_name = $name", {"name": warehouse}
    ).fetchone()
    if row and row[0]:
        path = Path(row[0])
        return path.with_name(f"{path.stem}.spark_exchange")
    return Path.cwd() / "recurrence.spark_exchange"


def score_pairs_on_spark(
    con: duckdb.DuckDBPyConnection,
    config: LinkageConfig,
    *,
    model: dict[str, Any],
    warehouse: str,
    inputs: Sequence[tuple[str, str]],
    threshold: float,
    output: str,
    order_by: str,
) -> int:
    """Score pairs with Splink on Spark and write them to the DuckDB table ``output``.

    Parameters
    ----------
    con
        Connection whose current catalog holds the input tables.
    config
        The ``[linkage]`` settings (engine, Spark master, exchange folder, partitions).
    model
        The trained model (``linker.misc.save_model_to_json()`` of the DuckDB linker).
    warehouse
        Catalog name of the warehouse (the exchange folder goes beside its file by default).
    inputs
        ``(table name, display name)`` of each input, as given to the DuckDB linker.
    threshold
        Pairs below this match probability are not kept.
    output
        Qualified DuckDB table to (re)create with the scored pairs.
    order_by
        Columns giving the table a stable order.

    Returns
    -------
    int
        The number of pairs written.
    """
    from splink import Linker, SparkAPI

    root = exchange_root(con, config, warehouse)
    folder = root / f"run-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True, exist_ok=True)
    spark = spark_session(config, scratch=root / "spark-warehouse")
    try:
        for table, name in inputs:
            target = _sql_text(str(folder / f"{name}.parquet"))
            con.execute(f"copy (select * from {table}) to {target} (format parquet)")
        # "persist" keeps Splink's intermediate tables in the executors' memory and disk; the
        # default ("parquet") would need a checkpoint folder configured on the cluster. Our
        # comparisons use no similarity UDFs, so Splink's jar is not needed.
        db_api = SparkAPI(
            spark_session=spark,
            break_lineage_method="persist",
            register_udfs_automatically=False,
            num_partitions_on_repartition=config.spark_shuffle_partitions,
        )
        frames = [
            db_api.register(
                spark.read.parquet(str((folder / f"{name}.parquet").resolve())),
                dataset_display_name=name,
            )
            for _, name in inputs
        ]
        linker = Linker(
            frames if len(frames) > 1 else frames[0], to_spark_dialect(model), log_level=None
        )
        predictions = linker.inference.predict(threshold_match_probability=threshold)
        pairs_path = str((folder / "pairs").resolve())
        predictions.as_spark_dataframe().write.mode("overwrite").parquet(pairs_path)
        spark.catalog.clearCache()
        con.execute(
            f"create or replace table {output} as select * from "
            f"read_parquet({_sql_text(pairs_path + '/*.parquet')}) order by {order_by}"
        )
        row = con.sql(f"select count(*) from {output}").fetchone()
        return int(row[0]) if row else 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if root.exists() and not any(p.name != "spark-warehouse" for p in root.iterdir()):
            shutil.rmtree(root, ignore_errors=True)
