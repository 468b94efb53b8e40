"""Data quality and targeting accuracy for month M.

* `quality_results` — the Great Expectations suites of checks/expectations.py, run once per
  source on its staged (raw-normalized) rows; results into stage.quality_results, Data Docs
  (static HTML) into <staged>/<M>/data_docs/. The report copies them to <out>/<M>/data_docs/.
  The validation itself usually happens earlier, beside the DuckDB steps: each ingest asset
  submits its staged file to the run's GX worker (QualityResource, checks/quality_worker.py);
  this asset runs at the lowest priority and takes the worker's results when they are of exactly
  its files, else validates here (in a child process for a big month).
* `targeting_metrics` — exclusion error, inclusion error and take-up per town
  (sql/metrics/*.sql) into stage.targeting_metrics, with the counts behind each figure.

Both are upstream of `published_month`, so their month is swapped into main with the rest.
"""

import json
import os
import time

import dagster as dg

from assets.ingest import staged_paths
from assets.months import month_variables
from assets.partitions import monthly_partitions
from checks.contracts import SOURCES
from pipelines import warehouse as wh
from pipelines.faults import maybe_fail
from pipelines.paths import SQL_DIR
from pipelines.resources import QualityResource, StagingResource, WarehouseResource

QUALITY_COLUMNS = """month VARCHAR NOT NULL, source VARCHAR NOT NULL, expectation VARCHAR, column_name VARCHAR,
    rule VARCHAR, severity VARCHAR, success BOOLEAN, element_count BIGINT, unexpected_count BIGINT,
    unexpected_percent DOUBLE, observed_value VARCHAR, kwargs VARCHAR, exception VARCHAR,
    load_status VARCHAR, rows_in BIGINT, rows_validated BIGINT, data_docs_page VARCHAR, docs_built_in VARCHAR"""


GX_CHILD_ROWS = 8_000_000  # accepted rows of a month above which GX runs in a child process (~1 M households)


def gx_child_rows() -> int:
    """LIM_GX_CHILD_ROWS overrides GX_CHILD_ROWS (0: always in a child)."""
    return int(os.environ.get("LIM_GX_CHILD_ROWS", GX_CHILD_ROWS))


def build_quality_results(con, month: str, staging: StagingResource, quality: QualityResource | None = None,
                          log=None) -> dict:
    """Run the suites of every delivered source and write stage.quality_results for M (or take
    the results the background worker made of exactly these files, see QualityResource)."""
    from checks.asset_checks import QualityConfig
    from checks.expectations import run_suites_from_files, run_suites_in_child

    cfg = QualityConfig.from_env()
    month_dir = staging.month_dir(month)
    loads, staged = {}, {}
    for source in SOURCES:
        paths = staged_paths(month_dir, source)
        load = json.loads(paths["load"].read_text(encoding="utf-8")) if paths["load"].exists() else {"status": "missing", "rows_in": 0}
        loads[source] = load
        if load["status"] == "accepted":
            staged[source] = paths["accepted"]
    docs_dir = staging.data_docs_dir(month)
    started = time.perf_counter()
    n_rows = sum(loads[s].get("accepted") or 0 for s in staged)
    validations, why = quality.collect(month, staged, docs_dir, cfg.id_validity_min) if quality else (None, "")
    background = validations is not None
    if why and log:
        log.info(f"后台数据质量校验不可用（{why}），本步骤重新校验")
    if validations is None:
        # a big month: GX's pandas frames live and die in a child process
        run = run_suites_in_child if n_rows > gx_child_rows() else run_suites_from_files
        validations = run(month, staged, docs_dir, id_validity=cfg.id_validity_min) if staged else {}
    seconds = time.perf_counter() - started

    con.execute(f"CREATE TABLE IF NOT EXISTS stage.quality_results ({QUALITY_COLUMNS})")
    wh.replace_stage_month(con, "quality_results", month)
    rows = []
    for source, v in validations.items():
        load = loads[source]
        page = f"data_docs/{v.docs_page}" if v.docs_page else None
        for r in v.results:
            rows.append((month, source, r["expectation"], r["column"], r["rule"], r["severity"], r["success"],
                         r["element_count"], r["unexpected_count"], r["unexpected_percent"], r["observed_value"],
                         r["kwargs"], r["exception"], load["status"], load.get("rows_in"), v.rows,
                         page, str(docs_dir)))
    if rows:  # one INSERT from an Arrow table (executemany is slow for a few hundred rows)
        import pyarrow as pa

        names = [c.split()[0] for c in QUALITY_COLUMNS.replace("\n", " ").split(", ")]
        batch = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
        con.register("quality_batch", batch)
        con.execute("INSERT INTO stage.quality_results BY NAME SELECT * FROM quality_batch")
        con.unregister("quality_batch")
    failed = {s: sorted({r["severity"] for r in v.results if not r["success"]}) for s, v in validations.items() if not v.success}
    return {"validated": sorted(validations), "not_validated": sorted(set(SOURCES) - set(validations)),
            "failed": failed, "expectations": len(rows), "seconds": round(seconds, 2),
            "background": background}


