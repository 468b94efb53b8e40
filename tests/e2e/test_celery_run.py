"""A month of a generated two-county prefecture in county shards (LIM_SHARDS=county) on the Celery
executor (LIM_EXECUTOR=celery) with real workers over a real Redis broker, as docs/deploy.md runs it: a redis-server on a free port of 127.0.0.1, two Celery workers
running one step at a time (`--pool solo`): `lim-wh`, which also consumes the warehouse queue
`lim_warehouse`, and `lim-2`, only the default queue `dagster`. The month runs through `run_month`:
it succeeds, publishes the files of the in-process run byte for byte, writes the same tables, and
both workers ran steps (the run's event log names the worker of each step); every step that writes
the warehouse ran on `lim-wh`, the county steps (read-only) on either. The workers and Redis are stopped whatever happens, each within bounded time.

Needs redis-server (`make test` installs it with apt-get when missing): skipped, saying so, without."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from generator import generate
from lim.core.paths import ROOT, SAMPLE_LANDING
from pipelines.runner import FatalError, run_month
from tests.runs import county_env, month_rows, persistent_instance, published_checksums, run_months

MONTH = "2026-06"
TABLES = ("alerts", "determinations", "quarantine", "quality_results")
WORKERS = {"lim-wh": "dagster,lim_warehouse", "lim-2": "dagster"}  # name -> queues
KEY = "c" * 40  # the analysts' key, the same in the run and the workers

pytest.importorskip("dagster_celery", reason="dagster-celery (the cluster extra) is not installed")
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (make test installs it with apt-get as root)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready within {timeout:.0f} s")


def stop(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM to the process group `proc` leads (a Celery worker's pool with it), SIGKILL after `timeout`."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass


def redis_answers(port: int) -> bool:
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def cluster():
    """redis-server and the two workers; yields the broker URL, the workers' log files and the names."""
    root = Path(tempfile.mkdtemp(prefix="lim-celery-"))
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    procs: list[tuple[subprocess.Popen, float]] = []
    try:
        redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        procs.append((redis_proc, 5))
        wait_for(lambda: redis_answers(port), 15, "redis-server")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               "LIM_EXECUTOR": "celery", "LIM_CELERY_BROKER": broker, "LIM_PSEUDONYM_KEY": KEY}
        env.pop("LIM_CELERY_BACKEND", None)
        celery = str(Path(sys.executable).with_name("celery"))
        logs, names = {}, {}
        for name, queues in WORKERS.items():
            logs[name] = root / f"{name}.log"
            with open(logs[name], "wb") as log:
                proc = subprocess.Popen(
                    [celery, "-A", "pipelines.celery_worker", "worker", "-n", f"{name}@%h", "--pool", "solo",
                     "-Q", queues, "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            procs.append((proc, 30))
        for name, log in logs.items():
            wait_for(lambda log=log: b" ready." in log.read_bytes(), 90, f"Celery worker {name}")
            names[name] = log.read_text(encoding="utf-8", errors="replace").split(" ready.")[0].rsplit(" ", 1)[-1]
        yield {"broker": broker, "root": root, "logs": logs, "names": names}
    finally:
        for proc, timeout in reversed(procs):  # the workers first, then Redis
            stop(proc, timeout)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def runs(cluster):
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("LIM_PSEUDONYM_KEY", KEY)
        mp.delenv("LIM_EXECUTOR", raising=False)
        landing = cluster["root"] / "prefecture"
        generate(out=landing, households=240, months=1, start=MONTH, seed=11, counties=2, messy_rate=0.02)
        policy = str(landing / "policy.yaml")
        in_process = run_months(cluster["root"] / "in_process", [MONTH], landing=landing, policy=policy)
        mp.setenv("LIM_EXECUTOR", "celery")
        mp.setenv("LIM_SHARDS", "county")
        mp.setenv("LIM_CELERY_BROKER", cluster["broker"])
        mp.delenv("LIM_CELERY_BACKEND", raising=False)
        started = time.monotonic()
        celery = run_months(cluster["root"] / "celery", [MONTH], landing=landing, policy=policy,
                            instance=persistent_instance(cluster["root"] / "dagster_home"))
        yield {"in_process": in_process, "celery": celery, "seconds": time.monotonic() - started}
    finally:
        mp.undo()


def workers_of_steps(env: dict) -> dict[str, str]:
    """step key -> the Celery worker that ran it, from the engine events dagster-celery's workers
    write into the run's event log themselves."""
    out = {}
    for e in env["instance"].all_logs(env["outcomes"][0].run_id):
        de = e.dagster_event
        if de and de.event_type_value == "ENGINE_EVENT" and "in celery worker" in (e.message or ""):
            out[e.step_key] = de.engine_event_data.metadata["Celery worker"].value
    return out


_DONE = re.compile(r"Task execute_plan\[[0-9a-f-]+\] succeeded in .*?\"text\": \"([^\"]+)\"\}, \"label\": \"step_keys\"")


def steps_in_worker_logs(cluster: dict) -> dict[str, str]:
    """step key -> the worker whose own log says it executed it (the task's result, as the worker
    logs it, names its step keys)."""
    out = {}
    for name, log in cluster["logs"].items():
        for keys in _DONE.findall(log.read_text(encoding="utf-8", errors="replace")):
            for key in keys.split(", "):
                out[key] = cluster["names"][name]
    return out


def test_the_celery_run_succeeds_and_publishes_the_in_process_files(runs):
    assert runs["celery"]["outcomes"][0].success
    staff = published_checksums(runs["in_process"], MONTH)
    assert "alerts_all.csv" in staff
    assert published_checksums(runs["celery"], MONTH) == staff


@pytest.mark.parametrize("name", TABLES)
def test_the_celery_run_writes_the_same_tables(runs, name):
    rows = month_rows(runs["in_process"], name, MONTH)
    assert rows
    assert month_rows(runs["celery"], name, MONTH) == rows


def test_both_workers_ran_steps_and_the_warehouse_steps_ran_on_one(runs, cluster):
    # Which worker ran which step: each worker's own log; the engine events the workers write into
    # the run's event log must agree. (After the prefecture module's multiprocess month in the same
    # process, this month once ran on Dagster's cached multiprocess job — no task in either log:
    # pipelines/runner.execute_in_child_processes now rebuilds the job from the run's settings.)
    ran = steps_in_worker_logs(cluster)
    events = workers_of_steps(runs["celery"])
    assert all(ran.get(step) == worker for step, worker in events.items()), (events, ran)
    wh, other = cluster["names"]["lim-wh"], cluster["names"]["lim-2"]
    assert set(ran.values()) == {wh, other}, ran
    shards = [s for s in ran if s.startswith("county_shards.county_shard[")]
    assert len(shards) == 2 and "county_shards.merge_county_shards" in ran, ran
    assert all(worker == wh for step, worker in ran.items() if not step.startswith("staged_") and step not in shards), ran
    assert len([s for s in ran if s.startswith("staged_")]) == 11 and "published_month" in ran
    # the workers' own logs agree: each reports the tasks it ran; every file was read in a bounded
    # read worker (a worker that could not start one says 无法启动读取进程)
    for name, log in cluster["logs"].items():
        text = log.read_text(encoding="utf-8", errors="replace")
        assert "Task execute_plan[" in text and "无法启动读取进程" not in text, name


def test_a_month_without_its_roster_stops_with_one_line_and_an_audit_row(runs, cluster):
    """The outcome handling of run_month is the executor's too: 2026-07 without civil_affairs_members,
    run into the Celery run's warehouse, stops with one line (exit status 2 for `lim run`), writes a
    failed run_audit row naming the failed step, and leaves 2026-06 as published."""
    root = cluster["root"] / "celery"
    landing = cluster["root"] / "landing_without_roster"
    shutil.copytree(SAMPLE_LANDING / "2026-07", landing / "2026-07")
    for p in (landing / "2026-07").glob("civil_affairs_members.*"):
        p.unlink()
    before = published_checksums(runs["celery"], MONTH)
    env = county_env(root, landing=landing)
    with pytest.raises(FatalError) as e:
        run_month("2026-07", env["resources"], instance=runs["celery"]["instance"])
    assert "\n" not in str(e.value) and "civil_affairs_members" in str(e.value)
    import duckdb

    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    try:
        rows = con.sql("SELECT status, message FROM run_audit WHERE month = '2026-07'").fetchall()
    finally:
        con.close()
    assert rows == [("failed", "failed_steps=source_records")]
    assert published_checksums(runs["celery"], MONTH) == before and not (Path(env["out"]) / "2026-07").exists()
