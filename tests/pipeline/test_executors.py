"""Dagster's multiprocess executor (LIM_EXECUTOR=multiprocess, pipelines/executors.py): a month is
refused in one line without a persistent instance or with a bad setting. The multiprocess run itself
(a prefecture in county shards, equal to the whole month in one process) is in
tests/pipeline/test_truth_prefecture.py, which shares the whole month's run."""
from __future__ import annotations

import pytest

from lim.core.paths import SAMPLE_LANDING

MONTH = "2026-06"


def test_a_multiprocess_run_needs_a_persistent_instance_and_a_valid_setting(tmp_path, monkeypatch):
    import dagster as dg

    from pipelines.runner import FatalError, run_month
    from tests.runs import county_env

    env = county_env(tmp_path, landing=SAMPLE_LANDING)
    monkeypatch.setenv("LIM_PSEUDONYM_KEY", "k" * 40)
    monkeypatch.setenv("LIM_EXECUTOR", "multiprocess")
    with pytest.raises(FatalError, match="DAGSTER_HOME"):
        run_month(MONTH, env["resources"], instance=dg.DagsterInstance.ephemeral())
    monkeypatch.setenv("LIM_MAX_PROCESSES", "0")
    with pytest.raises(FatalError, match="LIM_MAX_PROCESSES"):
        run_month(MONTH, env["resources"], instance=dg.DagsterInstance.ephemeral())
    assert not env["warehouse"].exists() and not env["out"].exists()
