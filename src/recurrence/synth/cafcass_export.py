"""A small, seeded, SAIL-shaped export of Cafcass England CMS and ECMS tables, with its truth.

Layout-exact: the table and column names of ``shared/reference/cafcass_sources.md`` (CMS tables
before the April 2014 switch, ECMS after), lookups in the reference schema, refresh suffixes. The
world is small and simple (families of a mother, sometimes a father, and children in one or more
sets of care proceedings); its point is the layout and the known faults, not calibration:

* ALF_PE for only part of the people (``alf_coverage``);
* CMS people carried over into ECMS PEOPLE with new ids and no application;
* cases open at the switch copied into ECMS (same children, same date);
* children with a second recorded mother who is not a party;
* WEEKOFBIRTH (the Monday of the birth week) in place of the date of birth;
* exact duplicate rows, century typos in WEEKOFBIRTH (18xx for 19xx), the legacy MEMBERTYPE 16,
  a person with two roles on one application, keys as text with leading zeros, "true"/"false"
  flags in mixed case, a private-law case, and interim (not final) CMS outputs.

``truth.json`` holds what the adapter should find (counts only; the test reads it).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from recurrence.contract import ENGLAND_REGIONS

SWITCH = dt.date(2014, 4, 1)
CMS_REFRESH = "20191220"
ECMS_REFRESH = "20240111"
PROJECT = "SAIL1661V"
LAST_OUTPUT = dt.date(2024, 1, 10)
REF = "SAILCAFEREFV"

CMS_APP_TYPES = {
    "101": "Care (s31)",
    "102": "Supervision (s31)",
    "103": "EPO (s44)",
    "104": "Residence (s8)",
}
ECMS_APP_TYPES = {
    "1": "Care (s31)",
    "2": "Supervision (s31)",
    "3": "EPO (s44)",
    "4": "Child Arrangements (s8)",
}
OUTPUT_TYPES = {
    "1": "Care Order",
    "2": "Placement Order",
    "3": "Supervision Order",
    "4": "Special Guardianship Order",
    "5": "Child Arrangements Order",
    "6": "Order of No Order",
    "7": "Withdrawn",
    "8": "Interim Care Order",
}
OUTCOME_OF = {
    "1": "care_order",
    "2": "placement_order",
    "3": "supervision_order",
    "4": "special_guardianship_order",
    "5": "child_arrangements_order",
    "6": "no_order",
    "7": "withdrawn",
}


def monday(day: dt.date) -> dt.date:
    """The Monday starting the week of ``day``."""
    return day - dt.timedelta(days=day.weekday())


@dataclass
class Human:
    """One person of the world, with their id in each system they appear in."""

    gender: str
    birth: dt.date
    alf: str | None
    ids: dict[str, str] = field(default_factory=dict)
    typo: bool = False


@dataclass
class Proceedings:
    """One set of proceedings of the world."""

    issue: dt.date
    mother: Human
    father: Human | None
    children: list[Human]
    la: int
    outcome: str
    final: dt.date
    app_type: str = "1"
    copied: bool = False
    ids: dict[str, str] = field(default_factory=dict)


class World:
    """Build the world and write it as CMS and ECMS tables."""

    def __init__(self, seed: int, families: int, alf_coverage: float) -> None:
        self.rng = random.Random(seed)
        self.alf_coverage = alf_coverage
        self.next_id = {"cms": 1000, "ecms": 5000, "alf": 700000000}
        self.people: list[Human] = []
        self.cases: list[Proceedings] = []
        for _ in range(families):
            self.family()

    def human(self, gender: str, birth: dt.date) -> Human:
        """A new person of the world (ALF_PE with probability alf_coverage)."""
        alf = None
        if self.rng.random() < self.alf_coverage:
            self.next_id["alf"] += self.rng.randint(1, 50)
            alf = str(self.next_id["alf"])
        h = Human(gender, birth, alf)
        self.people.append(h)
        return h

    def pid(self, human: Human, system: str) -> str:
        """The person's id in ``system``, made on first use."""
        if system not in human.ids:
            self.next_id[system] += self.rng.randint(1, 9)
            human.ids[system] = str(self.next_id[system])
        return human.ids[system]

    def family(self) -> None:
        """One mother with her sets of proceedings."""
        rng = self.rng
        start = dt.date(2008, 1, 1) + dt.timedelta(days=rng.randint(0, 15 * 365))
        # 30 to 42 at the first proceedings, so 18 or over at the birth of a child of up to 12
        mother = self.human("Female", start - dt.timedelta(days=rng.randint(30 * 365, 42 * 365)))
        mother.typo = rng.random() < 0.03
        father = self.human("Male", mother.birth - dt.timedelta(days=rng.randint(0, 2000)))
        issue = start
        for n in range(rng.choice((1, 1, 1, 2, 2, 3))):
            if issue > dt.date(2023, 6, 30):
                break
            newborn = rng.random() < 0.4
            age_days = rng.randint(0, 20) if newborn else rng.randint(60, 12 * 365)
            children = [
                self.human(rng.choice(("Female", "Male")), issue - dt.timedelta(days=age_days))
            ]
            if n == 0 and rng.random() < 0.3:
                children.append(
                    self.human(
                        rng.choice(("Female", "Male")),
                        issue - dt.timedelta(days=rng.randint(400, 3000)),
                    )
                )
            outcome = rng.choice(list(OUTCOME_OF))
            app_type = "1" if rng.random() < 0.85 else "2"
            self.cases.append(
                Proceedings(
                    issue,
                    mother,
                    father if rng.random() < 0.6 else None,
                    children,
                    rng.randrange(10),
                    outcome,
                    issue + dt.timedelta(days=rng.randint(100, 400)),
                    app_type,
                )
            )
            issue = issue + dt.timedelta(days=rng.randint(300, 2500))
        if rng.random() < 0.05:  # a private-law case: set aside by the adapter
            self.cases.append(
                Proceedings(
                    start + dt.timedelta(days=30),
                    mother,
                    None,
                    [self.human("Female", start - dt.timedelta(days=900))],
                    0,
                    "5",
                    start + dt.timedelta(days=200),
                    "4",
                )
            )


