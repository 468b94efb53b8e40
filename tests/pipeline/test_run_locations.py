"""Runs not started by `lim run` (the schedule, the sensors, the UI) check the run's locations too:
the guard of every asset (assets/guard.py) fails the run with the one-line message before anything
is written, and the landing folder is left byte for byte as it was (issue #21)."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from lim.core.hashing import sha256_file
from lim.core.paths import PathConflict, check_locations
from pipelines.definitions import ALL_ASSETS, all_checks, build_resources
from tests import scenario
from tests.landing import write_month

M = scenario.M


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (sha256_file(p) if p.is_file() else "dir") for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("same_as_landing", ["out", "staged"])
def test_a_run_whose_location_is_the_landing_folder_fails_before_writing(tmp_path, same_as_landing):
    landing = tmp_path / "landing"
    write_month(landing, M, scenario.tables_for(M, scenario.households()))
    before = snapshot(landing)
    locations = {"warehouse": str(tmp_path / "wh" / "warehouse.duckdb"), "landing": str(landing),
                 "out": str(tmp_path / "out"), "staged": str(tmp_path / "staged"), same_as_landing: str(landing)}
    resources = build_resources(**locations)
    with pytest.raises(PathConflict) as conflict:
        check_locations(landing=locations["landing"], out=locations["out"], staged=locations["staged"],
                        warehouse=locations["warehouse"], analyst=str(tmp_path / "wh" / "analyst.duckdb"))
    line = str(conflict.value)
    assert "\n" not in line and "落地目录" in line

    # as the schedule, the sensor or the UI start it: the monthly job's assets and checks, in-process
    result = dg.materialize([*ALL_ASSETS, *all_checks()], partition_key=M, resources=resources,
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)

    assert not result.success
    failures = [ev for ev in result.all_events if ev.is_step_failure]
    assert failures
    for ev in failures:
        assert ev.event_specific_data.user_failure_data.description == line, ev.step_key
    assert not [ev for ev in result.all_events if ev.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
    assert snapshot(landing) == before  # not a byte of the department files changed
    assert not (tmp_path / "wh" / "warehouse.duckdb").exists()  # nothing was written anywhere
    assert not (tmp_path / "out").exists() and not (tmp_path / "staged").exists()


def test_lim_run_checks_each_thing_once_and_parses_the_policy_once(tmp_path, monkeypatch):
    """run_month: the month, the locations and the inputs before the lock, the warehouse under it, each once; the
    policy file is parsed once for the preflight, `rules` and `published_month` together."""
    import lim.core.policy as policy_mod
    from pipelines import runner
    from tests.runs import run_months

    write_month(tmp_path / "landing", M, scenario.tables_for(M, scenario.households()))
    calls = []
    for name in ("check_partition", "check_locations", "check_inputs", "check_warehouse"):
        real = getattr(runner, name)
        monkeypatch.setattr(runner, name, lambda *a, _n=name, _r=real: calls.append(_n) or _r(*a))
    real_load = policy_mod.load_policy
    monkeypatch.setattr(policy_mod, "load_policy", lambda p: calls.append("load_policy") or real_load(p))
    policy_mod._LOADED.clear()
    run_months(tmp_path, [M])
    assert sorted(calls) == ["check_inputs", "check_locations", "check_partition", "check_warehouse", "load_policy"]
