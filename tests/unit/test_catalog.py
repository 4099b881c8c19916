"""The catalog declares every dataset once, and its declarations hang together."""

from recurrence import catalog
from recurrence.architecture_doc import architecture_markdown, picture
from recurrence.checks import DISCLOSURE_KINDS, STAGE_CHECKS, checks_for
from recurrence.contract import TABLES
from recurrence.paths import PROJECT_ROOT


def test_every_dataset_is_declared_once_and_reads_only_declared_datasets():
    names = [d.name for d in catalog.CATALOG]
    assert len(names) == len(set(names))
    for d in catalog.CATALOG:
        assert set(d.inputs) <= set(names), d.name
        assert d.stage in catalog.STAGES, d.name
        assert d.disclosure in catalog.DISCLOSURE_CLASSES, d.name


def test_every_warehouse_table_has_one_owner():
    owned = [t for d in catalog.CATALOG for t in d.also_writes] + list(catalog.SHARED_TABLES)
    assert len(owned) == len(set(owned))
    assert not set(owned) & set(catalog.BY_NAME)


def test_staging_tables_take_keys_and_references_from_the_contract():
    for table in TABLES:
        staging = catalog.dataset(f"staging.{table.name}")
        assert staging.unique_key == table.key
        assert staging.foreign_keys == table.foreign_keys
        assert staging.accounted_from == f"raw.{table.name}"
        # A table is validated after the tables it refers to.
        for fk in table.foreign_keys:
            assert f"staging.{fk.table}" in staging.inputs
    assert catalog.dataset("raw.cases").accounted_from is None


def test_the_case_people_reference_is_declared_once():
    (fk,) = catalog.dataset("staging.case_people").foreign_keys
    assert (fk.columns, fk.table, fk.check) == (("case_id",), "cases", "case_people_cases_exist")
    assert catalog.dataset("staging.case_people").inputs == ("raw.case_people", "staging.cases")


def test_release_writers_are_checked_and_released():
    writers = {d.name for d in catalog.release_writers()}
    assert writers == {
        "reports.newborn_rates",
        "published.recurrence_estimates",
        "reports.outcomes",
        "published.la_recurrence",
        "published.newborn_timing",
        "reports.la_profiles",
        "reports.run_report",
    }
    assert set(catalog.dataset(catalog.RUN_FOLDER_CONTENTS).inputs) == writers


def test_stage_checks_target_declared_datasets_with_unique_names():
    assert set(STAGE_CHECKS) <= set(catalog.BY_NAME)
    for d in catalog.CATALOG:
        names = [c.name for c in checks_for(d)]
        assert len(names) == len(set(names)), d.name


def test_every_suppressed_table_has_disclosure_checks():
    for d in catalog.CATALOG:
        if d.disclosure == "suppressed":
            assert any(c.kind in DISCLOSURE_KINDS and c.blocking for c in checks_for(d)), d.name


def test_architecture_page_is_current():
    page = PROJECT_ROOT / "docs" / "architecture.md"
    assert page.read_text(encoding="utf-8") == architecture_markdown(), (
        "docs/architecture.md is out of date: "
        "python -m recurrence.architecture_doc > docs/architecture.md"
    )


def test_the_picture_draws_every_stage_dependency():
    text = picture()
    for reader in catalog.CATALOG:
        for source in (catalog.dataset(i) for i in reader.inputs):
            if source.stage != reader.stage:
                assert f"{source.stage} --> {reader.stage}" in text


def test_every_check_says_what_to_do_in_operations():
    text = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("## When a check fails", 1)[1].split("\n## ", 1)[0]
    for d in catalog.CATALOG:
        for check in checks_for(d):
            assert f"`{check.name}`" in section, check.name
