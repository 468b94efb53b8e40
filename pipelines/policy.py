"""Policy file (YAML) → validated parameter periods per county (interface.md, "Policy file").

Every parameter of rules.md's table must be present in every period; periods are sorted
and contiguous by construction (each runs until the next one starts), so a "gap or
overlap" shows as an unsorted or repeated `effective_from`. Any problem raises
PolicyError with one line naming the county, the period and the parameter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# rules.md, "Parameters": name -> kind. Standards and multipliers must be > 0.
PARAMETERS: dict[str, str] = {
    "dibao_standard_urban": "standard",
    "dibao_standard_rural": "standard",
    "marginal_multiplier": "positive",
    "expenditure_income_ceiling_urban": "positive",
    "expenditure_income_ceiling_rural": "positive",
    "asset_months": "positive",
    "max_properties": "non_negative",
    "employment_cost_deduction": "non_negative",
    "gradual_exit_ceiling_multiplier": "positive",
    "gradual_exit_months": "positive",
    "gradual_exit_months_disabled": "positive",
    "tekun_multiplier": "positive",
    "min_topup_per_person": "non_negative",
    "supplement_severe": "non_negative",
    "supplement_multi_disabled": "non_negative",
    "supplement_elderly_minor": "non_negative",
    "medical_shock_12m": "positive",
    "disaster_loss_shock": "positive",
    "relapse_income_threshold": "positive",
    "review_cycle_months_stable": "positive",
    "review_cycle_months_unstable": "positive",
    "audit_sample_rate": "rate",
}
COUNTY_KEYS = {"name", "towns", "villages", "periods"}
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PolicyError(ValueError):
    """The policy file cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class County:
    code: str
    name: str
    towns: dict[str, str]
    villages: dict[str, str]
    periods: list[dict]  # each: {"effective_from": "YYYY-MM", <parameter>: float, ...}


@dataclass(frozen=True)
class Policy:
    path: str
    counties: dict[str, County]

    def period_for(self, county: str, month: str) -> dict | None:
        """The period of `county` in force in `month` (None before the first period)."""
        chosen = None
        for p in self.counties[county].periods:
            if p["effective_from"] <= month:
                chosen = p
        if chosen is not None and chosen.get("effective_to") and chosen["effective_to"] < month:
            return None
        return chosen

    def parameter_rows(self) -> list[tuple]:
        """Long rows (county_code, effective_from, effective_to, name, value) for the warehouse."""
        rows = []
        for code, c in sorted(self.counties.items()):
            for i, p in enumerate(c.periods):
                to = c.periods[i + 1]["effective_from"] if i + 1 < len(c.periods) else None
                for name in PARAMETERS:
                    rows.append((code, p["effective_from"], to, name, float(p[name])))
        return rows

    def town_rows(self) -> list[tuple]:
        return [(t, n, code) for code, c in sorted(self.counties.items()) for t, n in sorted(c.towns.items())]

    def village_rows(self) -> list[tuple]:
        return [(v, n, code) for code, c in sorted(self.counties.items()) for v, n in sorted(c.villages.items())]


def _month(value, where: str) -> str:
    text = str(value).strip()
    if hasattr(value, "year") and hasattr(value, "month"):  # YAML may read 2025-07-01 as a date
        text = f"{value.year:04d}-{value.month:02d}"
    if not MONTH_RE.match(text):
        raise PolicyError(f"{where}: effective_from 应为 YYYY-MM，实际为 {value!r}")
    return text


def _next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def load_policy(path: str | Path) -> Policy:
    p = Path(path)
    if not p.is_file():
        raise PolicyError(f"政策文件不存在：{p}（请用 --policy 指定政策 YAML 文件）")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise PolicyError(f"政策文件 {p} 无法解析为 YAML：{str(e).splitlines()[0]}") from e
    if not isinstance(doc, dict) or set(doc) != {"counties"} or not isinstance(doc["counties"], dict) or not doc["counties"]:
        extra = sorted(set(doc or {}) - {"counties"}) if isinstance(doc, dict) else []
        raise PolicyError(f"政策文件 {p}：顶层只能有 counties（县列表）" + (f"，未知键：{extra}" if extra else ""))
    counties = {}
    for raw_code, body in doc["counties"].items():
        code = str(raw_code).strip()
        where = f"政策文件 {p} 县 {code}"
        if not re.fullmatch(r"\d{6}", code):
            raise PolicyError(f"{where}：县代码应为 6 位数字")
        if not isinstance(body, dict):
            raise PolicyError(f"{where}：内容应为映射")
        unknown = sorted(set(body) - COUNTY_KEYS)
        if unknown:
            raise PolicyError(f"{where}：未知键 {', '.join(unknown)}")
        for key in ("name", "towns", "periods"):
            if key not in body:
                raise PolicyError(f"{where}：缺少 {key}")
        towns = {str(k).strip(): str(v) for k, v in (body.get("towns") or {}).items()}
        for t in towns:
            if not (re.fullmatch(r"\d{9}", t) and t.startswith(code)):
                raise PolicyError(f"{where}：乡镇代码 {t} 应为以 {code} 开头的 9 位数字")
        villages = {str(k).strip(): str(v) for k, v in (body.get("villages") or {}).items()}
        for v in villages:
            if not (re.fullmatch(r"\d{12}", v) and v.startswith(code)):
                raise PolicyError(f"{where}：村（社区）代码 {v} 应为以 {code} 开头的 12 位数字")
        periods_in = body["periods"]
        if not isinstance(periods_in, list) or not periods_in:
            raise PolicyError(f"{where}：periods 应为非空列表")
        periods = []
        for i, per in enumerate(periods_in):
            if not isinstance(per, dict) or "effective_from" not in per:
                raise PolicyError(f"{where} 第 {i + 1} 个时段：缺少 effective_from")
            start = _month(per["effective_from"], f"{where} 第 {i + 1} 个时段")
            pwhere = f"{where} 时段 {start}"
            unknown = sorted(set(per) - set(PARAMETERS) - {"effective_from", "effective_to"})
            if unknown:
                raise PolicyError(f"{pwhere}：未知参数 {', '.join(unknown)}")
            values = {"effective_from": start}
            if per.get("effective_to") is not None:  # optional inclusive last month, checked for gaps
                values["effective_to"] = _month(per["effective_to"], pwhere)
                if values["effective_to"] < start:
                    raise PolicyError(f"{pwhere}：effective_to 早于 effective_from")
            for name, kind in PARAMETERS.items():
                if name not in per or per[name] is None:
                    raise PolicyError(f"{pwhere}：缺少参数 {name}")
                v = per[name]
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise PolicyError(f"{pwhere}：参数 {name} 应为数值，实际为 {v!r}")
                if kind in ("standard", "positive") and v <= 0:
                    raise PolicyError(f"{pwhere}：参数 {name} 必须为正数，实际为 {v}")
                if kind in ("non_negative", "rate") and v < 0:
                    raise PolicyError(f"{pwhere}：参数 {name} 不能为负数，实际为 {v}")
                if kind == "rate" and v > 1:
                    raise PolicyError(f"{pwhere}：参数 {name} 应在 0 到 1 之间，实际为 {v}")
                values[name] = float(v)
            if periods and start <= periods[-1]["effective_from"]:
                what = "重叠（生效月份重复）" if start == periods[-1]["effective_from"] else "顺序错误"
                raise PolicyError(f"{pwhere}：时段{what}，应按生效月份升序排列且互不重叠")
            if periods and "effective_to" in periods[-1]:
                expected = _next_month(periods[-1]["effective_to"])
                if start > expected:
                    raise PolicyError(f"{pwhere}：与上一时段之间有空档（{expected} 起无参数）")
                if start < expected:
                    raise PolicyError(f"{pwhere}：与上一时段重叠（上一时段至 {periods[-1]['effective_to']}）")
            periods.append(values)
        counties[code] = County(code, str(body["name"]), towns, villages, periods)
    return Policy(str(p), counties)
