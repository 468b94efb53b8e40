"""Running months through Dagster from the command line (recorded in the local Dagster instance so
that `lim ui` shows the run history): in-process by default, or on the multiprocess or Celery
executor (LIM_EXECUTOR, pipelines/executors.py) — the same checks, locks, audit and outcome for each."""
from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableJob

from assets.guard import check_run_locations
from assets.partitions import monthly_partitions
from lim.core import settings
from lim.core.hashing import sha256_file
from lim.core.month import Month, MonthError
from lim.core.paths import DEFAULT_VAR, PathConflict, landing_links_outside
from lim.core.policy import PolicyError
from lim.publish.analyst_copy import PseudonymKeyError, load_key
from lim.publish.files import complete_pending_swap, recover_outputs
from lim.warehouse.locks import MonthLocked, lock_is_free, lock_path, month_lock, warehouse_lock
from lim.warehouse.warehouse import WarehouseError
from pipelines.definitions import all_checks, month_assets, monthly_job_def, sharded_monthly_job_def
from pipelines.executors import executor_def, uses_child_processes


class FatalError(RuntimeError):
    """A problem the operator must fix before the month can run (one line)."""


@dataclass
class RunOutcome:
    month: str
    success: bool
    run_id: str
    folder: str
    message: str = ""


def dagster_instance() -> dg.DagsterInstance:
    home = os.environ.get("DAGSTER_HOME") or str(DEFAULT_VAR / "dagster_home")
    os.environ["DAGSTER_HOME"] = home
    Path(home).mkdir(parents=True, exist_ok=True, mode=0o700)
    try:  # its run index and event logs name household numbers: the owner's only
        if Path(home).stat().st_uid == os.getuid():
            os.chmod(home, 0o700)
    except OSError:
        pass
    write_instance_config(Path(home) / "dagster.yaml")
    return dg.DagsterInstance.get()


# Run concurrency of the local Dagster instance (UI, schedule, sensor, backfills): one run in
# progress at a time (DuckDB has one writer), and per month at most one (`dagster/partition`),
# matching the per-month lock that `lim run` takes (lim/warehouse/locks.py). The job carries the
# tag `lim/warehouse` (pipelines/jobs.py), limited to one run as well; op pools default to 1.
INSTANCE_CONFIG = """# Written by lim (pipelines/runner.py); delete this line to keep your own edits.
concurrency:
  runs:
    max_concurrent_runs: 1
    tag_concurrency_limits:
      - key: "dagster/partition"
        value:
          applyLimitPerUniqueValue: true
        limit: 1
      - key: "lim/warehouse"
        limit: 1
  pools:
    default_limit: 1
run_monitoring:
  enabled: true
telemetry:
  enabled: false
"""
_OLD_CONFIG = "run_queue:\n  max_concurrent_runs: 1\ntelemetry:\n  enabled: false\n"


def write_instance_config(cfg: Path) -> None:
    """Write (or bring up to date) the managed dagster.yaml; a file the operator wrote is kept."""
    current = cfg.read_text(encoding="utf-8") if cfg.exists() else None
    managed = current is None or current == _OLD_CONFIG or current.startswith("# Written by lim")
    if managed and current != INSTANCE_CONFIG:
        cfg.write_text(INSTANCE_CONFIG, encoding="utf-8")


def as_month(month: str) -> Month:
    """The Month of `month` (a Month is passed on as it is), or FatalError (one line)."""
    try:
        return Month.parse(month)
    except MonthError as e:
        raise FatalError(str(e)) from None


def preflight(month: str, resources: dict) -> Month:
    """Fatal problems, each with one line saying what to fix: every check of `run_month`, for a
    caller that wants to refuse a month before doing anything else (the CLI, before it runs the
    earlier months its history needs)."""
    month = as_month(month)
    check_partition(month)
    check_executor()
    check_locations(resources)
    check_inputs(month, resources)
    check_warehouse(resources)
    return month


def check_executor() -> None:
    """LIM_EXECUTOR and what it needs (LIM_MAX_PROCESSES at least 1; for celery LIM_CELERY_BROKER and
    dagster-celery): one line before anything is created."""
    try:
        executor_def(settings.current())
    except settings.SettingsError as e:
        raise FatalError(str(e)) from None


