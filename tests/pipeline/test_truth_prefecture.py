"""The whole pipeline on a generated prefecture (issue #19 "scale out by county"): three counties in
one landing, each with its own code, towns, villages and standards, run month by month through the
whole-month path; alerts, determinations, statuses and first months equal the truth the generator
planted (generator/prefecture.py) and computed independently (generator/oracle.py). Explicitly:
a person listed in two counties' rosters gets DUPLICATE_ASSISTANCE in both households, a household
that moves to another county keeps its history (REVIEW_DUE stays 持续 with its first month), rows
with mistyped IDs of persons born in another county link to them, and each county's households are
judged with their own county's standard."""
from __future__ import annotations

import csv

import duckdb
import pytest

from generator import generate
from tests.runs import (forkserver_with_stale_settings, month_rows, persistent_instance, published_checksums,
                        run_months, step_spans)
from tests.truth import compare, read_truth, summary_lines

MONTHS = ["2026-04", "2026-05", "2026-06"]


# The month's tables compared between the whole and the sharded computation (issue #19 "Equal results").
EQUAL_TABLES = ["alerts", "determinations", "quarantine", "audit_sample", "households_monthly",
                "household_members_monthly", "persons_monthly", "resolved_alerts", "withheld_evaluations",
                "load_log", "id_links", "source_coverage", "targeting_metrics", "month_parameters"]


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("prefecture")
    summary = generate(out=root / "landing", households=300, months=len(MONTHS), start=MONTHS[0], seed=7, counties=3,
                       messy_rate=0.02)
    return root, summary


def _run(landing, shards: str, monkeypatch_module) -> dict:
    root, summary = landing
    monkeypatch_module.setenv("LIM_SHARDS", shards)
    env = run_months(root / shards, MONTHS, landing=root / "landing", policy=str(root / "landing" / "policy.yaml"))
    monkeypatch_module.delenv("LIM_SHARDS")
    return env


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def runs(landing, monkeypatch_module):
    """The three months computed whole, and computed in county shards (LIM_SHARDS=county). First this
    process's forkserver is started with a stale setting (LIM_FAIL_AT=source_records): the step
    processes of the multiprocess run below are its children and must adopt the run's settings."""
    forkserver_with_stale_settings(monkeypatch_module)
    return {mode: _run(landing, mode, monkeypatch_module) for mode in ("none", "county")}


@pytest.fixture(scope="module", params=["none", "county"], ids=["whole", "county_shards"])
def prefecture(request, runs, landing):
    """The truth comparison of one computation: every truth test runs on the whole and the sharded month."""
    env = runs[request.param]
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    result = compare(con, landing[0] / "landing" / "truth")
    print("\n".join(summary_lines(result)))
    result.update(con=con, truth=landing[0] / "landing" / "truth", summary=landing[1], env=env)
    yield result
    con.close()


def _sorted_rows(warehouse, table: str):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rel = con.sql(f"SELECT * FROM main.{table}")
        return rel.columns, sorted(rel.fetchall(), key=repr)
    finally:
        con.close()


@pytest.mark.parametrize("table", EQUAL_TABLES)
def test_county_shards_equal_the_whole_month_table_by_table(runs, table):
    whole, sharded = (_sorted_rows(runs[m]["warehouse"], table) for m in ("none", "county"))
    assert whole[0] == sharded[0]                    # same columns, same order
    assert len(whole[1]) > 0 or table in ("resolved_alerts", "withheld_evaluations")
    only_whole = [r for r in whole[1] if r not in set(sharded[1])][:3]
    only_sharded = [r for r in sharded[1] if r not in set(whole[1])][:3]
    assert (only_whole, only_sharded, len(whole[1])) == ([], [], len(sharded[1]))


def test_county_shards_publish_the_same_staff_files(runs):
    """Every published file (town lists, workbooks, report, audit sample) byte for byte: the
    manifests' checksums of each month, whole and sharded."""
    import json
    for m in MONTHS:
        files = [{o["path"]: o["sha256"] for o in json.loads((runs[mode]["out"] / m / "manifest.json").read_text(encoding="utf-8"))["outputs"]}
                 for mode in ("none", "county")]
        assert files[0] == files[1] and len(files[0]) > 20, m


def test_the_sharded_run_computed_each_county_in_its_own_step(runs, landing):
    """One county_shard step per county (Dagster dynamic outputs), each month; the merge after them."""
    instance = runs["county"]["instance"]
    for outcome in runs["county"]["outcomes"]:
        steps = {e.step_key for e in instance.all_logs(outcome.run_id) if e.is_dagster_event and e.dagster_event.event_type_value == "STEP_SUCCESS"}
        shards = sorted(s for s in steps if s.startswith("county_shards.county_shard["))
        assert shards == [f"county_shards.county_shard[{c}]" for c in sorted(c["code"] for c in landing[1]["counties"])], steps
        assert "county_shards.merge_county_shards" in steps and "rules" not in steps


