"""Run months through the real Dagster definitions, in-process, against a real DuckDB file."""
from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import build_resources
from pipelines.runner import run_month


def county_env(root: Path, landing: Path | None = None, policy: str | None = None, full_ids: bool = False) -> dict:
    """The files of a county folder (warehouse, out, landing) and the resources that run months in it."""
    root = Path(root)
    env = {"warehouse": root / "wh" / "warehouse.duckdb", "out": root / "out", "landing": landing or root / "landing"}
    env["resources"] = build_resources(warehouse=str(env["warehouse"]), landing=str(env["landing"]), out=str(env["out"]),
                                       policy=policy, staged=str(root / "staged"), full_ids=full_ids)
    return env


def run_months(root: Path, months: list[str], landing: Path | None = None, policy: str | None = None,
               full_ids: bool = False, instance: dg.DagsterInstance | None = None) -> dict:
    """`months` run in order in the county folder `root`, each asserted successful; on an ephemeral
    Dagster instance unless `instance` is given (LIM_EXECUTOR=multiprocess or celery need a persistent
    one: persistent_instance)."""
    env = county_env(root, landing, policy, full_ids)
    instance = instance or dg.DagsterInstance.ephemeral()
    env["outcomes"] = []
    for m in months:
        outcome = run_month(m, env["resources"], instance=instance)
        assert outcome.success, outcome.message
        env["outcomes"].append(outcome)
    env["instance"] = instance
    return env


def persistent_instance(home: Path) -> dg.DagsterInstance:
    """A Dagster instance stored in `home` (created): the runs of the multiprocess and Celery executors
    are read from it by their step processes."""
    Path(home).mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.local_temp(str(home))


def published_checksums(env: dict, month: str) -> dict:
    """path -> sha256 of `month`'s published files (its manifest), Data Docs aside (they hold times)."""
    import json

    manifest = json.loads((Path(env["out"]) / month / "manifest.json").read_text(encoding="utf-8"))
    return {o["path"]: o["sha256"] for o in manifest["outputs"] if not o["path"].startswith("data_docs/")}


def month_rows(env: dict, table: str, month: str) -> list[tuple]:
    """Every row of the warehouse view main.<table> for `month`, sorted (quality_results without the
    path of the staged folder its Data Docs were built in)."""
    import duckdb

    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    try:
        exclude = " EXCLUDE (docs_built_in)" if table == "quality_results" else ""
        return con.sql(f"SELECT *{exclude} FROM main.{table} WHERE month = ? ORDER BY ALL", params=[month]).fetchall()
    finally:
        con.close()


def copy_of(root: Path, prefix: str) -> Path:
    copy = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, copy, True)
    shutil.copytree(root, copy, dirs_exist_ok=True)
    return copy


@functools.lru_cache(maxsize=None)
def scenario_county() -> dict:
    """Months 2026-05 and 2026-06 of tests/scenario.py with tests/policy_test.yaml, run once per test
    process for every module that reads them (tests/conftest.py `county`, the quality county of
    tests/pipeline/test_quality_county.py). Read only: a test that runs more months copies `root`."""
    from tests import scenario
    from tests.conftest import TEST_POLICY
    from tests.landing import write_month

    root = Path(tempfile.mkdtemp(prefix="lim-scenario-"))
    atexit.register(shutil.rmtree, root, True)
    hhs = scenario.households()
    for month in (scenario.M_PREV, scenario.M):
        write_month(root / "landing", month, scenario.tables_for(month, hhs))
    env = run_months(root, [scenario.M_PREV, scenario.M], policy=TEST_POLICY)
    return {"hhs": hhs, "root": root, **env}


@functools.lru_cache(maxsize=None)
def scenario_county_rerun() -> dict:
    """scenario_county's folder copied, and 2026-06 run again in the copy with the same inputs
    (tests/pipeline/test_outputs.py's rerun, the quality county's report on a rerun). Read only."""
    from tests import scenario
    from tests.conftest import TEST_POLICY

    root = copy_of(scenario_county()["root"], "lim-scenario-rerun-")
    report_first_run = (root / "out" / scenario.M / "report.html").read_bytes()
    env = run_months(root, [scenario.M], landing=root / "landing", policy=TEST_POLICY)
    return {"root": root, "report_first_run": report_first_run, **env}


def pseudonym_key_env(key: str) -> pytest.MonkeyPatch:
    """The environment of a module's runs with a fixed analysts'-copy key (and no key file, not
    production); the caller undoes it when its fixture ends."""
    mp = pytest.MonkeyPatch()
    mp.setenv("LIM_PSEUDONYM_KEY", key)
    mp.delenv("LIM_PSEUDONYM_KEY_FILE", raising=False)
    mp.delenv("LIM_ENV", raising=False)
    return mp


def forkserver_with_stale_settings(mp: pytest.MonkeyPatch) -> None:
    """Start this process's forkservers (unless running already) while LIM_FAIL_AT names `source_records`:
    the pipeline's own (lim/core/processes.py) and Python's, which the multiprocess executor forks its
    step processes from (with the executor's preload, pipelines/executors.py). The step processes and
    the read workers are their children and have their environment, not the run's. They must adopt the
    run's settings (WarehouseResource.run_settings) or the run fails at `source_records`."""
    from multiprocessing import forkserver

    from lim.core import processes
    from pipelines.executors import PRELOAD

    mp.setenv("LIM_FAIL_AT", "source_records")
    processes.context()
    processes.ensure_running()
    forkserver.set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()
    mp.delenv("LIM_FAIL_AT")


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
