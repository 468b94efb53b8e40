"""Stage 4 — publishing (asset): `published_month` writes the month's files aside and swaps them and
the warehouse month into place (lim/publish/files.py)."""

from pathlib import Path

import dagster as dg

from assets.guard import asset_guard
from assets.partitions import monthly_partitions
from assets.resources import LandingResource, OutputResource, PolicyResource, WAREHOUSE_STEP_TAGS, WarehouseResource
from lim.core.month import Month
from lim.publish.files import publish


@dg.asset(partitions_def=monthly_partitions, group_name="publish", kinds={"duckdb", "csv", "html"}, op_tags=WAREHOUSE_STEP_TAGS,
          # quality_results and targeting_metrics (assets/quality.py) are written to months.<t> before the swap
          deps=["determinations", "alerts", "audit_sample", "quality_results", "targeting_metrics"],
          description="发布本月结果：各乡镇预警 CSV、汇总、抽查名单、隔离行、报告和清单；数据仓库本月数据一次性替换。")
@asset_guard(fault_point=False)  # its fault points are inside lim/publish/files.py
def published_month(context: dg.AssetExecutionContext, warehouse: WarehouseResource, output: OutputResource,
                    policy: PolicyResource, landing: LandingResource) -> dg.MaterializeResult:
    month = Month.parse(context.partition_key)
    pol = policy.load()
    with warehouse.connect() as con:
        info = publish(con, month, Path(output.root), pol, output.full_ids, context.run_id,
                       output.requested_by, landing.root)
    for kind, codes in (("乡镇", info["unknown_towns"]), ("村（社区）", info["unknown_villages"])):
        if codes:  # once per run, here; also in report.html
            shown = "、".join(codes[:20]) + (f" 等 {len(codes)} 个" if len(codes) > 20 else "")
            context.log.warning(f"政策文件中没有这些{kind}代码，输出中以代码显示：{shown}")
    return dg.MaterializeResult(metadata={"folder": dg.MetadataValue.path(info["folder"]), "alerts": info["alerts"],
                                          "quarantined_rows": info["quarantined"],
                                          "unknown_towns": ",".join(info["unknown_towns"]),
                                          "unknown_villages": ",".join(info["unknown_villages"]),
                                          "overdue": info["loop"]["overdue"], "resolved": info["loop"]["resolved"],
                                          "suppressed": info["loop"]["suppressed"]})


publish_assets = [published_month]
