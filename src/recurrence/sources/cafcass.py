"""Cafcass England adapters: CMS (2007-14) and ECMS (2014-) tables as held in the SAIL Databank.

Each system is read into one common model (cases, applications, people, roles on applications,
parent-child pairs, legal outputs) by its own reader, and the common model is turned into the
data contract (``cases``, ``case_people``, an empty ``births``) by one set of rules. Each rule is
a function here, documented in ``docs/sources.md`` and tested on hand-built rows in
``tests/unit/test_sources_cafcass.py``. Every row not carried into the extract is counted in the
adaptation log with its reason; the log holds no identifier value.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recurrence.contract import OUTCOMES, REGIONS
from recurrence.errors import ConfigError, ExtractError
from recurrence.sources.cafcass_mothers import MotherRecord, link_mothers_without_alf
from recurrence.sources.log import AdaptationLog
from recurrence.sources.tables import SourceTable, find_table, parse_date, read_table

SETTINGS_FILE = Path(__file__).with_name("cafcass.toml")
SYSTEMS = ("cms", "ecms")
CARE_TYPES = ("s31_care", "s31_supervision", "epo")


# --------------------------------------------------------------------------------------- settings


def load_settings(path: Path | str | None = None) -> dict[str, dict[str, Any]]:
    """The adapter settings: ``cafcass.toml`` defaults, then a user file (any subset)."""
    with SETTINGS_FILE.open("rb") as handle:
        settings: dict[str, dict[str, Any]] = tomllib.load(handle)
    if path is None:
        return settings
    try:
        with Path(path).open("rb") as handle:
            user = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"Adapter settings file {path} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Adapter settings file {path} is not valid TOML: {exc}.") from None
    for section, values in user.items():
        if section not in settings or not isinstance(values, dict):
            raise ConfigError(
                f"Unknown section [{section}] in {path}; known: {', '.join(settings)}."
            )
        for key, value in values.items():
            if key not in settings[section]:
                raise ConfigError(
                    f"Unknown setting {section}.{key} in {path}; known in [{section}]: "
                    f"{', '.join(settings[section])}."
                )
            if type(value) is not type(settings[section][key]):
                raise ConfigError(
                    f"Setting {section}.{key} in {path} should be "
                    f"{type(settings[section][key]).__name__}."
                )
            settings[section][key] = value
    choices = {
        ("people", "alf_conflict"): ("system_id", "set_aside"),
        ("relationships", "multiple_parents"): ("prefer_party", "none"),
        ("proceedings", "other_cases"): ("set_aside", "other"),
        ("proceedings", "overlap_rule"): ("keep_cms", "keep_both"),
    }
    for (section, key), allowed in choices.items():
        if settings[section][key] not in allowed:
            raise ConfigError(f"Setting {section}.{key} must be one of {', '.join(allowed)}.")
    if not 0 <= settings["people"]["week_of_birth_offset_days"] <= 6:
        raise ConfigError("Setting people.week_of_birth_offset_days must be 0 to 6.")
    return settings


# ------------------------------------------------------------------------------------ value rules

_INTEGER_ID = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_LOSSY_ID = re.compile(r"^\d(?:\.\d+)?[eE][+]?\d+$")


def normalise_id(value: str | None, table: SourceTable, row: int, column: str) -> str | None:
    """Rule ``ids``: keys exported as text or as (up to 14-digit) numbers are the same key.

    ``"00012345"``, ``"12345"`` and ``"12345.0"`` all become ``"12345"``; other text is kept as
    it is. A key in scientific notation lost digits in the export and stops the run.
    """
    if value is None:
        return None
    if _INTEGER_ID.match(value):
        return str(int(value.split(".")[0]))
    if _LOSSY_ID.match(value):
        raise ExtractError(
            str(table.path),
            f"row {row}, column {column}: the key is in scientific notation, so digits were lost "
            "in the export.",
            "Export key columns as text (CAST(... AS VARCHAR)) or as whole numbers.",
        )
    return value


def parse_flag(
    value: str | None,
    settings: dict[str, dict[str, Any]],
    table: SourceTable,
    row: int,
    column: str,
) -> bool | None:
    """Rule ``booleans``: ECMS flags are text ("true"/"false"; also 1/0, t/f, yes/no)."""
    if value is None:
        return None
    low = value.strip().lower()
    if low in settings["roles"]["true_values"]:
        return True
    if low in settings["roles"]["false_values"]:
        return False
    raise ExtractError(
        str(table.path),
        f"row {row}, column {column}: not a true/false value.",
        "Add the spelling used to roles.true_values or roles.false_values.",
    )


def fix_century(day: dt.date | None, fixes: dict[str, str]) -> tuple[dt.date | None, bool]:
    """Rule ``century_typo``: a week-of-birth year starting 18, 22, 29 or 79 gets its century fixed.

    Returns the date and whether it was changed. 29 February in a year where it does not exist
    after the fix becomes 28 February.
    """
    if day is None:
        return None, False
    century = f"{day.year:04d}"[:2]
    if century not in fixes:
        return day, False
    year = int(fixes[century] + f"{day.year:04d}"[2:])
    try:
        return day.replace(year=year), True
    except ValueError:
        return day.replace(year=year, day=28), True


def age_in_years(birth: dt.date, on: dt.date) -> int:
    """Whole years from ``birth`` to ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def match_type(key: str | None, label: str | None, wanted: list[str]) -> bool:
    """Whether an id or its lookup label is one of ``wanted`` (case-insensitive, trimmed)."""
    folded = {w.strip().lower() for w in wanted}
    return any(v is not None and v.strip().lower() in folded for v in (key, label))


