"""Stage 1 — ingestion (assets): one asset per source, made from its contract (checks/contracts/).

Reads <landing>/<M>/<source>.*, decodes and normalizes it (lim/ingest/staging.py) and writes
<staged>/<M>/<source>.parquet (accepted rows), <source>.quarantine.parquet and
<source>.load.json. The landing file itself is never modified.

Each source is read in a worker process bounded in memory and time (lim/ingest/read_worker.py,
lim/core/limits.py): a hostile or broken file is refused there, never a crash of the run.
"""

import dagster as dg

from assets.guard import asset_guard
from assets.partitions import monthly_partitions
from assets.resources import LandingResource, QualityResource, StagingResource
from lim.core.contracts import SOURCES, load_contract
from lim.core.month import Month
from lim.ingest.sources import stage_one_bounded
from lim.quality.build import submit_for_validation


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
    @asset_guard
    def _ingest(context: dg.AssetExecutionContext, landing: LandingResource, staging: StagingResource,
                quality: QualityResource) -> dg.MaterializeResult:
        month = Month.parse(context.partition_key)
        quality.warm_up(month)  # the forkserver starts beside the first source's reading
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
