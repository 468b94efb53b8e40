"""Staging one source of a month: in this process or in a worker process bounded in memory and time
(lim/ingest/read_worker.py, lim/core/limits.py) (the staged file then goes to the run's GX worker:
lim/quality/build.py submit_for_validation).

The landing and staging arguments are the resources of assets/resources.py (anything with
their `root`, `month_dir`, `data_docs_dir` and `staged`)."""
from pathlib import Path

from lim.core import limits
from lim.ingest.read_worker import WorkerUnavailable, stage_files, stage_isolated, staged_paths

__all__ = ["stage_one", "stage_one_bounded", "staged_paths"]


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

