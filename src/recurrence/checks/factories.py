"""The check types and the factories that make checks from catalog declarations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from recurrence.audit import (
    count_missing_required,
    count_orphans,
    count_rows_sharing_key,
    recount_accounting,
)
from recurrence.catalog import Dataset
from recurrence.config import Config
from recurrence.contract import ForeignKey
from recurrence.safety import staging_folder

#: What made a check: a factory (``rows``, ``keys``, ``required``, ``references``,
#: ``suppression``), or a stage's own rule (``disclosure`` when it guards what is released,
#: ``invariant`` otherwise).
CheckKind = Literal[
    "rows", "keys", "required", "references", "suppression", "disclosure", "invariant"
]
#: Kinds of check that guard what is released.
DISCLOSURE_KINDS: tuple[str, ...] = ("suppression", "disclosure")


@dataclass(frozen=True)
class CheckInputs:
    """What a check may read: the run's warehouse, its configuration and its run id."""

    con: duckdb.DuckDBPyConnection
    config: Config
    run_id: str

    @property
    def folder(self) -> Path:
        """The run's report folder before release (``reports/.<run_id>.partial/``)."""
        return staging_folder(self.config.paths.reports, self.run_id)

    @property
    def min_cell(self) -> int:
        """The disclosure threshold every disclosure check compares with."""
        return self.config.disclosure.min_cell

    def table(self, name: str) -> pl.DataFrame:
        """Read a whole warehouse table (``schema.table``)."""
        return self.con.sql(f"select * from {name}").pl()


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: whether it passed, and the counts that show why."""

    passed: bool
    metadata: Mapping[str, object]


def nothing_found(**counts: object) -> Finding:
    """A finding that passes when every count given is zero (or empty)."""
    return Finding(passed=not any(counts.values()), metadata=counts)


@dataclass(frozen=True)
class Check:
    """One asset check on one dataset of the catalog.

    Attributes
    ----------
    name
        The check's name (unique per dataset); the release path and ``docs/operations.md``
        refer to checks by name.
    description
        What it verifies, in one sentence.
    measure
        Recounts from the warehouse (or the report folder) and says whether the check passed.
    kind
        The factory that made it (:data:`CheckKind`).
    blocking
        A failing blocking check stops the run before anything is released; a non-blocking one
        only warns.
    """

    name: str
    description: str
    measure: Callable[[CheckInputs], Finding]
    kind: CheckKind = "invariant"
    blocking: bool = True


def rows_accounted_for(dataset: Dataset) -> Check:
    """Rows read from the file = rows loaded + rows quarantined, recounted from the tables."""
    table = _contract_name(dataset)

    def measure(inputs: CheckInputs) -> Finding:
        acc = recount_accounting(inputs.con, table)
        return Finding(
            passed=acc.balanced,
            metadata={
                "rows_read": acc.rows_read,
                "rows_loaded": acc.rows_loaded,
                "rows_quarantined": acc.rows_quarantined,
            },
        )

    return Check(
        "rows_accounted_for",
        "Rows read from the file = rows loaded + rows quarantined (recounted).",
        measure,
        kind="rows",
    )


def keys_unique(dataset: Dataset) -> Check:
    """No two loaded rows share the dataset's key (the contract's, or the one declared)."""
    key = dataset.unique_key
    if not key:
        raise ValueError(f"{dataset.name} declares no key")

    def measure(inputs: CheckInputs) -> Finding:
        return nothing_found(
            rows_sharing_a_key=count_rows_sharing_key(inputs.con, dataset.name, key)
        )

    return Check(
        "keys_unique",
        f"No two loaded rows share the key ({', '.join(key)}).",
        measure,
        kind="keys",
    )


def required_fields_present(dataset: Dataset) -> Check:
    """Every required column is filled on every loaded row."""
    table = _contract_name(dataset)

    def measure(inputs: CheckInputs) -> Finding:
        missing = count_missing_required(inputs.con, table)
        return Finding(passed=not missing, metadata={"nulls_by_column": missing})

    return Check(
        "required_fields_present",
        "Every required column is filled on every loaded row.",
        measure,
        kind="required",
    )


def references_exist(dataset: Dataset, fk: ForeignKey) -> Check:
    """Every loaded row's reference ``fk`` names a loaded row of the table it refers to."""
    table = _contract_name(dataset)

    def measure(inputs: CheckInputs) -> Finding:
        return nothing_found(orphan_rows=count_orphans(inputs.con, table, fk))

    # "a loaded case" from the referenced table "cases": the row kind is its singular.
    return Check(
        fk.check,
        f"Every loaded {table} row belongs to a loaded {fk.table.removesuffix('s')}.",
        measure,
        kind="references",
    )


@dataclass(frozen=True)
class Suppression:
    """How one suppressed table hides small counts: what its three disclosure checks recount.

    Attributes
    ----------
    table
        The suppressed warehouse table the checks read.
    count_word
        What the table calls a count (``cell``, ``count``): names the derivability check.
    dependents
        What is computed from a count (``rates``, ``proportions``): names the third check.
    small_counts
        Shown counts under the threshold, given the table and ``min_cell``.
    derivable
        Hidden counts that the shown cells and totals pin down, given the check's inputs.
    dependents_shown
        Suppressed rows still showing a value computed from their count.
    descriptions
        What each of the three checks verifies, in the table's own words.
    derivable_metric
        The metadata name of the derivability count.
    """

    table: str
    count_word: str
    dependents: str
    small_counts: Callable[[pl.DataFrame, int], int]
    derivable: Callable[[CheckInputs], int]
    dependents_shown: Callable[[pl.DataFrame], int]
    descriptions: tuple[str, str, str]
    derivable_metric: str


def suppression_checks(rules: Suppression) -> tuple[Check, Check, Check]:
    """The three disclosure checks of one suppressed table, from its :class:`Suppression`."""
    small, derivable, dependents = rules.descriptions

    def no_small_count(inputs: CheckInputs) -> Finding:
        bad = rules.small_counts(inputs.table(rules.table), inputs.min_cell)
        return nothing_found(small_counts_visible=bad)

    def nothing_derivable(inputs: CheckInputs) -> Finding:
        return nothing_found(**{rules.derivable_metric: rules.derivable(inputs)})

    def dependents_hidden(inputs: CheckInputs) -> Finding:
        bad = rules.dependents_shown(inputs.table(rules.table))
        return nothing_found(rows_showing_hidden_values=bad)

    return (
        Check("no_small_count_visible", small, no_small_count, kind="suppression"),
        Check(
            f"no_suppressed_{rules.count_word}_derivable",
            derivable,
            nothing_derivable,
            kind="suppression",
        ),
        Check(
            f"{rules.dependents}_of_hidden_counts_hidden",
            dependents,
            dependents_hidden,
            kind="suppression",
        ),
    )


def _contract_name(dataset: Dataset) -> str:
    if dataset.contract is None or dataset.accounted_from is None:
        raise ValueError(f"{dataset.name} is not a staging table of the data contract")
    return dataset.contract


def declared_checks(dataset: Dataset) -> tuple[Check, ...]:
    """The checks the factories make from the dataset's declared rows, key, columns and references.

    In this order: row accounting (staging tables), key uniqueness (any dataset with a key),
    required columns, then one check per foreign key.
    """
    checks: list[Check] = []
    if dataset.accounted_from is not None:
        checks.append(rows_accounted_for(dataset))
    if dataset.unique_key:
        checks.append(keys_unique(dataset))
    if dataset.required_columns:
        checks.append(required_fields_present(dataset))
    checks += [references_exist(dataset, fk) for fk in dataset.foreign_keys]
    return tuple(checks)
