"""Build small landing folders from Python rows, with the departments' Chinese headers.

Tests describe people and households in canonical names; this writes them as the departments
would (UTF-8 CSV by default), so every test goes through the real readers and normalizers.
"""
from __future__ import annotations

import csv
from pathlib import Path

from lim.core.contracts import load_contract

# Valid 18-digit IDs: 17 digits + ISO 7064 MOD 11-2 check digit.
_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_C = "10X98765432"


def check_digit(body17: str) -> str:
    return _C[sum(int(d) * w for d, w in zip(body17, _W)) % 11]


def make_id(birth: str, seq: int, area: str = "370322") -> str:
    """birth 'YYYYMMDD', seq 0..999 → a valid ID number."""
    body = f"{area}{birth}{seq:03d}"
    return body + check_digit(body)


def write_source(month_dir: Path, source: str, rows: list[dict], encoding: str = "utf-8") -> Path:
    contract = load_contract(source)
    month_dir.mkdir(parents=True, exist_ok=True)
    path = month_dir / f"{source}.csv"
    headers = [c.header for c in contract.columns]
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        for r in rows:
            w.writerow(["" if r.get(c.canonical) is None else r.get(c.canonical) for c in contract.columns])
    return path


def write_month(root: Path, month: str, tables: dict[str, list[dict]], complete: bool = True) -> Path:
    """The month's files; with `complete`, every department source not given is written with its
    header and no rows (delivered, nothing this month): a source left out is *undelivered*, and its
    facts unknown (rules.md "Incomplete months"). Tests of a missing source remove its file."""
    d = Path(root) / month
    for source, rows in tables.items():
        write_source(d, source, rows)
    if complete:
        for source in DEPARTMENT_SOURCES:
            if source not in tables:
                write_source(d, source, [])
    return d


# The seven departments' sources (the roster and the optional register are not filled in).
DEPARTMENT_SOURCES = ("education", "hr", "housing", "health", "medical_insurance", "emergency", "rural_revitalization")


def bystander_roster(region: str = "370322101201", seq: int = 990) -> dict[str, list[dict]]:
    """The bureau's roster with one household that plays no part in a test: a month without an
    accepted roster stops the run (extracts.md, interface.md), so every landing month has one."""
    pid = make_id("19700101", seq)
    return {"civil_affairs_households": [dict(household_id="MZ-BYSTANDER", region_code=region, urban_rural="农村",
                                              assistance_type="低保", since_month="2024-01", monthly_benefit=800,
                                              other_income=0, financial_assets=0, last_review_date="2026-05-15")],
            "civil_affairs_members": [dict(household_id="MZ-BYSTANDER", id_number=pid, name="旁观者", relation="户主",
                                           labor_capacity="有")]}