# ---------------------------------------------------------------------------------- common model


@dataclass
class Person:
    """One Cafcass person of one system."""

    alfs: set[str]
    gender: str | None
    week_of_birth: dt.date | None


@dataclass
class SystemData:
    """One system's tables, in the common model. Keys are the system's own (normalised) ids."""

    system: str
    cases: dict[str, str | None] = field(default_factory=dict)  # case -> LA label
    applications: dict[str, tuple[str, str | None, str | None, dt.date | None]] = field(
        default_factory=dict
    )  # app -> (case, type id, type label, DATEOFAPPLICATION)
    people: dict[str, Person] = field(default_factory=dict)
    roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (app, person) -> role
    parents: set[tuple[str, str]] = field(default_factory=set)  # (child, parent)
    outputs: list[tuple[str, str | None, str | None, str | None, dt.date | None]] = field(
        default_factory=list
    )  # (case, person or None, type id, label, date)
    refresh: dt.date | None = None
    latest_date: dt.date | None = None


class Reader:
    """Reads one system's tables from a folder, applying the table-level rules."""

    def __init__(self, folder: Path, settings: dict[str, dict[str, Any]], log: AdaptationLog):
        self.folder = folder
        self.settings = settings
        self.log = log
        self.formats = tuple(settings["tables"]["date_formats"])
        self.refreshes: list[dt.date] = []
        self.latest: dt.date | None = None
        self._ids: dict[str | None, str | None] = {}

    def table(self, name: str, *columns: str, optional: bool = False) -> SourceTable | None:
        """Read table ``name`` (stop if a required one or a column is missing)."""
        found = find_table(
            self.folder,
            name,
            self.settings["tables"]["pattern"],
            self.settings["tables"]["refresh_date"],
        )
        if found is None:
            if optional:
                self.log.notes.append(f"lookup {name} not found: types matched by id only")
                return None
            raise ExtractError(
                str(self.folder),
                f"table {name} not found (looked for {name}.csv or {name}.parquet, with or "
                "without a schema prefix and a _YYYYMMDD refresh suffix).",
                "Export the table into this folder, or set tables.pattern to match its file name.",
            )
        table = read_table(found[0], name, found[1])
        table.require(*columns)
        if table.refresh:
            self.refreshes.append(table.refresh)
        return table

    def dedupe(self, table: SourceTable, row_id: str | None) -> list[tuple[int, dict]]:
        """Rule ``exact_duplicates``: rows equal in every column but the row id and load date."""
        seen: set[tuple] = set()
        out = []
        compared = [c for c in table.columns if c not in (row_id, "AVAIL_FROM_DT")]
        for number, row in enumerate(table.rows, start=1):
            key = tuple(row[c] for c in compared)
            if key in seen:
                continue
            seen.add(key)
            out.append((number, row))
        self.log.rule("exact_duplicates", table.name, len(table.rows), len(out))
        self.log.aside(table.name, "exact duplicate of an earlier row", len(table.rows) - len(out))
        return out

    def id(self, table: SourceTable, row: dict, number: int, column: str) -> str | None:
        """The key in ``column`` of a row, normalised (rule ``ids``)."""
        value = row.get(column)
        known = self._ids.get(value)
        if known is None:
            known = self._ids[value] = normalise_id(value, table, number, column)
        return known

    def date(self, table: SourceTable, row: dict, number: int, column: str) -> dt.date | None:
        """The date in ``column`` of a row; the latest event date seen is kept."""
        day = parse_date(row.get(column), self.formats, table, number, column)
        if day is not None and column != "WEEKOFBIRTH":
            self.latest = day if self.latest is None or day > self.latest else self.latest
        return day

    def lookup(self, name: str, key: str, label: str) -> dict[str, str | None]:
        """An optional lookup table as id -> label (empty when the table is absent)."""
        table = self.table(name, key, label, optional=True)
        if table is None:
            return {}
        return {
            self.id(table, row, n, key): row[label] for n, row in enumerate(table.rows, start=1)
        }

    def people(self, table: SourceTable, id_column: str, data: SystemData) -> None:
        """People, with the century-typo rule and the ALF_PE conflict rule."""
        fixes = self.settings["people"]["century_fixes"]
        fixed = 0
        for number, row in self.dedupe(table, None):
            pid = self.id(table, row, number, id_column)
            if pid is None:
                self.log.aside(table.name, "no person id")
                continue
            wob, changed = fix_century(self.date(table, row, number, "WEEKOFBIRTH"), fixes)
            fixed += changed
            alf = self.id(table, row, number, "ALF_PE")
            person = data.people.setdefault(pid, Person(set(), row.get("GENDER"), wob))
            if alf:
                person.alfs.add(alf)
            person.gender = person.gender or row.get("GENDER")
            if person.week_of_birth is None:
                person.week_of_birth = wob
        self.log.rule("century_typo", table.name, len(table.rows), len(table.rows), fixed)


