"""Independent implementation of rules.md over the planted state (the ground truth).

Input: for each month, the records that the landing files say after normalization
(quarantined rows removed, refused files absent, duplicates once, linkable typos
under the true ID). Records are tuples in the canonical column order of
columns.py; amounts are integer cents (None = empty), dates are datetime.date.

Exact arithmetic throughout: amounts in cents, multipliers scaled by 100.
Nothing here is shared with the pipeline (assets/, sql/, pipelines/).
"""
from __future__ import annotations

import calendar
import hashlib
import math
from collections import defaultdict
from datetime import date
from fractions import Fraction

from .columns import VETERAN_GRADES
from .ids import add_months
from .params import month_add, month_diff, vparam

HIGH, MID, LOW = "高", "中", "低"
PRIORITY = {
    "TEKUN_CANDIDATE": HIGH, "DIBAO_OMISSION": HIGH, "DECEASED_RECIPIENT": HIGH,
    "DISASTER_AFFECTED": HIGH,
    "MARGINAL_OMISSION": MID, "EXPENDITURE_HARDSHIP": MID, "SINGLE_PERSON_DIBAO": MID,
    "GRADUAL_EXIT_START": MID, "GRADUAL_EXIT_REVERT": MID, "GRADUAL_EXIT_END": MID,
    "WRONGFUL_INCLUSION": MID,
    "BENEFIT_MISMATCH": LOW, "ZERO_EMPLOYMENT": LOW, "STUDENT_DROPOUT": LOW,
    "DANGEROUS_HOUSE": LOW, "REVIEW_DUE": LOW, "DUPLICATE_ASSISTANCE": LOW,
}
ALERT_TYPES = list(PRIORITY) + ["RELAPSE_RISK"]
CATEGORIES = ["OVER_ASSETS", "TEKUN", "DIBAO", "MARGINAL", "EXPENDITURE", "NOT_ELIGIBLE", "PENDING"]

CA, RR, HR_SRC = "civil_affairs", "rural_revitalization", "household_registration"

# rules.md "Incomplete months"
ROSTER = ("civil_affairs_households", "civil_affairs_members")
DEPARTMENTS = ("education", "hr", "housing", "health", "medical_insurance", "emergency",
               "rural_revitalization")
OPTIONAL = ("household_registration",)   # counts only once delivered in an earlier month
OMISSION = ("TEKUN_CANDIDATE", "DIBAO_OMISSION", "MARGINAL_OMISSION", "EXPENDITURE_HARDSHIP",
            "SINGLE_PERSON_DIBAO")
# continuing types: the sources each reads (withheld, not resolved, when one is undelivered)
READS = {
    "WRONGFUL_INCLUSION": ("hr", "housing"),
    "RELAPSE_RISK": ("health", "medical_insurance", "emergency", "hr", "education",
                     "rural_revitalization"),
    "DECEASED_RECIPIENT": ("health", "household_registration"),
    "DANGEROUS_HOUSE": ("housing",),
    "STUDENT_DROPOUT": ("education",),
    "DISASTER_AFFECTED": ("emergency",),
}


# rules-variants.md r3: the reason codes of SINGLE_PERSON_DIBAO, in this order
SPD_REASONS = ("SEVERE_DISABILITY", "MAJOR_ILLNESS", "CRITICAL_ILLNESS_CLAIM", "VETERAN_DISABILITY",
               "PREFERENTIAL")
# rules.md RELAPSE_RISK shocks, in the table's order
SHOCKS = ("ILLNESS", "MEDICAL_COST", "DISASTER", "JOB_LOSS", "DEATH", "DROPOUT", "LOW_INCOME")
PRE_EXIT_UNKNOWN = "PRE_EXIT_BENEFIT_UNKNOWN"
DECISIONS = "civil_affairs_decisions"
GRADE = {g: i + 1 for i, g in enumerate(VETERAN_GRADES)}
CARE = {"全自理": "self", "半护理": "partial", "全护理": "full"}


