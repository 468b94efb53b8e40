"""assets/guard.py item 3: a step that fails on a DuckDB internal or fatal error (DuckDB 2.0.0 raised
one in the rules of a province month) is run once more, on a warehouse opened afresh, and the month
is the one an undisturbed run gives; a second such error fails the run as any error does.
LIM_FAIL_AT=duckdb_fatal:<step> raises DuckDB's FatalException in the step's first attempt
(lim/core/faults.py)."""
from __future__ import annotations

import dagster as dg

from pipelines.runner import run_month
from tests import scenario
from tests.conftest import TEST_POLICY
from tests.runs import copy_of, county_env, month_rows, published_checksums, run_months, scenario_county

M = scenario.M


def _events(env: dict, kind: str) -> list:
    return [e for e in env["instance"].all_logs(env["outcomes"][0].run_id)
            if e.dagster_event and e.dagster_event.event_type_value == kind]


def test_a_step_failing_on_a_duckdb_fatal_error_runs_again_and_the_month_is_the_same(monkeypatch):
    county = scenario_county()
    root = copy_of(county["root"], "lim-duckdb-retry-")
    monkeypatch.setenv("LIM_FAIL_AT", "duckdb_fatal:source_records,duckdb_fatal:rules")
    env = run_months(root, [M], landing=root / "landing", policy=TEST_POLICY)
    retried = {e.step_key for e in _events(env, "STEP_UP_FOR_RETRY")}
    assert retried == {"source_records", "rules"}
    assert not _events(env, "STEP_FAILURE")
    warnings = [e.user_message for e in env["instance"].all_logs(env["outcomes"][0].run_id)
                if "数据仓库（DuckDB）内部错误" in (e.user_message or "")]
    assert len(warnings) == 2 and all("database has been invalidated" in w for w in warnings)
    # the month published is the one the undisturbed run published
    assert published_checksums(env, M) == published_checksums(county, M)
    for table in ("alerts", "determinations", "quarantine", "audit_sample", "persons_monthly"):
        assert month_rows(env, table, M) == month_rows(county, table, M), table


def test_a_second_duckdb_error_fails_the_step(monkeypatch):
    county = scenario_county()
    root = copy_of(county["root"], "lim-duckdb-retry-twice-")
    monkeypatch.setenv("LIM_FAIL_AT", "duckdb_fatal_always:rules")
    env = county_env(root, policy=TEST_POLICY)
    env["instance"] = dg.DagsterInstance.ephemeral()
    outcome = run_month(M, env["resources"], instance=env["instance"])
    env["outcomes"] = [outcome]
    assert not outcome.success and "rules" in outcome.message
    assert [e.step_key for e in _events(env, "STEP_UP_FOR_RETRY")] == ["rules"]  # once, not again
    assert [e.step_key for e in _events(env, "STEP_FAILURE")] == ["rules"]
    # the month published before stays published, unchanged
    assert published_checksums(env, M) == published_checksums(county, M)
    assert month_rows(env, "alerts", M) == month_rows(county, "alerts", M)
