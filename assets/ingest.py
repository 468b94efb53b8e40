"""Stage 1 — ingestion: one asset per source, made from its contract (checks/contracts/).

Reads <landing>/<M>/<source>.*, decodes and normalizes it (assets/staging.py) and writes
<staged>/<M>/<source>.parquet (accepted rows), <source>.quarantine.parquet and
<source>.load.json. The landing file itself is never modified.

Each source is read in a worker process bounded in memory and time (assets/read_worker.py,
assets/limits.py): a hostile or broken file is refused there, never a crash of the run.
"""

from pathlib import Path

import dagster as dg

from assets.partitions import monthly_partitions
from assets.read_worker import WorkerUnavailable, stage_files, stage_isolated, staged_paths
from checks.contracts import SOURCES, load_contract
from pipelines.faults import maybe_fail
from pipelines.resources import LandingResource, QualityResource, StagingResource


def stage_one(source: str, month: str, landing: LandingResource, staging: StagingResource) -> dict:
    """Stage `source` of `month` in this process (assets/read_worker.py: stage_files)."""
    return stage_files(source, month, landing.month_dir(month), Path(landing.root), staging.month_dir(month))


def stage_one_bounded(source: str, month: str, landing: LandingResource, staging: StagingResource,
                      log=None) -> dict:
    """Stage `source` of `month` in a worker process bounded in memory and time (LIM_READ_*,
    assets/read_worker.py): a file that crashes or exhausts it is refused, the month goes on."""
    from assets.limits import current

    if not current().isolate:
        return stage_one(source, month, landing, staging)
    try:
        return stage_isolated(source, month, landing.month_dir(month), Path(landing.root), staging.month_dir(month))
    except WorkerUnavailable as exc:
        if log is not None:
            log.warning(f"{source}: 无法启动读取进程（{exc}），在本进程中读取，不受内存与时间上限约束")
        return stage_one(source, month, landing, staging)


def submit_for_validation(quality: QualityResource, staging: StagingResource, month: str, source: str,
                          load: dict) -> bool:
    """Tell the run's GX worker that `source` is staged (assets/quality.py collects the results)."""
    from checks.asset_checks import QualityConfig

    return quality.staged(month, source, load, staged_paths(staging.month_dir(month), source)["accepted"],
                          staging.data_docs_dir(month), QualityConfig.from_env().id_validity_min)


def build_ingest_asset(source: str) -> dg.AssetsDefinition:
    contract = load_contract(source)

    @dg.asset(
        name=f"staged_{source}",
        partitions_def=monthly_partitions,
        group_name="ingest",
        kinds={"polars", "parquet"},
        description=f"{contract.department}：读取、解码、标准化本月文件，合格行写入 Parquet，问题行隔离。",
        tags={"source": source},
    )
    def _ingest(context: dg.AssetExecutionContext, landing: LandingResource, staging: StagingResource,
                quality: QualityResource) -> dg.MaterializeResult:
        maybe_fail(f"staged_{source}")
        month = context.partition_key
        load = stage_one_bounded(source, month, landing, staging, context.log)
        submit_for_validation(quality, staging, month, source, load)
        if load["status"] not in ("accepted", "missing"):
            context.log.warning(load["message"])
        elif load["status"] == "missing":
            context.log.info(load["message"] or f"{source}: 本月未报送")
        return dg.MaterializeResult(metadata={
            "status": load["status"], "file": load["file"] or "", "rows_in": load["rows_in"],
            "rows_accepted": load["accepted"] + load["duplicates"], "rows_duplicate": load["duplicates"],
            "rows_quarantined_at_ingest": load["quarantined"], "message": load["message"] or "",
        })

    return _ingest


ingest_assets = [build_ingest_asset(s) for s in SOURCES]
