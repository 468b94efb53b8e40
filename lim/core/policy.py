"""Policy file (YAML) → validated parameter periods per county (interface.md, "Policy file").

Every parameter of rules.md's table must be present in every period (those of rules-variants.md
B.1 are optional: absent = their default in that period, OPTIONAL_PARAMETERS); periods are sorted
and contiguous by construction (each runs until the next one starts), so a "gap or
overlap" shows as an unsorted or repeated `effective_from`. Any problem raises
PolicyError with one line naming the county, the period and the parameter.

The file is read defensively (it may be careless or hostile): at most MAX_POLICY_BYTES; YAML
composed with a loader that counts aliases (MAX_ALIASES), nodes (MAX_FILE_NODES) and nesting
(MAX_DEPTH), and the node graph measured with every alias expanded (MAX_NODES) before anything is
built, so an alias bomb of a few KB is refused in milliseconds; a key repeated in one mapping is refused (PyYAML keeps
the last one silently), and so is a county, town or village code given twice; parameters must be
finite numbers within MAXIMUM; town, village and county names non-empty text of at most
MAX_NAME_CHARS characters without control characters or slashes (they become file names).
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from lim.core.hashing import sha256_bytes
from lim.core.errors import MAX_MESSAGE_CHARS, PolicyError, one_line as _one_line  # noqa: F401 (PolicyError is this module's error)
from lim.core.month import Month
from lim.core.response_days import KEY as RESPONSE_DAYS, parse_response_days

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
# Sane upper bounds (inclusive) of every parameter: yuan amounts, multipliers, months, counts, rate.
_YUAN, _MULT, _MONTHS = 10_000_000, 100, 1200
MAXIMUM: dict[str, float] = {
    "dibao_standard_urban": 100_000, "dibao_standard_rural": 100_000, "marginal_multiplier": _MULT,
    "expenditure_income_ceiling_urban": _YUAN, "expenditure_income_ceiling_rural": _YUAN, "asset_months": _MONTHS,
    "max_properties": 1000, "employment_cost_deduction": _YUAN, "gradual_exit_ceiling_multiplier": _MULT,
    "gradual_exit_months": _MONTHS, "gradual_exit_months_disabled": _MONTHS, "tekun_multiplier": _MULT,
    "min_topup_per_person": _YUAN, "supplement_severe": _MULT, "supplement_multi_disabled": _MULT,
    "supplement_elderly_minor": _MULT, "medical_shock_12m": _YUAN, "disaster_loss_shock": _YUAN,
    "relapse_income_threshold": _YUAN, "review_cycle_months_stable": _MONTHS,
    "review_cycle_months_unstable": _MONTHS, "audit_sample_rate": 1,
}
# rules-variants.md B.1: optional in every period. Absent = its default in that period (never
# carried over from an earlier period); `null` is a value only where it has a meaning (the
# defaults marked None: a multiplier that falls back to another, a grade or age rule switched
# off, no amount check during exit). name -> (kind, default); kinds are checked by _optional.
OPTIONAL_PARAMETERS: dict[str, tuple[str, object]] = {
    "tekun_multiplier_urban": ("multiplier_or_null", None),        # 000:19 城市 1.5·S; null = tekun_multiplier
    "tekun_multiplier_rural": ("multiplier_or_null", None),        # 000:19 农村 1.3·S; null = tekun_multiplier
    "tekun_multiplier_centralized": ("multiplier_or_null", None),  # 001:40 集中供养 2·S; null = the urban/rural one
    "tekun_care_self": ("care", 0),                                # 002:20 全自理 (no seed gives an amount)
    "tekun_care_partial": ("care", 0),                             # 002:20 半护理
    "tekun_care_full": ("care", 0),                                # 002:20 全护理
    "support_income_disregard": ("flag", False),                   # 002:28 不核算赡养抚养扶养费
    "severe_disability_level3_intellectual_mental": ("flag", False),  # 002:18, 002:22 三级智力/精神 = 重度
    "single_person_critical_illness_claim": ("flag", False),       # 002:22 启动大病保险理赔人员
    "single_person_veteran_max_grade": ("grade_or_null", None),    # 002:22 1-6级残疾军人
    "single_person_preferential": ("flag", False),                 # 002:22 定期抚恤补助的重点优抚对象
    "supplement_elderly_age": ("age", 70),                         # 001:48 70 周岁以上老年人
    "supplement_minor_age": ("age", 18),                           # 001:48 未成年人
    "supplement_elderly_disabled_age": ("age_or_null", 60),        # 老残一体 (001:48 gives no age); null = no such group
    "supplement_veteran_max_grade": ("grade_or_null", None),       # 002:18 含1-4级残疾军人
    "supplement_preferential": ("share", 0),                       # 002:18 军属、烈士遗属… ·S
    "gradual_exit_annual_reduction": ("reduction_or_null", None),  # 001:50 年度递减幅度为25%; null = not checked
    "gradual_exit_reduction_offset": ("offset", 0),                # 001:50 which exit year is cut first
    "dibao_benefit_basis": ("basis", "current_month"),             # 002:26 复核期内…不再调整救助水平
    "audit_per_town": ("flag", False),                             # 004:51 对乡镇（街道）审核确认…抽查
    "audit_include_rejected": ("flag", False),                     # 004:51 （含申请未通过）
}
BENEFIT_BASES = ("current_month", "last_review_month")
#: every parameter a period holds once loaded, in the order of rules.md then rules-variants.md
ALL_PARAMETERS: list[str] = [*PARAMETERS, *OPTIONAL_PARAMETERS]
COUNTY_KEYS = {"name", "towns", "villages", "periods"}

MAX_POLICY_BYTES = 1 << 20   # 1 MB: a province's towns and villages fit many times over
MAX_ALIASES = 1000           # *alias uses in the file
MAX_FILE_NODES = 200_000     # YAML nodes written in the file (1 MB of village names holds ~60,000)
MAX_NODES = 1_000_000        # YAML nodes once every alias is expanded (an alias bomb has billions)
MAX_DEPTH = 32               # nested collections (the file itself needs 5)
MAX_NAME_CHARS = 60          # county, town and village names
MAX_SCALAR_CHARS = 1000      # any single value (a 5,000-digit number is no parameter)
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _show(value) -> str:
    """A value from the file, as it is quoted in a message (short)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


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
        """Long rows (county_code, effective_from, effective_to, name, value, text_value) for the
        warehouse: every parameter of every period, the optional ones with their defaults applied."""
        rows = []
        for code, c in sorted(self.counties.items()):
            for i, p in enumerate(c.periods):
                to = c.periods[i + 1]["effective_from"] if i + 1 < len(c.periods) else None
                for name in ALL_PARAMETERS:
                    rows.append((code, p["effective_from"], to, name, *stored_value(p[name])))
        return rows

    def town_rows(self) -> list[tuple]:
        return [(t, n, code) for code, c in sorted(self.counties.items()) for t, n in sorted(c.towns.items())]

    def village_rows(self) -> list[tuple]:
        return [(v, n, code) for code, c in sorted(self.counties.items()) for v, n in sorted(c.villages.items())]


