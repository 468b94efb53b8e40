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


# --- balance of `make test` (-n 2 --dist loadfile) ---------------------------------------------------
# xdist hands whole files to the two workers, by default the files with the most tests first, which
# left the longest files (the kill matrix, the generated counties, the lim command) to the end of
# the run with one worker alone. The files below (about their share of a run, longest first) are
# handed out first; every other file follows, most tests first as before. Order only: every test
# still runs.
LONGEST_FIRST = ("e2e/test_reliability.py", "pipeline/test_truth.py", "pipeline/test_truth_prefecture.py",
                 "e2e/test_cli.py", "pipeline/test_incomplete_months.py",
                 "pipeline/test_quality.py", "e2e/test_privacy.py", "pipeline/test_rules_variants.py",
                 "pipeline/test_outputs.py", "e2e/test_run_hygiene.py", "pipeline/test_loop.py",
                 "pipeline/test_executors.py", "e2e/test_celery_run.py", "pipeline/test_old_warehouse.py",
                 "pipeline/test_quality_measure.py")


def pytest_configure(config):
    if getattr(config.option, "dist", "no") == "loadfile":
        config.option.loadscopereorder = False  # the order of the collection below


def _file_rank(items):
    counts: dict[str, int] = {}
    for item in items:
        counts[item.nodeid.split("::")[0]] = counts.get(item.nodeid.split("::")[0], 0) + 1

    def rank(item):
        f = item.nodeid.split("::")[0]
        hit = [i for i, name in enumerate(LONGEST_FIRST) if f.endswith(name)]
        return (hit[0] if hit else len(LONGEST_FIRST), -counts[f], f)
    return rank


def pytest_collection_modifyitems(config, items):
    items.sort(key=_file_rank(items))  # stable: within a file, the order of the file
    for item in items:
        parts = Path(str(item.fspath)).parts
        tier = next((t for t in TIERS if len(parts) >= 2 and parts[-2] == t), None)
        if tier:
            item.add_marker(getattr(pytest.mark, tier))
