"""The Dagster executor of the monthly job, from the settings (LIM_EXECUTOR, lim/core/settings.py).

- `in_process` (default): every step in the run's process, one after the other (`lim run` uses
  `dg.materialize`; the background GX worker validates beside the DuckDB steps).
- `multiprocess`: each step in a child process of the run, at most LIM_MAX_PROCESSES at a time;
  the steps that open the warehouse (tag `lim/writer`, assets/resources.py WAREHOUSE_STEP_TAGS)
  one at a time: DuckDB allows one writer per file.
- `celery`: each step a task of a Celery worker (dagster-celery, the `cluster` extra), through the
  broker LIM_CELERY_BROKER; the warehouse steps go to the queue `lim_warehouse`, which one worker
  of concurrency 1 beside the warehouse consumes; the ingest steps to the default queue `dagster`
  (docs/deploy.md: the workers' command, what every worker must see).

The runner (pipelines/runner.py) runs a non-in-process month with `dg.execute_job` on
`dg.reconstructable(pipelines.definitions.monthly_job_def)`: the child processes and the Celery
workers import the code location again and build the run's resources from the run config.
"""
from __future__ import annotations

import dagster as dg

from assets.resources import WAREHOUSE_QUEUE, WAREHOUSE_STEP_TAGS
from lim.core import settings
from lim.core.settings import Settings, SettingsError, var_of

DEFAULT_QUEUE = "dagster"  # dagster-celery's default queue: the ingest steps (any worker)
WRITER_TAG = next(iter(WAREHOUSE_STEP_TAGS))  # "lim/writer"
# The multiprocess executor's forkserver imports the code location, and the storage modules each
# step process needs to open the Dagster instance (~0.6 s a step otherwise; bench/PERF.md change 18).
# A name that is not there (another Dagster release) is skipped by the forkserver, only slower.
PRELOAD = ["pipelines.definitions", "dagster._core.storage.sqlite_storage", "dagster._core.storage.event_log",
           "dagster._core.storage.runs", "upath"]


def executor_def(env: Settings | None = None) -> dg.ExecutorDefinition:
    """The executor LIM_EXECUTOR names, configured from the settings (no run config needed)."""
    env = env or settings.current()
    if env.executor == "in_process":
        return dg.in_process_executor
    if env.executor == "multiprocess":
        if env.max_processes < 1:
            raise SettingsError(f"{var_of('max_processes')} 至少为 1，而不是 {env.max_processes}")
        return dg.multiprocess_executor.configured(
            {"max_concurrent": env.max_processes,
             "tag_concurrency_limits": [{"key": WRITER_TAG, "value": WAREHOUSE_STEP_TAGS[WRITER_TAG], "limit": 1}],
             # each step a fork of a server that has imported the code location once (not ~5 s of
             # imports per step, as with Dagster's default `spawn`)
             "start_method": {"forkserver": {"preload_modules": PRELOAD}}},
            name="lim_multiprocess")
    return celery_executor_def(env)


def celery_app_args(env: Settings) -> dict:
    """Broker and result backend of the Celery app, the same for the run and the workers."""
    if not env.celery_broker:
        raise SettingsError(f"{var_of('executor')}=celery 需要 {var_of('celery_broker')}（如 redis://127.0.0.1:6379/0）")
    return {"broker": env.celery_broker, "backend": env.celery_backend or env.celery_broker}


def celery_executor_def(env: Settings) -> dg.ExecutorDefinition:
    try:  # the optional extra `cluster` (pyproject.toml): not needed by the other executors
        from dagster_celery import celery_executor
    except ImportError:
        raise SettingsError(f"{var_of('executor')}=celery 需要 dagster-celery：pip install -e '.[cluster]'") from None
    return celery_executor.configured(celery_app_args(env), name="lim_celery")


def uses_child_processes(env: Settings | None = None) -> bool:
    """True when the steps run outside the run's process (the runner then uses dg.execute_job)."""
    return (env or settings.current()).executor != "in_process"


__all__ = ["DEFAULT_QUEUE", "WAREHOUSE_QUEUE", "executor_def", "celery_app_args", "uses_child_processes"]
