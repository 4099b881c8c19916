"""Hash names, build Arrow tables and write the extract, its ``extract.toml`` and ``truth/``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from recurrence.contract import APPLICATION_TYPES, OUTCOMES, ROLES, SEXES
from recurrence.pseudonymise import keyed_hash, normalise_name, soundex
from recurrence.synth import calibration as cal
from recurrence.synth.geography import Geography
from recurrence.synth.names import Vocabulary
from recurrence.synth.proceedings import END, Truth
from recurrence.synth.records import ROLE_CHILD, Births, Cases
from recurrence.synth.util import coded_array, date_array, hex_ids, year_month_array

AGE_GROUP_LABELS = cal.AGE_GROUPS
_ROLE_ORDER = ("child", "mother", "father", "other")  # ROLE_CHILD, ROLE_MOTHER, ...


def synthetic_key(seed: int) -> bytes:
    """The in-memory hashing key of a synthetic extract (derived from the seed, never written).

    Parameters
    ----------
    seed
        The generator seed.

    Returns
    -------
    bytes
        A 32-byte key.
    """
    return hashlib.sha256(f"recurrence synthetic key {seed}".encode()).digest()


class NameHasher:
    """Keyed hashes of every vocabulary entry and its Soundex code, as dictionary codes."""

    def __init__(self, vocab: Vocabulary, key: bytes) -> None:
        normalised = [normalise_name(n) for n in vocab.names]
        hashes = [keyed_hash(n, key) or "" for n in normalised]
        sdx = [keyed_hash(soundex(n), key) or "" for n in normalised]
        self.name_values, self.name_code = np.unique(np.array(hashes), return_inverse=True)
        self.sdx_values, self.sdx_code = np.unique(np.array(sdx), return_inverse=True)

    def columns(self, codes: np.ndarray) -> tuple[pa.Array, pa.Array]:
        """Name-hash and Soundex-hash arrays for name codes (-1 gives null).

        Parameters
        ----------
        codes
            Vocabulary codes.

        Returns
        -------
        tuple of pyarrow.Array
            ``(name_hash, soundex_hash)`` dictionary-encoded arrays.
        """
        missing = codes < 0
        safe = np.where(missing, 0, codes)
        return (
            coded_array(self.name_code[safe], missing, self.name_values),
            coded_array(self.sdx_code[safe], missing, self.sdx_values),
        )


def cases_table(c: Cases, geo: Geography) -> pa.Table:
    """The ``cases`` table.

    Parameters
    ----------
    c
        Recorded cases.
    geo
        The geography (authority codes).

    Returns
    -------
    pyarrow.Table
        Contract columns.
    """
    return pa.table(
        {
            "case_id": hex_ids(c.case_uid),
            "issue_date": date_array(c.issue),
            "application_type": coded_array(c.app_type, None, np.array(APPLICATION_TYPES)),
            "region_code": coded_array(c.region, None, np.array(cal.REGION_CODES)),
            "la_code": coded_array(np.maximum(c.la, 0), c.la < 0, geo.la_codes),
            "final_hearing_date": date_array(c.final, c.final < 0),
            "outcome": coded_array(np.maximum(c.outcome, 0), c.outcome < 0, np.array(OUTCOMES)),
        }
    )


def case_people_table(c: Cases, geo: Geography, hasher: NameHasher) -> pa.Table:
    """The ``case_people`` table.

    Parameters
    ----------
    c
        Recorded cases and people.
    geo
        The geography (postcode districts).
    hasher
        Name hashes.

    Returns
    -------
    pyarrow.Table
        Contract columns.
    """
    is_child = c.p_role == ROLE_CHILD
    fore, fore_sdx = hasher.columns(c.p_forename)
    sur, sur_sdx = hasher.columns(c.p_surname)
    role_codes = np.array([ROLES.index(r) for r in _ROLE_ORDER])[c.p_role]
    return pa.table(
        {
            "case_id": hex_ids(c.case_uid[c.p_case]),
            "person_id": hex_ids(c.p_uid),
            "role": coded_array(role_codes, None, np.array(ROLES)),
            "birth_date": date_array(c.p_dob, ~is_child),
            "birth_year_month": year_month_array(c.p_dob, is_child | c.p_dob_missing),
            "sex": coded_array(np.maximum(c.p_sex, 0), c.p_sex < 0, np.array(SEXES)),
            "forename_hash": fore,
            "surname_hash": sur,
            "forename_soundex_hash": fore_sdx,
            "surname_soundex_hash": sur_sdx,
            "postcode_district": coded_array(
                np.maximum(c.p_district, 0), c.p_district < 0, geo.district_names
            ),
        }
    )


def births_table(b: Births, geo: Geography, hasher: NameHasher) -> pa.Table:
    """The ``births`` table.

    Parameters
    ----------
    b
        Recorded births.
    geo
        The geography.
    hasher
        Name hashes.

    Returns
    -------
    pyarrow.Table
        Contract columns.
    """
    fore, fore_sdx = hasher.columns(b.forename)
    sur, sur_sdx = hasher.columns(b.surname)
    mid = hex_ids(b.mother_uid)
    mid = pc.if_else(pa.array(b.mother_uid_missing), pa.scalar(None, pa.string()), mid)
    return pa.table(
        {
            "birth_id": hex_ids(b.uid),
            "baby_birth_date": date_array(b.baby_dob),
            "region_code": coded_array(b.region, None, np.array(cal.REGION_CODES)),
            "la_code": coded_array(np.maximum(b.la, 0), b.la < 0, geo.la_codes),
            "mother_person_id": mid,
            "mother_birth_year_month": year_month_array(b.mother_dob, b.mother_dob_missing),
            "mother_forename_hash": fore,
            "mother_surname_hash": sur,
            "mother_forename_soundex_hash": fore_sdx,
            "mother_surname_soundex_hash": sur_sdx,
            "mother_postcode_district": coded_array(
                np.maximum(b.district, 0), b.district < 0, geo.district_names
            ),
            "baby_sex": coded_array(np.maximum(b.sex, 0), b.sex < 0, np.array(SEXES)),
            "live_birth": pa.array(b.live),
        }
    )


def write_table(table: pa.Table, folder: Path, name: str, fmt: str) -> Path:
    """Write one table as ``NAME.csv`` or ``NAME.parquet``.

    Parameters
    ----------
    table
        The table.
    folder
        The extract folder.
    name
        The table name.
    fmt
        ``'csv'`` or ``'parquet'``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    if fmt == "parquet":
        path = folder / f"{name}.parquet"
        pq.write_table(
            table,
            path,
            compression="zstd",
            store_schema=False,  # plain strings for readers; dictionary encoding stays physical
            row_group_size=1_000_000,
        )
        return path
    path = folder / f"{name}.csv"
    plain = pa.table(
        {
            n: col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col
            for n, col in zip(table.column_names, table.columns, strict=True)
        }
    )
    pacsv.write_csv(plain, path, write_options=pacsv.WriteOptions(quoting_style="none"))
    return path


