"""The catalog: every warehouse table, step and released file of a run, declared once.

Each :class:`Dataset` says what one step of the run makes: its name (``schema.table``, which is
also its Dagster asset key), its stage, what it reads, its keys and foreign keys, how disclosive
it is, the further warehouse tables it writes and the files it writes for release. The code
location takes asset keys, dependencies and check targets from here, the asset checks of keys,
references and row accounting are made from these declarations (:mod:`recurrence.checks`), and
``docs/architecture.md`` lists them, so none of these can drift from the others.

The raw and staging tables are derived from the data contract (:mod:`recurrence.contract`):
their keys, required columns and foreign keys are declared there, once, for ingest as well.

This module is data only: it imports nothing of the stages, so anything may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from recurrence.contract import TABLES, TABLES_BY_NAME, ForeignKey, Table

#: How disclosive a dataset is, from the most to the least:
#:
#: - ``record``: one row per person, case or birth of the extract, with pseudonymised ids;
#: - ``aggregate``: counts and estimates before disclosure control, never released as they are;
#: - ``about_the_extract``: counts, file names and checksums describing the extract and the run;
#: - ``suppressed``: after disclosure control; what the released files are written from;
#: - ``release``: files written into the run's report folder, checked as a whole before release.
Disclosure = Literal["record", "aggregate", "about_the_extract", "suppressed", "release"]
DISCLOSURE_CLASSES: tuple[str, ...] = (
    "record",
    "aggregate",
    "about_the_extract",
    "suppressed",
    "release",
)

#: The stages, in run order: each is a Dagster asset group and a folder of ``pipelines/defs``.
STAGES: tuple[str, ...] = (
    "ingest",
    "linkage",
    "rates",
    "recurrence",
    "outcomes",
    "profiles",
    "reports",
)


@dataclass(frozen=True)
class Dataset:
    """One step of the run and the table (or files) it makes.

    Attributes
    ----------
    name
        ``schema.table``: the warehouse table, and the asset key (``schema/table``).
    stage
        The stage (asset group) the step belongs to; one of :data:`STAGES`.
    summary
        One line saying what it holds, for the documentation.
    inputs
        The datasets the step reads: the asset's dependencies.
    disclosure
        How disclosive it is; one of :data:`DISCLOSURE_CLASSES`.
    contract
        The contract table behind a ``raw`` or ``staging`` table (its key, required columns and
        foreign keys come from there).
    key
        Columns no two rows share, when declared here rather than by the contract; a dataset
        with a key gets the blocking ``keys_unique`` check.
    also_writes
        Further warehouse tables the step writes, so every table is declared somewhere.
    files
        Files the step writes into the run's report folder (``*`` for a set of figures).
    """

    name: str
    stage: str
    summary: str
    inputs: tuple[str, ...] = ()
    disclosure: Disclosure = "record"
    contract: str | None = None
    key: tuple[str, ...] = ()
    also_writes: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    @property
    def schema(self) -> str:
        """The warehouse schema (``staging``, ``analysis``, ...), the asset key's prefix."""
        return self.name.split(".", 1)[0]

    @property
    def path(self) -> tuple[str, str]:
        """The asset key's parts: ``(schema, table)``."""
        schema, table = self.name.split(".", 1)
        return schema, table

    @property
    def contract_table(self) -> Table | None:
        """The contract table of a raw or staging dataset, else None."""
        return TABLES_BY_NAME[self.contract] if self.contract else None

    @property
    def unique_key(self) -> tuple[str, ...]:
        """The columns no two loaded rows share: the contract's key, or the declared one."""
        table = self.contract_table
        return table.key if table is not None and self.schema == "staging" else self.key

    @property
    def foreign_keys(self) -> tuple[ForeignKey, ...]:
        """References every loaded row must satisfy (staging tables, from the contract)."""
        table = self.contract_table
        return table.foreign_keys if table is not None and self.schema == "staging" else ()

    @property
    def accounted_from(self) -> str | None:
        """The raw table whose every row is either loaded here or quarantined, if any."""
        return f"raw.{self.contract}" if self.contract and self.schema == "staging" else None

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns filled on every loaded row (staging tables, from the contract)."""
        table = self.contract_table
        return table.required_columns if table is not None and self.schema == "staging" else ()

    @property
    def writes_release_files(self) -> bool:
        """Whether the step writes into the run's report folder (it must be released after)."""
        return bool(self.files)