def read_cms(folder: Path, settings: dict[str, dict[str, Any]], log: AdaptationLog) -> SystemData:
    """Read the CMS tables (``CAFE_CMS_TBL*``) and lookups (``CMS_TLKP*``)."""
    r = Reader(folder, settings, log)
    data = SystemData("cms")
    la = r.lookup("CMS_TLKPLOCALAUTHORITY", "LOCALAUTHORITYID", "AUTHORITY")
    app_types = r.lookup(
        "CMS_TLKPCASEAPPLICATIONTYPE", "CASEAPPLICATIONTYPEID", "CASEAPPLICATIONTYPE"
    )
    out_types = r.lookup("CMS_TLKPLEGALOUTPUTTYPE", "LEGALOUTPUTTYPEID", "LEGALOUTPUTTYPE")

    t = r.table("CAFE_CMS_TBLCASE", "CASEID_PE", "LOCALAUTHORITYREF")
    for n, row in r.dedupe(t, None):
        ref = r.id(t, row, n, "LOCALAUTHORITYREF")
        data.cases[r.id(t, row, n, "CASEID_PE")] = la.get(ref, ref) if la else ref
    t = r.table(
        "CAFE_CMS_TBLCASEAPPLICATION",
        "CASEAPPLICATIONID_PE",
        "CASEREF_PE",
        "CASEAPPLICATIONTYPEREF",
        "DATEOFAPPLICATION",
    )
    for n, row in r.dedupe(t, None):
        type_id = r.id(t, row, n, "CASEAPPLICATIONTYPEREF")
        data.applications[r.id(t, row, n, "CASEAPPLICATIONID_PE")] = (
            r.id(t, row, n, "CASEREF_PE"),
            type_id,
            app_types.get(type_id),
            r.date(t, row, n, "DATEOFAPPLICATION"),
        )
    t = r.table("CAFE_CMS_TBLPERSON", "PERSONID_PE", "ALF_PE", "GENDER", "WEEKOFBIRTH")
    r.people(t, "PERSONID_PE", data)

    t = r.table(
        "CAFE_CMS_TBLCASEAPPLICATIONMEMBER",
        "CASEAPPLICATIONREF_PE",
        "MEMBERREF_PE",
        "MEMBERTYPE",
        "CONVERTEDTYPE",
    )
    roles: dict[tuple[str, str], set[str]] = defaultdict(set)
    converted = 0
    for n, row in r.dedupe(t, "CASEAPPLICATIONMEMBERID_PE"):
        key = (r.id(t, row, n, "CASEAPPLICATIONREF_PE"), r.id(t, row, n, "MEMBERREF_PE"))
        role, was_converted = cms_role(row.get("MEMBERTYPE"), row.get("CONVERTEDTYPE"), settings)
        converted += was_converted
        roles[key].add(role)
    log.rule("cms_legacy_membertype", t.name, len(t.rows), len(t.rows), converted)
    data.roles = resolve_roles(roles, log, t.name)

    t = r.table(
        "CAFE_CMS_TBLCRSPERSONRELATIONSHIP", "PARENTREF_PE", "CHILDREF_PE", "RELATIONSHIPREF"
    )
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for n, row in r.dedupe(t, "PERSONRELATIONSHIPID_PE"):
        pair = (r.id(t, row, n, "CHILDREF_PE"), r.id(t, row, n, "PARENTREF_PE"))
        pairs[pair].add(r.id(t, row, n, "RELATIONSHIPREF") or "")
    data.parents = parent_pairs(pairs, settings["relationships"]["cms_parent_codes"], log, t.name)

    t = r.table(
        "CAFE_CMS_TBLLEGALOUTPUT",
        "CASEREF_PE",
        "LEGALOUTPUTTYPEREF",
        "ISFINAL",
        "LEGALORDERHEARINGDATE",
    )
    not_final = 0
    for n, row in r.dedupe(t, "LEGALOUTPUTID_PE"):
        if settings["outcomes"]["cms_final_only"] and not parse_flag(
            row.get("ISFINAL"), settings, t, n, "ISFINAL"
        ):
            not_final += 1
            continue
        type_id = r.id(t, row, n, "LEGALOUTPUTTYPEREF")
        data.outputs.append(
            (
                r.id(t, row, n, "CASEREF_PE"),
                None,
                type_id,
                out_types.get(type_id),
                r.date(t, row, n, "LEGALORDERHEARINGDATE"),
            )
        )
    log.aside(t.name, "ISFINAL is not true (outcomes.cms_final_only)", not_final)
    data.refresh = max(r.refreshes, default=None)
    data.latest_date = r.latest
    return data


