"""County geography and the policy file (interface.md "Policy file")."""
from __future__ import annotations

import math
import re
from bisect import bisect_right
from pathlib import Path

from .names import place_name

COUNTIES = [
    ("370322", "高青县"), ("370323", "沂源县"), ("410523", "汤阴县"), ("430124", "宁乡县"),
    ("511025", "资中县"), ("622923", "永靖县"), ("130426", "涉县"), ("341222", "太和县"),
    ("421127", "黄梅县"), ("360726", "安远县"), ("522328", "安龙县"), ("612425", "紫阳县"),
]

# name -> (default, period-2 value); order = rules.md's parameter table
PARAMETERS = [
    ("dibao_standard_urban", 1000, 1050),
    ("dibao_standard_rural", 800, 850),
    ("marginal_multiplier", 1.5, 1.5),
    ("expenditure_income_ceiling_urban", 4200, 4400),
    ("expenditure_income_ceiling_rural", 2000, 2100),
    ("asset_months", 24, 24),
    ("max_properties", 1, 1),
    ("employment_cost_deduction", 300, 300),
    ("gradual_exit_ceiling_multiplier", 2.0, 2.0),
    ("gradual_exit_months", 18, 18),
    ("gradual_exit_months_disabled", 24, 24),
    ("tekun_multiplier", 1.3, 1.3),
    ("min_topup_per_person", 30, 30),
    ("supplement_severe", 0.60, 0.60),
    ("supplement_multi_disabled", 0.55, 0.55),
    ("supplement_elderly_minor", 0.50, 0.50),
    ("medical_shock_12m", 20000, 20000),
    ("disaster_loss_shock", 10000, 10000),
    ("relapse_income_threshold", 7300, 7300),
    ("review_cycle_months_stable", 12, 12),
    ("review_cycle_months_unstable", 6, 6),
    ("audit_sample_rate", 0.30, 0.30),
]
PARAM_NAMES = [p[0] for p in PARAMETERS]

# prefectures (地级市, a 4-digit code prefix) and their counties, for --counties N > 1
PREFECTURES = [
    ("3703", "淄博市", [("370302", "淄川区"), ("370303", "张店区"), ("370304", "博山区"), ("370305", "临淄区"),
                       ("370306", "周村区"), ("370321", "桓台县"), ("370322", "高青县"), ("370323", "沂源县")]),
    ("4105", "安阳市", [("410502", "文峰区"), ("410503", "北关区"), ("410505", "殷都区"), ("410506", "龙安区"),
                       ("410522", "安阳县"), ("410523", "汤阴县"), ("410526", "滑县"), ("410527", "内黄县"),
                       ("410581", "林州市")]),
    ("6229", "临夏回族自治州", [("622901", "临夏市"), ("622921", "临夏县"), ("622922", "康乐县"),
                              ("622923", "永靖县"), ("622924", "广河县"), ("622925", "和政县"),
                              ("622926", "东乡族自治县"), ("622927", "积石山保安族东乡族撒拉族自治县")]),
    ("3412", "阜阳市", [("341202", "颍州区"), ("341203", "颍东区"), ("341204", "颍泉区"), ("341221", "临泉县"),
                       ("341222", "太和县"), ("341225", "阜南县"), ("341226", "颍上县"), ("341282", "界首市")]),
]
# --counties N > 1: county k's standards are the generated ones raised by k times these (yuan), so
# that a county's rows must be judged with its own county's parameters
COUNTY_STEP = {"dibao_standard_urban": 50, "dibao_standard_rural": 40}


def prefecture_counties(rng, n: int):
    """-> (prefecture code, prefecture name, [(county code, county name)] of n counties sharing the
    4-digit prefix): real ones first, then made-up codes (prefix + 2 digits) with made-up names."""
    pre, pname, real = PREFECTURES[rng.randrange(len(PREFECTURES))]
    if n > 99 - 1:
        raise ValueError(f"counties: at most 98 counties share a 4-digit prefecture prefix, got {n}")
    out = list(real[:n])
    used = {c for c, _ in out} | {nm for _, nm in out}
    k = 1
    while len(out) < n:
        code = f"{pre}{k:02d}"
        k += 1
        if code in used:
            continue
        for _ in range(100):
            nm = place_name(rng) + "县"
            if nm not in used:
                break
        used.update((code, nm))
        out.append((code, nm))
    return pre, pname, out


def county_periods(periods, k: int):
    """The generated periods of the k-th county of a prefecture (COUNTY_STEP)."""
    out = []
    for p in periods:
        q = dict(p)
        for name, step in COUNTY_STEP.items():
            q[name] = p[name] + step * k
        out.append(q)
    return out


