"""Train, predict and cluster with Splink over the warehouse's DuckDB connection.

Splink writes many intermediate ``__splink__*`` tables. They are kept out of the warehouse file
by running Splink inside an in-memory database attached to the same connection
(:func:`splink_workspace`); only the tables we choose are copied back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import splink
from splink import DuckDBAPI, Linker, SettingsCreator
from splink.clustering import cluster_pairwise_predictions_at_threshold
from splink.internals.exceptions import EMTrainingException

from recurrence.config import LinkageConfig
from recurrence.linkage.settings import (
    EM_MAX_PAIRS,
    PREDICT_CHUNKS,
    U_MAX_PAIRS,
    Rule,
)

log = logging.getLogger(__name__)

WORKSPACE = "splink_work"
#: Columns kept first, in this order, when a Splink table is copied into the warehouse.
LEADING_COLUMNS: tuple[str, ...] = (
    "match_weight",
    "match_probability",
    "record_id_l",
    "record_id_r",
    "record_id",
    "cluster_id",
)


@dataclass(frozen=True)
class Workspace:
    """An in-memory scratch database attached to the warehouse connection."""

    con: duckdb.DuckDBPyConnection
    warehouse: str

    def import_table(
        self,
        qualified: str,
        name: str,
        columns: Sequence[str] | None = None,
        *,
        as_view: bool = False,
        week_columns: Sequence[str] = (),
    ) -> None:
        """Copy ``schema.table`` of the warehouse (or some of its columns) as ``name``.

        Give ``name`` a prefix no warehouse table has: Splink looks columns up by table name
        alone in ``information_schema``, so a clash would mix up two tables. With ``as_view``
        the workspace gets a view instead of a copy (for the largest inputs, which Splink
        copies once anyway). Dates in ``week_columns`` become the Monday of their week (ISO),
        so that they compare at week precision with a source that records only the week.
        """
        names = list(columns) if columns else []
        if week_columns and not names:
            names = [
                row[0]
                for row in self.con.sql(f'describe "{self.warehouse}".{qualified}').fetchall()
            ]
        select = (
            ", ".join(
                f'date_trunc(\'week\', "{c}")::date as "{c}"' if c in week_columns else f'"{c}"'
                for c in names
            )
            if names
            else "*"
        )
        kind = "view" if as_view else "table"
        self.con.execute(
            f'create or replace {kind} {WORKSPACE}.main."{name}" as '
            f'select {select} from "{self.warehouse}".{qualified}'
        )

    def export_table(self, physical_name: str, qualified: str, order_by: str) -> None:
        """Copy a workspace table into the warehouse as ``schema.table``, in a stable order.

        Rows are sorted by ``order_by`` and columns by name after the leading ones: Splink
        gathers some columns in a set, whose order changes from process to process, so
        ``select *`` would give the same table a different column order on a rerun.
        """
        names = [
            row[0] for row in self.con.sql(f"describe {WORKSPACE}.main.{physical_name}").fetchall()
        ]
        leading = [c for c in LEADING_COLUMNS if c in names]
        columns = leading + sorted(c for c in names if c not in leading)
        select = ", ".join(f'"{c}"' for c in columns)
        self.con.execute(
            f'create or replace table "{self.warehouse}".{qualified} as '
            f"select {select} from {WORKSPACE}.main.{physical_name} order by {order_by}"
        )


@contextmanager
def splink_workspace(con: duckdb.DuckDBPyConnection) -> Iterator[Workspace]:
    """Run the block with an attached in-memory database as the default catalog.

    Splink's unqualified tables land in memory; the warehouse stays reachable by its catalog
    name. The in-memory tables count against the connection's ``memory_limit`` (setting
    ``duckdb.memory_limit``) and spill to the warehouse's temp folder beyond it. The default
    catalog is restored and the workspace detached afterwards, even on error.
    """
    (warehouse,) = con.sql("select current_database()").fetchone() or ("memory",)
    con.execute(f"attach ':memory:' as {WORKSPACE}")
    con.execute(f"use {WORKSPACE}")
    try:
        yield Workspace(con, warehouse)
    finally:
        con.execute(f'use "{warehouse}"')
        con.execute(f"detach {WORKSPACE}")


def non_null_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """Columns of ``table`` that hold at least one non-null value."""
    columns = [row[0] for row in con.sql(f"describe {table}").fetchall()]
    if not columns:
        return set()
    counts = ", ".join(f'count("{c}")' for c in columns)
    row = con.sql(f"select {counts} from {table}").fetchone() or ()
    return {c for c, n in zip(columns, row, strict=True) if n}


class NothingToTrainError(Exception):
    """The data hold no record pairs a probabilistic model can be estimated from.

    Raised when no pair agrees on the deterministic rules (the prior match probability would be
    zero) or an EM session blocks no pair. Callers fall back to the deterministic result.
    """


def train_linker(
    db_api: DuckDBAPI,
    inputs: Sequence[tuple[str, str]],
    settings: SettingsCreator,
    *,
    prior_rules: Sequence[Rule],
    prior_recall: float,
    em_rules: Sequence[Rule],
    seed: int,
    candidates: Sequence[tuple[str, str]] | None = None,
) -> Linker:
    """Build a linker and estimate its parameters from the data, without labels.

    Parameters
    ----------
    db_api
        Splink's DuckDB API over the workspace connection.
    inputs
        ``(table name, display name)`` of each input table (one for dedupe, two for link).
    settings
        The model's comparisons and blocking rules.
    prior_rules, prior_recall
        Deterministic rules, and their assumed recall, for the prior match probability.
    em_rules
        Blocking rules of the EM sessions; m is estimated for comparisons not in each rule.
    seed
        Seed of the random sample of pairs used to estimate u.
    candidates
        The same inputs narrowed to the records that can be in a blocked pair (see
        :func:`narrow_to_blocked`), in the same order as ``inputs``. When given, the prior,
        u and term frequencies are estimated on ``inputs`` (the population), and EM and
        prediction run on ``candidates``, which give the same pairs at a fraction of the cost.

    Returns
    -------
    Linker
        The trained linker, over ``candidates`` when given.

    Raises
    ------
    NothingToTrainError
        When no record pair can inform the model (see the class).
    """
    linker = _linker(db_api, inputs, settings)
    training = linker.training
    if prior_rules:
        training.estimate_probability_two_random_records_match(
            [r.creator() for r in prior_rules], recall=prior_recall
        )
        if not linker._settings_obj._probability_two_random_records_match > 0:
            raise NothingToTrainError("no pair agrees on the deterministic rules")
    training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    if candidates is not None:
        linker = _move_to(linker, db_api, candidates)
        training = linker.training
    with single_thread(db_api.duckdb_con):
        for rule in em_rules:
            # Without term frequencies, EM is several times faster; the TF adjustment is still
            # applied at prediction.
            try:
                training.estimate_parameters_using_expectation_maximisation(
                    rule.creator(), max_pairs=EM_MAX_PAIRS, estimate_without_term_frequencies=True
                )
            except EMTrainingException as exc:
                raise NothingToTrainError(str(exc)) from exc
    return linker


def _linker(
    db_api: DuckDBAPI,
    inputs: Sequence[tuple[str, str]],
    settings: SettingsCreator | dict[str, Any],
    *,
    suffix: str = "",
) -> Linker:
    # Splink names each registered table once per API; the suffix lets the same workspace
    # table be an input of a second linker, under the same display name (source_dataset).
    frames = [
        db_api.register(table, dataset_display_name=name, table_name=f"{name}{suffix}")
        for table, name in inputs
    ]
    # log_level=None: Splink would otherwise attach its own stderr handler at INFO; the caller
    # (the command line, or Dagster's compute logs) decides what is shown.
    return Linker(frames if len(frames) > 1 else frames[0], settings, log_level=None)


def _move_to(linker: Linker, db_api: DuckDBAPI, inputs: Sequence[tuple[str, str]]) -> Linker:
    """A linker over ``inputs`` with ``linker``'s parameters and term-frequency tables.

    Term frequencies describe the population, so they are computed on the population linker
    and lent to the new one rather than recomputed from the narrowed inputs.
    """
    model = linker.misc.save_model_to_json()
    columns = sorted(
        {
            level["tf_adjustment_column"]
            for comparison in model["comparisons"]
            for level in comparison["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
    )
    lookups = {c: linker.table_management.compute_tf_table(c) for c in columns}
    moved = _linker(db_api, inputs, model, suffix="_candidates")
    for column, lookup in lookups.items():
        moved.table_management.register_term_frequency_lookup(lookup, column)
    return moved


def narrow_to_blocked(
    con: duckdb.DuckDBPyConnection,
    table: str,
    other: str,
    rules: Sequence[Rule],
    output: str,
    *,
    unique_id: str = "record_id",
) -> int:
    """Write ``output``: the rows of ``table`` that agree with some row of ``other`` on a rule.

    A row that agrees with no row of the other side on every column of at least one blocking
    rule is in no blocked pair, so leaving it out changes no prediction and no EM session whose
    rule is among ``rules``. Linking 350,000 children to 11 million births, this keeps about a
    tenth of the births, and every later join is that much smaller. Nulls agree with nothing,
    as in Splink's blocking. Rows keep ``unique_id`` order, so reruns see the same table.

    Returns
    -------
    int
        The number of rows written.
    """
    matches = " union ".join(
        f'select t."{unique_id}" from "{table}" as t semi join "{other}" as o on '
        + " and ".join(f't."{c}" = o."{c}"' for c in rule.columns)
        for rule in rules
    )
    con.execute(
        f'create or replace table "{output}" as select * from "{table}" '
        f'where "{unique_id}" in ({matches}) order by "{unique_id}"'
    )
    row = con.sql(f'select count(*) from "{output}"').fetchone()
    return int(row[0]) if row else 0


@contextmanager
def single_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block on one DuckDB thread, then restore the thread count.

    Parallel sums of floating-point numbers depend on the order threads finish in, so EM run on
    several threads gives parameters that differ in the last digits from run to run. One thread
    makes the trained model, and so every downstream table, identical on every rerun.
    """
    (threads,) = con.sql("select current_setting('threads')").fetchone() or (1,)
    con.execute("set threads = 1")
    try:
        yield
    finally:
        con.execute(f"set threads = {int(threads)}")