def write_csv(df: pl.DataFrame, path: Path) -> Path:
    """Write a truth table as CSV (UTF-8, header, ISO dates, empty = null).

    Parameters
    ----------
    df
        The table.
    path
        Where to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    df.write_csv(path, date_format="%Y-%m-%d")
    return path


def truth_tables(
    t: Truth, c: Cases, b: Births, cases: pa.Table, people: pa.Table, births: pa.Table
) -> dict[str, pl.DataFrame]:
    """Build the truth tables from the true population and the recorded tables.

    Parameters
    ----------
    t
        The true population.
    c
        Recorded cases.
    b
        Recorded births.
    cases, people, births
        The written tables (for ids).

    Returns
    -------
    dict of str to polars.DataFrame
        ``mother_person_ids``, ``child_births``, ``birth_mothers``, ``mothers``,
        ``newborn_counts``.
    """
    from recurrence.synth.records import ROLE_MOTHER, new_child_return_days

    true_mother = np.char.add("TM", np.char.zfill(np.arange(len(t.m_dob)).astype(str), 7))
    true_child = np.char.add("TC", np.char.zfill(np.arange(len(t.c_dob)).astype(str), 7))
    person_id = people.column("person_id").to_numpy(zero_copy_only=False)
    case_id_row = people.column("case_id").to_numpy(zero_copy_only=False)
    case_id = cases.column("case_id").to_numpy(zero_copy_only=False)
    birth_id = births.column("birth_id").to_numpy(zero_copy_only=False)

    is_m = c.p_role == ROLE_MOTHER
    mother_ids = pl.DataFrame(
        {"person_id": person_id[is_m], "true_mother_id": true_mother[c.p_person[is_m]]}
    ).unique(maintain_order=True)

    child_birth = np.full(len(t.c_dob), None, dtype=object)
    has = b.child >= 0
    child_birth[b.child[has]] = birth_id[has]
    is_c = c.p_role == ROLE_CHILD
    child_births = pl.DataFrame(
        {
            "case_id": case_id_row[is_c],
            "person_id": person_id[is_c],
            "birth_id": child_birth[c.p_person[is_c]].tolist(),
            "true_child_id": true_child[c.p_person[is_c]],
        },
        schema={k: pl.String for k in ("case_id", "person_id", "birth_id", "true_child_id")},
    )
    birth_mothers = pl.DataFrame(
        {"birth_id": birth_id[has], "true_mother_id": true_mother[b.mother[has]]}
    )

    # --- mothers ---------------------------------------------------------------------------------
    n_m = len(t.m_dob)
    first = t.s_order == 0
    first_issue = np.zeros(n_m, dtype=np.int64)
    first_issue[t.s_mother[first]] = t.s_issue[first]
    index_region = np.zeros(n_m, dtype=np.int64)
    index_region[t.s_mother[first]] = t.s_region[first]
    second = t.s_order == 1
    ret_any = np.full(n_m, -1)
    ret_any[t.s_mother[second]] = t.s_issue[second] - first_issue[t.s_mother[second]]
    ret_new = new_child_return_days(t)
    care_case = c.app_type <= 1
    set_case = np.full(len(t.s_issue), None, dtype=object)
    set_case[c.case_set[care_case]] = case_id[care_case]
    first_case = np.full(n_m, None, dtype=object)
    first_case[t.s_mother[first]] = set_case[first]
    first_window = np.full(n_m, None, dtype=object)
    rev = np.flatnonzero(care_case)[::-1]  # latest first, so the earliest assignment wins
    first_window[t.s_mother[c.case_set[rev]]] = case_id[rev]
    keep = np.flatnonzero(first_window != None)  # noqa: E711 - object array comparison
    mothers = pl.DataFrame(
        {
            "true_mother_id": true_mother[keep],
            "birth_year_month": np.datetime_as_string(
                t.m_dob[keep].astype("datetime64[D]").astype("datetime64[M]"), unit="M"
            ),
            "first_issue_date": first_issue[keep].astype("datetime64[D]"),
            "first_case_id": first_case[keep].tolist(),
            "first_in_window_case_id": first_window[keep].tolist(),
            "index_region_code": np.array(cal.REGION_CODES)[index_region[keep]],
            "age_at_index_years": t.m_age_years[keep],
            "age_group": np.array(AGE_GROUP_LABELS)[t.m_age_group[keep]],
            "return_any_days": ret_any[keep],
            "return_new_child_days": ret_new[keep],
            "censor_days": END - first_issue[keep],
        },
        schema_overrides={"first_case_id": pl.String, "first_in_window_case_id": pl.String},
    ).with_columns(
        pl.col("first_issue_date").cast(pl.Date),
        *(
            pl.when(pl.col(k) >= 0).then(pl.col(k)).alias(k)
            for k in ("return_any_days", "return_new_child_days")
        ),
    )
    return {
        "mother_person_ids": mother_ids,
        "child_births": child_births,
        "birth_mothers": birth_mothers,
        "mothers": mothers,
        "newborn_counts": newborn_counts(t, c, b),
    }


def _year_text(col: str) -> pl.Expr:
    return pl.col(col).dt.year().cast(pl.String)


def newborn_counts(t: Truth, c: Cases, b: Births) -> pl.DataFrame:
    """Newborns and infants in s31 proceedings and live births, by region and year.

    A child is counted once per set; a child in two sets in one period is counted in the first.
    Age at entry is issue date minus birth date, or 0 for a child born after the issue date.

    Parameters
    ----------
    t
        The true population.
    c
        Recorded cases.
    b
        Recorded births.

    Returns
    -------
    polars.DataFrame
        region_code, year_type, year, newborns_under_7_days, newborns_under_14_days,
        infants_under_1_year, live_births.
    """
    rows = (c.p_role == ROLE_CHILD) & (c.app_type[c.p_case] <= 1)
    issue = c.issue[c.p_case[rows]]
    kids = pl.DataFrame(
        {
            "child": c.p_person[rows],
            "issue": issue.astype("datetime64[D]"),
            "age": np.maximum(issue - c.p_dob[rows], 0),
            "region_code": np.array(cal.REGION_CODES)[c.region[c.p_case[rows]]],
        }
    ).with_columns(pl.col("issue").cast(pl.Date))
    births = pl.DataFrame(
        {
            "date": b.baby_dob[b.live].astype("datetime64[D]"),
            "region_code": np.array(cal.REGION_CODES)[b.region[b.live]],
        }
    ).with_columns(pl.col("date").cast(pl.Date))

    def fy(col: str) -> pl.Expr:
        start = pl.col(col).dt.year() - (pl.col(col).dt.month() < 4).cast(pl.Int32)
        return pl.format("{}/{}", start, ((start + 1) % 100).cast(pl.String).str.zfill(2))

    out = []
    for year_type, expr_k, expr_b in (
        ("financial", fy("issue"), fy("date")),
        ("calendar", _year_text("issue"), _year_text("date")),
    ):  # fmt: skip
        counts = (
            kids.with_columns(year=expr_k)
            .sort("issue")
            .unique(["year", "child"], keep="first", maintain_order=True)
            .group_by("region_code", "year")
            .agg(
                newborns_under_7_days=(pl.col("age") < 7).sum(),
                newborns_under_14_days=(pl.col("age") < 14).sum(),
                infants_under_1_year=(pl.col("age") < 365).sum(),
            )
        )
        live = births.with_columns(year=expr_b).group_by("region_code", "year").len("live_births")
        if year_type == "financial":
            years = [f"{y}/{(y + 1) % 100:02d}" for y in range(2008, cal.EXTRACT_END.year)]
        else:
            years = [str(y) for y in range(2008, cal.EXTRACT_END.year)]
        grid = pl.DataFrame({"region_code": list(cal.REGION_CODES)}).join(
            pl.DataFrame({"year": years}), how="cross"
        )
        table = (
            grid.join(counts, on=["region_code", "year"], how="left")
            .join(live, on=["region_code", "year"], how="left")
            .fill_null(0)
            .with_columns(year_type=pl.lit(year_type))
        )
        out.append(table)
    return (
        pl.concat(out)
        .select(
            "region_code",
            "year_type",
            "year",
            pl.col("newborns_under_7_days").cast(pl.Int64),
            pl.col("newborns_under_14_days").cast(pl.Int64),
            pl.col("infants_under_1_year").cast(pl.Int64),
            pl.col("live_births").cast(pl.Int64),
        )
        .sort("year_type", "region_code", "year")
    )
