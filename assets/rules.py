"""Stage 3 — rules (assets): determinations, alerts and the audit sample of month M, from
sql/rules/*.sql run by lim/rules/build.py."""

import dagster as dg

from assets.guard import asset_guard
from assets.partitions import monthly_partitions
from assets.reconcile import households_monthly
from assets.resources import PolicyResource, WAREHOUSE_STEP_TAGS, WarehouseResource
from lim.core.month import Month
from lim.rules.build import build_rules


@dg.multi_asset(
    specs=[
        dg.AssetSpec("determinations", deps=[households_monthly], group_name="rules", kinds={"duckdb"},
                     description="每户每月一个认定结果：OVER_ASSETS / TEKUN / DIBAO / MARGINAL / EXPENDITURE / NOT_ELIGIBLE。"),
        dg.AssetSpec("alerts", deps=[households_monthly], group_name="rules", kinds={"duckdb"},
                     description="预警清单：18 类预警，含优先级、新增/持续、原因、依据和建议措施。"),
        dg.AssetSpec("audit_sample", deps=[households_monthly], group_name="rules", kinds={"duckdb"},
                     description="本月新增审批家庭的县级抽查名单（可复现的 SHA-256 排序抽样）。"),
    ],
    partitions_def=monthly_partitions,
    op_tags=WAREHOUSE_STEP_TAGS,
)
@asset_guard
def rules(context: dg.AssetExecutionContext, warehouse: WarehouseResource, policy: PolicyResource):
    month = Month.parse(context.partition_key)
    pol = policy.load()
    with warehouse.connect() as con:
        info = build_rules(con, month, pol)
        det = dict(con.sql("SELECT category, count(*) FROM months.determinations GROUP BY 1 ORDER BY 1").fetchall())
        al = dict(con.sql("SELECT alert_type, count(*) FROM months.alerts WHERE month = ? GROUP BY 1 ORDER BY 1", params=[month]).fetchall())
        audit = con.sql("SELECT count(*) FROM months.audit_sample").fetchall()[0][0]
    if info["counties_without_period"]:
        context.log.warning(f"政策文件中以下县没有覆盖 {month} 的参数时段：{info['counties_without_period']}")
    yield dg.MaterializeResult(asset_key="determinations", metadata={f"n_{k}": v for k, v in det.items()})
    yield dg.MaterializeResult(asset_key="alerts", metadata={f"n_{k}": v for k, v in al.items()} | {"total": sum(al.values())})
    yield dg.MaterializeResult(asset_key="audit_sample", metadata={"drawn": audit})


rules_assets = [rules]
