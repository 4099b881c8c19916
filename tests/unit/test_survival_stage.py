"""The recurrence release: published precision of hazard ratios, the released PH test."""

import csv
import datetime as dt
import math

import duckdb
import numpy as np
import polars as pl
import pytest

from recurrence.config import load_config
from recurrence.survival.cox import fit_cox
from recurrence.survival.estimates import estimate_table
from recurrence.survival.stage import (
    COX_CSV,
    COX_TABLE,
    ESTIMATES_TABLE,
    PH_TABLE,
    PUBLISHED_COX_TABLE,
    PUBLISHED_PH_TABLE,
    RATIO_SIG_FIGS,
    _write,
    publish_estimates,
    round_ratios,
)

END = dt.date(2024, 3, 31)


def _sig_figs(text: str) -> int:
    digits = text.replace("-", "").replace(".", "").lstrip("0")
    return len(digits.split("e")[0])


@pytest.fixture
def warehouse():
    rng = np.random.default_rng(3)
    n = 4000
    under20 = rng.random(n) < 0.3
    base = rng.exponential(2500, n) / np.where(under20, 1.7, 1.0)
    censor = rng.integers(1, 5000, n)
    cohort = pl.DataFrame(
        {
            "time_days": np.minimum(base, censor).astype(np.int64),
            "event": base <= censor,
            "age_group": np.where(under20, "under 20", "25-29"),
            "region_code": np.where(rng.random(n) < 0.5, "E12000007", "W99999999"),
        }
    )
    con = duckdb.connect()
    con.execute("create schema audit")
    con.execute("create table audit.extract_info as select ?::date as extract_end_date", [END])
    covariates = ("age_group", "region_code")
    _write(con, ESTIMATES_TABLE, estimate_table(cohort, [1, 7], covariates=covariates))
    result = fit_cox(cohort, covariates=covariates, horizon_years=7)
    ratios = result.hazard_ratios
    _write(con, COX_TABLE, ratios)
    _write(con, PH_TABLE, result.ph_test)
    yield con, ratios
    con.close()


def test_hazard_ratios_and_bounds_are_published_to_four_significant_figures(warehouse, tmp_path):
    con, fitted = warehouse
    published = publish_estimates(con, load_config(), tmp_path)
    table = con.sql(f"select * from {PUBLISHED_COX_TABLE} order by variable, level").pl()
    assert table.height == fitted.height == 2
    with (tmp_path / COX_CSV).open(encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: (r["variable"], r["level"]))
    for exact, shown, row in zip(
        fitted.sort("variable", "level").iter_rows(named=True),
        table.iter_rows(named=True),
        rows,
        strict=True,
    ):
        for column in ("hazard_ratio", "ci_lower", "ci_upper"):
            # Rounded, not truncated: within half a unit in the fourth figure of the fit.
            unit = 10 ** (math.floor(math.log10(abs(exact[column]))) - RATIO_SIG_FIGS + 1)
            assert abs(shown[column] - exact[column]) <= unit / 2 * (1 + 1e-9)
            assert shown[column] != exact[column]  # the fit has more figures than published
            assert float(row[column]) == shown[column]
            assert _sig_figs(row[column]) <= RATIO_SIG_FIGS
        # p-values keep their precision.
        assert shown["p_value"] == exact["p_value"]
    assert published.hazard_ratios["hazard_ratio"].to_list() == table["hazard_ratio"].to_list()


def test_round_ratios_keeps_nulls_and_small_and_large_values():
    frame = pl.DataFrame(
        {
            "hazard_ratio": [None, 0.000123456, 98765.4],
            "ci_lower": [None, 0.0001, 1.0],
            "ci_upper": [None, 1.99995, 123456.0],
            "p_value": [None, 0.123456789, 1e-12],
        }
    )
    out = round_ratios(frame)
    assert out["hazard_ratio"].to_list() == [None, 0.0001235, 98770.0]
    assert out["ci_upper"].to_list() == [None, 2.0, 123500.0]
    assert out["p_value"].to_list() == frame["p_value"].to_list()


def test_the_proportional_hazards_test_is_released_unchanged(warehouse, tmp_path):
    con, _ = warehouse
    publish_estimates(con, load_config(), None)
    released = con.sql(f"select * from {PUBLISHED_PH_TABLE} order by variable").pl()
    fitted = con.sql(f"select * from {PH_TABLE} order by variable").pl()
    assert released.equals(fitted)
    assert set(released["variable"]) == {"age_group", "region_code", "GLOBAL"}
