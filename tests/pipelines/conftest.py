"""Fixtures shared by the tests that load or run the Dagster code location."""

import pytest

from pipelines.definitions import defs as load_defs


@pytest.fixture
def dagster_home(tmp_path, monkeypatch):
    """A private Dagster instance folder, so tests never touch the user's run history."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def blocking_checks():
    """Every blocking asset check of the code location, as (asset key, check name)."""
    graph = load_defs().resolve_asset_graph()
    return {
        (spec.asset_key.to_user_string(), spec.name)
        for spec in (graph.get_check_spec(k) for k in graph.asset_check_keys)
        if spec.blocking
    }