def read_ecms(folder: Path, settings: dict[str, dict[str, Any]], log: AdaptationLog) -> SystemData:
    """Read the ECMS tables (``CAFE_ECMS_*``) and lookups (``ECMS_*``)."""
    r = Reader(folder, settings, log)
    data = SystemData("ecms")
    la = r.lookup("ECMS_LOCALAUTHORITIES", "ID", "NAME")
    app_types = r.lookup("ECMS_APPLICATIONTYPES", "ID", "NAME")
    out_types = r.lookup("ECMS_LEGALOUTPUTTYPES", "ID", "NAME")

    t = r.table("CAFE_ECMS_CASES", "ID_PE", "LOCALAUTHORITY_ID")
    for n, row in r.dedupe(t, None):
        ref = r.id(t, row, n, "LOCALAUTHORITY_ID")
        data.cases[r.id(t, row, n, "ID_PE")] = la.get(ref, ref) if la else ref
    t = r.table(
        "CAFE_ECMS_APPLICATIONS", "ID_PE", "CASE_ID_PE", "APPLICATIONTYPE1_ID", "DATEOFAPPLICATION"
    )
    for n, row in r.dedupe(t, None):
        type_id = r.id(t, row, n, "APPLICATIONTYPE1_ID")
        data.applications[r.id(t, row, n, "ID_PE")] = (
            r.id(t, row, n, "CASE_ID_PE"),
            type_id,
            app_types.get(type_id),
            r.date(t, row, n, "DATEOFAPPLICATION"),
        )
    t = r.table("CAFE_ECMS_PEOPLE", "ID_PE", "ALF_PE", "GENDER", "WEEKOFBIRTH")
    r.people(t, "ID_PE", data)

    flags = settings["roles"]["ecms_flags"]
    t = r.table("CAFE_ECMS_PERSONSONAPPLICATIONS", "PERSON_ID_PE", "APPLICATION_ID_PE", *flags)
    roles: dict[tuple[str, str], set[str]] = defaultdict(set)
    for n, row in r.dedupe(t, "ID_PE"):
        key = (r.id(t, row, n, "APPLICATION_ID_PE"), r.id(t, row, n, "PERSON_ID_PE"))
        true = [role for col, role in flags.items() if parse_flag(row[col], settings, t, n, col)]
        roles[key].update(true if true else ["none"])
    data.roles = resolve_roles(roles, log, t.name)

    t = r.table(
        "CAFE_ECMS_PERSONRELATIONSHIPS",
        "PERSON_ID_PE",
        "RELATEDPERSON_ID_PE",
        "RELATIONSHIPTYPE_ID",
    )
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for n, row in r.dedupe(t, "ID_PE"):
        # RELATIONSHIPTYPE_ID is what the related person is to the person: for a parent code,
        # the person is the child and the related person the parent.
        pair = (r.id(t, row, n, "PERSON_ID_PE"), r.id(t, row, n, "RELATEDPERSON_ID_PE"))
        pairs[pair].add(r.id(t, row, n, "RELATIONSHIPTYPE_ID") or "")
    data.parents = parent_pairs(pairs, settings["relationships"]["ecms_parent_codes"], log, t.name)

    t = r.table(
        "CAFE_ECMS_LEGALOUTPUTS", "PERSON_ID_PE", "CASE_ID_PE", "LEGALOUTPUTTYPE_ID", "DATEORDERED"
    )
    for n, row in r.dedupe(t, "ID_PE"):
        type_id = r.id(t, row, n, "LEGALOUTPUTTYPE_ID")
        data.outputs.append(
            (
                r.id(t, row, n, "CASE_ID_PE"),
                r.id(t, row, n, "PERSON_ID_PE"),
                type_id,
                out_types.get(type_id),
                r.date(t, row, n, "DATEORDERED"),
            )
        )
    data.refresh = max(r.refreshes, default=None)
    data.latest_date = r.latest
    return data


def cms_role(
    membertype: str | None, convertedtype: str | None, settings: dict[str, dict[str, Any]]
) -> tuple[str, bool]:
    """Rule ``cms_roles``: MEMBERTYPE 1/2/4/8, and the legacy 16 resolved from CONVERTEDTYPE.

    Returns the role (``"unclear"`` when the code or the converted text is not known) and
    whether the legacy code was resolved.
    """
    code = str(int(membertype)) if membertype and membertype.strip().isdigit() else membertype
    roles = settings["roles"]
    if code == roles["cms_converted_code"]:
        text = (convertedtype or "").strip().lower()
        for label, role in roles["cms_convertedtype"].items():
            if label.lower() == text:
                return role, True
        return "unclear", False
    return roles["cms_membertype"].get(code or "", "unclear"), False


