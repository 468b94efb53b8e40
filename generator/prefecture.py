"""A prefecture of several counties in one landing (`generate(..., counties=N)`, issue #19).

Each county is generated like the single county (its own code sharing the prefecture's 4-digit
prefix, towns, villages, parameters, coverage block in its first chunk); then what makes a
multi-county month hard is planted across the counties, and the oracle judges the whole
prefecture at once (one History: a household's history follows it wherever it lives):

* persons born in another county of the prefecture (their ID carries that county's code;
  `BORN_ELSEWHERE` of the persons, drawn by `Ctx.new_id`);
* movers: in every county a roster household (its review overdue, so that REVIEW_DUE is raised
  every month and its status must stay 持续 across the move) and a registered or rural-
  revitalization household move to a village of the next county (same 城乡类别) from the middle
  month on: their region code changes, their household number and members stay;
* a person listed in two counties' rosters: an adult member of a roster household of county k is
  also listed, every month, in a roster household of county k+1 (DUPLICATE_ASSISTANCE for both);
* mistyped IDs (one substitution or one adjacent transposition, the county code left as is) in
  `hr`, `housing` and `medical_insurance` rows of persons born in another county than the one
  they live in, each month: linking must look at the known persons of every county.

`truth/prefecture.csv` lists what was planted (kind, month, household_source, household_id,
member_id_number, county_code, detail).
"""
from __future__ import annotations

import random
from collections import Counter
from datetime import date

from . import ids as I
from .model import Chunk, emit, first_day
from .oracle import CA, HR_SRC, RR, History, MonthInput, audit_population, draw_audit
from .params import month_add

BORN_ELSEWHERE = 0.2          # share of persons whose ID carries another county's code
TYPO_SOURCES = ("hr", "housing", "medical_insurance")
PLANTED = ["kind", "month", "household_source", "household_id", "member_id_number", "county_code", "detail"]
ATTRS = ("households", "members", "register", "education", "hr", "housing", "health", "medical",
         "emergency", "rr", "decisions")


# coverage households that may carry a planting when a small county has no other roster household
# (their thresholds do not rest on the review date or on the members' income)
FALLBACK_KINDS = ("tk", "zc", "db")
FALLBACK_AVOID = {"review_edge", "review_due", "mismatch", "turns", "turns_near", "zero_emp"}


def _stable_roster(hh, K, prot_ok=False):
    r = hh.roster
    if hh.prot and not (prot_ok and hh.kind in FALLBACK_KINDS and not FALLBACK_AVOID & set(hh.opt)):
        return False
    return (r is not None and hh.vm is None and hh.kind not in ("dup", "deceased")
            and all(r.active) and r.type in ("低保", "特困", "低保边缘")
            and all(p.death_m is None and p.out_m is None for p in hh.members)
            and all(len(r.listed[m]) == len(hh.members) for m in range(K)))


def _plain(hh):
    """A registered (hidden) or rural-revitalization household without a roster entry."""
    return (hh.roster is None and not hh.prot and hh.vm is None
            and (hh.kind.startswith("hid_") or hh.rr is not None)
            and all(p.death_m is None and p.out_m is None for p in hh.members))


def _hid(hh):
    if hh.roster is not None:
        return CA, hh.roster.hid
    if hh.rr is not None:
        return RR, hh.rr[0]
    return HR_SRC, hh.hukou


def _rosters(hhs, K, taken):
    """Stable roster households not taken yet; coverage ones (FALLBACK_KINDS) only when none."""
    pool = [hh for hh in hhs if id(hh) not in taken and _stable_roster(hh, K)]
    return pool or [hh for hh in hhs if id(hh) not in taken and _stable_roster(hh, K, prot_ok=True)]


