"""rules-variants.md r1–r7 through the real pipeline (landing CSVs → Dagster → DuckDB → CSVs), on both
sides of every new condition: the households of tests/scenario_variants.py placed in county A (the
variants on), B (no new parameter: rules.md unchanged) and C (an exit-year offset of 1)."""
from __future__ import annotations

import csv
import hashlib
import math
import shutil

import duckdb
import pytest

from tests import scenario_variants as sv
from tests.runs import run_months

M, M_PREV, M_APR = sv.M, sv.M_PREV, sv.M_APR


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    root = tmp_path_factory.mktemp("variants")
    hhs = sv.households()
    sv.write_landing(root, [M_PREV, M], hhs)
    env = run_months(root, [M_PREV, M], policy=sv.write_policy(root / "policy.yaml"))
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    yield {"con": con, "hhs": hhs, **env}
    con.close()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def incomplete(tmp_path_factory):
    """April, May and June; 人社局 undelivered in April (a review month) and in June (M); June without
    the decisions file."""
    root = tmp_path_factory.mktemp("variants_incomplete")
    hhs = sv.households()
    landing = sv.write_landing(root, [M_APR, M_PREV, M], hhs, decisions_in_m=False)
    for month in (M_APR, M):
        (landing / month / "hr.csv").unlink()
    env = run_months(root, [M_APR, M_PREV, M], policy=sv.write_policy(root / "policy.yaml"))
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    yield {"con": con, "hhs": hhs, **env}
    con.close()
    shutil.rmtree(root, ignore_errors=True)


def _cases():
    return [pytest.param(k, hid, h, id=hid) for k, hid, h in sv.instances(sv.households())]


def alerts(con, hid: str) -> dict[str, str]:
    rows = con.sql("SELECT alert_type, member_name, reasons FROM alerts WHERE month = ? AND household_id = ?",
                   params=[M, hid]).fetchall()
    return {(t if m is None else f"{t}@{m}"): r for t, m, r in rows}


def withheld(con, hid: str) -> dict[str, str]:
    return dict(con.sql("SELECT alert_type, missing_sources FROM withheld_evaluations WHERE month = ? AND household_id = ?",
                        params=[M, hid]).fetchall())


def one(con, q: str, *params):
    return con.sql(q, params=list(params)).fetchall()[0]


# ---- every household, both sides -------------------------------------------------------------------
@pytest.mark.parametrize("key, hid, hh", _cases())
def test_alerts_on_both_sides(county, key, hid, hh):
    got = alerts(county["con"], hid)
    assert set(got) == hh.expected(key)
    for alert, codes in hh.reasons.get(key, {}).items():
        assert got[alert] == codes, (alert, got[alert])


@pytest.mark.parametrize("key, hid, hh", [c for c in _cases() if c.values[2].category])
def test_determination_category(county, key, hid, hh):
    if key not in hh.category:
        pytest.skip("no expectation for this county")
    assert one(county["con"], "SELECT category FROM determinations WHERE month = ? AND household_id = ?", M, hid)[0] \
        == hh.category[key]


# ---- r1 ----------------------------------------------------------------------------------------------
def test_r1_tekun_evidence_names_multiplier_and_care(county):
    con = county["con"]
    text, evidence = one(con, "SELECT reason_text, evidence FROM alerts WHERE month = ? AND household_id = 'A-TK-NOCARE'", M)
    assert "应为 1680" in text and "照料护理 1 人，合计 400 元" in evidence and "农村 1.6 倍" in evidence
    text, evidence = one(con, "SELECT reason_text, evidence FROM alerts WHERE month = ? AND household_id = 'B-TK-NOCARE'", M)
    assert "应为 1040" in text and "照料护理" not in evidence and "倍" not in evidence  # rules.md's text, unchanged


# ---- r2 ----------------------------------------------------------------------------------------------
def test_r2_support_income_disregarded(county):
    got = dict(county["con"].sql("""SELECT household_id, (support_income_disregarded, per_capita_income) FROM determinations
                                   WHERE month = ? AND household_id IN ('A-DB-SUP', 'B-DB-SUP', 'A-MB-SUP', 'B-MB-SUP',
                                                                        'A-EX-SUP', 'B-EX-SUP')""", params=[M]).fetchall())
    assert {k: (float(d), float(p)) for k, (d, p) in got.items()} == {
        "A-DB-SUP": (300, 200), "B-DB-SUP": (0, 500), "A-MB-SUP": (400, 700), "B-MB-SUP": (0, 1100),
        "A-EX-SUP": (0, 1100), "B-EX-SUP": (0, 1100)}
    evidence = one(county["con"], "SELECT evidence FROM alerts WHERE month = ? AND household_id = 'A-MB-SUP'", M)[0]
    assert "其中赡养抚养扶养费 400 元不计入" in evidence


# ---- r3 ----------------------------------------------------------------------------------------------
def test_r3_claim_evidence_is_the_latest_settlement(county):
    evidence = one(county["con"], """SELECT evidence FROM alerts WHERE month = ? AND household_id = 'A-SP-CLAIM'
                                     AND alert_type = 'SINGLE_PERSON_DIBAO'""", M)[0]
    assert "医保局：2026-05-06 结算大病保险支付 3000 元" in evidence


