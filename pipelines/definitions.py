"""The one Dagster code location: assets by stage, checks, the monthly job, schedule, sensor.

Resources are configured from the settings of the environment (LIM_* variables, lim/core/settings.py)
so that `dagster dev` and `lim run` point at the same warehouse, landing, output and policy; the
defaults are the embedded local setup under ./var with the sample landing data.
"""

import dagster as dg

from assets.analyst_copy import analyst_copy_assets
from assets.feedback import feedback_assets
from assets.ingest import ingest_assets
from assets.publish import publish_assets
from assets.quality import quality_assets
from assets.reconcile import reconcile_assets, source_records
from assets.resources import (LandingResource, OutputResource, PolicyResource, QualityResource, StagingResource,
                              WarehouseResource)
from assets.rules import rules_assets
from assets.shards import shard_assets
from checks.asset_checks import asset_checks
from lim.core import settings
from lim.core.settings import Settings
from pipelines.jobs import feedback_job, make_monthly_job, monthly_job
from pipelines.schedules import monthly_schedule
from pipelines.sensors import feedback_sensor, landing_sensor

# The monthly run (pipelines/runner.py materializes these); the import of town staff's answers is
# its own job (feedback_job, started by feedback_sensor or the UI).
def month_assets(shards: str | None = None) -> list:
    """Every asset of the monthly run. With shards "county" (LIM_SHARDS=county, the default from the
    settings) the persons, households and rules are computed per county (assets/shards.py: the same
    asset keys, merged before the checks)."""
    shards = shards or settings.current().shards
    middle = ([source_records, *shard_assets] if shards == "county" else [*reconcile_assets, *rules_assets])
    return [*ingest_assets, *middle, *quality_assets, *publish_assets, *analyst_copy_assets]


ALL_ASSETS = month_assets()


def all_checks() -> list:
    return list(asset_checks)


def build_resources(warehouse: str | None = None, landing: str | None = None, out: str | None = None,
                    policy: str | None = None, staged: str | None = None, full_ids: bool = False,
                    requested_by: str = "", env: Settings | None = None) -> dict:
    """The run's resources: a location given here (the options of `lim run`) wins, else the
    settings of the environment (lim/core/settings.py: LIM_WAREHOUSE, LIM_LANDING, …), else the
    default. `dagster dev` (the module-level `defs`) takes them from the same settings, so the UI,
    schedule and sensor point at the same places as `lim run` with the same variables."""
    env = env or settings.current()
    wh = WarehouseResource(path=env.warehouse_path(warehouse), memory_limit=env.duckdb_memory,
                           temp_dir=env.duckdb_temp)
    landing_res = LandingResource(root=env.landing_root(landing))
    return {
        "warehouse": wh,
        "landing": landing_res,
        "staging": StagingResource(root=env.staged_root(wh.path, staged)),
        "output": OutputResource(root=env.out_root(out), full_ids=full_ids, requested_by=requested_by),
        "quality": QualityResource(background=env.gx_background, landing_root=landing_res.root),
        "policy": PolicyResource(path=env.policy_path(policy)),
    }


defs = dg.Definitions(
    assets=[*ALL_ASSETS, *feedback_assets],
    asset_checks=all_checks(),
    jobs=[monthly_job, feedback_job],
    schedules=[monthly_schedule],
    sensors=[landing_sensor, feedback_sensor],
    resources=build_resources(),
)


def _job_def(shards: str) -> dg.JobDefinition:
    return dg.Definitions(assets=[*month_assets(shards), *feedback_assets], asset_checks=all_checks(),
                          jobs=[make_monthly_job()], resources=build_resources()).resolve_job_def("monthly_job")


def monthly_job_def() -> dg.JobDefinition:
    """The monthly job of the Definitions, built from the settings of the calling process: the
    target of `dg.reconstructable` when the runner uses the multiprocess or Celery executor
    (pipelines/runner.py). Each child process and Celery worker calls it after importing this
    module; the run's locations come from the run config (runner.resource_run_config), so a worker
    whose own LIM_* locations differ still opens the run's warehouse."""
    return _job_def("none")


def sharded_monthly_job_def() -> dg.JobDefinition:
    """monthly_job_def with the county shards (LIM_SHARDS=county): its own function, so that the
    graph a child process or a Celery worker rebuilds does not depend on the worker's environment."""
    return _job_def("county")
