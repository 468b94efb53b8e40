"""Stage 1 — ingestion: one asset per source, made from its contract (checks/contracts/).

Reads <landing>/<M>/<source>.*, decodes and normalizes it (assets/staging.py) and writes
<staged>/<M>/<source>.parquet (accepted rows), <source>.quarantine.parquet and
<source>.load.json. The landing file itself is never modified.
"""

import json
import os
from pathlib import Path

import dagster as dg
import polars as pl

from assets.partitions import monthly_partitions
from checks.contracts import SOURCES, load_contract
from pipelines.faults import maybe_fail
from pipelines.resources import LandingResource, QualityResource, StagingResource


def staged_paths(month_dir: Path, source: str) -> dict[str, Path]:
    return {"accepted": month_dir / f"{source}.parquet",
            "quarantine": month_dir / f"{source}.quarantine.parquet",
            "load": month_dir / f"{source}.load.json"}


def _write_parquet(df: pl.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".parquet.tmp")
    df.write_parquet(tmp)
    os.replace(tmp, path)


def stage_one(source: str, month: str, landing: LandingResource, staging: StagingResource) -> dict:
    from assets.staging import stage_source  # polars-heavy module, imported when a run needs it

    paths = staged_paths(staging.month_dir(month), source)
    for p in paths.values():  # a rerun replaces the month as a whole: no stale file survives
        p.unlink(missing_ok=True)
    from assets.streaming import stage_streamed

    load = stage_streamed(source, month, landing.month_dir(month), Path(landing.root), paths)
    if load is not None:  # a big UTF-8 CSV, staged in batches (assets/streaming.py)
        _write_load(load, paths["load"])
        return load
    result = stage_source(source, month, landing.month_dir(month), Path(landing.root))
    if result.status == "accepted":
        _write_parquet(result.accepted, paths["accepted"])
        _write_parquet(result.quarantine, paths["quarantine"])
    load = {"source": source, "month": month, "file": result.file, "sha256": result.sha256,
            "status": result.status, "message": result.message, "rows_in": result.rows_in,
            "duplicates": result.duplicates,
            "accepted": result.accepted.height if result.status == "accepted" else 0,
            "quarantined": result.quarantine.height if result.status == "accepted" else 0,
            "ignored_files": result.ignored_files}
    _write_load(load, paths["load"])
    return load


def _write_load(load: dict, path: Path) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(load, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


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
        load = stage_one(source, month, landing, staging)
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
