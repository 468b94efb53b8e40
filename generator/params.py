"""County geography and the policy file (interface.md "Policy file")."""
from __future__ import annotations

import math
from bisect import bisect_right

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

    def __init__(self, rng, households: int):
        self.code, self.name = COUNTIES[rng.randrange(len(COUNTIES))]
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
        i = min(bisect_right(self._cum, g + 0.5), len(self.villages) - 1)
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
