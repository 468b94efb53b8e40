"""`response_days` of a policy period (interface.md "Closing the loop with town staff", Due dates).

Optional in every period: a map from alert type to whole days ≥ 0. An absent map or type takes
the catalogue's default (sql/seeds/alert_catalogue.csv `response_days`: DECEASED_RECIPIENT 5 —
the payroll list of the next month; DISASTER_AFFECTED 1 — seed 000, within 24 hours; every other
type 30); an unknown type is an error; nothing is carried over from an earlier period. The due
date of an alert of M is the last day of M plus its days (the list counts as issued on the first
day of M+1), so reruns give the same date.

    parse_response_days(period_value, where) -> {alert_type: days} for every type of the catalogue
"""
from __future__ import annotations

from lim.core.catalogue import alert_catalogue
from lim.core.errors import PolicyError

MAX_DAYS = 366  # a year: anything longer is a typo, not a deadline
KEY = "response_days"


def default_response_days() -> dict[str, int]:
    return {a.alert_type: a.response_days for a in alert_catalogue()}


def parse_response_days(value, where: str) -> dict[str, int]:
    """The period's `response_days` (None when absent) → days for every alert type; PolicyError
    (one line naming the county, the period and the key) for an unknown type or a bad value."""
    days = default_response_days()
    if value is None:
        return days
    if not isinstance(value, dict):
        raise PolicyError(f"{where}：{KEY} 应为“预警类型代码: 天数”的映射，实际为 {str(value)[:40]!r}")
    for raw_type, n in value.items():
        alert_type = str(raw_type).strip() if isinstance(raw_type, str) else ""
        if alert_type not in days:
            raise PolicyError(f"{where}：{KEY} 中的预警类型 {str(raw_type)[:40]!r} 未知（应为 rules.md 的预警类型代码，如 "
                              f"DISASTER_AFFECTED）")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0 or n > MAX_DAYS:
            raise PolicyError(f"{where}：{KEY}.{alert_type} 应为 0 到 {MAX_DAYS} 的整天数，实际为 {str(n)[:40]!r}")
        days[alert_type] = n
    return days


def period_response_days(period: dict | None) -> dict[str, int]:
    """The days of a loaded period (load_policy put them under KEY); defaults without a period."""
    if period is None or KEY not in period:
        return default_response_days()
    return dict(period[KEY])
