"""rules.md "Incomplete months: absence of a file is not absence of income", through the real
pipeline: the scenario county of tests/scenario.py (2026-05 complete, 2026-06 with a department's
file left out, refused, or with every row quarantined), a row of the withholding table per test,
PENDING at tests 1/2 and at test 5, the positive-evidence types raised either way, continuing
alerts withheld (not resolved), 新增/持续 across a gap, evidence and the staff lists' 数据说明."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from lim.core.contracts import load_contract
from tests import scenario
from tests.conftest import TEST_POLICY
from tests.landing import write_month, write_source
from tests.runs import run_months
from tests.scenario import Household as H, P

M_PREV, M = scenario.M_PREV, scenario.M
# The gap: 2026-04 and 2026-05 in M's state (no dated records), 2026-05 without hr, then M itself
# (one policy period covers the three months).
GAP = ["2026-04", M_PREV, M]
ADULT = "19860301"
DANGER_D = {"property_count": 1, "public_rental": "否", "dangerous_house_grade": "D"}
DROPOUT = {"stage": "初中", "school": "青城镇中学", "enrollment_status": "辍学", "annual_fees": 800, "aid_received": 0}


def _disaster(day: str) -> dict:
    return {"disaster_type": "洪涝", "disaster_date": day, "house_damage": "倒塌", "direct_loss": 30000, "aid_paid": 0}


def extra_households() -> list[H]:
    """Alerts alive in M-1 (raised from records of both months), a household above the expenditure
    ceiling, and a member whose hr row of M is quarantined."""
    return [
        H("X-HOUSE", "rural_revitalization", [P(ADULT, "危一", wage=2000, status="就业", status_prev="就业",
                                               extra={"housing": DANGER_D}, extra_prev={"housing": DANGER_D})]),
        H("X-DROP", "civil_affairs", [P(ADULT, "辍一", status="未就业", status_prev="未就业"),
                                       P("20110301", "辍小一", relation="子女", extra={"education": DROPOUT},
                                         extra_prev={"education": DROPOUT})], benefit=1600),
        H("X-DIS", "civil_affairs", [P(ADULT, "灾一", status="未就业", status_prev="未就业",
                                      extra={"emergency": _disaster("2026-06-08")},
                                      extra_prev={"emergency": _disaster("2026-05-08")})], benefit=800),
        H("X-RICH", "rural_revitalization", [P(ADULT, "富一", wage=3000, status="就业", status_prev="就业")]),
        H("X-QN", "civil_affairs", [P(ADULT, "隔一", wage=4000, status="就业", status_prev="就业"),
                                     P(ADULT, "隔二", relation="配偶")], benefit=100),
    ]


def households() -> list[H]:
    return scenario.households() + extra_households()


def month_tables(month: str, hhs: list[H], state_of_m: bool = False) -> dict[str, list[dict]]:
    t = scenario.tables_for(M if state_of_m else month, hhs)
    if month == M:  # 隔二's hr row of M carries a status outside the allowed set: quarantined
        qn = next(h for h in hhs if h.key == "X-QN").people[1]
        t["hr"].append(dict(id_number=qn.id, name=qn.name, employment_status="在职"))
    elif state_of_m:  # M's state in another month: the dated sources had nothing then
        for s in ("health", "medical_insurance", "emergency"):
            t[s] = []
    return t


def refuse(month_dir: Path, source: str) -> None:
    """The file of `source` without its ID column: refused as a whole (missing_column)."""
    contract = load_contract(source)
    path = month_dir / f"{source}.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    keep = [i for i, h in enumerate(rows[0]) if h != contract.column(contract.id_column).header]
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([[r[i] for i in keep] for r in rows])


def quarantine_all(month_dir: Path, source: str, rows: list[dict]) -> None:
    """Every row of the file quarantined (IDs that are not IDs): counts as refused."""
    write_source(month_dir, source, [dict(r, id_number="不详") for r in rows])


VARIANTS = {
    "complete": {},
    "hr_missing": {"hr": "missing"},
    "hr_refused": {"hr": "refused"},
    "housing_missing": {"housing": "missing"},
    "education_emergency_missing": {"education": "missing", "emergency": "missing"},
    "medical_refused": {"medical_insurance": "refused"},
    "rr_missing": {"rural_revitalization": "missing"},
}


def build(root: Path, months: list[str], broken: dict[str, dict[str, str]], state_of_m: bool = False) -> dict:
    """Land `months` (with the broken files of `broken`) under root and run them; root may already
    hold earlier months run (a copy of the `complete_may` fixture)."""
    hhs = households()
    for month in months:
        tables = month_tables(month, hhs, state_of_m)
        d = write_month(root / "landing", month, tables)
        for source, how in broken.get(month, {}).items():
            if how == "missing":
                (d / f"{source}.csv").unlink()
            elif how == "refused":
                refuse(d, source)
            else:
                quarantine_all(d, source, tables[source])
    env = run_months(root, months, policy=TEST_POLICY)
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    return {"con": con, **env}


@pytest.fixture(scope="module")
def complete_may(tmp_path_factory):
    """2026-05, complete and the same in every variant, run once; each variant runs 2026-06 on a copy."""
    root = tmp_path_factory.mktemp("complete_may")
    env = build(root, [M_PREV], {})
    env["con"].close()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module", params=list(VARIANTS))
def run(request, tmp_path_factory, complete_may):
    root = tmp_path_factory.mktemp(request.param)
    shutil.copytree(complete_may, root, dirs_exist_ok=True)
    env = build(root, [M], {M: VARIANTS[request.param]})
    env["variant"] = request.param
    yield env
    env["con"].close()
    shutil.rmtree(root, ignore_errors=True)


def _variant(run, *names):
    if run["variant"] not in names:
        pytest.skip(f"not for {run['variant']}")


def determination(run, hh: str):
    return run["con"].sql("SELECT category, reason_codes, household_income, per_capita_income FROM determinations "
                          "WHERE month = ? AND household_id = ?", params=[M, hh]).fetchall()[0]


def alerts(run, hh: str) -> set[str]:
    rows = run["con"].sql("SELECT alert_type, member_name FROM alerts WHERE month = ? AND household_id = ?",
                          params=[M, hh]).fetchall()
    return {t if m is None else f"{t}@{m}" for t, m in rows}


def withheld(run, hh: str) -> dict[str, str]:
    return dict(run["con"].sql("SELECT alert_type, missing_sources FROM withheld_evaluations WHERE month = ? AND household_id = ?",
                               params=[M, hh]).fetchall())


# ---- coverage --------------------------------------------------------------------------------
def test_coverage_of_the_month(run):
    got = dict(run["con"].sql("SELECT source, coverage FROM source_coverage WHERE month = ?", params=[M]).fetchall())
    want = {s: "delivered" for s in got}
    want["civil_affairs_decisions"] = "missing"  # the optional source of rules-variants.md B.2, never delivered here
    for source, how in VARIANTS[run["variant"]].items():
        want[source] = "missing" if how == "missing" else "refused"
    assert got == want
    assert len(got) == 11
    counted = dict(run["con"].sql("SELECT source, counted FROM source_coverage WHERE month = ?", params=[M]).fetchall())
    assert counted["civil_affairs_decisions"] is False  # never delivered before: withholds nothing, says nothing


# ---- row 1: omission types follow the determination; PENDING at tests 1/2 -----------------------
OMISSIONS = {"RR-W1": "DIBAO_OMISSION", "RR-W2": "MARGINAL_OMISSION", "RR-W3": "EXPENDITURE_HARDSHIP",
             "CA-T70": "TEKUN_CANDIDATE", "RR-SP": "SINGLE_PERSON_DIBAO@鲁二二"}


@pytest.mark.parametrize("hh", list(OMISSIONS))
def test_omission_alerts_withheld_without_income_or_housing(run, hh):
    _variant(run, "complete", "hr_missing", "hr_refused", "housing_missing")
    alert = OMISSIONS[hh]
    if run["variant"] == "complete":
        assert alert in alerts(run, hh)
        return
    source = "hr" if run["variant"].startswith("hr") else "housing"
    category, codes, income, pci = determination(run, hh)
    assert (category, codes) == ("PENDING", f"SOURCE_NOT_DELIVERED:{source}")
    assert alert not in alerts(run, hh)
    assert withheld(run, hh)[alert.split("@")[0]] == source
    if source == "hr":  # income unknown, not zero
        assert (income, pci) == (None, None)
    else:
        assert income is not None


def test_over_assets_on_what_is_known_still_stands(run):
    """CA-A+ declared financial assets over the limit: OVER_ASSETS whatever is missing, and its
    WRONGFUL_INCLUSION (assets) is raised."""
    assert determination(run, "CA-A+")[0] == "OVER_ASSETS"
    assert "WRONGFUL_INCLUSION" in alerts(run, "CA-A+")


# ---- row 2: GRADUAL_EXIT_START needs hr and housing ---------------------------------------------
def test_gradual_exit_start_needs_hr_and_housing(run):
    _variant(run, "complete", "hr_missing", "hr_refused", "housing_missing", "education_emergency_missing")
    got = "GRADUAL_EXIT_START" in alerts(run, "CA-S0")
    if run["variant"] in ("complete", "education_emergency_missing"):
        assert got
    else:
        assert not got
        assert withheld(run, "CA-S0")["GRADUAL_EXIT_START"] == ("hr" if run["variant"].startswith("hr") else "housing")


# ---- row 3: REVERT, END and BENEFIT_MISMATCH of roster 低保 need hr -------------------------------
@pytest.mark.parametrize("hh,alert", [("CA-REV", "GRADUAL_EXIT_REVERT"), ("CA-W4", "GRADUAL_EXIT_END"),
                                      ("CA-EX24", "GRADUAL_EXIT_END"), ("CA-SUP-low", "BENEFIT_MISMATCH")])
def test_exit_and_dibao_benefit_need_hr(run, hh, alert):
    _variant(run, "complete", "hr_missing", "hr_refused", "housing_missing")
    if run["variant"].startswith("hr"):
        assert alert not in alerts(run, hh)
        assert withheld(run, hh)[alert] == "hr"
    else:  # housing is not needed by these
        assert alert in alerts(run, hh)


# ---- row 4: ZERO_EMPLOYMENT needs hr and education ----------------------------------------------
def test_zero_employment_needs_hr_and_education(run):
    _variant(run, "complete", "hr_missing", "hr_refused", "education_emergency_missing", "housing_missing")
    got = "ZERO_EMPLOYMENT" in alerts(run, "CA-ZE")
    if run["variant"] in ("complete", "housing_missing"):
        assert got
    else:
        assert not got
        assert withheld(run, "CA-ZE")["ZERO_EMPLOYMENT"] == ("education" if run["variant"].startswith("education") else "hr")


# ---- positive evidence: raised from what was delivered ------------------------------------------
POSITIVE = {"CA-TK-low": "BENEFIT_MISMATCH", "RR-HOUSE": "DANGEROUS_HOUSE", "REG-DIS": "DISASTER_AFFECTED",
            "CA-DROP": "STUDENT_DROPOUT@章小七", "CA-DEAD": "DECEASED_RECIPIENT@喻十五",
            "CA-DUP-A": "DUPLICATE_ASSISTANCE@水十六", "RR-LOW": "RELAPSE_RISK", "CA-T70": "REVIEW_DUE",
            "CA-A+": "WRONGFUL_INCLUSION"}


@pytest.mark.parametrize("hh", list(POSITIVE))
def test_positive_evidence_raised_without_income(run, hh):
    _variant(run, "complete", "hr_missing", "hr_refused")
    assert POSITIVE[hh] in alerts(run, hh)


# ---- continuing types: alive in M-1, not raised in M, a source it reads undelivered: withheld --------
CONTINUING = [  # (variant, household, alert type, missing source)
    ("hr_missing", "CA-2S0", "WRONGFUL_INCLUSION", "hr"),
    ("hr_refused", "CA-TK-inc", "WRONGFUL_INCLUSION", "hr"),
    ("housing_missing", "X-HOUSE", "DANGEROUS_HOUSE", "housing"),
    ("education_emergency_missing", "X-DROP", "STUDENT_DROPOUT", "education"),
    ("education_emergency_missing", "X-DIS", "DISASTER_AFFECTED", "emergency"),
    ("rr_missing", "RR-LOW", "RELAPSE_RISK", "rural_revitalization"),
]


@pytest.mark.parametrize("variant,hh,alert,source", CONTINUING)
def test_alive_alert_withheld_not_resolved(run, variant, hh, alert, source):
    _variant(run, variant, "complete")
    con = run["con"]
    raised_before = con.sql("SELECT count(*) FROM alerts WHERE month = ? AND household_id = ? AND alert_type = ?",
                            params=[M_PREV, hh, alert]).fetchall()[0][0]
    assert raised_before, f"{hh} must have {alert} in {M_PREV}"
    if run["variant"] == "complete":
        assert {a.split("@")[0] for a in alerts(run, hh)} >= {alert}
        assert alert not in withheld(run, hh)
        return
    assert alert not in {a.split("@")[0] for a in alerts(run, hh)}
    assert source in withheld(run, hh)[alert].split(",")
    # withheld is not resolved: not in resolved_alerts nor in resolved.csv (interface.md "Nothing disappears silently")
    assert not con.sql("SELECT count(*) FROM resolved_alerts WHERE month = ? AND household_id = ? AND alert_type = ?",
                       params=[M, hh, alert]).fetchall()[0][0]
    with open(run["out"] / M / "resolved.csv", encoding="utf-8-sig", newline="") as f:
        assert hh not in {r["家庭编号"] for r in csv.DictReader(f)}


def test_withheld_keys_are_never_resolved(run):
    """Every key alive in M-1 and withheld in M stays out of 解除 (rules.md "Incomplete months")."""
    n = run["con"].sql("""SELECT count(*) FROM resolved_alerts r JOIN withheld_evaluations w
                          ON w.month = r.month AND w.household_source = r.household_source AND w.household_id = r.household_id
                         AND w.alert_type = r.alert_type WHERE r.month = ?""", params=[M]).fetchall()[0][0]
    assert n == 0


# ---- PENDING at test 5: medical insurance or education undelivered in M ---------------------------
def test_pending_at_test_5(run):
    _variant(run, "complete", "medical_refused", "education_emergency_missing")
    source = {"medical_refused": "medical_insurance", "education_emergency_missing": "education"}.get(run["variant"])
    # RR-150: pci 1,200 < ceiling 2,000, no rigid expenditure: fails test 5
    category, codes, *_ = determination(run, "RR-150")
    if source is None:
        assert category == "NOT_ELIGIBLE" and "NO_RULE_MET" in codes
    else:
        assert (category, codes) == ("PENDING", f"SOURCE_NOT_DELIVERED:{source}")
    # X-RICH: pci 2,700 ≥ the ceiling: test 5 not reached, NOT_ELIGIBLE whatever is missing
    assert determination(run, "X-RICH")[0] == "NOT_ELIGIBLE"
    # the omission types are withheld for a PENDING household
    if source:
        assert set(withheld(run, "RR-150")) == {"TEKUN_CANDIDATE", "DIBAO_OMISSION", "MARGINAL_OMISSION",
                                                 "EXPENDITURE_HARDSHIP", "SINGLE_PERSON_DIBAO"}


# ---- evidence tells the truth ----------------------------------------------------------------
def test_evidence_never_states_absence_of_an_undelivered_record(run):
    con = run["con"]
    evidence = [r[0] for r in con.sql("SELECT evidence FROM alerts WHERE month = ?", params=[M]).fetchall()]
    broken = VARIANTS[run["variant"]]
    if "hr" in broken:
        assert not [e for e in evidence if "无工资" in e]
        assert [e for e in evidence if "人社局：本月数据未报送" in e]
    if "housing" in broken:
        assert not [e for e in evidence if "房产 0 套" in e]
        assert [e for e in evidence if "住建局：本月数据未报送" in e]
    if "medical_insurance" in broken:
        assert not [e for e in evidence if "医保局：近 12 个月" in e]


def test_evidence_names_a_quarantined_row_of_a_source_the_alert_reads(run):
    _variant(run, "complete")
    ev = run["con"].sql("SELECT evidence FROM alerts WHERE month = ? AND household_id = 'X-QN' AND alert_type = 'WRONGFUL_INCLUSION'",
                        params=[M]).fetchall()[0][0]
    assert "人社局本月有 隔二 的记录未通过校验" in ev


# ---- the lists and the report say it -----------------------------------------------------------
def test_staff_lists_carry_the_data_note(run):
    folder = Path(run["out"]) / M
    with open(folder / "alerts_all.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0])[-1] == "数据说明" and len(rows[0]) == 17
    notes = {r["数据说明"] for r in rows}
    if run["variant"] == "complete":
        assert notes == {""}
    else:
        assert len(notes) == 1
        note = notes.pop()
        departments = {"hr": "人社局", "housing": "住建局", "education": "教育局", "emergency": "应急局",
                       "medical_insurance": "医保局", "rural_revitalization": "乡村振兴局"}
        for source, how in VARIANTS[run["variant"]].items():
            assert departments[source] + ("本月未报送" if how == "missing" else "本月报送文件被拒收") in note
    for town_csv in (folder / "alerts").glob("*.csv"):
        with open(town_csv, encoding="utf-8-sig", newline="") as f:
            assert next(csv.reader(f))[-1] == "数据说明"


def test_report_says_the_month_is_incomplete(run):
    html = (Path(run["out"]) / M / "report.html").read_text(encoding="utf-8")
    if run["variant"] == "complete":
        assert "本月数据不完整" not in html
        assert "没有暂缓的评估" in html
    else:
        assert "本月数据不完整" in html
        n = run["con"].sql("SELECT count(*) FROM withheld_evaluations WHERE month = ?", params=[M]).fetchall()[0][0]
        assert n > 0 and "暂缓评估" in html


# ---- status across a gap -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def gap(tmp_path_factory):
    root = tmp_path_factory.mktemp("gap")
    env = build(root, GAP, {M_PREV: {"hr": "missing"}}, state_of_m=True)
    yield env
    env["con"].close()


@pytest.mark.parametrize("hh,alert", [("CA-S0", "GRADUAL_EXIT_START"), ("CA-2S0", "WRONGFUL_INCLUSION"),
                                      ("CA-SUP-low", "BENEFIT_MISMATCH")])
def test_alert_raised_withheld_raised_again_is_persisting(gap, hh, alert):
    con = gap["con"]
    rows = dict(con.sql("SELECT month, status || ' ' || first_month FROM alerts WHERE household_id = ? AND alert_type = ?",
                        params=[hh, alert]).fetchall())
    assert rows == {GAP[0]: f"新增 {GAP[0]}", M: f"持续 {GAP[0]}"}
    assert con.sql("SELECT count(*) FROM withheld_evaluations WHERE month = ? AND household_id = ? AND alert_type = ?",
                   params=[M_PREV, hh, alert]).fetchall()[0][0] == 1


def test_month_after_an_incomplete_one_is_not_blocked(gap):
    """The month-over-month checks compare with the latest month in which the same thing was
    evaluated: the month after hr was missing publishes (run_months asserts success) and its
    alert-count check compared each hr-dependent type with M-1's predecessor."""
    assert (Path(gap["out"]) / M / "alerts_all.csv").exists()
