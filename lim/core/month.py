"""Month arithmetic on 'YYYY-MM' texts."""
from __future__ import annotations

import calendar
import re

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def shift(month: str, k: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    idx = y * 12 + (m - 1) + k
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def month_end(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"


def month_range(first: str, last: str) -> list[str]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = shift(m, 1)
    return out


def month_variables(month: str) -> dict[str, str]:
    """The variables every SQL file may use: month, prev_month, window_start (M-11), month_end."""
    return {"month": month, "prev_month": shift(month, -1), "window_start": shift(month, -11),
            "month_end": month_end(month)}