# Lowest priority: the in-process executor runs it when nothing else is ready (just before
# published_month), so the background worker validates while the month is reconciled.
@dg.asset(partitions_def=monthly_partitions, group_name="quality", kinds={"great_expectations", "duckdb"},
          deps=[f"staged_{s}" for s in SOURCES], op_tags={"dagster/priority": "-1"},
          description="各来源本月数据的 Great Expectations 期望（由数据契约生成）：列、类型、必填、取值范围、"
                      "身份证号有效率、金额非负、个人自付恒等式、唯一性；结果写入 quality_results，并生成 Data Docs。")
def quality_results(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                    staging: StagingResource, quality: QualityResource) -> dg.MaterializeResult:
    month = context.partition_key
    maybe_fail("quality_results")
    with warehouse.connect() as con:
        info = build_quality_results(con, month, staging, quality, context.log)
    if info["failed"]:
        context.log.warning(f"数据质量期望未全部通过：{json.dumps(info['failed'], ensure_ascii=False)}")
    return dg.MaterializeResult(metadata={
        "validated_sources": ",".join(info["validated"]), "not_validated": ",".join(info["not_validated"]),
        "expectations": info["expectations"], "failed": json.dumps(info["failed"], ensure_ascii=False),
        "gx_seconds": info["seconds"], "validated_in_background": info["background"],
        "data_docs": dg.MetadataValue.path(str(staging.data_docs_dir(month) / "index.html"))})


def build_targeting_metrics(con, month: str) -> list[tuple]:
    wh.run_sql_dir(con, SQL_DIR / "metrics", shared=True, **month_variables(month))
    return con.sql("""SELECT sum(eligible), sum(eligible_not_in_roster), sum(roster_assessed), sum(roster_failing)
                      FROM stage.targeting_metrics WHERE month = ?""", params=[month]).fetchall()


@dg.asset(partitions_def=monthly_partitions, group_name="quality", kinds={"duckdb"},
          deps=["determinations", "alerts"],
          description="瞄准精度（各乡镇每月）：排斥误差、纳入误差、按户数与按金额的覆盖率，附计算所用计数（sql/metrics）。")
def targeting_metrics(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    month = context.partition_key
    maybe_fail("targeting_metrics")
    with warehouse.connect() as con:
        (eligible, excluded, assessed, failing), = build_targeting_metrics(con, month)
    return dg.MaterializeResult(metadata={
        "eligible": int(eligible or 0), "eligible_not_in_roster": int(excluded or 0),
        "roster_assessed": int(assessed or 0), "roster_failing": int(failing or 0),
        "exclusion_error": round(excluded / eligible, 4) if eligible else None,
        "inclusion_error": round(failing / assessed, 4) if assessed else None})


quality_assets = [quality_results, targeting_metrics]
