"""Landing sensor: start a month's run when its folder holds every required source, or a
`_READY` marker, and start it again when a file arrives or changes later (rerun replaces)."""
from __future__ import annotations

from pathlib import Path

import dagster as dg

from lim.core.contracts import SOURCES, load_contract
from lim.core.hashing import sha256_text
from lim.core.month import Month
from lim.publish.feedback import feedback_files
from pipelines.jobs import feedback_job, monthly_job
from assets.resources import LandingResource

EXTS = (".csv", ".xlsx", ".parquet")


def month_ready(folder: Path) -> bool:
    if (folder / "_READY").exists():
        return True
    present = {p.stem for p in folder.iterdir() if p.suffix.lower() in EXTS}
    required = [s for s in SOURCES if not load_contract(s).optional]
    return all(s in present for s in required)


def folder_fingerprint(folder: Path) -> str:
    entries = [(p.name, p.stat()) for p in sorted(folder.iterdir()) if p.is_file()]
    return sha256_text("".join(f"{name}|{st.st_size}|{int(st.st_mtime)}" for name, st in entries))[:16]


def month_folders(root: Path) -> list[Path]:
    """The landing folder's month folders (YYYY-MM), in order."""
    return sorted(p for p in root.iterdir() if p.is_dir() and Month.is_month(p.name))


@dg.sensor(job=monthly_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED,
           description="落地目录中某月的必需文件齐全（或有 _READY 标记）时启动该月任务；文件变化后再次启动")
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    root = Path(landing.root)
    if not root.is_dir():
        return dg.SkipReason(f"落地目录不存在：{root}")
    requests = []
    for folder in month_folders(root):
        if month_ready(folder):
            requests.append(dg.RunRequest(run_key=f"{folder.name}-{folder_fingerprint(folder)}", partition_key=Month.parse(folder.name)))
    return requests or dg.SkipReason("没有齐备的月份")


@dg.sensor(job=feedback_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED,
           description="落地目录 <M>/feedback/ 中有乡镇交回的核查表或 CSV 时导入（文件增加或变化后再次导入；已导入过的文件不重复导入）")
def feedback_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    root = Path(landing.root)
    if not root.is_dir():
        return dg.SkipReason(f"落地目录不存在：{root}")
    requests = []
    for folder in month_folders(root):
        files = feedback_files(folder / "feedback")
        if files:
            requests.append(dg.RunRequest(run_key=f"feedback-{folder.name}-{folder_fingerprint(folder / 'feedback')}",
                                          partition_key=Month.parse(folder.name)))
    return requests or dg.SkipReason("没有待导入的核查反馈")
