"""A hand-built county on both sides of every condition of rules-variants.md (r1–r7).

Every household template is placed in up to three counties of one policy file, so that one run
through the real pipeline shows both sides of each switch:

  A  370322  the variants on (VARIANTS below: a mix of the seeds' blocks, with test numbers where a
             seed keeps the default, so that each parameter moves a result)
  B  370323  no new parameter set: rules.md as it stands
  C  370324  gradual_exit_annual_reduction 0.25 with gradual_exit_reduction_offset 1 only

Months: 2026-05 (M-1) and 2026-06 (M); `build(..., months=[2026-04, 2026-05, 2026-06])` adds April.
Rural S = 800, urban S = 1000 in every county (tests/policy_test.yaml's first period).
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.conftest import TEST_POLICY
from tests.landing import make_id, write_month

M_APR, M_PREV, M = "2026-04", "2026-05", "2026-06"
COUNTIES = {"A": "370322", "B": "370323", "C": "370324"}
TOWNS = {"A": {"001": "城关街道", "101": "青城镇", "102": "高城镇"}, "B": {"001": "城关街道", "101": "青城镇"},
         "C": {"101": "青城镇"}}

# County A: every new parameter moved from its default (B.1). Where a seed's block keeps the default
# (tekun_multiplier_rural 1.3 = tekun_multiplier; ages 70/18), a test number is used instead.
VARIANTS = {
    "tekun_multiplier_urban": 1.5,            # 000:19
    "tekun_multiplier_rural": 1.6,            # test number (000:19 says 1.3 = the default)
    "tekun_multiplier_centralized": 2.0,      # 001:40
    "tekun_care_self": 50, "tekun_care_partial": 200, "tekun_care_full": 400,  # test amounts (002:20 has none)
    "support_income_disregard": True,         # 002:28
    "severe_disability_level3_intellectual_mental": True,  # 002:18
    "single_person_critical_illness_claim": True,          # 002:22
    "single_person_veteran_max_grade": 6,     # 002:22
    "single_person_preferential": True,       # 002:22
    "supplement_elderly_age": 65,             # test number (001:48 says 70)
    "supplement_minor_age": 16,               # test number (001:48 says 未成年人)
    "supplement_elderly_disabled_age": None,  # 002:18 has no 老残一体 group
    "supplement_veteran_max_grade": 4,        # 002:18
    "supplement_preferential": 0.15,          # 002:18
    "gradual_exit_annual_reduction": 0.25,    # 001:50
    "gradual_exit_reduction_offset": 0,       # 001:50
    "dibao_benefit_basis": "last_review_month",  # 002:26
    "audit_per_town": True,                   # 004:51
    "audit_include_rejected": True,           # 004:51
}
C_VARIANTS = {"gradual_exit_annual_reduction": 0.25, "gradual_exit_reduction_offset": 1}


def policy_doc() -> dict:
    with open(TEST_POLICY, encoding="utf-8") as f:
        base = yaml.safe_load(f)["counties"]["370322"]
    counties = {}
    for key, code in COUNTIES.items():
        c = copy.deepcopy(base)
        c["name"] = f"测试{key}县"
        c["towns"] = {f"{code}{t}": n for t, n in TOWNS[key].items()}
        c.pop("villages", None)
        extra = VARIANTS if key == "A" else C_VARIANTS if key == "C" else {}
        for period in c["periods"]:  # every period: a parameter is not carried over (B.1)
            period.update(extra)
        counties[code] = c
    return {"counties": counties}


def write_policy(path: Path) -> str:
    path.write_text(yaml.safe_dump(policy_doc(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


@dataclass
class Person:
    birth: str
    name: str
    relation: str = "户主"
    wage: float = 0            # 月工资 in M (就业 when > 0)
    wage_prev: float | None = None  # in M-1 (and April); None = as in M
    pension: float = 0
    labor: str = "有"
    disability_type: str | None = None
    disability_level: str | None = None
    care_level: str | None = None
    veteran_grade: str | None = None
    preferential_category: str | None = None
    regular_pension_subsidy: str | None = None
    extra: dict = field(default_factory=dict)       # source -> row (canonical), month M
    extra_prev: dict = field(default_factory=dict)  # source -> row, month M-1


@dataclass
class Household:
    key: str
    people: list[Person]
    counties: str = "AB"
    urban: bool = False
    town: str = "101"
    assistance_type: str = "低保"
    since_month: str = "2024-01"
    exit_since: str | None = None
    benefit: float = 0
    benefit_prev: float | None = None     # 月保障金额 in M-1; None = as in M
    exit_since_prev: str | None = "same"  # 渐退开始月份 in M-1; "same" = as in M
    other_income: float = 0
    support_income: float | None = None
    support_mode: str | None = None
    pre_exit_benefit: float | None = None
    last_review: str = "2026-03-10"       # R = 2026-03, never run: r6 falls back to M
    # expected alerts ("TYPE" or "TYPE@member") per county key; a county left out expects `off`
    on: set | None = None                 # county A
    off: set = field(default_factory=set)  # county B (and C unless `c` is given)
    c: set | None = None                   # county C
    reasons: dict = field(default_factory=dict)  # county key -> {"TYPE@member" or "TYPE": reason codes}
    category: dict = field(default_factory=dict)  # county key -> determination category

    def expected(self, county: str) -> set:
        if county == "A":
            return self.off if self.on is None else self.on
        if county == "C":
            return self.off if self.c is None else self.c
        return self.off


def _claim(date: str, paid: float) -> dict:
    return {"settlement_date": date, "total_cost": paid + 1000, "fund_paid": 800, "critical_illness_paid": paid,
            "medical_assistance_paid": 0, "out_of_pocket": 200}


ADULT, OLD75, OLD80 = "19860301", "19510101", "19460101"


def households() -> list[Household]:
    H, P = Household, Person
    return [
        # ---- r1 特困: multiplier by 城乡 / 供养方式, care by 护理等级 -------------------------------
        H("TK-URB", [P(OLD75, "特一", labor="无")], urban=True, town="001", assistance_type="特困", benefit=1500,
          on=set(), off={"BENEFIT_MISMATCH"}),                       # A 1.5·1000 = 1500; B 1.3·1000 = 1300
        H("TK-RUR", [P(OLD75, "特二", labor="无")], assistance_type="特困", benefit=1040,
          on={"BENEFIT_MISMATCH"}, off=set()),                       # A 1.6·800 = 1280; B 1040
        H("TK-CEN", [P(OLD75, "特三", labor="无"), P(OLD80, "特三妻", relation="配偶", labor="无")],
          assistance_type="特困", support_mode="集中供养", benefit=3200,
          on=set(), off={"BENEFIT_MISMATCH"}),                       # A 2·800·2 = 3200; B 2080
        H("TK-DISP", [P(OLD75, "特四", labor="无")], assistance_type="特困", support_mode="分散供养", benefit=1280,
          on=set(), off={"BENEFIT_MISMATCH"}),                       # A the rural 1.6: 1280; B 1040
        H("TK-CARE", [P(OLD75, "特五", labor="无", care_level="全护理")], assistance_type="特困", benefit=1680,
          on=set(), off={"BENEFIT_MISMATCH"}),                       # A 1280 + 400; B 1040
        H("TK-CARE2", [P(OLD75, "特六", labor="无", care_level="半护理"),
                       P(OLD80, "特六妻", relation="配偶", labor="无", care_level="全自理")],
          assistance_type="特困", benefit=2810, on=set(), off={"BENEFIT_MISMATCH"}),  # A 2560 + 200 + 50; B 2080
        H("TK-NOCARE", [P(OLD75, "特七", labor="无", care_level="全护理")], assistance_type="特困", benefit=1280,
          on={"BENEFIT_MISMATCH"}, off={"BENEFIT_MISMATCH"}),        # A 1680 (care not paid); B 1040
        # a 供养方式 on a 低保 row is ignored (used only for 特困)
        H("DB-MODE", [P(ADULT, "低一")], support_mode="集中供养", benefit=800, on=set(), off=set()),

        # ---- r2 support-income disregard (roster 低保 / 低保边缘 only) -------------------------------
        H("DB-SUP", [P(ADULT, "赡一")], other_income=500, support_income=300, benefit=600,
          on=set(), off={"BENEFIT_MISMATCH"}, category={"A": "DIBAO", "B": "DIBAO"}),  # A pci 200; B pci 500
        H("MB-SUP", [P(ADULT, "赡二", wage=1000)], assistance_type="低保边缘", other_income=400, support_income=400,
          on={"DIBAO_OMISSION"}, off=set(), category={"A": "DIBAO", "B": "MARGINAL"}),  # A 700; B 1100
        H("EX-SUP", [P(ADULT, "赡三", wage=1000)], assistance_type="支出型困难", other_income=400, support_income=400,
          on=set(), off=set(), category={"A": "MARGINAL", "B": "MARGINAL"}),  # not 低保/低保边缘: counted in both

        # ---- r3 SINGLE_PERSON_DIBAO: roster 低保边缘, pci 1100 (MARGINAL) ----------------------------
        H("SP-L3", [P(ADULT, "单一", wage=2500), P(ADULT, "单一妹", relation="其他", labor="部分", disability_type="智力", disability_level="三级")],
          assistance_type="低保边缘", on={"SINGLE_PERSON_DIBAO@单一妹"}, off=set(),
          reasons={"A": {"SINGLE_PERSON_DIBAO@单一妹": "SEVERE_DISABILITY"}}),
        H("SP-L3LIMB", [P(ADULT, "单二", wage=2500), P(ADULT, "单二妹", relation="其他", labor="部分", disability_type="肢体", disability_level="三级")],
          assistance_type="低保边缘", on=set(), off=set()),
        H("SP-CLAIM", [P(ADULT, "单三", wage=2500), P(ADULT, "单三妻", relation="配偶", disability_type="肢体", disability_level="二级",
                                                        extra_prev={"medical_insurance": _claim("2026-05-06", 3000)})],
          assistance_type="低保边缘", on={"SINGLE_PERSON_DIBAO@单三妻"}, off={"SINGLE_PERSON_DIBAO@单三妻"},
          reasons={"A": {"SINGLE_PERSON_DIBAO@单三妻": "SEVERE_DISABILITY,CRITICAL_ILLNESS_CLAIM"},
                   "B": {"SINGLE_PERSON_DIBAO@单三妻": "SEVERE_DISABILITY"}}),
        H("SP-NOCLAIM", [P(ADULT, "单四", wage=2500), P(ADULT, "单四妻", relation="配偶", extra={"medical_insurance": _claim("2026-06-06", 0)})],
          assistance_type="低保边缘", on=set(), off=set()),
        H("SP-VET6", [P(ADULT, "单五", wage=2500), P(ADULT, "单五弟", relation="其他", veteran_grade="六级")],
          assistance_type="低保边缘", on={"SINGLE_PERSON_DIBAO@单五弟"}, off=set(),
          reasons={"A": {"SINGLE_PERSON_DIBAO@单五弟": "VETERAN_DISABILITY"}}),
        H("SP-VET7", [P(ADULT, "单六", wage=2500), P(ADULT, "单六弟", relation="其他", veteran_grade="七级")],
          assistance_type="低保边缘", on=set(), off=set()),
        H("SP-PREF", [P(ADULT, "单七", wage=2500), P(ADULT, "单七父", relation="父母", regular_pension_subsidy="是")],
          assistance_type="低保边缘", on={"SINGLE_PERSON_DIBAO@单七父"}, off=set(),
          reasons={"A": {"SINGLE_PERSON_DIBAO@单七父": "PREFERENTIAL"}}),
        H("SP-PREF-", [P(ADULT, "单八", wage=2500), P(ADULT, "单八父", relation="父母", regular_pension_subsidy="否")],
          assistance_type="低保边缘", on=set(), off=set()),
        H("SP-ILL", [P(ADULT, "单九", wage=2500), P(ADULT, "单九妻", relation="配偶", extra_prev={"health": {
            "event_type": "重大疾病", "diagnosis": "胃癌", "event_date": "2026-05-04"}})],
          assistance_type="低保边缘", on={"SINGLE_PERSON_DIBAO@单九妻"}, off={"SINGLE_PERSON_DIBAO@单九妻"},
          reasons={"A": {"SINGLE_PERSON_DIBAO@单九妻": "MAJOR_ILLNESS"}, "B": {"SINGLE_PERSON_DIBAO@单九妻": "MAJOR_ILLNESS"}}),

        # ---- r4 supplements: roster 低保 not in exit, current-month basis --------------------------
        H("SUP-L3", [P(ADULT, "增一", labor="部分", disability_type="精神", disability_level="三级")], other_income=100,
          benefit=1180, on=set(), off={"BENEFIT_MISMATCH"}),         # A 700 + 0.6·800; B 700
        H("SUP-VET3", [P(ADULT, "增二", veteran_grade="三级")], benefit=1280, on=set(), off={"BENEFIT_MISMATCH"}),
        H("SUP-VET5", [P(ADULT, "增三", veteran_grade="五级")], benefit=800, on=set(), off=set()),
        H("SUP-OLD", [P("19590101", "增四", pension=100)], benefit=1100, on=set(), off={"BENEFIT_MISMATCH"}),  # 67: A 700 + 400
        H("SUP-MINOR", [P(ADULT, "增五"), P("20090301", "增五子", relation="子女")], benefit=2000,
          on={"BENEFIT_MISMATCH"}, off=set()),                       # 17: A 1600; B 1600 + 400
        H("SUP-OLDDIS", [P("19640101", "增六", pension=100, disability_type="听力", disability_level="四级")], benefit=1180,
          on={"BENEFIT_MISMATCH"}, off=set()),                       # 62 + 四级: A 700 (no 老残一体); B 700 + 480
        H("SUP-PREF", [P(ADULT, "增七", preferential_category="军属")], benefit=920,
          on=set(), off={"BENEFIT_MISMATCH"}),                       # A 800 + 0.15·800; B 800

        # ---- r5 amount during gradual exit (A: 0.25, offset 0; C: 0.25, offset 1; B: not checked) ----
        H("EX-Y1", [P(ADULT, "退一", wage=1500)], counties="ABC", exit_since="2026-01", pre_exit_benefit=600, benefit=600,
          on=set(), off=set(), c={"BENEFIT_MISMATCH"}, reasons={"C": {"BENEFIT_MISMATCH": "GRADUAL_EXIT_AMOUNT"}}),
        H("EX-Y2", [P(ADULT, "退二", wage=1500)], counties="ABC", exit_since="2025-05", pre_exit_benefit=600, benefit=450,
          on=set(), off=set(), c={"BENEFIT_MISMATCH"}),              # m 13: A 450; C 300
        H("EX-PREV", [P(ADULT, "退三", wage=1500)], counties="AB", exit_since="2026-06", exit_since_prev=None,
          benefit=700, benefit_prev=700, on=set(), off=set()),       # B = 2026-05's roster amount 700
        H("EX-PREV-", [P(ADULT, "退四", wage=1500)], counties="AB", exit_since="2026-06", exit_since_prev=None,
          benefit=500, benefit_prev=700, on={"BENEFIT_MISMATCH"}, off=set(),
          reasons={"A": {"BENEFIT_MISMATCH": "GRADUAL_EXIT_AMOUNT"}}),
        H("EX-UNK", [P(ADULT, "退五", wage=1500)], counties="AB", exit_since="2026-03", benefit=100,
          on=set(), off=set()),                                      # B unknown: withheld (PRE_EXIT_BENEFIT_UNKNOWN)
        H("EX-DIS", [P(ADULT, "退六", wage=1500, disability_type="听力", disability_level="四级")], counties="AB",
          exit_since="2024-10", pre_exit_benefit=600, benefit=600,
          on={"BENEFIT_MISMATCH"}, off=set()),                       # m 20 < 24: A 450
        H("EX-VET", [P(ADULT, "退七", wage=1500, veteran_grade="三级")], counties="AB",
          exit_since="2024-10", pre_exit_benefit=600, benefit=600,
          on={"GRADUAL_EXIT_END"}, off={"GRADUAL_EXIT_END"}),        # a veteran grade is no 残疾等级: L 18, m 20

        # ---- r6 basis of the 低保 amount: pci of the review month R ---------------------------------
        H("RV-R", [P(ADULT, "核一", wage=1000, wage_prev=900)], last_review="2026-05-15", benefit=200,
          on=set(), off={"BENEFIT_MISMATCH"}),                       # A pci* 600 (May): 200; B pci 700: 100
        H("RV-R2", [P(ADULT, "核二", wage=1000, wage_prev=900)], last_review="2026-05-15", benefit=150,
          on={"BENEFIT_MISMATCH"}, off={"BENEFIT_MISMATCH"}),        # A 200 (evidence names 2026-05); B 100
        H("RV-NORUN", [P(ADULT, "核三", wage=1000, wage_prev=900)], last_review="2026-03-10", benefit=200,
          on={"BENEFIT_MISMATCH"}, off={"BENEFIT_MISMATCH"}),        # R never run: pci of M (100)
        H("RV-SAME", [P(ADULT, "核四", wage=1000, wage_prev=900)], last_review="2026-06-01", benefit=100,
          on=set(), off=set()),                                      # R = M: pci of M (100)
        H("RV-APR", [P(ADULT, "核五", wage=1000, wage_prev=900)], last_review="2026-04-20", benefit=200,
          on={"BENEFIT_MISMATCH"}, off={"BENEFIT_MISMATCH"}),        # R = April: not run (or, in the incomplete
                                                                     # build, run without hr): pci of M

        # ---- r7 new approvals of M (audit) --------------------------------------------------------
        H("NEW-1", [P(ADULT, "新一")], since_month=M, benefit=800),
        H("NEW-2", [P(ADULT, "新二")], since_month=M, benefit=800),
        H("NEW-3", [P(ADULT, "新三")], since_month=M, benefit=800),
        H("NEW-4", [P(ADULT, "新四")], since_month=M, benefit=800, town="001"),
    ]


# civil_affairs_decisions of M, per county key: (household key, 申请类别, 审核确认结果, 审核确认日期, town)
DECISIONS = [
    ("REJ-1", "低保", "未通过", "2026-06-12", "102"),      # only in the decisions: town 102's whole population
    ("REJ-2", "特困", "未通过", "2026-06-20", "101"),
    ("NEW-1", "低保", "通过", "2026-06-03", "101"),
    ("NEW-2", "低保", "未通过", "2026-06-02", "101"),      # approved too (roster, 保障开始月份 M): counts once, approved
    ("SP-VET7", "低保", "未通过", "2026-06-15", "101"),    # in the roster (低保边缘), not a new approval: rejected
]


def region(county: str, town: str, urban: bool = False) -> str:
    return f"{COUNTIES[county]}{town}{'001' if urban or town == '001' else '201'}"


def instances(hhs: list[Household]) -> list[tuple[str, str, Household]]:
    """(county key, household id, template) for every placement of every template."""
    return [(k, f"{k}-{h.key}", h) for h in hhs for k in h.counties]


def tables_for(month: str, hhs: list[Household], decisions: bool = True) -> dict[str, list[dict]]:
    """Every source of one month; each person gets an ID in the county's area (same seq per template)."""
    t: dict[str, list[dict]] = {s: [] for s in (
        "civil_affairs_households", "civil_affairs_members", "hr", "education", "housing", "health",
        "medical_insurance", "emergency", "rural_revitalization", "household_registration")}
    cur = month == M
    seq = itertools.count(1)
    for h in hhs:
        ids = [next(seq) for _ in h.people]
        for k in h.counties:
            hid = f"{k}-{h.key}"
            exit_since = h.exit_since if cur or h.exit_since_prev == "same" else h.exit_since_prev
            t["civil_affairs_households"].append(dict(
                household_id=hid, region_code=region(k, h.town, h.urban), urban_rural="城市" if h.urban else "农村",
                assistance_type=h.assistance_type, since_month=h.since_month if h.since_month <= month else "2024-01",
                gradual_exit_since=exit_since, monthly_benefit=h.benefit if cur or h.benefit_prev is None else h.benefit_prev,
                other_income=h.other_income, financial_assets=0, last_review_date=h.last_review if h.last_review[:7] <= month else "2026-03-10",
                support_mode=h.support_mode, support_income=h.support_income, pre_exit_benefit=h.pre_exit_benefit))
            for p, i in zip(h.people, ids):
                pid = make_id(p.birth, i, area=COUNTIES[k])
                t["civil_affairs_members"].append(dict(
                    household_id=hid, id_number=pid, name=p.name, relation=p.relation, disability_type=p.disability_type,
                    disability_level=p.disability_level, labor_capacity=p.labor, care_level=p.care_level,
                    veteran_disability_grade=p.veteran_grade, preferential_category=p.preferential_category,
                    regular_pension_subsidy=p.regular_pension_subsidy))
                wage = p.wage if cur or p.wage_prev is None else p.wage_prev
                status = "就业" if wage else ("退休" if p.pension else "未就业")
                t["hr"].append(dict(id_number=pid, name=p.name, employment_status=status,
                                    monthly_wage=wage or None, monthly_pension=p.pension or None))
                for source, row in (p.extra if cur else p.extra_prev if month == M_PREV else {}).items():
                    t[source].append(dict(id_number=pid, name=p.name, **row))
    if cur and decisions:
        t["civil_affairs_decisions"] = [
            dict(household_id=f"{k}-{key}", region_code=region(k, town), applied_type=applied, decision=decision,
                 decision_date=date)
            for k in ("A", "B") for key, applied, decision, date, town in DECISIONS if town in TOWNS[k]]
    return t


def write_landing(root: Path, months: list[str], hhs: list[Household], decisions_in_m: bool = True) -> Path:
    for month in months:
        write_month(root / "landing", month, tables_for(month, hhs, decisions=decisions_in_m))
    return root / "landing"
