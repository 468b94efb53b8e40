"""The data month: one parser and one value.

`Month.parse(text)` is the one door: it accepts exactly 'YYYY-MM' (month 01–12) and raises
MonthError (a ValueError, one line: 月份格式错误：<text>，应为 YYYY-MM) for anything else. A Month
is a `str` ('2026-07'), so it goes as it is into SQL parameters, partition keys, paths and JSON.
It is parsed once where a month enters — the CLI (`lim run/backfill/feedback`, the demo's landing
folders), the schedule, the sensors' month folders, an asset's partition key, an asset check's run
— and passed on as a Month.

    Month.parse("2026-07").shift(-1) == "2026-06";  .end() == "2026-07-31";  .variables() -> SQL variables
"""
from __future__ import annotations

import calendar
import re

#: The month's text pattern, without anchors (also the Great Expectations regex of month columns).
MONTH_PATTERN = r"[0-9]{4}-(0[1-9]|1[0-2])"
_FULL = re.compile(MONTH_PATTERN)


def _show(text) -> str:
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(text))[:40]


class MonthError(ValueError):
    """Not a data month; the message (one line) says what was given and what is expected."""


class Month(str):
    """A data month 'YYYY-MM' (module doc)."""

    __slots__ = ()

    def __new__(cls, text: str) -> "Month":
        if isinstance(text, Month):
            return text
        if not isinstance(text, str) or not _FULL.fullmatch(text):
            raise MonthError(f"月份格式错误：{_show(text)}，应为 YYYY-MM")
        return super().__new__(cls, text)

    @classmethod
    def parse(cls, text) -> "Month":
        """The month of `text` ('YYYY-MM'), or MonthError."""
        return cls(text)

    @staticmethod
    def is_month(text) -> bool:
        """Whether `text` is a data month (e.g. a landing folder's name)."""
        return isinstance(text, str) and _FULL.fullmatch(text) is not None

    @property
    def year(self) -> int:
        return int(self[:4])

    @property
    def number(self) -> int:
        """1–12."""
        return int(self[5:7])

    def shift(self, k: int) -> "Month":
        idx = self.year * 12 + (self.number - 1) + k
        return Month(f"{idx // 12:04d}-{idx % 12 + 1:02d}")

    def end(self) -> str:
        """The month's last day, 'YYYY-MM-DD'."""
        return f"{self}-{calendar.monthrange(self.year, self.number)[1]:02d}"

    def variables(self) -> dict[str, str]:
        """The variables every SQL file may use: month, prev_month, window_start (M-11), month_end."""
        return {"month": str(self), "prev_month": str(self.shift(-1)), "window_start": str(self.shift(-11)),
                "month_end": self.end()}

    def __repr__(self) -> str:
        return f"Month({str(self)!r})"


def shift(month: str, k: int) -> Month:
    return Month.parse(month).shift(k)


def month_end(month: str) -> str:
    return Month.parse(month).end()


def month_range(first: str, last: str) -> list[Month]:
    out, m = [], Month.parse(first)
    while m <= last:
        out.append(m)
        m = m.shift(1)
    return out


def month_variables(month: str) -> dict[str, str]:
    """The variables every SQL file may use (Month.variables)."""
    return Month.parse(month).variables()
