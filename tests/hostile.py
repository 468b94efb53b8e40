"""Hostile landed files (issue "Small hostile files kill the month"), at any size: the builders of
tests/pipeline/test_hostile_files.py (reduced sizes) and of tests/hostile_full.py (the sizes measured on
the main branch before the bounds: lim/core/limits.py)."""
from __future__ import annotations

import csv
from pathlib import Path

from lim.core.contracts import load_contract

# the full sizes of the issue
FULL_XFD_ROWS = 20_000  # rows each styling one cell at column XFD (124 KB as XLSX)
FULL_WIDE_COLUMNS = 1_000_000  # header columns of an 8 MB CSV
FULL_DEPTH = 500  # struct nesting of a 57 KB Parquet
FULL_CELL = 140_000  # characters of one cell


def _cells(source: str, row: dict) -> list:
    return ["" if row.get(c.canonical) is None else row.get(c.canonical) for c in load_contract(source).columns]


def headers(source: str) -> list[str]:
    return [c.header for c in load_contract(source).columns]


def xlsx_styled_to_xfd(path: Path, source: str, rows: list[dict], styled_rows: int,
                       value_at_xfd: bool = False) -> Path:
    """The source's header and rows, and `styled_rows` rows (from the header on) each with one
    formatted empty cell at column XFD (16 384): openpyxl's read-only iter_rows pads every row to
    that column. `value_at_xfd`: the last styled cell holds a value as well."""
    import openpyxl
    from openpyxl.styles import PatternFill

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers(source))
    for r in rows:
        ws.append(_cells(source, r))
    fill = PatternFill("solid", fgColor="FFFF00")
    for i in range(1, styled_rows + 1):
        ws.cell(row=i, column=16384).fill = fill
    if value_at_xfd:
        ws.cell(row=styled_rows, column=16384).value = "备注"
    wb.save(path)
    return path


def csv_wide_header(path: Path, source: str, rows: list[dict], columns: int) -> Path:
    """The source's header followed by filler header cells up to `columns` columns, and its rows."""
    head = headers(source)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(head + [f"x{i}" for i in range(columns - len(head))]) + "\n")
        w = csv.writer(f)
        for r in rows:
            w.writerow(_cells(source, r))
    return path


def parquet_nested(path: Path, source: str, rows: list[dict], depth: int) -> Path:
    """The source's columns as text, and one more column: a struct nested `depth` deep."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.int64()
    for i in range(depth):
        t = pa.struct([pa.field(f"s{i}", t)])

    def value():
        v = 1
        for i in range(depth):
            v = {f"s{i}": v}
        return v

    n = max(len(rows), 1)
    cols = {c.header: pa.array([None if r.get(c.canonical) is None else str(r.get(c.canonical)) for r in rows] or [None],
                                type=pa.string())
            for c in load_contract(source).columns}
    cols["嵌套"] = pa.array([value()] * n, type=t)
    pq.write_table(pa.table(cols), path)
    return path


def csv_long_cell(path: Path, source: str, rows: list[dict], column: str, chars: int, at: int = 0) -> Path:
    """The source's CSV with the cell `column` (canonical) of row `at` replaced by `chars` characters."""
    rows = [dict(r) for r in rows]
    rows[at][column] = "长" * chars
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(headers(source))
        for r in rows:
            w.writerow(_cells(source, r))
    return path


def csv_long_raw(path: Path, source: str, rows: list[dict], extra_columns: int, chars: int,
                 bad: dict | None = None) -> Path:
    """The source's CSV with `extra_columns` remark columns of `chars` characters each (under the
    cell bound), and one more row `bad` (quarantined for its own value): its raw row is
    extra_columns × chars characters long, over the csv module's default field limit of 131 072."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(headers(source) + [f"备注{i}" for i in range(extra_columns)])
        for r in rows + ([bad] if bad else []):
            w.writerow(_cells(source, r) + ["注" * chars] * extra_columns)
    return path
