"""Chance of return by local authority: estimates, funnel limits, disclosure and the intruder."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from profiles_fixtures import END, make_cohort, national_table, warehouse, with_la

from recurrence.config import load_config
from recurrence.profiles.areas import (
    LA,
    NO_AUTHORITY,
    Z95,
    Z998,
    area_table,
    funnel_limits,
    position,
    protect_areas,
    publish_area_estimates,
    region_findings,
)
from recurrence.survival.km import kaplan_meier


def test_an_authority_estimate_is_the_kaplan_meier_of_its_mothers_and_agrees_by_hand():
    """Hand-worked: times 1, 2, 2 (one censored), 3 → 1 − (3/4)(2/3)(0/1) at day 3."""
    cohort = pl.DataFrame(
        {
            "time_days": [1.0, 2.0, 2.0, 3.0, 5.0, 6.0],
            "event": [True, True, False, True, True, False],
            "region_code": ["R1"] * 6,
            LA: ["A", "A", "A", "A", "B", "B"],
        }
    )
    table = area_table(cohort, horizons=(1,))
    # Horizon of one year reaches every time here: A's estimate is 1 − S(3) = 1.
    a = table.filter((pl.col("group_variable") == LA) & (pl.col("group_value") == "A"))
    assert a["estimate"][0] == pytest.approx(1.0)
    assert a["n_at_start"][0] == 4
    assert a["n_events"][0] == 3
    # B: one return at day 5 among two at risk, then a censoring: 1 − 1/2.
    b = table.filter((pl.col("group_variable") == LA) & (pl.col("group_value") == "B"))
    assert b["estimate"][0] == pytest.approx(0.5)
    assert b["region_code"][0] == "R1"


def test_authority_estimates_and_intervals_equal_lifelines_kaplan_meier():
    """The vectorised path against lifelines' fit, authority by authority, at 5 and 7 years."""
    cohort = with_la(make_cohort({"R1": {"A": 300, "B": 120, None: 15}}))
    table = area_table(cohort)
    for la in ("A", "B", f"{NO_AUTHORITY}R1"):
        part = cohort.filter(pl.col(LA) == la)
        ref = kaplan_meier(
            part["time_days"].to_numpy(), part["event"].to_numpy(), np.array([1826, 2556])
        )
        rows = table.filter((pl.col("group_variable") == LA) & (pl.col("group_value") == la))
        np.testing.assert_allclose(rows["estimate"].to_numpy(), ref.estimate, atol=1e-9)
        np.testing.assert_allclose(rows["ci_lower"].to_numpy(), ref.ci_lower, atol=1e-9)
        np.testing.assert_allclose(rows["ci_upper"].to_numpy(), ref.ci_upper, atol=1e-9)


def test_funnel_limits_by_hand():
    """se on the log(−log) scale from the national interval, scaled by √(N/n)."""
    p, upper, big, n = 0.2, 0.21, 10_000, 2_500
    se = (np.log(-np.log(1 - upper)) - np.log(-np.log(1 - p))) / 1.959964
    expected_hi = 1 - 0.8 ** np.exp(1.959964 * se * 2)
    expected_lo = 1 - 0.8 ** np.exp(-1.959964 * se * 2)
    lo, hi = funnel_limits(p, upper, big, n, z=Z95)
    assert float(hi) == pytest.approx(expected_hi, rel=1e-6)
    assert float(lo) == pytest.approx(expected_lo, rel=1e-6)
    lo998, hi998 = funnel_limits(p, upper, big, n, z=Z998)
    assert lo998 < lo < p < hi < hi998
    assert position(0.5, float(lo), float(hi), float(lo998), float(hi998)) == (
        "above the 99.8% limit"
    )


def test_funnel_limits_hold_about_95_percent_of_authorities_without_a_real_difference():
    """200 authorities with one true hazard: about 5% outside the 95% limits, few beyond 99.8%."""
    sizes = {"R1": {f"L{i:03d}": int(n) for i, n in enumerate(np.linspace(80, 1200, 200))}}
    cohort = with_la(make_cohort(sizes, seed=7))
    table = area_table(cohort, horizons=(5,))
    national = table.filter(pl.col("group_variable") == "all").row(0, named=True)
    las = table.filter(pl.col("group_variable") == LA)
    n = las["n_at_start"].to_numpy()
    lo, hi = funnel_limits(
        national["estimate"], national["ci_upper"], national["n_at_start"], n, z=Z95
    )
    lo9, hi9 = funnel_limits(
        national["estimate"], national["ci_upper"], national["n_at_start"], n, z=Z998
    )
    est = las["estimate"].to_numpy()
    outside95 = float(np.mean((est < lo) | (est > hi)))
    outside998 = float(np.mean((est < lo9) | (est > hi9)))
    assert 0.01 <= outside95 <= 0.10
    assert outside998 <= 0.02


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_published_authorities_resist_the_intruder(seed):
    """Random authority sizes, some tiny: nothing small shown, and the attack finds nothing."""
    rng = np.random.default_rng(seed)
    sizes = {
        f"R{r}": {f"R{r}L{i}": int(rng.choice([3, 8, 25, 60, 200])) for i in range(5)}
        | {f"R{r}big1": 700, f"R{r}big2": 600, None: int(rng.integers(0, 6))}
        for r in range(3)
    }
    sizes = {r: {k: v for k, v in las.items() if v} for r, las in sizes.items()}
    cohort = with_la(make_cohort(sizes, seed=seed))
    national = national_table(cohort, 10)
    published = protect_areas(
        area_table(cohort), hidden_regions=set(), min_cell=10, extract_end=END
    )
    shown = published.filter(~pl.col("suppressed"))
    assert shown.height, "the test needs some published authorities"
    for c in ("n_at_start", "n_at_risk", "n_events"):
        assert (shown[c] >= 10).all()
    # Returns between 5 and 7 years: an intruder subtracts the two published cumulative counts.
    wide = shown.pivot(on="horizon_years", index="group_value", values="n_events")
    assert ((wide["7"] - wide["5"]) >= 10).all()
    assert region_findings(published, national, min_cell=10, extract_end=END) == []


def test_a_single_small_authority_takes_a_partner_with_it():
    """Region = A + B: hiding only the small B would give it back as region − A."""
    cohort = with_la(make_cohort({"R1": {"A": 400, "B": 4}}))
    published = protect_areas(
        area_table(cohort), hidden_regions=set(), min_cell=10, extract_end=END
    )
    assert published["suppressed"].all()


def test_a_region_hidden_nationally_hides_all_its_authorities():
    cohort = with_la(make_cohort({"R1": {"A": 400, "B": 400}, "R2": {"C": 400, "D": 400}}))
    published = protect_areas(
        area_table(cohort), hidden_regions={"R1"}, min_cell=10, extract_end=END
    )
    r1 = published.filter(pl.col("region_code") == "R1")
    r2 = published.filter(pl.col("region_code") == "R2")
    assert r1["suppressed"].all()
    assert r1["estimate"].is_null().all()
    assert not r2["suppressed"].any()


def test_the_release_reads_la_code_from_the_index_case_and_writes_the_csv(tmp_path):
    from recurrence.profiles.areas import CSV_NAME, build_area_estimates

    cohort = make_cohort({"R1": {"A": 400, "B": 300, None: 12}, "R2": {"C": 500, "D": 450}})
    con = warehouse(cohort, la_column=True)
    build_area_estimates(con)
    release = publish_area_estimates(con, load_config(), tmp_path)
    assert release.left_out is None
    # The 12 mothers with no authority in R1 are hidden, so the smaller of A and B goes too:
    # otherwise R1 − A − B would give them back.
    shown = set(release.published.filter(~pl.col("suppressed"))[LA].to_list())
    assert shown == {"A", "C", "D"}
    text = (tmp_path / CSV_NAME).read_text()
    assert "funnel_position" in text.splitlines()[0]
    assert "none:R1" in text  # the no-authority group is a row, hidden
    assert (tmp_path / "la_recurrence_funnel.png").exists()
    assert (tmp_path / "la_recurrence_funnel.svg").exists()
    row = release.published.filter((pl.col(LA) == "A") & (pl.col("horizon_years") == 7))
    mothers = cohort.filter(pl.col("la") == "A")
    assert row["n_at_start"][0] == mothers.height


def test_without_la_code_the_release_says_why(tmp_path):
    from recurrence.profiles.areas import build_area_estimates

    cohort = make_cohort({"R1": {"A": 400, "B": 300}})
    con = warehouse(cohort, la_column=False)
    build_area_estimates(con)
    release = publish_area_estimates(con, load_config(), tmp_path)
    assert release.published.is_empty()
    assert release.left_out is not None
    assert "la_code" in release.left_out
