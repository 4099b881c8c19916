"""The Cafcass CMS/ECMS adapters: every rule on hand-built rows, errors, and adapt -> ingest."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from recurrence.cli import main
from recurrence.config import load_config
from recurrence.errors import EXIT_EXTRACT, ConfigError, ExtractError
from recurrence.ingest import ingest_extract
from recurrence.sources import adapt
from recurrence.sources.cafcass import (
    Person,
    SystemData,
    build_contract,
    case_outcome,
    choose_parent,
    classify_application,
    cms_role,
    fix_century,
    load_settings,
    normalise_id,
    parent_pairs,
    parse_flag,
    person_key,
    resolve_roles,
)
from recurrence.sources.cafcass_mothers import MotherRecord, link_mothers_without_alf
from recurrence.sources.log import AdaptationLog
from recurrence.sources.tables import SourceTable, find_table
from recurrence.synth.cafcass_export import generate_cafcass_export
from recurrence.warehouse import connect

D = dt.date
LA_MAP = {"borough": ("E91000001", "E12000001")}


@pytest.fixture
def settings():
    return load_settings()


@pytest.fixture
def log():
    return AdaptationLog("test")


def _table(name="T"):
    return SourceTable(name, Path(f"/x/{name}.csv"), None, ("A",), [])


# ------------------------------------------------------------------------------- value rules


def test_ids_as_text_or_14_digit_numbers_are_one_key():
    t = _table()
    assert normalise_id("00000012345678", t, 1, "ID_PE") == "12345678"
    assert normalise_id("12345678", t, 1, "ID_PE") == "12345678"
    assert normalise_id("12345678.0", t, 1, "ID_PE") == "12345678"
    assert normalise_id("AB12", t, 1, "ID_PE") == "AB12"
    assert normalise_id(None, t, 1, "ID_PE") is None


def test_an_id_in_scientific_notation_stops_naming_file_row_and_column():
    with pytest.raises(ExtractError) as err:
        normalise_id("1.2345678901234E+13", _table("CAFE_ECMS_PEOPLE"), 7, "ID_PE")
    text = str(err.value)
    assert "CAFE_ECMS_PEOPLE.csv" in text
    assert "row 7" in text
    assert "ID_PE" in text
    assert "1.2345678901234E+13" not in text
    assert "as text" in text


def test_true_false_text_flags(settings):
    t = _table()
    assert parse_flag("true", settings, t, 1, "ISSUBJECT") is True
    assert parse_flag("TRUE", settings, t, 1, "ISSUBJECT") is True
    assert parse_flag("False", settings, t, 1, "ISSUBJECT") is False
    assert parse_flag("0", settings, t, 1, "ISSUBJECT") is False
    assert parse_flag(None, settings, t, 1, "ISSUBJECT") is None
    with pytest.raises(ExtractError, match=r"row 3, column ISSUBJECT.*roles.true_values"):
        parse_flag("maybe", settings, t, 3, "ISSUBJECT")


def test_century_typos_in_week_of_birth_are_repaired(settings):
    fixes = settings["people"]["century_fixes"]
    assert fix_century(D(1885, 3, 4), fixes) == (D(1985, 3, 4), True)
    assert fix_century(D(2205, 1, 3), fixes) == (D(2005, 1, 3), True)
    assert fix_century(D(2907, 5, 7), fixes) == (D(2007, 5, 7), True)
    assert fix_century(D(7990, 1, 1), fixes) == (D(1990, 1, 1), True)
    assert fix_century(D(1990, 1, 1), fixes) == (D(1990, 1, 1), False)
    assert fix_century(D(1800, 2, 28), {"18": "19"}) == (D(1900, 2, 28), True)
    assert fix_century(None, fixes) == (None, False)


# ------------------------------------------------------------------------------------- roles


def test_cms_membertype_codes_and_the_legacy_16(settings):
    assert cms_role("1", None, settings) == ("applicant", False)
    assert cms_role("2", None, settings) == ("respondent", False)
    assert cms_role("4", None, settings) == ("subject", False)
    assert cms_role("8", None, settings) == ("unknown", False)
    assert cms_role("16", "Adult Respondent", settings) == ("respondent", True)
    assert cms_role("16", " adult applicant ", settings) == ("applicant", True)
    assert cms_role("16", "Adult", settings) == ("unknown", True)
    assert cms_role("16", "Something else", settings) == ("unclear", False)
    assert cms_role("32", None, settings) == ("unclear", False)


def test_several_roles_on_one_application_are_reported_not_guessed(log):
    roles = {
        ("a1", "p1"): {"subject", "respondent"},
        ("a1", "p2"): {"subject"},
        ("a1", "p3"): {"none"},
        ("a1", "p4"): {"none", "respondent"},
    }
    out = resolve_roles(roles, log, "CAFE_ECMS_PERSONSONAPPLICATIONS")
    assert out == {
        ("a1", "p1"): "unclear",
        ("a1", "p2"): "subject",
        ("a1", "p3"): "none",
        ("a1", "p4"): "respondent",
    }
    assert (
        log.figures[
            "CAFE_ECMS_PERSONSONAPPLICATIONS: person-applications with several roles (unclear)"
        ]
        == 1
    )


# ----------------------------------------------------------------------------- relationships


def test_ecms_relationships_in_both_directions_give_one_parent_pair(log):
    pairs = {("child", "mum"): {"1"}, ("mum", "child"): {"9"}}
    assert parent_pairs(pairs, ["1"], log, "R") == {("child", "mum")}


def test_contradictory_relationships_are_set_aside(log):
    pairs = {
        ("c1", "p1"): {"1", "34"},  # same pair, parent and sibling codes
        ("c2", "p2"): {"1"},
        ("p2", "c2"): {"1"},  # each the other's parent
        ("c3", "p3"): {"1"},
    }
    assert parent_pairs(pairs, ["1"], log, "R") == {("c3", "p3")}
    assert log.set_aside[("R", "same pair recorded with a parent code and another code")] == 1
    assert log.set_aside[("R", "each person recorded as the other's parent")] == 2


def test_which_of_several_mothers_is_used():
    assert choose_parent(["m1"], set(), "prefer_party") == ("m1", "single")
    assert choose_parent(["m1", "m2"], {"m2"}, "prefer_party") == ("m2", "party")
    assert choose_parent(["m1", "m2"], {"m1", "m2"}, "prefer_party") == (None, "ambiguous")
    assert choose_parent(["m1", "m2"], set(), "prefer_party") == (None, "ambiguous")
    assert choose_parent(["m1", "m2"], {"m2"}, "none") == (None, "ambiguous")


# ------------------------------------------------------------------------- types and outcomes


def test_care_proceedings_by_label_or_id(settings):
    assert classify_application("7", "Care (s31)", settings) == "s31_care"
    assert classify_application("7", " care (S31) ", settings) == "s31_care"
    assert classify_application("8", "Supervision (s31)", settings) == "s31_supervision"
    assert classify_application("9", "Residence (s8)", settings) is None
    settings["proceedings"]["s31_care"] = ["7"]
    assert classify_application("7", None, settings) == "s31_care"


def test_outcome_is_the_latest_mapped_output_with_stated_precedence(settings):
    outputs = [
        (None, "1", "Care Order", D(2020, 1, 1)),
        (None, "2", "Placement Order", D(2020, 5, 1)),
        (None, "4", "Special Guardianship Order", D(2020, 5, 1)),
        (None, "8", "Interim Care Order", D(2020, 9, 1)),  # unmapped: ignored
        (None, "1", "Care Order", None),  # undated: ignored
    ]
    assert case_outcome(outputs, settings) == ("placement_order", D(2020, 5, 1))
    assert case_outcome([(None, "8", "Interim Care Order", D(2020, 1, 1))], settings) == (
        None,
        None,
    )


def test_alf_pe_is_the_person_key_with_a_rule_for_conflicts(settings, log):
    assert person_key("cms", "12", Person({"77"}, None, None), settings, log) == "ALF-77"
    assert person_key("ecms", "12", Person(set(), None, None), settings, log) == "ECMS-12"
    both = Person({"77", "78"}, None, None)
    assert person_key("cms", "12", both, settings, log) == "CMS-12"
    settings["people"]["alf_conflict"] = "set_aside"
    assert person_key("cms", "12", both, settings, log) is None
    settings["people"]["use_alf"] = False
    assert person_key("cms", "12", Person({"77"}, None, None), settings, log) == "CMS-12"


# ------------------------------------------------------------------ children, parents, weeks


ISSUE = D(2020, 6, 1)


def _system(name="cms", issue=ISSUE, alf=True):
    """One care case: a 17-year-old, an 18-year-old, a newborn, a mother and a father."""
    data = SystemData(name)
    data.cases["c1"] = "Borough"
    data.applications["a1"] = ("c1", "1", "Care (s31)", issue)
    people = {
        "teen": ("Female", D(2002, 6, 3)),  # Monday; written Thursday 2002-06-06: 17
        "adult": ("Male", D(2002, 5, 27)),  # written 2002-05-30: 18 at issue, not a child
        "baby": ("Male", issue - dt.timedelta(days=10)),
        "mum": ("Female", D(1985, 1, 7)),
        "gran": ("Female", D(1960, 1, 4)),
        "dad": ("Male", D(1983, 1, 3)),
    }
    for n, (pid, (gender, week)) in enumerate(people.items()):
        data.people[pid] = Person(
            {f"{name}{n}" if pid != "mum" else "MUM"} if alf else set(), gender, week
        )
    for pid in ("teen", "adult", "baby"):
        data.roles[("a1", pid)] = "subject"
    data.roles[("a1", "mum")] = "respondent"
    data.roles[("a1", "dad")] = "respondent"
    data.parents = {("baby", "mum"), ("baby", "gran"), ("baby", "dad"), ("teen", "mum")}
    return data


def test_children_are_subjects_under_18_with_parents_from_relationships(settings, log):
    out = build_contract([_system()], settings, LA_MAP, log)
    roles = {r["person_id"]: r["role"] for r in out.people}
    assert roles == {
        "ALF-cms0": "child",
        "ALF-cms2": "child",
        "ALF-MUM": "mother",
        "ALF-cms5": "father",
    }
    assert log.set_aside[("case_people", "subject aged 18 or over at DATEOFAPPLICATION")] == 1
    # the baby has two recorded mothers; the one on the application is used
    assert log.figures["children with several recorded mothers"] == 1
    assert log.figures["mother chosen among several: the one on the case"] == 1
    (case,) = out.cases
    assert case["application_type"] == "s31_care"
    assert case["region_code"] == "E12000001"
    assert case["la_code"] == "E91000001"
    mother = next(r for r in out.people if r["role"] == "mother")
    assert mother["birth_year_month"] == "1985-01"
    assert mother["sex"] == "F"


def test_week_of_birth_precision_gives_lower_and_upper_newborn_counts(settings, log):
    # the baby's week starts 10 days before issue: 4 to 10 days old, written as 7 days
    out = build_contract([_system()], settings, LA_MAP, log)
    baby = next(r for r in out.people if r["person_id"] == "ALF-cms2")
    assert baby["birth_date"] == "2020-05-25"
    assert baby["birth_date_precision"] == "week"
    assert log.figures["children under 7 days at issue (lower, counted, upper)"] == [0, 0, 1]
    assert log.figures["children under 14 days at issue (lower, counted, upper)"] == [1, 1, 1]


def test_week_of_birth_offset_is_a_setting(settings, log):
    settings["people"]["week_of_birth_offset_days"] = 6
    out = build_contract([_system()], settings, LA_MAP, log)
    baby = next(r for r in out.people if r["person_id"] == "ALF-cms2")
    assert baby["birth_date"] == "2020-05-28"
    assert log.figures["children under 7 days at issue (lower, counted, upper)"] == [0, 1, 1]


def test_one_person_in_two_roles_in_a_case_gives_no_row(settings, log):
    data = _system()
    data.people["dad"].alfs = {"cms0"}  # the same ALF_PE as the teenage child
    out = build_contract([data], settings, LA_MAP, log)
    assert "ALF-cms0" not in {r["person_id"] for r in out.people}
    assert log.set_aside[("case_people", "one person in several roles in one case")] == 1


def test_an_ecms_copy_of_a_cms_case_is_set_aside(settings, log):
    cms, ecms = _system("cms"), _system("ecms")
    for pid in ecms.people:
        ecms.people[pid].alfs = set(cms.people[pid].alfs)  # the same people, joined by ALF_PE
    out = build_contract([cms, ecms], settings, LA_MAP, log)
    assert [c["case_id"] for c in out.cases] == ["CMS-c1"]
    assert log.figures["mothers joined by ALF_PE across CMS and ECMS"] == 0
    assert log.set_aside[("cases", "ECMS copy of a CMS case (migrated at the switch)")] == 1
    settings["proceedings"]["overlap_rule"] = "keep_both"
    log = AdaptationLog("x")
    out = build_contract([cms, ecms], settings, LA_MAP, log)
    assert [c["case_id"] for c in out.cases] == ["CMS-c1", "ECMS-c1"]
    assert log.figures["mothers joined by ALF_PE across CMS and ECMS"] == 1
    assert log.figures["mothers in several cases joined by ALF_PE"] == 1
    assert log.figures["mother rows keyed by ALF_PE / by a system id"] == [2, 0]


def test_cases_without_care_application_or_known_authority_are_set_aside(settings, log):
    private = _system()
    private.applications["a1"] = ("c1", "4", "Child Arrangements (s8)", D(2020, 6, 1))
    assert build_contract([private], settings, LA_MAP, log).cases == []
    assert log.set_aside[("cases", "no application of a configured care type (proceedings)")]
    unknown = _system()
    unknown.cases["c1"] = "Elsewhere"
    assert build_contract([unknown], settings, LA_MAP, log).cases == []
    assert log.set_aside[("cases", "local authority not in the local-authority file")] == 1


# --------------------------------------------------------------------------------- settings


def test_settings_reject_unknown_keys_and_bad_choices(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[people]\nnot_a_setting = 1\n")
    with pytest.raises(ConfigError, match=r"Unknown setting people\.not_a_setting"):
        load_settings(path)
    path.write_text('[relationships]\nmultiple_parents = "first"\n')
    with pytest.raises(ConfigError, match="multiple_parents must be one of"):
        load_settings(path)
    path.write_text('[proceedings]\ns31_care = ["Care", "C110A"]\n')
    assert load_settings(path)["proceedings"]["s31_care"] == ["Care", "C110A"]


def test_table_names_with_or_without_schema_and_refresh_suffix(tmp_path, settings):
    pattern = settings["tables"]["pattern"]
    for name in ("CAFE_ECMS_CASES.csv", "sail1661v.cafe_ecms_cases_20240111.parquet"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / name).write_text("")
        path, refresh = find_table(folder, "CAFE_ECMS_CASES", pattern)
        assert path.name == name
    assert refresh == D(2024, 1, 11)
    (folder / "CAFE_ECMS_CASES_20230601.csv").write_text("")
    with pytest.raises(ExtractError, match=r"tables\.refresh_date"):
        find_table(folder, "CAFE_ECMS_CASES", pattern)
    assert find_table(folder, "CAFE_ECMS_CASES", pattern, "20230601")[1] == D(2023, 6, 1)
    assert find_table(folder, "CAFE_ECMS_CASESX", pattern) is None


# ------------------------------------------------------------------------- whole exports


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    truth = generate_cafcass_export(folder, seed=7, families=80, alf_coverage=1.0)
    return folder, truth


def _ingest(extract: Path, tmp_path: Path):
    con = connect(tmp_path / "wh.duckdb")
    try:
        return list(ingest_extract(con, extract, load_config().ingest))
    finally:
        con.close()


def test_round_trip_adapt_then_ingest_accounts_for_every_row(export, tmp_path):
    folder, truth = export
    log = adapt(["cafcass-cms", "cafcass-ecms"], folder, tmp_path / "extract")
    tables = {t.table_name: t for t in _ingest(tmp_path / "extract", tmp_path)}
    for t in tables.values():
        assert t.rows_read == t.rows_loaded + t.rows_quarantined
    assert tables["cases"].rows_read == truth["cases"] == tables["cases"].rows_loaded
    assert tables["case_people"].rows_quarantined == 0
    aside = log.as_dict()["set_aside"]
    reasons = {(a["table"], a["reason"]): a["rows"] for a in aside}
    assert (
        reasons[("cases", "ECMS copy of a CMS case (migrated at the switch)")]
        == truth["copied_cases"]
    )
    assert (
        reasons[("cases", "no application of a configured care type (proceedings)")]
        == truth["private_cases"]
    )
    for n in (7, 14):
        lower, _, upper = log.figures[f"children under {n} days at issue (lower, counted, upper)"]
        assert lower <= truth[f"newborn_{n}"] <= upper


def test_the_log_holds_no_identifier(export, tmp_path):
    folder, _ = export
    adapt(["cafcass"], folder, tmp_path / "extract")
    text = (tmp_path / "extract" / "adaptation_log.json").read_text()
    json.loads(text)
    ids = set()
    for path in folder.glob("SAIL1661V.*.csv"):
        with path.open() as handle:
            for row in csv.DictReader(handle):
                ids.update(v for k, v in row.items() if k.endswith("_PE") and v)
    numbers = set(re.findall(r"\d{5,}", text))
    assert not numbers & {str(int(i)) for i in ids}
    assert not numbers & ids


def test_parquet_export_gives_the_same_extract(tmp_path):
    generate_cafcass_export(tmp_path / "csv", seed=3, families=20)
    generate_cafcass_export(tmp_path / "pq", seed=3, families=20, file_format="parquet")
    adapt(["cafcass"], tmp_path / "csv", tmp_path / "a")
    adapt(["cafcass"], tmp_path / "pq", tmp_path / "b")
    for name in ("cases.csv", "case_people.csv"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


def test_one_system_alone(export, tmp_path):
    folder, _ = export
    log = adapt(["cafcass-cms"], folder, tmp_path / "cms")
    assert "ECMS cases written" not in log.figures
    assert log.figures["CMS cases written"] > 0


# ----------------------------------------------------------------------------- bad input


def _copy(export, tmp_path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(export[0], folder)
    return folder


def test_a_missing_table_is_named_with_the_fix(export, tmp_path):
    folder = _copy(export, tmp_path)
    (folder / "SAIL1661V.CAFE_ECMS_PEOPLE_20240111.csv").unlink()
    with pytest.raises(ExtractError) as err:
        adapt(["cafcass-ecms"], folder, tmp_path / "out")
    assert "CAFE_ECMS_PEOPLE not found" in str(err.value)
    assert "tables.pattern" in str(err.value)


def test_a_missing_column_is_named_with_the_columns_found(export, tmp_path):
    folder = _copy(export, tmp_path)
    path = folder / "SAIL1661V.CAFE_CMS_TBLPERSON_20191220.csv"
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("WEEKOFBIRTH", "WOB")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ExtractError) as err:
        adapt(["cafcass-cms"], folder, tmp_path / "out")
    text = str(err.value)
    assert path.name in text
    assert "WEEKOFBIRTH missing" in text
    assert "WOB" in text


def test_an_unparseable_date_names_file_row_and_column(export, tmp_path):
    folder = _copy(export, tmp_path)
    path = folder / "SAIL1661V.CAFE_CMS_TBLCASEAPPLICATION_20191220.csv"
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    col = rows[0].index("DATEOFAPPLICATION")
    rows[3][col] = "3rd of May 2010"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(ExtractError) as err:
        adapt(["cafcass-cms"], folder, tmp_path / "out")
    text = str(err.value)
    assert path.name in text
    assert "row 3, column DATEOFAPPLICATION" in text
    assert "tables.date_formats" in text
    assert "3rd of May" not in text


def test_cli_adapt_succeeds_and_a_bad_folder_exits_3(export, tmp_path, capsys):
    folder, _ = export
    assert (
        main(
            [
                "adapt",
                "--source",
                "cafcass-cms",
                "--source",
                "cafcass-ecms",
                "--in",
                str(folder),
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 0
    )
    assert (tmp_path / "x" / "extract.toml").is_file()
    assert (
        main(
            [
                "adapt",
                "--source",
                "cafcass",
                "--in",
                str(tmp_path / "nope"),
                "--out",
                str(tmp_path / "y"),
            ]
        )
        == EXIT_EXTRACT
    )
    assert "input folder does not exist" in capsys.readouterr().err


def test_the_run_stage_settings_are_checked_before_a_run():
    assert load_config().source.adapter == ""
    config = load_config(overrides=['source.adapter="cafcass"', 'source.input="export"'])
    assert config.source.adapter == "cafcass"
    with pytest.raises(
        ConfigError, match=r"source\.adapter \(from --set\) must be one of \"\", cafcass-cms"
    ):
        load_config(overrides=['source.adapter="cafcass-wales"'])
    with pytest.raises(ConfigError, match=r"source\.input is empty"):
        load_config(overrides=['source.adapter="cafcass-ecms"'])


def _mother_pairs_f1(extract: Path, truth_file: Path) -> float:
    """Pairwise F1 of 'same mother' over care cases: the adapter's person key against truth."""
    with truth_file.open() as handle:
        truth = {r["case_id"]: r["true_mother"] for r in csv.DictReader(handle)}
    with (extract / "case_people.csv").open() as handle:
        keys = {
            r["case_id"]: r["person_id"] for r in csv.DictReader(handle) if r["role"] == "mother"
        }
    cases = sorted(truth)
    tp = fp = fn = 0
    for i, a in enumerate(cases):
        for b in cases[i + 1 :]:
            same = truth[a] == truth[b]
            linked = a in keys and keys.get(a) == keys.get(b)
            tp += same and linked
            fp += linked and not same
            fn += same and not linked
    return 2 * tp / (2 * tp + fp + fn)


