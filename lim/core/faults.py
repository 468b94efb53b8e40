"""Fault injection for reliability tests and drills, named in LIM_FAIL_AT (comma-separated). Never
set in production.

* `<step>` (an asset's step name, e.g. `rules`): that step raises before doing anything;
* `duckdb_fatal:<step>`: that step raises a DuckDB fatal error on its first attempt only — what
  DuckDB 2.0.0 raised once in the rules of a province month (assets/guard.py: the step is run once
  more on a freshly opened warehouse); `duckdb_fatal_always:<step>`: on every attempt."""
import duckdb

from lim.core import settings


class InjectedFault(RuntimeError):
    pass


def maybe_fail(step: str) -> None:
    if step in settings.current().fail_at:
        raise InjectedFault(f"注入的故障：{step}（LIM_FAIL_AT）")


def maybe_duckdb_fault(step: str, attempt: int) -> None:
    """The `duckdb_fatal:` drills of the module's docstring; `attempt`: 0 for a step's first."""
    targets = settings.current().fail_at
    if (f"duckdb_fatal:{step}" in targets and attempt == 0) or f"duckdb_fatal_always:{step}" in targets:
        raise duckdb.FatalException(f"FATAL Error: Failed: database has been invalidated because of a previous fatal "
                                    f"error.（注入的 DuckDB 致命错误：{step}，LIM_FAIL_AT）")
