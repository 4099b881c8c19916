"""Open an authority profile in headless Chromium: it renders, its funnel plot loads, no errors."""

import polars as pl
import pytest
from test_report_browser import console_errors, open_page, page_images_and_text

from recurrence.config import load_config
from recurrence.profiles.areas import build_area_estimates, publish_area_estimates
from recurrence.profiles.profile import build_profile, read_published, write_profile
from tests.unit.profiles_fixtures import make_cohort, warehouse

pytestmark = pytest.mark.slow


def test_a_profile_renders_in_chromium(system_tools, tmp_path):
    cohort = make_cohort({"E12000007": {"A": 500, "B": 450}, "E12000008": {"C": 500, "D": 450}})
    con = warehouse(cohort, la_column=True)
    build_area_estimates(con)
    publish_area_estimates(con, load_config(), None)
    published = read_published(con, "run-1")
    html, _ = write_profile(build_profile(published, "A", load_config()), tmp_path, "A")
    estimate = published.areas.filter((pl.col("la_code") == "A") & (pl.col("horizon_years") == 7))[
        "estimate"
    ][0]
    with open_page(system_tools["chromium"], html, tmp_path / "browser", width=1000) as tools:
        images, text = page_images_and_text(tools)
    # The funnel plot (the authority is published) has loaded.
    assert len(images) == 1
    assert all(complete and width > 0 for complete, width in images), images
    # What a commissioner reads: the sentence to quote, with the published estimate.
    assert f"an estimated {100 * estimate:.1f}% returned to court" in text
    assert "Disclosure and data-quality notes" in text
    assert console_errors(tools) == []
