"""The one Dagster code location: assets by stage, checks, the monthly job, schedule, sensor.

Resources are configured from the environment (LIM_* variables) so that `dagster dev` and
`lim run` point at the same warehouse, landing, output and policy; the defaults are the
embedded local setup under ./var with the sample landing data.
"""
import os

import dagster as dg

from assets.analyst_copy import analyst_copy_assets
from assets.feedback import feedback_assets
from assets.ingest import ingest_assets
from assets.publish import publish_assets
from assets.quality import quality_assets
from assets.reconcile import reconcile_assets
from assets.resources import (LandingResource, OutputResource, PolicyResource, QualityResource, StagingResource,
                              WarehouseResource)
from assets.rules import rules_assets
from checks.asset_checks import asset_checks
from pipelines.jobs import feedback_job, monthly_job
from pipelines.schedules import monthly_schedule
from pipelines.sensors import feedback_sensor, landing_sensor

# The monthly run (pipelines/runner.py materializes these); the import of town staff's answers is
# its own job (feedback_job, started by feedback_sensor or the UI).
ALL_ASSETS = [*ingest_assets, *reconcile_assets, *rules_assets, *quality_assets, *publish_assets, *analyst_copy_assets]


def all_checks() -> list:
    return list(asset_checks)


def build_resources(warehouse: str | None = None, landing: str | None = None, out: str | None = None,
                    policy: str | None = None, staged: str | None = None, full_ids: bool = False,
                    requested_by: str = "") -> dict:
    env = os.environ.get
    wh = WarehouseResource(**{k: v for k, v in {"path": warehouse or env("LIM_WAREHOUSE"),
                                                 "memory_limit": env("LIM_DUCKDB_MEMORY"),
                                                 "temp_dir": env("LIM_DUCKDB_TEMP")}.items() if v})
    wh_dir = os.path.dirname(os.path.abspath(wh.path))
    landing_res = LandingResource(**({"root": landing or env("LIM_LANDING")} if (landing or env("LIM_LANDING")) else {}))
    return {
        "warehouse": wh,
        "landing": landing_res,
        "staging": StagingResource(root=staged or env("LIM_STAGED") or os.path.join(wh_dir, "staged")),
        "output": OutputResource(**({"root": out or env("LIM_OUT")} if (out or env("LIM_OUT")) else {}),
                                 full_ids=full_ids, requested_by=requested_by),
        "quality": QualityResource(background=env("LIM_GX_BACKGROUND", "1") != "0", landing_root=landing_res.root),
        "policy": PolicyResource(**({"path": policy or env("LIM_POLICY")} if (policy or env("LIM_POLICY")) else {})),
    }


defs = dg.Definitions(
    assets=[*ALL_ASSETS, *feedback_assets],
    asset_checks=all_checks(),
    jobs=[monthly_job, feedback_job],
    schedules=[monthly_schedule],
    sensors=[landing_sensor, feedback_sensor],
    resources=build_resources(),
)
