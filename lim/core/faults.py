"""Fault injection for reliability tests and drills: set LIM_FAIL_AT to an asset name
(e.g. `LIM_FAIL_AT=alerts`) and that step raises before doing anything. Never set in production."""
from lim.core import settings


class InjectedFault(RuntimeError):
    pass


def maybe_fail(step: str) -> None:
    if step in settings.current().fail_at:
        raise InjectedFault(f"注入的故障：{step}（LIM_FAIL_AT）")