def test_the_landing_holds_three_counties_of_one_prefecture(prefecture):
    codes = [c["code"] for c in prefecture["summary"]["counties"]]
    assert len(codes) == 3 and len({c[:4] for c in codes}) == 1
    con = prefecture["con"]
    got = {r[0] for r in con.sql("select distinct county_code from determinations").fetchall()}
    assert got == set(codes)


def test_alerts_and_determinations_equal_truth(prefecture):
    bad = {t: r for t, r in prefecture["alerts"].items() if (r["precision"], r["recall"]) != (1.0, 1.0)}
    bad |= {c: r for c, r in prefecture["determinations"].items() if (r["precision"], r["recall"]) != (1.0, 1.0)}
    assert bad == {}
    assert sum(r["expected"] for r in prefecture["alerts"].values()) > 200


@pytest.mark.parametrize("kind", ["quarantine", "refused_files", "audit_sample", "withheld"])
def test_files_audit_and_withheld_equal_truth(prefecture, kind):
    r = prefecture[kind]
    assert (r["precision"], r["recall"]) == (1.0, 1.0), r


def test_status_and_first_month_equal_truth(prefecture):
    assert prefecture["priority_status_checked"] > 200
    assert prefecture["priority_status_mismatch"] == []


def _planted(prefecture, kind):
    return [r for r in read_truth(prefecture["truth"] / "prefecture.csv") if r["kind"] == kind]


def test_a_person_in_two_counties_rosters_is_duplicate_assistance_in_both(prefecture):
    dups = _planted(prefecture, "duplicate")
    assert len(dups) == 4          # one person per pair of neighbouring counties, two households each
    con = prefecture["con"]
    for r in dups:
        for m in MONTHS:
            got = con.sql("select count(*) from alerts where month = ? and household_id = ? and "
                          "alert_type = 'DUPLICATE_ASSISTANCE' and member_id_number = ?",
                          params=[m, r["household_id"], r["member_id_number"]]).fetchall()[0][0]
            assert got == 1, (m, r)
    # the two households of one person are in two different counties
    by_person = {}
    for r in dups:
        by_person.setdefault(r["member_id_number"], set()).add(r["county_code"])
    assert all(len(v) == 2 for v in by_person.values())


def test_a_moved_household_keeps_its_history(prefecture):
    movers = _planted(prefecture, "mover")
    roster = [r for r in movers if r["household_source"] == "civil_affairs"]
    assert len(roster) == 3 and len(movers) >= 4
    con = prefecture["con"]
    for r in roster:
        mv = r["month"]
        rows = con.sql("select month, status, first_month, substr(region_code, 1, 6) from alerts "
                       "where household_id = ? and alert_type = 'REVIEW_DUE' order by month",
                       params=[r["household_id"]]).fetchall()
        assert [x[0] for x in rows] == MONTHS, r
        before = [x for x in rows if x[0] < mv]
        after = [x for x in rows if x[0] >= mv]
        assert all(x[3] == r["detail"] for x in before) and all(x[3] == r["county_code"] for x in after), rows
        assert [x[1] for x in after] == ["持续"] * len(after) and {x[2] for x in rows} == {MONTHS[0]}, rows
    # the registered mover of the first county is found by its medical costs: EXPENDITURE_HARDSHIP
    # rests on out-of-pocket M-11..M landed before the move, and stays 持续 in the new county
    exp = [r for r in movers if r["household_source"] == "household_registration" and r["detail"] == roster[0]["detail"]]
    assert exp
    got = con.sql("select status, first_month, substr(region_code, 1, 6) from alerts where household_id = ? "
                  "and alert_type = 'EXPENDITURE_HARDSHIP' and month = ?",
                  params=[exp[0]["household_id"], exp[0]["month"]]).fetchall()
    assert got == [("持续", MONTHS[0], exp[0]["county_code"])], got
    # every mover is judged in its new county after the move (its determination's county)
    for r in movers:
        got = con.sql("select distinct county_code from determinations where household_id = ? and month >= ?",
                      params=[r["household_id"], r["month"]]).fetchall()
        assert got in ([], [(r["county_code"],)]), (r, got)