def resolve_roles(
    roles: dict[tuple[str, str], set[str]], log: AdaptationLog, table: str
) -> dict[tuple[str, str], str]:
    """Rule ``several_roles``: a person with several roles on one application is "unclear".

    The role is reported, never guessed: such a person is not taken as a child of the case
    (they may still be a mother or father through the relationship table).
    """
    out: dict[tuple[str, str], str] = {}
    unclear = 0
    for key, found in roles.items():
        found = found - {"none"} or found
        if len(found) > 1:
            out[key] = "unclear"
            unclear += 1
        else:
            out[key] = next(iter(found))
    log.rule("several_roles", table, len(roles), len(out), unclear)
    log.figures[f"{table}: person-applications with several roles (unclear)"] = unclear
    return out


def parent_pairs(
    pairs: dict[tuple[str, str], set[str]],
    parent_codes: list[str],
    log: AdaptationLog,
    table: str,
) -> set[tuple[str, str]]:
    """Rule ``parents``: (child, parent) pairs with a parent code, each pair once.

    A pair recorded with a parent code and a different code is contradictory and not used
    (NFJO set such codes to missing). A pair where each is recorded as the other's parent
    (both directions with a parent code) is contradictory too and not used.
    """
    codes = set(parent_codes)
    out: set[tuple[str, str]] = set()
    conflicting = 0
    for pair, found in pairs.items():
        if found & codes and found - codes:
            conflicting += 1
        elif found <= codes:
            out.add(pair)
    both_ways = {p for p in out if (p[1], p[0]) in out}
    out -= both_ways
    log.rule("parents", table, len(pairs), len(out))
    log.aside(table, "same pair recorded with a parent code and another code", conflicting)
    log.aside(table, "each person recorded as the other's parent", len(both_ways))
    return out


# ------------------------------------------------------------------------------ contract building


def read_local_authorities(path: Path) -> dict[str, tuple[str, str]]:
    """The local-authority file: lookup label (or id) -> (ONS la_code, ONS region_code)."""
    import csv

    if not path.is_file():
        raise ExtractError(
            str(path),
            "the local-authority file is missing.",
            "Write a CSV with columns local_authority,la_code,region_code (one row per value of "
            "the local-authority lookup), or name it with extract.local_authority_file.",
        )
    out: dict[str, tuple[str, str]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"local_authority", "la_code", "region_code"} - set(reader.fieldnames or ())
        if missing:
            raise ExtractError(
                str(path),
                f"column(s) {', '.join(sorted(missing))} missing.",
                "The file needs columns local_authority,la_code,region_code.",
            )
        for number, row in enumerate(reader, start=1):
            if row["region_code"].strip().upper() not in REGIONS:
                raise ExtractError(
                    str(path),
                    f"row {number}, column region_code: not an ONS region code.",
                    f"Use one of {', '.join(REGIONS)}.",
                )
            out[row["local_authority"].strip().lower()] = (
                row["la_code"].strip().upper(),
                row["region_code"].strip().upper(),
            )
    return out


def person_key(
    system: str,
    pid: str,
    person: Person | None,
    settings: dict[str, dict[str, Any]],
    log: AdaptationLog,
) -> str | None:
    """Rule ``alf_key``: ``ALF-<ALF_PE>`` where present, else ``<SYSTEM>-<person id>``.

    ALF_PE is SAIL's linking field, so the same woman gets the same key across proceedings and
    across CMS and ECMS. A person id with several ALF_PE values follows
    ``people.alf_conflict``: the system id, or None (set aside).
    """
    if person is not None and settings["people"]["use_alf"] and person.alfs:
        if len(person.alfs) == 1:
            return "ALF-" + next(iter(person.alfs))
        log.figures["people with several ALF_PE values"] = (
            int(log.figures.get("people with several ALF_PE values", 0)) + 1  # type: ignore[arg-type]
        )
        if settings["people"]["alf_conflict"] == "set_aside":
            return None
    return f"{system.upper()}-{pid}"


def assumed_birth(week: dt.date, settings: dict[str, dict[str, Any]]) -> dt.date:
    """Rule ``week_of_birth``: the day within the birth week written as the date of birth."""
    return week + dt.timedelta(days=settings["people"]["week_of_birth_offset_days"])


def classify_application(
    type_id: str | None, label: str | None, settings: dict[str, dict[str, Any]]
) -> str | None:
    """Rule ``care_types``: the contract application type of a Cafcass application, or None."""
    for ctype in CARE_TYPES:
        if match_type(type_id, label, settings["proceedings"][ctype]):
            return ctype
    return None


def case_outcome(
    outputs: list[tuple[str | None, str | None, str | None, dt.date | None]],
    settings: dict[str, dict[str, Any]],
) -> tuple[str | None, dt.date | None]:
    """Rule ``outcomes``: the outcome of a case from its legal outputs.

    Each output is mapped through ``[outcomes]``; unmapped and undated outputs are ignored. The
    latest day with a mapped output gives the final hearing date; several outcomes on that day
    are resolved by ``outcomes.precedence``.
    """
    mapped: list[tuple[dt.date, str]] = []
    for _person, type_id, label, day in outputs:
        if day is None:
            continue
        for code in OUTCOMES:
            if match_type(type_id, label, settings["outcomes"][code]):
                mapped.append((day, code))
                break
    if not mapped:
        return None, None
    last = max(day for day, _ in mapped)
    codes = {code for day, code in mapped if day == last}
    order = settings["outcomes"]["precedence"]
    best = min(codes, key=lambda c: order.index(c) if c in order else len(order))
    return best, last