def _adapt_scored(tmp_path: Path, seed: int, coverage: float, model: bool) -> float:
    generate_cafcass_export(tmp_path / "in", seed=seed, families=150, alf_coverage=coverage)
    settings = tmp_path / "model.toml"
    settings.write_text(f"[mother_linkage]\nenabled = {str(model).lower()}\n")
    adapt(["cafcass"], tmp_path / "in", tmp_path / "out", settings)
    return _mother_pairs_f1(tmp_path / "out", tmp_path / "in" / "truth_mothers.csv")


@pytest.mark.parametrize(("coverage", "floor"), [(1.0, 0.99), (0.9, 0.97), (0.0, 0.65)])
def test_mothers_joined_by_alf_pe_against_truth(tmp_path, coverage, floor):
    """ALF_PE alone: perfect at full coverage; without it only one system's own id joins.

    On this world (seed 5) F1 is 1.00 at 100% coverage, 0.98 at 90% and 0.70 at 0% (no mother
    is joined across the 2014 switch). These floors record where deterministic ALF_PE stands
    without the mother model, so that a change for the worse is seen.
    """
    assert _adapt_scored(tmp_path, 5, coverage, model=False) >= floor


@pytest.mark.parametrize(
    ("seed", "coverage", "floor"),
    [(5, 0.0, 0.97), (5, 0.5, 0.99), (5, 0.9, 0.99), (6, 0.0, 0.95), (6, 0.9, 0.99)],
)
def test_the_mother_model_joins_the_switch_where_alf_pe_is_missing(tmp_path, seed, coverage, floor):
    """The model on this small world (150 families): F1 against truth, with its floor.

    Measured (docs/sources.md): seed 5 0.980 / 1.000 / 1.000 at 0% / 50% / 90% coverage, seed 6
    0.968 / 1.000 / 1.000 (ALF_PE alone: 0.70 / 0.90 / 0.98 and 0.80 / 0.90 / 0.94). At 0% the
    target (0.98) is not met on every seed, and on larger worlds the week of birth says less:
    see the docs for why.
    """
    assert _adapt_scored(tmp_path, seed, coverage, model=True) >= floor


