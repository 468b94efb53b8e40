"""The floor plan (docs/architecture.md): imports point one way, the library has no Dagster in it,
no module is in an import cycle, and the one Dagster code location loads.

The import rule is import-linter's (its contracts are `[tool.importlinter]` in pyproject.toml):
pipelines (orchestration) > checks (quality) > assets (Dagster assets, resources) > lim (library),
and inside lim publish > rules > reconcile | quality > ingest > warehouse > core. Imports made
inside functions count as well (grimp reads every import statement)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipelines", "checks", "assets", "lim")


def test_import_contracts_kept():
    """lint-imports fails (exit 1, naming the import) on an import from a lower layer to a higher
    one, between the independent stages, or from lim into Dagster."""
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout and "lim imports no Dagster KEPT" in " ".join(proc.stdout.split())


def _cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    modules = sorted(graph.modules)
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter[0]; counter[0] += 1
        stack.append(root); on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]; counter[0] += 1
                    stack.append(child); on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop(); on_stack.discard(m); component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_no_import_cycle():
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert _cycles(graph) == []


def test_cycle_detection_works():
    """The cycle finder itself: a two-module circle is found."""
    class G:
        modules = {"a", "b", "c"}

        @staticmethod
        def find_modules_directly_imported_by(m):
            return {"a": {"b"}, "b": {"a"}, "c": {"a"}}[m]

    assert _cycles(G()) == [["a", "b"]]


def test_definitions_load():
    """The code location loads (every asset, check, job, schedule, sensor and resource resolves),
    and the monthly job holds every asset of the month but the import of town staff's answers."""
    import dagster as dg

    from pipelines.definitions import ALL_ASSETS, defs

    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("monthly_job")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    expected = {k.to_user_string() for a in ALL_ASSETS for k in a.keys}
    assert keys == expected
    assert "alert_feedback" not in keys
    assert {"staged_civil_affairs_households", "source_records", "persons_monthly", "households_monthly",
            "determinations", "alerts", "audit_sample", "quality_results", "targeting_metrics",
            "published_month", "analyst_copy"} <= keys
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"monthly_job", "feedback_job"}
