"""The monthly job: every asset of one month, on the executor of the settings (LIM_EXECUTOR,
pipelines/executors.py: in one process by default; the steps that open the warehouse one at a
time whatever the executor, DuckDB allowing one writer)."""
import warnings

import dagster as dg

from assets.partitions import monthly_partitions
from lim.core.settings import SettingsError
from pipelines.executors import executor_def


def settings_executor() -> dg.ExecutorDefinition:
    """The executor of the settings; in-process, with a warning, when they are incomplete (LIM_EXECUTOR=celery
    without LIM_CELERY_BROKER): the code location still loads, and `lim run` refuses such a month with
    the one-line message (pipelines/runner.py check_executor)."""
    try:
        return executor_def()
    except SettingsError as e:
        warnings.warn(f"{e}; monthly_job runs in one process", stacklevel=2)
        return dg.in_process_executor


def make_monthly_job(executor: dg.ExecutorDefinition | None = None):
    """The monthly job on `executor` (default: the one the settings of this process name)."""
    return dg.define_asset_job(
        "monthly_job",
        # the import of town staff's answers is its own job (feedback_job, below)
        selection=dg.AssetSelection.all() - dg.AssetSelection.assets("alert_feedback"),
        partitions_def=monthly_partitions,
        executor_def=executor or settings_executor(),
        description="低收入人口动态监测月度任务：接收 → 核对 → 认定与预警 → 发布。",
        tags={"dagster/max_runtime": "3600"},
        # Run concurrency (dagster.yaml written by pipelines/runner.py): at most one run tagged
        # lim/warehouse in progress (one DuckDB writer), and one per month (dagster/partition).
        run_tags={"dagster/max_runtime": "3600", "lim/warehouse": "main"},
    )


monthly_job = make_monthly_job()

# Town staff's answers to month M's lists, from <landing>/<M>/feedback/ (assets/feedback.py),
# started by pipelines/sensors.feedback_sensor; one DuckDB writer, like the monthly job.
feedback_job = dg.define_asset_job(
    "feedback_job",
    selection=dg.AssetSelection.assets("alert_feedback"),
    partitions_def=monthly_partitions,
    executor_def=dg.in_process_executor,
    description="导入乡镇交回的核查反馈（<landing>/<M>/feedback/）。",
    run_tags={"lim/warehouse": "main"},
)