EXTRACT_INFO = "audit.extract_info"
PLAUSIBILITY = "audit.plausibility"


def _raw(table: Table) -> Dataset:
    return Dataset(
        f"raw.{table.name}",
        "ingest",
        f"every row of the extract's {table.name} file as read ({table.meaning})",
        inputs=(EXTRACT_INFO,),
        contract=table.name,
    )


def _staging(table: Table) -> Dataset:
    # A table that refers to another is validated after it: its references are checked
    # against the rows loaded there.
    referenced = tuple(f"staging.{fk.table}" for fk in table.foreign_keys)
    return Dataset(
        f"staging.{table.name}",
        "ingest",
        f"valid rows of {table.name}, typed per the data contract",
        inputs=(f"raw.{table.name}", *referenced),
        contract=table.name,
    )


_STAGING = tuple(f"staging.{t.name}" for t in TABLES)
_CASES, _CASE_PEOPLE, _BIRTHS, _LIVE_BIRTHS = _STAGING

INGEST: tuple[Dataset, ...] = (
    Dataset(
        EXTRACT_INFO,
        "ingest",
        "the extract read: end date, source, every file with its size and SHA-256",
        disclosure="about_the_extract",
        also_writes=("audit.extract_files",),
    ),
    *(_raw(t) for t in TABLES),
    *(_staging(t) for t in TABLES),
    Dataset(
        PLAUSIBILITY,
        "ingest",
        "legal but implausible values, counted by rule",
        inputs=(EXTRACT_INFO, *_STAGING),
        disclosure="about_the_extract",
    ),
)

CHILD_BIRTHS = "linkage.child_births"
MOTHER_KEYS = "linkage.mother_keys"
MOTHER_BIRTHS = "linkage.mother_births"

LINKAGE: tuple[Dataset, ...] = (
    Dataset(
        CHILD_BIRTHS,
        "linkage",
        "each child in proceedings linked to its maternity birth record",
        inputs=(_CASES, _CASE_PEOPLE, _BIRTHS),
        also_writes=("linkage.child_records", "linkage.birth_records", "linkage.child_birth_pairs"),
    ),
    Dataset(
        MOTHER_KEYS,
        "linkage",
        "one mother_key per woman behind every mother row of proceedings",
        inputs=(_CASES, _CASE_PEOPLE, CHILD_BIRTHS),
        also_writes=(
            "linkage.mother_records",
            "linkage.mother_pairs",
            "linkage.mother_edges",
            "linkage.mother_edges_held_back",
            "linkage.mother_edges_split",
            "linkage.mother_conflicts",
            "linkage.mother_evidence",
            "linkage.mother_clusters",
            "linkage.clerical_sample",
        ),
    ),
    Dataset(
        MOTHER_BIRTHS,
        "linkage",
        "every maternity birth of each mother",
        inputs=(MOTHER_KEYS, CHILD_BIRTHS, _BIRTHS),
    ),
    Dataset(
        "linkage.summary",
        "linkage",
        "linkage counts and rates by region and year",
        inputs=(MOTHER_KEYS, CHILD_BIRTHS, MOTHER_BIRTHS),
        disclosure="aggregate",
    ),
    Dataset(
        "linkage.quality",
        "linkage",
        "linkage quality against the synthetic truth, beside the person-id baseline",
        inputs=(MOTHER_KEYS, CHILD_BIRTHS, MOTHER_BIRTHS),
        disclosure="aggregate",
    ),
)

NEWBORN_CHILDREN = "analysis.newborn_children"
LIVE_BIRTHS_BY_YEAR = "analysis.live_births_by_region_year"
NEWBORN_RATES = "analysis.newborn_rates"
PUBLISHED_RATES = "published.newborn_rates"