def month_add(ym: str, k: int) -> str:
    y, m = int(ym[:4]), int(ym[5:7])
    y, m = divmod(y * 12 + m - 1 + k, 12)
    return f"{y:04d}-{m + 1:02d}"


def month_diff(a: str, b: str) -> int:
    """Months from a to b (b - a)."""
    return (int(b[:4]) * 12 + int(b[5:7])) - (int(a[:4]) * 12 + int(a[5:7]))


def periods_for(start: str, months: int):
    """Two periods: rules.md defaults, then raised standards from a middle month."""
    first_from = month_add(start, -12)
    boundary = month_add(start, months // 2 if months >= 2 else 1)
    p1 = {"effective_from": first_from}
    p2 = {"effective_from": boundary}
    for name, a, b in PARAMETERS:
        p1[name] = a
        p2[name] = b
    return [p1, p2]


def period_of(periods, ym: str):
    cur = periods[0]
    for p in periods:
        if p["effective_from"] <= ym:
            cur = p
    return cur


class Geography:
    """Towns and villages of the county; households are spread over villages by index."""

    def __init__(self, rng, households: int, code: str | None = None, name: str | None = None):
        if code is None:
            self.code, self.name = COUNTIES[rng.randrange(len(COUNTIES))]
        else:   # a county of a prefecture (--counties N)
            self.code, self.name = code, name
        self.g_off = 0   # a prefecture's county: the index of its first household
        urban_hh = households * 0.35
        rural_hh = households - urban_hh
        n_comm = max(2, math.ceil(urban_hh / 700))
        n_vill = max(4, math.ceil(rural_hh / 250))
        n_sub = min(99, max(1, math.ceil(n_comm / 8)))
        n_town = min(100, max(2, math.ceil(n_vill / 20)))
        n_comm = min(n_comm, n_sub * 199)
        n_vill = min(n_vill, n_town * 200)
        used = set()

        def uniq(suffix):
            for _ in range(200):
                nm = place_name(rng) + suffix
                if nm not in used:
                    used.add(nm)
                    return nm
            k = len(used)
            nm = place_name(rng) + str(k) + suffix
            used.add(nm)
            return nm

        self.towns = {}      # 9-digit -> name
        self.villages = []   # (12-digit, name, urban:bool, weight)
        for i in range(n_sub):
            self.towns[f"{self.code}{i + 1:03d}"] = uniq("街道")
        for i in range(n_town):
            self.towns[f"{self.code}{100 + i:03d}"] = uniq("镇")
        sub_codes = sorted(c for c in self.towns if int(c[6:]) < 100)
        town_codes = sorted(c for c in self.towns if int(c[6:]) >= 100)
        per_sub = [0] * n_sub
        for i in range(n_comm):
            per_sub[i % n_sub] += 1
        for t, cnt in zip(sub_codes, per_sub):
            for j in range(cnt):
                self.villages.append((f"{t}{j + 1:03d}", uniq("社区"), True, rng.uniform(500, 900)))
        per_town = [0] * n_town
        for i in range(n_vill):
            per_town[i % n_town] += 1
        for t, cnt in zip(town_codes, per_town):
            # one 镇区社区 (urban) per town
            self.villages.append((f"{t}001", uniq("社区"), True, rng.uniform(150, 300)))
            for j in range(cnt):
                self.villages.append((f"{t}{200 + j:03d}", uniq("村"), False, rng.uniform(150, 350)))
        self.villages.sort()
        total_w = sum(v[3] for v in self.villages)
        acc = 0.0
        self._cum = []
        for v in self.villages:
            acc += v[3] / total_w * households
            self._cum.append(acc)
        self.village_names = {v[0]: v[1] for v in self.villages}

    def village_of(self, g: int):
        i = min(bisect_right(self._cum, g - self.g_off + 0.5), len(self.villages) - 1)
        v = self.villages[i]
        return v[0], v[2]


def policy_yaml(geo: Geography, periods) -> str:
    def q(s):
        return '"' + s + '"'

    lines = ["counties:", f"  {q(geo.code)}:", f"    name: {geo.name}", "    towns:"]
    for c in sorted(geo.towns):
        lines.append(f"      {q(c)}: {geo.towns[c]}")
    lines.append("    villages:")
    for c in sorted(geo.village_names):
        lines.append(f"      {q(c)}: {geo.village_names[c]}")
    lines.append("    periods:")
    for p in periods:
        lines.append(f"      - effective_from: {q(p['effective_from'])}")
        for name in PARAM_NAMES:
            lines.append(f"        {name}: {p[name]}")
    return "\n".join(lines) + "\n"


def policy_yaml_multi(geos, periods_by_county) -> str:
    """policy_yaml() of several counties (a prefecture) in one file."""
    lines = ["counties:"]
    for geo, periods in zip(geos, periods_by_county):
        lines += policy_yaml(geo, periods).rstrip("\n").split("\n")[1:]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# rules-variants.md B.1: optional parameters (absent in a period = the default in that period,
# never carried over from an earlier period). Order = the B.1 table.
# ---------------------------------------------------------------------------------------------
VARIANT_PARAMETERS = [
    ("tekun_multiplier_urban", None),
    ("tekun_multiplier_rural", None),
    ("tekun_multiplier_centralized", None),
    ("tekun_care_self", 0),
    ("tekun_care_partial", 0),
    ("tekun_care_full", 0),
    ("support_income_disregard", False),
    ("severe_disability_level3_intellectual_mental", False),
    ("single_person_critical_illness_claim", False),
    ("single_person_veteran_max_grade", None),
    ("single_person_preferential", False),
    ("supplement_elderly_age", 70),
    ("supplement_minor_age", 18),
    ("supplement_elderly_disabled_age", 60),
    ("supplement_veteran_max_grade", None),
    ("supplement_preferential", 0),
    ("gradual_exit_annual_reduction", None),
    ("gradual_exit_reduction_offset", 0),
    ("dibao_benefit_basis", "current_month"),
    ("audit_per_town", False),
    ("audit_include_rejected", False),
]
VARIANT_DEFAULTS = dict(VARIANT_PARAMETERS)
VARIANT_NAMES = [p[0] for p in VARIANT_PARAMETERS]
_FLAGS = {"support_income_disregard", "severe_disability_level3_intellectual_mental",
          "single_person_critical_illness_claim", "single_person_preferential", "audit_per_town",
          "audit_include_rejected"}
_MULTIPLIERS = {"tekun_multiplier_urban", "tekun_multiplier_rural", "tekun_multiplier_centralized"}
_CARE = {"tekun_care_self", "tekun_care_partial", "tekun_care_full"}
_AGES = {"supplement_elderly_age", "supplement_minor_age", "supplement_elderly_disabled_age"}
_GRADES = {"single_person_veteran_max_grade", "supplement_veteran_max_grade"}


def vparam(period: dict, name: str):
    """A rules-variants.md parameter of one period: its value, or its default when absent
    (`null` is a value only for supplement_elderly_disabled_age: no 老残一体 group)."""
    if name in period:
        v = period[name]
        if v is None and name != "supplement_elderly_disabled_age":
            return VARIANT_DEFAULTS[name]
        return v
    return VARIANT_DEFAULTS[name]


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_variant(name: str, v, where: str):
    """rules-variants.md B.1 validation; raises ValueError naming the period and key."""
    bad = None
    if name in _FLAGS:
        if not isinstance(v, bool):
            bad = "true or false"
    elif name in _MULTIPLIERS:
        if v is not None and not (_is_num(v) and v > 0):
            bad = "null or a number > 0"
    elif name in _CARE:
        if not (_is_num(v) and v >= 0):
            bad = "a number >= 0 (yuan/person/month)"
    elif name == "supplement_preferential":
        if not (_is_num(v) and 0 <= v <= 1):
            bad = "a rate in [0, 1]"
    elif name in _AGES:
        ok = isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 120
        if not ok and not (v is None and name == "supplement_elderly_disabled_age"):
            bad = "an integer from 0 to 120" + (" or null" if name == "supplement_elderly_disabled_age" else "")
    elif name in _GRADES:
        if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10):
            bad = "null or an integer from 1 to 10"
    elif name == "gradual_exit_annual_reduction":
        if v is not None and not (_is_num(v) and 0 < v <= 1):
            bad = "null or a share in (0, 1]"
    elif name == "gradual_exit_reduction_offset":
        if not (isinstance(v, int) and not isinstance(v, bool) and v in (0, 1)):
            bad = "0 or 1"
    elif name == "dibao_benefit_basis":
        if v not in ("current_month", "last_review_month"):
            bad = "current_month or last_review_month"
    if bad:
        raise ValueError(f"policy: {where}: {name} must be {bad}, got {v!r}")


