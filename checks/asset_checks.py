"""Dagster asset checks, one per judgement of lim/quality/judges.py (CHECKS): blocking checks on
source_records, households_monthly, determinations, alerts and quality_results (the table of
thresholds is in lim/quality/judges.py). An ERROR failure stops `published_month`; a WARN is shown
and publishing goes on."""

import json

import dagster as dg

from assets.resources import WAREHOUSE_STEP_TAGS, WarehouseResource
from lim.core.month import Month
from lim.quality.judges import CHECKS, QualityConfig

ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN


def _result(context, problems_error: list[str], problems_warn: list[str], ok_text: str, metadata: dict,
            what: str) -> dg.AssetCheckResult:
    """One AssetCheckResult; an ERROR failure also goes to the run log as one clear line."""
    md = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for k, v in metadata.items()}
    if problems_error:
        text = f"{what}未通过（错误，已阻止发布本月结果）：" + "；".join(problems_error + problems_warn)
        context.log.error(text)
        return dg.AssetCheckResult(passed=False, severity=ERROR, description=text, metadata=md)
    if problems_warn:
        text = f"{what}提示（警告，不阻止发布）：" + "；".join(problems_warn)
        context.log.warning(text)
        return dg.AssetCheckResult(passed=False, severity=WARN, description=text, metadata=md)
    return dg.AssetCheckResult(passed=True, description=ok_text, metadata=md)


def _make_check(name: str, asset: str, judge, what: str, description: str):
    @dg.asset_check(name=name, asset=asset, blocking=True, description=description,
                    op_tags=WAREHOUSE_STEP_TAGS)
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        month = Month.parse(context.partition_key)
        cfg = QualityConfig.from_env()
        with warehouse.connect() as con:
            errors, warns, ok, md = judge(con, month, cfg)
        return _result(context, errors, warns, ok, {"month": month, **md}, what)

    return _check



asset_checks = [_make_check(*c) for c in CHECKS]
