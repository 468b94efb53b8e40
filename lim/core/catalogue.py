"""The rule data that SQL and Python read alike (sql/seeds/): the alert catalogue and the sources'
departments. The SQL reads the same CSV files (sql/rules/30_alert_setup.sql, 05_coverage.sql; sql/README.md)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from lim.core.paths import SQL_DIR

SEEDS_DIR = SQL_DIR / "seeds"


@dataclass(frozen=True)
class AlertType:
    alert_type: str
    ord: int
    alert_name: str
    base_priority: str
    member_level: bool
    family: str
    needs_scope: str
    needs_delivered: tuple[str, ...]
    reads: tuple[str, ...]
    withheld_when_alive: bool
    action: str
    response_days: int = 30  # default days to answer (interface.md "Due dates"); the policy may override


@dataclass(frozen=True)
class SourceInfo:
    source: str
    ord: int
    department: str
    optional: bool
    withheld_note: str


def _rows(name: str) -> list[dict]:
    with open(SEEDS_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _list(text: str) -> tuple[str, ...]:
    return tuple(s for s in (text or "").split(";") if s)


@lru_cache(maxsize=1)
def alert_catalogue() -> tuple[AlertType, ...]:
    """Every alert type of rules.md, in display order."""
    out = [AlertType(r["alert_type"], int(r["ord"]), r["alert_name"], r["base_priority"], r["member_level"] == "true",
                     r["family"], r["needs_scope"], _list(r["needs_delivered"]), _list(r["reads"]),
                     r["withheld_when_alive"] == "true", r["action"],
                     int(r.get("response_days") or 30)) for r in _rows("alert_catalogue.csv")]
    return tuple(sorted(out, key=lambda a: a.ord))


@lru_cache(maxsize=1)
def source_catalogue() -> tuple[SourceInfo, ...]:
    out = [SourceInfo(r["source"], int(r["ord"]), r["department"], r["optional"] == "true", r["withheld_note"])
           for r in _rows("sources.csv")]
    return tuple(sorted(out, key=lambda s: s.ord))


def alert_order() -> list[str]:
    return [a.alert_type for a in alert_catalogue()]