def predict_pairs(linker: Linker, threshold: float) -> str:
    """Score blocked pairs at or above ``threshold``; return the physical table name."""
    frame = linker.inference.predict(
        threshold_match_probability=threshold,
        num_chunks_left=PREDICT_CHUNKS,
        num_chunks_right=PREDICT_CHUNKS,
    )
    return frame.physical_name


def score_pairs(
    ws: Workspace,
    linker: Linker,
    config: LinkageConfig,
    *,
    inputs: Sequence[tuple[str, str]],
    threshold: float,
    output: str,
    order_by: str,
) -> None:
    """Score blocked pairs with a trained linker into the warehouse table ``output``.

    With ``config.engine == "spark"`` the trained model scores the pairs on Splink's Spark
    backend (:mod:`recurrence.linkage.spark`); otherwise DuckDB does, in the workspace.
    ``inputs`` are the ``(workspace table, display name)`` pairs of the whole population (not
    the narrowed candidates): Spark blocks them itself and computes the same term frequencies.
    """
    if config.engine == "spark":
        from recurrence.linkage.spark import score_pairs_on_spark

        score_pairs_on_spark(
            ws.con,
            config,
            model=linker.misc.save_model_to_json(),
            warehouse=ws.warehouse,
            inputs=inputs,
            threshold=threshold,
            output=f'"{ws.warehouse}".{output}',
            order_by=order_by,
        )
        return
    ws.export_table(predict_pairs(linker, threshold), output, order_by)


