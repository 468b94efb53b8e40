"""Rendering canonical records into landing files, with the accepted variants and
the bad input of extracts.md planted at a controllable rate, each one recorded."""
from __future__ import annotations

import csv
import random
from datetime import date, timedelta

from .columns import SOURCES as COLS, DECISIONS, VARIANT_COLUMNS, sources_for
from . import ids as I

ID_SOURCES = {"civil_affairs_members", "household_registration", "education", "hr", "housing",
              "health", "medical_insurance", "emergency", "rural_revitalization"}
IDENTITY = {"household_registration", "civil_affairs_members", "rural_revitalization"}
# whole-file refusals of messy mode: departments' sources only, never the bureau's roster
# (without it the month's run stops, interface.md)
REFUSABLE = ["education", "hr", "housing", "health", "medical_insurance", "emergency"]
ROSTER = ("civil_affairs_households", "civil_affairs_members")
DATED = {"health": "event_date", "medical_insurance": "settlement_date", "emergency": "disaster_date",
         DECISIONS: "decision_date"}
XLSX_OK = {"civil_affairs_households", "civil_affairs_members", "health", "medical_insurance",
           "emergency", "rural_revitalization", "education", "housing"}

ROW_VARIANTS = ["id_lower_x", "id_fullwidth", "id_fullwidth_x", "id_spaces", "id_apostrophe", "id_15",
                "date_slash", "date_compact", "date_chinese", "amount_comma", "amount_yen",
                "amount_yuan", "name_space", "name_fullwidth_space", "name_dot_variant",
                "name_dot_katakana", "name_dot_fullwidth", "name_non_gbk", "duplicate",
                "xlsx_serial_date", "xlsx_date_cell"]
FILE_VARIANTS = ["utf-8-sig", "gbk", "gb18030", "xlsx", "parquet", "header_alias", "extra_column",
                 "header_only", "title_rows"]
# the middle dot of minority names as departments' systems write it (all normalize to U+00B7)
DOT_VARIANTS = {"name_dot_variant": "\u2022", "name_dot_katakana": "\u30fb", "name_dot_fullwidth": "\uff0e"}
NOT_GBK = ("\u2022", "\u30fb")   # GBK cannot encode these two dots
NON_GBK_CHARS = ("\U00020bb7", "\u4dae")   # 𠮷 and 䶮: in names, outside GBK (GB18030 has them)
# title lines above the header (extracts.md "Accepted variants"): table title and department
TITLES = {
    "civil_affairs_households": ("城乡低保特困等救助家庭台账", "民政局"),
    "civil_affairs_members": ("救助家庭成员信息表", "民政局"),
    "household_registration": ("户籍人口信息表", "公安局"),
    "education": ("学生学籍与资助情况表", "教育局"),
    "hr": ("就业人员情况表", "人社局"),
    "housing": ("房产与住房保障情况表", "住建局"),
    "health": ("重大疾病与死亡登记表", "卫健委"),
    "medical_insurance": ("医疗费用结算明细表", "医保局"),
    "emergency": ("受灾人员情况表", "应急局"),
    "rural_revitalization": ("脱贫户与防返贫监测对象名单", "乡村振兴局"),
    DECISIONS: ("救助申请审核确认记录", "民政局"),
}


def has_non_gbk(name) -> bool:
    return isinstance(name, str) and any(c in name for c in NON_GBK_CHARS)
DEFECTS = ["missing_required", "invalid_id", "invalid_value", "negative_amount", "date_outside_month",
           "oop_mismatch", "id_unlinked", "id_ambiguous"]
LINKS = ["typo_1", "transposition", "same_birth", "upgraded_15"]
REFUSALS = ["missing_column", "unreadable", "empty_file", "wrong_month"]

FW = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
EXCEL_EPOCH = date(1899, 12, 30)


def amount_str(c: int) -> str:
    if c < 0:
        return "-" + amount_str(-c)
    if c % 100 == 0:
        return str(c // 100)
    return f"{c // 100}.{c % 100:02d}"


class FilePlan:
    __slots__ = ("month", "source", "fmt", "enc", "headers", "extra", "refuse", "drop_col",
                 "header_only", "cols", "path", "rows", "in_month", "quarantined", "dups", "variants",
                 "missing", "title", "title_merge", "keep_gbk", "non_gbk_here", "all_bad")

    def __init__(self, month, source, cols=None):
        self.month, self.source = month, source
        self.fmt, self.enc = "csv", "utf-8"
        self.cols = cols if cols is not None else COLS[source]
        self.headers = [c[1] for c in self.cols]
        self.extra = False
        self.refuse = None
        self.drop_col = None
        self.header_only = False
        self.missing = False
        self.all_bad = None       # --undelivered ...:quarantined: index of the required column
                                  # left empty in every row (all quarantined: undelivered)
        self.rows = 0
        self.in_month = 0
        self.quarantined = 0
        self.dups = 0
        self.variants = []
        self.title = []          # lines above the header (lists of cells)
        self.title_merge = False  # XLSX: each title row one merged cell across the columns
        self.keep_gbk = False     # the forced GBK file: no person with a non-GBK name in it
        self.non_gbk_here = False  # the forced GB18030 file: holds a person with a non-GBK name


def _title(plan, county_name, rng):
    """One or two lines above the header: the table's title, then (sometimes) who filed it and
    when; padded to the columns as Excel writes a merged cell into CSV, or not."""
    t, dept = TITLES[plan.source]
    y, m = int(plan.month[:4]), int(plan.month[5:7])
    ny, nm = (y, m + 1) if m < 12 else (y + 1, 1)
    lines = [f"{county_name}{y}年{m}月{t}"]
    if rng.random() < 0.6:
        lines.append(f"填报单位：{dept}  日期：{ny}-{nm:02d}-{rng.randint(1, 9):02d}")
    width = len(plan.headers) - (plan.drop_col is not None) + plan.extra
    pad = rng.random() < 0.5
    plan.title = [[ln] + ([""] * (width - 1) if pad and plan.fmt == "csv" else []) for ln in lines]
    plan.title_merge = plan.fmt == "xlsx"
    plan.variants.append("title_rows")


def make_plans(months, rate, seed, households, county_name="XX县", variants=False):
    rng = random.Random(f"{seed}|plans")
    plans = {}
    cols = sources_for(variants)
    for ym in months:
        for s in cols:
            plans[(ym, s)] = FilePlan(ym, s, cols[s])
    if rate <= 0:
        return plans
    K = len(months)
    last = months[-1]
    # whole-file refusals: one of each kind in the last month, more at rate/4 there
    fixed = {("housing", "missing_column"), ("education", "unreadable"), ("emergency", "empty_file"),
             ("medical_insurance", "wrong_month")}
    for s, kind in sorted(fixed):
        plans[(last, s)].refuse = kind
    for s in REFUSABLE:
        p = plans[(last, s)]
        if p.refuse is None and rng.random() < rate / 4:
            kinds = ["missing_column", "unreadable", "empty_file"] + (["wrong_month"] if s in DATED else [])
            p.refuse = rng.choice(kinds)
    for p in plans.values():
        if p.refuse == "missing_column":
            req = [i for i, c in enumerate(p.cols) if c[3] and c[2] != "id"]
            p.drop_col = rng.choice(req)
    # a department that did not deliver (the source is missing that month)
    if K >= 2:
        plans[(months[0], "health")].missing = True
    # a header-only file (valid: nothing this month)
    ho = plans[(months[0], "emergency")]
    ho.header_only = True
    ho.variants.append("header_only")
    # file formats / encodings: each at least once, then at rate
    order = sorted((k for k, p in plans.items() if p.refuse is None and not p.header_only and not p.missing),
                   key=lambda k: (k[0] != months[0], k[0], k[1]))
    order = order[:]
    rng.shuffle(order)
    forced = ["xlsx", "parquet", "utf-8-sig", "gbk", "gb18030"]
    fi = 0
    for k in order:
        p = plans[k]
        v = None
        if fi < len(forced):
            v = forced[fi]
            if v == "xlsx" and (k[1] not in XLSX_OK or households > 50000):
                continue
            # the forced GBK file stays GBK (no non-GBK name in it), so not the register (everyone);
            # the forced GB18030 file holds a non-GBK name, so a source with names
            if v == "gbk" and k[1] == "household_registration":
                continue
            if v == "gb18030" and k[1] not in ID_SOURCES:
                continue
            if v == "gbk":
                p.keep_gbk = True
            if v == "gb18030":
                p.non_gbk_here = True
            fi += 1
        elif rng.random() < min(0.8, 6 * rate):
            v = rng.choice(["utf-8-sig", "gbk", "gb18030", "parquet"] +
                           (["xlsx"] if k[1] in XLSX_OK and households <= 50000 else []))
        if v in ("xlsx", "parquet"):
            p.fmt = v
        elif v:
            p.enc = v
        if v:
            p.variants.append(v)
    for i, k in enumerate(sorted(plans)):
        p = plans[k]
        if p.refuse in ("unreadable", "empty_file"):
            continue
        aliased = False
        for ci, c in enumerate(p.cols):
            if c[5] and (rng.random() < 3 * rate or (i == 1 and ci == 0)):
                p.headers[ci] = rng.choice(c[5])
                aliased = True
        if aliased:
            p.variants.append("header_alias")
        if rng.random() < 2 * rate or i == 2:
            p.extra = True
            p.variants.append("extra_column")
    assert not any(plans[(ym, s)].refuse or plans[(ym, s)].missing or plans[(ym, s)].header_only
                   for ym in months for s in ROSTER)
    # a title above the header (CSV and XLSX): once in CSV and once in XLSX, then at rate R
    trng = random.Random(f"{seed}|titles")
    forced = {"csv", "xlsx"}
    for k in sorted(plans):
        p = plans[k]
        if p.refuse or p.missing or p.fmt not in ("csv", "xlsx"):
            continue
        if p.fmt in forced or trng.random() < rate:
            forced.discard(p.fmt)
            _title(p, county_name, trng)
    return plans


# ---------------------------------------------------------------------------------
# row rendering
# ---------------------------------------------------------------------------------

def render_value(v, typ, fmt):
    if v is None:
        return None if fmt != "csv" else ""
    if typ == "amount":
        if fmt == "xlsx":
            return v / 100 if v % 100 else v // 100
        return amount_str(v)
    if typ == "date":
        if fmt == "xlsx":
            return v
        return v.isoformat()
    if typ == "integer":
        return v if fmt == "xlsx" else str(v)
    return v


def variant_value(v, typ, variant):
    if typ == "id":
        if variant == "id_lower_x":
            return v[:17] + "x"
        if variant == "id_fullwidth":
            return v.translate(FW)
        if variant == "id_fullwidth_x":
            return v[:17] + "ｘ"
        if variant == "id_spaces":
            return v[:6] + " " + v[6:14] + " " + v[14:]
        if variant == "id_apostrophe":
            return "'" + v
        if variant == "id_15":
            return I.to_15(v)
    if typ == "date":
        if variant == "date_slash":
            return f"{v.year}/{v.month}/{v.day}"
        if variant == "date_compact":
            return f"{v.year:04d}{v.month:02d}{v.day:02d}"
        if variant == "date_chinese":
            return f"{v.year}年{v.month}月{v.day}日"
        if variant == "xlsx_serial_date":
            return (v - EXCEL_EPOCH).days
        if variant == "xlsx_date_cell":
            return v
    if typ == "amount":
        s = amount_str(v)
        if variant == "amount_comma":
            ip, _, dp = s.partition(".")
            ip = f"{int(ip):,}"
            return f"{ip}.{dp}" if dp else f"{ip}.00"
        if variant == "amount_yen":
            return "￥" + s
        if variant == "amount_yuan":
            return s + "元"
    if typ == "name":
        if variant == "name_space":
            return v[0] + " " + v[1:] if len(v) > 1 else " " + v
        if variant == "name_fullwidth_space":
            return v[:-1] + "\u3000" + v[-1] if len(v) > 1 else v + "\u3000"
        if variant in DOT_VARIANTS:
            return v.replace("·", DOT_VARIANTS[variant])
    return None


def applicable(v, typ, fmt, enc):
    """Variants that can be applied to this value."""
    if v is None:
        return ()
    if typ == "id":
        out = ["id_fullwidth", "id_spaces", "id_apostrophe"]
        if v[17] == "X":
            out += ["id_lower_x", "id_fullwidth_x"]
        if v[6:8] == "19":
            out.append("id_15")
        return out
    if typ == "date":
        if fmt == "xlsx":
            return ["xlsx_serial_date", "xlsx_date_cell", "date_slash", "date_chinese"]
        return ["date_slash", "date_compact", "date_chinese"]
    if typ == "amount":
        out = ["amount_yen", "amount_yuan"]
        if v >= 100000:
            out.append("amount_comma")
        return out
    if typ == "name":
        out = ["name_space", "name_fullwidth_space"]
        if "·" in v:
            out += [d for d, c in DOT_VARIANTS.items() if enc != "gbk" or c not in NOT_GBK]
        return out
    return ()


_RENDERERS = {}


def row_renderer(source, fmt, cols=None):
    """A compiled function rendering a canonical record into cells (fast path)."""
    cols = cols if cols is not None else COLS[source]
    key = (source, fmt, len(cols))
    f = _RENDERERS.get(key)
    if f is not None:
        return f
    parts = []
    for i, c in enumerate(cols):
        t = c[2]
        if t in ("amount", "date", "integer") or fmt != "csv":
            parts.append(f"(_rv(r[{i}], {t!r}, {fmt!r}))")
        elif c[3]:
            parts.append(f"r[{i}]")
        else:
            parts.append(f"(r[{i}] if r[{i}] is not None else '')")
    if fmt == "csv" and not any(c[2] == "amount" for c in cols):
        # csv.writer writes None as "", dates as ISO and integers as digits: no work to do
        _RENDERERS[key] = tuple
        return tuple
    if fmt == "csv":
        # inline the common csv cases
        parts = []
        for i, c in enumerate(cols):
            t = c[2]
            if t == "amount":
                parts.append(f"(_amt(r[{i}]) if r[{i}] is not None else '')")
            elif t == "date":
                parts.append(f"(r[{i}].isoformat() if r[{i}] is not None else '')")
            elif t == "integer":
                parts.append(f"(str(r[{i}]) if r[{i}] is not None else '')")
            else:
                parts.append(f"(r[{i}] if r[{i}] is not None else '')")
    src = "def _f(r):\n    return [" + ", ".join(parts) + "]\n"
    ns = {"_rv": render_value, "_amt": amount_str}
    exec(src, ns)
    _RENDERERS[key] = ns["_f"]
    return ns["_f"]


class RowPlanner:
    """Decides, for one file and one chunk of records, what every row looks like."""

    def __init__(self, ctx, plan: FilePlan, rate, rng, chunk, protected, used, links=True):
        self.ctx = ctx
        # links=False: the register is undelivered this month, so the persons a corrupted ID
        # would link to are not all known; no linkable typo or ambiguous row is planted then
        self.links = links
        self.p = plan
        self.rate = rate
        self.rng = rng
        self.chunk = chunk
        self.protected = protected   # set of IDs whose register rows must stay accepted
        self.used = used             # run-wide Counter of planted kinds
        self.cols = plan.cols
        self.types = [c[2] for c in self.cols]
        self.id_col = next((i for i, c in enumerate(self.cols) if c[2] == "id"), None)
        self.name_col = next((i for i, c in enumerate(self.cols) if c[2] == "name"), None)
        self.date_col = next((i for i, c in enumerate(self.cols) if c[0] == DATED.get(plan.source)), None)
        fast = row_renderer(plan.source, plan.fmt, plan.cols)
        self._fast = fast
        self._base = list if fast is tuple else fast
        # variant mode: bad values of the optional columns of rules-variants.md B.2 and of
        # civil_affairs_decisions, each planted at least once (column index, defect)
        self.vbad = []
        base_n = len(COLS.get(plan.source, ()))
        for i, c in enumerate(self.cols):
            if plan.source == DECISIONS and i >= 2:
                self.vbad.append((i, "date_outside_month" if c[6] else "invalid_value"))
            elif plan.source in VARIANT_COLUMNS and i >= base_n:
                self.vbad.append((i, "negative_amount" if c[2] == "amount" else "invalid_value"))

    def base(self, rec):
        return self._base(rec)

    def _want(self, kinds):
        """Prefer a kind not planted yet (coverage), else a random one."""
        fresh = [k for k in kinds if self.used[k] == 0]
        return self.rng.choice(fresh or kinds)

    def cosmetic(self, rec, cells, avoid=()):
        rng = self.rng
        opts = []
        for i, (v, t) in enumerate(zip(rec, self.types)):
            for var in applicable(v, t, self.p.fmt, self.p.enc):
                if var not in avoid:
                    opts.append((i, var))
        if not opts:
            return None
        fresh = [o for o in opts if self.used[o[1]] == 0]
        i, var = rng.choice(fresh) if fresh and rng.random() < 0.7 else rng.choice(opts)
        cells[i] = variant_value(rec[i], self.types[i], var)
        return var

    def vdefect(self, rec, cells, i, kind):
        """A bad value in column i (variant mode, see self.vbad)."""
        c = self.cols[i]
        self.used["vbad:" + c[1]] += 1
        if kind == "negative_amount":
            cells[i] = render_value(-max(rec[i], 100), "amount", self.p.fmt)
        elif kind == "date_outside_month":
            d = rec[i]
            cells[i] = render_value(date(d.year, d.month, 1) - timedelta(days=self.rng.randint(1, 20)),
                                    "date", self.p.fmt)
        else:
            cells[i] = {"残疾军人等级": "十一级", "定期抚恤补助": "有", "审核确认结果": "不通过",
                        "护理等级": "特级护理", "供养方式": "居家供养"}.get(c[1], "其他")
        return (kind, True, None, kind)

    def defect(self, rec, cells, prot_person, force=None):
        """Plant one defect; return (reason, removes_record, link) or None when not possible."""
        if isinstance(force, tuple):
            return self.vdefect(rec, cells, *force)
        rng, src = self.rng, self.p.source
        kinds = ["missing_required", "invalid_value"]
        amounts = [i for i, t in enumerate(self.types) if t == "amount" and rec[i] is not None]
        if amounts:
            kinds.append("negative_amount")
        date_ok = self.date_col is not None and self.p.in_month > 0
        if date_ok:
            kinds.append("date_outside_month")
        if src == "medical_insurance":
            kinds.append("oop_mismatch")
        if self.id_col is not None:
            kinds += ["invalid_id", "id_unlinked"] + (["typo_1", "transposition"] if self.links else [])
            if src != "household_registration" and self.links:
                pid = rec[self.id_col]
                if self.chunk.rare_ok(pid):
                    kinds.append("same_birth")
            if src == "household_registration":
                kinds = [k for k in kinds if k not in ("typo_1", "transposition")]
                if rec[0] in self.protected:
                    return None
        kind = force if force in kinds else self._want(kinds)
        ic = self.id_col
        if kind == "missing_required":
            req = [i for i, c in enumerate(self.cols) if c[3] and (i != self.date_col or date_ok)]
            i = rng.choice(req)
            cells[i] = "" if self.p.fmt == "csv" else None
            return ("missing_required", True, None, kind)
        if kind == "invalid_value":
            cand = [i for i, t in enumerate(self.types)
                    if t in ("enum", "date", "month", "amount", "integer", "region_code")
                    and (i != self.date_col or date_ok) and rec[i] is not None]
            if not cand:
                return None
            i = rng.choice(cand)
            t = self.types[i]
            if t == "enum":
                bad = {"城乡类别": "郊区", "户籍状态": "待定"}.get(self.cols[i][1], rng.choice(["其他类", "未知", "待核实"]))
                if bad in self.cols[i][4]:
                    bad = "未知状态"
            elif t == "date":
                bad = rng.choice([f"{rec[i].year}-13-45", "二〇二六年", "2026-02-30"])
            elif t == "month":
                bad = rng.choice(["2026-13", "去年三月"])
            elif t == "amount":
                bad = rng.choice(["约3000", "abc", "1.2.3"])
            elif t == "integer":
                bad = rng.choice(["两套", "1.5"])
            else:
                bad = rec[i][:11]
            cells[i] = bad
            return ("invalid_value", True, None, kind)
        if kind == "negative_amount":
            i = rng.choice(amounts)
            v = -max(rec[i], 100)
            cells[i] = render_value(v, "amount", self.p.fmt)
            if src == "medical_insurance" and i != 7:
                r = list(rec)
                r[i] = v
                cells[7] = render_value(r[3] - r[4] - r[5] - r[6], "amount", self.p.fmt)
                if r[3] - r[4] - r[5] - r[6] < 0:
                    return None
            return ("negative_amount", True, None, kind)
        if kind == "date_outside_month":
            d = rec[self.date_col]
            d2 = date(d.year, d.month, 1) - timedelta(days=rng.randint(1, 20))
            cells[self.date_col] = render_value(d2, "date", self.p.fmt)
            return ("date_outside_month", True, None, kind)
        if kind == "oop_mismatch":
            cells[7] = render_value(rec[7] + rng.choice([100, 5000, 12345]), "amount", self.p.fmt)
            return ("oop_mismatch", True, None, kind)
        pid = rec[ic]
        if kind == "invalid_id":
            cells[ic] = rng.choice([f"{pid[0]}.{pid[1:6]}E+17", f"{pid[0]}.{pid[1:6]}e+17", pid[:17],
                                    pid[:10] + "ABCD" + pid[14:]])
            return ("invalid_id", True, None, kind)
        if kind == "id_unlinked":
            cells[ic] = I.corrupt_unlinkable(pid, self.ctx.id_areas, rng)
            return ("id_unlinked", True, (pid, "refused_unlinked"), kind)
        if kind == "typo_1":
            x = I.corrupt_typo(pid, self.ctx.id_areas, rng)
            if x is None:
                return None
            cells[ic] = x
            self.protected.add(pid)
            return (None, False, (pid, "typo_1"), kind)
        if kind == "transposition":
            x = I.corrupt_transposition(pid, self.ctx.id_areas, rng)
            if x is None:
                return None
            cells[ic] = x
            self.protected.add(pid)
            return (None, False, (pid, "transposition"), kind)
        if kind == "same_birth":
            cells[ic] = I.corrupt_same_birth(pid, rng)
            self.protected.add(pid)
            return (None, False, (pid, "same_birth"), kind)
        if kind == "id_ambiguous":
            return None  # planted as extra rows, see ambiguous_row
        return None

    def ambiguous_row(self, rec):
        """An extra row for one person of a same-name same-birth-date pair, ID corrupted."""
        a, b = self.rng.choice(self.chunk.amb_pairs)
        r = list(rec)
        r[self.id_col] = a.id
        r[self.name_col] = a.name
        cells = self.base(r)
        cells[self.id_col] = I.corrupt_same_birth(a.id, self.rng)
        self.protected.add(a.id)
        self.protected.add(b.id)
        return cells, a.id

    def plan(self, items):
        """items: [(record, protected)] -> (row cells, [(row index, tag)], accepted records).
        A tag is (reason, link, variant, is_duplicate) where
        reason is a quarantine reason code or None, link is (true_id, method) or None."""
        rate = self.rate
        nd = self.chunk.near_dups
        ic = self.id_col
        if rate <= 0:
            f = self._fast
            accepted = [rec for rec, _ in items]
            cells = [f(rec) for rec in accepted] if f is not tuple else accepted
            tags = []
            if ic is not None and nd:
                tags = [(i, (None, (rec[ic], "exact"), None, False))
                        for i, rec in enumerate(accepted) if rec[ic] in nd]
            return cells, tags, accepted
        rows, accepted = [], []
        rng = self.rng
        src = self.p.source
        dated = self.date_col is not None
        amb_ok = (self.links and self.id_col is not None and self.name_col is not None
                  and src != "household_registration" and bool(self.chunk.amb_pairs))
        removed = None   # the first row whose record a defect removed: (row index, record, kind)
        for rec, prot in items:
            cells = self.base(rec)
            if rate <= 0:
                rows.append((cells, None))
                accepted.append(rec)
                continue
            r = rng.random()
            tag = None
            keep = True
            force = None
            if (self.links and self.id_col is not None and not prot and src != "household_registration"
                    and self.chunk.rare_ok(rec[self.id_col]) and rng.random() < min(0.3, 5 * rate)):
                r, force = 0.0, "same_birth"
            elif (self.links and self.used["dot_link"] == 0 and self.name_col is not None and not prot
                    and src != "household_registration" and "·" in rec[self.name_col]):
                r, force = 0.0, "typo_1"   # once: a mistyped ID with another dot links all the same
            elif self.vbad and not prot:
                for i, k in self.vbad:
                    if (rec[i] is not None and self.used["vbad:" + self.cols[i][1]] == 0
                            and (k != "date_outside_month" or self.p.in_month > 0)):
                        r, force = 0.0, (i, k)
                        break
            if r < rate and not prot:
                res = self.defect(rec, cells, prot, force)
                if res is None:
                    cells = self.base(rec)
                else:
                    reason, removes, link, kind = res
                    self.used[kind] += 1
                    var = None
                    if (not removes and self.name_col is not None and "·" in rec[self.name_col]
                            and (self.used["dot_link"] == 0 or rng.random() < 0.5)):
                        # the same person, the dot written otherwise: links by the normalized name
                        var = rng.choice([d for d in applicable(rec[self.name_col], "name", self.p.fmt,
                                                                self.p.enc) if d in DOT_VARIANTS])
                        cells[self.name_col] = variant_value(rec[self.name_col], "name", var)
                        self.used["dot_link"] += 1
                        self.used[var] += 1
                    tag = (reason, link, var, False)
                    keep = not removes
                    if removes and removed is None:
                        removed = (len(rows), rec, kind)
            elif r < 2.2 * rate:
                var = self.cosmetic(rec, cells)
                if var:
                    self.used[var] += 1
                    link = None
                    if var == "id_15":
                        self.used["upgraded_15"] += 1
                        link = (rec[self.id_col], "upgraded_15")
                    tag = (None, link, var, False)
            if tag is None and ic is not None and rec[ic] in nd:
                tag = (None, (rec[ic], "exact"), None, False)
            tag0 = tag
            if keep and self.name_col is not None and has_non_gbk(rec[self.name_col]):
                if tag is None:
                    tag = (None, None, "name_non_gbk", False)
                elif tag[0] is None:
                    tag = (None, tag[1], (tag[2] + "|" if tag[2] else "") + "name_non_gbk", False)
            if keep:
                accepted.append(rec)
                if dated and rec[self.date_col] is not None:
                    self.p.in_month += 1
            rows.append((cells, tag))
            if keep and (tag0 is None or tag0[1] and tag0[1][1] == "exact") and 2.2 * rate <= r < 2.5 * rate:
                c2 = self.base(rec)
                var = self.cosmetic(rec, c2, avoid=("id_15",)) if rng.random() < 0.5 else None
                self.used["duplicate"] += 1
                if var:
                    self.used[var] += 1
                rows.append((c2, (None, None, var, True)))
            if amb_ok and not prot and rng.random() < rate * 0.05:
                cells2, aid = self.ambiguous_row(rec)
                self.used["id_ambiguous"] += 1
                rows.append((cells2, ("id_ambiguous", (aid, "refused_ambiguous"), None, False)))
        if items and not accepted:
            # a file whose every row is quarantined is undelivered (rules.md "Incomplete months");
            # that is planted on purpose only: this chunk keeps one of its records accepted, so
            # every file with rows has an accepted row whatever the other chunks hold
            i, rec, kind = removed
            self.used[kind] -= 1
            tag = (None, (rec[ic], "exact"), None, False) if ic is not None and rec[ic] in nd else None
            rows[i] = (self.base(rec), tag)
            accepted.append(rec)
            if dated and rec[self.date_col] is not None:
                self.p.in_month += 1
        return [c for c, _ in rows], [(i, t) for i, (_, t) in enumerate(rows) if t is not None], accepted


# ---------------------------------------------------------------------------------
# writers
# ---------------------------------------------------------------------------------

class Writer:
    def __init__(self, path, plan: FilePlan):
        self.plan = plan
        self.path = path
        self.f = self.wb = self.ws = self.pq = None
        hdr = list(plan.headers)
        self.keep = list(range(len(hdr)))
        if plan.drop_col is not None:
            self.keep.remove(plan.drop_col)
        hdr = [hdr[i] for i in self.keep]
        if plan.extra:
            hdr.append("备注")
        self.header = hdr
        if plan.refuse in ("empty_file", "unreadable"):
            with open(path, "wb") as f:
                if plan.refuse == "unreadable":
                    r = random.Random(str(path.name) + plan.month)
                    f.write(bytes([0xFF, 0xFE, 0x80]) + bytes(r.randrange(128, 256) for _ in range(512))
                            + b"\xff\x80\xff\n")
            self.dead = True
            return
        self.dead = False
        if plan.fmt == "csv":
            self.f = open(path, "wb")
            term = "\r\n" if plan.enc in ("gbk", "gb18030") else "\n"
            lines = [",".join(t) for t in plan.title] + [",".join(hdr)]
            self.f.write("".join(ln + term for ln in lines).encode(plan.enc))
        elif plan.fmt == "xlsx":
            from openpyxl import Workbook
            from openpyxl.utils import get_column_letter
            self.wb = Workbook(write_only=True)
            self.ws = self.wb.create_sheet("Sheet1")
            for r, t in enumerate(plan.title, start=1):
                self.ws.append(t)
                if plan.title_merge and len(hdr) > 1:
                    self.ws.merged_cells.add(f"A{r}:{get_column_letter(len(hdr))}{r}")
            self.ws.append(hdr)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq
            self.schema = pa.schema([(h, pa.string()) for h in hdr])
            self.pq = pq.ParquetWriter(str(path), self.schema)
            self._pa = pa

    def write_payload(self, payload):
        """payload: encoded CSV bytes, or shaped rows for XLSX / Parquet."""
        if self.dead or not payload:
            return
        fmt = self.plan.fmt
        if fmt == "csv":
            self.f.write(payload)
        elif fmt == "xlsx":
            from openpyxl.cell import WriteOnlyCell
            for cells in payload:
                row = []
                for v in cells:
                    if isinstance(v, date):
                        c = WriteOnlyCell(self.ws, value=v)
                        c.number_format = "yyyy-mm-dd"
                        row.append(c)
                    else:
                        row.append(v)
                self.ws.append(row)
        else:
            colsv = list(zip(*payload))
            arrays = [self._pa.array([None if v is None else str(v) for v in col], type=self._pa.string())
                      for col in colsv]
            self.pq.write_table(self._pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self):
        if self.dead:
            return
        if self.f:
            self.f.close()
        elif self.wb is not None:
            self.wb.save(self.path)
        elif self.pq is not None:
            self.pq.close()