def check_inputs(month: Month, resources: dict) -> None:
    """The month's landing folder, the policy's period for it and the analysts' copy's key
    (run_month checks them once, before anything is created)."""
    landing = resources["landing"].month_dir(month)
    if not landing.is_dir():
        raise FatalError(f"落地目录中没有 {month} 月的数据：{landing} 不存在（检查 --landing 或等待部门报送）")
    if not any(p.is_file() and not p.name.startswith(".") for p in landing.iterdir()):
        raise FatalError(f"落地目录中没有 {month} 月的数据：{landing} 是空目录，没有任何部门的文件（检查 --landing 或等待部门报送）")
    outside = landing_links_outside(resources["landing"].root, month)
    if outside:  # refused here, before ingestion reads anything (one line, exit status 2)
        name, target = outside[0]
        more = f"（另有 {len(outside) - 1} 个）" if len(outside) > 1 else ""
        raise FatalError(f"落地文件 {name} 是指向落地目录之外的符号链接（{target}）{more}：拒绝运行 {month} 月，"
                         f"请把部门文件本身放入落地目录")
    try:
        policy = resources["policy"].load()  # parsed once: `rules` and `published_month` get this one
    except PolicyError as e:
        raise FatalError(str(e)) from e
    uncovered = [code for code in sorted(policy.counties) if policy.period_for(code, month) is None]
    if uncovered:
        spans = "；".join(f"{c}：{_span(policy.counties[c].periods)}" for c in uncovered)
        raise FatalError(f"政策文件 {policy.path} 没有覆盖 {month} 月的参数时段（{spans}）：请在 periods 中补上含 {month} 的时段")
    try:
        load_key()  # the analysts' copy needs it; in production a missing key stops the run here
    except PseudonymKeyError as e:
        raise FatalError(str(e)) from None


def check_warehouse(resources: dict) -> None:
    """The warehouse opens (run_month checks it holding the warehouse lock: another run's open
    file is waited for there, not refused)."""
    try:
        with resources["warehouse"].connect():
            pass
    except WarehouseError as e:
        raise FatalError(str(e)) from e


def check_locations(resources: dict) -> None:
    """Landing, staged, out, warehouse and the analysts' copy: none the same as or inside another
    (lim/core/paths.py), before anything is created or written."""
    try:
        check_run_locations(resources)  # the same check as every asset's guard (assets/guard.py)
    except PathConflict as e:
        raise FatalError(str(e)) from None


def check_partition(month: str) -> None:
    """A month outside the monthly partitions (2020-01 to two years ahead) cannot run: one line."""
    keys = monthly_partitions.get_partition_keys()
    if month not in keys:
        raise FatalError(f"月份 {month} 不在可运行的范围内（{keys[0]} 至 {keys[-1]}），请检查 --month")


def _span(periods: list[dict]) -> str:
    first, last = periods[0], periods[-1]
    end = f"到 {last['effective_to']} 为止" if last.get("effective_to") else "此后一直有效"
    return f"时段从 {first['effective_from']} 开始，{end}"


def other_runs_in_progress(instance: dg.DagsterInstance, month: str) -> list[str]:
    """Runs of `month` in progress that were launched elsewhere (UI, schedule, sensor). Runs
    launched by `lim` are covered by the month lock, which a killed process cannot leave behind."""
    runs = instance.get_runs(filters=dg.RunsFilter(
        statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                  dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING],
        tags={"dagster/partition": month}))
    return [r.run_id for r in runs if r.tags.get("lim/launcher") != "lim"]


IN_PROGRESS = (dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
               dg.DagsterRunStatus.CANCELING)


def fail_dead_runs(instance: dg.DagsterInstance, warehouse_path: str) -> list[str]:
    """Mark failed the `lim` runs of this warehouse that the instance still shows in progress but whose
    process is gone (SIGKILL, out of memory): called while this run holds the warehouse lock, which
    every `lim` run holds while it runs, so none of them can be alive. Without this such a run stays
    STARTED for ever and, the instance allowing one run at a time, the schedule, the sensor and the
    UI's runs would stay QUEUED silently."""

    here = os.path.abspath(warehouse_path)
    dead = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(IN_PROGRESS), tags={"lim/launcher": "lim"})):
        path = run.tags.get("lim/warehouse_file")
        month = run.tags.get("dagster/partition") or run.tags.get("lim/month")
        if path == here or (path is None and month and lock_is_free(here, month)):
            instance.report_run_failed(run, message="运行进程已不存在（被终止或内存不足），由下一次运行标记为失败")
            dead.append(run.run_id)
    return dead