def test_native_parquet_types_give_the_same_extract(export, tmp_path):
    """Keys as 64-bit integers and dates as timestamps read the same as text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = _copy(export, tmp_path)
    adapt(["cafcass"], folder, tmp_path / "text")
    path = folder / "SAIL1661V.CAFE_ECMS_APPLICATIONS_20240111.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = pa.table(
        {
            "ID_PE": pa.array([int(r["ID_PE"]) for r in rows], pa.int64()),
            "CASE_ID_PE": pa.array([int(r["CASE_ID_PE"]) for r in rows], pa.int64()),
            "APPLICATIONTYPE1_ID": pa.array([int(r["APPLICATIONTYPE1_ID"]) for r in rows]),
            "DATEOFAPPLICATION": pa.array(
                [dt.datetime.fromisoformat(r["DATEOFAPPLICATION"]) for r in rows],
                pa.timestamp("us"),
            ),
        }
    )
    path.unlink()
    pq.write_table(table, path.with_suffix(".parquet"))
    adapt(["cafcass"], folder, tmp_path / "native")
    for name in ("cases.csv", "case_people.csv"):
        assert (tmp_path / "text" / name).read_text() == (tmp_path / "native" / name).read_text()


def test_a_missing_lookup_is_noted_and_types_match_by_id(export, tmp_path):
    folder = _copy(export, tmp_path)
    (folder / "SAILCAFEREFV.ECMS_APPLICATIONTYPES_20240111.csv").unlink()
    log = adapt(["cafcass-ecms"], folder, tmp_path / "by_label")
    assert "lookup ECMS_APPLICATIONTYPES not found: types matched by id only" in log.notes
    assert log.figures["cases written"] == 0
    settings = tmp_path / "ids.toml"
    settings.write_text('[proceedings]\ns31_care = ["1"]\ns31_supervision = ["2"]\n')
    log = adapt(["cafcass-ecms"], folder, tmp_path / "by_id", settings)
    assert log.figures["cases written"] > 0


# ----------------------------------------------------------------- mothers without ALF_PE


def _mother(key, system, case, week, la="E1", children=(), fathers=()):
    return MotherRecord(key, system, case, week, la, frozenset(children), frozenset(fathers))


def _world(extra=()):
    """Twenty CMS and twenty ECMS women born in different weeks, each with two sets of
    proceedings in her own system (so m and u can be estimated), plus ``extra`` records."""
    records = []
    for n in range(20):
        for system, offset in (("cms", 0), ("ecms", 1000)):
            week = D(1980, 1, 7) + dt.timedelta(weeks=3 * n + (offset and 1))
            father = D(1975, 1, 6) + dt.timedelta(weeks=n + offset)
            for case in (1, 2):
                records.append(
                    _mother(
                        f"{system.upper()}-{n}",
                        system,
                        f"{system}{n}-{case}",
                        week,
                        fathers=[father] if case == 1 or n % 2 else [],
                    )
                )
    return records + list(extra)


def test_a_shared_father_joins_one_woman_across_the_switch(settings, log):
    week, father = D(1990, 5, 7), D(1988, 1, 4)
    extra = [
        _mother("CMS-q7z", "cms", "c1", week, fathers=[father]),
        _mother("ECMS-q7z", "ecms", "e1", week + dt.timedelta(days=7), fathers=[father]),
    ]
    links = link_mothers_without_alf(_world(extra), settings, log)
    assert links.joined == {"ECMS-q7z": "CMS-q7z"}
    assert log.figures["mothers joined by the model across CMS and ECMS"] == 1
    assert not any("q7z" in str(v) for v in log.figures.values())


def test_a_different_father_or_two_alf_keys_do_not_join(settings, log):
    week = D(1990, 5, 7)
    extra = [
        _mother("CMS-a", "cms", "c1", week, fathers=[D(1988, 1, 4)]),
        _mother("ECMS-a", "ecms", "e1", week, fathers=[D(1970, 1, 5)]),
        _mother("ALF-1", "cms", "c2", D(1992, 1, 6), children=[(D(2012, 1, 2), "F")]),
        _mother("ALF-2", "ecms", "e2", D(1992, 1, 6), children=[(D(2012, 1, 2), "F")]),
    ]
    links = link_mothers_without_alf(_world(extra), settings, log)
    assert ("CMS-a", "ECMS-a") in links.probabilities
    assert links.probabilities[("CMS-a", "ECMS-a")] < 0.5
    assert ("ALF-1", "ALF-2") not in links.probabilities
    assert links.joined == {}


def test_each_key_is_joined_at_most_once_the_most_probable_first(settings, log):
    week, child = D(1990, 5, 7), (D(2010, 3, 1), "M")
    extra = [
        _mother("CMS-x", "cms", "c1", week, children=[child]),
        _mother("ECMS-y", "ecms", "e1", week, children=[child]),
        _mother("ECMS-z", "ecms", "e2", week),
    ]
    links = link_mothers_without_alf(_world(extra), settings, log)
    assert links.joined == {"ECMS-y": "CMS-x"}
    assert links.only_week == 1  # CMS-x with ECMS-z: nothing but the week of birth
    settings["mother_linkage"]["enabled"] = False
    assert link_mothers_without_alf(_world(extra), settings, log).joined == {}


def test_an_ecms_copy_is_recognised_by_its_mother_where_the_children_lack_alf_pe():
    from recurrence.sources.cafcass import model_copies

    kids = [(D(2013, 11, 4), "F"), (D(2010, 2, 1), "M")]
    records = [
        _mother("CMS-1", "cms", "CMS-c1", D(1985, 1, 7), children=kids),
        _mother("ECMS-9", "ecms", "ECMS-e1", D(1985, 1, 7), children=kids),  # the copy
        _mother("ECMS-9", "ecms", "ECMS-e2", D(1985, 1, 7), children=kids[:1]),  # not the same
        _mother("ALF-5", "cms", "CMS-c2", D(1990, 1, 1), children=kids[1:]),
        _mother("ALF-5", "ecms", "ECMS-e3", D(1990, 1, 1), children=kids[1:]),  # one ALF mother
        _mother("ECMS-7", "ecms", "ECMS-e4", D(1985, 1, 7), children=kids),  # mother not joined
    ]
    issue = {
        "CMS-c1": D(2014, 3, 20),
        "ECMS-e1": D(2014, 4, 2),
        "ECMS-e2": D(2014, 4, 2),
        "CMS-c2": D(2014, 3, 1),
        "ECMS-e3": D(2014, 6, 1),  # 92 days later: a new set of proceedings, not a copy
        "ECMS-e4": D(2014, 4, 2),
    }
    assert model_copies(records, {"ECMS-9": "CMS-1"}, issue, 31) == {"ECMS-e1"}
    issue["ECMS-e3"] = D(2014, 3, 25)
    assert model_copies(records, {"ECMS-9": "CMS-1"}, issue, 31) == {"ECMS-e1", "ECMS-e3"}
    assert model_copies(records, {}, issue, 31) == {"ECMS-e3"}
