"""generate(): the synthetic county's landing data and its planted ground truth."""
from __future__ import annotations

import csv
import hashlib
import io
import math
from fractions import Fraction
import random
import re
import shutil
import zipfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from .columns import DECISIONS, sources_for
from .ids import id_areas, make_id
from .model import Chunk, Ctx, SOURCES, emit
from .oracle import (ROSTER, History, MonthInput, audit_population, draw_audit, evaluate, merge_population,
                     skip_month)
from .params import (Geography, county_periods, has_variant_params, load_policy, merge_periods, month_add,
                     period_of, periods_for, policy_yaml, policy_yaml_multi, policy_yaml_v, prefecture_counties)
from .names import COMPOUND
from .render import DATED, NON_GBK_CHARS, FilePlan, RowPlanner, Writer, make_plans, row_renderer

ATTR = {"civil_affairs_households": "households", "civil_affairs_members": "members",
        "household_registration": "register", "education": "education", "hr": "hr",
        "housing": "housing", "health": "health", "medical_insurance": "medical",
        "emergency": "emergency", "rural_revitalization": "rr", DECISIONS: "decisions"}
DATE_IDX = {"health": 4, "medical_insurance": 2, "emergency": 3, DECISIONS: 4}

TRUTH_FILES = {
    "determinations": ["month", "household_source", "household_id", "category", "reason_codes"],
    "alerts": ["month", "household_source", "household_id", "alert_type", "member_id_number",
               "priority", "status", "first_month"],
    "quarantine": ["month", "source", "row_number", "reason_code"],
    "links": ["month", "source", "row_number", "true_id_number", "method"],
    "variants": ["month", "source", "row_number", "variant"],
    "withheld": ["month", "household_source", "household_id", "alert_type", "missing_sources"],
}
# variant mode (rules-variants.md): alerts gain their reason codes, audit_sample its source and town
ALERTS_V = TRUTH_FILES["alerts"] + ["reasons"]
AUDIT = ["month", "household_id", "new_approvals"]
AUDIT_V = AUDIT + ["source", "town_code"]
PLANTED = ["household_id", "case", "member_id_number", "month"]
UNDELIVERED_MODES = ("missing", "refused", "quarantined")
# the required column left empty in every row of a "quarantined" file (not the ID, the name
# or a date: the rows stay persons, and a dated file still falls in its month)
ALL_BAD_COL = {"civil_affairs_households": 2, "civil_affairs_members": 6, "household_registration": 6,
               "education": 4, "hr": 2, "housing": 4, "health": 2, "medical_insurance": 3,
               "emergency": 4, "rural_revitalization": 5, DECISIONS: 3}


def parse_undelivered(items, months, allow_roster=False) -> dict:
    """`undelivered` of generate(): items "YYYY-MM:source", "YYYY-MM:source:refused" or
    "YYYY-MM:source:quarantined" (or tuples (month, source[, mode])) -> {(month, source): mode}."""
    out = {}
    for it in items or ():
        parts = it.split(":") if isinstance(it, str) else list(it)
        if len(parts) == 2:
            parts.append("missing")
        if len(parts) != 3:
            raise ValueError(f"undelivered: expected MONTH:SOURCE[:refused|:quarantined], got {it!r}")
        ym, src, mode = (str(x).strip() for x in parts)
        if ym not in months:
            raise ValueError(f"undelivered: month {ym} is not one of the generated months "
                             f"({months[0]}..{months[-1]})")
        if src not in SOURCES and src != DECISIONS:
            raise ValueError(f"undelivered: unknown source {src!r}; one of {', '.join(SOURCES + [DECISIONS])}")
        if mode not in UNDELIVERED_MODES:
            raise ValueError(f"undelivered: mode {mode!r} must be one of {', '.join(UNDELIVERED_MODES)}")
        if src in ROSTER and not allow_roster:
            raise ValueError(f"undelivered: {src} is the bureau's roster; without it the run for {ym} "
                             "stops (interface.md), so the generator does not leave it out or break it "
                             "unless asked to (allow_roster=True / --allow-roster, for tests of that "
                             "fatal case)")
        out[(ym, src)] = mode
    return out