@dataclass
class Contract:
    """The contract rows built from one or more systems."""

    cases: list[dict[str, object]] = field(default_factory=list)
    people: list[dict[str, object]] = field(default_factory=list)


def choose_parent(candidates: list[str], party: set[str], multiple: str) -> tuple[str | None, str]:
    """Rule ``multiple_parents``: which of a child's recorded mothers (or fathers) is used.

    One candidate: that one. Several: with ``"prefer_party"`` the single candidate who is on an
    application of the same case; otherwise (none or several of them parties, or ``"none"``)
    no parent of that sex is used. Never "the first row". Returns the chosen id and how.
    """
    if len(candidates) == 1:
        return candidates[0], "single"
    if multiple == "prefer_party":
        parties = [c for c in candidates if c in party]
        if len(parties) == 1:
            return parties[0], "party"
    return None, "ambiguous"


class CaseRows:
    """The ``case_people`` rows of one case, one per person key.

    Rule ``one_row_per_person``: two Cafcass ids of one person (the same ALF_PE) in one case give
    one row (counted); one person in two roles in one case (say, child and mother) is
    contradictory and gives no row (counted), never a guess.
    """

    def __init__(
        self,
        case_id: str,
        data: SystemData,
        settings: dict[str, dict[str, Any]],
        log: AdaptationLog,
    ) -> None:
        self.case_id = case_id
        self.data = data
        self.settings = settings
        self.log = log
        self.rows: dict[str, dict[str, object]] = {}
        self.conflicts: set[str] = set()

    def add(self, pid: str, role: str, row: dict[str, object]) -> None:
        """Add person ``pid`` (a system id) in ``role`` with the other contract values."""
        key = person_key(self.data.system, pid, self.data.people.get(pid), self.settings, self.log)
        if key is None:
            self.log.aside("case_people", "person with several ALF_PE values (set_aside)")
            return
        if key in self.rows:
            if self.rows[key]["role"] != role:
                self.conflicts.add(key)
            elif self.rows[key].get("_pid") != pid:
                self.log.aside("case_people", "same person (ALF_PE) under a second id in the case")
            return
        self.rows[key] = {
            "case_id": self.case_id,
            "person_id": key,
            "role": role,
            **row,
            "_pid": pid,
        }