RATES: tuple[Dataset, ...] = (
    Dataset(
        NEWBORN_CHILDREN,
        "rates",
        "children in care proceedings, aged at entry and placed in a year",
        inputs=(_CASES, _CASE_PEOPLE, CHILD_BIRTHS, MOTHER_KEYS),
    ),
    Dataset(
        LIVE_BIRTHS_BY_YEAR,
        "rates",
        "live births by region (and local authority) and year",
        inputs=(_BIRTHS, _LIVE_BIRTHS),
        disclosure="aggregate",
    ),
    Dataset(
        NEWBORN_RATES,
        "rates",
        "newborns and infants in proceedings per 10,000 live births, unsuppressed",
        inputs=(NEWBORN_CHILDREN, LIVE_BIRTHS_BY_YEAR, EXTRACT_INFO),
        disclosure="aggregate",
        also_writes=("analysis.newborn_counts", "analysis.newborn_precision"),
    ),
    Dataset(
        PUBLISHED_RATES,
        "rates",
        "the releasable rates, after primary and secondary suppression",
        inputs=(NEWBORN_RATES,),
        disclosure="suppressed",
        also_writes=("published.newborn_precision",),
    ),
    Dataset(
        "reports.newborn_rates",
        "rates",
        "the released rate files: CSV, spreadsheet and figures",
        inputs=(PUBLISHED_RATES,),
        disclosure="release",
        files=(
            "newborn_rates.csv",
            "newborn_rates.xlsx",
            "newborn_precision.csv",
            "newborn_rates_*.png",
            "newborn_rates_*.svg",
        ),
    ),
)

COHORT = "analysis.recurrence_cohort"
ESTIMATES = "analysis.recurrence_estimates"
COX = "analysis.cox_hazard_ratios"
SENSITIVITY = "analysis.recurrence_linkage_sensitivity"
PUBLISHED_RECURRENCE = "published.recurrence_estimates"

RECURRENCE: tuple[Dataset, ...] = (
    Dataset(
        COHORT,
        "recurrence",
        "birth mothers in a first observed set of proceedings, and their first return",
        inputs=(_CASES, _CASE_PEOPLE, MOTHER_KEYS, EXTRACT_INFO),
    ),
    Dataset(
        ESTIMATES,
        "recurrence",
        "chance of return by each horizon, overall and by covariate, unsuppressed",
        inputs=(COHORT,),
        disclosure="aggregate",
    ),
    Dataset(
        COX,
        "recurrence",
        "Cox hazard ratios of each covariate level, with the proportional-hazards test",
        inputs=(COHORT,),
        disclosure="aggregate",
        also_writes=("analysis.cox_ph_test", "analysis.cox_zph_residuals"),
    ),
    Dataset(
        SENSITIVITY,
        "recurrence",
        "the headline estimate with linkage beside person_id-only linkage",
        inputs=(COHORT,),
        disclosure="aggregate",
    ),
    Dataset(
        PUBLISHED_RECURRENCE,
        "recurrence",
        "released chance of return and hazard ratios, small groups suppressed",
        inputs=(ESTIMATES, COX),
        disclosure="suppressed",
        also_writes=(
            "published.cox_hazard_ratios",
            "published.cox_ph_test",
            "published.cox_zph_bins",
        ),
        files=("recurrence_estimates.csv", "cox_hazard_ratios.csv", "cox_zph_bins.csv"),
    ),
)

CASE_OUTCOMES = "analysis.case_outcomes"
PROPORTIONS = "analysis.outcome_proportions"
PUBLISHED_OUTCOMES = "published.outcomes"

OUTCOMES: tuple[Dataset, ...] = (
    Dataset(
        CASE_OUTCOMES,
        "outcomes",
        "every set of proceedings classed by how it ended",
        inputs=(_CASES, MOTHER_KEYS),
    ),
    Dataset(
        PROPORTIONS,
        "outcomes",
        "shares ending in removal or at home, and weeks to the final hearing, unsuppressed",
        inputs=(CASE_OUTCOMES, EXTRACT_INFO),
        disclosure="aggregate",
        also_writes=("analysis.outcome_cells",),
    ),
    Dataset(
        PUBLISHED_OUTCOMES,
        "outcomes",
        "the releasable outcomes table, after disclosure control",
        inputs=(PROPORTIONS,),
        disclosure="suppressed",
    ),
    Dataset(
        "reports.outcomes",
        "outcomes",
        "the released outcomes file",
        inputs=(PUBLISHED_OUTCOMES,),
        disclosure="release",
        files=("outcomes.csv",),
    ),
)

LA_ESTIMATES = "analysis.la_recurrence_estimates"
PUBLISHED_LA = "published.la_recurrence"
PUBLISHED_TIMING = "published.newborn_timing"
LA_PROFILES = "reports.la_profiles"

