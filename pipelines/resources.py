"""Dagster resources: the warehouse, the landing and staging folders, the outputs, the policy.

All paths are configuration; the defaults are the embedded local setup under ./var.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from pipelines import warehouse
from pipelines.paths import DEFAULT_VAR, SAMPLE_LANDING, SAMPLE_POLICY
from pipelines.policy import Policy, load_policy


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Heavy joins run here; a big month spills to temp_dir."""

    path: str = str(DEFAULT_VAR / "warehouse.duckdb")
    memory_limit: str = "6GB"
    threads: int = 2
    temp_dir: str = ""

    @contextmanager
    def connect(self):
        con = warehouse.connect(self.path, self.memory_limit, self.threads, self.temp_dir or None)
        try:
            yield con
        finally:
            con.close()


class LandingResource(dg.ConfigurableResource):
    """Read-only landing area: <root>/<YYYY-MM>/<source>.<csv|xlsx|parquet>."""

    root: str = str(SAMPLE_LANDING)

    def month_dir(self, month: str) -> Path:
        return Path(self.root) / month


class StagingResource(dg.ConfigurableResource):
    """Staged Parquet per source and month, written by ingestion, read by reconciliation."""

    root: str = str(DEFAULT_VAR / "staged")

    def month_dir(self, month: str) -> Path:
        d = Path(self.root) / month
        d.mkdir(parents=True, exist_ok=True)
        return d


class OutputResource(dg.ConfigurableResource):
    """Where a month's staff CSVs, report and manifest are published."""

    root: str = str(DEFAULT_VAR / "out")
    full_ids: bool = False  # write ID numbers unmasked in staff CSVs (logged in the manifest)
    requested_by: str = ""  # who asked for this run (run audit)


class PolicyResource(dg.ConfigurableResource):
    """The deployment's policy YAML (parameters per county and period)."""

    path: str = str(SAMPLE_POLICY)

    def load(self) -> Policy:
        return load_policy(self.path)
