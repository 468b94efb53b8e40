"""Self-check of the generator: read the landing files back the way extracts.md and
docs/interpretations.md say, and confirm that the truth files agree with them.

This is a small, slow, independent reader (for test-sized outputs only): it decodes
every accepted variant, classifies every row (accepted / quarantined with reason),
links bad check digits, drops duplicates, re-runs the oracle on what it read, and
compares determinations, alerts, withheld evaluations, quarantine, refused files, links and
the files' statuses with truth/.
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from .columns import ALL_COLUMNS, DECISIONS, SOURCES as BASE
from .ids import is_valid, neighbours
from .oracle import ROSTER, History, MonthInput, audit_population, draw_audit, evaluate, skip_month
from .params import period_of

# every optional column of rules-variants.md B.2 is read (a file without the header: all empty)
COLS = ALL_COLUMNS

ATTR = {"civil_affairs_households": "households", "civil_affairs_members": "members",
        "household_registration": "register", "education": "education", "hr": "hr",
        "housing": "housing", "health": "health", "medical_insurance": "medical",
        "emergency": "emergency", "rural_revitalization": "rr", DECISIONS: "decisions"}
IDENTITY = ("household_registration", "civil_affairs_members", "rural_revitalization")
FW = str.maketrans("０１２３４５６７８９ＸｘX", "0123456789XXX")
DOTS = str.maketrans({"\u2022": "·", "\u30fb": "·", "\uff0e": "·"})  # extracts.md: these three only
EXCEL_EPOCH = date(1899, 12, 30)


class Bad(Exception):
    def __init__(self, code):
        self.code = code


def norm_id(v):
    """-> ('ok', id18) | ('check', id18) | raises Bad('invalid_id')."""
    s = str(v).strip().lstrip("'").replace(" ", "").replace("\u3000", "").translate(FW).upper()
    if re.fullmatch(r"\d(\.\d+)?E\+?\d+", s):
        raise Bad("invalid_id")
    if re.fullmatch(r"\d{15}", s):
        from .ids import check_digit
        f17 = s[:6] + "19" + s[6:]
        return "ok", f17 + check_digit(f17)
    if not re.fullmatch(r"\d{17}[\dX]", s):
        raise Bad("invalid_id")
    return ("ok" if is_valid(s) else "check"), s


def norm_name(v):
    return str(v).replace(" ", "").replace("\u3000", "").translate(DOTS)


def parse_date(v):
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, (int, float)):
        return EXCEL_EPOCH + timedelta(days=int(v))
    s = str(v).strip()
    for pat in (r"(\d{4})-(\d{1,2})-(\d{1,2})", r"(\d{4})/(\d{1,2})/(\d{1,2})", r"(\d{4})(\d{2})(\d{2})",
                r"(\d{4})年(\d{1,2})月(\d{1,2})日"):
        m = re.fullmatch(pat, s)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise Bad("invalid_value")
    raise Bad("invalid_value")


def parse_amount(v):
    if isinstance(v, (int, float)):
        return int(round(v * 100))
    s = str(v).strip().replace("￥", "").replace("元", "").replace(",", "")
    if not re.fullmatch(r"-?\d+(\.\d+)?", s):
        raise Bad("invalid_value")
    return int(round(float(s) * 100))


def find_header(source, rows):
    """Index of the header: the first row holding every required header (or an alias); the
    rows above it (a title) are not data. None when no row does."""
    req = [c for c in COLS[source] if c[3]]
    for i, row in enumerate(rows):
        cells = {str(v).strip() for v in row if v is not None}
        if all(c[1] in cells or cells.intersection(c[5]) for c in req):
            return i
    return None


def read_rows(path: Path):
    """-> (header, rows) or raises Bad(refusal status)."""
    data = path.read_bytes()
    if not data:
        raise Bad("empty_file")
    suf = path.suffix.lower()
    if suf == ".xlsx":
        from openpyxl import load_workbook
        try:
            wb = load_workbook(path, read_only=True)
        except Exception:
            raise Bad("unreadable")
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        return rows
    if suf == ".parquet":
        import pyarrow.parquet as pq
        t = pq.read_table(path)
        cols = t.column_names
        d = t.to_pydict()
        return [cols] + [list(r) for r in zip(*(d[c] for c in cols))]
    text = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise Bad("unreadable")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise Bad("empty_file")
    return rows


def classify_file(source, path, ym):
    """-> list of (row_number, canonical record or None, reason or None, pending_link).
    Row numbers are the file's own (CSV lines, spreadsheet rows): title lines above the
    header count, the header is the row after them."""
    cols = COLS[source]
    allrows = read_rows(path)
    hi = find_header(source, allrows)
    if hi is None:
        hi = 0   # no complete header: the first row, refused below for the missing column
    header, rows = [str(h) if h is not None else "" for h in allrows[hi]], allrows[hi + 1:]
    idx = {}
    for i, h in enumerate(header):
        h = (h or "").strip()
        for ci, c in enumerate(cols):
            if h == c[1] or h in c[5]:
                idx[ci] = i
    for ci, c in enumerate(cols):
        if c[3] and ci not in idx:
            raise Bad("missing_column")
    y, m = int(ym[:4]), int(ym[5:7])
    out = []
    in_month = 0
    for rn, row in enumerate(rows, start=hi + 2):
        rec = [None] * len(cols)
        reason = None
        check = False
        for ci, c in enumerate(cols):
            v = row[idx[ci]] if ci in idx and idx[ci] < len(row) else None
            if isinstance(v, str) and v.strip() == "":
                v = None
            name, t, req, allowed = c[0], c[2], c[3], c[4]
            try:
                if v is None:
                    if req:
                        raise Bad("missing_required")
                    continue
                if t == "id":
                    st, val = norm_id(v)
                    check = st == "check"
                elif t == "name":
                    val = norm_name(v)
                elif t == "enum":
                    val = str(v).strip()
                    if val not in allowed:
                        raise Bad("invalid_value")
                elif t == "amount":
                    val = parse_amount(v)
                    if val < 0:
                        raise Bad("negative_amount")
                elif t == "date":
                    val = parse_date(v)
                    if c[6] and (val.year, val.month) != (y, m):
                        raise Bad("date_outside_month")
                    if c[6]:
                        in_month += 1
                elif t == "month":
                    val = str(v).strip()
                    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", val):
                        raise Bad("invalid_value")
                elif t == "integer":
                    if isinstance(v, float) and v.is_integer():
                        v = int(v)
                    if not re.fullmatch(r"\d+", str(v).strip()):
                        raise Bad("invalid_value")
                    val = int(str(v).strip())
                elif t == "region_code":
                    val = str(v).strip()
                    if not re.fullmatch(r"\d{12}", val):
                        raise Bad("invalid_value")
                else:
                    val = str(v).strip()
                rec[ci] = val
            except Bad as b:
                reason = b.code
                break
        if reason is None and source == "medical_insurance":
            if abs(rec[3] - rec[4] - rec[5] - rec[6] - rec[7]) > 1:
                reason = "oop_mismatch"
        if reason is not None:
            dated_col = next((ci for ci, c in enumerate(cols) if c[6]), None)
        out.append((rn, tuple(rec) if reason is None else None, reason, check and reason is None))
    dated = any(c[6] for c in cols)
    if dated and rows and in_month == 0:
        # no row dated in the month (rows outside it were counted as date_outside_month)
        if all(r[2] == "date_outside_month" for r in out):
            raise Bad("wrong_month")
    return out


def link(bad, name, known):
    """Candidates for a bad-check ID: one edit away, else the same first 14 digits."""
    cands = {y for y in neighbours(bad) if (y, name) in known["pair"]}
    if not cands:
        cands = {p for p in known["by14"].get((bad[:14], name), ())}
    if len(cands) == 1:
        return "ok", next(iter(cands))
    return ("id_ambiguous" if cands else "id_unlinked"), None


def verify(out) -> dict:
    """Compare truth/ with what the landing files say. Returns a dict of mismatches (empty = ok)."""
    out = Path(out)
    pol = yaml.safe_load((out / "policy.yaml").read_text(encoding="utf-8"))
    county = next(iter(pol["counties"].values()))
    periods = county["periods"]
    # a prefecture (--counties N): each household is judged, and each county's audit drawn, with
    # its own county's parameters
    by_county = {str(c): v["periods"] for c, v in pol["counties"].items()} if len(pol["counties"]) > 1 else None
    months = sorted(p.name for p in out.iterdir() if re.fullmatch(r"\d{4}-\d{2}", p.name))
    hist = History()
    got = {"determinations": set(), "alerts": set(), "quarantine": set(), "refused_files": set(),
           "links": set(), "withheld": set(), "files": set(), "audit_sample": set()}
    # civil_affairs_decisions is optional: read when the generator says it wrote it (variant mode)
    with open(out / "truth" / "files.csv", encoding="utf-8", newline="") as f:
        listed = {r["source"] for r in csv.DictReader(f)}
    sources = list(BASE) + ([DECISIONS] if DECISIONS in listed else [])
    for ym in months:
        params = period_of(periods, ym)
        mi = MonthInput(ym, params, None if by_county is None else
                        {c: period_of(ps, ym) for c, ps in by_county.items()})
        classified = {}
        for source in sources:
            files = sorted((out / ym).glob(f"{source}.*"))
            if not files:
                got["files"].add((ym, source, "missing"))
                continue
            try:
                classified[source] = classify_file(source, files[0], ym)
            except Bad as b:
                got["refused_files"].add((ym, source, b.code))
                got["files"].add((ym, source, b.code))
        known = {"pair": set(), "by14": defaultdict(set)}
        for source in IDENTITY:
            if source not in classified:
                continue
            ic = next(i for i, c in enumerate(COLS[source]) if c[2] == "id")
            nc = next(i for i, c in enumerate(COLS[source]) if c[2] == "name")
            for rn, rec, reason, pending in classified[source]:
                if rec is not None and not pending:
                    known["pair"].add((rec[ic], rec[nc]))
                    known["by14"][(rec[ic][:14], rec[nc])].add(rec[ic])
        for source, rows in classified.items():
            cols = COLS[source]
            ic = next((i for i, c in enumerate(cols) if c[2] == "id"), None)
            nc = next((i for i, c in enumerate(cols) if c[2] == "name"), None)
            acc = []
            seen = set()
            for rn, rec, reason, pending in rows:
                if pending:
                    st, pid = link(rec[ic], rec[nc], known)
                    if st != "ok":
                        reason, rec = st, None
                    else:
                        rec = rec[:ic] + (pid,) + rec[ic + 1:]
                        got["links"].add((ym, source, rn, pid))
                if reason:
                    got["quarantine"].add((ym, source, rn, reason))
                    continue
                if rec in seen:
                    continue
                seen.add(rec)
                acc.append(rec)
            setattr(mi, ATTR[source], acc)
            # delivered: no data row, or at least one accepted (rules.md "Incomplete months")
            if acc or not rows:
                mi.present.add(source)
                got["files"].add((ym, source, "ok"))
            else:
                got["files"].add((ym, source, "ok_none_accepted"))
        if not all(s in mi.present for s in ROSTER):
            skip_month(mi, hist)   # the run stops without the roster: no result for the month
            continue
        dets, alerts, withheld = evaluate(mi, hist)
        pop = audit_population(mi)
        if by_county is None:
            got["audit_sample"] |= {(ym,) + a for a in draw_audit(ym, pop, params)}
        else:
            for c, ps in by_county.items():
                got["audit_sample"] |= {(ym,) + a for a in draw_audit(
                    ym, {h: v for h, v in pop.items() if v[1][:6] == c}, period_of(ps, ym))}
        got["determinations"] |= {(ym,) + d for d in dets}
        got["alerts"] |= {(ym,) + a for a in alerts}
        got["withheld"] |= {(ym,) + w for w in withheld}

    def load(name, width=None):
        with open(out / "truth" / f"{name}.csv", encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))[1:]
        return rows

    with open(out / "truth" / "alerts.csv", encoding="utf-8", newline="") as f:
        width = len(next(csv.reader(f)))      # with `reasons` in variant mode
    got["alerts"] = {a[:width] for a in got["alerts"]}
    audit = load("audit_sample")
    aw = len(audit[0]) if audit else 0
    got["audit_sample"] = {(a[0], a[1], str(a[2])) + tuple(a[3:aw]) for a in got["audit_sample"]}
    want = {
        "determinations": {tuple(r) for r in load("determinations")},
        "alerts": {tuple(r) for r in load("alerts")},
        "audit_sample": {tuple(r) for r in audit},
        "quarantine": {(r[0], r[1], int(r[2]), r[3]) for r in load("quarantine")},
        "refused_files": {tuple(r) for r in load("refused_files")},
        "withheld": {tuple(r) for r in load("withheld")},
        # a file whose rows were all quarantined is accepted by load_log ("ok") but undelivered
        "files": {(r[0], r[1], "ok_none_accepted" if r[7] == "ok" and int(r[8]) > 0
                   and int(r[9]) == int(r[8]) else r[7]) for r in load("files")},
        "links": {(r[0], r[1], int(r[2]), r[3]) for r in load("links")
                  if r[4] in ("typo_1", "transposition", "same_birth")},
    }
    # links found by the reader include only corrected bad check digits
    diff = {}
    for k in want:
        missing = want[k] - got[k]
        extra = got[k] - want[k]
        if missing or extra:
            diff[k] = {"missing": sorted(missing)[:20], "extra": sorted(extra)[:20],
                       "n_missing": len(missing), "n_extra": len(extra)}
    return diff