def apply_undelivered(plans, und, seed):
    """Replace the plans of the undelivered files: absent, refused as a whole (a required
    column left out: `missing_column`), or accepted with every row quarantined
    (`missing_required`; a file of a dated source with no event that month gets one row)."""
    for (ym, s), mode in sorted(und.items()):
        p = FilePlan(ym, s, plans[(ym, s)].cols)
        if mode == "missing":
            p.missing = True
        elif mode == "quarantined":
            p.all_bad = ALL_BAD_COL[s]
        else:
            p.refuse = "missing_column"
            req = [i for i, c in enumerate(p.cols) if c[3] and c[2] != "id"]
            p.drop_col = random.Random(f"{seed}|undelivered|{ym}|{s}").choice(req)
        plans[(ym, s)] = p


class _TruthSink:
    """Per-month spill files, concatenated in month order at the end."""

    def __init__(self, tdir: Path, months, headers=None):
        self.tdir = tdir
        self.months = months
        self.headers = headers or TRUTH_FILES
        tmp = tdir / ".tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        self.files = {}
        self.writers = {}
        for name in self.headers:
            for ym in months:
                f = open(tmp / f"{name}.{ym}.csv", "w", encoding="utf-8", newline="")
                self.files[(name, ym)] = f
                self.writers[(name, ym)] = csv.writer(f, lineterminator="\n")

    def add(self, name, ym, rows):
        if rows:
            self.writers[(name, ym)].writerows(rows)

    def close(self):
        for f in self.files.values():
            f.close()
        tmp = self.tdir / ".tmp"
        for name, header in self.headers.items():
            with open(self.tdir / f"{name}.csv", "wb") as out:
                out.write((",".join(header) + "\n").encode())
                for ym in self.months:
                    with open(tmp / f"{name}.{ym}.csv", "rb") as f:
                        shutil.copyfileobj(f, out)
        shutil.rmtree(tmp)


def _fix_zip(path: Path):
    """openpyxl stamps the current time into the archive; make XLSX files reproducible."""
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2000-01-01T00:00:00Z", data)
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)


def _prev_month_date(d: date) -> date:
    first = date(d.year, d.month, 1)
    prev_last = first - timedelta(days=1)
    return prev_last.replace(day=min(d.day, prev_last.day))


def _shape(plan, cells):
    if plan.drop_col is not None:
        cells = [c for i, c in enumerate(cells) if i != plan.drop_col]
    if plan.extra:
        cells = list(cells) + ["" if plan.fmt == "csv" else None]
    return cells


