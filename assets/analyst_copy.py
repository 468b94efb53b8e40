"""Stage 5 — the analysts' database: after publishing, the pseudonymized copy of the warehouse
(lim/publish/analyst_copy.py) is brought up to date with the month (or rebuilt when it cannot be)
and moved into place in one rename."""

import dagster as dg

from assets.guard import asset_guard
from assets.partitions import monthly_partitions
from assets.resources import WAREHOUSE_STEP_TAGS, WarehouseResource
from lim.core.month import Month
from lim.publish.analyst_copy import build_analyst_copy, default_dest


@dg.asset(partitions_def=monthly_partitions, group_name="publish", kinds={"duckdb"}, op_tags=WAREHOUSE_STEP_TAGS, deps=["published_month"],
          description="分析人员使用的假名化数据库副本：人员、家庭、预警编号为 HMAC-SHA256 假名键，不含姓名和身份证号；"
                      "日期只到年月、年龄为年龄段、金额按100元分段，按月做 k 匿名（k=5）。")
@asset_guard
def analyst_copy(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    dest = default_dest(warehouse.path)
    with warehouse.connect() as con:
        info = build_analyst_copy(con, dest, month=Month.parse(context.partition_key))
    # counts only: no key, no value of any row
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(info["path"]), "months": ",".join(info["months"]),
                                          "persons": info["persons"], "households": info["households"],
                                          "key_fingerprint": info["key_fingerprint"]})


analyst_copy_assets = [analyst_copy]
