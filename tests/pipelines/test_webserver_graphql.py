"""End to end through the UI's API: start the webserver, launch the whole graph, check outputs."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from recurrence.paths import PROJECT_ROOT, SAMPLE_EXTRACT_DIR
from recurrence.warehouse import open_warehouse

pytestmark = pytest.mark.slow

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
  }
}
"""
STATUS = """
query Status($runId: ID!) {
  runOrError(runId: $runId) { __typename ... on Run { status } }
}
"""
LOCATIONS = """
query { workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(url, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload
    return payload["data"]


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _location_loaded(url):
    try:
        entries = _graphql(url, LOCATIONS)["workspaceOrError"]["locationEntries"]
    except OSError:
        return None
    if entries and entries[0]["loadStatus"] == "LOADED":
        error = entries[0]["locationOrLoadError"]
        assert error["__typename"] != "PythonError", error
        return entries[0]["name"]
    return None


def log_text(tmp_path):
    return (tmp_path / "webserver.log").read_text()[-3000:]


def test_whole_graph_runs_through_the_webserver_graphql_api(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    # Launch straight away (the default queue needs the dagster-daemon, which is not started).
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nrun_coordinator:\n"
        "  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n"
    )
    warehouse = tmp_path / "warehouse" / "recurrence.duckdb"
    reports = tmp_path / "reports"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "webserver.log").open("w")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port)),
            *("-m", "pipelines.definitions"),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        location = _wait(lambda: _location_loaded(url), 180, "the code location to load")
        params = {
            "selector": {
                "repositoryLocationName": location,
                "repositoryName": "__repository__",
                "pipelineName": "__ASSET_JOB",
            },
            "runConfigData": {
                "resources": {
                    "recurrence": {
                        "config": {
                            "extract": str(SAMPLE_EXTRACT_DIR),
                            "warehouse": str(warehouse),
                            "reports": str(reports),
                        }
                    }
                }
            },
            "mode": "default",
        }
        launched = _graphql(url, LAUNCH, {"params": params})["launchPipelineExecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]

        def finished():
            status = _graphql(url, STATUS, {"runId": run_id})["runOrError"]["status"]
            return status if status in {"SUCCESS", "FAILURE", "CANCELED"} else None

        assert _wait(finished, 300, "the run to finish") == "SUCCESS", log_text(tmp_path)
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()
        log.close()

    released = reports / run_id
    assert (released / "newborn_rates.csv").stat().st_size > 1000
    assert (released / "recurrence_estimates.csv").exists()
    assert not any(p.name.startswith(".") for p in reports.iterdir())
    # A run launched from the UI commits through the same journalled step as `recurrence run`.
    assert (reports / "LATEST_RUN").read_text().strip() == run_id
    assert (reports / "latest").resolve() == released.resolve()
    assert warehouse.exists()
    assert not warehouse.with_name(f".{warehouse.name}.build").exists()
    with open_warehouse(warehouse) as wh:
        assert wh.table("published.newborn_rates").height > 100
        assert wh.table("analysis.recurrence_cohort").height > 1000
