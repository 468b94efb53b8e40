"""Stage quality (assets): the Great Expectations results of the month's staged sources and the
targeting metrics (lim/quality/build.py does the work; the asset checks are in checks/)."""

import json

import dagster as dg

from assets.guard import asset_guard
from assets.partitions import monthly_partitions
from assets.resources import QualityResource, StagingResource, WAREHOUSE_STEP_TAGS, WarehouseResource
from lim.core.contracts import SOURCES
from lim.core.month import Month
from lim.quality.build import build_quality_results, build_targeting_metrics


# Lowest priority (for Celery: below its default 5): the in-process executor runs it when nothing
# else is ready (just before published_month), so the background worker validates while the month
# is reconciled.
@dg.asset(partitions_def=monthly_partitions, group_name="quality", kinds={"great_expectations", "duckdb"},
          deps=[f"staged_{s}" for s in SOURCES],
          op_tags={**WAREHOUSE_STEP_TAGS, "dagster/priority": "-1", "dagster-celery/priority": "4"},
          description="各来源本月数据的 Great Expectations 期望（由数据契约生成）：列、类型、必填、取值范围、"
                      "身份证号有效率、金额非负、个人自付恒等式、唯一性；结果写入 quality_results，并生成 Data Docs。")
@asset_guard
def quality_results(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                    staging: StagingResource, quality: QualityResource) -> dg.MaterializeResult:
    month = Month.parse(context.partition_key)
    with warehouse.connect() as con:
        info = build_quality_results(con, month, staging, quality, context.log)
    if info["failed"]:
        context.log.warning(f"数据质量期望未全部通过：{json.dumps(info['failed'], ensure_ascii=False)}")
    return dg.MaterializeResult(metadata={
        "validated_sources": ",".join(info["validated"]), "not_validated": ",".join(info["not_validated"]),
        "expectations": info["expectations"], "failed": json.dumps(info["failed"], ensure_ascii=False),
        "gx_seconds": info["seconds"], "validated_in_background": info["background"],
        "data_docs": dg.MetadataValue.path(str(staging.data_docs_dir(month) / "index.html"))})


@dg.asset(partitions_def=monthly_partitions, group_name="quality", kinds={"duckdb"}, op_tags=WAREHOUSE_STEP_TAGS,
          deps=["determinations", "alerts"],
          description="瞄准精度（各乡镇每月）：排斥误差、纳入误差、按户数与按金额的覆盖率，附计算所用计数（sql/metrics）。")
@asset_guard
def targeting_metrics(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    month = Month.parse(context.partition_key)
    with warehouse.connect() as con:
        (eligible, excluded, assessed, failing), = build_targeting_metrics(con, month)
    return dg.MaterializeResult(metadata={
        "eligible": int(eligible or 0), "eligible_not_in_roster": int(excluded or 0),
        "roster_assessed": int(assessed or 0), "roster_failing": int(failing or 0),
        "exclusion_error": round(excluded / eligible, 4) if eligible else None,
        "inclusion_error": round(failing / assessed, 4) if assessed else None})


quality_assets = [quality_results, targeting_metrics]
