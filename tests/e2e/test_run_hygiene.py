"""Dagster hygiene after a crash (issue: hostile and careless input): a run left STARTED by a dead
process is marked failed by the next run (nothing queues for ever); runs of two months take turns on
the warehouse with one clear line; the Dagster home is the owner's only; a killed analysts' copy
build's half-written file is removed by the next run."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lim.warehouse.locks import lock_path
from pipelines.runner import write_instance_config
from tests.conftest import TEST_POLICY
from tests.runs import run_months
from tests.e2e.test_cli import _two_month_landing, lim


def _args(tmp_path, landing, month):
    return ["run", "--month", month, "--landing", str(landing), "--warehouse", str(tmp_path / "wh" / "w.duckdb"),
            "--out", str(tmp_path / "out"), "--policy", TEST_POLICY, "--no-history"]


def test_a_run_left_started_by_a_dead_process_is_failed_by_the_next(tmp_path):
    landing, _ = _two_month_landing(tmp_path)
    home = tmp_path / "dh"
    env = {"DAGSTER_HOME": str(home)}
    home.mkdir(mode=0o755)  # an instance an earlier `lim run` made, readable by others (as before the fix)
    os.chmod(home, 0o755)
    write_instance_config(home / "dagster.yaml")
    # what a SIGKILLed `lim run` leaves in the instance: a run that says STARTED, its process gone
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        instance = dg.DagsterInstance.get()
        ghost = dg.DagsterRun(job_name="__ephemeral_asset_job__", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED,
                              tags={"lim/launcher": "lim", "dagster/partition": "2026-06", "lim/month": "2026-06",
                                    "lim/warehouse_file": os.path.abspath(tmp_path / "wh" / "w.duckdb")})
        instance.add_run(ghost)
        instance.dispose()
        r = lim(*_args(tmp_path, landing, "2026-06"), cwd=tmp_path, env_extra=env)
        assert r.returncode == 0, r.stderr
        instance = dg.DagsterInstance.get()
        assert instance.get_run_by_id(ghost.run_id).status == dg.DagsterRunStatus.FAILURE
        assert not instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.QUEUED]))
        instance.dispose()
    finally:
        del os.environ["DAGSTER_HOME"]
    # the Dagster home (run index and event logs name household numbers) is the owner's only
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_two_months_at_once_take_turns_with_one_line(tmp_path):
    """Another month's run holds the warehouse: `lim run` says so in one line and waits for it,
    instead of colliding with it in DuckDB; it completes once the other run is over."""
    landing, _ = _two_month_landing(tmp_path)
    wh = tmp_path / "wh" / "w.duckdb"
    lock = lock_path(wh, "warehouse")
    lock.parent.mkdir(parents=True)
    release = tmp_path / "release"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time, json, pathlib\n"
        f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.write(fd, json.dumps({'user': 'u', 'host': 'h', 'pid': os.getpid(), 'started': 's', 'month': '2026-05'}).encode())\n"
        "print('held', flush=True)\n"
        f"while not pathlib.Path({str(release)!r}).exists(): time.sleep(0.1)\n")], stdout=subprocess.PIPE, text=True)
    err = tmp_path / "stderr.txt"
    try:
        assert holder.stdout.readline().strip() == "held"
        with open(err, "w", encoding="utf-8") as f:
            run = subprocess.Popen([str(Path(sys.executable).parent / "lim"),
                                    *_args(tmp_path, landing, "2026-06")], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=f,
                                   env={**os.environ, "DAGSTER_HOME": str(tmp_path / "dh")}, text=True)
            deadline = time.monotonic() + 240
            while "等待其结束" not in err.read_text(encoding="utf-8") and run.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            waiting = run.poll() is None
            release.touch()
            rc = run.wait(timeout=300)
    finally:
        release.touch()
        holder.wait(timeout=60)
    text = err.read_text(encoding="utf-8")
    assert waiting and rc == 0, text
    waits = [l for l in text.splitlines() if "等待其结束" in l]
    assert len(waits) == 1 and "2026-05 月的运行" in waits[0], text
    assert (tmp_path / "out" / "2026-06" / "alerts_all.csv").exists()


def test_a_killed_analyst_copy_builds_partial_file_is_removed(tmp_path, monkeypatch, capsys):
    """(The CLI's main() in this process: the cleanup is what is tested, not the process.)"""
    from pipelines.cli import main

    landing, _ = _two_month_landing(tmp_path)
    (tmp_path / "wh").mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    partial = tmp_path / "wh" / f".analyst.duckdb.partial-{dead.pid}"
    partial.write_bytes(b"pseudonyms of last month")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    monkeypatch.chdir(tmp_path)
    rc = main(_args(tmp_path, landing, "2026-05"))
    assert rc == 0, capsys.readouterr().err
    assert not partial.exists()
    assert (tmp_path / "wh" / "analyst.duckdb").exists()


def test_a_file_identical_to_last_months_is_reported_as_a_likely_resend(tmp_path):
    """Issue (careless input): a department sends last month's file again — same bytes. It is read
    as M's data (nothing substitutes another month), and the warehouse, the check and the report
    say it is likely a resend."""
    landing, dead = _two_month_landing(tmp_path)
    for m in ("2026-05", "2026-06"):  # 人社局 sends the same file both months
        (landing / m / "hr.csv").write_text("公民身份号码,姓名,就业状态,月工资,月养老金,月失业保险金\n"
                                            f"{dead},王二,退休,,1200,\n", encoding="utf-8")
    env = run_months(tmp_path, ["2026-05", "2026-06"], landing=landing, policy=TEST_POLICY)
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    flagged = con.sql("SELECT month, source FROM source_coverage WHERE same_file_as_previous_month ORDER BY 1, 2").fetchall()
    con.close()
    assert flagged == [("2026-06", "hr")]
    html = (tmp_path / "out" / "2026-06" / "report.html").read_text(encoding="utf-8")
    assert "疑为重复报送上月文件" in html