def run_month(month: str, resources: dict, instance: dg.DagsterInstance | None = None, quiet: bool = True) -> RunOutcome:
    """One month through Dagster, holding the month's lock; FatalError if it cannot start. Each
    check of `preflight` runs once: the month and the locations before the lock is created, the
    inputs (check_inputs) before anything is created, the warehouse (check_warehouse) holding its
    lock."""
    month = as_month(month)
    check_partition(month)
    check_executor()
    check_locations(resources)  # before the month's lock is created beside the warehouse
    check_inputs(month, resources)
    instance = instance or dagster_instance()
    if instance.is_ephemeral and uses_child_processes():  # their step processes read the run from it
        raise FatalError(f"{settings.var_of('executor')}={settings.current().executor} 需要持久的 Dagster 实例"
                         f"（DAGSTER_HOME）：子进程和 Celery 工作进程从中读取运行")
    try:  # the month's lock lives beside the warehouse: a path under a file cannot hold either
        lock_path(resources["warehouse"].path, month).parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FatalError(f"数据仓库无法打开：{resources['warehouse'].path}（{e.strerror}：{e.filename}），请检查 --warehouse") from None
    try:
        with month_lock(resources["warehouse"].path, month), \
                warehouse_lock(resources["warehouse"].path, month,
                               on_wait=lambda who: print(f"数据仓库正被 {who} 使用：{month} 月等待其结束后运行", file=sys.stderr)):
            fail_dead_runs(instance, resources["warehouse"].path)
            others = other_runs_in_progress(instance, month)
            if others:
                raise FatalError(f"{month} 月已有 Dagster 运行在进行或排队（运行 {', '.join(r[:8] for r in others)}），"
                                 f"拒绝同时再运行一次；请等待其结束或在 Dagster UI 中终止")
            return _run_locked(month, resources, instance, quiet)
    except MonthLocked as e:
        raise FatalError(str(e)) from None


def _run_locked(month: Month, resources: dict, instance: dg.DagsterInstance, quiet: bool) -> RunOutcome:
    check_warehouse(resources)
    # Everything this run creates (warehouse, staged Parquet, outputs, analysts' copy) is the
    # owner's only: the files hold ID numbers, diagnoses and incomes.
    previous_umask = os.umask(0o077)
    try:
        restrict_warehouse_files(resources["warehouse"].path)
        with resources["warehouse"].connect() as con:  # a run killed after its commit: finish its swap
            complete_pending_swap(con, Path(resources["output"].root), month)
        recover_outputs(Path(resources["output"].root), month)  # a run killed mid-swap left <out>/<M> aside
        run_config = {"loggers": {"console": {"config": {"log_level": "WARNING" if quiet else "INFO"}}}}
        started = datetime.now(timezone.utc).replace(tzinfo=None)
        tags = {"lim/month": month, "lim/launcher": "lim", "lim/warehouse": "main",
                "lim/warehouse_file": os.path.abspath(resources["warehouse"].path)}
        in_process = not uses_child_processes()
        if in_process and "quality" in resources:  # the forkserver starts now, beside Dagster's set-up of the run
            resources["quality"].warm_up(month)
        # A quiet run's Dagster log is held back until the run is over: a month that stops for a
        # fatal reason (the roster, below) is one line on stderr, not a page of step failures.
        held = io.StringIO() if quiet else None
        with contextlib.redirect_stderr(held) if held is not None else contextlib.nullcontext():
            if in_process:
                result = dg.materialize(
                    [*month_assets(), *all_checks()], partition_key=month, resources=resources,
                    instance=instance, raise_on_error=False, run_config=run_config, tags=tags)
            else:
                result = execute_in_child_processes(month, resources, instance, run_config, tags)
        restrict_warehouse_files(resources["warehouse"].path)
    finally:
        os.umask(previous_umask)
    folder = str(Path(resources["output"].root) / month)
    fatal = None if result.success else _fatal_cause(result)
    if held is not None and not fatal:
        sys.stderr.write(held.getvalue())
    if result.success:
        return RunOutcome(month, True, result.run_id, folder)
    failed_steps = sorted({ev.step_key for ev in result.all_events if ev.is_step_failure and ev.step_key})
    if fatal:  # the roster of M is not usable: nothing was published; exit 2 with one line
        audit_failure(resources, month, result.run_id, started, failed_steps)
        raise FatalError(fatal)
    message = "; ".join(
        f"{ev.step_key}: {_root_cause(ev.event_specific_data.error)}"
        for ev in result.all_events if ev.is_step_failure and ev.event_specific_data and ev.event_specific_data.error
    ) or "运行失败（见 Dagster 运行日志）"
    audit_failure(resources, month, result.run_id, started, failed_steps)
    return RunOutcome(month, False, result.run_id, folder, message)


