"""Town staff's answers (asset): `alert_feedback` imports <landing>/<M>/feedback/ (the import itself
is lim/publish/feedback.py, shared with `lim feedback`)."""

import dagster as dg

from assets.guard import asset_guard
from assets.partitions import monthly_partitions
from assets.resources import LandingResource, WAREHOUSE_STEP_TAGS, WarehouseResource
from lim.core.month import Month
from lim.publish.feedback import FeedbackError, feedback_files, import_feedback, summary_lines


# --------------------------------------------------------------------------------------------
# Dagster: the same import from <landing>/<M>/feedback/ (started by pipelines/sensors.feedback_sensor)
# --------------------------------------------------------------------------------------------
@dg.asset(partitions_def=monthly_partitions, group_name="feedback", kinds={"duckdb", "xlsx"}, op_tags=WAREHOUSE_STEP_TAGS, deps=["published_month"],
          description="导入乡镇交回的核查反馈（<landing>/<M>/feedback/ 中的核查表或 CSV）：逐行校验，接受的写入 alert_dispositions，"
                      "其余隔离并说明原因；已导入过的文件不再导入。")
@asset_guard
def alert_feedback(context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource) -> dg.MaterializeResult:
    month = Month.parse(context.partition_key)
    files = feedback_files(landing.month_dir(month) / "feedback")
    if not files:
        return dg.MaterializeResult(metadata={"files": 0})
    with warehouse.connect() as con:
        try:
            results = import_feedback(con, month, files)
        except FeedbackError as e:
            raise dg.Failure(description=str(e)) from None
    for line in summary_lines(results):
        context.log.info(line)
    return dg.MaterializeResult(metadata={
        "files": len(files), "imported": sum(r.status == "imported" for r in results),
        "accepted": sum(r.accepted for r in results), "quarantined": sum(r.quarantined for r in results),
        "skipped": sum(r.skipped for r in results)})


feedback_assets = [alert_feedback]
