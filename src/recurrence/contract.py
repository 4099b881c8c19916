"""The extract data contract: tables, columns, types and allowed values.

One description serves ingest validation, the synthetic generator and the documentation
(``docs/data_contract.md``), so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["string", "date", "year_month", "code", "boolean", "integer"]

REGIONS: dict[str, str] = {
    "E12000001": "North East",
    "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber",
    "E12000004": "East Midlands",
    "E12000005": "West Midlands",
    "E12000006": "East of England",
    "E12000007": "London",
    "E12000008": "South East",
    "E12000009": "South West",
    "W92000004": "Wales",
}
ENGLAND_REGIONS: tuple[str, ...] = tuple(code for code in REGIONS if code.startswith("E"))
WALES = "W92000004"

APPLICATION_TYPES = ("s31_care", "s31_supervision", "epo", "other")
OUTCOMES = (
    "care_order",
    "placement_order",
    "supervision_order",
    "special_guardianship_order",
    "child_arrangements_order",
    "no_order",
    "withdrawn",
)
ROLES = ("child", "mother", "father", "other")
SEXES = ("F", "M", "U")
#: Precision of a child's birth_date: the day, or only the (Monday-Sunday) week.
PRECISIONS = ("day", "week")


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    kind: Kind
    required: bool
    meaning: str
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ForeignKey:
    """Columns of one table that must name a loaded row of another table, by its key.

    Declared once here, so that ingest (which quarantines a row whose reference finds no row),
    the blocking check that recounts the orphans after loading, the asset graph (the referenced
    table is validated first) and the documentation all follow the same declaration.

    Attributes
    ----------
    columns
        The referencing columns, in the order of the referenced table's key.
    table
        The referenced contract table.
    rule
        The quarantine rule a row breaking the reference is recorded under.
    reason
        The quarantine reason shown for such a row.
    check
        The name of the blocking asset check that recounts the orphans.
    """

    columns: tuple[str, ...]
    table: str
    rule: str
    reason: str
    check: str


@dataclass(frozen=True)
class Table:
    """One table of an extract: ``NAME.csv`` or ``NAME.parquet``."""

    name: str
    required: bool
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    meaning: str
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Names of the columns every file of this table must have."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _hash_columns(prefix: str) -> tuple[Column, ...]:
    who = "the mother's" if prefix else "the person's"
    return (
        Column(
            f"{prefix}forename_hash", "string", False, f"keyed hash of {who} normalised forename"
        ),
        Column(f"{prefix}surname_hash", "string", False, f"keyed hash of {who} normalised surname"),
        Column(
            f"{prefix}forename_soundex_hash",
            "string",
            False,
            f"keyed hash of the Soundex code of {who} forename",
        ),
        Column(
            f"{prefix}surname_soundex_hash",
            "string",
            False,
            f"keyed hash of the Soundex code of {who} surname",
        ),
    )


CASES = Table(
    name="cases",
    required=True,
    key=("case_id",),
    meaning="one row per set of proceedings",
    columns=(
        Column("case_id", "string", True, "pseudonymised case id, unique"),
        Column("issue_date", "date", True, "date the application was issued"),
        Column("application_type", "code", True, "type of application", allowed=APPLICATION_TYPES),
        Column(
            "region_code",
            "code",
            True,
            "ONS code of the applicant authority's region",
            allowed=tuple(REGIONS),
        ),
        Column(
            "la_code",
            "code",
            False,
            "ONS code of the applicant local authority",
        ),
        Column(
            "final_hearing_date",
            "date",
            False,
            "null while proceedings are ongoing; never before issue_date",
        ),
        Column("outcome", "code", False, "outcome of the proceedings", allowed=OUTCOMES),
    ),
)

CASE_PEOPLE = Table(
    name="case_people",
    required=True,
    key=("case_id", "person_id"),
    meaning="one row per person per case",
    foreign_keys=(
        ForeignKey(
            columns=("case_id",),
            table="cases",
            rule="unknown_case",
            reason="case_id does not match any loaded case (its case may have been quarantined)",
            check="case_people_cases_exist",
        ),
    ),
    columns=(
        Column("case_id", "string", True, "must exist in cases"),
        Column("person_id", "string", True, "the source system's pseudonymised person id"),
        Column("role", "code", True, "role in the proceedings", allowed=ROLES),
        Column(
            "birth_date",
            "date",
            False,
            "children only; the day, or a day of the Monday-Sunday week of birth (see "
            "birth_date_precision)",
        ),
        Column("birth_year_month", "year_month", False, "adults only: coarsened date of birth"),
        Column("sex", "code", False, "sex", allowed=SEXES),
        Column(
            "birth_date_precision",
            "code",
            False,
            "children: day (empty means day), or week when only the week of birth is known",
            allowed=PRECISIONS,
        ),
        *_hash_columns(""),
        Column(
            "postcode_district",
            "code",
            False,
            "outward code at the time of the case",
        ),
    ),
)

BIRTHS = Table(
    name="births",
    required=True,
    key=("birth_id",),
    meaning="maternity extract, one row per birth",
    columns=(
        Column("birth_id", "string", True, "unique"),
        Column("baby_birth_date", "date", True, "the baby's date of birth"),
        Column(
            "region_code",
            "code",
            True,
            "mother's region of usual residence",
            allowed=tuple(REGIONS),
        ),
        Column(
            "la_code",
            "code",
            False,
            "mother's local authority of usual residence",
        ),
        Column(
            "mother_person_id",
            "string",
            False,
            "the maternity system's own pseudonymised mother id (not case_people.person_id)",
        ),
        Column("mother_birth_year_month", "year_month", False, "mother's year and month of birth"),
        *_hash_columns("mother_"),
        Column(
            "mother_postcode_district",
            "code",
            False,
            "mother's postcode district",
        ),
        Column("baby_sex", "code", False, "baby's sex", allowed=SEXES),
        Column("live_birth", "boolean", False, "default true; only live births count"),
    ),
)

LIVE_BIRTHS = Table(
    name="live_births",
    required=False,
    key=("region_code", "year"),
    meaning="optional published denominators",
    columns=(
        Column("region_code", "code", True, "region of usual residence", allowed=tuple(REGIONS)),
        Column("year", "integer", True, "calendar year"),
        Column("live_births", "integer", True, "live births in the region and year"),
    ),
)

TABLES: tuple[Table, ...] = (CASES, CASE_PEOPLE, BIRTHS, LIVE_BIRTHS)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def referenced_key(fk: ForeignKey) -> tuple[str, ...]:
    """The key of the table ``fk`` refers to: the columns ``fk.columns`` are matched against."""
    key = TABLES_BY_NAME[fk.table].key
    if len(key) != len(fk.columns):
        raise ValueError(f"a reference to {fk.table} needs {len(key)} columns: {key}")
    return key
