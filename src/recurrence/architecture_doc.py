"""``docs/architecture.md``: the stages, the catalog and the run path, from the declarations.

The page is generated (``python -m recurrence.architecture_doc > docs/architecture.md``) and a
test fails when it is out of date, so the picture of the stages, the table of datasets and the
list of checks are the ones the code location is built from (:mod:`recurrence.catalog`,
:mod:`recurrence.checks`).
"""

from __future__ import annotations

from recurrence import catalog
from recurrence.checks import checks_for

HEADER = """# Architecture

How a run is put together: the layers, the path every run takes, the stages and the catalog that
declares what each stage makes. This page is generated from `src/recurrence/catalog.py` and
`src/recurrence/checks/` (`python -m recurrence.architecture_doc > docs/architecture.md`); a test
fails when it is out of date.

## Layers

- `src/recurrence/` is the domain library: pure functions over DuckDB and Polars, the data
  contract, the catalog and the check declarations. It does not import Dagster (the command
  line reaches the code location only lazily, through `pipelines.runner`).
- `pipelines/` is the Dagster code location: one folder per stage under `pipelines/defs/`
  (`assets.py` calls the library; `checks.py` is one line, `stage_checks("<stage>")`), the
  `recurrence` resource that holds the release protocol (`pipelines/defs/resources.py`), and
  `pipelines/catalog.py`, which turns declarations into asset keys, dependencies and asset checks.
- `sql/` holds one output table per file, shipped inside the wheel.

## The run path

Every run, whatever starts it, is a run of the same Dagster job over the same definitions, and
every run's lock, private warehouse build and commit are held by the `recurrence` resource, so
the warehouse-and-release guarantee is the same for all three ways in. The picture shows the ways
in, the run path, the stages (an arrow between stages means a dataset of one reads a dataset of
the other, derived from the catalog's `inputs`) and the catalog the code location is built from:

PICTURE

The command line adds only what a terminal needs (failing fast on a bad setting, progress lines,
one last line saying what to do, an exit status); the UI and the sensor get the rest from the job.
A failed blocking check stops everything downstream of it, so nothing reaches
`reports/released` and the previous warehouse and release stay current.

"""

CATALOG_INTRO = """
## The catalog

Every step of the run is declared once in `recurrence.catalog` as a `Dataset`: its name
(`schema.table`, which is also its asset key `schema/table`), its stage, what it reads, how
disclosive it is, the further warehouse tables it writes and the files it writes for release.
The raw and staging tables are derived from the data contract (`recurrence.contract`), which
declares their keys, required columns and foreign keys (the `case_people.case_id` -> `cases`
reference is declared there, once, for ingest's quarantine rule, the asset graph and the check).
Release writers are the datasets that declare files: `reports/run_folder_contents` depends on all
of them, so a new writer is checked and released without being listed anywhere else.

Disclosure classes: `record` (extract rows, or one row per person, case or birth,
pseudonymised; every extract table is treated as this, the most disclosive class), `aggregate`
(counts and estimates before disclosure control, never released as they are),
`about_the_extract` (counts, file names and checksums), `suppressed` (after disclosure control;
must carry blocking disclosure checks), `release` (files in the run's report folder).
"""

CHECKS_INTRO = """
## The checks

Every asset check is a declaration in `recurrence.checks` (a name, what it verifies, the recount
behind it, blocking or not) turned into a Dagster asset check by one factory
(`pipelines.catalog.asset_check`). Factories make the checks that follow from the declarations:
row accounting, key uniqueness and required columns for every staging table, one check per
foreign key, and the three disclosure checks of a suppressed table from its `Suppression` rules
(`no_small_count_visible`, `no_suppressed_<count>_derivable`, `<values>_of_hidden_counts_hidden`).
Each stage's own rules are declared in `recurrence.checks.stages` (the reports stage's, over the
run's report folder, in `recurrence.checks.release`). What to do when one fails:
`docs/operations.md`, "When a check fails".
"""


#: How the page names what made a check (:data:`recurrence.checks.CheckKind`).
MADE_BY = {
    "rows": "row-accounting factory",
    "keys": "key factory",
    "required": "required-columns factory",
    "references": "foreign-key factory",
    "suppression": "suppression factory",
    "disclosure": "stage rule (disclosure)",
    "invariant": "stage rule",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "—"


def stage_edges() -> list[tuple[str, str]]:
    """Pairs (stage read from, stage reading), in stage order, for the picture."""
    order = {s: i for i, s in enumerate(catalog.STAGES)}
    edges = {
        (catalog.dataset(i).stage, d.stage)
        for d in catalog.CATALOG
        for i in d.inputs
        if catalog.dataset(i).stage != d.stage
    }
    return sorted(edges, key=lambda e: (order[e[0]], order[e[1]]))


def picture() -> str:
    """The one picture of the page (mermaid): ways in, run path, stages and catalog."""
    lines = [
        "```mermaid",
        "flowchart TB",
        '    cli["recurrence run"] --> runner["pipelines/runner.py: run_pipeline"]',
        '    ui["recurrence ui / dagster dev"] --> job',
        '    sensor["inbox sensor"] --> job',
        '    runner --> job["asset job of pipelines.definitions"]',
        '    job --> setup["recurrence resource: lock, repair, private build"]',
        '    catalog[("recurrence.catalog + recurrence.checks")] -. "keys, deps, checks" .-> job',
        '    subgraph stages["stages (asset groups)"]',
        *(f"        {a} --> {b}" for a, b in stage_edges()),
        "    end",
        "    setup --> ingest",
        '    reports --> commit["reports/released: build and report folder committed together"]',
        "```",
    ]
    return "\n".join(lines)


def _dataset_rows() -> list[str]:
    rows = [
        "| dataset | stage | reads | key | disclosure | also writes | release files |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in catalog.CATALOG:
        rows.append(
            f"| `{d.name}` | {d.stage} | {_code(d.inputs)} | {_code(d.unique_key)} | "
            f"{d.disclosure} | {_code(d.also_writes)} | {_cell(_code(d.files))} |"
        )
    shared = ", ".join(f"`{t}` ({s})" for t, s in catalog.SHARED_TABLES.items())
    rows.append(f"\nTables written by more than one step of a stage: {shared}.")
    return rows


def _check_rows() -> list[str]:
    rows = ["| dataset | check | made by | blocking | verifies |", "|---|---|---|---|---|"]
    for d in catalog.CATALOG:
        for c in checks_for(d):
            made_by = MADE_BY[c.kind]
            rows.append(
                f"| `{d.name}` | `{c.name}` | {made_by} | {'yes' if c.blocking else 'no (warns)'} "
                f"| {_cell(c.description)} |"
            )
    return rows


def architecture_markdown() -> str:
    """The text of ``docs/architecture.md``."""
    out = [HEADER.replace("PICTURE", picture()).rstrip("\n"), CATALOG_INTRO.rstrip("\n"), ""]
    out += _dataset_rows()
    out += [CHECKS_INTRO.rstrip("\n"), "", *_check_rows()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(architecture_markdown())