def test_mistyped_ids_of_persons_born_in_another_county_link_to_them(prefecture):
    typos = _planted(prefecture, "typo")
    assert len(typos) >= 9
    links = {(r["month"], r["source"], r["row_number"]): r["true_id_number"]
             for r in read_truth(prefecture["truth"] / "links.csv")}
    for r in typos:
        src, rn = r["detail"].split(":")
        assert links[(r["month"], src, rn)] == r["member_id_number"]
        assert r["member_id_number"][:6] != r["county_code"]       # born elsewhere than where they live
    con = prefecture["con"]
    quarantined = {(m, s, str(n)) for m, s, n in con.sql("select month, source, row_number from quarantine").fetchall()}
    assert not quarantined & {(r["month"], *r["detail"].split(":")) for r in typos}


def test_each_county_is_judged_with_its_own_standard(prefecture):
    """The counties' standards differ (generator/params.py COUNTY_STEP): every determination
    carries the standard of its own county, 城乡类别 and period as policy.yaml states it."""
    import yaml
    pol = yaml.safe_load((prefecture["truth"].parent / "policy.yaml").read_text(encoding="utf-8"))
    want = {}
    for code, c in pol["counties"].items():
        for m in MONTHS:
            p = [q for q in c["periods"] if str(q["effective_from"]) <= m][-1]
            want[(m, str(code), "城市")] = float(p["dibao_standard_urban"])
            want[(m, str(code), "农村")] = float(p["dibao_standard_rural"])
    assert len(set(want.values())) >= 6
    con = prefecture["con"]
    rows = con.sql("select month, county_code, urban_rural, standard, count(*) from determinations "
                   "group by all order by all").fetchall()
    assert {(m, c, u) for m, c, u, _, _ in rows} == set(want)
    assert [(m, c, u, float(s)) for m, c, u, s, _ in rows] == [(m, c, u, want[(m, c, u)]) for m, c, u, _, _ in rows]


# --- the first month again, in county shards on Dagster's multiprocess executor (LIM_EXECUTOR=multiprocess,
# pipelines/executors.py, 2 processes): the same files and tables as the whole month in one process; the
# steps that write the warehouse ran one at a time, the county steps beside each other.
MP_TABLES = ("alerts", "determinations", "quarantine", "quality_results")


@pytest.fixture(scope="module")
def mp_runs(landing, runs, tmp_path_factory):
    root = tmp_path_factory.mktemp("multiprocess")
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("LIM_PSEUDONYM_KEY", "k" * 40)  # the same analysts' key in every step process
        mp.setenv("LIM_EXECUTOR", "multiprocess")
        mp.setenv("LIM_MAX_PROCESSES", "2")
        mp.setenv("LIM_SHARDS", "county")
        multi = run_months(root, MONTHS[:1], landing=landing[0] / "landing", policy=str(landing[0] / "landing" / "policy.yaml"),
                           instance=persistent_instance(root / "dagster_home"))
        yield {"in_process": runs["none"], "multiprocess": multi}
    finally:
        mp.undo()


def test_the_multiprocess_run_publishes_the_same_files(mp_runs):
    staff = published_checksums(mp_runs["in_process"], MONTHS[0])
    assert any(p.startswith("alerts/") for p in staff) and "alerts_all.csv" in staff
    assert published_checksums(mp_runs["multiprocess"], MONTHS[0]) == staff


@pytest.mark.parametrize("name", MP_TABLES)
def test_the_multiprocess_run_writes_the_same_tables(mp_runs, name):
    rows = month_rows(mp_runs["in_process"], name, MONTHS[0])
    assert rows, name
    assert month_rows(mp_runs["multiprocess"], name, MONTHS[0]) == rows


def test_each_step_ran_in_its_own_process_and_the_warehouse_had_one_writer(mp_runs):
    env = mp_runs["multiprocess"]
    run = env["instance"].get_run_by_id(env["outcomes"][0].run_id)
    assert run.tags["lim/launcher"] == "lim" and run.tags["dagster/partition"] == MONTHS[0]
    events = env["instance"].all_logs(run.run_id)
    assert any("Launching subprocess for" in (e.message or "") for e in events)  # the multiprocess executor
    spans = step_spans(env)
    shards = sorted((a, b, k) for k, (a, b) in spans.items() if k.startswith("county_shards.county_shard["))
    assert len(shards) == 3
    # the county steps only read the warehouse: they ran beside each other
    assert shards[1][0] < shards[0][1], f"{shards[0][2]} and {shards[1][2]} ran one after the other"
    writers = sorted((a, b, k) for k, (a, b) in spans.items() if not k.startswith(("staged_", "county_shards.county_shard[")))
    assert len(writers) > 10 and "county_shards.merge_county_shards" in {k for _, _, k in writers}
    for (_, end, first), (start, _, second) in zip(writers, writers[1:]):
        assert start >= end, f"{first} and {second} had the warehouse open at the same time"