def plant(chunks, geos, months, seed):
    """Movers and persons listed in two counties' rosters (before the records are emitted).
    -> rows of truth/prefecture.csv."""
    rng = random.Random(f"{seed}|prefecture")
    K, N = len(months), len(geos)
    by_county = [[hh for ch in chunks if ch.county_k == k for hh in ch.households] for k in range(N)]
    rows = []
    taken = set()
    for k in range(N - 1):
        a = _rosters(by_county[k], K, taken)
        b = _rosters(by_county[k + 1], K, taken)
        if not a or not b:
            continue
        ha, hb = rng.choice(a), rng.choice(b)
        taken.update((id(ha), id(hb)))
        ha.prot = hb.prot = True   # their rows carry no defect (the person stays listed twice)
        ages = [p for p in ha.members if 18 <= (date(int(months[0][:4]), 1, 1) - p.birth).days // 365 <= 59]
        p = rng.choice(ages or ha.members)
        for m in range(K):
            hb.roster.listed[m] = hb.roster.listed[m] + [p]
        hb.roster.attrs[p.id] = ha.roster.attrs.get(p.id, (None, None, "有"))
        for hh, g in ((ha, geos[k]), (hb, geos[k + 1])):
            rows.append(("duplicate", "", CA, hh.roster.hid, p.id, g.code, ""))
    if K >= 2:
        mv = K // 2
        old_review = first_day(month_add(months[0], -14))
        for k in range(N):
            dest = geos[(k + 1) % N]
            # the second mover of the first county: a registered household found by its medical
            # costs (EXPENDITURE rests on out-of-pocket M-11..M, landed before and after the move)
            exp = [hh for hh in by_county[k] if hh.kind == "hid_exp" and hh.vm is None and hh.roster is None
                   and all(p.death_m is None and p.out_m is None for p in hh.members)] if k == 0 else []
            pools = [_rosters(by_county[k], K, taken), exp or [hh for hh in by_county[k] if _plain(hh)]]
            for pool in pools:
                if not pool:
                    continue
                hh = rng.choice(pool)
                taken.add(id(hh))
                vs = [v[0] for v in dest.villages if v[2] == hh.urban]
                if not vs:
                    continue
                if hh.roster is not None:
                    hh.roster.review = [old_review] * K   # REVIEW_DUE every month
                hh.prot = True   # its rows carry no defect (its history rests on them)
                hh.vm = [hh.village] * mv + [rng.choice(vs)] * (K - mv)
                src, hid = _hid(hh)
                rows.append(("mover", months[mv], src, hid, "", dest.code, geos[k].code))
    return rows


def _typo(pid, areas, rng):
    """A mistyped ID linkable to pid only, its county code (positions 1-6) kept."""
    for _ in range(8):
        x = I.corrupt_typo(pid, areas, rng)
        if x is not None and x[:6] == pid[:6]:
            return x, "typo_1"
    for _ in range(4):
        x = I.corrupt_transposition(pid, areas, rng)
        if x is not None and x[:6] == pid[:6]:
            return x, "transposition"
    return None, None


def typo_planter(ch, seed, out):
    """render_chunk's `typos` hook: in each TYPO_SOURCES file of each month, one row of a person
    living in another county than the one of their ID's code gets a mistyped ID (a linkable
    `typo_1` / `transposition`). Appends (month, source, row index in the chunk, true ID, county
    lived in) to `out`."""
    home = {}
    for hh in ch.households:
        for p in hh.members:
            home[p.id] = hh
    amb = {p.id for pair in ch.amb_pairs for p in pair}
    ctx = ch.ctx

    def typos(plan, rows, tags, items, rp, m):
        s, ym = plan.source, plan.month
        ic = rp.id_col
        if s not in TYPO_SOURCES or ic is None or not rows:
            return tags
        tagged = {i for i, _ in tags}
        seen = Counter(r[ic] for r in rows)
        cands = []
        for i, r in enumerate(rows):
            pid = r[ic]
            hh = home.get(pid)
            if i in tagged or hh is None or seen[pid] != 1 or pid in ch.near_dups or pid in amb:
                continue
            lives = (hh.village if hh.vm is None else hh.vm[m])[:6]
            if pid[:6] != lives:
                cands.append((i, pid, lives))
        if not cands:
            return tags
        rng = random.Random(f"{seed}|ptypo|{ch.index}|{ym}|{s}")
        i, pid, lives = rng.choice(cands)
        x, method = _typo(pid, ctx.id_areas, rng)
        if x is None:
            return tags
        r = rows[i]
        if isinstance(r, list):
            r[ic] = x
        else:
            rows[i] = r[:ic] + (x,) + r[ic + 1:]
        rp.protected.add(pid)
        out.append((ym, s, i, pid, lives))
        return sorted(tags + [(i, (None, (pid, method), None, False))], key=lambda t: t[0])
    return typos


def run(ctxs, plans, jobs, messy_rate, truth, geos, pbms, months, seed, non_gbk, render_chunk, judge_month):
    """All chunks of every county -> ([(files, {}, used, typos) per chunk], {month: truth rows},
    {month: audit rows}, prefecture.csv rows). `ctxs[k][lane]`; jobs (ci, k, g0, count, coverage)."""
    chunks = []
    rare = [0, 0]
    for ci, k, g0, count, cover in jobs:
        lane = ci % 2
        ctx = ctxs[k][lane]
        ctx.rare = rare[lane]
        ch = Chunk(ctx, ci, g0, count, coverage=cover)
        rare[lane] = ctx.rare
        ch.county_k = k
        chunks.append(ch)
    planted = plant(chunks, geos, months, seed)
    dup_ids = {r[4] for r in planted if r[0] == "duplicate"}
    recs = [emit(ch) for ch in chunks]
    results, mis_all = [], []
    for ch, rc in zip(chunks, recs):
        used = Counter()
        if messy_rate > 0:
            non_gbk(ch, rc, plans, months, messy_rate, seed, used, exclude=dup_ids)
        typos = []
        files, mis = render_chunk(ch.ctx, plans, ch, rc, messy_rate, used, typos=typo_planter(ch, seed, typos))
        results.append((files, {}, used, typos))
        mis_all.append(mis)
    out_truth, out_audit = {}, {}
    if truth:
        hist = History()
        codes = [g.code for g in geos]
        for m, ym in enumerate(months):
            mi = MonthInput(ym, pbms[0][m], {c: pbms[k][m] for k, c in enumerate(codes)})
            for mis in mis_all:
                part = mis[m]
                mi.present |= part.present
                for a in ATTRS:
                    getattr(mi, a).extend(getattr(part, a))
            tr = judge_month(mi, hist)
            out_truth[ym] = tr
            # the audit draw is per county (the rate is a county parameter)
            rows = []
            for k, c in enumerate(codes):
                pop = {h: v for h, v in tr[2].items() if v[1][:6] == c}
                rows.extend(draw_audit(ym, pop, pbms[k][m]))
            out_audit[ym] = rows
    return results, out_truth, out_audit, planted
