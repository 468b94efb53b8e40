"""Running months through Dagster from the command line (in-process, recorded in the local
Dagster instance so that `lim ui` shows the run history)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from assets.months import MONTH_RE
from pipelines.paths import DEFAULT_VAR


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
    Path(home).mkdir(parents=True, exist_ok=True)
    cfg = Path(home) / "dagster.yaml"
    if not cfg.exists():  # one run at a time: DuckDB has one writer
        cfg.write_text("run_queue:\n  max_concurrent_runs: 1\ntelemetry:\n  enabled: false\n", encoding="utf-8")
    return dg.DagsterInstance.get()


def preflight(month: str, resources: dict) -> None:
    """Fatal problems, each with one line saying what to fix."""
    from pipelines.policy import PolicyError
    from pipelines.warehouse import WarehouseError

    if not MONTH_RE.match(month):
        raise FatalError(f"月份格式错误：{month}，应为 YYYY-MM")
    landing = resources["landing"].month_dir(month)
    if not landing.is_dir():
        raise FatalError(f"落地目录中没有 {month} 月的数据：{landing} 不存在（检查 --landing 或等待部门报送）")
    try:
        resources["policy"].load()
    except PolicyError as e:
        raise FatalError(str(e)) from e
    try:
        with resources["warehouse"].connect():
            pass
    except WarehouseError as e:
        raise FatalError(str(e)) from e


def run_month(month: str, resources: dict, instance: dg.DagsterInstance | None = None, quiet: bool = True) -> RunOutcome:
    from pipelines.definitions import ALL_ASSETS, all_checks

    preflight(month, resources)
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING" if quiet else "INFO"}}}}
    result = dg.materialize(
        [*ALL_ASSETS, *all_checks()], partition_key=month, resources=resources,
        instance=instance or dagster_instance(), raise_on_error=False, run_config=run_config,
        tags={"lim/month": month},
    )
    folder = str(Path(resources["output"].root) / month)
    if result.success:
        return RunOutcome(month, True, result.run_id, folder)
    message = "; ".join(
        (ev.event_specific_data.error.message.strip().splitlines() or [""])[-1]
        for ev in result.all_events if ev.is_step_failure and ev.event_specific_data and ev.event_specific_data.error
    ) or "运行失败（见 Dagster 运行日志）"
    return RunOutcome(month, False, result.run_id, folder, message)
