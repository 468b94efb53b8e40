"""rules-variants.md in the synthetic county (variant mode, see README "Policy variants").

* `bureau_benefit`: what the bureau pays under the period's parameters (r1 特困 amount with
  供养方式 and care, r2 support-income disregard, r4 supplement groups, r5 amount during exit,
  r6 the pci of the review month), from the model's own clean view of the household. It is
  the payroll, not the truth: the truth is the oracle's reading of the files.
* `VCOVERAGE`: households planted on both sides of every new threshold (appended to the
  coverage block of chunk 0); each is listed in truth/planted.csv.
* `random_extras`: the optional columns on ordinary households (供养方式 and 护理等级 of 特困,
  赡养抚养扶养费, 渐退前月保障金额, veteran grades, 优抚 categories, 定期抚恤补助) and the
  decisions of civil_affairs_decisions (approvals in the 保障开始月份, rejections).
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from fractions import Fraction

from . import model as Mo
from .columns import VETERAN_GRADES, PREFERENTIAL
from .model import _age, _kill_none, _roster, cents, first_day, last_day
from .params import month_add, month_diff, vparam

CARE_KEY = {"全自理": "tekun_care_self", "半护理": "tekun_care_partial", "全护理": "tekun_care_full"}


def F(v) -> Fraction:
    return Fraction(str(v))


def _round(x) -> int:
    """Fraction of cents -> cents, half up."""
    return int((x * 2 + 1) // 2)


def _ym(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


# ---------------------------------------------------------------------------------------------
# the bureau's payroll under the policy
# ---------------------------------------------------------------------------------------------

def disregard(ctx, hh, m) -> int:
    """r2, the bureau's view: support income not counted for roster 低保 / 低保边缘."""
    r = hh.roster
    if r is None or not vparam(ctx.P[m], "support_income_disregard") or r.type not in ("低保", "低保边缘"):
        return 0
    return min(hh.other, r.vx.get("support") or 0)


def _living(r, m):
    return [p for p in r.listed[m] if p.death_m is None or p.death_m > m]


def _income(ctx, hh, m, living) -> int:
    ded_max = cents(ctx.P[m]["employment_cost_deduction"])
    pinc = ded = 0
    for p in living:
        h = p.hr[m] if p.hr else None
        if h:
            w = h[1] or 0
            pinc += w + (h[2] or 0) + (h[3] or 0)
            if w > 0:
                ded += min(w, ded_max)
    return pinc - ded + hh.other - disregard(ctx, hh, m)


def _review_pci(ctx, hh, m):
    """r6: the pci (rounded to the cent, as determinations store it) of the month of 上次核查日期
    when that month is an earlier generated month in which the household was on the roster."""
    r = hh.roster
    R = _ym(r.review[m])
    if R not in ctx.months:
        return None
    k = ctx.months.index(R)
    if k >= m or not r.active[k]:
        return None
    liv = _living(r, k)
    if not liv:
        return None
    inc = _income(ctx, hh, k, liv)
    return (2 * inc + len(liv)) // (2 * len(liv))


