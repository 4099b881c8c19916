"""Open the HTML report in headless Chromium: it renders, its figures load, no console errors."""

import base64
import contextlib
import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect as ws_connect

from recurrence.report.write import HTML_NAME

pytestmark = pytest.mark.slow

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(
                json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            )


def _browser_ws(process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 30
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if m := re.search(r"DevTools listening on (ws://\S+)", line):
            return m.group(1)
    raise AssertionError("Chromium did not start its DevTools server")


@contextlib.contextmanager
def open_page(chromium: str, html: Path, user_data: Path, *, width: int = 1200):
    """Open ``html`` in a headless Chromium and yield its DevTools once the page has loaded."""
    process = subprocess.Popen(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={user_data}",
            "--remote-debugging-port=0",
            f"--window-size={width},900",
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
            pages = json.loads(r.read().decode())
        page = next(p for p in pages if p["type"] == "page")
        with ws_connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=20) as ws:
            tools = DevTools(ws)
            tools.call("Runtime.enable")
            tools.call("Log.enable")
            tools.call("Page.enable")
            tools.call("Page.navigate", url=html.as_uri())
            tools.wait_for("Page.loadEventFired")
            yield tools
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stderr is not None:
            process.stderr.close()


def page_images_and_text(tools: DevTools) -> tuple[list, str]:
    """Each image's (loaded, natural width), and the page's visible text."""
    status = tools.call(
        "Runtime.evaluate",
        expression="JSON.stringify(Array.from(document.images)"
        ".map(i => [i.complete, i.naturalWidth]))",
        returnByValue=True,
    )["result"]["value"]
    text = tools.call("Runtime.evaluate", expression="document.body.innerText", returnByValue=True)[
        "result"
    ]["value"]
    return json.loads(status), text


def console_errors(tools: DevTools) -> list[dict]:
    """Exceptions, console errors and log errors the page raised."""
    return [
        e
        for e in tools.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]


def test_html_report_renders_in_chromium(full_sample_run, system_tools, tmp_path):
    html = full_sample_run.run_folder / HTML_NAME
    with open_page(system_tools["chromium"], Path(html), tmp_path / "profile") as tools:
        images, text = page_images_and_text(tools)
        shot = tools.call("Page.captureScreenshot", format="png")["data"]
    (tmp_path / "report.png").write_bytes(base64.b64decode(shot))
    assert (tmp_path / "report.png").stat().st_size > 10_000
    # Charts whose every group is hidden are replaced by a sentence (issue 23), so the sample
    # shows fewer figures; each one shown has loaded.
    assert len(images) >= 4
    assert all(complete and width > 0 for complete, width in images), images
    # What a reader sees (issue 23): synthetic data said first, no internal names, impossible
    # values marked [x] as in the CSV, no claim about an empty set of authorities.
    assert text.index("Synthetic data") < text.index("Key figures")
    for raw in ("pairwise f1", "bcubed", "share women exact", "`", ".build/"):
        assert raw not in text, raw
    assert "Year of her first set: 2020+\t[x]" in text
    assert "No local authority with a published rate lies outside" not in text
    assert console_errors(tools) == []
