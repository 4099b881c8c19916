"""The exact proportional-hazards test against R survival 3.5 ``cox.zph`` (tests/fixtures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recurrence.survival.ph import TRANSFORMS, cox_zph, efron_fit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cox_zph"
TERMS = {"age_band": [0], "region": [1, 2]}


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "cohort.csv")


def _x(d: pd.DataFrame) -> np.ndarray:
    return np.column_stack(
        [d.age_band == "under_20", d.region == "south", d.region == "wales"]
    ).astype(float)


def test_efron_fit_matches_r(cohort: pd.DataFrame) -> None:
    ref = pd.read_csv(FIXTURES / "coxph_efron.csv")
    fit = efron_fit(cohort.time_years.to_numpy(), cohort.event.to_numpy(), _x(cohort))
    np.testing.assert_allclose(fit.coef, ref["coef"], rtol=1e-5)
    np.testing.assert_allclose(fit.se, ref["se"], rtol=1e-5)


def test_stratified_fit_matches_r(cohort: pd.DataFrame) -> None:
    ref = pd.read_csv(FIXTURES / "coxph_strata_age_band.csv")
    fit = efron_fit(
        cohort.time_years.to_numpy(),
        cohort.event.to_numpy(),
        _x(cohort)[:, 1:],
        strata=cohort.age_band.to_numpy(),
    )
    np.testing.assert_allclose(fit.coef, ref["coef"], rtol=1e-5)
    np.testing.assert_allclose(fit.se, ref["se"], rtol=1e-5)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_zph_matches_r(cohort: pd.DataFrame, transform: str) -> None:
    ref = pd.read_csv(FIXTURES / "cox_zph.csv").query("transform == @transform")
    time, event, x = cohort.time_years.to_numpy(), cohort.event.to_numpy(), _x(cohort)
    fit = efron_fit(time, event, x)
    z = cox_zph(time, event, x, fit.coef, TERMS, transform=transform)
    assert list(z.terms) == list(ref["term"])
    np.testing.assert_allclose(z.chisq, ref["chisq"], rtol=1e-6)
    np.testing.assert_array_equal(z.df, ref["df"])
    np.testing.assert_allclose(z.p, ref["p"], rtol=1e-6)


def test_unknown_transform_is_refused(cohort: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="transform"):
        cox_zph(
            np.array([1.0, 2.0]),
            np.array([1, 1]),
            np.zeros((2, 1)),
            np.zeros(1),
            {},
            transform="log2",
        )
