"""What every asset does first, applied in one place: each asset's compute function is wrapped by
`asset_guard`, which before the asset does anything

1. checks the run's locations (landing, staged, out, warehouse, the analysts' copy: none the same
   as or inside another, lim/core/paths.py check_locations) and fails the step with the one-line
   message (a `dg.Failure`) when two overlap — for every run, not only those of `lim run` (whose
   runner checks them before it takes the month's lock): the schedule, the sensors and the UI
   start runs too, and `--out` equal to `--landing` would delete the department files;
2. calls lim.core.faults.maybe_fail with the asset's step name (its op name: `staged_<source>`,
   `source_records`, …, `rules`, `analyst_copy`). LIM_FAIL_AT names the steps to fail (drills and
   tests/e2e/test_reliability.py); never set in production. `published_month` has its points
   inside lim/publish/files.py instead (after the files are written aside, before the warehouse
   swap, after its commit, mid-swap): `asset_guard(fault_point=False)`.

3. runs the step once more when it failed on a DuckDB *internal* or *fatal* error — an assertion
   inside DuckDB, not a problem of the data or the SQL. DuckDB 2.0.0's dictionary-surviving hash
   join (duckdb/duckdb#24807) failed so in the rules of a 5 M-household month (15:56 on
   2026-12-05; the same month ran through at 14:59 and 15:23), and a fatal error invalidates the
   database for every connection of the process: the statement cannot be run again on the same
   connection (lim/warehouse/warehouse.py run_statement tries, which helps only where DuckDB did
   not invalidate it; LIM_FAIL_AT=duckdb_fatal:<step> drills this, lim/core/faults.py). The
   step's connection is closed when it fails (WarehouseResource.connect), so its second attempt
   opens the warehouse afresh: what was committed before the error is there, the rest is redone
   — every step rebuilds its own tables of the month, and publishing writes aside and swaps in one
   transaction. Once: a second such error fails the step with DuckDB's message, as before.

For the check the guard asks Dagster for the four location resources (it adds those the asset
does not take itself to the function's signature and does not pass them on)."""
from __future__ import annotations

import functools
import inspect

import dagster as dg
import duckdb

from assets.resources import LandingResource, OutputResource, StagingResource, WarehouseResource
from lim.core import faults
from lim.core.paths import PathConflict, check_locations
from lim.publish.analyst_copy import default_dest

LOCATION_RESOURCES = {"landing": LandingResource, "staging": StagingResource, "output": OutputResource,
                      "warehouse": WarehouseResource}


def run_locations(resources) -> dict:
    """The five locations of a run from its resources (a mapping of the keys of LOCATION_RESOURCES)."""
    warehouse = resources["warehouse"].path
    return {"landing": resources["landing"].root, "staged": resources["staging"].root,
            "out": resources["output"].root, "warehouse": warehouse, "analyst": str(default_dest(warehouse))}


def check_run_locations(resources) -> None:
    """PathConflict (one line) when two of the run's locations overlap."""
    check_locations(**run_locations(resources))


def duckdb_fault(exc: BaseException | None) -> BaseException | None:
    """The DuckDB internal or fatal error that `exc` is or was raised from (its causes and
    contexts), if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, (duckdb.InternalException, duckdb.FatalException)):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def retry_after_duckdb_fault(context, exc: Exception) -> None:
    """Ask Dagster to run the step once more if `exc` comes from a DuckDB internal or fatal error
    and this is the step's first attempt (item 3 above); otherwise return (the caller re-raises)."""
    fault = duckdb_fault(exc)
    if fault is None or context.retry_number >= 1:
        return
    context.log.warning(f"数据仓库（DuckDB）内部错误，本步骤重新打开数据仓库后再执行一次：{str(fault).splitlines()[0][:300]}")
    raise dg.RetryRequested(max_retries=1) from exc


def asset_guard(fn=None, *, fault_point: bool = True):
    """`fn` (an asset's compute function, context first) checking the run's locations first, then
    failing when LIM_FAIL_AT names its step (unless `fault_point` is False), and run once more
    after a DuckDB internal or fatal error (items 1-3 above)."""
    if fn is None:
        return functools.partial(asset_guard, fault_point=fault_point)
    sig = inspect.signature(fn)
    own = set(sig.parameters)
    extra = {k: cls for k, cls in LOCATION_RESOURCES.items() if k not in own}

    def before(context, kwargs: dict) -> dict:
        given = {k: kwargs.pop(k) for k in extra}
        try:
            check_run_locations({**given, **{k: kwargs[k] for k in LOCATION_RESOURCES if k in own}})
        except PathConflict as e:
            raise dg.Failure(description=str(e), allow_retries=False) from None
        if fault_point:
            faults.maybe_fail(context.op_def.name)  # looked up at call time: a drill may replace it
        faults.maybe_duckdb_fault(context.op_def.name, context.retry_number)
        return kwargs

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def guarded(context, *args, **kwargs):
            try:
                kwargs = before(context, kwargs)
                yield from fn(context, *args, **kwargs)
            except Exception as e:
                retry_after_duckdb_fault(context, e)
                raise
    else:
        @functools.wraps(fn)
        def guarded(context, *args, **kwargs):
            try:
                kwargs = before(context, kwargs)
                return fn(context, *args, **kwargs)
            except Exception as e:
                retry_after_duckdb_fault(context, e)
                raise

    guarded.__signature__ = sig.replace(parameters=[
        *sig.parameters.values(),
        *(inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, annotation=cls) for k, cls in extra.items())])
    guarded.__annotations__ = {**getattr(fn, "__annotations__", {}), **extra}
    del guarded.__wrapped__  # Dagster and inspect read the signature above, not fn's
    return guarded