def _dibao_amount(ctx, hh, m, living, S) -> Fraction:
    """r4/r6: max(S − pci*, topup)·n + the highest supplement of each member."""
    r, P = hh.roster, ctx.P[m]
    n = len(living)
    topup = cents(P["min_topup_per_person"])
    pay = r.vx.get("pay")
    frozen = pay == "frozen" or (pay != "current" and vparam(P, "dibao_benefit_basis") == "last_review_month")
    pci_r = _review_pci(ctx, hh, m) if frozen else None
    if pci_r is not None:
        exp = Fraction(max(S - pci_r, topup) * n)
    else:
        exp = Fraction(max(S * n - _income(ctx, hh, m, living), topup * n))
    l3 = vparam(P, "severe_disability_level3_intellectual_mental")
    sup_vet = vparam(P, "supplement_veteran_max_grade")
    e_age, m_age = vparam(P, "supplement_elderly_age"), vparam(P, "supplement_minor_age")
    ed_age = vparam(P, "supplement_elderly_disabled_age")
    rates = (F(P["supplement_severe"]), F(P["supplement_multi_disabled"]), F(P["supplement_elderly_minor"]),
             F(vparam(P, "supplement_preferential")))
    dis = [p for p in living if r.attrs.get(p.id, (None, None))[1] is not None]
    am = 0 if r.stale else m
    naive = r.vx.get("naive", ())
    for p in living:
        if p.id in naive:
            continue   # planted: the bureau misses this member's group
        dt, lvl = r.attrs.get(p.id, (None, None, None))[:2]
        care, grade, cat, sub = r.vattrs.get(p.id, (None, None, None, None))
        a = _age(p, ctx, am)
        rate = Fraction(0)
        if (lvl in ("一级", "二级") or (l3 and lvl == "三级" and dt in ("智力", "精神"))
                or (sup_vet is not None and grade is not None and grade <= sup_vet)
                or (p.ill_m is not None and p.ill_m <= m) or (ed_age is not None and a >= ed_age and lvl)):
            rate = max(rate, rates[0])
        if lvl and len(dis) >= 2:
            rate = max(rate, rates[1])
        if a >= e_age or a < m_age:
            rate = max(rate, rates[2])
        if cat is not None:
            rate = max(rate, rates[3])
        exp += rate * S
    return exp


def _tekun_amount(ctx, hh, m, living, S, ur) -> Fraction:
    """r1: t·S·n + care."""
    r, P = hh.roster, ctx.P[m]
    pay = r.vx.get("pay")
    t = F(P["tekun_multiplier"])
    if pay != "base":
        mode = {"as_dispersed": "分散供养", "as_centralized": "集中供养"}.get(pay, r.vx.get("support_mode"))
        central = vparam(P, "tekun_multiplier_centralized")
        by_ur = vparam(P, "tekun_multiplier_urban" if ur == "城市" else "tekun_multiplier_rural")
        if central is not None and mode == "集中供养":
            t = F(central)
        elif by_ur is not None:
            t = F(by_ur)
    exp = t * S * len(living)
    if pay != "no_care":
        for p in living:
            care = r.vattrs.get(p.id, (None,))[0]
            if care:
                exp += F(vparam(P, CARE_KEY[care])) * 100
    return exp


def _pre_exit(ctx, hh, m):
    """r5, the bureau's view of B: the column when it carries one, else what it paid in the
    month before 渐退开始月份 when that is a generated month with the household on the roster."""
    r = hh.roster
    vx = r.vx
    prev = month_add(r.exit[m], -1)
    paid_before = None
    if prev in ctx.months:
        k = ctx.months.index(prev)
        if k < m and r.active[k]:
            paid_before = r.benefit[k]
    if vx.get("pre_exit_double") and vx.get("pre_exit") is None and paid_before is not None:
        vx["pre_exit"] = (2 * paid_before) // 100 * 100   # the column, not the roster, counts
    if vx.get("pre_exit_col") and vx.get("pre_exit") is not None:
        return vx["pre_exit"]
    return paid_before