def opt(r, i):
    """An optional trailing column of a record (rules-variants.md B.2): None when the record was
    made without it (a file without the header)."""
    return r[i] if len(r) > i else None


def frac(v) -> Fraction:
    return Fraction(str(v))


def reason_codes(sources) -> str:
    return ",".join(f"SOURCE_NOT_DELIVERED:{s}" for s in sorted(sources))


def x100(v) -> int:
    return int(round(float(v) * 100))


def last_day(ym: str) -> date:
    y, m = int(ym[:4]), int(ym[5:7])
    return date(y, m, calendar.monthrange(y, m)[1])


def age_on(idn: str, d: date) -> int:
    by, bm, bd = int(idn[6:10]), int(idn[10:12]), int(idn[12:14])
    a = d.year - by
    if (d.month, d.day) < (bm, bd):
        a -= 1
    return a


def no_labour_by_disability(dtype, dlevel, labour) -> bool:
    if labour == "无":
        return True
    if dlevel is None:
        return False
    if dtype == "肢体" and dlevel in ("一级", "二级"):
        return True
    if dtype == "视力" and dlevel == "一级":
        return True
    if dtype in ("智力", "精神") and dlevel in ("一级", "二级", "三级"):
        return True
    if dtype == "多重" and dlevel in ("一级", "二级"):
        return True
    return False


class Params:
    def __init__(self, p: dict):
        y = lambda k: x100(p[k])  # yuan -> cents
        self.S = {"城市": y("dibao_standard_urban"), "农村": y("dibao_standard_rural")}
        self.ceiling = {"城市": y("expenditure_income_ceiling_urban"),
                        "农村": y("expenditure_income_ceiling_rural")}
        self.marg = x100(p["marginal_multiplier"])
        self.asset_months = x100(p["asset_months"])
        self.max_prop = int(p["max_properties"])
        self.deduct = y("employment_cost_deduction")
        self.ge_ceiling = x100(p["gradual_exit_ceiling_multiplier"])
        self.ge_months = int(p["gradual_exit_months"])
        self.ge_months_dis = int(p["gradual_exit_months_disabled"])
        self.tekun = x100(p["tekun_multiplier"])
        self.topup = y("min_topup_per_person")
        self.sup_severe = x100(p["supplement_severe"])
        self.sup_multi = x100(p["supplement_multi_disabled"])
        self.sup_em = x100(p["supplement_elderly_minor"])
        self.med_shock = y("medical_shock_12m")
        self.dis_shock = y("disaster_loss_shock")
        self.relapse = y("relapse_income_threshold")
        self.cyc_stable = int(p["review_cycle_months_stable"])
        self.cyc_unstable = int(p["review_cycle_months_unstable"])
        self.audit_rate = frac(p["audit_sample_rate"])
        # rules-variants.md B.1 (absent = default)
        v = lambda k: vparam(p, k)
        f = lambda k: None if v(k) is None else frac(v(k))
        self.t_urban, self.t_rural, self.t_central = (f("tekun_multiplier_urban"), f("tekun_multiplier_rural"),
                                                      f("tekun_multiplier_centralized"))
        self.care = {k: frac(v("tekun_care_" + k)) * 100 for k in ("self", "partial", "full")}  # cents
        self.disregard = v("support_income_disregard")
        self.l3 = v("severe_disability_level3_intellectual_mental")
        self.sp_claim = v("single_person_critical_illness_claim")
        self.sp_vet = v("single_person_veteran_max_grade")
        self.sp_pref = v("single_person_preferential")
        self.age_elderly = v("supplement_elderly_age")
        self.age_minor = v("supplement_minor_age")
        self.age_ed = v("supplement_elderly_disabled_age")
        self.sup_vet = v("supplement_veteran_max_grade")
        self.sup_pref = frac(v("supplement_preferential"))
        self.ge_red = f("gradual_exit_annual_reduction")
        self.ge_offset = v("gradual_exit_reduction_offset")
        self.basis_review = v("dibao_benefit_basis") == "last_review_month"
        self.audit_per_town = v("audit_per_town")
        self.audit_rejected = v("audit_include_rejected")