PROFILES: tuple[Dataset, ...] = (
    Dataset(
        LA_ESTIMATES,
        "profiles",
        "chance of return at 5 and 7 years by region and local authority, unsuppressed",
        inputs=(COHORT,),
        disclosure="aggregate",
    ),
    Dataset(
        PUBLISHED_LA,
        "profiles",
        "the releasable chance of return by local authority, with funnel limits",
        inputs=(LA_ESTIMATES, PUBLISHED_RECURRENCE),
        disclosure="suppressed",
        files=("la_recurrence.csv", "la_recurrence_funnel.png", "la_recurrence_funnel.svg"),
    ),
    Dataset(
        PUBLISHED_TIMING,
        "profiles",
        "newborns by days from birth to issue, by region and year, after suppression",
        inputs=(PUBLISHED_RATES,),
        disclosure="suppressed",
        also_writes=("analysis.newborn_timing",),
        files=("newborn_timing.csv",),
    ),
    Dataset(
        LA_PROFILES,
        "profiles",
        "one HTML and PDF profile per local authority, from published tables only",
        inputs=(PUBLISHED_LA, PUBLISHED_RATES, PUBLISHED_RECURRENCE, PUBLISHED_OUTCOMES),
        disclosure="release",
        files=("profiles/*.html", "profiles/*.pdf"),
    ),
)

RUN_REPORT = "reports.run_report"
RUN_FOLDER_CONTENTS = "reports.run_folder_contents"
RELEASED = "reports.released"

_REPORT = Dataset(
    RUN_REPORT,
    "reports",
    "the run report, from the released tables only",
    inputs=(
        EXTRACT_INFO,
        PLAUSIBILITY,
        *_STAGING,
        "linkage.summary",
        "linkage.quality",
        PUBLISHED_RECURRENCE,
        PUBLISHED_RATES,
        PUBLISHED_OUTCOMES,
    ),
    disclosure="release",
    files=("report.html", "report.pdf"),
)
_WRITERS = tuple(d.name for d in (*RATES, *RECURRENCE, *OUTCOMES, *PROFILES, _REPORT) if d.files)

REPORTS: tuple[Dataset, ...] = (
    _REPORT,
    Dataset(
        RUN_FOLDER_CONTENTS,
        "reports",
        "every file written for release, with size and SHA-256, checked as a whole",
        # Every writer of release files, found from the declarations: a new writer is
        # checked and released without being listed again.
        inputs=_WRITERS,
        disclosure="release",
    ),
    Dataset(
        RELEASED,
        "reports",
        "the run's commit: the report folder and the warehouse made current together",
        # The sensitivity table is read by nothing else: naming it here makes the commit
        # wait for it, so that every asset of the graph comes before the release.
        inputs=(RUN_FOLDER_CONTENTS, SENSITIVITY),
        disclosure="release",
    ),
)

#: Tables every staging step adds its rows to, and one that both linkage models are saved in.
SHARED_TABLES: dict[str, str] = {
    "audit.quarantine": "ingest",
    "audit.ingest_accounting": "ingest",
    "linkage.splink_model": "linkage",
    # How many cells each published table's disclosure control hid (the output-checking pack).
    "audit.disclosure_control": "reports",
}

CATALOG: tuple[Dataset, ...] = (
    *INGEST,
    *LINKAGE,
    *RATES,
    *RECURRENCE,
    *OUTCOMES,
    *PROFILES,
    *REPORTS,
)
BY_NAME: dict[str, Dataset] = {d.name: d for d in CATALOG}


def dataset(name: str) -> Dataset:
    """Return the dataset declared as ``name`` (``schema.table``)."""
    return BY_NAME[name]


def stage(name: str) -> tuple[Dataset, ...]:
    """The datasets of one stage, in declaration order."""
    return tuple(d for d in CATALOG if d.stage == name)


def release_writers() -> tuple[Dataset, ...]:
    """The datasets whose step writes files into the run's report folder."""
    return tuple(d for d in CATALOG if d.writes_release_files)


def warehouse_tables() -> set[str]:
    """Every warehouse table a full run writes (``schema.table``), as declared."""
    # The reports "datasets" are steps writing files and the commit, not warehouse tables.
    tables = {d.name for d in CATALOG if d.schema != "reports"}
    tables |= {t for d in CATALOG for t in d.also_writes}
    return tables | set(SHARED_TABLES)