def _encode_csv(plan, rows):
    """-> (bytes, encoding used when it is not the plan's: "gb18030" for a GBK file with a name
    outside GBK, else None)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if plan.enc in ("gbk", "gb18030") else "\n")
    if plan.drop_col is None and not plan.extra:
        w.writerows(rows)
    else:
        w.writerows([_shape(plan, r) for r in rows])
    enc = "utf-8" if plan.enc == "utf-8-sig" else plan.enc
    text = buf.getvalue()
    if enc == "gbk":
        try:
            return text.encode("gbk"), None
        except UnicodeEncodeError:
            # a name outside GBK (𠮷, 䶮): the file is written as GB18030, whose bytes for
            # everything GBK holds are GBK's (the header and the rows already written stay valid)
            return text.encode("gb18030"), "gb18030"
    return text.encode(enc), None


NAME_COL = {"civil_affairs_members": (1, 2), "household_registration": (0, 1), "education": (0, 1),
            "hr": (0, 1), "housing": (0, 1), "health": (0, 1), "medical_insurance": (0, 1),
            "emergency": (0, 1), "rural_revitalization": (2, 3)}  # source -> (ID, name) columns


def _non_gbk_names(ch, recs, plans, months, rate, seed, used, exclude=frozenset()):
    """Messy mode: some persons' names hold a character outside GBK (𠮷 U+20BB7, 䶮 U+4DAE) in
    every source; two per chunk at least (one each), then at rate R/20 of the persons. Not
    twins, same-name neighbours, ambiguous pairs or unique compound names (linkage proofs rely
    on them), nor anyone in the forced GBK file (it stays GBK); one in the forced GB18030 file."""
    keep, want = set(), set()
    for m, ym in enumerate(months):
        for s, (ic, _) in NAME_COL.items():
            p = plans[(ym, s)]
            if p.keep_gbk:
                keep.update(r[ic] for r, _ in recs[m][s])
            elif p.non_gbk_here:
                want.update(r[ic] for r, _ in recs[m][s])
    amb = {p.id for pair in ch.amb_pairs for p in pair}
    rng = random.Random(f"{seed}|non_gbk|{ch.index}")
    cands = [(p, hh) for hh in ch.households for p in hh.members
             if "·" not in p.name and p.name[:2] not in COMPOUND and p.id not in ch.near_dups
             and p.id not in ch.rare_ids and p.id not in amb and p.id not in keep and p.id not in exclude]
    if not cands:
        return
    chosen = [c for c in cands if rng.random() < rate / 20]
    if not any(p.id in want for p, _ in chosen):
        w = [c for c in cands if c[0].id in want]
        if w:
            chosen.insert(0, rng.choice(w))
    while len(chosen) < 2 and len(chosen) < len(cands):
        c = rng.choice(cands)
        if c not in chosen:
            chosen.append(c)
    rename = {}
    for i, (p, hh) in enumerate(chosen):
        c = NON_GBK_CHARS[i] if i < 2 else rng.choice(NON_GBK_CHARS)
        new = p.name[0] + c + p.name[2:]
        if new == p.name or any(q.name == new for q in hh.members):
            continue
        p.name = new
        rename[p.id] = new
        used["name_non_gbk"] += 1
    for R in recs:
        for s, (ic, nc) in NAME_COL.items():
            rows = R[s]
            for k, (r, prot) in enumerate(rows):
                new = rename.get(r[ic])
                if new is not None:
                    rows[k] = (r[:nc] + (new,) + r[nc + 1:], prot)


def _all_bad_rows(plan, items):
    """Every row quarantined for a missing required value (the file counts as undelivered)."""
    base = row_renderer(plan.source, plan.fmt, plan.cols)
    rows = []
    for rec, _ in items:
        cells = list(base(rec))
        cells[plan.all_bad] = "" if plan.fmt == "csv" else None
        rows.append(cells)
    return rows, [(i, ("missing_required", None, None, False)) for i in range(len(rows))]


def run_chunk(ctx, plans, ci, g0, count, messy_rate, truth):
    """Generate one chunk of households for every month: file payloads, tags and truth."""
    ch = Chunk(ctx, ci, g0, count)
    recs = emit(ch)
    used = Counter()
    if messy_rate > 0:
        _non_gbk_names(ch, recs, plans, ctx.months, messy_rate, ctx.seed, used)
    out_files, mis = render_chunk(ctx, plans, ch, recs, messy_rate, used)
    out_truth = {}
    if truth:
        hist = History()
        for mi in mis:
            out_truth[mi.month] = judge_month(mi, hist, ctx.variants)
    return out_files, out_truth, used, ch.planted


def judge_month(mi, hist, variants=False):
    """The oracle on one month -> (determinations, alerts, audit population, withheld) rows."""
    ym = mi.month
    if not all(s in mi.present for s in ROSTER):
        # no roster: the run for the month stops (interface.md); nothing is published
        skip_month(mi, hist)
        return ([], [], {}, [])
    dets, alerts, withheld = evaluate(mi, hist)
    if not variants:
        alerts = [a[:7] for a in alerts]
    return ([(ym,) + d for d in dets], [(ym,) + a for a in alerts], audit_population(mi),
            [(ym,) + w for w in withheld])


def render_chunk(ctx, plans, ch, recs, messy_rate, used, typos=None):
    """The rows of one chunk's records in every file of every month -> (out_files, [MonthInput per
    month]: what the files say after normalization). `typos(plan, rows, tags, items, rp, m)`: a
    prefecture's planted mistyped IDs (prefecture.plant_typos)."""
    seed = ctx.seed
    ci = ch.index
    out_files = {}
    mis = []
    srcs = list(recs[0]) if recs else list(SOURCES)
    order = [s for s in srcs if s != "household_registration"] + ["household_registration"]
    for m, ym in enumerate(ctx.months):
        mi = MonthInput(ym, ctx.P[m])
        mis.append(mi)
        protected = set()
        reg = plans[(ym, "household_registration")]
        links = not (reg.missing or reg.refuse or reg.all_bad is not None)
        for s in order:
            plan = plans[(ym, s)]
            items = recs[m][s]
            if plan.header_only:
                items = []
            if plan.missing:
                out_files[(ym, s)] = (None, 0, [], None)
                continue
            if plan.refuse:
                rows = []
                if plan.refuse in ("missing_column", "wrong_month"):
                    base = row_renderer(s, plan.fmt, plan.cols)
                    for rec, _ in items:
                        if plan.refuse == "wrong_month":
                            rec = list(rec)
                            rec[DATE_IDX[s]] = _prev_month_date(rec[DATE_IDX[s]])
                        rows.append(base(rec))
                tags = []
            elif plan.all_bad is not None:
                rows, tags = _all_bad_rows(plan, items)
            else:
                plan.in_month = 0
                rrng = random.Random(f"{seed}|{ci}|{ym}|{s}")
                rp = RowPlanner(ctx, plan, messy_rate, rrng, ch, protected, used, links)
                rows, tags, acc = rp.plan(items)
                if typos is not None and links:
                    tags = typos(plan, rows, tags, items, rp, m)
                setattr(mi, ATTR[s], acc)
                mi.present.add(s)
            switched = None
            if plan.refuse in ("unreadable", "empty_file"):
                payload = None
            elif plan.fmt == "csv":
                payload, switched = _encode_csv(plan, rows)
            else:
                payload = [_shape(plan, r) for r in rows]
            out_files[(ym, s)] = (payload, len(rows), tags, switched)
    return out_files, mis


