"""Open an authority profile in headless Chromium: it renders, its funnel plot loads, no errors."""

import json
import re
import subprocess
import urllib.request

import polars as pl
import pytest
from test_report_browser import FLAGS, DevTools, _browser_ws

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
    process = subprocess.Popen(
        [
            system_tools["chromium"],
            *FLAGS,
            f"--user-data-dir={tmp_path / 'browser'}",
            "--remote-debugging-port=0",
            "--window-size=1000,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        browser = _browser_ws(process)
        port = re.search(r":(\d+)/", browser).group(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=20) as r:
            page = next(p for p in json.loads(r.read().decode()) if p["type"] == "page")
        from websockets.sync.client import connect as ws_connect

        with ws_connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=20) as ws:
            tools = DevTools(ws)
            tools.call("Runtime.enable")
            tools.call("Log.enable")
            tools.call("Page.enable")
            tools.call("Page.navigate", url=html.as_uri())
            tools.wait_for("Page.loadEventFired")
            images = json.loads(
                tools.call(
                    "Runtime.evaluate",
                    expression="JSON.stringify(Array.from(document.images)"
                    ".map(i => [i.complete, i.naturalWidth]))",
                    returnByValue=True,
                )["result"]["value"]
            )
            text = tools.call(
                "Runtime.evaluate", expression="document.body.innerText", returnByValue=True
            )["result"]["value"]
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stderr is not None:
            process.stderr.close()
    # The funnel plot (the authority is published) has loaded.
    assert len(images) == 1
    assert all(complete and width > 0 for complete, width in images), images
    # What a commissioner reads: the sentence to quote, with the published estimate.
    assert f"an estimated {100 * estimate:.1f}% returned to court" in text
    assert "Disclosure and data-quality notes" in text
    errors = [
        e
        for e in tools.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []
