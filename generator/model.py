"""The synthetic county: households, persons and their monthly records, by chunk.

Every chunk of households is self-contained (no person belongs to households of
two chunks), so chunks can be generated, judged by the oracle and written one
after another with bounded memory. The only state shared between chunks is the
per-(birth date, sex) sequence counter of ID numbers and the counter of unique
compound-surname names; both advance deterministically.
"""
from __future__ import annotations

import calendar
import random
from datetime import date, timedelta

from . import names as N
from .columns import VETERAN_GRADES
from .ids import add_months, birth_of, make_id, seq_code, SEQ_CAPACITY
from .params import month_add

SOURCES = ["civil_affairs_households", "civil_affairs_members", "household_registration",
           "education", "hr", "housing", "health", "medical_insurance", "emergency",
           "rural_revitalization"]
DATED = {"health": 4, "medical_insurance": 2, "emergency": 3}  # source -> date column index

# share of households per scenario (the rest are ordinary households)
DEFAULT_RATES = {
    "db": 0.022, "db_exit_start": 0.0025, "db_in_exit": 0.003, "db_assets": 0.001,
    "tk": 0.006, "by": 0.010, "zc": 0.004, "deceased": 0.001, "dup": 0.0005,
    "hid_dibao": 0.008, "hid_tekun": 0.0015, "hid_marginal": 0.003, "hid_exp": 0.002,
    "hid_assets": 0.0005, "rr": 0.045, "rr_low": 0.004,
}

# the coverage block at the start of chunk 0: every alert type and determination,
# and the near-misses on each side of every threshold
COVERAGE = [
    ("db", {"urban": True, "zero_emp": True, "review_due": True}),
    ("db", {"mismatch": "over"}),
    ("db", {"mismatch": "at"}),
    ("db", {"turns": 70}),
    ("db", {"turns_near": 70}),
    ("db", {"dropout": True, "grade": "C", "disaster": True}),
    ("db", {"zero_emp": True, "review_edge": "at"}),
    ("db", {"zero_emp": True, "review_edge": "miss"}),
    ("dup", {}),
    ("db_exit_start", {"to": "S"}),
    ("db_exit_start", {"to": "S-"}),
    ("db_exit_start", {"to": "2S-"}),
    ("db_exit_start", {"to": "2S"}),
    ("db_in_exit", {"limit": 18}),
    ("db_in_exit", {"limit": 24}),
    ("db_in_exit", {"revert": "S-"}),
    ("db_in_exit", {"revert": "raise"}),
    ("db_assets", {"fa": "at"}),
    ("db_assets", {"fa": "over"}),
    ("db_assets", {"props": 2}),
    ("tk", {}),
    ("tk", {"pension": True}),
    ("tk", {"near60": True}),
    ("by", {"to": "S"}),
    ("by", {"to": "1.5S-"}),
    ("by", {"to": "1.5S"}),
    ("by", {"to": "S-"}),
    ("by", {"severe": True, "shock": "ill"}),
    ("by", {"shock": "jobloss"}),
    ("zc", {}),
    ("deceased", {}),
    ("deceased", {"single": True}),
    ("hid_dibao", {}),
    ("hid_tekun", {}),
    ("hid_tekun", {"near60": True}),
    ("hid_tekun", {"near60_miss": True}),
    ("hid_tekun", {"grand18": True}),
    ("hid_tekun", {"grand18_miss": True}),
    ("hid_marginal", {}),
    ("hid_marginal", {"ill": True}),
    ("hid_exp", {}),
    ("hid_assets", {}),
    ("rr", {"low": "below"}),
    ("rr", {"low": "at"}),
    ("rr", {"shock": "disaster", "grade": "D"}),
    ("rr", {"shock": "dropout"}),
    ("rr", {"category": "边缘易致贫户", "risk": "是", "shock": "ill"}),
    ("rr", {"overlap": True}),
    ("ordinary", {"style": "rare", "amb_src": True}),
    ("ordinary", {"amb_dst": True}),
    ("ordinary", {"style": "rare"}),
    ("ordinary", {"style": "minority"}),
]

DIS_TYPES = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
DIS_W = [12, 10, 4, 40, 14, 12, 8]
DIS_LEVELS = ["一级", "二级", "三级", "四级"]
DIS_LW = [10, 25, 35, 30]
DIAG_MAJOR = ["恶性肿瘤", "尿毒症", "白血病", "脑卒中", "急性心肌梗死", "重症肌无力", "终末期肾病"]
DIAG_CHRONIC = ["高血压", "糖尿病", "慢性阻塞性肺病", "冠心病", "类风湿关节炎"]
DISASTERS = ["洪涝", "干旱", "地震", "台风", "风雹", "低温冷冻", "火灾", "其他"]
DISASTER_W = [30, 15, 3, 5, 20, 12, 5, 10]


def _table(pop, weights):
    acc, cum = 0, []
    for w in weights:
        acc += w
        cum.append(acc)
    return (list(pop), cum, acc)


def _pick(rng, table):
    pop, cum, total = table
    x = rng.random() * total
    for v, c in zip(pop, cum):
        if x < c:
            return v
    return pop[-1]


_SIZE_U = _table([1, 2, 3, 4, 5], [18, 30, 30, 13, 9])
_SIZE_R = _table([1, 2, 3, 4, 5, 6, 7], [12, 25, 22, 20, 13, 6, 2])
_EMP_U = _table(["就业", "灵活就业", "失业登记", "未就业", None], [72, 14, 2, 2, 10])
_EMP_R = _table(["就业", "灵活就业", "失业登记", "未就业", None], [38, 48, 1, 2, 11])
_PROP_U = _table([0, 1, 2, 3], [12, 80, 7, 1])
_PROP_R = _table([0, 1, 2], [6, 93, 1])
_GRADE = _table(["A", "B", "C", "D", None], [55, 30, 2, 1, 12])


def last_day(ym: str) -> date:
    y, m = int(ym[:4]), int(ym[5:7])
    return date(y, m, calendar.monthrange(y, m)[1])


def first_day(ym: str) -> date:
    return date(int(ym[:4]), int(ym[5:7]), 1)


def years_before(d: date, a: int) -> date:
    try:
        return d.replace(year=d.year - a)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year - a, day=28)


def cents(yuan: float) -> int:
    return int(round(yuan * 100))


class Person:
    __slots__ = ("id", "name", "male", "birth", "rel", "dtype", "dlevel", "labor", "death_m",
                 "reg_dead_m", "health_death", "death_day", "out_m", "hr", "house", "edu",
                 "ill_m", "events", "settle", "idx")

    def __init__(self):
        self.dtype = self.dlevel = None
        self.labor = "有"
        self.death_m = None      # month index of death
        self.reg_dead_m = None   # month index from which the register says 死亡注销
        self.health_death = True
        self.death_day = None
        self.out_m = None
        self.hr = None           # list per month: None or [status, wage, pension, ub]
        self.house = None        # [count, pf, rental, [grade per month]]
        self.edu = None          # [stage, school, [status per month], fees, aid]
        self.ill_m = None
        self.events = []         # (m, type, diagnosis, day)
        self.settle = []         # (m, day, total, fund, crit, assist, oop)


class Household:
    __slots__ = ("g", "hukou", "village", "urban", "members", "kind", "opt", "prot", "roster",
                 "rr", "target", "other", "j", "emerg", "decisions", "vm")

    def __init__(self):
        self.vm = None    # a prefecture's mover: the village of each month (else hh.village)
        self.roster = None
        self.rr = None
        self.target = None
        self.other = 0
        self.emerg = []   # (m, type, day, damage, loss, aid)
        self.decisions = []   # variant mode: (m, household_id, region, applied type, result, day)


class Roster:
    __slots__ = ("hid", "type", "since", "exit", "fa", "review", "active", "listed", "benefit",
                 "mismatch", "stale", "attrs", "vx", "vattrs")

    def __init__(self, hid, typ, since):
        self.hid = hid
        self.type = typ
        self.since = since
        self.exit = None        # per-month list of exit start month or None
        self.fa = None
        self.review = None      # per-month list of last review date
        self.active = None      # per-month bool
        self.listed = None      # per-month list of persons listed
        self.benefit = None
        self.mismatch = None
        self.stale = False
        # variant mode (generator/variants.py): household extras (support_mode, support,
        # pre_exit, pre_exit_col, naive, pay) and member extras {id: (care, grade, category, subsidy)}
        self.vx = {}
        self.vattrs = {}