def bureau_benefit(ch, hh, m) -> int:
    """What the bureau pays (cents) under the policy of month m."""
    ctx, r = ch.ctx, hh.roster
    ur = "城市" if hh.urban else "农村"
    S = ctx.S[m][ur]
    P = ctx.P[m]
    living = _living(r, m)
    if not living:
        return 0
    pay = r.vx.get("pay")
    if r.type == "特困":
        exp = _tekun_amount(ctx, hh, m, living, S, ur)
    elif r.type == "低保":
        if r.exit[m] is not None:
            red = vparam(P, "gradual_exit_annual_reduction")
            B = _pre_exit(ctx, hh, m)
            k = month_diff(r.exit[m], ctx.months[m])
            dis = any(r.attrs.get(p.id, (None, None))[1] is not None for p in living)
            L = int(P["gradual_exit_months_disabled" if dis else "gradual_exit_months"])
            if isinstance(pay, tuple) and B is not None:
                return _round(B * F(pay[1]))      # planted: a wrong share of B
            if red is None or B is None or not 0 <= k < L:
                return _round(_dibao_amount(ctx, hh, m, living, S)) // 2
            off = vparam(P, "gradual_exit_reduction_offset")
            years = off if pay == "year1" else k // 12 + off   # year1: the bureau misses the yearly cut
            exp = B * max(Fraction(0), 1 - F(red) * years)
        else:
            exp = _dibao_amount(ctx, hh, m, living, S)
    else:
        return 0
    exp = _round(exp)
    thr = max(1000, exp // 10)
    mm = r.mismatch
    if mm == "over":
        return exp + thr + 1 + ch.rng.randint(0, 5000)
    if mm == "under":
        return max(0, exp - thr - 1 - ch.rng.randint(0, 5000))
    if mm == "at":
        return exp + thr
    return exp


# ---------------------------------------------------------------------------------------------
# coverage: both sides of every new threshold
# ---------------------------------------------------------------------------------------------

def _j(ctx):
    return ctx.j


def _pj(ctx):
    return ctx.P[ctx.j]


def _ages(who, side):
    """Composition (callable on ctx) of a 低保 household whose second member sits at an age
    threshold of month j: `at` = exactly that age on the last day of j, `below` = one day short."""
    def comp(ctx):
        P = _pj(ctx)
        a = {"elderly": vparam(P, "supplement_elderly_age"), "minor": vparam(P, "supplement_minor_age"),
             "elderly_disabled": vparam(P, "supplement_elderly_disabled_age") or 60}[who]
        rel = "子女" if who == "minor" else "父母"
        return [("户主", 45, True), (rel, ("turns" if side == "at" else "turns_miss", a), False)]
    return comp


TWO = [("户主", 45, True), ("配偶", 40, False)]
OLD = [("户主", 72, True)]
OLD2 = [("户主", 72, True), ("配偶", 70, False)]

VCOVERAGE = [
    # r4 supplements: 低保, pci = S − 5 (base = topup·n), the bureau misses the subject's group
    ("v_sup", {"who": "elderly", "side": "at", "members": _ages("elderly", "at")}),
    ("v_sup", {"who": "elderly", "side": "below", "members": _ages("elderly", "below")}),
    ("v_sup", {"who": "minor", "side": "at", "members": _ages("minor", "at")}),
    ("v_sup", {"who": "minor", "side": "below", "members": _ages("minor", "below")}),
    ("v_sup", {"who": "elderly_disabled", "side": "at", "members": _ages("elderly_disabled", "at")}),
    ("v_sup", {"who": "elderly_disabled", "side": "below", "members": _ages("elderly_disabled", "below")}),
    ("v_sup", {"who": "l3", "side": "智力", "members": TWO}),
    ("v_sup", {"who": "l3", "side": "精神", "members": TWO}),
    ("v_sup", {"who": "l3", "side": "肢体", "members": TWO}),
    ("v_sup", {"who": "veteran", "side": "at", "members": TWO}),
    ("v_sup", {"who": "veteran", "side": "above", "members": TWO}),
    ("v_sup", {"who": "pref", "side": "set", "members": TWO}),
    ("v_sup", {"who": "pref", "side": "empty", "members": TWO}),
    # r3 SINGLE_PERSON_DIBAO: 低保边缘, pci = 1.2·S (MARGINAL)
    ("v_single", {"who": "l3", "side": "智力", "members": TWO}),
    ("v_single", {"who": "l3", "side": "精神", "members": TWO}),
    ("v_single", {"who": "l3", "side": "肢体", "members": TWO}),
    ("v_single", {"who": "claim", "side": "0.01", "members": TWO}),
    ("v_single", {"who": "claim", "side": "0", "members": TWO}),
    ("v_single", {"who": "veteran", "side": "at", "members": TWO}),
    ("v_single", {"who": "veteran", "side": "above", "members": TWO}),
    ("v_single", {"who": "subsidy", "side": "是", "members": TWO}),
    ("v_single", {"who": "subsidy", "side": "否", "members": TWO}),
    ("v_single", {"who": "all", "side": "", "members": TWO}),
    # r5 amount during exit: pci = S + 100, B = 500·n from the column unless said otherwise
    ("v_exit", {"m": 11, "members": TWO}),
    ("v_exit", {"m": 12, "members": TWO}),
    ("v_exit", {"m": 17, "members": TWO}),
    ("v_exit", {"m": 18, "members": TWO}),
    ("v_exit", {"m": 23, "disabled": True, "members": TWO}),
    ("v_exit", {"m": 24, "disabled": True, "members": TWO}),
    ("v_exit", {"from": "roster", "pay": "ok", "members": TWO}),
    ("v_exit", {"from": "roster", "pay": "bad", "members": TWO}),
    ("v_exit", {"from": "both", "members": TWO}),
    ("v_exit", {"from": "unknown", "members": TWO}),
    ("v_exit", {"from": "future", "members": TWO}),
    # r6: review in month 1, pci changes from month 2
    ("v_review", {"pay": "frozen", "members": TWO}),
    ("v_review", {"pay": "current", "members": TWO}),
    # r1 特困 amount
    ("v_tk", {"mode": "集中供养", "pay": "right", "members": OLD}),
    ("v_tk", {"mode": "分散供养", "pay": "right", "members": OLD}),
    ("v_tk", {"mode": "集中供养", "pay": "as_dispersed", "members": OLD}),
    ("v_tk", {"mode": "分散供养", "pay": "as_centralized", "members": OLD}),
    ("v_tk", {"mode": None, "pay": "base", "urban": True, "members": OLD}),
    ("v_tk", {"mode": None, "pay": "base", "urban": False, "members": OLD}),
    ("v_tk", {"mode": "分散供养", "pay": "no_care", "care": True, "members": OLD2}),
    ("v_tk", {"mode": "分散供养", "pay": "right", "care": True, "members": OLD2}),
    ("v_tk", {"mode": "集中供养", "pay": "right", "roster": "低保", "care": True, "members": TWO}),
    # r2 support income
    ("v_support", {"type": "低保", "case": "below", "members": TWO}),
    ("v_support", {"type": "低保", "case": "above", "members": TWO}),
    ("v_support", {"type": "低保边缘", "case": "below", "members": TWO}),
    ("v_support", {"type": "特困", "case": "equal", "members": OLD}),
    # r7 audit: towns with approvals, with rejections only, a household approved and rejected,
    # a roster household rejected with a decision naming another town
    ("v_audit", {"role": "approved", "town": 1, "members": TWO}),
    ("v_audit", {"role": "approved", "town": 1, "members": TWO}),
    ("v_audit", {"role": "approved", "town": 1, "members": TWO}),
    ("v_audit", {"role": "rejected", "town": 1, "members": TWO}),
    ("v_audit", {"role": "rejected", "town": 2, "members": TWO}),
    ("v_audit", {"role": "rejected", "town": 2, "members": TWO}),
    ("v_audit", {"role": "both", "town": 1, "members": TWO}),
    ("v_audit", {"role": "roster_rejected", "town": 1, "other_town": 2, "members": TWO}),
]


def _labor(a, lvl=None):
    if a < 16 or a >= 70:
        return "无"
    if a >= 60 or lvl == "三级":
        return "部分"
    if lvl in ("一级", "二级"):
        return "无"
    return "有"


def _base(ch, hh, typ):
    """A clean roster household: nobody dies, falls ill, studies or settles a bill; one house;
    reviewed three months before the window (not due, not a generated month)."""
    ctx, K = ch.ctx, ch.ctx.K
    _kill_none(hh)
    hh.emerg = []
    for p in hh.members:
        p.ill_m = None
        p.events = []
        p.settle = []
        p.edu = None
        p.house = None
        p.hr = [None] * K
    hh.members[0].house = [1, None, "否", [None] * K]
    r = _roster(ch, hh, typ, 0.0)
    r.review = [first_day(month_add(ctx.months[0], -3)) + timedelta(days=14)] * K
    r.fa = 0
    r.mismatch = None
    for p in hh.members:
        r.attrs[p.id] = (None, None, _labor(_age(p, ctx, 0)))
    return r


def _set_dis(r, p, ctx, dt, lvl):
    p.dtype, p.dlevel = dt, lvl
    r.attrs[p.id] = (dt, lvl, _labor(_age(p, ctx, 0), lvl))


def _plant(ch, hh, case, member=None, m=None):
    ctx = ch.ctx
    hid = hh.roster.hid if hh.roster is not None else f"MZ{ctx.county}{hh.g:08d}"
    ch.planted.append((hid, case, member.id if member is not None else "",
                       ctx.months[ctx.j if m is None else m]))


def setup_v_sup(ch, hh, opt):
    ctx, K, j = ch.ctx, ch.ctx.K, ch.ctx.j
    r = _base(ch, hh, "低保")
    subj = hh.members[1]
    who, side = opt["who"], opt["side"]
    P = ctx.P[j]
    if who == "elderly_disabled":
        _set_dis(r, subj, ctx, "听力", "四级")
    elif who == "l3":
        _set_dis(r, subj, ctx, side, "三级")
    elif who == "veteran":
        g = vparam(P, "supplement_veteran_max_grade") or 4
        g = g if side == "at" else g + 1
        if g > 10:
            g = 10
        r.vattrs[subj.id] = (None, g, None, None)
    elif who == "pref":
        r.vattrs[subj.id] = (None, None, "烈士遗属" if side == "set" else None, None)
    r.vx["naive"] = {subj.id}
    ur = "城市" if hh.urban else "农村"
    hh.target = [ctx.S[m][ur] - 500 for m in range(K)]
    ch.apply_targets(hh)
    _plant(ch, hh, f"sup:{who}:{side}", subj)


def _claim(ch, subj, m, crit):
    total, fund = 100000, 50000
    subj.settle.append((m, 10, total, fund, crit, 0, total - fund - crit))


def setup_v_single(ch, hh, opt):
    ctx, K, j = ch.ctx, ch.ctx.K, ch.ctx.j
    r = _base(ch, hh, "低保边缘")
    subj = hh.members[1]
    who, side = opt["who"], opt["side"]
    P = ctx.P[j]
    if who == "l3":
        _set_dis(r, subj, ctx, side, "三级")
    elif who == "claim":
        _claim(ch, subj, j, 1 if side == "0.01" else 0)
    elif who == "veteran":
        g = vparam(P, "single_person_veteran_max_grade") or 6
        g = min(10, g if side == "at" else g + 1)
        r.vattrs[subj.id] = (None, g, None, None)
    elif who == "subsidy":
        r.vattrs[subj.id] = (None, None, None, side)
    elif who == "all":
        _set_dis(r, subj, ctx, "智力", "二级")
        subj.ill_m = j
        subj.events = [(j, "重大疾病", "尿毒症", None)]
        _claim(ch, subj, j, 1)
        r.vattrs[subj.id] = (None, 1, None, "是")
    ur = "城市" if hh.urban else "农村"
    hh.target = [ctx.S[m][ur] * 6 // 5 for m in range(K)]
    ch.apply_targets(hh)
    _plant(ch, hh, f"single:{who}:{side}", subj)


def setup_v_exit(ch, hh, opt):
    ctx, K, j = ch.ctx, ch.ctx.K, ch.ctx.j
    r = _base(ch, hh, "低保")
    ur = "城市" if hh.urban else "农村"
    if opt.get("disabled"):
        _set_dis(r, hh.members[1], ctx, "听力", "四级")
    n = len(hh.members)
    high = [ctx.S[m][ur] + 10000 for m in range(K)]
    hh.target = high
    src = opt.get("from")
    mj = ctx.months[j]
    if src is None:
        k = opt["m"]
        r.exit = [month_add(mj, -k)] * K
        r.vx.update(pre_exit=50000 * n, pre_exit_col=True, pay="year1" if k in (11, 12) else ("share", "0.3"))
        case = f"exit:m{k}"
    elif src in ("roster", "both"):
        # on the roster, not in exit, in month j-1; in exit from month j (m = 0 in j)
        low = [ctx.S[m][ur] * 2 // 5 for m in range(K)]
        hh.target = [low[m] if m < j else high[m] for m in range(K)]
        r.exit = [None if m < j else mj for m in range(K)]
        if src == "both":
            r.vx.update(pre_exit_double=True, pre_exit_col=True)
            case = "exit:column_over_roster"
        else:
            if opt.get("pay") == "bad":
                r.vx["pay"] = ("share", "0.5")
            case = f"exit:roster:{opt.get('pay')}"
    elif src == "unknown":
        r.exit = [month_add(mj, -5)] * K
        case = "exit:unknown"
    else:   # future: 渐退开始月份 after M (m < 0) in month j
        r.exit = [month_add(mj, 1)] * K
        case = "exit:future"
    ch.apply_targets(hh)
    _plant(ch, hh, case)


def setup_v_review(ch, hh, opt):
    ctx, K = ch.ctx, ch.ctx.K
    r = _base(ch, hh, "低保")
    ur = "城市" if hh.urban else "农村"
    R = min(1, K - 1)
    r.review = [first_day(ctx.months[R]) + timedelta(days=14)] * K
    hh.target = [ctx.S[m][ur] * 3 // 10 if m <= R else ctx.S[m][ur] * 6 // 10 for m in range(K)]
    r.vx["pay"] = opt["pay"]
    ch.apply_targets(hh)
    _plant(ch, hh, f"review:{opt['pay']}", None, min(R + 1, K - 1))


def setup_v_tk(ch, hh, opt):
    ctx = ch.ctx
    typ = opt.get("roster", "特困")
    r = _base(ch, hh, typ)
    if opt.get("mode"):
        r.vx["support_mode"] = opt["mode"]
    r.vx["pay"] = opt["pay"]
    if opt.get("care"):
        for p, c in zip(hh.members, ("全护理", "半护理")):
            r.vattrs[p.id] = (c, None, None, None)
    if typ == "低保":
        ur = "城市" if hh.urban else "农村"
        hh.target = [s[ur] // 2 for s in ctx.S]
        ch.apply_targets(hh)
        _plant(ch, hh, "tk:dibao_row_with_mode")
        return
    hh.other = 0
    case = f"tk:{opt['mode'] or 'none'}:{opt['pay']}" + (":care" if opt.get("care") else "") + \
        (":urban" if hh.urban else ":rural")
    _plant(ch, hh, case)


def setup_v_support(ch, hh, opt):
    ctx, K, j = ch.ctx, ch.ctx.K, ch.ctx.j
    typ = opt["type"]
    r = _base(ch, hh, typ)
    ur = "城市" if hh.urban else "农村"
    S = ctx.S[j][ur]
    n = len(hh.members)
    head = hh.members[0]
    net = 0
    if typ == "特困":
        hh.other, sup = 10000, 10000
    elif opt["case"] == "below":       # support < other
        hh.other, sup = S * n, S * n // 2
        if typ == "低保边缘":
            hh.other, sup, net = S * n * 6 // 5, S * n * 9 // 10, S * n * 2 // 5
    else:                              # support > other
        hh.other, sup, net = S * n * 9 // 10, 2 * S * n, S * n * 3 // 10
    r.vx["support"] = sup
    if net:
        for m in range(K):
            head.hr[m] = ["就业", net + cents(ctx.P[m]["employment_cost_deduction"]), None, None]
    _plant(ch, hh, f"support:{typ}:{opt['case']}")


def setup_v_audit(ch, hh, opt):
    ctx, K, j = ch.ctx, ch.ctx.K, ch.ctx.j
    role = opt["role"]
    ur = "城市" if hh.urban else "农村"
    mj = ctx.months[j]
    if role == "rejected":
        _kill_none(hh)
        hid = f"MZ{ctx.county}{hh.g:08d}"
        hh.decisions.append((j, hid, hh.village, "低保", "未通过", 12))
        ch.planted.append((hid, f"audit:rejected:{hh.village[:9]}", "", mj))
        return
    r = _base(ch, hh, "低保")
    hh.target = [ctx.S[m][ur] // 2 for m in range(K)]
    if role in ("approved", "both"):
        r.since = mj
        r.active = [m >= j for m in range(K)]
        r.review = [last_day(month_add(mj, -1))] * K
        hh.decisions.append((j, r.hid, hh.village, "低保", "通过", 10))
    if role == "both":
        hh.decisions.append((j, r.hid, hh.village, "特困", "未通过", 8))
    if role == "roster_rejected":
        towns = sorted(ctx.geo.towns)
        t = towns[opt["other_town"] % len(towns)]
        other = next(v[0] for v in ctx.geo.villages if v[0][:9] == t)
        hh.decisions.append((j, r.hid, other, "特困", "未通过", 20))
    ch.apply_targets(hh)
    ch.planted.append((r.hid, f"audit:{role}:{hh.village[:9]}", "", mj))


Mo.SETUPS.update({"v_sup": setup_v_sup, "v_single": setup_v_single, "v_exit": setup_v_exit,
                  "v_review": setup_v_review, "v_tk": setup_v_tk, "v_support": setup_v_support,
                  "v_audit": setup_v_audit})


# ---------------------------------------------------------------------------------------------
# ordinary households
# ---------------------------------------------------------------------------------------------

def random_extras(ch):
    """The optional columns and the decisions on the households that are not coverage (their own
    random stream, so the households themselves are those of the same run without variants)."""
    ctx, K = ch.ctx, ch.ctx.K
    rng = random.Random(f"{ctx.seed}|variants|{ch.index}")
    for hh in ch.households:
        if hh.prot:
            continue
        r = hh.roster
        if r is None:
            if rng.random() < 0.015:
                m = rng.randrange(K)
                hh.decisions.append((m, f"MZ{ctx.county}{hh.g:08d}", hh.village,
                                     rng.choice(["低保", "低保", "特困", "低保边缘", "支出型困难"]), "未通过",
                                     rng.randint(1, 28)))
            continue
        vx = r.vx
        if r.type == "特困":
            vx["support_mode"] = rng.choices(["集中供养", "分散供养", None], [30, 60, 10])[0]
        elif rng.random() < 0.03:
            vx["support_mode"] = rng.choice(["集中供养", "分散供养"])   # valid, ignored (not 特困)
        if r.type in ("低保", "低保边缘") and hh.other > 0 and rng.random() < 0.3:
            vx["support"] = int(hh.other * rng.uniform(0.2, 1.2)) // 100 * 100
        if any(e is not None for e in r.exit) and rng.random() < 0.7:
            ur = "城市" if hh.urban else "农村"
            vx["pre_exit"] = cents(rng.uniform(0.3, 0.9) * ctx.S[0][ur] / 100 * len(hh.members)) // 100 * 100
            vx["pre_exit_col"] = True
        for p in hh.members:
            care = rng.choices(list(CARE_KEY) + [None], [50, 25, 15, 10])[0] if r.type == "特困" else None
            grade = rng.randint(1, 10) if rng.random() < 0.015 else None
            cat = rng.choice(PREFERENTIAL) if rng.random() < 0.03 else None
            sub = rng.choices(["是", "否", None], [2, 30, 68])[0]
            if care or grade or cat or sub:
                r.vattrs[p.id] = (care, grade, cat, sub)
        if r.since in ctx.months and r.active[ctx.months.index(r.since)]:
            m = ctx.months.index(r.since)
            hh.decisions.append((m, r.hid, hh.village, r.type, "通过", rng.randint(1, 28)))


def grade_text(g):
    return None if g is None else VETERAN_GRADES[g - 1]