def stored_value(v) -> tuple[float | None, str | None]:
    """A parameter as the warehouse keeps it (policy_parameters, month_parameters): (value, text_value).
    A number: (the number, NULL). A flag: (1 or 0, 'true' / 'false'). null: (NULL, 'null'). A
    word (dibao_benefit_basis): (NULL, the word)."""
    if v is None:
        return None, "null"
    if isinstance(v, bool):
        return float(v), "true" if v else "false"
    if isinstance(v, str):
        return None, v
    return float(v), None


def _month(value, where: str, key: str = "effective_from") -> str:
    if hasattr(value, "year") and hasattr(value, "month"):  # YAML may read 2025-07-01 as a date
        text = f"{value.year:04d}-{value.month:02d}"
    else:
        text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not Month.is_month(text):
        raise PolicyError(f"{where}：{key} 应为 YYYY-MM，实际为 {_show(value)}")
    return text


# --- reading the YAML defensively ------------------------------------------------------------------
class _Refused(yaml.YAMLError):
    """Raised while composing: the file is refused (message in Chinese, no mark)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that counts aliases and limits nesting while it composes the node graph (the
    composer is recursive: 5,000 brackets would end in a RecursionError)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"别名（*引用）超过 {MAX_ALIASES} 个，拒绝读取（可能是“别名炸弹”）")
            return super().compose_node(parent, index)
        self._nodes += 1
        if self._nodes > MAX_FILE_NODES:
            raise _Refused(f"超过 {MAX_FILE_NODES} 个值，拒绝读取（远多于各县乡镇、村名单所需）")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise _Refused(f"嵌套超过 {MAX_DEPTH} 层（第 {line} 行），拒绝读取")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _constructed(tag_kind: str):
    """SafeConstructor's constructor of `tag_kind`, with a value it cannot build (2025-13-45, a
    5,000-digit number) reported as a YAML error at its line instead of a bare ValueError."""
    base = getattr(yaml.SafeLoader, f"construct_yaml_{tag_kind}")

    def construct(loader, node):
        try:
            return base(loader, node)
        except (ValueError, OverflowError):
            raise yaml.constructor.ConstructorError(None, None, f"值 {_show(node.value)} 无法读取", node.start_mark) from None
    return construct


for _kind in ("int", "float", "timestamp"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_kind}", _constructed(_kind))


def _scalar_key(node) -> str | None:
    return node.value.strip() if isinstance(node, ScalarNode) else None


def _where_in(path: list, root: MappingNode) -> str:
    """` 县 <code> 时段 <effective_from>` for a path (keys and indexes) inside counties."""
    if len(path) < 2 or path[0] != "counties":
        return ""
    text = f" 县 {path[1]}"
    if len(path) >= 4 and path[2] == "periods" and isinstance(path[3], int):
        period = _node_at(root, path[:4])
        start = None
        if isinstance(period, MappingNode):
            start = next((v.value for k, v in period.value if _scalar_key(k) == "effective_from"
                          and isinstance(v, ScalarNode)), None)
        text += f" 时段 {start}" if start else f" 第 {path[3] + 1} 个时段"
    return text


def _node_at(root, path: list):
    node = root
    for step in path:
        if isinstance(node, MappingNode):
            node = next((v for k, v in node.value if _scalar_key(k) == step), None)
        elif isinstance(node, SequenceNode) and isinstance(step, int):
            node = node.value[step]
        else:
            return None
    return node


def _check_graph(root, where: str) -> None:
    """Refuse an alias bomb (more than MAX_NODES nodes once aliases are expanded) and a key given
    twice in one mapping, before any Python object is built. Each node is visited once."""
    sizes: dict[int, int] = {}

    def size(node, path: list) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 0  # a node inside itself (recursive alias) counts once
        total = 1
        if isinstance(node, ScalarNode) and len(node.value) > MAX_SCALAR_CHARS:
            inside = _where_in(path, root)
            key = next((str(k) for k in reversed(path) if isinstance(k, str)), "")
            raise PolicyError(f"{where}{inside}：{key} 的值过长（{len(node.value)} 个字符，第 {node.start_mark.line + 1} 行）")
        if isinstance(node, SequenceNode):
            for i, child in enumerate(node.value):
                total += size(child, path + [i])
                if total > MAX_NODES:
                    break
        elif isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for k, v in node.value:
                key = _scalar_key(k)
                if k.tag != _MERGE_TAG and key is not None:
                    if key in seen:
                        inside = _where_in(path, root)
                        parent = f"{path[-1]} 中" if path and isinstance(path[-1], str) and len(path) != 2 else ""
                        raise PolicyError(f"{where}{inside}：{parent}键 {key} 重复（第 {seen[key]} 行和第 "
                                          f"{k.start_mark.line + 1} 行），YAML 会静默只保留后一个；请删去其一")
                    seen[key] = k.start_mark.line + 1
                total += size(k, path) + size(v, path + [key if key is not None else "?"])
                if total > MAX_NODES:
                    break
        sizes[id(node)] = total
        if total > MAX_NODES:
            raise PolicyError(f"{where}：展开别名后超过 {MAX_NODES} 个节点，拒绝读取（可能是“别名炸弹”）")
        return total

    size(root, [])


def _read_yaml(p: Path):
    where = f"政策文件 {p}"
    try:
        size = p.stat().st_size
        if size > MAX_POLICY_BYTES:
            raise PolicyError(f"{where} 过大（{size} 字节，上限 {MAX_POLICY_BYTES} 字节）：请检查是否选错了文件")
        with open(p, "rb") as f:
            data = f.read(MAX_POLICY_BYTES + 1)
    except OSError as e:
        raise PolicyError(f"{where} 无法读取：{e.strerror}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"{where} 过大（超过 {MAX_POLICY_BYTES} 字节）：请检查是否选错了文件")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PolicyError(f"{where} 不是 UTF-8 编码（第 {e.start} 字节）：请另存为 UTF-8") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node, where)
        return loader.construct_document(node)
    except PolicyError:
        raise
    except _Refused as e:
        raise PolicyError(f"{where}：{e}") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark is not None else ""
        raise PolicyError(f"{where} 无法解析为 YAML：{e.problem or e.context or '格式错误'}{at}") from None
    except yaml.YAMLError as e:
        raise PolicyError(f"{where} 无法解析为 YAML：{(str(e).splitlines() or ['格式错误'])[0]}") from None
    except (RecursionError, MemoryError):
        raise PolicyError(f"{where}：结构过深或过大，拒绝读取") from None
    except (ValueError, TypeError, OverflowError) as e:  # a value YAML cannot build (2025-13-45, a 5,000-digit number)
        raise PolicyError(f"{where} 中有无法读取的值：{(str(e).splitlines() or [type(e).__name__])[0]}") from None
    finally:
        loader.dispose()


def _place_names(value, where: str, key: str, digits: int, code: str, what: str, required: bool) -> dict[str, str]:
    """A mapping code -> name (towns or villages), every code and name checked; codes given twice refused."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PolicyError(f"{where}：{key} 应为“代码: 名称”的映射，实际为 {_show(value)}")
    out: dict[str, str] = {}
    for raw_code, name in value.items():
        c = str(raw_code).strip() if isinstance(raw_code, (str, int)) and not isinstance(raw_code, bool) else ""
        if not (len(c) == digits and c.isascii() and c.isdigit() and c.startswith(code)):
            raise PolicyError(f"{where}：{what}代码 {c or _show(raw_code)} 应为以 {code} 开头的 {digits} 位数字")
        if c in out:
            raise PolicyError(f"{where}：{key} 中{what}代码 {c} 重复")
        out[c] = _name(name, f"{where}：{key} 中{what} {c} 的名称")
    return out


