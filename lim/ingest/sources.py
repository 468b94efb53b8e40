"""Staging one source of a month: in this process or in a worker process bounded in memory and time
(lim/ingest/read_worker.py, lim/core/limits.py), then handing the staged file to the run's GX worker.

The landing, staging and quality arguments are the resources of assets/resources.py (anything with
their `root`, `month_dir`, `data_docs_dir` and `staged`)."""
from pathlib import Path

from lim.core import limits
from lim.ingest.read_worker import WorkerUnavailable, stage_files, stage_isolated, staged_paths
from lim.quality.judges import QualityConfig

__all__ = ["stage_one", "stage_one_bounded", "submit_for_validation", "staged_paths"]


def stage_one(source: str, month: str, landing, staging) -> dict:
    """Stage `source` of `month` in this process (lim/ingest/read_worker.py: stage_files)."""
    return stage_files(source, month, landing.month_dir(month), Path(landing.root), staging.month_dir(month))


def stage_one_bounded(source: str, month: str, landing, staging, log=None) -> dict:
    """Stage `source` of `month` in a worker process bounded in memory and time (LIM_READ_*,
    lim/ingest/read_worker.py): a file that crashes or exhausts it is refused, the month goes on."""
    if not limits.current().isolate:
        return stage_one(source, month, landing, staging)
    try:
        return stage_isolated(source, month, landing.month_dir(month), Path(landing.root), staging.month_dir(month))
    except WorkerUnavailable as exc:
        if log is not None:
            log.warning(f"{source}: 无法启动读取进程（{exc}），在本进程中读取，不受内存与时间上限约束")
        return stage_one(source, month, landing, staging)


def submit_for_validation(quality, staging, month: str, source: str, load: dict) -> bool:
    """Tell the run's GX worker that `source` is staged (lim/quality/build.py collects the results)."""
    return quality.staged(month, source, load, staged_paths(staging.month_dir(month), source)["accepted"],
                          staging.data_docs_dir(month), QualityConfig.from_env().id_validity_min)
