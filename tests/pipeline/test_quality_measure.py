"""The contract's expectations counted in DuckDB and rendered by GX (LIM_GX_ENGINE=duckdb,
lim/quality/measure.py) give what GX on pandas gives: every result field of every expectation,
and the Data Docs byte for byte — on the sample month as staged, and on staged files carrying
every kind of failure the suites look for (nulls in required columns, values outside a set, bad
formats, negative and NaN amounts, an integer column with a missing value, dates outside the
month, a broken out-of-pocket identity, check digits below the validity rate, duplicated single
and compound keys, compound keys all missing, an optional column filled once, a file of 0 rows)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from lim.core.contracts import SOURCES, load_contract
from lim.core.paths import SAMPLE_LANDING
from lim.ingest.read_worker import stage_files
from lim.ingest.staging import accepted_schema
from lim.quality.expectations import SuiteRun, month_bounds

M = "2026-06"


def _run(engine: str, month: str, staged: Path, docs: Path):
    run = SuiteRun(month, docs, engine=engine)
    for s in SOURCES:
        p = staged / f"{s}.parquet"
        run.validate_staged(s, p if p.exists() else None)
    out = run.finish()
    run.close()
    return out, run


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _assert_same(month: str, staged: Path, tmp: Path) -> dict:
    gx, _ = _run("pandas", month, staged, tmp / "pandas")
    counted, run = _run("duckdb", month, staged, tmp / "duckdb")
    delivered = {s for s in SOURCES if (staged / f"{s}.parquet").exists()}
    # DuckDB counted every delivered file itself (no silent fall-back to pandas)
    assert run.counted == delivered
    assert list(gx) == list(counted)
    for s in gx:
        a, b = gx[s], counted[s]
        assert (a.success, a.rows, a.docs_page) == (b.success, b.rows, b.docs_page), s
        for x, y in zip(a.results, b.results, strict=True):
            assert x == y, (s, x, y)
    pandas_docs, duckdb_docs = _files(tmp / "pandas"), _files(tmp / "duckdb")
    assert list(pandas_docs) == list(duckdb_docs)
    differ = [p for p in pandas_docs if pandas_docs[p] != duckdb_docs[p]]
    assert not differ, differ
    return gx


def test_sample_month_same_results_and_data_docs(tmp_path):
    staged = tmp_path / "staged" / M
    staged.mkdir(parents=True)
    for s in SOURCES:
        stage_files(s, M, SAMPLE_LANDING / M, SAMPLE_LANDING, staged)
    results = _assert_same(M, staged, tmp_path)
    assert sum(v.rows for v in results.values()) > 1000 and len(results) == len(SOURCES)


# ---- staged files with every kind of failure ------------------------------------------------------
def _good_value(col, month: str, i: int):
    first, _ = month_bounds(month)
    return {"id": f"3703221986030{i:04d}1"[:17] + "X", "name": f"张{i}", "enum": (col.allowed or ("甲",))[0],
            "amount": 10.0 + i, "integer": i % 3, "date": first.date() + dt.timedelta(days=i % 20),
            "month": month, "region_code": "370322101201", "text": f"T{i % 7}"}[col.type]


def _hostile_frame(source: str, month: str, n: int = 40) -> pl.DataFrame:
    c = load_contract(source)
    schema = accepted_schema(c)
    _, last = month_bounds(month)
    cols = {}
    for col in c.columns:
        vals = [_good_value(col, month, i) for i in range(n)]
        if col.required:
            vals[0] = None
        if col.allowed:
            vals[1] = "不在集合内"
        if col.type in ("id", "region_code", "month"):
            vals[2] = "12345"
        if col.type == "amount":
            vals[3], vals[4] = -1.0, float("nan")
        if col.type == "integer":
            vals[3], vals[5] = -2, None
        if col.in_month:
            vals[6] = last.date() + dt.timedelta(days=3)
        if not col.required and col.type not in ("integer",) and col.canonical != "gradual_exit_since":
            vals[10:] = [None] * (n - 10)  # an optional column filled in a few rows only
        cols[col.canonical] = vals
    key = list(c.unique_key or ())
    for k in key:  # rows 20-23 repeat row 19's key; rows 30-31 have every key column missing
        for i in range(20, 24):
            cols[k][i] = cols[k][19]
        if len(key) > 1:
            cols[k][30] = cols[k][31] = None
    if c.id_column:
        cols["_id_status"] = ["bad_checksum" if 7 <= i < 12 else "valid" for i in range(n)]
    cols["_row_number"] = list(range(2, n + 2))
    cols["_raw"] = ["{}"] * n
    if c.has_oop_identity:
        cols["out_of_pocket"][8] = 999.0
    return pl.DataFrame(cols, schema=schema)


EMPTY = ("health", "civil_affairs_decisions")  # delivered with no row


def test_failures_counted_as_gx_counts_them(tmp_path):
    staged = tmp_path / "staged" / M
    staged.mkdir(parents=True)
    for s in SOURCES:
        frame = _hostile_frame(s, M)
        (frame.head(0) if s in EMPTY else frame).write_parquet(staged / f"{s}.parquet")
    results = _assert_same(M, staged, tmp_path)
    assert {s: v.rows for s, v in results.items() if s in EMPTY} == {s: 0 for s in EMPTY}
    failed = {(s, r["expectation"], r["column"]) for s, v in results.items() for r in v.results if not r["success"]}
    # the planted failures are found (the comparison above is not of two empty lists)
    assert ("household_registration", "ExpectColumnValuesToNotBeNull", "id_number") in failed
    assert ("household_registration", "ExpectColumnValuesToBeInSet", "relation") in failed
    assert ("household_registration", "ExpectColumnValuesToMatchRegex", "region_code") in failed
    assert ("household_registration", "ExpectColumnValuesToBeInSet", "_id_status") in failed
    assert ("household_registration", "ExpectColumnValuesToBeUnique", "id_number") in failed
    assert ("medical_insurance", "ExpectColumnValuesToBeBetween", "settlement_date") in failed
    assert ("medical_insurance", "ExpectColumnValuesToBeBetween", "_oop_residual") in failed
    assert ("medical_insurance", "ExpectColumnValuesToBeBetween", "fund_paid") in failed
    assert ("housing", "ExpectColumnValuesToBeOfType", "property_count") in failed  # an int with a gap: float64
    assert ("civil_affairs_members", "ExpectCompoundColumnsToBeUnique", "household_id,id_number") in failed


@pytest.mark.parametrize("engine", ["nope"])
def test_unknown_engine_is_refused(tmp_path, engine):
    with pytest.raises(ValueError, match="duckdb, pandas"):
        SuiteRun(M, tmp_path / "docs", engine=engine)