class MonthInput:
    """What the landing files of one month say (for one chunk of households).

    `present`: the sources *delivered* in the month (rules.md "Incomplete months"): the file
    was accepted and it has no data row or at least one accepted row (after ID linking)."""
    __slots__ = ("month", "params", "present", "households", "members", "register", "education",
                 "hr", "housing", "health", "medical", "emergency", "rr", "decisions", "county_params")

    def __init__(self, month, params, county_params=None):
        self.month = month
        self.params = params
        # a prefecture: {county code: the period of M} (a household is judged with the parameters
        # of the county of its region code, the first 6 digits); None: `params` for every household
        self.county_params = county_params
        self.present = set()
        self.households = []
        self.members = []
        self.register = []
        self.education = []
        self.hr = []
        self.housing = []
        self.health = []
        self.medical = []
        self.emergency = []
        self.rr = []
        self.decisions = []


class History:
    def __init__(self):
        self.dead = set()          # health 死亡 in any landed month so far
        self.ill = set()           # 重大疾病 in any landed month so far
        self.oop = {}              # month -> {id: cents}
        self.prev_month = None
        self.prev_hr = None        # {id: status} of M-1 when M-1 hr was delivered
        self.reg_seen = False      # household_registration delivered in an earlier month
        # (source, household, type) -> {alert key: first month}: the keys raised in the latest
        # earlier month in which the type was not withheld for the household (status, alive)
        self.alive = {}
        # rules-variants.md
        self.crit = set()          # a 大病保险 settlement (> 0) in any landed month so far (r3)
        self.benefit = {}          # run month -> {roster household: 月保障金额} (r5)
        self.pci = {}              # run month -> {roster household: stored pci, cents} when hr delivered (r6)


def undelivered(mi: MonthInput, hist: History) -> set:
    """Sources undelivered in M that count for withholding (the roster never does: without
    it the month is not run at all)."""
    u = {s for s in DEPARTMENTS if s not in mi.present}
    if hist.reg_seen:
        u.update(s for s in OPTIONAL if s not in mi.present)
    return u


def skip_month(mi: MonthInput, hist: History):
    """A month without the bureau's roster: the run stops (interface.md), nothing is published.
    Later months see it as a month with no alert and nothing withheld; the facts of the other
    sources still count as delivered history (deaths, illness, out-of-pocket, hr of M-1)."""
    evaluate(mi, hist, run=False)
    hist.alive = {}


