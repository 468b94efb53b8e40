"""Shared fixtures: the hand-built scenario county run once through the real pipeline."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.runs import scenario_county

TEST_POLICY = str(Path(__file__).parent / "policy_test.yaml")


@pytest.fixture(scope="session")
def county():
    """Months 2026-05 and 2026-06 of tests/scenario.py, run through Dagster into a real DuckDB file
    (tests/runs.py scenario_county: once per test process, shared with the quality county)."""
    env = scenario_county()
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    yield {**env, "con": con}
    con.close()


# --- tiers ---------------------------------------------------------------------------------------
# tests/unit (pure functions, readers, single SQL files, the generator: seconds), tests/pipeline
# (months run through Dagster in-process), tests/e2e (the `lim` command, kills and reruns, privacy):
# each test gets its folder's marker, so `pytest -m unit` (make test-fast) is the inner loop and
# `make test` runs all three.
TIERS = ("unit", "pipeline", "e2e")


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).parts
        tier = next((t for t in TIERS if len(parts) >= 2 and parts[-2] == t), None)
        if tier:
            item.add_marker(getattr(pytest.mark, tier))
