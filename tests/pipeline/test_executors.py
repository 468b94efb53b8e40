"""A month of a generated two-county prefecture on Dagster's multiprocess executor
(LIM_EXECUTOR=multiprocess, pipelines/executors.py) in county shards (LIM_SHARDS=county,
assets/shards.py) gives what the whole month in one process gives: the staff files of the published
manifest byte for byte, and the warehouse's alerts, determinations, quarantine and quality results;
the steps that write the warehouse ran one at a time, the two county steps beside each other."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from generator import generate
from lim.core.paths import SAMPLE_LANDING
from tests.runs import month_rows, persistent_instance, published_checksums, run_months

MONTH = "2026-06"
COUNTIES = 2
TABLES = ("alerts", "determinations", "quarantine", "quality_results")


def forkserver_with_stale_settings(mp: pytest.MonkeyPatch) -> None:
    """Start this process's forkserver (unless running already) while LIM_FAIL_AT names `source_records`: the
    multiprocess executor's step processes are its children and have its environment, not the run's.
    They must adopt the run's settings (WarehouseResource.run_settings) or the run fails at `source_records`."""
    from multiprocessing import forkserver

    from lim.core import processes

    mp.setenv("LIM_FAIL_AT", "source_records")
    processes.context()
    forkserver.ensure_running()
    mp.delenv("LIM_FAIL_AT")


@pytest.fixture(scope="module")
def runs():
    root = Path(tempfile.mkdtemp(prefix="lim-executors-"))
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("LIM_PSEUDONYM_KEY", "k" * 40)  # the same analysts' key in every step process
        mp.delenv("LIM_EXECUTOR", raising=False)
        forkserver_with_stale_settings(mp)
        landing = root / "landing"
        generate(out=landing, households=240, months=1, start=MONTH, seed=11, counties=COUNTIES, messy_rate=0.02)
        policy = str(landing / "policy.yaml")
        in_process = run_months(root / "in_process", [MONTH], landing=landing, policy=policy)
        mp.setenv("LIM_EXECUTOR", "multiprocess")
        mp.setenv("LIM_MAX_PROCESSES", "2")
        mp.setenv("LIM_SHARDS", "county")
        multi = run_months(root / "multiprocess", [MONTH], landing=landing, policy=policy,
                           instance=persistent_instance(root / "dagster_home"))
        yield {"in_process": in_process, "multiprocess": multi}
    finally:
        mp.undo()
        shutil.rmtree(root, ignore_errors=True)


def test_the_multiprocess_run_publishes_the_same_files(runs):
    staff = published_checksums(runs["in_process"], MONTH)
    assert any(p.startswith("alerts/") for p in staff) and "alerts_all.csv" in staff
    assert published_checksums(runs["multiprocess"], MONTH) == staff


@pytest.mark.parametrize("name", TABLES)
def test_the_multiprocess_run_writes_the_same_tables(runs, name):
    rows = month_rows(runs["in_process"], name, MONTH)
    assert rows, name
    assert month_rows(runs["multiprocess"], name, MONTH) == rows


def step_spans(env: dict) -> dict[str, tuple[float, float]]:
    """step key -> (start, end) of the run's steps, from its event log."""
    instance, run_id = env["instance"], env["outcomes"][0].run_id
    spans: dict[str, list[float]] = {}
    for e in instance.all_logs(run_id):
        kind = e.dagster_event.event_type_value if e.dagster_event else None
        if kind == "STEP_START":
            spans[e.step_key] = [e.timestamp, e.timestamp]
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            spans[e.step_key][1] = e.timestamp
    return {k: (a, b) for k, (a, b) in spans.items()}


def test_each_step_ran_in_its_own_process_and_the_warehouse_had_one_writer(runs):
    env = runs["multiprocess"]
    run = env["instance"].get_run_by_id(env["outcomes"][0].run_id)
    assert run.tags["lim/launcher"] == "lim" and run.tags["dagster/partition"] == MONTH
    events = env["instance"].all_logs(run.run_id)
    assert any("Launching subprocess for" in (e.message or "") for e in events)  # the multiprocess executor
    spans = step_spans(env)
    shards = sorted((a, b, k) for k, (a, b) in spans.items() if k.startswith("county_shards.county_shard["))
    assert len(shards) == COUNTIES
    # the county steps only read the warehouse: they ran beside each other
    assert shards[1][0] < shards[0][1], f"{shards[0][2]} and {shards[1][2]} ran one after the other"
    writers = sorted((a, b, k) for k, (a, b) in spans.items() if not k.startswith(("staged_", "county_shards.county_shard[")))
    assert len(writers) > 10 and "county_shards.merge_county_shards" in {k for _, _, k in writers}
    for (_, end, first), (start, _, second) in zip(writers, writers[1:]):
        assert start >= end, f"{first} and {second} had the warehouse open at the same time"


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
