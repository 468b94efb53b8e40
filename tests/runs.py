"""Run months through the real Dagster definitions, in-process, against a real DuckDB file."""
from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.definitions import build_resources
from pipelines.runner import run_month


def run_months(root: Path, months: list[str], landing: Path | None = None, policy: str | None = None,
               full_ids: bool = False) -> dict:
    root = Path(root)
    env = {"warehouse": root / "wh" / "warehouse.duckdb", "out": root / "out", "landing": landing or root / "landing"}
    resources = build_resources(warehouse=str(env["warehouse"]), landing=str(env["landing"]), out=str(env["out"]),
                                policy=policy, staged=str(root / "staged"), full_ids=full_ids)
    instance = dg.DagsterInstance.ephemeral()
    env["outcomes"] = []
    for m in months:
        outcome = run_month(m, resources, instance=instance)
        assert outcome.success, outcome.message
        env["outcomes"].append(outcome)
    env["resources"] = resources
    env["instance"] = instance
    return env