class Ctx:
    """Run-wide context: months, parameters and the shared counters."""

    def __init__(self, seed, geo, months, params_by_month, rates=None, id_areas=None):
        self.seed = seed
        self.geo = geo
        self.county = geo.code
        self.id_areas = tuple(id_areas or (geo.code,))  # address codes of the IDs (ids.id_areas)
        self.months = months
        self.K = len(months)
        self.P = params_by_month
        self.S = [{"城市": cents(p["dibao_standard_urban"]), "农村": cents(p["dibao_standard_rural"])}
                  for p in params_by_month]
        self.ceiling = [{"城市": cents(p["expenditure_income_ceiling_urban"]),
                         "农村": cents(p["expenditure_income_ceiling_rural"])} for p in params_by_month]
        self.ref = last_day(months[0])
        self.seq = {}
        self.rare = 0
        self.lane = 0
        self.rates = dict(DEFAULT_RATES)
        if rates:
            self.rates.update(rates)
        self.j = 1 if self.K >= 2 else 0
        self.urban_villages = [v[0] for v in geo.villages if v[2]]
        self.rural_villages = [v[0] for v in geo.villages if not v[2]]
        self._dis = {}
        self.variants = False       # rules-variants.md columns, source and planted households
        self.parametric = False     # a policy was given: the bureau pays by the period's parameters
        # a prefecture (--counties N): the other counties' codes, the share of persons born there
        # (their IDs carry that county's code) and the draw of it; `seq` is then keyed by
        # (address code, birth date key) and shared by the counties' contexts of one lane
        self.born_elsewhere = ()
        self.born_share = 0.0
        self.area_rng = None

    def new_id(self, birth: date, male: bool, area: str | None = None) -> str:
        """Unique ID: each lane (chunks of one parity) owns half of the sequence codes.
        In a prefecture `area` (else drawn: the own county or, at born_share, another one) is
        the address code."""
        lane, half = self.lane, SEQ_CAPACITY // 2
        if self.born_elsewhere:
            if area is None:
                r = self.area_rng
                area = r.choice(self.born_elsewhere) if r.random() < self.born_share else self.county
            while True:
                key = birth.toordinal() * 2 + male
                c = self.seq.get((area, key), 0)
                if c < half:
                    self.seq[(area, key)] = c + 1
                    return make_id(area, birth, seq_code(2 * c + lane, male, key))
                birth += timedelta(days=1)
        capacity = half * len(self.id_areas)  # a birth date's codes under every address code
        while True:
            key = birth.toordinal() * 2 + male
            c = self.seq.get(key, 0)
            if c < capacity:
                self.seq[key] = c + 1
                return make_id(self.id_areas[c // half], birth, seq_code(2 * (c % half) + lane, male, key))
            birth += timedelta(days=1)

    def rare_name(self) -> str:
        n = N.rare_name(2 * self.rare + self.lane)
        self.rare += 1
        return n

    def village_disaster(self, village, m):
        key = (village, m)
        d = self._dis.get(key)
        if d is None:
            r = random.Random(f"{self.seed}|dis|{village}|{m}")
            if r.random() < 0.03:
                ld = last_day(self.months[m]).day
                d = (r.choices(DISASTERS, DISASTER_W)[0], r.randint(1, ld))
            else:
                d = False
            self._dis[key] = d
        return d


# ---------------------------------------------------------------------------------
# composition
# ---------------------------------------------------------------------------------

def _age_birth(rng, ctx, a):
    return ctx.ref - timedelta(days=int((a + rng.random()) * 365.2425))


def _turns(ctx, a, m, miss=False):
    """Birth date such that the person is exactly `a` on the last day of month m
    (miss: one day later, so still a-1 on that day)."""
    d = last_day(ctx.months[m])
    if miss:
        d = d + timedelta(days=1)
    return years_before(d, a)


def compose(rng, ctx, urban, template):
    """List of (relation, birth, male) for a household."""
    out = []
    if template == "elderly":
        a = rng.randint(62, 88)
        male = rng.random() < 0.5
        out.append(("户主", _age_birth(rng, ctx, a), male))
        if rng.random() < 0.55:
            out.append(("配偶", _age_birth(rng, ctx, max(60, a + rng.randint(-5, 5))), not male))
        return out
    if template == "single":
        a = rng.randint(25, 58)
        out.append(("户主", _age_birth(rng, ctx, a), rng.random() < 0.6))
        return out
    if template == "working":
        a = rng.randint(28, 50)
        male = rng.random() < 0.7
        out.append(("户主", _age_birth(rng, ctx, a), male))
        out.append(("配偶", _age_birth(rng, ctx, a + rng.randint(-4, 3)), not male))
        for _ in range(rng.choice([1, 1, 2])):
            out.append(("子女", _age_birth(rng, ctx, rng.randint(3, min(16, a - 20))), rng.random() < 0.5))
        return out
    # generic
    if urban:
        size = _pick(rng, _SIZE_U)
    else:
        size = _pick(rng, _SIZE_R)
    if size == 1:
        a = rng.choice([rng.randint(20, 59), rng.randint(60, 90)])
        return [("户主", _age_birth(rng, ctx, a), rng.random() < 0.55)]
    a = rng.randint(24, 80)
    male = rng.random() < 0.75
    out.append(("户主", _age_birth(rng, ctx, a), male))
    out.append(("配偶", _age_birth(rng, ctx, max(20, a + rng.randint(-5, 4))), not male))
    rest = size - 2
    if rest and a >= 50 and rng.random() < 0.5:
        # married child living with parents, or grandchildren
        ca = rng.randint(max(1, a - 38), max(1, a - 22))
        out.append(("子女", _age_birth(rng, ctx, ca), rng.random() < 0.5))
        rest -= 1
        while rest > 0:
            ga = rng.randint(0, max(0, ca - 20)) if ca > 20 else 0
            out.append(("孙子女", _age_birth(rng, ctx, ga), rng.random() < 0.5))
            rest -= 1
        return out
    if rest and a <= 45 and rng.random() < 0.35:
        out.append(("父母", _age_birth(rng, ctx, min(95, a + rng.randint(22, 32))), rng.random() < 0.5))
        rest -= 1
    twins = rest >= 2 and rng.random() < 0.04
    first = None
    while rest > 0:
        ca = rng.randint(0, max(0, min(30, a - 20)))
        b = _age_birth(rng, ctx, ca)
        if twins and first is not None:
            b = first
            twins = False
        first = b
        out.append(("子女", b, rng.random() < 0.5))
        rest -= 1
    return out


# ---------------------------------------------------------------------------------
# chunk builder
# ---------------------------------------------------------------------------------

class Chunk:
    def __init__(self, ctx: Ctx, index: int, g0: int, count: int, coverage: bool | None = None):
        self.ctx = ctx
        self.index = index
        self.rng = random.Random(ctx.seed * 1_000_003 + index * 7919 + 17)
        self.households = []
        self.amb_pairs = []     # (person A, person B) same name, same birth date
        self.near_dups = set()  # IDs of twins, same-name neighbours and the pairs above
        self._last_head = {}
        g = g0
        kinds = []
        self.planted = []       # variant mode: (household_id, case, member id, month) of the coverage
        if ctx.variants:
            from . import variants  # noqa: F401  (registers the variant set-ups)
        if index == 0 if coverage is None else coverage:
            kinds = list(COVERAGE)
            if ctx.variants:
                kinds += variants.VCOVERAGE
        rates = ctx.rates
        rkinds = sorted(rates)
        for i in range(count):
            if i < len(kinds):
                kind, opt = kinds[i]
                prot = kind != "ordinary"
            else:
                kind, opt = self._draw_kind(rkinds, rates), {}
                prot = False
            self.households.append(self._household(g + i, kind, opt, prot))
        self._link_dups()
        if ctx.variants:
            variants.random_extras(self)
        amb = {p.id for pair in self.amb_pairs for p in pair}
        self.rare_ids = {p.id for hh in self.households for p in hh.members
                         if len(p.name) >= 4 and p.name[:2] in N.COMPOUND and p.id not in amb}

    def rare_ok(self, pid):
        """A person whose name is unique in the county (same_birth links cannot be ambiguous)."""
        return pid in self.rare_ids

    def _draw_kind(self, rkinds, rates):
        r = self.rng.random()
        acc = 0.0
        for k in rkinds:
            acc += rates[k]
            if r < acc:
                return k
        return "ordinary"

    # ------------------------------------------------------------------ household
    def _household(self, g, kind, opt, prot):
        ctx, rng = self.ctx, self.rng
        hh = Household()
        hh.g, hh.kind, hh.opt, hh.prot = g, kind, dict(opt), prot
        village, urban = ctx.geo.village_of(g)
        if prot:
            want_urban = opt.get("urban", kind in ("db",) and opt.get("zero_emp"))
            if kind.startswith("rr"):
                want_urban = False
            pool = ctx.urban_villages if want_urban else ctx.rural_villages
            if pool:
                village, urban = pool[g % len(pool)], bool(want_urban)
        if opt.get("amb_dst") and self.households:
            village, urban = self.households[-1].village, self.households[-1].urban
        if opt.get("town") is not None:
            # variant coverage: a village of the k-th town (sorted codes), urban or not as asked
            towns = sorted(ctx.geo.towns)
            t = towns[opt["town"] % len(towns)]
            vs = [v for v in ctx.geo.villages if v[0][:9] == t]
            pick = [v for v in vs if v[2] == bool(opt.get("urban"))] or vs
            village, urban = pick[0][0], pick[0][2]
        if kind.startswith("rr") and urban:
            kind = hh.kind = "ordinary" if not prot else kind
        hh.village, hh.urban = village, urban
        hh.hukou = f"{village[6:]}{g:08d}"
        hh.j = ctx.j if prot else rng.randrange(ctx.K)
        K = ctx.K
        template = "generic"
        if kind in ("tk", "hid_tekun"):
            template = "elderly"
        elif kind in ("db_exit_start", "by", "hid_marginal", "zc", "hid_exp"):
            template = "working"
        elif kind == "deceased" and opt.get("single"):
            template = "single"
        comp = compose(rng, ctx, urban, template)
        j = hh.j
        if kind == "tk" and opt.get("near60"):
            comp = [("户主", _age_birth(rng, ctx, 72), True), ("配偶", _turns(ctx, 60, j), False)]
        if kind == "hid_tekun":
            if opt.get("near60") or opt.get("near60_miss"):
                comp = [("户主", _age_birth(rng, ctx, 70), True),
                        ("配偶", _turns(ctx, 60, j, miss=bool(opt.get("near60_miss"))), False)]
            elif opt.get("grand18") or opt.get("grand18_miss"):
                comp = [("户主", _age_birth(rng, ctx, 66), False),
                        ("孙子女", _turns(ctx, 18, j, miss=bool(opt.get("grand18_miss"))), True)]
        if kind == "db" and (opt.get("turns") or opt.get("turns_near")):
            a = opt.get("turns") or opt.get("turns_near")
            comp = [("户主", _age_birth(rng, ctx, 45), True),
                    ("父母", _turns(ctx, a, j, miss=bool(opt.get("turns_near"))), False)]
        if kind == "db" and opt.get("zero_emp"):
            comp = [("户主", _age_birth(rng, ctx, 44), True), ("配偶", _age_birth(rng, ctx, 41), False),
                    ("子女", _age_birth(rng, ctx, 13), True)]
        if kind == "db" and opt.get("dropout"):
            comp = [("户主", _age_birth(rng, ctx, 46), True), ("配偶", _age_birth(rng, ctx, 44), False),
                    ("子女", _age_birth(rng, ctx, 15), False)]
        if kind == "deceased" and not opt.get("single"):
            comp = comp[:1] + [("父母", _age_birth(rng, ctx, 81), True)] + comp[1:]
        if opt.get("members"):
            # variant coverage: (relation, age or ("turns", a) / ("turns_miss", a), male)
            comp = []
            mem = opt["members"](ctx) if callable(opt["members"]) else opt["members"]
            for rel, a, male in mem:
                if isinstance(a, tuple):
                    b = _turns(ctx, a[1], j, miss=a[0] == "turns_miss")
                else:
                    b = _age_birth(rng, ctx, a)
                comp.append((rel, b, male))
        hh.members = self._persons(hh, comp)
        self._econ(hh)
        setup = SETUPS.get(kind)
        if setup:
            setup(self, hh, opt)
        return hh

    def _persons(self, hh, comp):
        ctx, rng = self.ctx, self.rng
        r = rng.random()
        style = hh.opt.get("style") or ("rare" if r < 0.004 else "minority" if r < 0.02 else "han")
        fam = N.surname(rng)
        out = []
        used = set()
        for rel, birth, male in comp:
            p = Person()
            p.rel, p.birth, p.male = rel, birth, male
            p.id = ctx.new_id(birth, male)
            p.birth = birth_of(p.id)   # a full day of codes moves the birth date by a day
            if style == "minority":
                nm = N.minority_name(rng)
            elif rel in ("户主", "子女", "孙子女") or (rel == "父母" and male):
                nm = ctx.rare_name() if style == "rare" else fam + N.given(rng, male)
            else:
                nm = N.surname(rng) + N.given(rng, male)
            while nm in used:
                nm = nm[:1] + N.given(rng, male) if style != "rare" else ctx.rare_name()
            used.add(nm)
            p.name = nm
            out.append(p)
        head = out[0]
        last = self._last_head.get(hh.village)
        if style == "han" and last is not None and rng.random() < 0.01:
            head.name = last[0]   # same name in one village (different person)
            self.near_dups.update((head.id, last[1]))
        if style == "han":
            self._last_head[hh.village] = (head.name, head.id)
        by_birth = {}
        for p in out:
            by_birth.setdefault(p.birth, []).append(p)
        for ps in by_birth.values():
            if len(ps) > 1 and all(p.rel == "子女" for p in ps):
                self.near_dups.update(p.id for p in ps)   # twins
        pend = getattr(self, "_pending_twin", None)
        if style == "rare" and (hh.opt.get("amb_src") or (not hh.prot and rng.random() < 0.5)):
            self._pending_twin = (head, hh)
        elif pend is not None and (pend[1].village == hh.village or hh.opt.get("amb_dst")) \
                and (not hh.prot or hh.opt.get("amb_dst")):
            # a person in this household with the same (unique) name and birth date
            a = self._pending_twin[0]
            p = Person()
            p.rel, p.birth, p.male = "其他", a.birth, a.male
            p.id = ctx.new_id(a.birth, a.male, a.id[:6]) if ctx.born_elsewhere else ctx.new_id(a.birth, a.male)
            p.birth = birth_of(p.id)
            p.name = a.name
            out.append(p)
            if p.id[:14] == a.id[:14]:
                self.amb_pairs.append((a, p))
            self.near_dups.update((a.id, p.id))
            self._pending_twin = None
        return out

    # ------------------------------------------------------------------ economy
    def _econ(self, hh):
        ctx, rng, K = self.ctx, self.rng, self.ctx.K
        urban = hh.urban
        for p in hh.members:
            a = (ctx.ref - p.birth).days // 365
            st = None
            if 18 <= a <= 59:
                if urban:
                    st = _pick(rng, _EMP_U)
                else:
                    st = _pick(rng, _EMP_R)
            elif a >= 60:
                if rng.random() < (0.85 if urban else 0.8):
                    st = "退休"
                elif a < 65 and rng.random() < 0.3:
                    st = "灵活就业"
            hrl = [None] * K
            if st is not None:
                cur = self._hr_state(st, urban)
                for m in range(K):
                    if m:
                        cur = self._hr_step(cur, urban)
                    hrl[m] = list(cur)
            p.hr = hrl
            # education
            if a <= 22:
                self._school(p, a)
            # dynamics: death, illness, migration
            for m in range(K):
                if p.death_m is not None:
                    break
                h = self._death_hazard(a)
                if p.ill_m is not None:
                    h *= 5
                if rng.random() < h:
                    self._die(p, m)
                    break
                if p.ill_m is None and rng.random() < (0.0005 if a < 40 else 0.0015 if a < 60 else 0.004):
                    p.ill_m = m
                    p.events.append((m, "重大疾病", rng.choice(DIAG_MAJOR), None))
                elif a >= 40 and rng.random() < 0.002:
                    p.events.append((m, "慢性病", rng.choice(DIAG_CHRONIC), None))
                if 18 <= a <= 40 and p.out_m is None and rng.random() < 0.0005:
                    p.out_m = m
            # medical settlements
            for m in range(K):
                if p.death_m is not None and m > p.death_m:
                    break
                if p.out_m is not None and m >= p.out_m:
                    break
                pr = 0.8 if (p.ill_m is not None and m >= p.ill_m) else (0.04 if a >= 60 else 0.015)
                if rng.random() < pr:
                    big = p.ill_m is not None and m >= p.ill_m
                    total = rng.uniform(15000, 60000) if big else rng.lognormvariate(7.3, 0.9)
                    self._settle(p, m, total, assist=False)
        # housing for the head (and sometimes the spouse)
        head = hh.members[0]
        if urban:
            cnt = _pick(rng, _PROP_U)
            grade = None
        else:
            cnt = _pick(rng, _PROP_R)
            grade = _pick(rng, _GRADE)
        pf = None
        if urban and head.hr[0] and head.hr[0][0] == "就业" and rng.random() < 0.6:
            pf = cents(rng.uniform(200, 1500))
        rental = "是" if (urban and cnt == 0 and rng.random() < 0.5) else "否"
        grades = [grade] * K
        for m in range(1, K):
            if grades[m - 1] in ("A", "B") and rng.random() < 0.002:
                grades[m:] = [rng.choice(["C", "D"])] * (K - m)
        head.house = [cnt, pf, rental, grades]
        if len(hh.members) > 1 and hh.members[1].rel == "配偶" and rng.random() < 0.15:
            hh.members[1].house = [1 if cnt == 0 else 0, None, "否", [None] * K]
        # emergencies: village disasters and house fires
        for m in range(K):
            d = ctx.village_disaster(hh.village, m) if not urban else False
            if d and rng.random() < 0.25:
                dmg = rng.choices(["倒塌", "严重损坏", "一般损坏", "无"], [3, 8, 35, 54])[0]
                self._emerg(hh, m, d[0], d[1], dmg)
            elif rng.random() < 0.0001:
                self._emerg(hh, m, "火灾", rng.randint(1, last_day(ctx.months[m]).day),
                            rng.choice(["严重损坏", "一般损坏"]))

    def _emerg(self, hh, m, typ, day, dmg, loss=None):
        rng = self.rng
        if loss is None:
            lo, hi = {"倒塌": (30000, 80000), "严重损坏": (8000, 30000), "一般损坏": (2000, 10000),
                      "无": (200, 3000)}[dmg]
            loss = cents(rng.uniform(lo, hi))
        aid = cents(rng.uniform(0, 0.3) * loss / 100) if rng.random() < 0.5 else 0
        hh.emerg = [e for e in hh.emerg if e[0] != m] + [(m, typ, day, dmg, loss, aid)]

    def _hr_state(self, st, urban):
        rng = self.rng
        w = p = u = None
        if st == "就业":
            w = cents(rng.lognormvariate(8.6 if urban else 8.2, 0.35))
        elif st == "灵活就业":
            w = cents(rng.lognormvariate(8.0 if urban else 7.9, 0.4))
        elif st == "失业登记":
            u = cents(rng.uniform(1500, 1900)) if rng.random() < 0.6 else None
        elif st == "退休":
            p = cents(rng.uniform(2200, 5200) if urban else rng.uniform(150, 450))
        return [st, w, p, u]

    def _hr_step(self, cur, urban):
        rng = self.rng
        st = cur[0]
        r = rng.random()
        if st in ("就业", "灵活就业") and r < 0.01:
            return self._hr_state(rng.choice(["失业登记", "未就业"]), urban)
        if st in ("失业登记", "未就业") and r < 0.08:
            return self._hr_state(rng.choice(["就业", "灵活就业"]), urban)
        if cur[1] and rng.random() < 0.1:
            cur = list(cur)
            cur[1] = max(100, int(cur[1] * rng.uniform(0.95, 1.06)))
        return cur

    def _school(self, p, a):
        rng, K = self.rng, self.ctx.K
        if 3 <= a <= 5:
            stage, prob, fees = "学前", 0.75, (3000, 8000)
        elif 6 <= a <= 11:
            stage, prob, fees = "小学", 0.99, (200, 800)
        elif 12 <= a <= 14:
            stage, prob, fees = "初中", 0.98, (300, 1200)
        elif 15 <= a <= 17:
            stage, prob, fees = rng.choice([("高中", 0.6, (2000, 5000)), ("中职", 0.3, (1500, 4000))])
            prob = prob / 0.9 * 0.9
        elif 18 <= a <= 21:
            stage, prob, fees = "高校", 0.45, (6000, 16000)
        else:
            return
        if rng.random() >= prob:
            return
        school = self.ctx.geo.name + {"学前": "第{}幼儿园", "小学": "第{}小学", "初中": "第{}中学",
                                       "高中": "第{}高级中学", "中职": "职业教育中心{}",
                                       "高校": "理工学院{}"}[stage].format("一二三四五六七八九"[rng.randrange(9)])
        if stage == "高校":
            school = rng.choice(["山东", "河南", "湖北", "四川", "陕西"]) + school[len(self.ctx.geo.name):]
        status = ["在读"] * K
        if stage in ("初中", "高中", "中职"):
            for m in range(K):
                if rng.random() < 0.0015:
                    status[m:] = ["辍学"] * (K - m)
                    break
        p.edu = [stage, school, status, cents(rng.uniform(*fees)), 0]

    @staticmethod
    def _death_hazard(a):
        if a < 40:
            return 0.00005
        if a < 60:
            return 0.0003
        if a < 70:
            return 0.001
        if a < 80:
            return 0.003
        return 0.01

    def _die(self, p, m, health=None, reg_lag="random"):
        rng = self.rng
        p.death_m = m
        p.death_day = rng.randint(1, last_day(self.ctx.months[m]).day)
        p.health_death = (rng.random() < 0.92) if health is None else health
        lag = rng.choices([0, 1, None], [70, 25, 5])[0] if reg_lag == "random" else reg_lag
        if not p.health_death and lag is None:
            lag = 0
        p.reg_dead_m = None if lag is None else m + lag
        p.events = [e for e in p.events if e[0] < m]
        if p.health_death:
            p.events.append((m, "死亡", None, p.death_day))

    def _settle(self, p, m, total_yuan, assist):
        rng = self.rng
        total = cents(total_yuan)
        fund = int(total * rng.uniform(0.5, 0.7))
        crit = int(total * rng.uniform(0.05, 0.15)) if total > 2000000 else 0
        ass = int(total * rng.uniform(0.05, 0.12)) if assist else 0
        oop = total - fund - crit - ass
        days = {s[1] for s in p.settle if s[0] == m}
        day = rng.randint(1, last_day(self.ctx.months[m]).day)
        while day in days:
            day = day % 28 + 1
        p.settle.append((m, day, total, fund, crit, ass, oop))

    # ------------------------------------------------------------------ helpers for setups
    def target_income(self, hh, m, kind, other=0):
        """Per-capita income target (cents) for month m from a symbolic kind."""
        ctx = self.ctx
        ur = "城市" if hh.urban else "农村"
        S = ctx.S[m][ur]
        S1 = ctx.S[0][ur]
        return {
            "S": S, "S-": S - 1, "2S-": 2 * S - 1, "2S": 2 * S, "1.5S-": S * 3 // 2 - 1,
            "1.5S": S * 3 // 2, "raise": S1 + 2000,
        }[kind]

    def living(self, hh, m):
        return [p for p in hh.members if (p.death_m is None or p.death_m > m)
                and (p.out_m is None or p.out_m > m)]

    def apply_targets(self, hh):
        """Set the hr records so that household income / n equals the target exactly."""
        if hh.target is None:
            return
        K = self.ctx.K
        for p in hh.members:
            if p.hr is None or len(p.hr) != K:
                p.hr = [None] * K
        for m in range(K):
            t = hh.target[m]
            if t is None:
                continue
            liv = self.living(hh, m)
            n = len(liv)
            if n == 0:
                continue
            other = hh.other if hh.roster is not None or hh.rr is not None else 0
            if hh.roster is not None and hh.roster.vx:
                from .variants import disregard
                other -= disregard(self.ctx, hh, m)
            need = t * n - other
            ded = cents(self.ctx.P[m]["employment_cost_deduction"])
            earners = [p for p in liv if 18 <= _age(p, self.ctx, m) <= 59]
            e = earners[0] if earners else liv[0]
            for p in liv:
                if p is e:
                    continue
                cur = p.hr[m]
                if cur is not None and (cur[1] or cur[2] or cur[3]):
                    p.hr[m] = ["未就业", None, None, None] if 18 <= _age(p, self.ctx, m) <= 59 else None
            if need > 0:
                if e in earners:
                    st = "就业" if hh.opt.get("job_kind") != "flex" else "灵活就业"
                    e.hr[m] = [st, need + ded, None, None]
                else:
                    e.hr[m] = ["退休", None, need, None]
            else:
                e.hr[m] = ["未就业", None, None, None] if e in earners else None

    def _link_dups(self):
        prev = None
        for hh in self.households:
            if hh.roster is not None and hh.kind != "dup" and hh.kind not in ("deceased",) \
                    and all(hh.roster.active):
                prev = hh
            if hh.kind == "dup" and hh.roster is not None:
                if prev is None:
                    continue
                partner = prev.members[0]
                for m in range(self.ctx.K):
                    if hh.roster.active[m] and prev.roster.active[m] and partner not in hh.roster.listed[m]:
                        hh.roster.listed[m] = hh.roster.listed[m] + [partner]
                hh.roster.attrs[partner.id] = prev.roster.attrs.get(partner.id, (None, None, "有"))


def _age(p, ctx, m):
    d = last_day(ctx.months[m])
    a = d.year - p.birth.year
    if (d.month, d.day) < (p.birth.month, p.birth.day):
        a -= 1
    return a


# ---------------------------------------------------------------------------------
# scenario set-ups
# ---------------------------------------------------------------------------------

def _roster(ch: Chunk, hh, typ, disabled_share=0.15):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    since = month_add(ctx.months[0], -rng.randint(3, 60))
    r = Roster(f"MZ{ctx.county}{hh.g:08d}", typ, since)
    r.exit = [None] * K
    r.active = [True] * K
    r.fa = None if rng.random() < 0.2 else cents(rng.uniform(0, 6) * ctx.S[0]["农村"] / 100 * len(hh.members))
    rd = ctx.ref - timedelta(days=rng.randint(10, 200))
    r.review = [rd] * K
    if not hh.prot and rng.random() < 0.04:
        # approved during the window: on the roster from that month, reviewed just before
        m0 = rng.randrange(K)
        r.since = ctx.months[m0]
        r.active = [m >= m0 for m in range(K)]
        r.review = [last_day(month_add(ctx.months[m0], -1)) - timedelta(days=rng.randint(0, 20))] * K
    r.attrs = {}
    for p in hh.members:
        a = _age(p, ctx, 0)
        dt = dl = None
        if rng.random() < disabled_share:
            dt = rng.choices(DIS_TYPES, DIS_W)[0]
            dl = rng.choices(DIS_LEVELS, DIS_LW)[0]
        p.dtype, p.dlevel = dt, dl
        if a < 16:
            lab = "无"
        elif a >= 70:
            lab = "无"
        elif a >= 60:
            lab = "部分"
        elif dl in ("一级", "二级"):
            lab = "无"
        elif dl == "三级":
            lab = "部分"
        else:
            lab = "有"
        p.labor = lab
        r.attrs[p.id] = (dt, dl, lab)
    r.listed = [list(hh.members) for _ in range(K)]
    r.benefit = [0] * K
    r.mismatch = None
    hh.roster = r
    hh.other = 0
    # the bureau updates the review date some months when it is due
    for m in range(1, K):
        if rng.random() < 0.3 and not hh.prot:
            d = first_day(ctx.months[m]) + timedelta(days=rng.randint(0, 27))
            for k in range(m, K):
                r.review[k] = d
    return r


def _kill_none(hh):
    for p in hh.members:
        p.death_m = None
        p.reg_dead_m = None
        p.out_m = None
        p.events = [e for e in p.events if e[1] != "死亡"]


def _low_target(ch, hh, share_lo=0.05, share_hi=0.85):
    ctx, rng = ch.ctx, ch.rng
    ur = "城市" if hh.urban else "农村"
    t = cents(rng.uniform(share_lo, share_hi) * ctx.S[0][ur] / 100)
    return [t] * ctx.K


def setup_db(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _kill_none(hh) if hh.prot else None
    r = _roster(ch, hh, "低保", 0.2)
    hh.target = _low_target(ch, hh)
    n = len(hh.members)
    if opt.get("zero_emp") or (hh.urban and rng.random() < 0.5):
        hh.other = min(hh.target) * n   # declared support; nobody employed
        for p in hh.members:
            if 18 <= _age(p, ctx, 0) <= 59:
                r.attrs[p.id] = (None, None, "有")
                p.dtype = p.dlevel = None
                p.labor = "有"
                if p.edu:
                    p.edu = None
    else:
        hh.other = cents(rng.uniform(0, 0.3) * min(hh.target) / 100) * n // 100 * 100
    if opt.get("review_due"):
        r.review = [years_before(ctx.ref, 1)] * K
    edge = opt.get("review_edge")
    if edge:
        # due exactly on the last day of month j (day capped), or on the 1st of month j+1
        mj = ctx.months[hh.j]
        cyc = int(ctx.P[hh.j]["review_cycle_months_unstable"])
        if edge == "at":
            rd = last_day(month_add(mj, -cyc))
        else:
            rd = first_day(month_add(mj, 1 - cyc))
        r.review = [rd] * K
    if opt.get("mismatch"):
        r.mismatch = opt["mismatch"]
    elif rng.random() < 0.05:
        r.mismatch = rng.choice(["over", "under", "at"])
    if opt.get("turns") or opt.get("turns_near"):
        r.stale = True
    if opt.get("dropout"):
        kid = hh.members[-1]
        kid.edu = ["高中", ctx.geo.name + "第一高级中学", ["在读"] * K, cents(3000), 0]
        for m in range(hh.j, K):
            kid.edu[2][m] = "辍学"
    if opt.get("grade"):
        hh.members[0].house = [1, None, "否", [opt["grade"]] * K]
    if opt.get("disaster"):
        for m in sorted({hh.j, 0}):
            ch._emerg(hh, m, "风雹", 5, "倒塌")
    if hh.prot:
        for p in hh.members:
            p.settle = []
    ch.apply_targets(hh)


def setup_exit_start(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _kill_none(hh)
    r = _roster(ch, hh, "低保", 0.1)
    low = _low_target(ch, hh, 0.3, 0.8)
    to = opt.get("to") or rng.choice(["S", "S-", "2S-", "2S", "S", "S"])
    j = hh.j
    hh.target = [low[m] if m < j else ch.target_income(hh, m, to) for m in range(K)]
    hh.other = 0
    for m in range(j + 1, K):
        if rng.random() < 0.6 and not hh.prot:
            for k in range(m, K):
                r.exit[k] = ctx.months[m]
            break
    ch.apply_targets(hh)


def setup_in_exit(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _kill_none(hh)
    r = _roster(ch, hh, "低保", 0.0)
    limit = opt.get("limit") or rng.choice([18, 18, 24])
    if limit == 24:
        p = hh.members[-1]
        p.dtype, p.dlevel = "听力", "四级"
        r.attrs[p.id] = ("听力", "四级", r.attrs[p.id][2])
    j = hh.j
    start_exit = month_add(ctx.months[j], -limit)
    r.exit = [start_exit] * K
    rv = opt.get("revert")
    if rv is None and not hh.prot and rng.random() < 0.25:
        rv = rng.choice(["S-", "raise"])
    if rv == "S-":
        hh.target = [ch.target_income(hh, m, "S-") if m >= j else ch.target_income(hh, m, "S")
                     for m in range(K)]
    elif rv == "raise":
        hh.target = [ch.target_income(hh, m, "raise") for m in range(K)]
    else:
        extra = cents(rng.uniform(0, 0.8) * ctx.S[0]["农村"] / 100)
        hh.target = [ch.target_income(hh, m, "S") + extra for m in range(K)]
    hh.other = 0
    # the bureau ends the exit two months after it became due
    if not hh.prot and rv is None:
        for m in range(j + 2, K):
            r.active[m] = False
    ch.apply_targets(hh)


def setup_assets(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _kill_none(hh)
    r = _roster(ch, hh, "低保", 0.1)
    hh.target = _low_target(ch, hh)
    hh.other = 0
    n = len(hh.members)
    ur = "城市" if hh.urban else "农村"
    kind = opt.get("fa") or ("props" if opt.get("props") else rng.choice(["at", "over", "props"]))
    if kind == "at":
        r.fa = 24 * ctx.S[0][ur] * n
    elif kind == "over":
        r.fa = 24 * max(s[ur] for s in ctx.S) * n + 1
    else:
        hh.members[0].house = [2, None, "否", [None] * K]
    ch.apply_targets(hh)


def setup_tk(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _kill_none(hh)
    r = _roster(ch, hh, "特困", 0.3)
    if opt.get("near60"):
        p = hh.members[1]
        p.dtype = p.dlevel = None
        p.labor = "有"
        r.attrs[p.id] = (None, None, "有")
    hh.other = 0
    for p in hh.members:
        p.hr = [None] * K
        p.house = None
    hh.members[0].house = [1, None, "否", [None] * K]
    if opt.get("pension") or (not hh.prot and rng.random() < 0.1):
        hh.members[0].hr = [["退休", None, cents(rng.uniform(150, 300)), None] for _ in range(K)]
    if opt.get("mismatch") or (not hh.prot and rng.random() < 0.05):
        r.mismatch = "over"
    r.fa = None if rng.random() < 0.5 else cents(rng.uniform(0, 5000))


def setup_by(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _kill_none(hh)
    r = _roster(ch, hh, "低保边缘", 0.1)
    to = opt.get("to") or rng.choice(["S", "1.5S-", "1.5S", "S-", None, None, None, None])
    if to is None:
        ur = "城市" if hh.urban else "农村"
        t = cents(rng.uniform(1.0, 1.45) * ctx.S[-1][ur] / 100)
        hh.target = [t] * K
    else:
        hh.target = [ch.target_income(hh, m, to) for m in range(K)]
    hh.other = 0
    if opt.get("severe") or (not hh.prot and rng.random() < 0.2):
        p = hh.members[-1]
        p.dtype, p.dlevel = "肢体", "二级"
        r.attrs[p.id] = ("肢体", "二级", "无" if _age(p, ctx, 0) >= 16 else "无")
    shock = opt.get("shock") or (rng.choice(["ill", "disaster", "jobloss", "dropout"])
                                 if not hh.prot and rng.random() < 0.4 else None)
    _plant_shock(ch, hh, shock)
    ch.apply_targets(hh)
    if shock == "jobloss":
        _job_loss(ch, hh)


def _plant_shock(ch, hh, shock):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    j = hh.j
    if shock == "ill":
        p = hh.members[-1]
        p.ill_m = j
        p.events = [e for e in p.events if e[1] != "重大疾病"] + [(j, "重大疾病", rng.choice(DIAG_MAJOR), None)]
        for m in range(j, K):
            ch._settle(p, m, rng.uniform(20000, 50000), assist=True)
    elif shock == "disaster":
        ch._emerg(hh, j, rng.choice(["洪涝", "风雹"]), rng.randint(1, 28), "严重损坏", cents(12000))
    elif shock == "dropout":
        kid = None
        for p in hh.members:
            if p.edu and p.edu[0] in ("初中", "高中", "中职"):
                kid = p
        if kid is None:
            kid = hh.members[-1]
            kid.edu = ["初中", ctx.geo.name + "第二中学", ["在读"] * K, cents(600), 0]
        for m in range(j, K):
            kid.edu[2][m] = "辍学"


def _job_loss(ch, hh):
    """The earner is employed until month j-1 and registered unemployed from j."""
    K, j = ch.ctx.K, max(1, hh.j)
    if j >= K:
        return
    for p in hh.members:
        if p.hr and p.hr[j - 1] and p.hr[j - 1][0] in ("就业", "灵活就业"):
            for m in range(j, K):
                p.hr[m] = ["失业登记", None, None, cents(1600)]
            break


def setup_zc(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _kill_none(hh)
    r = _roster(ch, hh, "支出型困难", 0.1)
    ur = "城市" if hh.urban else "农村"
    hh.other = 0
    hh.target = [ctx.S[m][ur] * 8 // 5 for m in range(K)]
    n = len(hh.members)
    p = hh.members[-1]
    p.ill_m = 0
    p.events = [e for e in p.events if e[1] != "重大疾病"] + [(0, "重大疾病", rng.choice(DIAG_MAJOR), None)]
    p.settle = []
    need = 12 * n * (ctx.S[-1][ur] * 8 // 5 - ctx.S[-1][ur]) / 100
    for m in range(K):
        ch._settle(p, m, need * rng.uniform(1.1, 1.4) / 0.35, assist=True)
    ch.apply_targets(hh)


def setup_deceased(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _kill_none(hh)
    r = _roster(ch, hh, "低保", 0.1)
    hh.target = _low_target(ch, hh)
    hh.other = 0
    ch.apply_targets(hh)
    p = hh.members[0] if opt.get("single") else hh.members[1]
    ch._die(p, hh.j, health=True if hh.prot else None, reg_lag=0 if hh.prot else "random")
    for m in range(p.death_m, K):
        p.hr[m] = None


def setup_dup(ch, hh, opt):
    setup_db(ch, hh, {})


def _hidden(ch, hh, signal=True):
    """Register household with a signal every month (an unemployed adult or a settlement)."""
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _kill_none(hh)
    if not signal:
        return
    for m in range(K):
        ch._settle(hh.members[0], m, rng.uniform(300, 1500), assist=False) \
            if not any(s[0] == m for s in hh.members[0].settle) else None


def setup_hid_dibao(ch, hh, opt):
    _hidden(ch, hh)
    hh.target = _low_target(ch, hh, 0.0, 0.8)
    hh.other = 0
    ch.apply_targets(hh)
    _maybe_approve(ch, hh)


def _maybe_approve(ch, hh):
    """A household found in month j is approved into the roster from j+2."""
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    if hh.prot or hh.j + 2 >= K or rng.random() > 0.3:
        return
    m0 = hh.j + 2
    target, other = hh.target, hh.other
    r = _roster(ch, hh, "低保", 0.1)
    r.since = ctx.months[m0]
    r.active = [m >= m0 for m in range(K)]
    r.review = [last_day(ctx.months[m0 - 1])] * K
    r.fa = None
    hh.target, hh.other = target, other


def setup_hid_tekun(ch, hh, opt):
    _hidden(ch, hh)
    for p in hh.members:
        p.hr = [None] * ch.ctx.K
    hh.other = 0


def setup_hid_marginal(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _hidden(ch, hh)
    ur = "城市" if hh.urban else "农村"
    t = cents(rng.uniform(1.0, 1.4) * ctx.S[-1][ur] / 100)
    hh.target = [t] * K
    hh.other = 0
    if opt.get("ill") or (not hh.prot and rng.random() < 0.4):
        p = hh.members[-1]
        p.ill_m = hh.j
        p.events.append((hh.j, "重大疾病", rng.choice(DIAG_MAJOR), None))
    ch.apply_targets(hh)


def setup_hid_exp(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    _kill_none(hh)
    ur = "城市" if hh.urban else "农村"
    hh.other = 0
    hh.target = [ctx.S[m][ur] * 17 // 10 for m in range(K)]
    n = len(hh.members)
    p = hh.members[-1]
    p.settle = []
    need = 12 * n * (ctx.S[-1][ur] * 17 // 10 - ctx.S[-1][ur]) / 100
    for m in range(K):
        ch._settle(p, m, need * rng.uniform(1.1, 1.4) / 0.35, assist=False)
    ch.apply_targets(hh)


def setup_hid_assets(ch, hh, opt):
    _hidden(ch, hh)
    hh.target = _low_target(ch, hh)
    hh.other = 0
    hh.members[0].house = [2, None, "否", [None] * ch.ctx.K]
    ch.apply_targets(hh)


def setup_rr(ch, hh, opt):
    ctx, rng, K = ch.ctx, ch.rng, ch.ctx.K
    if hh.urban:
        return
    cat = opt.get("category") or rng.choices(["脱贫户", "脱贫不稳定户", "边缘易致贫户", "突发严重困难户"],
                                              [70, 10, 12, 8])[0]
    risk = opt.get("risk") or (("是" if rng.random() < 0.9 else "否") if cat == "脱贫户"
                               else ("否" if rng.random() < 0.6 else "是"))
    low = opt.get("low") or ("below" if hh.kind == "rr_low" else None)
    if low == "below":
        annual = cents(rng.choice([7299.99, rng.uniform(5000, 7299)]))
    elif low == "at":
        annual = cents(7300)
    else:
        annual = cents(rng.uniform(7400, 24000))
    other = None if rng.random() < 0.2 else cents(rng.uniform(0, 600))
    hh.rr = [f"TP{hh.village[6:]}{hh.g:08d}", cat, risk, annual, other]
    hh.other = other or 0
    if hh.prot:
        _kill_none(hh)
        for p in hh.members:
            p.settle = []
            p.events = []
            p.ill_m = None
    if opt.get("grade"):
        hh.members[0].house = [1, None, "否", [opt["grade"]] * K]
    _plant_shock(ch, hh, opt.get("shock"))
    if opt.get("overlap") or (not hh.prot and rng.random() < 0.25 and ch.rng.random() < 0.3):
        r = _roster(ch, hh, "低保", 0.1)
        hh.target = _low_target(ch, hh)
        ch.apply_targets(hh)


SETUPS = {
    "db": setup_db, "db_exit_start": setup_exit_start, "db_in_exit": setup_in_exit,
    "db_assets": setup_assets, "tk": setup_tk, "by": setup_by, "zc": setup_zc,
    "deceased": setup_deceased, "dup": setup_dup, "hid_dibao": setup_hid_dibao,
    "hid_tekun": setup_hid_tekun, "hid_marginal": setup_hid_marginal, "hid_exp": setup_hid_exp,
    "hid_assets": setup_hid_assets, "rr": setup_rr, "rr_low": setup_rr,
}


# ---------------------------------------------------------------------------------
# monthly records
# ---------------------------------------------------------------------------------

def _bureau_benefit(ch: Chunk, hh, m):
    """What the bureau pays (cents), from its own (clean) view of the household."""
    ctx, r = ch.ctx, hh.roster
    ur = "城市" if hh.urban else "农村"
    S = ctx.S[m][ur]
    P = ctx.P[m]
    living = [p for p in r.listed[m] if p.death_m is None or p.death_m > m]
    n = len(living)
    if n == 0:
        return 0
    if r.type == "特困":
        exp = int(round(P["tekun_multiplier"] * 100)) * S * n // 100
    elif r.type == "低保":
        pinc = ded = 0
        for p in living:
            h = p.hr[m] if p.hr else None
            if h:
                w = h[1] or 0
                pinc += w + (h[2] or 0) + (h[3] or 0)
                if w > 0:
                    ded += min(w, 30000)
        income = pinc - ded + hh.other
        exp = max(S * n - income, 3000 * n)
        dis = [p for p in living if r.attrs.get(p.id, (None, None))[1] is not None]
        am = 0 if r.stale else m
        for p in living:
            lvl = r.attrs.get(p.id, (None, None, None))[1]
            a = _age(p, ctx, am)
            rate = 0
            if lvl in ("一级", "二级") or (p.ill_m is not None and p.ill_m <= m) or (a >= 60 and lvl):
                rate = 60
            if lvl and len(dis) >= 2:
                rate = max(rate, 55)
            if a >= 70 or a < 18:
                rate = max(rate, 50)
            exp += rate * S // 100
        if r.exit[m] is not None:
            return exp // 2
    else:
        return 0
    thr = max(1000, exp // 10)
    mm = r.mismatch
    if mm == "over":
        return exp + thr + 1 + ch.rng.randint(0, 5000)
    if mm == "under":
        return max(0, exp - thr - 1 - ch.rng.randint(0, 5000))
    if mm == "at":
        return exp + thr
    return exp


def emit(ch: Chunk):
    """Canonical records per month and source: recs[m][source] = [(record, protected)]."""
    ctx = ch.ctx
    K = ctx.K
    recs = [{s: [] for s in SOURCES + (["civil_affairs_decisions"] if ctx.variants else [])}
            for _ in range(K)]
    for hh in ch.households:
        ur = "城市" if hh.urban else "农村"
        prot = hh.prot
        mem = hh.members
        for m in range(K):
            R = recs[m]
            ym = ctx.months[m]
            y, mo = int(ym[:4]), int(ym[5:7])
            village = hh.village if hh.vm is None else hh.vm[m]
            reg = R["household_registration"]
            for p in mem:
                if p.reg_dead_m is not None and m >= p.reg_dead_m:
                    st = "死亡注销"
                elif p.out_m is not None and m >= p.out_m:
                    st = "迁出"
                else:
                    st = "正常"
                reg.append(((p.id, p.name, hh.hukou, p.rel, village, ur, st), prot))
            for p in mem:
                if p.out_m is not None and m >= p.out_m:
                    continue
                alive = p.death_m is None or p.death_m > m
                if alive:
                    h = p.hr[m] if p.hr else None
                    if h is not None:
                        R["hr"].append(((p.id, p.name, h[0], h[1], h[2], h[3]), prot))
                    if p.house is not None:
                        hs = p.house
                        R["housing"].append(((p.id, p.name, hs[0], hs[1], hs[2], hs[3][m]), prot))
                    if p.edu is not None:
                        e = p.edu
                        R["education"].append(((p.id, p.name, e[0], e[1], e[2][m], e[3], e[4]), prot))
                for e in p.events:
                    if e[0] == m:
                        day = e[3] or (p.birth.day * 7 + m * 3 + len(e[1])) % 28 + 1
                        R["health"].append(((p.id, p.name, e[1], e[2], date(y, mo, day)), prot))
                for s in p.settle:
                    if s[0] == m:
                        R["medical_insurance"].append(
                            ((p.id, p.name, date(y, mo, s[1]), s[2], s[3], s[4], s[5], s[6]), prot))
            for e in hh.emerg:
                if e[0] == m:
                    liv = [p for p in mem if (p.death_m is None or p.death_m >= m)]
                    if liv:
                        h = liv[0]
                        R["emergency"].append(((h.id, h.name, e[1], date(y, mo, e[2]), e[3], e[4], e[5]), prot))
            r = hh.roster
            if r is not None and r.active[m]:
                listed = [p for p in r.listed[m]
                          if (p.death_m is None or p.death_m >= m - 1 or hh.kind == "deceased")
                          and (p.out_m is None or p.out_m > m)]
                r.listed[m] = listed
                if ctx.parametric or ctx.variants:
                    from .variants import bureau_benefit
                    benefit = bureau_benefit(ch, hh, m)
                else:
                    benefit = _bureau_benefit(ch, hh, m)
                r.benefit[m] = benefit
                hrec = (r.hid, village, ur, r.type, r.since, r.exit[m], benefit, hh.other, r.fa, r.review[m])
                if ctx.variants:
                    vx = r.vx
                    hrec += (vx.get("support_mode"), vx.get("support"),
                             vx.get("pre_exit") if vx.get("pre_exit_col") and r.exit[m] is not None else None)
                R["civil_affairs_households"].append((hrec, prot))
                for p in listed:
                    a = r.attrs.get(p.id, (None, None, "有"))
                    rel = p.rel if p in mem else "其他"
                    mrec = (r.hid, p.id, p.name, rel, a[0], a[1], a[2])
                    if ctx.variants:
                        v = r.vattrs.get(p.id)
                        mrec += (None, None, None, None) if v is None else \
                            (v[0], None if v[1] is None else VETERAN_GRADES[v[1] - 1], v[2], v[3])
                    R["civil_affairs_members"].append((mrec, prot))
            for d in hh.decisions:
                if d[0] == m:
                    R["civil_affairs_decisions"].append(((d[1], d[2], d[3], d[4], date(y, mo, d[5])), prot))
            if hh.rr is not None:
                rid, cat, risk, annual, other = hh.rr
                for p in mem:
                    if (p.death_m is None or p.death_m >= m) and (p.out_m is None or p.out_m > m):
                        R["rural_revitalization"].append(((rid, village, p.id, p.name, p.rel, cat, risk,
                                                           annual, other), prot))
    return recs
