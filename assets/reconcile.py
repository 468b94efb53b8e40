"""Stage 2 — reconciliation (assets): `source_records`, `persons_monthly`, `households_monthly` of
month M; the work is lim/reconcile/build.py running sql/reconcile/*.sql."""

import json

import dagster as dg

from assets.guard import asset_guard
from assets.partitions import monthly_partitions
from assets.resources import StagingResource, WAREHOUSE_STEP_TAGS, WarehouseResource
from lim.core.contracts import SOURCES
from lim.core.month import Month
from lim.reconcile.build import RosterNotDelivered, build_households, build_persons, build_source_records, roster_problem


@dg.asset(partitions_def=monthly_partitions, group_name="reconcile", kinds={"duckdb"}, op_tags=WAREHOUSE_STEP_TAGS,
          deps=[f"staged_{s}" for s in SOURCES],
          description="各部门本月有效记录（身份证号已校验并链接），问题行隔离，并写入加载日志。")
@asset_guard
def source_records(context: dg.AssetExecutionContext, warehouse: WarehouseResource, staging: StagingResource) -> dg.MaterializeResult:
    month = Month.parse(context.partition_key)
    with warehouse.connect() as con:
        statuses = build_source_records(con, month, staging)
        problem = roster_problem(con, month)
        if problem:
            raise RosterNotDelivered(problem)
        q = con.sql("SELECT count(*) FROM months.quarantine WHERE month = ?", params=[month]).fetchall()[0][0]
        links = con.sql("SELECT method, count(*) FROM months.id_links WHERE month = ? GROUP BY 1 ORDER BY 1", params=[month]).fetchall()
    return dg.MaterializeResult(metadata={"quarantined_rows": q, "id_links": json.dumps(dict(links), ensure_ascii=False),
                                          "sources": json.dumps(statuses, ensure_ascii=False)})


@dg.asset(partitions_def=monthly_partitions, group_name="reconcile", kinds={"duckdb"}, op_tags=WAREHOUSE_STEP_TAGS, deps=[source_records],
          description="人员月度视图：每人本月在各部门的事实（收入、房产、学籍、医疗、灾害、死亡），含上月与近 12 个月历史。")
@asset_guard
def persons_monthly(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        buckets = build_persons(con, Month.parse(context.partition_key))
        n = con.sql("SELECT count(*), count(*) FILTER (WHERE is_dead) FROM months.persons_monthly").fetchall()[0]
    return dg.MaterializeResult(metadata={"persons": n[0], "deceased": n[1], "buckets": buckets})


@dg.asset(partitions_def=monthly_partitions, group_name="reconcile", kinds={"duckdb"}, op_tags=WAREHOUSE_STEP_TAGS, deps=[persons_monthly],
          description="家庭月度视图：在册救助家庭、乡村振兴监测户、有信号的户籍家庭及其成员与汇总事实。")
@asset_guard
def households_monthly(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        build_households(con, Month.parse(context.partition_key))
        rows = con.sql("SELECT household_source, count(*) FROM months.households_monthly GROUP BY 1 ORDER BY 1").fetchall()
    return dg.MaterializeResult(metadata={f"households_{s}": n for s, n in rows})


reconcile_assets = [source_records, persons_monthly, households_monthly]