def test_r3_veteran_grade_is_a_number_and_no_disability(county):
    rows = dict(county["con"].sql("""SELECT name, (veteran_disability_grade, is_disabled) FROM household_members_monthly
                                    WHERE month = ? AND household_id IN ('A-SP-VET6', 'A-SP-VET7', 'A-SUP-VET3')""",
                                  params=[M]).fetchall())
    assert rows == {"单五": (None, False), "单五弟": (6, False), "单六": (None, False), "单六弟": (7, False), "增二": (3, False)}


# ---- r5 ----------------------------------------------------------------------------------------------
def test_r5_pre_exit_amount_from_the_roster_before_exit(county):
    text, evidence = one(county["con"], "SELECT reason_text, evidence FROM alerts WHERE month = ? AND household_id = 'A-EX-PREV-'", M)
    assert "应为 700 元" in text and "2026-05 台账月保障金额 700 元（渐退前一月）" in evidence


def test_r5_unknown_pre_exit_amount_is_withheld(county):
    con = county["con"]
    assert withheld(con, "A-EX-UNK") == {"BENEFIT_MISMATCH": "PRE_EXIT_BENEFIT_UNKNOWN"}
    assert one(con, "SELECT withheld_because FROM withheld_evaluations WHERE month = ? AND household_id = 'A-EX-UNK'", M)[0] \
        == "basis_unknown"
    assert withheld(con, "B-EX-UNK") == {}
    # the report names it, not as a department
    report = (county["out"] / M / "report.html").read_text(encoding="utf-8")
    assert "渐退前月保障金额未知" in report


def test_r5_exit_amount_by_year_and_offset(county):
    """001:50 example: B 600, r 0.25: year 1 at 600 with offset 0 (A), 450 with offset 1 (C)."""
    text = one(county["con"], "SELECT reason_text FROM alerts WHERE month = ? AND household_id = 'C-EX-Y1'", M)[0]
    assert "应为 450 元" in text and "第 1 年" in text
    text = one(county["con"], "SELECT reason_text FROM alerts WHERE month = ? AND household_id = 'C-EX-Y2'", M)[0]
    assert "应为 300 元" in text and "第 2 年" in text


# ---- r6 ----------------------------------------------------------------------------------------------
def test_r6_evidence_names_the_review_month(county):
    text, evidence = one(county["con"], "SELECT reason_text, evidence FROM alerts WHERE month = ? AND household_id = 'A-RV-R2'", M)
    assert "应为 200 元" in text and "按 2026-05 核查时人均月收入 600 元测算" in text and "上次核查月份 2026-05" in evidence
    text = one(county["con"], "SELECT reason_text FROM alerts WHERE month = ? AND household_id = 'A-RV-NORUN'", M)[0]
    assert "应为 100 元" in text and "核查时" not in text


def test_incomplete_r6_amount_from_review_month_needs_no_hr(incomplete):
    con = incomplete["con"]
    # (the omission and exit types are withheld for every household here: PENDING without hr)
    assert set(alerts(con, "A-RV-R2")) == {"BENEFIT_MISMATCH"} and "BENEFIT_MISMATCH" not in withheld(con, "A-RV-R2")
    assert "BENEFIT_MISMATCH" not in withheld(con, "A-RV-R")  # evaluated: no alert, nothing withheld
    assert withheld(con, "B-RV-R2")["BENEFIT_MISMATCH"] == "hr" and alerts(con, "B-RV-R2") == {}
    # R = April: run, but 人社局 did not deliver then → pci of M, which is unknown → withheld
    assert withheld(con, "A-RV-APR")["BENEFIT_MISMATCH"] == "hr" and alerts(con, "A-RV-APR") == {}
    assert withheld(con, "A-RV-NORUN")["BENEFIT_MISMATCH"] == "hr"


def test_incomplete_r5_exit_amount_needs_no_hr(incomplete):
    con = incomplete["con"]
    assert alerts(con, "A-EX-PREV-") == {"BENEFIT_MISMATCH": "GRADUAL_EXIT_AMOUNT"}
    assert "BENEFIT_MISMATCH" not in withheld(con, "A-EX-PREV-")
    assert "BENEFIT_MISMATCH" not in withheld(con, "A-EX-Y1")
    assert withheld(con, "A-EX-UNK")["BENEFIT_MISMATCH"] == "PRE_EXIT_BENEFIT_UNKNOWN"
    # B checks no amount in exit: rules.md's withholding for roster 低保 households stands
    assert withheld(con, "B-EX-PREV-")["BENEFIT_MISMATCH"] == "hr"
    # a roster 低保 household on the current-month basis: withheld as before
    assert withheld(con, "A-SUP-VET3")["BENEFIT_MISMATCH"] == "hr"


