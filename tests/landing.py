"""Build small landing folders from Python rows, with the departments' Chinese headers.

Tests describe people and households in canonical names; this writes them as the departments
would (UTF-8 CSV by default), so every test goes through the real readers and normalizers.
"""
from __future__ import annotations

import csv
from pathlib import Path

from checks.contracts import load_contract

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


def write_month(root: Path, month: str, tables: dict[str, list[dict]]) -> Path:
    d = Path(root) / month
    for source, rows in tables.items():
        write_source(d, source, rows)
    return d
