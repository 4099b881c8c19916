"""Every release of the sample carries the output-checking pack, true to the warehouse."""

import re

import pytest

from recurrence.checking_pack import PACK_NAME
from recurrence.config import load_config
from recurrence.warehouse import connect

pytestmark = pytest.mark.slow


def test_the_sample_release_carries_a_pack_describing_every_file(baseline_run):
    folder = baseline_run.run_folder
    text = (folder / PACK_NAME).read_text(encoding="utf-8")
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    for name in names:
        assert f"### `{name}`" in text, name
    assert "Not described by recurrence" not in text
    min_cell = load_config().disclosure.min_cell
    assert f"counts under **{min_cell}** are hidden" in text

    con = connect(baseline_run.warehouse, read_only=True)
    try:
        recorded = {
            t: (p, s) for t, p, s, _ in con.sql("select * from audit.disclosure_control").fetchall()
        }
        # Primary cells of the rates are exactly the published cells whose true count is small.
        small = con.sql(
            f"select count(*) from analysis.newborn_rates where children < {min_cell}"
        ).fetchone()[0]
        hidden = con.sql(
            "select count(*) from published.newborn_rates where suppressed"
        ).fetchone()[0]
    finally:
        con.close()
    assert recorded["published.newborn_rates"] == (small, hidden - small)
    rates = text.split("### `newborn_rates.csv`")[1].split("###")[0]
    assert (
        f"primary suppression: {small} cells; by secondary suppression: {hidden - small} cells"
        in rates
    )
    assert "Intruder test: passed" in rates
    estimates = text.split("### `recurrence_estimates.csv`")[1].split("###")[0]
    assert re.search(r"primary suppression: \d+ groups; by secondary suppression: \d+", estimates)
    assert "Intruder test: passed" in estimates
    assert "outcomes.csv" in names
    outcomes = text.split("### `outcomes.csv`")[1].split("###")[0]
    primary, secondary = recorded["published.outcomes"]
    assert f"primary suppression: {primary} counts; by secondary suppression: {secondary}" in (
        outcomes
    )