def cluster_edges(
    db_api: DuckDBAPI, nodes_table: str, edges_table: str, *, node_id: str = "record_id"
) -> str:
    """Connected components of every edge given; return the physical name of the result.

    The result has the node id and ``cluster_id`` (the smallest node id of its component).
    """
    frame = cluster_pairwise_predictions_at_threshold(
        nodes_table,
        edges_table,
        db_api=db_api,
        node_id_column_name=node_id,
    )
    return frame.physical_name


def model_json(linker: Linker) -> str:
    """The trained model as JSON text, with keys sorted so identical models give identical text."""
    return json.dumps(linker.misc.save_model_to_json(), indent=2, sort_keys=True)


def record_model(
    con: duckdb.DuckDBPyConnection,
    name: str,
    text: str | None,
    *,
    run_settings: dict[str, Any],
    path: Path | None = None,
) -> None:
    """Store a model's JSON and the run's linkage settings in ``linkage.splink_model``.

    ``text`` of ``None`` records that no model was trained (person-id linkage, or no data).
    The JSON is also written to ``path`` when given (or that file removed when no model).
    """
    con.execute(
        "create table if not exists linkage.splink_model (model_name varchar, "
        "splink_version varchar, run_settings varchar, model_json varchar)"
    )
    con.execute("delete from linkage.splink_model where model_name = $name", {"name": name})
    con.execute(
        "insert into linkage.splink_model by name select $name as model_name, "
        "$version as splink_version, $settings as run_settings, $text as model_json",
        {
            "name": name,
            "version": splink.__version__,
            "settings": json.dumps(run_settings, sort_keys=True),
            "text": text,
        },
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text + "\n", encoding="utf-8")


def _exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    row = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = $schema and table_name = $table "
        "and table_catalog = current_database()",
        {"schema": schema, "table": table},
    ).fetchone()
    return bool(row and row[0])


def load_run_settings(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any]:
    """Return the linkage settings recorded with model ``name`` (empty if none recorded)."""
    if not _exists(con, "linkage.splink_model"):
        return {}
    row = con.execute(
        "select run_settings from linkage.splink_model where model_name = $name", {"name": name}
    ).fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def load_model(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any] | None:
    """Return a stored model as a dict (usable as Splink settings), or None if none was trained."""
    row = con.execute(
        "select model_json from linkage.splink_model where model_name = $name", {"name": name}
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return json.loads(row[0])


def model_path(warehouse: Path, name: str) -> Path:
    """The file beside the warehouse that holds model ``name``'s JSON."""
    return warehouse.with_name(f"{warehouse.stem}.splink_{name}.json")
