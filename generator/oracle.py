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
from collections import defaultdict
from datetime import date

from .ids import add_months
from .params import month_add, month_diff

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


class MonthInput:
    """What the landing files of one month say (for one chunk of households).

    `present`: the sources *delivered* in the month (rules.md "Incomplete months"): the file
    was accepted and it has no data row or at least one accepted row (after ID linking)."""
    __slots__ = ("month", "params", "present", "households", "members", "register", "education",
                 "hr", "housing", "health", "medical", "emergency", "rr")

    def __init__(self, month, params):
        self.month = month
        self.params = params
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
    evaluate(mi, hist)
    hist.alive = {}


def evaluate(mi: MonthInput, hist: History):
    """Return (determinations, alerts, withheld) of one month and advance the history.

    determinations: (source, household, category, reason codes); alerts: (source, household,
    type, member, priority, status, first month); withheld: (source, household, type,
    undelivered sources it waits for, sorted and comma-separated)."""
    M = mi.month
    P = Params(mi.params)
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
        considered.append((HR_SRC, hk, h[5], ids, None, 0, None, None, None))

    U = undelivered(mi, hist)
    hr_u = "hr" in U
    housing_u = "housing" in U
    pend_hh = tuple(sorted({"hr", "housing"} & U))
    pend_exp = tuple(sorted({"medical_insurance", "education"} & U))
    zero_u = tuple(sorted({"hr", "education"} & U))

    dets, alerts = [], []
    withheld = {}

    def alert(src, hid, typ, member="", prio=None):
        alerts.append((src, hid, typ, member, prio or PRIORITY[typ]))

    def withhold(src, hid, typ, sources):
        withheld[(src, hid, typ)] = ",".join(sorted(sources))

    for src, hid, ur, listed, mrows, other, fa, hrow, rrrow in considered:
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
        income = pinc - deduct + other
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

        rtype = hrow[3] if hrow is not None else None
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
                severe = mrows is not None and mrows[p][5] in ("一级", "二级")
                if severe or p in hist.ill:
                    alert(src, hid, "SINGLE_PERSON_DIBAO", p)

        # relapse risk
        monitored = False
        if src == RR:
            monitored = rrrow[5] == "脱贫户" or rrrow[6] == "否"
        elif rtype in ("低保边缘", "支出型困难"):
            monitored = True
        if monitored:
            shocks = 0
            if any(p in ill_m for p in listed):
                shocks += 1
            if oop >= P.med_shock:
                shocks += 1
            if any(r[4] in ("倒塌", "严重损坏") or (r[5] or 0) >= P.dis_shock
                   for p in listed for r in emerg.get(p, ())):
                shocks += 1
            if prev_hr is not None and any(
                    prev_hr.get(p) in ("就业", "灵活就业") and p in hr and hr[p][2] in ("失业登记", "未就业")
                    for p in listed):
                shocks += 1
            if any(p in death_m for p in listed):
                shocks += 1
            if any(p in edu and edu[p][4] == "辍学" for p in listed):
                shocks += 1
            if src == RR and rrrow[7] is not None and rrrow[7] < P.relapse:
                shocks += 1
            if shocks:
                prio = HIGH if (shocks >= 2 or cat in ("DIBAO", "TEKUN")) else MID
                alert(src, hid, "RELAPSE_RISK", "", prio)

        if src == CA:
            in_exit = hrow[5] is not None
            if rtype == "低保":
                if pend_hh:
                    withhold(src, hid, "GRADUAL_EXIT_START", pend_hh)
                elif not in_exit and S * n <= income and income * 100 < P.ge_ceiling * S * n and assets_ok:
                    alert(src, hid, "GRADUAL_EXIT_START")
                if hr_u:
                    for t in ("GRADUAL_EXIT_REVERT", "GRADUAL_EXIT_END", "BENEFIT_MISMATCH"):
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
            # benefit (all in cents x 100)
            expected = None
            if rtype == "低保" and not in_exit and not hr_u:
                expected = max(S * n - income, P.topup * n) * 100
                for p in living:
                    a = ages[p]
                    lvl = mrows[p][5]
                    rate = 0
                    if lvl in ("一级", "二级") or p in hist.ill or (a >= 60 and lvl is not None):
                        rate = max(rate, P.sup_severe)
                    if lvl is not None and len(disabled) >= 2:
                        rate = max(rate, P.sup_multi)
                    if a >= 70 or a < 18:
                        rate = max(rate, P.sup_em)
                    expected += rate * S
            elif rtype == "特困":
                expected = P.tekun * S * n
            if expected is not None:
                diff = abs(hrow[6] * 100 - expected)
                if diff > 1000 * 100 and diff * 10 > expected:
                    alert(src, hid, "BENEFIT_MISMATCH")
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
        out.append(a + (("持续", first) if first else ("新增", M)))
    alive = {hk: v for hk, v in hist.alive.items() if hk in withheld}
    for a in out:
        hk = a[:3]
        if hk not in withheld:
            alive.setdefault(hk, {})[a[:4]] = a[6]
    hist.alive = alive
    hist.prev_month = M
    hist.prev_hr = {p: r[2] for p, r in hr.items()} if "hr" in mi.present else None
    if "household_registration" in mi.present:
        hist.reg_seen = True
    wh = [k + (v,) for k, v in sorted(withheld.items())]
    return dets, out, wh
