"""A hand-built county that sits on both sides of every threshold of rules.md.

Each household is described once, with what rules.md says it must get; the test runs it
through the real pipeline (Dagster, DuckDB) and compares. Months: 2026-05 (M-1) and 2026-06 (M).
Defaults of rules.md: rural S = 800, urban S = 1000.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tests.landing import make_id

RURAL = "370322101201"   # 青城镇 青城村
URBAN = "370322001001"   # 田镇街道 西关社区
M_PREV, M = "2026-05", "2026-06"


@dataclass
class Person:
    birth: str                 # YYYYMMDD
    name: str
    relation: str = "户主"
    wage: float | None = None
    pension: float | None = None
    status: str | None = None  # hr 就业状态 in M (None: no hr row)
    status_prev: str | None = None
    labor: str = "有"
    disability_type: str | None = None
    disability_level: str | None = None
    extra: dict = field(default_factory=dict)  # source -> row (canonical names) for month M
    extra_prev: dict = field(default_factory=dict)  # source -> row for month M-1
    register_status: str = "正常"
    id: str = ""


@dataclass
class Household:
    key: str
    source: str                # civil_affairs / rural_revitalization / household_registration
    people: list[Person]
    region: str = RURAL
    urban_rural: str = "农村"
    assistance_type: str = "低保"
    since_month: str = "2024-01"
    exit_since: str | None = None
    benefit: float = 0
    other_income: float = 0
    financial_assets: float | None = 0
    last_review: str = "2026-05-15"
    rr_category: str = "脱贫户"
    rr_risk_eliminated: str = "是"
    rr_income: float = 9000
    hukou: str | None = None
    expect_category: str | None = None
    expect_alerts: set = field(default_factory=set)   # household-level alert types (and member-level as TYPE@name)


_seq = iter(range(1, 999))


def P(birth, name, **kw) -> Person:
    p = Person(birth, name, **kw)
    p.id = make_id(birth, next(_seq))
    return p


def _settle(date: str, oop: float) -> dict:
    return {"settlement_date": date, "total_cost": oop + 5000, "fund_paid": 5000, "critical_illness_paid": 0,
            "medical_assistance_paid": 0, "out_of_pocket": oop}


def households() -> list[Household]:
    """The scenario county; the same IDs on every call (the ID sequence starts again)."""
    global _seq
    _seq = iter(range(1, 999))
    adult, child, old70 = "19860301", "20160301", "19550101"
    DUP = P(adult, "水十六", relation="其他", status="未就业", status_prev="未就业")
    H = Household
    return [
        # --- worked examples of rules.md (rural, S = 800) -------------------------------------------
        H("RR-W1", "rural_revitalization", [P(adult, "王一", wage=1500, status="就业", status_prev="就业"),
                                            P(adult, "李一", relation="配偶"), P(child, "王小一", relation="子女")],
          expect_category="DIBAO", expect_alerts={"DIBAO_OMISSION"}),
        H("RR-W2", "rural_revitalization", [P("19600101", "赵二", pension=1000, status="退休", status_prev="退休"),
                                            P(adult, "赵小二", relation="子女", wage=900, status="就业", status_prev="就业")],
          expect_category="MARGINAL", expect_alerts={"MARGINAL_OMISSION"}),
        H("RR-W3", "rural_revitalization", [P(adult, "孙三", wage=3300, status="就业", status_prev="就业"),
                                            P(adult, "钱三", relation="配偶", extra={"medical_insurance": {
                                                "settlement_date": "2026-06-12", "total_cost": 30000, "fund_paid": 10000,
                                                "critical_illness_paid": 2000, "medical_assistance_paid": 0, "out_of_pocket": 18000}})],
          expect_category="EXPENDITURE", expect_alerts={"EXPENDITURE_HARDSHIP"}),
        H("CA-W4", "civil_affairs", [P(adult, "周四", wage=3000, status="就业", status_prev="就业"),
                                      P(adult, "吴四", relation="配偶"), P(child, "周小四", relation="子女")],
          exit_since="2024-12", benefit=90, expect_category="MARGINAL", expect_alerts={"GRADUAL_EXIT_END"}),
        H("CA-W4b", "civil_affairs", [P(adult, "郑四", wage=3000, status="就业", status_prev="就业"),
                                       P(adult, "冯四", relation="配偶"), P(child, "郑小四", relation="子女")],
          exit_since="2025-01", benefit=90, expect_category="MARGINAL", expect_alerts=set()),
        # --- pci around S and 1.5·S (not in roster) ---------------------------------------------------
        H("RR-S-1", "rural_revitalization", [P(adult, "陈五", wage=1099, status="就业", status_prev="就业")],
          expect_category="DIBAO", expect_alerts={"DIBAO_OMISSION"}),
        H("RR-S0", "rural_revitalization", [P(adult, "褚五", wage=1100, status="就业", status_prev="就业")],
          expect_category="MARGINAL", expect_alerts={"MARGINAL_OMISSION"}),
        H("RR-15-1", "rural_revitalization", [P(adult, "卫六", wage=1499, status="就业", status_prev="就业")],
          expect_category="MARGINAL", expect_alerts={"MARGINAL_OMISSION"}),
        H("RR-150", "rural_revitalization", [P(adult, "蒋六", wage=1500, status="就业", status_prev="就业")],
          expect_category="NOT_ELIGIBLE", expect_alerts=set()),
        # --- roster 低保 around S and 2·S (gradual exit start / wrongful inclusion) -------------------
        H("CA-S-1", "civil_affairs", [P(adult, "沈七", wage=1099, status="就业", status_prev="就业")],
          benefit=30, expect_category="DIBAO", expect_alerts=set()),
        H("CA-S0", "civil_affairs", [P(adult, "韩七", wage=1100, status="就业", status_prev="就业")],
          benefit=30, expect_category="MARGINAL", expect_alerts={"GRADUAL_EXIT_START"}),
        H("CA-2S-1", "civil_affairs", [P(adult, "杨八", wage=1899, status="就业", status_prev="就业")],
          benefit=30, expect_category="NOT_ELIGIBLE", expect_alerts={"GRADUAL_EXIT_START"}),
        H("CA-2S0", "civil_affairs", [P(adult, "朱八", wage=1900, status="就业", status_prev="就业")],
          benefit=30, expect_category="NOT_ELIGIBLE", expect_alerts={"WRONGFUL_INCLUSION"}),
        # --- assets at exactly 24·S and one fen above -------------------------------------------------
        H("CA-A0", "civil_affairs", [P(adult, "秦九", status="未就业", status_prev="未就业")],
          financial_assets=19200, benefit=800, expect_category="DIBAO", expect_alerts=set()),
        H("CA-A+", "civil_affairs", [P(adult, "尤九", status="未就业", status_prev="未就业")],
          financial_assets=19200.01, benefit=800, expect_category="OVER_ASSETS", expect_alerts={"WRONGFUL_INCLUSION"}),
        # --- TEKUN: age 70 alone, no income; review due exactly on the last day of M ------------------
        H("CA-T70", "civil_affairs", [P(old70, "许十", labor="无")], benefit=1200, last_review="2025-06-30",
          expect_category="TEKUN", expect_alerts={"TEKUN_CANDIDATE", "REVIEW_DUE"}),
        H("CA-T70b", "civil_affairs", [P(old70, "何十", labor="无")], benefit=1200, last_review="2025-07-01",
          expect_category="TEKUN", expect_alerts={"TEKUN_CANDIDATE"}),
        # age 17 alone (minor) vs 18 with labour capacity
        H("CA-17", "civil_affairs", [P("20080701", "吕十一")], benefit=1200,
          expect_category="TEKUN", expect_alerts={"TEKUN_CANDIDATE"}),
        H("CA-18", "civil_affairs", [P("20080630", "施十一")], benefit=800,
          expect_category="DIBAO", expect_alerts=set()),
        # 特困 benefit: 1.3·800 = 1040 expected; paid 1000 is within 10 %, 900 is not
        H("CA-TK-ok", "civil_affairs", [P(old70, "张十二", labor="无")], assistance_type="特困", benefit=1000,
          expect_category="TEKUN", expect_alerts=set()),
        H("CA-TK-low", "civil_affairs", [P(old70, "孔十二", labor="无")], assistance_type="特困", benefit=900,
          expect_category="TEKUN", expect_alerts={"BENEFIT_MISMATCH"}),
        # --- urban zero-employment household (S = 1000) -----------------------------------------------
        H("CA-ZE", "civil_affairs", [P(adult, "曹十三", status="未就业", status_prev="未就业")], region=URBAN,
          urban_rural="城市", benefit=1000, expect_category="DIBAO", expect_alerts={"ZERO_EMPLOYMENT"}),
        # --- relapse: 边缘易致贫户, risk not eliminated, job loss in M (2 shocks with illness) ---------
        H("RR-REL", "rural_revitalization", [P(adult, "严十四", wage=2000, status="失业登记", status_prev="就业",
                                               extra={"health": {"event_type": "重大疾病", "diagnosis": "肺癌", "event_date": "2026-06-10"}}),
                                             P(adult, "华十四", relation="配偶", wage=3500, status="就业", status_prev="就业")],
          rr_category="边缘易致贫户", rr_risk_eliminated="否",
          expect_category="NOT_ELIGIBLE", expect_alerts={"RELAPSE_RISK"}),
        # --- deaths, duplicates, life events ---------------------------------------------------------
        H("CA-DEAD", "civil_affairs", [P(adult, "邹十五", status="未就业", status_prev="未就业"),
                                        P(adult, "喻十五", relation="配偶", extra_prev={"health": {"event_type": "死亡", "event_date": "2026-05-20"}})],
          benefit=800, expect_category="DIBAO", expect_alerts={"DECEASED_RECIPIENT@喻十五"}),
        H("CA-DUP-A", "civil_affairs", [P(adult, "柏十六", status="未就业", status_prev="未就业"), DUP],
          benefit=1600, expect_category="DIBAO", expect_alerts={"DUPLICATE_ASSISTANCE@水十六"}),
        H("CA-DUP-B", "civil_affairs", [P(adult, "窦十六", status="未就业", status_prev="未就业"), DUP],
          benefit=1600, expect_category="DIBAO", expect_alerts={"DUPLICATE_ASSISTANCE@水十六"}),
        H("CA-DROP", "civil_affairs", [P(adult, "章十七", status="未就业", status_prev="未就业"),
                                        P("20110301", "章小七", relation="子女", extra={"education": {
                                            "stage": "初中", "school": "青城镇中学", "enrollment_status": "辍学", "annual_fees": 800, "aid_received": 0}})],
          benefit=2000, expect_category="DIBAO", expect_alerts={"STUDENT_DROPOUT@章小七"}),
        H("RR-HOUSE", "rural_revitalization", [P(adult, "云十八", wage=2000, status="就业", status_prev="就业", extra={"housing": {
                                                 "property_count": 1, "public_rental": "否", "dangerous_house_grade": "D"}})],
          expect_category="NOT_ELIGIBLE", expect_alerts={"DANGEROUS_HOUSE"}),
        H("REG-DIS", "household_registration", [P(adult, "苏十九", extra={"emergency": {
                                                    "disaster_type": "洪涝", "disaster_date": "2026-06-08", "house_damage": "倒塌", "direct_loss": 50000, "aid_paid": 2000}}),
                                                P(adult, "潘十九", relation="配偶")],
          expect_category="DIBAO", expect_alerts={"DISASTER_AFFECTED", "DIBAO_OMISSION"}),
        H("REG-NOSIG", "household_registration", [P(adult, "葛二十"), P(adult, "奚二十", relation="配偶")],
          expect_category=None, expect_alerts=set()),
        H("REG-DEADSIG", "household_registration", [P(adult, "范二一"),
                                                    P("19400101", "彭二一", relation="父母", register_status="死亡注销", extra={"medical_insurance": {
                                                        "settlement_date": "2026-06-02", "total_cost": 1000, "fund_paid": 600,
                                                        "critical_illness_paid": 0, "medical_assistance_paid": 0, "out_of_pocket": 400}})],
          expect_category=None, expect_alerts=set()),
        # --- single-person dibao: serious illness in M-1; 二级 disability in a roster 低保边缘 household --
        H("RR-SP", "rural_revitalization", [P(adult, "郎二二", wage=1900, status="就业", status_prev="就业"),
                                            P(adult, "鲁二二", relation="配偶", extra_prev={"health": {"event_type": "重大疾病", "diagnosis": "白血病", "event_date": "2026-05-03"}})],
          expect_category="MARGINAL", expect_alerts={"MARGINAL_OMISSION", "SINGLE_PERSON_DIBAO@鲁二二"}),
        H("CA-SP", "civil_affairs", [P(adult, "韦二三", wage=1900, status="就业", status_prev="就业"),
                                      P(adult, "昌二三", relation="配偶", labor="无", disability_type="肢体", disability_level="二级")],
          assistance_type="低保边缘", expect_category="MARGINAL", expect_alerts={"SINGLE_PERSON_DIBAO@昌二三"}),
        # --- gradual exit: revert; 24 months when a member is disabled ---------------------------------
        H("CA-REV", "civil_affairs", [P(adult, "马二四", wage=1000, status="就业", status_prev="就业")], exit_since="2026-01",
          benefit=100, expect_category="DIBAO", expect_alerts={"GRADUAL_EXIT_REVERT"}),
        H("CA-EX24", "civil_affairs", [P(adult, "苗二五", wage=2000, status="就业", status_prev="就业", disability_type="听力", disability_level="四级"),
                                        P(adult, "凤二五", relation="配偶")], exit_since="2024-06",
          benefit=100, expect_category="MARGINAL", expect_alerts={"GRADUAL_EXIT_END"}),
        H("CA-EX23", "civil_affairs", [P(adult, "花二五", wage=2000, status="就业", status_prev="就业", disability_type="听力", disability_level="四级"),
                                        P(adult, "方二五", relation="配偶")], exit_since="2024-07",
          benefit=100, expect_category="MARGINAL", expect_alerts=set()),
        # --- relapse shocks at their thresholds --------------------------------------------------------
        H("CA-MED0", "civil_affairs", [P(adult, "俞二六", wage=1300, status="就业", status_prev="就业",
                                         extra_prev={"medical_insurance": _settle("2026-05-10", 10000)},
                                         extra={"medical_insurance": _settle("2026-06-10", 10000)})],
          assistance_type="低保边缘", expect_category="MARGINAL", expect_alerts={"RELAPSE_RISK"}),
        H("CA-MED-1", "civil_affairs", [P(adult, "任二六", wage=1300, status="就业", status_prev="就业",
                                          extra_prev={"medical_insurance": _settle("2026-05-10", 10000)},
                                          extra={"medical_insurance": _settle("2026-06-10", 9999.99)})],
          assistance_type="低保边缘", expect_category="MARGINAL", expect_alerts=set()),
        H("RR-LOW", "rural_revitalization", [P(adult, "袁二七", wage=2000, status="就业", status_prev="就业")], rr_income=7299.99,
          expect_category="NOT_ELIGIBLE", expect_alerts={"RELAPSE_RISK"}),
        H("RR-LOW0", "rural_revitalization", [P(adult, "柳二七", wage=2000, status="就业", status_prev="就业")], rr_income=7300,
          expect_category="NOT_ELIGIBLE", expect_alerts=set()),
        H("RR-DEATH", "rural_revitalization", [P(adult, "酆二八", wage=2000, status="就业", status_prev="就业"),
                                               P("19500101", "鲍二八", relation="父母", extra={"health": {"event_type": "死亡", "event_date": "2026-06-15"}})],
          expect_category="NOT_ELIGIBLE", expect_alerts={"RELAPSE_RISK"}),
        H("RR-LOSS0", "rural_revitalization", [P(adult, "史二九", wage=2000, status="就业", status_prev="就业", extra={"emergency": {
                                                  "disaster_type": "风雹", "disaster_date": "2026-06-18", "house_damage": "一般损坏", "direct_loss": 10000, "aid_paid": 0}})],
          expect_category="NOT_ELIGIBLE", expect_alerts={"RELAPSE_RISK"}),
        H("RR-LOSS-1", "rural_revitalization", [P(adult, "唐二九", wage=2000, status="就业", status_prev="就业", extra={"emergency": {
                                                   "disaster_type": "风雹", "disaster_date": "2026-06-18", "house_damage": "一般损坏", "direct_loss": 9999.99, "aid_paid": 0}})],
          expect_category="NOT_ELIGIBLE", expect_alerts=set()),
        # --- benefit with supplements: 60+ and disabled (0.60), second disabled member (0.55) -----------
        H("CA-SUP-ok", "civil_affairs", [P("19610101", "费三十", status="退休", status_prev="退休", labor="部分", disability_type="视力", disability_level="三级"),
                                          P(adult, "廉三十", relation="子女", status="未就业", status_prev="未就业", disability_type="听力", disability_level="四级")],
          benefit=2520, expect_category="DIBAO", expect_alerts=set()),
        H("CA-SUP-low", "civil_affairs", [P("19610101", "岑三十", status="退休", status_prev="退休", labor="部分", disability_type="视力", disability_level="三级"),
                                           P(adult, "薛三十", relation="子女", status="未就业", status_prev="未就业", disability_type="听力", disability_level="四级")],
          benefit=2200, expect_category="DIBAO", expect_alerts={"BENEFIT_MISMATCH"}),
        # --- urban household whose only working-age member is a student: not zero-employment ----------
        H("CA-STU", "civil_affairs", [P("20060101", "雷三一", status="未就业", status_prev="未就业", extra={"education": {
                                          "stage": "高校", "school": "淄博职业学院", "enrollment_status": "在读", "annual_fees": 6000, "aid_received": 2000}})],
          region=URBAN, urban_rural="城市", benefit=1000, expect_category="DIBAO", expect_alerts=set()),
        # --- 特困 with income: wrongful inclusion ---------------------------------------------------------
        H("CA-TK-inc", "civil_affairs", [P("19500101", "贺三二", pension=500, status="退休", status_prev="退休", labor="无")],
          assistance_type="特困", benefit=1040, expect_category="DIBAO", expect_alerts={"WRONGFUL_INCLUSION"}),
    ]


EMPLOYED = ("就业", "灵活就业")


def tables_for(month: str, hhs: list[Household]) -> dict[str, list[dict]]:
    """The ten sources of one month for these households (M-1 carries hr only)."""
    t: dict[str, list[dict]] = {s: [] for s in (
        "civil_affairs_households", "civil_affairs_members", "hr", "rural_revitalization",
        "education", "housing", "health", "medical_insurance", "emergency", "household_registration")}
    cur = month == M
    for h in hhs:
        if h.source == "civil_affairs":
            t["civil_affairs_households"].append(dict(
                household_id=h.key, region_code=h.region, urban_rural=h.urban_rural, assistance_type=h.assistance_type,
                since_month=h.since_month, gradual_exit_since=h.exit_since, monthly_benefit=h.benefit,
                other_income=h.other_income, financial_assets=h.financial_assets, last_review_date=h.last_review))
        for p in h.people:
            if h.source == "civil_affairs":
                t["civil_affairs_members"].append(dict(
                    household_id=h.key, id_number=p.id, name=p.name, relation=p.relation,
                    disability_type=p.disability_type, disability_level=p.disability_level, labor_capacity=p.labor))
            elif h.source == "rural_revitalization":
                t["rural_revitalization"].append(dict(
                    rr_household_id=h.key, region_code=h.region, id_number=p.id, name=p.name, relation=p.relation,
                    category=h.rr_category, risk_eliminated=h.rr_risk_eliminated,
                    annual_net_income_per_capita=h.rr_income, other_income=h.other_income))
            elif h.source == "household_registration":
                t["household_registration"].append(dict(
                    id_number=p.id, name=p.name, hukou_id=h.key, relation=p.relation, region_code=h.region,
                    urban_rural=h.urban_rural, status=p.register_status))
            status = p.status if cur else p.status_prev
            if status or p.pension:
                t["hr"].append(dict(id_number=p.id, name=p.name, employment_status=status or "退休",
                                    monthly_wage=p.wage if status in EMPLOYED else None, monthly_pension=p.pension))
            for source, row in (p.extra if cur else p.extra_prev).items():
                t[source].append(dict(id_number=p.id, name=p.name, **row))
    return t