def _lane_worker(ctx, plans, jobs, messy_rate, truth, q):
    for job in jobs:
        q.put(run_chunk(ctx, plans, *job, messy_rate, truth))


def generate(out, households: int, months: int, start: str, seed: int, messy_rate: float = 0.0,
             truth: bool = True, chunk_size: int = 5000, rates: dict | None = None,
             processes: int | None = None, undelivered=(), allow_roster: bool = False,
             policy=None, policy_county: str | None = None, variants: bool | None = None,
             counties: int = 1) -> dict:
    """Write a synthetic county's landing data (and its ground truth) under `out`.

    `undelivered`: sources a department did not deliver in a month, e.g.
    ["2026-06:housing", "2026-07:education:refused", "2026-08:hr:quarantined"] (left out,
    written as a file refused as a whole for a missing required column, or as a file whose
    every row is quarantined for a missing required value). The roster's two sources only with
    allow_roster=True (the month's run then stops: the truth has no row for that month).

    `policy`: a policy (path to a YAML file in interface.md's format, or the same as a dict) whose
    parameters, period by period, replace the generated ones (params.merge_periods; the county's
    code, towns and villages stay the generated ones; `policy_county` picks a county of a file
    holding several). `variants`: write rules-variants.md's optional roster columns and
    civil_affairs_decisions and plant the households of its thresholds; None = whenever the
    given policy states a rules-variants.md parameter. Without both the output is unchanged.

    `counties`: a prefecture of that many counties in one landing (generator/prefecture.py): the
    same files, every county's rows together, policy.yaml with every county; 1 = one county.

    Layout: <out>/<YYYY-MM>/<source>.<csv|xlsx|parquet>, <out>/policy.yaml and
    <out>/truth/*.csv. Same arguments -> byte-identical output (whatever `processes`).
    Chunks of households alternate between two lanes (each with its own share of the
    ID sequence codes), run in two processes when there is enough work.
    """
    out = Path(out)
    if households < 1 or months < 1:
        raise ValueError("households and months must be >= 1")
    if not isinstance(counties, int) or counties < 1:
        raise ValueError(f"counties must be an integer >= 1, got {counties!r}")
    if counties > 1:
        if households < counties:
            raise ValueError(f"counties: {counties} counties need at least as many households, got {households}")
        if policy is not None or variants:
            raise ValueError("counties: a prefecture (counties > 1) is generated with the generated "
                             "parameters only (no policy, no policy variants)")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", start):
        raise ValueError(f"start must be YYYY-MM, got {start!r}")
    month_list = [month_add(start, i) for i in range(months)]
    und = parse_undelivered(undelivered, month_list, allow_roster)
    periods = periods_for(start, months)
    given = None
    if policy is not None:
        _, given = load_policy(policy, policy_county)
        periods = merge_periods(periods, given, month_list)
    if variants is None:
        variants = given is not None and has_variant_params(given)
    variants = bool(variants)
    if not variants and any(s == DECISIONS for _, s in und):
        raise ValueError(f"undelivered: {DECISIONS} exists only with variants (policy_variants)")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    if counties == 1:
        geo = Geography(rng, households)
        geos = [geo]
        area_name = geo.name
        text = policy_yaml_v(geo, periods) if (given is not None or variants) else policy_yaml(geo, periods)
    else:
        pre_code, area_name, county_list = prefecture_counties(rng, counties)
        sizes = [households // counties + (1 if k < households % counties else 0) for k in range(counties)]
        geos, off = [], 0
        for (code, name), n in zip(county_list, sizes):
            g = Geography(rng, n, code, name)
            g.g_off = off
            off += n
            geos.append(g)
        geo = geos[0]
        periods_k = [county_periods(periods, k) for k in range(counties)]
        pbms = [[period_of(pk, m) for m in month_list] for pk in periods_k]
        text = policy_yaml_multi(geos, periods_k)
    pbm = [period_of(periods, m) for m in month_list]
    (out / "policy.yaml").write_text(text, encoding="utf-8")
    sources = list(sources_for(variants))

    plans = make_plans(month_list, messy_rate, seed, households, area_name, variants=variants)
    apply_undelivered(plans, und, seed)
    writers = {}
    paths = {}
    for (ym, s), plan in sorted(plans.items()):
        d = out / ym
        d.mkdir(parents=True, exist_ok=True)
        ext = "csv" if plan.refuse in ("unreadable", "empty_file") else plan.fmt
        for old in d.glob(f"{s}.*"):
            old.unlink()
        if plan.missing:
            paths[(ym, s)] = None
            continue
        p = d / f"{s}.{ext}"
        paths[(ym, s)] = p
        writers[(ym, s)] = Writer(p, plan)

    tdir = out / "truth"
    headers = dict(TRUTH_FILES, alerts=ALERTS_V) if variants else TRUTH_FILES
    sink = _TruthSink(tdir, month_list, headers) if truth else None
    jobs = [(ci, g0, min(chunk_size, households - g0))
            for ci, g0 in enumerate(range(0, households, chunk_size))]
    lanes = [[j for j in jobs if j[0] % 2 == lane] for lane in (0, 1)]
    ctxs = []
    for lane in (0, 1):
        c = Ctx(seed, geo, month_list, pbm, rates, id_areas(geo.code, households))
        c.lane = lane
        c.variants = variants
        c.parametric = given is not None or variants
        ctxs.append(c)
    pref = None
    if counties > 1:
        # every county's chunks (one process); the oracle judges the prefecture as a whole
        from . import prefecture
        codes = tuple(g.code for g in geos)
        jobs, ci = [], 0
        for k, g in enumerate(geos):
            n = sizes[k]
            for i, g0 in enumerate(range(0, n, chunk_size)):
                jobs.append((ci, k, g.g_off + g0, min(chunk_size, n - g0), i == 0))
                ci += 1
        seqs = [{}, {}]
        pctxs = []
        for k, g in enumerate(geos):
            pair = []
            for lane in (0, 1):
                c = Ctx(seed, g, month_list, pbms[k], rates, codes)
                c.lane = lane
                c.seq = seqs[lane]
                c.born_elsewhere = tuple(x for x in codes if x != g.code)
                c.born_share = prefecture.BORN_ELSEWHERE
                c.area_rng = random.Random(f"{seed}|born|{g.code}|{lane}")
                pair.append(c)
            pctxs.append(pair)
        pref = prefecture.run(pctxs, plans, jobs, messy_rate, truth, geos, pbms, month_list, seed,
                              _non_gbk_names, render_chunk, judge_month)
        jobs = [(j[0], j[2], j[3]) for j in jobs]
        processes = 1
    if processes is None:
        processes = 2 if len(jobs) >= 4 else 1
    used = Counter()
    counts = {ym: Counter() for ym in month_list}
    audit = {ym: {} for ym in month_list}
    planted = []

    def results():
        if pref is not None:
            yield from pref[0]
            return
        if processes <= 1:
            iters = [iter(run_chunk(ctxs[j[0] % 2], plans, *j, messy_rate, truth) for j in lane)
                     for lane in lanes]
            for ci, _, _ in jobs:
                yield next(iters[ci % 2])
            return
        import multiprocessing as mp
        mpc = mp.get_context("fork")
        qs = [mpc.Queue(maxsize=2) for _ in (0, 1)]
        procs = [mpc.Process(target=_lane_worker, args=(ctxs[k], plans, lanes[k], messy_rate, truth, qs[k]),
                             daemon=True) for k in (0, 1)]
        for p in procs:
            p.start()
        try:
            for ci, _, _ in jobs:
                yield qs[ci % 2].get()
        finally:
            for p in procs:
                p.join(timeout=5)
                if p.is_alive():
                    p.terminate()

    typo_rows = []   # a prefecture's mistyped IDs: (month, source, row number, true ID, county lived in)
    for files, tr, u, pl in results():
        used.update(u)
        if pref is None:
            planted.extend(pl)
        else:
            for ym, s, i, pid, lives in pl:
                plan = plans[(ym, s)]
                typo_rows.append((ym, s, plan.rows + 2 + len(plan.title) + i, pid, lives))
        for ym in month_list:
            q, ln, vr = [], [], []
            for s in sources:
                plan = plans[(ym, s)]
                payload, n, tags, enc = files[(ym, s)]
                if enc == "gb18030" and plan.enc == "gbk":
                    plan.enc = "gb18030"
                    plan.variants = ["gb18030" if v == "gbk" else v for v in plan.variants]
                base_rn = plan.rows + 2 + len(plan.title)   # the file's own row numbers
                for i, tag in tags:
                    rn = base_rn + i
                    reason, link, var, dup = tag
                    if var and "|" in var:
                        for v in var.split("|")[:-1]:
                            vr.append((ym, s, rn, v))
                        var = var.split("|")[-1]
                    if reason:
                        q.append((ym, s, rn, reason))
                        plan.quarantined += 1
                    if link:
                        ln.append((ym, s, rn, link[0], link[1]))
                    if dup:
                        plan.dups += 1
                        vr.append((ym, s, rn, "duplicate"))
                    if var:
                        vr.append((ym, s, rn, var))
                plan.rows += n
                counts[ym][s] += n
                if payload is not None:
                    writers[(ym, s)].write_payload(payload)
            if sink is not None:
                sink.add("quarantine", ym, q)
                sink.add("links", ym, ln)
                sink.add("variants", ym, vr)
                if ym in tr:
                    sink.add("determinations", ym, tr[ym][0])
                    sink.add("alerts", ym, tr[ym][1])
                    sink.add("withheld", ym, tr[ym][3])
                    merge_population(audit[ym], tr[ym][2])

    if pref is not None and sink is not None:
        for ym in month_list:
            tr = pref[1][ym]
            sink.add("determinations", ym, tr[0])
            sink.add("alerts", ym, tr[1])
            sink.add("withheld", ym, tr[3])
    # a "file of another month" must hold at least one row
    for (ym, s), plan in sorted(plans.items()):
        if plan.refuse == "wrong_month" and plan.rows == 0:
            d = _prev_month_date(date(int(ym[:4]), int(ym[5:7]), 15))
            fake = make_id(geo.code, date(1980, 1, 1), "001")
            rec = {"health": (fake, "张三", "慢性病", "高血压", d),
                   "medical_insurance": (fake, "张三", d, 10000, 5000, 0, 0, 5000),
                   "emergency": (fake, "张三", "洪涝", d, "无", 10000, 0),
                   DECISIONS: (f"MZ{geo.code}99999999", f"{geo.code}100200", "低保", "未通过", d)}[s]
            row = _shape(plan, row_renderer(s, plan.fmt, plan.cols)(rec))
            writers[(ym, s)].write_payload(_encode_csv(plan, [row])[0] if plan.fmt == "csv" else [row])
            plan.rows += 1
    # a file whose every row is quarantined must hold a row
    for (ym, s), plan in sorted(plans.items()):
        if plan.all_bad is not None and plan.rows == 0:
            d = date(int(ym[:4]), int(ym[5:7]), 15)
            fake = make_id(geo.code, date(1980, 1, 1), "001")
            rec = {"health": (fake, "张三", "慢性病", "高血压", d),
                   "medical_insurance": (fake, "张三", d, 10000, 5000, 0, 0, 5000),
                   "emergency": (fake, "张三", "洪涝", d, "无", 10000, 0),
                   DECISIONS: (f"MZ{geo.code}99999999", f"{geo.code}100200", "低保", "未通过", d)}.get(s)
            if rec is None:
                raise ValueError(f"undelivered: {ym}:{s}:quarantined, but the source has no row that month")
            rows, _ = _all_bad_rows(plan, [(rec, False)])
            writers[(ym, s)].write_payload(_encode_csv(plan, rows)[0] if plan.fmt == "csv" else rows)
            if sink is not None:
                sink.add("quarantine", ym, [(ym, s, 2 + len(plan.title), "missing_required")])
            plan.rows += 1
            plan.quarantined += 1
    for key, w in writers.items():
        w.close()
        if plans[key].fmt == "xlsx" and not w.dead:
            _fix_zip(paths[key])

    summary = {"months": month_list, "county": geo.code, "county_name": geo.name,
               "households": households, "seed": seed, "messy_rate": messy_rate,
               "policy": str(out / "policy.yaml"), "counts": {}, "paths": {}, "files": {}}
    for ym in month_list:
        summary["counts"][ym] = {s: counts[ym][s] for s in sources}
        summary["paths"][ym] = {s: str(paths[(ym, s)]) for s in sources if paths[(ym, s)] is not None}
    file_rows = []
    for (ym, s), plan in sorted(plans.items()):
        status = "missing" if plan.missing else (plan.refuse or "ok")
        file_rows.append((ym, s, paths[(ym, s)].name if paths[(ym, s)] else "", plan.fmt, plan.enc, "|".join(plan.headers),
                          "|".join(plan.variants), status, plan.rows, plan.quarantined, plan.dups))
    if sink is not None:
        sink.close()
        with open(tdir / "refused_files.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["month", "source", "status"])
            for (ym, s), plan in sorted(plans.items()):
                if plan.refuse:
                    w.writerow([ym, s, plan.refuse])
        with open(tdir / "audit_sample.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(AUDIT_V if variants else AUDIT)
            for m, ym in enumerate(month_list):
                drawn = draw_audit(ym, audit[ym], pbm[m]) if pref is None else pref[2][ym]
                for row in drawn:
                    w.writerow([ym, *row] if variants else [ym, *row[:2]])
        if variants:
            with open(tdir / "planted.csv", "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(PLANTED)
                w.writerows(planted)
        with open(tdir / "files.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["month", "source", "file", "format", "encoding", "headers", "file_variants",
                        "status", "rows_in", "rows_quarantined", "rows_duplicate"])
            w.writerows(file_rows)
        summary["truth"] = {name: str(tdir / f"{name}.csv") for name in
                            list(TRUTH_FILES) + ["refused_files", "files", "audit_sample"]
                            + (["planted"] if variants else [])}
        if pref is not None:
            from .prefecture import PLANTED as PREF_COLS
            with open(tdir / "prefecture.csv", "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(PREF_COLS)
                w.writerows(pref[3])
                w.writerows(("typo", ym, "", "", pid, lives, f"{s}:{rn}") for ym, s, rn, pid, lives in typo_rows)
            summary["truth"]["prefecture"] = str(tdir / "prefecture.csv")
    if pref is not None:
        summary["county"], summary["county_name"] = pre_code, area_name
        summary["counties"] = [{"code": g.code, "name": g.name, "households": n} for g, n in zip(geos, sizes)]
    if variants:
        summary["variants"] = True
        summary["planted"] = dict(sorted(used.items()))
    return summary