def _fmt(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _as_ym(v, where) -> str:
    s = str(v).strip() if not hasattr(v, "year") else f"{v.year:04d}-{v.month:02d}"
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", s):
        raise ValueError(f"policy: {where}: effective_from must be YYYY-MM, got {v!r}")
    return s


def load_policy(policy, county: str | None = None):
    """The periods of a policy given to generate(): a path to a YAML file in interface.md's format
    (`counties: {code: {periods: [...]}}`; name/towns/villages are ignored), or the same as a dict,
    or a dict `{"periods": [...]}`, or a list of periods. A file with several counties needs
    `county`. A period holds `effective_from` and any parameters of rules.md and rules-variants.md
    (a rules.md parameter may be left out: the generated value is kept), and `response_days`.
    -> (county code or None, sorted list of period dicts)."""
    if isinstance(policy, (str, Path)):
        import yaml
        policy = yaml.safe_load(Path(policy).read_text(encoding="utf-8"))
    code = None
    if isinstance(policy, dict) and "counties" in policy:
        counties = policy["counties"]
        if not isinstance(counties, dict) or not counties:
            raise ValueError("policy: `counties` must be a non-empty mapping")
        if county is None:
            if len(counties) != 1:
                raise ValueError(f"policy: the file holds {len(counties)} counties "
                                 f"({', '.join(map(str, counties))}); name one (policy_county / --policy-county)")
            county = next(iter(counties))
        if str(county) not in {str(k) for k in counties}:
            raise ValueError(f"policy: county {county} is not in the file")
        code = str(county)
        entry = next(v for k, v in counties.items() if str(k) == code)
        periods = (entry or {}).get("periods")
    elif isinstance(policy, dict):
        periods = policy.get("periods")
    else:
        periods = policy
    if not isinstance(periods, list) or not periods:
        raise ValueError("policy: no periods")
    known = set(PARAM_NAMES) | set(VARIANT_NAMES) | {"effective_from", "response_days"}
    out = []
    for i, p in enumerate(periods):
        if not isinstance(p, dict) or "effective_from" not in p:
            raise ValueError(f"policy: period {i + 1} has no effective_from")
        ef = _as_ym(p["effective_from"], f"period {i + 1}")
        where = f"county {code or '-'}, period {ef}"
        unknown = sorted(set(p) - known)
        if unknown:
            raise ValueError(f"policy: {where}: unknown parameter(s) {', '.join(unknown)}")
        q = {"effective_from": ef}
        for k, v in p.items():
            if k == "effective_from":
                continue
            if k in VARIANT_DEFAULTS:
                check_variant(k, v, where)
            elif k in PARAM_NAMES and not _is_num(v):
                raise ValueError(f"policy: {where}: {k} must be a number, got {v!r}")
            q[k] = v
        out.append(q)
    for a, b in zip(out, out[1:]):
        if a["effective_from"] >= b["effective_from"]:
            raise ValueError(f"policy: periods must be sorted and distinct "
                             f"({a['effective_from']} then {b['effective_from']})")
    return code, out


def merge_periods(generated, given, months):
    """The generated county's periods with the parameters of a given policy (see README,
    "Policy variants"): a generated month M uses the given period containing M (interface.md's
    rule; a month before the given file's first period is an error). Output boundaries: the
    generated ones, plus the given ones strictly after the first generated month and not after
    the last. Each output period = the generated period in force at max(boundary, first month),
    overridden by the given period in force there: its rules.md parameters replace the generated
    ones, its rules-variants.md parameters (only those it states) are added, so an absent one
    takes its default in that period."""
    first, last = months[0], months[-1]
    if first < given[0]["effective_from"]:
        raise ValueError(f"policy: the given file's first period starts {given[0]['effective_from']}, "
                         f"after the first generated month {first}; generate from that month on")
    bounds = sorted({p["effective_from"] for p in generated} |
                    {p["effective_from"] for p in given if first < p["effective_from"] <= last})
    out = []
    for b in bounds:
        at = max(b, first)
        g = period_of(generated, at)
        f = period_of(given, at)
        q = {"effective_from": b}
        for name in PARAM_NAMES:
            q[name] = f.get(name, g[name])
        for name in VARIANT_NAMES:
            if name in f:
                q[name] = f[name]
        if "response_days" in f:
            q["response_days"] = f["response_days"]
        out.append(q)
    return out


def has_variant_params(periods) -> bool:
    return any(k in VARIANT_DEFAULTS for p in periods for k in p)


def policy_yaml_v(geo: Geography, periods) -> str:
    """policy_yaml() plus the rules-variants.md parameters each period states (B.1 order) and
    response_days."""
    text = policy_yaml(geo, periods)
    lines = text.rstrip("\n").split("\n")
    head = lines[:lines.index("    periods:") + 1]
    body = []
    for p in periods:
        body.append(f"      - effective_from: \"{p['effective_from']}\"")
        for name in PARAM_NAMES:
            body.append(f"        {name}: {p[name]}")
        for name in VARIANT_NAMES:
            if name in p:
                body.append(f"        {name}: {_fmt(p[name])}")
        if "response_days" in p:
            rd = p["response_days"] or {}
            body.append("        response_days:" + ("" if rd else " {}"))
            for k, v in rd.items():
                body.append(f"          {k}: {v}")
    return "\n".join(head + body) + "\n"
