"""The Celery app of the workers of LIM_EXECUTOR=celery (docs/deploy.md):

    celery -A pipelines.celery_worker worker -n lim-wh@%h --pool solo -Q dagster,lim_warehouse
    celery -A pipelines.celery_worker worker -n lim-1@%h  --pool solo -Q dagster

`--pool solo` (one task at a time, in the worker's main process): the ingest steps read each file in
a bounded worker process (lim/ingest/read_worker.py), which the daemonic children of Celery's default
prefork pool may not start (they would read in their own process, without the memory and time
bounds, and say so in a warning). More steps at a time on one machine: more workers, not a bigger pool.

dagster-celery's app (`dagster_celery.app`) with the broker and result backend of the settings
(LIM_CELERY_BROKER, LIM_CELERY_BACKEND: the same the run's executor uses), and the code location
imported once when the worker starts, so a task does not import it again. Each task runs one step (dagster_celery.tasks: execute_plan) against the run's Dagster
instance (its DAGSTER_HOME must be the run's) and reports the worker's name in the run's event log.
"""
from dagster_celery.executor import CeleryExecutor
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

import pipelines.definitions  # noqa: F401 - the code location, loaded once per worker
from lim.core import settings
from pipelines.executors import celery_app_args

app = make_app(CeleryExecutor.for_cli(**celery_app_args(settings.current())).app_args())
execute_plan = create_task(app)
