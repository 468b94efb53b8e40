"""Shared fixtures: the hand-built scenario county run once through the real pipeline."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests import scenario
from tests.landing import write_month
from tests.runs import run_months

TEST_POLICY = str(Path(__file__).parent / "policy_test.yaml")


@pytest.fixture(scope="session")
def county(tmp_path_factory):
    """Months 2026-05 and 2026-06 of tests/scenario.py, run through Dagster into a real DuckDB file."""
    root = tmp_path_factory.mktemp("scenario")
    hhs = scenario.households()
    for month in (scenario.M_PREV, scenario.M):
        write_month(root / "landing", month, scenario.tables_for(month, hhs))
    env = run_months(root, [scenario.M_PREV, scenario.M], policy=TEST_POLICY)
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    yield {"hhs": hhs, "con": con, "root": root, **env}
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