def execute_in_child_processes(month: Month, resources: dict, instance: dg.DagsterInstance, run_config: dict,
                               tags: dict):
    """The month on the multiprocess or Celery executor: `dg.execute_job` on the reconstructable
    monthly job (pipelines/definitions.py monthly_job_def), which each child process and Celery
    worker imports again. Python objects do not cross to them, so the run's resources and settings
    travel as run config (resource_run_config: every field of each resource, and the LIM_* variables
    with the run's locations; stored with the run, read by the step processes from the instance)."""
    config = {**run_config, **resource_run_config(resources)}
    with warnings.catch_warnings():
        # dagster-celery registers its task again for every step it sends (harmless, one warning each)
        warnings.filterwarnings("ignore", message="Task name 'execute_plan' is already registered")
        job = sharded_monthly_job_def if settings.current().shards == "county" else monthly_job_def
        # Dagster keeps the last job a reconstructable target built (ReconstructableJob.get_definition,
        # lru_cache(maxsize=1)): a second month in this process with another LIM_EXECUTOR would run on
        # the first one's executor (seen: a Celery month run on the multiprocess executor of the month
        # before). Build it again from this run's settings.
        for cached in (ReconstructableJob.get_definition, ReconstructableJob.get_repository_definition):
            cached.cache_clear()
        return dg.execute_job(dg.reconstructable(job), instance=instance, run_config=config,
                              tags={**tags, "dagster/partition": str(month)}, raise_on_error=False)


def resource_run_config(resources: dict) -> dict:
    """The run config of `resources` (each a ConfigurableResource): every field as it is here, so
    each step, wherever it runs, builds the same resources; and the run's settings (`run_settings`
    of the warehouse: this process's LIM_* variables, the analysts' key itself aside, with the run's
    locations), which each step process adopts. No background GX worker: the steps run in different
    processes, `quality_results` validates the staged files itself (the same suites)."""
    config = {}
    for key, resource in resources.items():
        fields = resource.model_dump()
        if key == "quality":
            fields["background"] = False
        config[key] = {"config": fields}
    config["warehouse"]["config"]["run_settings"] = {**settings.run_environment(), **run_locations(resources)}
    return {"resources": config}


def run_locations(resources: dict) -> dict[str, str]:
    """The run's locations as LIM_* variables (lim/core/settings.py), absolute."""
    return settings.location_environment({
        "warehouse": os.path.abspath(resources["warehouse"].path), "landing": os.path.abspath(resources["landing"].root),
        "staged": os.path.abspath(resources["staging"].root), "out": os.path.abspath(resources["output"].root),
        "policy": os.path.abspath(resources["policy"].path)})


def _fatal_cause(result) -> str | None:
    """The one-line message of a failure the operator must fix (assets.reconcile.RosterNotDelivered)."""
    for ev in result.all_events:
        if ev.is_step_failure and ev.event_specific_data and ev.event_specific_data.error:
            error = ev.event_specific_data.error
            while error is not None:
                if error.cls_name == "RosterNotDelivered":
                    return (error.message.split(":", 1)[-1].strip().splitlines() or [""])[0]
                error = getattr(error, "cause", None)
    return None


def _root_cause(error) -> str:
    """Last line of the innermost cause (Dagster wraps the asset's exception in its own)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return (error.message.strip().splitlines() or [""])[-1]


def restrict_warehouse_files(path: str) -> None:
    """The restricted warehouse (full IDs and names) and its WAL: readable by the owner only."""
    for p in (Path(path), Path(f"{path}.wal")):
        try:
            if p.exists() and p.stat().st_uid == os.getuid():
                os.chmod(p, 0o600)
        except OSError:
            pass


def audit_failure(resources: dict, month: str, run_id: str, started: datetime, failed_steps: list[str]) -> None:
    """A run_audit row for a failed run (a successful run writes its own inside the publish
    transaction). Only the failed step names are kept: error texts may quote data."""
    import getpass
    import socket

    try:
        user = resources["output"].requested_by or getpass.getuser()
    except Exception:  # noqa: BLE001
        user = "unknown"
    policy_path = resources["policy"].path
    try:
        policy_sha = sha256_file(policy_path)
    except OSError:
        policy_sha = None
    try:
        with resources["warehouse"].connect() as con:
            if con.sql("SELECT count(*) FROM run_audit WHERE run_id = ?", params=[run_id]).fetchall()[0][0]:
                return  # its month committed (status files_pending): that row is the one clear state
            con.execute("INSERT INTO run_audit VALUES (?, ?, ?, ?, 'failed', ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                        [run_id, month, started, datetime.now(timezone.utc).replace(tzinfo=None), user,
                         socket.gethostname(), resources["landing"].root, policy_path, policy_sha,
                         _staged_inputs(resources, month), resources["output"].full_ids,
                         "failed_steps=" + ",".join(failed_steps)])
    except Exception:  # noqa: BLE001 - the audit of a failure must not hide the failure itself
        pass


def _staged_inputs(resources: dict, month: str) -> str:
    """The input files' sha256 as far as ingestion got (from <staged>/<M>/<source>.load.json)."""
    import json

    rows = []
    folder = Path(resources["staging"].root) / month
    for p in sorted(folder.glob("*.load.json")) if folder.is_dir() else []:
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append({k: d.get(k) for k in ("source", "file", "status", "sha256")})
    return json.dumps(rows, ensure_ascii=False)
