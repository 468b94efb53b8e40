"""Fault injection, applied in one place: every asset's compute function is wrapped by
`with_fault_hook`, which calls lim.core.faults.maybe_fail with the asset's step name (its op name:
`staged_<source>`, `source_records`, …, `rules`, `analyst_copy`) before the asset does anything.
LIM_FAIL_AT names the steps to fail (drills and tests/test_reliability.py); never set in production.
`published_month` has its points inside lim/publish/files.py instead (after the files are written
aside, before the warehouse swap, after its commit, mid-swap)."""
from __future__ import annotations

import functools
import inspect

from lim.core import faults


def with_fault_hook(fn):
    """`fn` (an asset's compute function, context first) failing first when LIM_FAIL_AT names its step."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def hooked_generator(context, *args, **kwargs):
            faults.maybe_fail(context.op_def.name)  # looked up at call time: a drill may replace it
            yield from fn(context, *args, **kwargs)
        return hooked_generator

    @functools.wraps(fn)
    def hooked(context, *args, **kwargs):
        faults.maybe_fail(context.op_def.name)
        return fn(context, *args, **kwargs)
    return hooked