# ---- r7 ----------------------------------------------------------------------------------------------
def _draw(population: dict[str, str], rate: float) -> list[str]:
    order = sorted(population, key=lambda h: hashlib.sha256(f"{M}|{h}".encode()).hexdigest())
    return order[:math.ceil(rate * len(order))]


def test_r7_per_town_with_rejected(county):
    con = county["con"]
    got = con.sql("SELECT household_id, county_code, town_code, source, draw_scope FROM audit_sample WHERE month = ?",
                  params=[M]).fetchall()
    a_towns = {"370322101": {"A-NEW-1": "approved", "A-NEW-2": "approved", "A-NEW-3": "approved",
                             "A-REJ-2": "rejected", "A-SP-VET7": "rejected"},
               "370322001": {"A-NEW-4": "approved"}, "370322102": {"A-REJ-1": "rejected"}}
    want = {(h, "370322", t, pop[h], "town") for t, pop in a_towns.items() for h in _draw(pop, 0.3)}
    b_pop = {f"B-NEW-{i}": "approved" for i in range(1, 5)}  # B: approvals only, county-wide
    b_town = {"B-NEW-4": "370323001"}
    want |= {(h, "370323", b_town.get(h, "370323101"), "approved", "county") for h in _draw(b_pop, 0.3)}
    assert set(got) == want
    assert len([g for g in got if g[1] == "370322"]) == 4  # every town with a population has one
    rej = one(con, "SELECT applied_type, roster_type, population, new_approvals FROM audit_sample WHERE month = ? "
                   "AND household_id = 'A-REJ-1'", M)
    assert rej == ("低保", None, 1, 0)
    with open(county["out"] / M / "audit_sample.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["家庭编号"]: r["抽查来源"] for r in rows}["A-REJ-1"] == "审核未通过（申请低保）"


def test_r7_decisions_undelivered_approvals_only(incomplete):
    con = incomplete["con"]
    got = {r[0] for r in con.sql("SELECT household_id FROM audit_sample WHERE month = ? AND county_code = '370322'",
                                 params=[M]).fetchall()}
    want = set(_draw({"A-NEW-1": 1, "A-NEW-2": 1, "A-NEW-3": 1}, 0.3)) | {"A-NEW-4"}
    assert got == want
    report = (incomplete["out"] / M / "report.html").read_text(encoding="utf-8")
    assert "本月审核未通过的申请未纳入抽查" in report and "测试A县" in report
    # an optional source never delivered says nothing in the staff lists
    assert one(con, "SELECT counted FROM source_coverage WHERE month = ? AND source = 'civil_affairs_decisions'", M)[0] is False


def test_r7_decisions_rows_dated_outside_the_month_are_quarantined(tmp_path):
    from lim.ingest.staging import stage_source
    from tests.landing import write_source
    rows = [dict(household_id="X1", region_code="370322101201", applied_type="低保", decision="未通过", decision_date="2026-06-03"),
            dict(household_id="X2", region_code="370322101201", applied_type="低保", decision="未通过", decision_date="2026-05-30"),
            dict(household_id="X3", region_code="370322101201", applied_type="低保", decision="驳回", decision_date="2026-06-04")]
    write_source(tmp_path / M, "civil_affairs_decisions", rows)
    r = stage_source("civil_affairs_decisions", M, tmp_path / M)
    assert r.status == "accepted" and r.accepted["household_id"].to_list() == ["X1"]
    assert sorted(r.quarantine["reason_code"].to_list()) == ["date_outside_month", "invalid_value"]
    write_source(tmp_path / M_PREV, "civil_affairs_decisions", rows[1:2])
    assert stage_source("civil_affairs_decisions", M, tmp_path / M_PREV).status == "wrong_month"


# ---- the parameters as the warehouse shows them ---------------------------------------------------------
def test_month_parameters_show_the_variants(county):
    con = county["con"]
    got = {(c, n): (v, t) for c, n, v, t in con.sql(
        "SELECT county_code, name, value, text_value FROM month_parameters WHERE month = ?", params=[M]).fetchall()}
    assert got[("370322", "dibao_benefit_basis")] == (None, "last_review_month")
    assert got[("370323", "dibao_benefit_basis")] == (None, "current_month")
    assert got[("370322", "audit_per_town")] == (1.0, "true") and got[("370323", "audit_per_town")] == (0.0, "false")
    assert got[("370322", "supplement_elderly_disabled_age")] == (None, "null")
    assert got[("370323", "supplement_elderly_disabled_age")] == (60.0, None)
    assert got[("370322", "tekun_multiplier_urban")] == (1.5, None)
    assert got[("370323", "tekun_multiplier_urban")] == (None, "null")
    assert got[("370324", "gradual_exit_reduction_offset")] == (1.0, None)
    pp = {(c, f, n): (v, t) for c, f, n, v, t in con.sql(
        "SELECT county_code, effective_from, name, value, text_value FROM policy_parameters").fetchall()}
    assert pp[("370322", "2026-07", "single_person_veteran_max_grade")] == (6.0, None)
    assert pp[("370323", "2026-07", "single_person_veteran_max_grade")] == (None, "null")