def build_contract(
    systems: list[SystemData],
    settings: dict[str, dict[str, Any]],
    la_map: dict[str, tuple[str, str]],
    log: AdaptationLog,
) -> Contract:
    """Turn the common model of each system into contract rows (see docs/sources.md)."""
    out = Contract()
    female = {v.lower() for v in settings["people"]["female"]}
    male = {v.lower() for v in settings["people"]["male"]}
    max_age = settings["people"]["child_max_age"]
    signatures: dict[str, dict[frozenset[str], list[dt.date]]] = {}
    counts: Counter[str] = Counter()
    mother_records: list[MotherRecord] = []
    for data in systems:
        sys_tag = data.system.upper()
        apps_by_case: dict[str, list[str]] = defaultdict(list)
        for app, (case, *_rest) in data.applications.items():
            if case in data.cases:
                apps_by_case[case].append(app)
            else:
                counts[f"{sys_tag} applications of no known case"] += 1
        people_by_app: dict[str, list[tuple[str, str]]] = defaultdict(list)
        on_any_app: set[str] = set()
        for (app, pid), role in data.roles.items():
            people_by_app[app].append((pid, role))
            on_any_app.add(pid)
        no_app = sum(1 for pid in data.people if pid not in on_any_app)
        log.aside(
            f"{sys_tag} people", "person on no application (not carried into the extract)", no_app
        )
        parents_of: dict[str, list[str]] = defaultdict(list)
        for child, parent in sorted(data.parents):
            parents_of[child].append(parent)
        outputs_by_case: dict[str, list] = defaultdict(list)
        for case, person, type_id, label, day in data.outputs:
            outputs_by_case[case].append((person, type_id, label, day))
        signatures[data.system] = defaultdict(list)

        for case in sorted(data.cases):
            apps = sorted(apps_by_case.get(case, []))
            if not apps:
                log.aside("cases", "case with no application")
                continue
            typed = []
            for app in apps:
                _c, type_id, label, day = data.applications[app]
                ctype = classify_application(type_id, label, settings)
                if ctype is not None:
                    typed.append((ctype, day, app))
            if not typed:
                if settings["proceedings"]["other_cases"] == "set_aside":
                    log.aside("cases", "no application of a configured care type (proceedings)")
                    continue
                typed = [("other", data.applications[a][3], a) for a in apps]
            ctype = min(
                (t for t, _, _ in typed),
                key=lambda t: CARE_TYPES.index(t) if t in CARE_TYPES else 9,
            )
            dates = [d for _, d, _ in typed if d is not None]
            if not dates:
                log.aside("cases", "no DATEOFAPPLICATION on its care applications")
                continue
            issue = min(dates)
            la_label = data.cases[case]
            la = la_map.get((la_label or "").strip().lower())
            if la is None:
                log.aside("cases", "local authority not in the local-authority file")
                continue
            case_id = f"{sys_tag}-{case}"
            party = {pid for a in apps for pid, _ in people_by_app.get(a, [])}
            case_rows = CaseRows(case_id, data, settings, log)
            rows = case_rows.rows
            children: list[str] = []
            for _t, day, app in typed:
                for pid, role in people_by_app.get(app, []):
                    if role == "unclear":
                        counts[
                            "people on care applications with an unclear role (not taken "
                            "as children)"
                        ] += 1
                    if role != "subject":
                        continue
                    person = data.people.get(pid)
                    if person is None or person.week_of_birth is None or day is None:
                        log.aside(
                            "case_people",
                            "subject with no WEEKOFBIRTH or no application date (age unknown)",
                        )
                        continue
                    born = assumed_birth(person.week_of_birth, settings)
                    if age_in_years(born, day) >= max_age:
                        log.aside(
                            "case_people", f"subject aged {max_age} or over at DATEOFAPPLICATION"
                        )
                        continue
                    if pid not in children:
                        children.append(pid)
            for pid in children:
                person = data.people[pid]
                week = person.week_of_birth
                born = assumed_birth(week, settings)
                gender = (person.gender or "").lower()
                case_rows.add(
                    pid,
                    "child",
                    {
                        "birth_date": born.isoformat(),
                        "birth_year_month": None,
                        "sex": "F" if gender in female else "M" if gender in male else "U",
                        "birth_date_precision": "week",
                    },
                )
            for pid in children:
                cands = parents_of.get(pid, [])
                for sex, values, role in (("F", female, "mother"), ("M", male, "father")):
                    of_sex = [
                        p
                        for p in cands
                        if (data.people.get(p) and (data.people[p].gender or "").lower() in values)
                    ]
                    if len(of_sex) > 1:
                        counts[f"children with several recorded {role}s"] += 1
                    if not of_sex:
                        continue
                    chosen, how = choose_parent(
                        of_sex, party, settings["relationships"]["multiple_parents"]
                    )
                    if how == "party":
                        counts[f"{role} chosen among several: the one on the case"] += 1
                    if chosen is None:
                        counts[f"children with no {role} used (several, none chosen)"] += 1
                        continue
                    week = data.people[chosen].week_of_birth
                    if chosen not in party:
                        counts[f"{role}s not on any application of the case"] += 1
                    case_rows.add(
                        chosen,
                        role,
                        {
                            "birth_date": None,
                            "birth_year_month": assumed_birth(week, settings).strftime("%Y-%m")
                            if week
                            else None,
                            "sex": sex,
                            "birth_date_precision": None,
                        },
                    )
            for key in case_rows.conflicts:
                rows.pop(key, None)
            log.aside(
                "case_people", "one person in several roles in one case", len(case_rows.conflicts)
            )
            outcome, final = case_outcome(outputs_by_case.get(case, []), settings)
            if final is not None and final < issue:
                counts["outcomes dated before the issue date (left empty)"] += 1
                outcome, final = None, None
            child_keys = frozenset(k for k, r in rows.items() if r["role"] == "child")
            if (
                data.system == "ecms"
                and child_keys
                and all(k.startswith("ALF-") for k in child_keys)
            ):
                cms = signatures.get("cms", {}).get(child_keys, [])
                if settings["proceedings"]["overlap_rule"] == "keep_cms" and any(
                    abs((issue - d).days) <= settings["proceedings"]["overlap_days"] for d in cms
                ):
                    log.aside("cases", "ECMS copy of a CMS case (migrated at the switch)")
                    log.aside("case_people", "people of an ECMS copy of a CMS case", len(rows))
                    continue
            signatures[data.system][child_keys].append(issue)
            counts[f"{sys_tag} cases written"] += 1
            out.cases.append(
                {
                    "case_id": case_id,
                    "issue_date": issue.isoformat(),
                    "application_type": ctype,
                    "region_code": la[1],
                    "la_code": la[0],
                    "final_hearing_date": final.isoformat() if final else None,
                    "outcome": outcome,
                }
            )
            out.people.extend(rows.values())
            mother_records.extend(_mother_records(case_id, data, la[0], rows))
    mothers = [r for r in out.people if r["role"] == "mother"]
    # Figures of ALF_PE joins come first, from the keys before the model joins any.
    by_model = link_mothers_without_alf(mother_records, settings, log).joined
    if settings["proceedings"]["overlap_rule"] == "keep_cms":
        _drop_model_copies(out, mother_records, by_model, settings, log)
        mothers = [r for r in out.people if r["role"] == "mother"]
    systems_of: dict[str, set[str]] = defaultdict(set)
    cases_of: Counter[str] = Counter()
    for r in mothers:
        systems_of[str(r["person_id"])].add(str(r["case_id"]).split("-")[0])
        cases_of[str(r["person_id"])] += 1
    alf = [k for k in systems_of if k.startswith("ALF-")]
    log.figures["mother rows keyed by ALF_PE / by a system id"] = [
        sum(str(r["person_id"]).startswith("ALF-") for r in mothers),
        sum(not str(r["person_id"]).startswith("ALF-") for r in mothers),
    ]
    log.figures["mothers in several cases joined by ALF_PE"] = sum(cases_of[k] > 1 for k in alf)
    log.figures["mothers joined by ALF_PE across CMS and ECMS"] = sum(
        len(systems_of[k]) > 1 for k in alf
    )
    for r in mothers:
        r["person_id"] = by_model.get(str(r["person_id"]), r["person_id"])
    for n, (lower, counted, upper) in newborn_bounds(out, settings).items():
        log.figures[f"children under {n} days at issue (lower, counted, upper)"] = [
            lower,
            counted,
            upper,
        ]
    log.figures.update(sorted(counts.items()))
    return out


