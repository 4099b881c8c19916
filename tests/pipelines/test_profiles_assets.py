"""The local-area tables and profiles on a full run of the sample, against the rates and truth."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tables(baseline_run):
    with duckdb.connect(str(baseline_run.warehouse), read_only=True) as con:
        return {
            name: con.sql(f"select * from {name}").pl()
            for name in (
                "published.newborn_timing",
                "analysis.newborn_timing",
                "published.newborn_rates",
                "published.la_recurrence",
                "analysis.newborn_children",
            )
        }


def test_timing_newborns_are_the_rates_tables_newborns(tables):
    """Same children, same years: the timing total is the rates table's under-14-days count."""
    rates = tables["published.newborn_rates"].filter(
        (pl.col("age_band") == "under 14 days") & (pl.col("geography_level") != "local_authority")
    )
    truth = tables["analysis.newborn_timing"].join(
        rates.select("geography_code", "year", "children"), on=["geography_code", "year"]
    )
    shown = truth.filter(pl.col("children").is_not_null())
    assert shown.height
    assert (shown["n_newborns"] == shown["children"]).all()
    # Hidden there, hidden here.
    hidden = rates.filter(pl.col("suppressed")).select("geography_code", "year")
    published = tables["published.newborn_timing"].join(hidden, on=["geography_code", "year"])
    assert published["n_newborns"].is_null().all()


def test_issued_before_birth_is_every_newborn_added_at_birth(tables):
    """By hand from the children table: before birth is exactly the children added at birth."""
    children = tables["analysis.newborn_children"].filter(pl.col("counted") & pl.col("newborn"))
    truth = tables["analysis.newborn_timing"]
    england_and_wales = truth.filter(pl.col("geography_code") == "K04000001")
    in_years = children.filter(pl.col("year").is_in(england_and_wales["year"].implode()))
    assert england_and_wales["n_issued_before_birth"].sum() == in_years["added_at_birth"].sum()


def test_the_sample_publishes_no_authority_and_every_profile_says_why(baseline_run, tables):
    """The sample is too small for any authority: no number, and a sentence in each profile."""
    areas = tables["published.la_recurrence"]
    assert areas["estimate"].is_null().all()
    profiles = sorted((baseline_run.run_folder / "profiles").glob("*.html"))
    assert len(profiles) >= areas["la_code"].filter(~areas["la_code"].str.contains(":")).n_unique()
    text = profiles[0].read_text(encoding="utf-8")
    assert "chance of return is not published" in text
