"""County shards of month M (issue #19; docs/architecture.md "County shards"): the persons,
households and rules of each county computed apart, as Dagster work, then merged.

One graph-backed multi-asset with the keys of the whole path (persons_monthly, households_monthly,
determinations, alerts, audit_sample), so checks, publishing and the UI see the same assets:

    plan_county_shards ──(one dynamic output per county)──▶ county_shard[<county>] ──collect──▶ merge_county_shards

Dynamic outputs inside the month's run, not a county partition dimension: the counties of a month
are known only once its files are read (a county partition set would have to be declared ahead
and kept in step with the policy and the data), the global steps (ingest, ID linking, merge,
publish) stay one step each, and a run is still "one month" for the schedule, the sensors, the
locks and the run audit. The executor decides where the county steps run: one after another
in-process, in parallel with the multiprocess executor, on workers with dagster-celery
(docs/deploy.md). A county step writes only its own DuckDB file; the warehouse is written by the
plan and merge steps, one at a time."""

import json
from pathlib import Path

import dagster as dg

from assets.guard import asset_guard
from assets.partitions import monthly_partitions
from assets.reconcile import source_records
from assets.resources import WAREHOUSE_STEP_TAGS, PolicyResource, StagingResource, WarehouseResource
from lim.core.month import Month
from lim.shard.county import build_county_shard
from lim.shard.merge import merge_shards
from lim.shard.plan import plan_shards

SHARD_ASSETS = {
    "persons_monthly": ("reconcile", "人员月度视图（按县分片计算后合并）。"),
    "households_monthly": ("reconcile", "家庭月度视图（按县分片计算后合并）。"),
    "determinations": ("rules", "每户每月一个认定结果（按县分片计算后合并）。"),
    "alerts": ("rules", "预警清单（按县分片计算后合并）。"),
    "audit_sample": ("rules", "本月新增审批家庭的县级抽查名单（按县分片计算后合并）。"),
}


def shard_dir(staging: StagingResource, month: str) -> Path:
    return staging.month_dir(month) / "shards"


@dg.op(out=dg.DynamicOut(str), ins={"after": dg.In(dg.Nothing)}, tags=WAREHOUSE_STEP_TAGS,
       description="按县划分本月：每人随其所在家庭的县（跨县者进入每个县），其余人员按身份证号的县。")
@asset_guard
def plan_county_shards(context: dg.OpExecutionContext, warehouse: WarehouseResource, policy: PolicyResource):
    month = Month.parse(context.partition_key)
    with warehouse.connect() as con:
        counties = plan_shards(con, month, list(policy.load().counties))
    context.log.info(f"{month}：{len(counties)} 个县分片 {counties}")
    for county in counties:
        yield dg.DynamicOutput(county, mapping_key=county)


# No writer tag: the county steps only read the warehouse (attached read-only), so the multiprocess
# executor and the Celery workers run them side by side (docs/deploy.md).
@dg.op(description="一个县的人员、家庭、认定与预警，在该县自己的 DuckDB 文件中计算（数据仓库只读）。")
@asset_guard
def county_shard(context: dg.OpExecutionContext, county: str, warehouse: WarehouseResource,
                 staging: StagingResource, policy: PolicyResource) -> str:
    month = Month.parse(context.partition_key)
    info = build_county_shard(shard_dir(staging, month) / f"{county}.duckdb", warehouse.path, county, month,
                              policy.load(), warehouse.memory_limit, warehouse.threads, warehouse.temp_dir or None)
    context.add_output_metadata({k: v for k, v in info.items() if k in ("households", "alerts", "buckets")})
    return info["path"]


@dg.op(out={key: dg.Out(dg.Nothing) for key in SHARD_ASSETS}, tags=WAREHOUSE_STEP_TAGS,
       description="把各县分片合并为本月结果（与整体计算相同），供质量检查与发布读取。")
@asset_guard
def merge_county_shards(context: dg.OpExecutionContext, shard_files: list[str], warehouse: WarehouseResource,
                        staging: StagingResource, policy: PolicyResource):
    month = Month.parse(context.partition_key)
    shards = {Path(p).stem: p for p in shard_files}
    with warehouse.connect() as con:
        merged = merge_shards(con, month, shards, policy.load())
    context.log.info(f"{month}：合并 {len(shards)} 个县分片：{json.dumps(merged, ensure_ascii=False)}")
    for p in shard_files:  # the shard files are scratch: the warehouse now holds the month
        for f in (Path(p), Path(p + ".wal")):
            f.unlink(missing_ok=True)
    for key in SHARD_ASSETS:
        yield dg.Output(None, output_name=key)


@dg.graph_multi_asset(
    outs={key: dg.AssetOut(group_name=group, description=desc, kinds={"duckdb"}) for key, (group, desc) in SHARD_ASSETS.items()},
    ins={"source_records": dg.AssetIn(key=source_records.key, dagster_type=dg.Nothing)},
    partitions_def=monthly_partitions,
)
def county_shards(source_records):
    shard_files = plan_county_shards(source_records).map(county_shard)
    merged = merge_county_shards(shard_files.collect())
    return {key: getattr(merged, key) for key in SHARD_ASSETS}


shard_assets = [county_shards]