def newborn_bounds(
    out: Contract, settings: dict[str, dict[str, Any]], limits: tuple[int, ...] = (7, 14)
) -> dict[int, list[int]]:
    """Rule ``newborn bounds``: child rows surely, as written, and possibly under each limit.

    Counted over the rows written (after copies and contradictory rows are set aside). A child
    row's week is recovered from its written date and ``week_of_birth_offset_days``; its age at
    issue lies between issue - Sunday and issue - Monday of that week.
    """
    offset = dt.timedelta(days=settings["people"]["week_of_birth_offset_days"])
    issue_of = {str(c["case_id"]): dt.date.fromisoformat(str(c["issue_date"])) for c in out.cases}
    bounds = {n: [0, 0, 0] for n in limits}  # lower, counted, upper
    for row in out.people:
        if row["role"] != "child" or row.get("birth_date") is None:
            continue
        issue = issue_of[str(row["case_id"])]
        born = dt.date.fromisoformat(str(row["birth_date"]))
        monday = born - offset
        for n, b in bounds.items():
            b[0] += (issue - monday).days < n
            b[1] += (issue - born).days < n
            b[2] += (issue - (monday + dt.timedelta(days=6))).days < n
    return bounds


def model_copies(
    records: list[MotherRecord],
    joined: dict[str, str],
    issue_of: dict[str, dt.date],
    overlap_days: int,
) -> set[str]:
    """Rule ``joining the systems`` where the children lack ``ALF_PE``: copies by the mother.

    An ECMS case is the migrated copy of a CMS case when its mother is the CMS case's mother
    (the same ``ALF_PE`` key, or keys joined by the mother model), its children (week of birth
    and sex) are exactly the CMS case's children, and the two were issued within
    ``overlap_days``. Returns the contract case ids of the copies.
    """
    pairs = {frozenset(p) for p in joined.items()}
    cms = [r for r in records if r.system == "cms" and r.children]
    copies = set()
    for r in records:
        if r.system != "ecms" or not r.children:
            continue
        for c in cms:
            if (
                (r.key == c.key or frozenset((r.key, c.key)) in pairs)
                and r.children == c.children
                and abs((issue_of[r.case_id] - issue_of[c.case_id]).days) <= overlap_days
            ):
                copies.add(r.case_id)
                break
    return copies


def _drop_model_copies(
    out: Contract,
    records: list[MotherRecord],
    joined: dict[str, str],
    settings: dict[str, dict[str, Any]],
    log: AdaptationLog,
) -> None:
    issue_of = {str(c["case_id"]): dt.date.fromisoformat(str(c["issue_date"])) for c in out.cases}
    copies = model_copies(records, joined, issue_of, settings["proceedings"]["overlap_days"])
    if not copies:
        return
    people = [r for r in out.people if r["case_id"] in copies]
    out.cases[:] = [c for c in out.cases if c["case_id"] not in copies]
    out.people[:] = [r for r in out.people if r["case_id"] not in copies]
    log.aside("cases", "ECMS copy of a CMS case, recognised by its mother", len(copies))
    log.aside("case_people", "people of an ECMS copy of a CMS case", len(people))


def _mother_records(
    case_id: str, data: SystemData, la_code: str, rows: dict[str, dict[str, object]]
) -> list[MotherRecord]:
    """The mother of a written case with the evidence the mother model compares."""
    people = {key: data.people.get(str(r["_pid"])) for key, r in rows.items()}
    children = frozenset(
        (p.week_of_birth, str(rows[k]["sex"]))
        for k, p in people.items()
        if rows[k]["role"] == "child" and p is not None and p.week_of_birth is not None
    )
    fathers = frozenset(
        p.week_of_birth
        for k, p in people.items()
        if rows[k]["role"] == "father" and p is not None and p.week_of_birth is not None
    )
    return [
        MotherRecord(
            key,
            data.system,
            case_id,
            people[key].week_of_birth if people[key] is not None else None,
            la_code,
            children,
            fathers,
        )
        for key, r in rows.items()
        if r["role"] == "mother"
    ]