def _name(value, what: str) -> str:
    """A place name: non-empty text without control characters or slashes, at most MAX_NAME_CHARS."""
    if not isinstance(value, str):
        raise PolicyError(f"{what}应为文字，实际为 {_show(value)}")
    name = value.strip()
    if not name:
        raise PolicyError(f"{what}为空")
    if len(name) > MAX_NAME_CHARS:
        raise PolicyError(f"{what}过长（{len(name)} 个字符，上限 {MAX_NAME_CHARS}）")
    bad = next((ch for ch in name if not ch.isprintable() or ch in "/\\"), None)
    if bad is not None:
        raise PolicyError(f"{what}含不允许的字符 {ascii(bad)}（控制字符、换行、斜杠）：{_show(name)}")
    return name


def _next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def _keys(mapping: dict) -> list[str]:
    return sorted(str(k) for k in mapping)


def load_policy(path: str | Path) -> Policy:
    p = Path(path)
    if not p.exists():
        raise PolicyError(f"政策文件不存在：{p}（请用 --policy 指定政策 YAML 文件）")
    if not p.is_file():
        raise PolicyError(f"政策文件 {p} 不是普通文件（请用 --policy 指定政策 YAML 文件）")
    doc = _read_yaml(p)
    if not isinstance(doc, dict) or set(doc) != {"counties"} or not isinstance(doc["counties"], dict) or not doc["counties"]:
        extra = sorted(set(_keys(doc)) - {"counties"}) if isinstance(doc, dict) else []
        raise PolicyError(f"政策文件 {p}：顶层只能有 counties（县列表）" + (f"，未知键：{extra}" if extra else ""))
    counties = {}
    for raw_code, body in doc["counties"].items():
        code = str(raw_code).strip() if isinstance(raw_code, (str, int)) and not isinstance(raw_code, bool) else ""
        where = f"政策文件 {p} 县 {code or _show(raw_code)}"
        if not re.fullmatch(r"\d{6}", code, flags=re.ASCII):
            raise PolicyError(f"{where}：县代码应为 6 位数字")
        if code in counties:
            raise PolicyError(f"{where}：县代码重复（同一县只能出现一次）")
        if not isinstance(body, dict):
            raise PolicyError(f"{where}：内容应为映射")
        unknown = sorted(set(_keys(body)) - COUNTY_KEYS)
        if unknown:
            raise PolicyError(f"{where}：未知键 {', '.join(unknown)}")
        for key in ("name", "towns", "periods"):
            if key not in body:
                raise PolicyError(f"{where}：缺少 {key}")
        name = _name(body["name"], f"{where}：name（县名）")
        towns = _place_names(body["towns"], where, "towns", 9, code, "乡镇", required=True)
        villages = _place_names(body.get("villages"), where, "villages", 12, code, "村（社区）", required=False)
        periods_in = body["periods"]
        if not isinstance(periods_in, list) or not periods_in:
            raise PolicyError(f"{where}：periods 应为非空列表")
        periods = []
        for i, per in enumerate(periods_in):
            if not isinstance(per, dict) or "effective_from" not in per:
                raise PolicyError(f"{where} 第 {i + 1} 个时段：缺少 effective_from")
            start = _month(per["effective_from"], f"{where} 第 {i + 1} 个时段")
            pwhere = f"{where} 时段 {start}"
            unknown = sorted(set(_keys(per)) - set(ALL_PARAMETERS) - {"effective_from", "effective_to", RESPONSE_DAYS})
            if unknown:
                raise PolicyError(f"{pwhere}：未知参数 {', '.join(unknown)}")
            values = {"effective_from": start}
            if per.get("effective_to") is not None:  # optional inclusive last month, checked for gaps
                values["effective_to"] = _month(per["effective_to"], pwhere, "effective_to")
                if values["effective_to"] < start:
                    raise PolicyError(f"{pwhere}：effective_to 早于 effective_from")
            for name_, kind in PARAMETERS.items():
                values[name_] = _parameter(per, name_, kind, pwhere)
            for name_, (kind, default) in OPTIONAL_PARAMETERS.items():
                values[name_] = _optional(per, name_, kind, default, pwhere)
            values[RESPONSE_DAYS] = parse_response_days(per.get(RESPONSE_DAYS), pwhere)  # optional, not carried over
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
        counties[code] = County(code, name, towns, villages, periods)
    return Policy(str(p), counties)