def _week_text(human: Human) -> str:
    week = monday(human.birth)
    if human.typo:
        return f"18{week.year % 100:02d}-{week.month:02d}-{week.day:02d}"
    return week.isoformat()


class Writer:
    """Collect rows per table and write them as CSV or Parquet."""

    def __init__(self, out: Path, file_format: str) -> None:
        self.out = out
        self.format = file_format
        self.tables: dict[str, tuple[list[str], list[list[object]]]] = {}

    def add(self, name: str, columns: list[str], row: list[object]) -> None:
        """Add one row to table ``name``."""
        self.tables.setdefault(name, (columns, []))[1].append(row)

    def write(self) -> None:
        """Write every table into the output folder."""
        self.out.mkdir(parents=True, exist_ok=True)
        for name, (columns, rows) in self.tables.items():
            if self.format == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                data = {
                    c: [None if r[i] is None else str(r[i]) for r in rows]
                    for i, c in enumerate(columns)
                }
                pq.write_table(
                    pa.table(data, schema=pa.schema([(c, pa.string()) for c in columns])),
                    self.out / f"{name}.parquet",
                )
                continue
            with (self.out / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(columns)
                writer.writerows(["" if v is None else v for v in r] for r in rows)


def generate_cafcass_export(
    out: Path,
    *,
    seed: int = 20140401,
    families: int = 120,
    alf_coverage: float = 0.9,
    file_format: str = "csv",
) -> dict[str, object]:
    """Write a CMS + ECMS export into ``out`` and return (and write) its truth counts."""
    world = World(seed, families, alf_coverage)
    rng = world.rng
    w = Writer(Path(out), file_format)
    Path(out).mkdir(parents=True, exist_ok=True)
    avail = "2024-01-11"
    las = [f"Synthetic Borough {i:02d}" for i in range(10)]

    # lookups
    for i, name in enumerate(las):
        w.add(
            f"{REF}.CMS_TLKPLOCALAUTHORITY_{CMS_REFRESH}",
            ["LOCALAUTHORITYID", "AUTHORITY"],
            [200 + i, name],
        )
        w.add(f"{REF}.ECMS_LOCALAUTHORITIES_{ECMS_REFRESH}", ["ID", "NAME"], [300 + i, name])
    for k, v in CMS_APP_TYPES.items():  # read with no suffix in the public code
        w.add(
            f"{REF}.CMS_TLKPCASEAPPLICATIONTYPE",
            ["CASEAPPLICATIONTYPEID", "CASEAPPLICATIONTYPE", "LAWTYPES"],
            [k, v, "Public"],
        )
    for k, v in ECMS_APP_TYPES.items():
        w.add(f"{REF}.ECMS_APPLICATIONTYPES_{ECMS_REFRESH}", ["ID", "NAME"], [k, v])
    for k, v in OUTPUT_TYPES.items():
        w.add(
            f"{REF}.CMS_TLKPLEGALOUTPUTTYPE_{CMS_REFRESH}",
            ["LEGALOUTPUTTYPEID", "LEGALOUTPUTTYPE", "LEGALOUTPUTCLASSREF"],
            [k, v, 1],
        )
        w.add(f"{REF}.ECMS_LEGALOUTPUTTYPES_{ECMS_REFRESH}", ["ID", "NAME", "SORTORDER"], [k, v, k])
    with (Path(out) / "local_authorities.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["local_authority", "la_code", "region_code"])
        for i, name in enumerate(las):
            writer.writerow([name, f"E910000{i:02d}", ENGLAND_REGIONS[i % len(ENGLAND_REGIONS)]])

    # published live births (not a SAIL table): denominators for a Cafcass-only run
    with (Path(out) / "live_births.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["region_code", "year", "live_births"])
        for region in ENGLAND_REGIONS:
            for year in range(2007, 2024):
                writer.writerow([region, year, 50000 + 1000 * ENGLAND_REGIONS.index(region)])

    # cases open at the switch are copied into ECMS
    for case in list(world.cases):
        if SWITCH - dt.timedelta(days=60) <= case.issue < SWITCH:
            world.cases.append(
                Proceedings(
                    case.issue,
                    case.mother,
                    case.father,
                    case.children,
                    case.la,
                    case.outcome,
                    case.final,
                    case.app_type,
                    copied=True,
                )
            )
    truth: dict[str, object] = {
        "cases": 0,
        "copied_cases": 0,
        "private_cases": 0,
        "newborn_14": 0,
        "newborn_7": 0,
        "second_mothers": 0,
    }
    cms_people: dict[str, Human] = {}
    ecms_people: dict[str, Human] = {}
    t = {
        "case": f"{PROJECT}.CAFE_CMS_TBLCASE_{CMS_REFRESH}",
        "app": f"{PROJECT}.CAFE_CMS_TBLCASEAPPLICATION_{CMS_REFRESH}",
        "member": f"{PROJECT}.CAFE_CMS_TBLCASEAPPLICATIONMEMBER_{CMS_REFRESH}",
        "rel": f"{PROJECT}.CAFE_CMS_TBLCRSPERSONRELATIONSHIP_{CMS_REFRESH}",
        "out": f"{PROJECT}.CAFE_CMS_TBLLEGALOUTPUT_{CMS_REFRESH}",
        "ecase": f"{PROJECT}.CAFE_ECMS_CASES_{ECMS_REFRESH}",
        "eapp": f"{PROJECT}.CAFE_ECMS_APPLICATIONS_{ECMS_REFRESH}",
        "epoa": f"{PROJECT}.CAFE_ECMS_PERSONSONAPPLICATIONS_{ECMS_REFRESH}",
        "erel": f"{PROJECT}.CAFE_ECMS_PERSONRELATIONSHIPS_{ECMS_REFRESH}",
        "eout": f"{PROJECT}.CAFE_ECMS_LEGALOUTPUTS_{ECMS_REFRESH}",
    }
    row_id = iter(range(10**6, 10**7))
    mother_of_case: list[tuple[str, str]] = []  # (contract case id, true mother)
    for number, case in enumerate(sorted(world.cases, key=lambda c: (c.issue, c.copied))):
        private = case.app_type == "4"
        if case.copied:
            truth["copied_cases"] += 1  # type: ignore[operator]
        elif private:
            truth["private_cases"] += 1  # type: ignore[operator]
        else:
            truth["cases"] += 1  # type: ignore[operator]
            for child in case.children:
                age = (case.issue - child.birth).days
                truth["newborn_14"] += age < 14  # type: ignore[operator]
                truth["newborn_7"] += age < 7  # type: ignore[operator]
        ecms = case.issue >= SWITCH or case.copied
        system = "ecms" if ecms else "cms"
        case_id = str(900000 + number)
        app_id = str(400000 + number)
        if not case.copied and not private:
            mother_of_case.append((f"{system.upper()}-{case_id}", str(id(case.mother))))
        adults = [case.mother] + ([case.father] if case.father else [])
        for h in (*adults, *case.children):
            (ecms_people if ecms else cms_people)[world.pid(h, system)] = h
        second = None
        if not private and rng.random() < 0.05:  # a second recorded mother, not a party
            second = world.human("Female", case.mother.birth - dt.timedelta(days=9000))
            (ecms_people if ecms else cms_people)[world.pid(second, system)] = second
            truth["second_mothers"] += 1  # type: ignore[operator]
        if not ecms:
            ctype = {"1": "101", "2": "102", "4": "104"}[case.app_type]
            w.add(
                t["case"],
                [
                    "CASEID_PE",
                    "CASESTATUSREF",
                    "LOCALAUTHORITYREF",
                    "REGIONREF",
                    "LAWTYPEREF",
                    "AVAIL_FROM_DT",
                ],
                [case_id, 2, 200 + case.la, 1, 2 if private else 1, avail],
            )
            w.add(
                t["app"],
                [
                    "CASEAPPLICATIONID_PE",
                    "CASEREF_PE",
                    "CASEAPPLICATIONTYPEREF",
                    "COURTREF",
                    "DATEOFAPPLICATION",
                    "DATERECEIVED",
                    "DATECOMPLETED",
                    "DATEAPPLICATIONCOMPLETED",
                    "AVAIL_FROM_DT",
                ],
                [
                    app_id,
                    case_id,
                    ctype,
                    17,
                    case.issue.isoformat(),
                    (case.issue + dt.timedelta(days=1)).isoformat(),
                    case.final.isoformat(),
                    case.final.isoformat(),
                    avail,
                ],
            )
            members = [
                (case.mother, 2),
                *((case.father, 2) for _ in [0] if case.father),
                *((c, 4) for c in case.children),
            ]
            for h, code in members:
                legacy = code == 2 and rng.random() < 0.2
                w.add(
                    t["member"],
                    [
                        "CASEAPPLICATIONMEMBERID_PE",
                        "CASEAPPLICATIONREF_PE",
                        "MEMBERREF_PE",
                        "MEMBERTYPE",
                        "CONVERTEDTYPE",
                        "ISPARTY",
                        "ISLAREP",
                        "AVAIL_FROM_DT",
                    ],
                    [
                        next(row_id),
                        app_id,
                        world.pid(h, "cms"),
                        16 if legacy else code,
                        "Adult Respondent" if legacy else None,
                        1,
                        0,
                        avail,
                    ],
                )
            for child in case.children:
                for parent in (*adults, *([second] if second else [])):
                    w.add(
                        t["rel"],
                        [
                            "PERSONRELATIONSHIPID_PE",
                            "PARENTREF_PE",
                            "CHILDREF_PE",
                            "RELATIONSHIPREF",
                            "AVAIL_FROM_DT",
                        ],
                        [next(row_id), world.pid(parent, "cms"), world.pid(child, "cms"), 1, avail],
                    )
            for final, type_id, day in (
                (0, "8", case.issue + dt.timedelta(days=3)),
                (1, case.outcome, case.final),
            ):
                if day > LAST_OUTPUT:  # still open at the refresh
                    continue
                w.add(
                    t["out"],
                    [
                        "LEGALOUTPUTID_PE",
                        "CASEREF_PE",
                        "CASEHEARINGREF_PE",
                        "LEGALOUTPUTTYPEREF",
                        "FURTHERWORKTYPEREF",
                        "ISCAFCASSWORK",
                        "EXPIRYDATE",
                        "ISFINAL",
                        "LEGALORDERHEARINGDATE",
                        "AVAIL_FROM_DT",
                    ],
                    [
                        next(row_id),
                        case_id,
                        next(row_id),
                        type_id,
                        None,
                        1,
                        None,
                        final,
                        day.isoformat(),
                        avail,
                    ],
                )
            continue
        ecase = f"{int(case_id):014d}"  # ECMS keys arrive as text: leading zeros
        eapp = f"{int(app_id):014d}"
        w.add(
            t["ecase"],
            [
                "ID_PE",
                "LAWTYPE_ID",
                "LOCALAUTHORITY_ID",
                "COURTFORM_ID",
                "CASESTATU_ID",
                "COURTCOURTLEVELREF_ID",
                "HARM",
                "DATERECEIVED",
                "CLOSUREDATE",
                "REOPENDATE",
                "AVAIL_FROM_DT",
            ],
            [
                ecase,
                1,
                300 + case.la,
                5,
                2,
                9,
                None,
                case.issue.isoformat(),
                case.final.isoformat(),
                None,
                avail,
            ],
        )
        w.add(
            t["eapp"],
            [
                "ID_PE",
                "CASE_ID_PE",
                "APPLICATIONTYPE1_ID",
                "COURTCOURTLEVELREF_ID",
                "DATEOFAPPLICATION",
                "DATERECEIVED",
                "DATENOTIFIED",
                "DATECOMPLETED",
                "DATEAPPLICATIONCOMPLETED",
                "NEWAPPLICATIONDATE",
                "REVOCATIONAPPLICANTTYPEID",
                "APPLICATIONREASON_ID",
                "AVAIL_FROM_DT",
            ],
            [
                eapp,
                ecase,
                case.app_type,
                9,
                f"{case.issue.isoformat()} 00:00:00",
                case.issue.isoformat(),
                case.issue.isoformat(),
                case.final.isoformat(),
                case.final.isoformat(),
                None,
                None,
                None,
                avail,
            ],
        )
        members = [
            (case.mother, "respondent"),
            *((case.father, "respondent") for _ in [0] if case.father),
            *((c, "subject") for c in case.children),
        ]
        for h, role in members:
            flags = [
                ("True" if rng.random() < 0.5 else "true") if role == r else "false"
                for r in ("subject", "respondent", "applicant", "other")
            ]
            w.add(
                t["epoa"],
                [
                    "ID_PE",
                    "PERSON_ID_PE",
                    "APPLICATION_ID_PE",
                    "ISSUBJECT",
                    "ISRESPONDENT",
                    "ISAPPLICANT",
                    "ISOTHER",
                    "ISSUBJECTPARTY",
                    "ISOTHERPARTY",
                    "AVAIL_FROM_DT",
                ],
                [next(row_id), world.pid(h, "ecms"), eapp, *flags, "false", "false", avail],
            )
        for child in case.children:
            for parent in (*adults, *([second] if second else [])):
                for a, b, code in ((child, parent, 1), (parent, child, 9)):  # both directions
                    w.add(
                        t["erel"],
                        [
                            "ID_PE",
                            "PERSON_ID_PE",
                            "RELATEDPERSON_ID_PE",
                            "RELATIONSHIPTYPE_ID",
                            "PARENTALRESPONSIBILITYTYPE_ID",
                            "AVAIL_FROM_DT",
                        ],
                        [next(row_id), world.pid(a, "ecms"), world.pid(b, "ecms"), code, 1, avail],
                    )
            if case.final > LAST_OUTPUT:  # still open at the refresh
                continue
            w.add(
                t["eout"],
                [
                    "ID_PE",
                    "PERSON_ID_PE",
                    "APPLICATION_ID_PE",
                    "CASE_ID_PE",
                    "LEGALOUTPUTTYPE_ID",
                    "DATEORDERED",
                    "ISFPR164",
                    "AVAIL_FROM_DT",
                ],
                [
                    next(row_id),
                    world.pid(child, "ecms"),
                    eapp,
                    ecase,
                    case.outcome,
                    case.final.isoformat(),
                    "false",
                    avail,
                ],
            )

    # CMS people carried over into ECMS PEOPLE: new ids, no application
    for h in list(cms_people.values()):
        if "ecms" not in h.ids and rng.random() < 0.3:
            ecms_people[world.pid(h, "ecms")] = h
    for name, people, id_col, extra in (
        (
            f"{PROJECT}.CAFE_CMS_TBLPERSON_{CMS_REFRESH}",
            cms_people,
            "PERSONID_PE",
            ["ETHNICREF", "RELIGIONREF", "FIRSTLANGUAGEREF", "INTERPRETERREQ", "DISABILITYREF"],
        ),
        (f"{PROJECT}.CAFE_ECMS_PEOPLE_{ECMS_REFRESH}", ecms_people, "ID_PE", []),
    ):
        columns = [
            id_col,
            "ALF_PE",
            "ALF2_PE",
            "GENDER",
            "WEEKOFBIRTH",
            *extra,
            "MOB_LINKAGE",
            "AVAIL_FROM_DT",
        ]
        for pid, h in sorted(people.items()):
            row = [
                pid if id_col == "PERSONID_PE" else f"{int(pid):014d}",
                h.alf,
                None,
                h.gender,
                _week_text(h),
                *([1] * len(extra)),
                None,
                avail,
            ]
            w.add(name, columns, row)
            if rng.random() < 0.04:  # an exact duplicate row
                w.add(name, columns, list(row))
    w.write()
    truth["alf_coverage"] = alf_coverage
    # which true mother each care case is about, by the case id the adapter writes
    numbers = {m: n for n, m in enumerate(dict.fromkeys(m for _, m in mother_of_case))}
    with (Path(out) / "truth_mothers.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["case_id", "true_mother"])
        writer.writerows((c, numbers[m]) for c, m in mother_of_case)
    (Path(out) / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    return truth