def evaluate(mi: MonthInput, hist: History, run: bool = True):
    """Return (determinations, alerts, withheld) of one month and advance the history.

    determinations: (source, household, category, reason codes); alerts: (source, household,
    type, member, priority, status, first month, reasons); withheld: (source, household, type,
    undelivered sources it waits for, sorted and comma-separated, or PRE_EXIT_BENEFIT_UNKNOWN).
    run=False: a month whose run stopped (no roster): its facts are history, its roster is not
    (rules-variants.md r5/r6 read only months that were run)."""
    M = mi.month
    P = P0 = Params(mi.params)
    PC = {c: Params(p) for c, p in mi.county_params.items()} if mi.county_params else None
    end = last_day(M)

    # one row per person in these sources; if a person had two, the first would count
    hr = {r[0]: r for r in reversed(mi.hr)}
    edu = {r[0]: r for r in reversed(mi.education)}
    housing = {r[0]: r for r in reversed(mi.housing)}
    ill_m, death_m = set(), set()
    for r in mi.health:
        if r[2] == "重大疾病":
            ill_m.add(r[0])
        elif r[2] == "死亡":
            death_m.add(r[0])
    hist.dead |= death_m
    hist.ill |= ill_m
    oop_m = defaultdict(int)
    if "medical_insurance" in mi.present:
        for r in mi.medical:
            oop_m[r[0]] += r[7]
            if r[5] > 0:
                hist.crit.add(r[0])
        hist.oop[M] = oop_m
    window = [hist.oop[k] for k in (month_add(M, -i) for i in range(12)) if k in hist.oop]
    emerg = defaultdict(list)
    for r in mi.emergency:
        emerg[r[0]].append(r)
    dead = set(hist.dead)
    for r in mi.register:
        if r[6] == "死亡注销":
            dead.add(r[0])
    prev_hr = hist.prev_hr if hist.prev_month == month_add(M, -1) else None

    # ---- households considered -------------------------------------------------
    hh_rows = {}
    for r in mi.households:
        hh_rows.setdefault(r[0], r)
    roster_members = defaultdict(dict)  # hid -> {id: member row}
    for r in mi.members:
        if r[0] in hh_rows:
            roster_members[r[0]].setdefault(r[1], r)
    listings = defaultdict(int)
    for hid, ms in roster_members.items():
        for pid in ms:
            listings[pid] += 1
    roster_persons = set(listings)

    rr_groups = defaultdict(list)
    for r in mi.rr:
        rr_groups[r[0]].append(r)
    rr_households = {}
    for rid, rows in rr_groups.items():
        ids = {r[2] for r in rows}
        if ids & roster_persons:
            continue
        heads = [r for r in rows if r[4] == "户主"]
        hrow = heads[0] if heads else min(rows, key=lambda r: r[2])
        rr_households[rid] = (hrow, sorted(ids))
    rr_persons = set()
    for hrow, ids in rr_households.values():
        rr_persons.update(ids)

    reg_groups = defaultdict(list)
    for r in mi.register:
        reg_groups[r[2]].append(r)
    signal = set()
    for pid, r in hr.items():
        if r[2] in ("失业登记", "未就业"):
            signal.add(pid)
    for r in mi.medical:
        signal.add(r[0])
    for r in mi.health:
        signal.add(r[0])
    signal |= set(emerg)
    for pid, r in edu.items():
        if r[4] == "辍学":
            signal.add(pid)
    for pid, r in housing.items():
        if r[5] in ("C", "D"):
            signal.add(pid)

    considered = []  # (source, hid, ur, listed ids, member rows by id or None, other, fa, roster row, rr head row)
    reg_region = {}  # registered household -> its region code (its head's)
    for hid in sorted(hh_rows):
        row = hh_rows[hid]
        ms = roster_members.get(hid, {})
        considered.append((CA, hid, row[2], sorted(ms), ms, row[7] or 0, row[8], row, None))
    for rid in sorted(rr_households):
        hrow, ids = rr_households[rid]
        considered.append((RR, rid, "农村", ids, None, hrow[8] or 0, None, None, hrow))
    excluded = roster_persons | rr_persons
    for hk in sorted(reg_groups):
        rows = reg_groups[hk]
        if any(r[0] in excluded for r in rows):
            continue
        normal = [r for r in rows if r[6] == "正常"]
        if not normal:
            continue
        if not any(r[0] in signal for r in normal):
            continue
        heads = [r for r in normal if r[3] == "户主"]
        h = heads[0] if heads else min(normal, key=lambda r: r[0])
        ids = sorted({r[0] for r in normal})
        reg_region[hk] = h[4]
        considered.append((HR_SRC, hk, h[5], ids, None, 0, None, None, None))

    U = undelivered(mi, hist)
    hr_u = "hr" in U
    housing_u = "housing" in U
    pend_hh = tuple(sorted({"hr", "housing"} & U))
    pend_exp = tuple(sorted({"medical_insurance", "education"} & U))
    zero_u = tuple(sorted({"hr", "education"} & U))

    dets, alerts = [], []
    withheld = {}

    def alert(src, hid, typ, member="", prio=None, reasons=""):
        alerts.append((src, hid, typ, member, prio or PRIORITY[typ], reasons))

    def withhold(src, hid, typ, sources):
        withheld[(src, hid, typ)] = ",".join(sorted(sources))

    for src, hid, ur, listed, mrows, other, fa, hrow, rrrow in considered:
        if PC is not None:
            region = hrow[1] if hrow is not None else rrrow[1] if rrrow is not None else reg_region[hid]
            P = PC.get(region[:6], P0)
        if src == CA:
            for pid in listed:
                if pid in dead:
                    alert(src, hid, "DECEASED_RECIPIENT", pid)
            for pid in listed:
                if listings[pid] >= 2:
                    alert(src, hid, "DUPLICATE_ASSISTANCE", pid)
        living = [p for p in listed if p not in dead]
        n = len(living)
        if n == 0:
            continue
        S = P.S[ur]
        ages = {p: age_on(p, end) for p in living}
        disabled = {p for p in living if mrows is not None and mrows[p][5] is not None}
        rtype = hrow[3] if hrow is not None else None
        # rules-variants.md r2: support income of roster 低保 / 低保边缘 not counted
        disregard = 0
        if P.disregard and rtype in ("低保", "低保边缘"):
            disregard = min(other, opt(hrow, 11) or 0)
        pinc = 0
        deduct = 0
        employed = False
        for p in living:
            r = hr.get(p)
            if r is None:
                continue
            w = r[3] or 0
            pinc += w + (r[4] or 0) + (r[5] or 0)
            if w > 0:
                deduct += min(w, P.deduct)
            if r[2] in ("就业", "灵活就业"):
                employed = True
        income = pinc - deduct + other - disregard
        income_before = pinc + other
        props = sum((housing[p][2] or 0) for p in living if p in housing)
        fa_ok = fa is None or fa * 100 <= P.asset_months * S * n
        # properties are unknown (treated as OK) when housing is undelivered
        assets_ok = fa_ok and (housing_u or props <= P.max_prop)
        oop = 0
        for p in living:
            for w in window:
                oop += w.get(p, 0)
        fees = 0
        for p in living:
            e = edu.get(p)
            if e is not None and e[4] == "在读":
                fees += max(0, (e[5] or 0) - (e[6] or 0))
        rigid_total = oop + fees

        def tekun_person(p):
            a = ages[p]
            if a >= 60 or a < 18:
                return True
            if mrows is not None:
                m = mrows[p]
                return no_labour_by_disability(m[4], m[5], m[6])
            return False

        pending = ()
        if not assets_ok:
            cat = "OVER_ASSETS"
        elif pend_hh:
            cat, pending = "PENDING", pend_hh
        elif income_before == 0 and all(tekun_person(p) for p in living):
            cat = "TEKUN"
        elif income < S * n:
            cat = "DIBAO"
        elif income * 100 < P.marg * S * n:
            cat = "MARGINAL"
        elif income < P.ceiling[ur] * n and 12 * income - rigid_total < 12 * S * n:
            cat = "EXPENDITURE"
        elif income < P.ceiling[ur] * n and pend_exp:
            cat, pending = "PENDING", pend_exp
        else:
            cat = "NOT_ELIGIBLE"
        dets.append((src, hid, cat, reason_codes(pending)))
        if pending:
            for t in OMISSION:
                withhold(src, hid, t, pending)

        if src == CA and run and not hr_u:
            # the pci the determination stores (rounded to the cent), for r6 in later months
            hist.pci.setdefault(M, {})[hid] = (2 * income + n) // (2 * n)

        def severe(p):
            """rules-variants.md r3: 重度残疾 (roster members only)."""
            if mrows is None:
                return False
            m = mrows[p]
            return m[5] in ("一级", "二级") or (P.l3 and m[5] == "三级" and m[4] in ("智力", "精神"))

        def vet(p):
            return GRADE.get(opt(mrows[p], 8)) if mrows is not None else None

        if cat == "TEKUN" and rtype != "特困":
            alert(src, hid, "TEKUN_CANDIDATE")
        if cat == "DIBAO" and rtype not in ("低保", "特困"):
            alert(src, hid, "DIBAO_OMISSION")
        if cat == "MARGINAL" and src != CA:
            alert(src, hid, "MARGINAL_OMISSION")
        if cat == "EXPENDITURE" and src != CA:
            alert(src, hid, "EXPENDITURE_HARDSHIP")
        if cat == "MARGINAL" and rtype not in ("低保", "特困"):
            for p in living:
                why = []
                if severe(p):
                    why.append("SEVERE_DISABILITY")
                if p in hist.ill:
                    why.append("MAJOR_ILLNESS")
                if P.sp_claim and p in hist.crit:
                    why.append("CRITICAL_ILLNESS_CLAIM")
                g = vet(p)
                if P.sp_vet is not None and g is not None and g <= P.sp_vet:
                    why.append("VETERAN_DISABILITY")
                if P.sp_pref and mrows is not None and opt(mrows[p], 10) == "是":
                    why.append("PREFERENTIAL")
                if why:
                    alert(src, hid, "SINGLE_PERSON_DIBAO", p, reasons=",".join(why))

        # relapse risk
        monitored = False
        if src == RR:
            monitored = rrrow[5] == "脱贫户" or rrrow[6] == "否"
        elif rtype in ("低保边缘", "支出型困难"):
            monitored = True
        if monitored:
            sh = []
            if any(p in ill_m for p in listed):
                sh.append("ILLNESS")
            if oop >= P.med_shock:
                sh.append("MEDICAL_COST")
            if any(r[4] in ("倒塌", "严重损坏") or (r[5] or 0) >= P.dis_shock
                   for p in listed for r in emerg.get(p, ())):
                sh.append("DISASTER")
            if prev_hr is not None and any(
                    prev_hr.get(p) in ("就业", "灵活就业") and p in hr and hr[p][2] in ("失业登记", "未就业")
                    for p in listed):
                sh.append("JOB_LOSS")
            if any(p in death_m for p in listed):
                sh.append("DEATH")
            if any(p in edu and edu[p][4] == "辍学" for p in listed):
                sh.append("DROPOUT")
            if src == RR and rrrow[7] is not None and rrrow[7] < P.relapse:
                sh.append("LOW_INCOME")
            if sh:
                prio = HIGH if (len(sh) >= 2 or cat in ("DIBAO", "TEKUN")) else MID
                alert(src, hid, "RELAPSE_RISK", "", prio, ",".join(sh))

        if src == CA:
            in_exit = hrow[5] is not None
            exit_m = None      # r5: months into exit while the amount is checked (0 <= m < L)
            pci_r = None       # r6: the pci stored in the review month R
            if rtype == "低保":
                if in_exit and P.ge_red is not None:
                    k = month_diff(hrow[5], M)
                    if 0 <= k < (P.ge_months_dis if disabled else P.ge_months):
                        exit_m = k
                if not in_exit and P.basis_review:
                    R = f"{hrow[9].year:04d}-{hrow[9].month:02d}"
                    if R < M:
                        pci_r = hist.pci.get(R, {}).get(hid)
                if pend_hh:
                    withhold(src, hid, "GRADUAL_EXIT_START", pend_hh)
                elif not in_exit and S * n <= income and income * 100 < P.ge_ceiling * S * n and assets_ok:
                    alert(src, hid, "GRADUAL_EXIT_START")
                if hr_u:
                    # the exit amount (r5) reads the roster only; a frozen pci (r6) does not need hr in M
                    for t in ("GRADUAL_EXIT_REVERT", "GRADUAL_EXIT_END", "BENEFIT_MISMATCH"):
                        if t != "BENEFIT_MISMATCH" or (exit_m is None and pci_r is None):
                            withhold(src, hid, t, ("hr",))
                if in_exit and income < S * n and not hr_u:
                    alert(src, hid, "GRADUAL_EXIT_REVERT")
                if in_exit and income >= S * n and not hr_u:
                    limit = P.ge_months_dis if disabled else P.ge_months
                    if month_diff(hrow[5], M) >= limit:
                        alert(src, hid, "GRADUAL_EXIT_END")
                if income * 100 >= P.ge_ceiling * S * n or not assets_ok:
                    alert(src, hid, "WRONGFUL_INCLUSION")
            elif rtype == "特困":
                if income_before > 0 or not assets_ok:
                    alert(src, hid, "WRONGFUL_INCLUSION")
            elif rtype == "低保边缘":
                if income * 100 >= P.marg * S * n or not assets_ok:
                    alert(src, hid, "WRONGFUL_INCLUSION")
            # benefit (exact, in cents)
            expected = None
            why = ""
            if rtype == "低保" and not in_exit and (not hr_u or pci_r is not None):
                if pci_r is None:
                    expected = Fraction(max(S * n - income, P.topup * n))
                else:
                    expected = Fraction(max(S - pci_r, P.topup) * n)
                for p in living:
                    a = ages[p]
                    lvl = mrows[p][5]
                    rate = Fraction(0)
                    g = vet(p)
                    if (severe(p) or (P.sup_vet is not None and g is not None and g <= P.sup_vet)
                            or p in hist.ill or (P.age_ed is not None and a >= P.age_ed and lvl is not None)):
                        rate = max(rate, Fraction(P.sup_severe, 100))
                    if lvl is not None and len(disabled) >= 2:
                        rate = max(rate, Fraction(P.sup_multi, 100))
                    if a >= P.age_elderly or a < P.age_minor:
                        rate = max(rate, Fraction(P.sup_em, 100))
                    if opt(mrows[p], 9) is not None:
                        rate = max(rate, P.sup_pref)
                    expected += rate * S
            elif rtype == "低保" and exit_m is not None:
                B = opt(hrow, 12)
                if B is None:
                    B = hist.benefit.get(month_add(hrow[5], -1), {}).get(hid)
                if B is None:
                    withhold(src, hid, "BENEFIT_MISMATCH", (PRE_EXIT_UNKNOWN,))
                else:
                    cut = P.ge_red * (exit_m // 12 + P.ge_offset)
                    expected = B * max(Fraction(0), 1 - cut)
                    why = "GRADUAL_EXIT_AMOUNT"
            elif rtype == "特困":
                t = Fraction(P.tekun, 100)
                mode = opt(hrow, 10)
                by_ur = P.t_urban if ur == "城市" else P.t_rural
                if P.t_central is not None and mode == "集中供养":
                    t = P.t_central
                elif by_ur is not None:
                    t = by_ur
                expected = t * S * n
                for p in living:
                    c = CARE.get(opt(mrows[p], 7))
                    if c:
                        expected += P.care[c]
            if expected is not None:
                diff = abs(hrow[6] - expected)
                if diff > 1000 and diff * 10 > expected:
                    alert(src, hid, "BENEFIT_MISMATCH", reasons=why)
            able = [p for p in living if 18 <= ages[p] <= 59 and mrows[p][6] == "有"]
            if ur == "城市" and zero_u:
                withhold(src, hid, "ZERO_EMPLOYMENT", zero_u)
            elif ur == "城市" and not employed:
                if any(not (p in edu and edu[p][4] == "在读") for p in able):
                    alert(src, hid, "ZERO_EMPLOYMENT")
            cycle = P.cyc_stable if (rtype == "特困" or not able) else P.cyc_unstable
            if add_months(hrow[9], cycle) <= end:
                alert(src, hid, "REVIEW_DUE")
        if src in (CA, RR):
            for p in living:
                if p in edu and edu[p][4] == "辍学":
                    alert(src, hid, "STUDENT_DROPOUT", p)
            if any(p in housing and housing[p][5] in ("C", "D") for p in living):
                alert(src, hid, "DANGEROUS_HOUSE")
        if any(r[4] in ("倒塌", "严重损坏") for p in living for r in emerg.get(p, ())):
            alert(src, hid, "DISASTER_AFFECTED")

    # de-duplicate (same household, type, member)
    seen = {}
    for a in alerts:
        seen.setdefault(a[:4], a)
    # continuing types alive for a household and not raised in M: withheld, not resolved,
    # when a source they read is undelivered
    for hk, keys in hist.alive.items():
        reads = READS.get(hk[2])
        if reads is None or hk in withheld:
            continue
        miss = U.intersection(reads)
        if miss and any(k not in seen for k in keys):
            withhold(hk[0], hk[1], hk[2], miss)
    # status across gaps: 持续 when raised in the latest earlier month in which the type was
    # not withheld for the household (hist.alive), keeping that alert's first month
    out = []
    for key, a in seen.items():
        first = hist.alive.get(key[:3], {}).get(key)
        out.append(a[:5] + (("持续", first) if first else ("新增", M)) + a[5:])
    alive = {hk: v for hk, v in hist.alive.items() if hk in withheld}
    for a in out:
        hk = a[:3]
        if hk not in withheld:
            alive.setdefault(hk, {})[a[:4]] = a[6]
    hist.alive = alive
    if run:
        hist.benefit[M] = {hid: r[6] for hid, r in hh_rows.items()}
    hist.prev_month = M
    hist.prev_hr = {p: r[2] for p, r in hr.items()} if "hr" in mi.present else None
    if "household_registration" in mi.present:
        hist.reg_seen = True
    wh = [k + (v,) for k, v in sorted(withheld.items())]
    return dets, out, wh


# ---------------------------------------------------------------------------------------------
# audit sample (rules.md "Audit sample", rules-variants.md r7)
# ---------------------------------------------------------------------------------------------

def audit_population(mi: MonthInput) -> dict:
    """P of month M: {household_id: (source, region_code)}. The roster households whose
    保障开始月份 is M (`approved`, region of the roster) and, with audit_include_rejected and
    civil_affairs_decisions delivered in M, every 家庭编号 with a 未通过 decision dated in M that
    is not approved (`rejected`; region of M's roster if it lists the household, else the
    decision's, the smallest if its decisions name several)."""
    P = Params(mi.params)
    M = mi.month
    rows = {}
    for r in mi.households:
        rows.setdefault(r[0], r)
    pop = {hid: ("approved", r[1]) for hid, r in rows.items() if r[4] == M}
    if P.audit_rejected and DECISIONS in mi.present:
        rej = {}
        for r in mi.decisions:
            hid = r[0]
            if r[3] != "未通过" or hid in pop or (r[4].year, r[4].month) != (int(M[:4]), int(M[5:7])):
                continue
            reg = rows[hid][1] if hid in rows else r[1]
            rej[hid] = min(rej.get(hid, reg), reg)
        for hid, reg in rej.items():
            pop[hid] = ("rejected", reg)
    return pop


def merge_population(acc: dict, pop: dict):
    """Union of the populations of two chunks of one month: a household approved anywhere is
    approved."""
    for hid, v in pop.items():
        old = acc.get(hid)
        if old is None or (old[0] == "rejected" and v[0] == "approved"):
            acc[hid] = v
        elif old[0] == v[0] == "rejected":
            acc[hid] = min(old, v)


def draw_audit(M: str, pop: dict, params: dict):
    """-> [(household_id, size of the population drawn from, source, town_code)] in SHA-256
    order of `M|household_id`: ceil(rate·|P|) of P, or (audit_per_town) ceil(rate·|P_t|) of each
    town's P_t (town = the first 9 digits of the region code)."""
    P = Params(params)
    groups = defaultdict(list)
    for hid, (src, reg) in pop.items():
        groups[reg[:9] if P.audit_per_town else None].append(hid)
    out = []
    for ids in groups.values():
        ids.sort(key=lambda h: hashlib.sha256(f"{M}|{h}".encode()).hexdigest())
        k = math.ceil(P.audit_rate * len(ids))
        out.extend((h, len(ids), pop[h][0], pop[h][1][:9]) for h in ids[:k])
    out.sort(key=lambda r: hashlib.sha256(f"{M}|{r[0]}".encode()).hexdigest())
    return out
