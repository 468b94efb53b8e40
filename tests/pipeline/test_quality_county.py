"""The hand-built county of tests/scenario.py run once per test process for the quality and
report tests: 2026-05 and 2026-06 (good data), 2026-06 again (rerun: the report must not
change), then 2026-07 with 人社局's file missing and hr declared critical (LIM_QUALITY_CRITICAL_SOURCES):
the blocking check must stop it. (A month without the roster stops before any check:
tests/pipeline/test_incomplete_months.py.)
Also the targeting-metrics tests, which read that warehouse."""
from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests import scenario
from tests.conftest import TEST_POLICY
from tests.runs import copy_of, county_env, scenario_county, scenario_county_rerun

BAD_MONTH = "2026-07"


@functools.lru_cache(maxsize=None)
def county() -> dict:
    from pipelines.definitions import ALL_ASSETS, all_checks
    from pipelines.runner import preflight

    # 2026-05 and 2026-06 as run for tests/conftest.py's county (the same inputs, run once per
    # process; its outcomes and Dagster instance), then 2026-06 again (scenario_county_rerun), in a
    # copy of whose folder this county goes on
    first, rerun = scenario_county(), scenario_county_rerun()
    root = copy_of(rerun["root"], "lim-quality-")
    env = county_env(root, policy=TEST_POLICY)
    env["outcomes"], env["instance"] = first["outcomes"], first["instance"]
    env["report_first_run"] = rerun["report_first_run"]
    env["report_rerun"] = (root / "out" / scenario.M / "report.html").read_bytes()
    # 2026-07: June's files again, but the roster's member file did not arrive.
    shutil.copytree(root / "landing" / scenario.M, root / "landing" / BAD_MONTH)
    (root / "landing" / BAD_MONTH / "hr.csv").unlink()
    preflight(BAD_MONTH, env["resources"])
    os.environ["LIM_QUALITY_CRITICAL_SOURCES"] = "hr"
    try:
        env["bad_result"] = dg.materialize([*ALL_ASSETS, *all_checks()], partition_key=BAD_MONTH, resources=env["resources"],
                                       instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
                                       run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
    finally:
        del os.environ["LIM_QUALITY_CRITICAL_SOURCES"]
    env["root"] = root
    return env


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect(str(county()["warehouse"]), read_only=True)
    yield c
    c.close()


def test_targeting_metrics_match_determinations(con):
    """Every count behind a figure, recomputed in Python from determinations and households."""
    hh = {(s, h): (t, r, float(b or 0)) for s, h, t, r, b in con.sql(
        "SELECT household_source, household_id, town_code, roster_type, monthly_benefit FROM households_monthly WHERE month = ?",
        params=[scenario.M]).fetchall()}
    det = con.sql("SELECT household_source, household_id, category FROM determinations WHERE month = ?", params=[scenario.M]).fetchall()
    assert det, "the scenario month has determinations"
    expect: dict[str, dict] = {}
    for s, h, cat in det:
        town, roster_type, benefit = hh[(s, h)]
        e = expect.setdefault(town, {"eligible": 0, "eligible_not_in_roster": 0, "roster_assessed": 0, "roster_failing": 0,
                                     "cash_eligible": 0, "cash_eligible_receiving": 0})
        eligible = cat in ("TEKUN", "DIBAO", "MARGINAL", "EXPENDITURE")
        e["eligible"] += eligible
        e["eligible_not_in_roster"] += eligible and s != "civil_affairs"
        e["roster_assessed"] += s == "civil_affairs"
        e["roster_failing"] += s == "civil_affairs" and cat in ("NOT_ELIGIBLE", "OVER_ASSETS")
        e["cash_eligible"] += cat in ("DIBAO", "TEKUN")
        e["cash_eligible_receiving"] += cat in ("DIBAO", "TEKUN") and roster_type in ("低保", "特困") and benefit > 0
    rows = con.sql(f"SELECT town_code, {', '.join(next(iter(expect.values())))}, exclusion_error, inclusion_error, take_up_caseload, "
                   "take_up_amount, entitled_amount, paid_to_eligible FROM targeting_metrics WHERE month = ? ORDER BY 1",
                   params=[scenario.M]).fetchall()
    got = {r[0]: r for r in rows}
    assert set(got) == set(expect)
    for town, e in expect.items():
        r = got[town]
        assert dict(zip(e, r[1:7])) == e
        assert r[7] == pytest.approx(e["eligible_not_in_roster"] / e["eligible"]) if e["eligible"] else r[7] is None
        assert r[8] == pytest.approx(e["roster_failing"] / e["roster_assessed"]) if e["roster_assessed"] else r[8] is None
        assert r[9] == pytest.approx(e["cash_eligible_receiving"] / e["cash_eligible"]) if e["cash_eligible"] else r[9] is None
        assert 0 <= float(r[12]) <= float(r[11])


def test_targeting_metrics_known_households(con):
    """Hand-checked figures of the rural town (青城镇): its omission households are RR households
    determined DIBAO/MARGINAL/EXPENDITURE; CA-S0 (roster 低保, pci = S) is entitled to the minimum."""
    rural = scenario.RURAL[:9]
    eligible_rr = con.sql("""SELECT count(*) FROM determinations WHERE month = ? AND town_code = ? AND household_source <> 'civil_affairs'
                             AND category IN ('TEKUN','DIBAO','MARGINAL','EXPENDITURE')""", params=[scenario.M, rural]).fetchall()[0][0]
    assert eligible_rr >= 5  # RR-W1, RR-W2, RR-W3, RR-S-1, RR-S0, RR-15-1 …
    got = con.sql("SELECT eligible_not_in_roster, exclusion_error, eligible FROM targeting_metrics WHERE month = ? AND town_code = ?",
                  params=[scenario.M, rural]).fetchall()[0]
    assert got[0] == eligible_rr and got[1] == pytest.approx(eligible_rr / got[2])


def test_metrics_and_quality_results_published_for_every_month(con):
    months = [r[0] for r in con.sql("SELECT DISTINCT month FROM targeting_metrics ORDER BY 1").fetchall()]
    assert months == [scenario.M_PREV, scenario.M]
    q = con.sql("SELECT month, count(DISTINCT source) FROM quality_results GROUP BY 1 ORDER BY 1").fetchall()
    assert [m for m, _ in q] == [scenario.M_PREV, scenario.M] and all(n >= 9 for _, n in q)


def test_gx_in_a_child_process_gives_the_same_results(tmp_path, monkeypatch):
    """A big month on GX's pandas engine runs in a child process (LIM_GX_CHILD_ROWS; 0 = always):
    the same expectations and results, and byte-identical Data Docs, as the default engine (DuckDB
    counts rendered by GX, lim/quality/measure.py) in the pipeline process."""
    from assets.resources import StagingResource

    env = county()
    staging = StagingResource(root=str(tmp_path / "staged"))
    shutil.copytree(Path(env["resources"]["staging"].root) / scenario.M, tmp_path / "staged" / scenario.M)
    results = {}
    for label, engine, threshold in (("here", "duckdb", "0"), ("child", "pandas", "0")):
        monkeypatch.setenv("LIM_GX_ENGINE", engine)
        monkeypatch.setenv("LIM_GX_CHILD_ROWS", threshold)
        info, rows, pages = _quality_of(tmp_path / f"{label}.duckdb", scenario.M, staging)
        results[label] = (info["validated"], info["expectations"], rows, pages)
    assert results["here"][0] and results["here"][1] > 50
    assert results["child"] == results["here"]


def _quality_of(con_path: Path, month: str, staging, quality=None) -> tuple:
    """build_quality_results into a fresh DuckDB file: (info, result rows, Data Docs pages)."""
    from lim.quality.build import build_quality_results
    from lim.warehouse import warehouse as wh

    con = wh.connect(str(con_path), "1GB", 2)
    try:
        info = build_quality_results(con, month, staging, quality)
        rows = con.sql("SELECT * EXCLUDE (docs_built_in) FROM months.quality_results ORDER BY ALL").fetchall()
    finally:
        con.close()
    docs = staging.data_docs_dir(month)
    return info, rows, {p.relative_to(docs).as_posix(): p.read_bytes() for p in sorted(docs.rglob("*.html"))}


def _submit_all(quality, staging, month: str, order) -> list[str]:
    from lim.ingest.sources import staged_paths
    from lim.quality.build import submit_for_validation

    done = []
    for source in order:
        load = json.loads(staged_paths(staging.month_dir(month), source)["load"].read_text(encoding="utf-8"))
        if submit_for_validation(quality, staging, month, source, load):
            done.append(source)
    return done


def test_gx_in_the_background_gives_the_same_results(tmp_path):
    """The worker that validates each source as soon as it is staged (QualityResource): the same
    results and byte-identical Data Docs as validating in quality_results, whatever the order
    the sources arrive in. When a staged file changed after it was submitted, or the worker died,
    quality_results validates itself — the results are still those of the files as they are."""
    import os

    from lim.core.contracts import SOURCES
    from assets.resources import QualityResource, StagingResource

    env = county()
    staging = StagingResource(root=str(tmp_path / "staged"))
    shutil.copytree(Path(env["resources"]["staging"].root) / scenario.M, tmp_path / "staged" / scenario.M)
    here = _quality_of(tmp_path / "here.duckdb", scenario.M, staging)
    assert here[0]["background"] is False and here[0]["expectations"] > 50

    quality = QualityResource()
    quality.setup_for_execution(None)
    try:
        submitted = _submit_all(quality, staging, scenario.M, reversed(SOURCES))
        assert sorted(submitted) == here[0]["validated"]
        background = _quality_of(tmp_path / "bg.duckdb", scenario.M, staging, quality)
        assert background[0]["background"] is True
        assert background[1:] == here[1:]

        # a staged file rewritten after it was submitted: not the worker's results
        quality.teardown_after_execution(None)
        quality.setup_for_execution(None)  # one collect per month and run: a new run
        _submit_all(quality, staging, scenario.M, SOURCES)
        hr = staging.month_dir(scenario.M) / "hr.parquet"
        st = hr.stat()
        os.utime(hr, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        changed = _quality_of(tmp_path / "changed.duckdb", scenario.M, staging, quality)
        assert changed[0]["background"] is False and changed[1:] == here[1:]

        # the worker killed before it finished
        quality.teardown_after_execution(None)
        quality.setup_for_execution(None)
        _submit_all(quality, staging, scenario.M, SOURCES)
        worker = quality._workers[scenario.M]
        worker._starter.join(30)
        worker._proc.kill()
        killed = _quality_of(tmp_path / "killed.duckdb", scenario.M, staging, quality)
        assert killed[0]["background"] is False and killed[1:] == here[1:]

        # a month above the row limit is not validated in the background (its frames would sit beside
        # DuckDB), given up at its first file: the estimate from the landing folder is over the limit
        from lim.ingest.sources import staged_paths

        first = SOURCES[0]
        load = json.loads(staged_paths(staging.month_dir(scenario.M), first)["load"].read_text(encoding="utf-8"))
        estimate = QualityResource(landing_root=str(env["landing"])).month_rows_estimate(scenario.M, load)
        landing_rows = sum(len(p.read_text(encoding="utf-8-sig").splitlines()) - 1
                           for p in (Path(env["landing"]) / scenario.M).glob("*.csv"))
        assert landing_rows / 3 < estimate < landing_rows * 3
        for limit, expected in ((10, []), (estimate - 1, [])):
            small = QualityResource(max_rows=limit, landing_root=str(env["landing"]))
            small.setup_for_execution(None)
            assert _submit_all(small, staging, scenario.M, SOURCES) == expected
            small.teardown_after_execution(None)
    finally:
        quality.teardown_after_execution(None)


def test_the_monthly_run_validates_in_the_background():
    """In a real run the results come from the background worker (materialization metadata), and
    quality_results runs after the reconciliation and the rules, just before publishing (lowest
    priority), so that the worker has that time."""
    env = county()
    outcome = env["outcomes"][-1]  # 2026-06, a good month
    events = [r.dagster_event for r in env["instance"].all_logs(outcome.run_id) if r.dagster_event]
    order = [ev.step_key for ev in events if ev.is_step_start]
    assert order.index("rules") < order.index("quality_results") < order.index("published_month")
    mats = [ev for ev in events if ev.is_step_materialization and ev.step_key == "quality_results"]
    assert mats[0].event_specific_data.materialization.metadata["validated_in_background"].value is True
    # and in the blocked month too (a source missing is simply not submitted)
    bad = env["bad_result"].asset_materializations_for_node("quality_results")
    assert bad[0].metadata["validated_in_background"].value is True


def test_a_worker_that_cannot_start_never_fails_ingest(tmp_path, monkeypatch):
    """The background worker is an optimization: if it cannot be started, submitting returns False
    (the ingest asset goes on) and quality_results validates the files itself, with the same results."""
    import lim.quality.worker as qw
    from assets.resources import QualityResource, StagingResource

    env = county()
    staging = StagingResource(root=str(tmp_path / "staged"))
    shutil.copytree(Path(env["resources"]["staging"].root) / scenario.M, tmp_path / "staged" / scenario.M)
    here = _quality_of(tmp_path / "here.duckdb", scenario.M, staging)

    def broken(*a, **k):
        raise OSError("no forkserver here")

    monkeypatch.setattr(qw, "QualityWorker", broken)
    quality = QualityResource()
    quality.setup_for_execution(None)
    try:
        assert _submit_all(quality, staging, scenario.M, ["hr", "education"]) == []
        got = _quality_of(tmp_path / "bg.duckdb", scenario.M, staging, quality)
        assert got[0]["background"] is False and got[1:] == here[1:]
    finally:
        quality.teardown_after_execution(None)