def _parameter(per: dict, name: str, kind: str, pwhere: str) -> float:
    """One parameter of a period: a finite number of its kind, at most MAXIMUM[name]."""
    if name not in per or per[name] is None:
        raise PolicyError(f"{pwhere}：缺少参数 {name}")
    v = per[name]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise PolicyError(f"{pwhere}：参数 {name} 应为数值，实际为 {_show(v)}")
    if isinstance(v, float) and not math.isfinite(v):
        raise PolicyError(f"{pwhere}：参数 {name} 应为有限数值，实际为 {v}")
    if kind in ("standard", "positive") and v <= 0:
        raise PolicyError(f"{pwhere}：参数 {name} 必须为正数，实际为 {v}")
    if kind == "non_negative" and v < 0:
        raise PolicyError(f"{pwhere}：参数 {name} 不能为负数，实际为 {v}")
    if kind == "rate" and not 0 < v <= 1:  # rules-variants.md B.1: audit_sample_rate in (0, 1]
        raise PolicyError(f"{pwhere}：参数 {name} 应大于 0 且不超过 1，实际为 {v}")
    if v > MAXIMUM[name]:
        shown = f"{v:.6g}" if isinstance(v, float) else (str(v) if v < 10 ** 20 else "超过 10^20")
        raise PolicyError(f"{pwhere}：参数 {name} 超出合理范围（上限 {MAXIMUM[name]:g}），实际为 {shown}")
    return float(v)


