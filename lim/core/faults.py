"""Fault injection for reliability tests and drills: set LIM_FAIL_AT to an asset name
(e.g. `LIM_FAIL_AT=alerts`) and that step raises before doing anything. Never set in production."""
import os


class InjectedFault(RuntimeError):
    pass


def maybe_fail(step: str) -> None:
    targets = {t.strip() for t in os.environ.get("LIM_FAIL_AT", "").split(",") if t.strip()}
    if step in targets:
        raise InjectedFault(f"注入的故障：{step}（LIM_FAIL_AT）")
