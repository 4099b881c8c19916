"""Synthetic cohorts and a minimal warehouse for the local-area tests."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl

from recurrence.profiles.areas import LA, NO_AUTHORITY
from recurrence.survival.disclosure import protect_family
from recurrence.survival.estimates import estimate_table

END = dt.date(2024, 3, 31)


def make_cohort(
    sizes: dict[str, dict[str, int]], seed: int = 1, hazard: float = 0.03
) -> pl.DataFrame:
    """Mothers with exponential times to return (per year) and uniform follow-up of 6–14 years.

    ``sizes`` maps a region to its authorities and their numbers of mothers; an authority
    named ``None`` holds the region's mothers whose index set names no authority.
    """
    rng = np.random.default_rng(seed)
    rows = []
    k = 0
    for region, las in sizes.items():
        for la, n in las.items():
            ret = rng.exponential(1 / hazard, n) * 365.25
            follow = rng.uniform(6, 14, n) * 365.25
            for r, f in zip(ret, follow, strict=True):
                k += 1
                rows.append(
                    {
                        "mother_key": f"m{k}",
                        "index_case_id": f"c{k}",
                        "in_cohort": True,
                        "time_days": float(np.floor(min(r, f))),
                        "event": bool(r <= f),
                        "region_code": region,
                        "index_period": "2008-2011",
                        "la": la,
                    }
                )
    return pl.DataFrame(rows)


def with_la(cohort: pl.DataFrame) -> pl.DataFrame:
    return cohort.with_columns(
        pl.coalesce(pl.col("la"), pl.lit(NO_AUTHORITY) + pl.col("region_code")).alias(LA)
    )


def national_table(cohort: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    table = estimate_table(cohort, (5, 7), covariates=("region_code",))
    return protect_family(table, min_cell=min_cell, extract_end=END)


def warehouse(cohort: pl.DataFrame, *, la_column: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema analysis; create schema staging; create schema audit")
    con.execute("create schema published")
    con.register("c", cohort.drop("la", strict=False).drop(LA, strict=False).to_arrow())
    con.execute("create table analysis.recurrence_cohort as select * from c")
    cases = cohort.select(pl.col("index_case_id").alias("case_id"), pl.col("la").alias("la_code"))
    con.register("k", (cases if la_column else cases.drop("la_code")).to_arrow())
    con.execute("create table staging.cases as select * from k")
    con.execute(f"create table audit.extract_info as select date '{END}' as extract_end_date")
    con.register("n", national_table(with_la(cohort), 10).to_arrow())
    con.execute("create table published.recurrence_estimates as select * from n")
    return con