# rules-variants.md B.1, "Validation": what each kind of optional parameter may be.
_OPTIONAL_MAXIMUM = {"multiplier_or_null": _MULT, "care": _YUAN}
_AGE_RANGE, _GRADE_RANGE = (0, 120), (1, 10)


def _optional(per: dict, name: str, kind: str, default, pwhere: str):
    """One optional parameter of a period: its default when absent, else the value checked for its
    kind (an invalid value is refused with one line naming county, period and parameter)."""
    if name not in per:
        return default
    v = per[name]
    where = f"{pwhere}：参数 {name}"
    nullable = kind.endswith("_or_null")
    if v is None:
        if nullable:
            return None
        raise PolicyError(f"{where} 不能为 null（省略即取默认值 {stored_value(default)[1] or _show(default)}）")
    if kind == "flag":
        if not isinstance(v, bool):
            raise PolicyError(f"{where} 应为 true 或 false，实际为 {_show(v)}")
        return v
    if kind == "basis":
        if v not in BENEFIT_BASES:
            raise PolicyError(f"{where} 应为 {' 或 '.join(BENEFIT_BASES)}，实际为 {_show(v)}")
        return v
    if kind in ("age", "age_or_null", "grade_or_null", "offset"):
        # an integer is a YAML integer: true and 70.0 are refused (rules-variants.md B.1)
        if kind == "offset":
            (lo, hi), what = (0, 1), "0 或 1"
        elif kind == "grade_or_null":
            (lo, hi), what = _GRADE_RANGE, f"{_GRADE_RANGE[0]} 到 {_GRADE_RANGE[1]} 的整数（残疾军人等级）或 null"
        else:
            (lo, hi), what = _AGE_RANGE, f"{_AGE_RANGE[0]} 到 {_AGE_RANGE[1]} 的整数（周岁）" + ("或 null" if nullable else "")
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise PolicyError(f"{where} 应为 {what}，实际为 {_show(v)}")
        return v
    # numbers: multiplier (> 0), care amount (≥ 0 yuan), share in [0, 1], reduction in (0, 1]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise PolicyError(f"{where} 应为数值{'或 null' if nullable else ''}，实际为 {_show(v)}")
    if isinstance(v, float) and not math.isfinite(v):
        raise PolicyError(f"{where} 应为有限数值，实际为 {v}")
    if kind == "multiplier_or_null" and v <= 0:
        raise PolicyError(f"{where} 必须为正数或 null，实际为 {v}")
    if kind == "care" and v < 0:
        raise PolicyError(f"{where} 不能为负数（元/人/月），实际为 {v}")
    if kind == "share" and not 0 <= v <= 1:
        raise PolicyError(f"{where} 应在 0 到 1 之间，实际为 {v}")
    if kind == "reduction_or_null" and not 0 < v <= 1:
        raise PolicyError(f"{where} 应大于 0 且不超过 1，或为 null，实际为 {v}")
    top = _OPTIONAL_MAXIMUM.get(kind)
    if top is not None and v > top:
        shown = f"{v:.6g}" if isinstance(v, float) else (str(v) if v < 10 ** 20 else "超过 10^20")
        raise PolicyError(f"{where} 超出合理范围（上限 {top:g}），实际为 {shown}")
    return float(v)


# One load per process per file content: the runner's preflight, `rules` and `published_month` ask
# for the same file; it is parsed once and handed out again while its bytes are the same (a file
# edited between two runs of a long-lived process — `dagster dev` — is read again). Callers treat
# the Policy as read-only.
_LOADED: dict[tuple[str, str], Policy] = {}


def load_policy_once(path: str | Path) -> Policy:
    """load_policy(path), cached by (absolute path, sha256 of the file's bytes)."""
    p = Path(path)
    try:
        if not p.is_file() or p.stat().st_size > MAX_POLICY_BYTES:
            return load_policy(p)  # refused there, with its one line
        digest = sha256_bytes(p.read_bytes())
    except OSError:
        return load_policy(p)
    key = (os.path.abspath(p), digest)
    if key not in _LOADED:
        policy = load_policy(p)
        _LOADED.clear()  # one file's content at a time is enough
        _LOADED[key] = policy
    return _LOADED[key]
