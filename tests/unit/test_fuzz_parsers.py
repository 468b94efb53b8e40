"""Fuzzing every source's reader (Hypothesis): random bytes, random encodings, truncated files,
huge fields, random Excel workbooks and random Parquet files, through `stage_source` — the
function the ingest assets call — and on into the staged Parquet files they write.

The property: no exception escapes. Every file is either accepted (its bad rows quarantined, and
rows_in = accepted + duplicates + quarantined) or refused with a status and a one-sentence Chinese
message naming the file. Files with random title rows above a complete header (CSV and Excel, and
the batch path for UTF-8 CSV) are never refused for it, lose no data row and count no title row.

Bounded for `make test` (about 30 s on 2 cores). A longer run, e.g.

    LIM_FUZZ_SCALE=50 LIM_FUZZ_REPORT=var/fuzz.json .venv/bin/python -m pytest -q tests/unit/test_fuzz_parsers.py

multiplies every test's example count (with fresh random seeds); LIM_FUZZ_REPORT writes how many inputs each test tried
(docs/reliability.md records the last long run).
"""
from __future__ import annotations

import atexit
import datetime as dt
import io
import json
import os
import random
import tempfile
import zipfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lim.ingest.staging import (ACCEPTED, EMPTY_FILE, MISSING_COLUMN, QUARANTINE_SCHEMA, UNREADABLE, WRONG_MONTH,
                            accepted_schema, header_test, stage_source)
from lim.core.contracts import SOURCES, load_contract

MONTH = "2026-06"
SCALE = int(os.environ.get("LIM_FUZZ_SCALE", "1") or 1)
TRIED: Counter = Counter()
OUTCOMES: Counter = Counter()


def fuzz_settings(n: int):
    """n examples per test in make test (fixed seed: the same inputs every time);
    LIM_FUZZ_SCALE=k tries k·n fresh random inputs per test."""
    if SCALE <= 1:
        return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                        suppress_health_check=list(HealthCheck))
    return settings(max_examples=n * SCALE, deadline=None, suppress_health_check=list(HealthCheck))


def _report() -> None:
    path = os.environ.get("LIM_FUZZ_REPORT")
    if path and TRIED:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps({"total": sum(TRIED.values()), "per_test": TRIED,
                                          "outcomes": dict(sorted(OUTCOMES.items()))}, indent=1), encoding="utf-8")


atexit.register(_report)

CONTRACTS = {s: load_contract(s) for s in SOURCES}
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "big5", "utf-16", "utf-16-le", "latin-1", "shift_jis", "cp1252"]

# --- cells that look like what departments send, and what they should not --------------------------
ID_LIKE = st.one_of(
    st.from_regex(r"\A[1-6]\d{5}(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx]\Z"),
    st.from_regex(r"\A\d{15}\Z"), st.from_regex(r"\A\d{1,20}\Z"),
    st.just("3.70322199001011E+17"), st.just("'370322199001011238"), st.just("３７０３２２１９９００１０１１２３８"),
)
DATE_LIKE = st.one_of(
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(lambda d: d.isoformat()),
    st.dates(dt.date(2026, 6, 1), dt.date(2026, 6, 30)).map(lambda d: d.strftime(random.choice(["%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d"]))),
    st.integers(-100, 100000).map(str), st.just("2026-02-30"), st.just("0000-00-00"),
)
AMOUNT_LIKE = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=2).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1,234.50", "¥1200", "１２００", "-0", "1e400", "(12)", "十二", "", " ", "NaN", "null"]),
)
TEXTY = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
HUGE = st.integers(1, 4).map(lambda k: random.choice(["张", "9", "\"", ",", "\n", "a"]) * (10 ** (k + 2)))
CELL = st.one_of(st.none(), TEXTY, ID_LIKE, DATE_LIKE, AMOUNT_LIKE, st.sampled_from(["户主", "配偶", "低保", "特困", "是", "否", "农村", "城市", "死亡", "就业"]))
CELL_OR_HUGE = st.one_of(CELL, HUGE)


@st.composite
def header(draw, source: str) -> list[str]:
    """The contract's headers, some dropped, shuffled, duplicated or mangled, plus junk columns."""
    c = CONTRACTS[source]
    cols = [col.header for col in c.columns]
    if draw(st.integers(0, 3)) == 0:  # mostly complete, so that most files reach the normalizers
        cols = [h for h in cols if draw(st.floats(0, 1)) > 0.15]
    if draw(st.booleans()):
        cols = draw(st.permutations(cols))
    extra = draw(st.lists(st.one_of(TEXTY, st.sampled_from(cols or ["x"]), st.just("")), max_size=2))
    mangle = draw(st.sampled_from([lambda h: h, lambda h: f" {h} ", lambda h: h + "\n", lambda h: "\ufeff" + h]))
    return [mangle(h) for h in list(cols) + extra]


@st.composite
def table(draw, source: str, cell=CELL, max_rows: int = 12) -> tuple[list[str], list[list]]:
    h = draw(header(source))
    rows = draw(st.lists(st.lists(cell, min_size=max(0, len(h) - 2), max_size=len(h) + 2), max_size=max_rows))
    return h, rows


def csv_text(h: list[str], rows: list[list]) -> str:
    import csv
    buf = io.StringIO()
    w = csv.writer(buf, quoting=random.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    w.writerow(h)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()


# --- the property --------------------------------------------------------------------------------
def check_stage(source: str, name: str, data: bytes, test: str):
    TRIED[test] += 1
    with tempfile.TemporaryDirectory() as d:
        month_dir = Path(d) / MONTH
        month_dir.mkdir()
        (month_dir / name).write_bytes(data)
        r = stage_source(source, MONTH, month_dir, Path(d))
        OUTCOMES[r.status] += 1
        assert r.status in (ACCEPTED, EMPTY_FILE, UNREADABLE, MISSING_COLUMN, WRONG_MONTH), r.status
        assert r.file == f"{MONTH}/{name}" and r.sha256 and len(r.sha256) == 64
        if r.status == ACCEPTED:
            assert r.rows_in == r.accepted.height + r.duplicates + r.quarantine.height
            assert dict(r.accepted.schema) == accepted_schema(CONTRACTS[source])
            assert dict(r.quarantine.schema) == QUARANTINE_SCHEMA
            assert r.quarantine["reason_code"].null_count() == 0
            assert r.quarantine["reason"].null_count() == 0
            if r.quarantine.height:
                assert r.quarantine["row_number"].min() >= 2
            # what the ingest asset writes next must work too
            r.accepted.write_parquet(Path(d) / "a.parquet")
            r.quarantine.write_parquet(Path(d) / "q.parquet")
        else:
            assert r.message and "\n" not in r.message and r.message.startswith(f"文件 {MONTH}/{name}")
            assert r.accepted.height == 0 and r.quarantine.height == 0 and r.rows_accepted == 0
            # a file refused after parsing counts its rows (all refused with it); else it has none
            assert r.rows_in >= 0 if r.status in ("missing_column", "wrong_month") else r.rows_in == 0
        return r


SOURCE = st.sampled_from(SOURCES)


@given(SOURCE, st.binary(max_size=4096), st.sampled_from([".csv", ".xlsx", ".parquet", ".CSV"]))
@fuzz_settings(60)
def test_random_bytes(source, data, ext):
    check_stage(source, source + ext, data, "random_bytes")


@given(st.data())
@fuzz_settings(60)
def test_csv_random_encodings_and_cells(data):
    source = data.draw(SOURCE)
    h, rows = data.draw(table(source))
    enc = data.draw(st.sampled_from(ENCODINGS))
    payload = csv_text(h, rows).encode(enc, errors="replace")
    if data.draw(st.booleans()):
        payload = payload.replace(b"\n", b"\r\n")
    check_stage(source, f"{source}.csv", payload, "csv_encodings")


@given(st.data())
@fuzz_settings(25)
def test_csv_huge_fields(data):
    source = data.draw(SOURCE)
    h, rows = data.draw(table(source, cell=CELL_OR_HUGE, max_rows=4))
    check_stage(source, f"{source}.csv", csv_text(h, rows).encode("utf-8"), "csv_huge_fields")


@given(st.data())
@fuzz_settings(40)
def test_truncated_files(data):
    source = data.draw(SOURCE)
    h, rows = data.draw(table(source, max_rows=8))
    fmt = data.draw(st.sampled_from(["csv", "xlsx", "parquet"]))
    if fmt == "csv":
        payload = csv_text(h, rows).encode(data.draw(st.sampled_from(["utf-8", "gb18030"])), errors="replace")
    elif fmt == "xlsx":
        payload = xlsx_bytes([(h, rows)])
    else:
        payload = parquet_bytes(h, rows)
    cut = data.draw(st.integers(0, len(payload)))
    check_stage(source, f"{source}.{fmt}", payload[:cut], "truncated")


# --- Excel -----------------------------------------------------------------------------------------
XL_VALUE = st.one_of(
    CELL,
    st.integers(-(2 ** 63), 2 ** 63 - 1), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 1, 1)), st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
    st.times(), st.sampled_from(["=1/0", "=NA()", "=SUM(A1:A2)", "#DIV/0!", "=\"张\"&\"三\""]),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)


def _xl_safe(v):
    if isinstance(v, str):  # openpyxl refuses control characters and cells over 32767 characters
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        return ILLEGAL_CHARACTERS_RE.sub("", v)[:32767]
    if isinstance(v, Decimal):
        return float(v)
    return v


def xlsx_bytes(sheets: list[tuple[list, list[list]]], blank_top: int = 0, merge: bool = False) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for i, (h, rows) in enumerate(sheets or [([], [])]):
        ws = wb.create_sheet(f"S{i}")
        for _ in range(blank_top):
            ws.append([])
        ws.append([_xl_safe(x) for x in h])
        for r in rows:
            ws.append([_xl_safe(x) for x in r])
        if merge and ws.max_row >= 2 and ws.max_column >= 2:
            ws.merge_cells(start_row=1, start_column=1, end_row=2, end_column=2)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@given(st.data())
@fuzz_settings(40)
def test_random_excel(data):
    source = data.draw(SOURCE)
    sheets = []
    for _ in range(data.draw(st.integers(0, 2))):
        h, rows = data.draw(table(source, cell=XL_VALUE, max_rows=10))
        sheets.append((h, rows))
    payload = xlsx_bytes(sheets, blank_top=data.draw(st.integers(0, 3)), merge=data.draw(st.booleans()))
    check_stage(source, f"{source}.xlsx", payload, "random_excel")


@given(st.data())
@fuzz_settings(40)
def test_corrupted_excel(data):
    """A valid workbook whose zip members are damaged: flipped bytes, a member dropped or replaced."""
    source = data.draw(SOURCE)
    h, rows = data.draw(table(source, max_rows=5))
    good = xlsx_bytes([(h, rows)])
    zin = zipfile.ZipFile(io.BytesIO(good))
    names = zin.namelist()
    victim = data.draw(st.sampled_from(names))
    mode = data.draw(st.sampled_from(["drop", "garbage", "flip", "truncate_member"]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for n in names:
            content = zin.read(n)
            if n == victim:
                if mode == "drop":
                    continue
                if mode == "garbage":
                    content = data.draw(st.binary(max_size=200))
                elif mode == "flip" and content:
                    i = data.draw(st.integers(0, len(content) - 1))
                    content = content[:i] + bytes([content[i] ^ 0xFF]) + content[i + 1:]
                else:
                    content = content[: data.draw(st.integers(0, len(content)))]
            zout.writestr(n, content)
    check_stage(source, f"{source}.xlsx", out.getvalue(), "corrupted_excel")


# --- Parquet ---------------------------------------------------------------------------------------
def parquet_bytes(h: list[str], rows: list[list]) -> bytes:
    names, seen = [], Counter()
    for x in h:  # Parquet needs unique column names
        seen[x] += 1
        names.append(x if seen[x] == 1 else f"{x}#{seen[x]}")
    cols = {n: [None if j >= len(r) or r[j] is None else str(r[j]) for r in rows] for j, n in enumerate(names)}
    buf = io.BytesIO()
    pq.write_table(pa.table(cols) if names else pa.table({}), buf)
    return buf.getvalue()


ARROW_COLUMNS = [
    (pa.int64(), st.integers(-(2 ** 63), 2 ** 63 - 1)),
    (pa.float64(), st.floats()),
    (pa.bool_(), st.booleans()),
    (pa.string(), CELL),
    (pa.large_string(), TEXTY),
    (pa.binary(), st.binary(max_size=20)),
    (pa.date32(), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
    (pa.timestamp("us"), st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31))),
    (pa.timestamp("ns", tz="Asia/Shanghai"), st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2200, 1, 1))),
    (pa.decimal128(18, 2), st.decimals(min_value=-10 ** 15, max_value=10 ** 15, places=2, allow_nan=False)),
    (pa.list_(pa.int32()), st.lists(st.integers(-1000, 1000), max_size=3)),
    (pa.struct([("a", pa.string())]), st.fixed_dictionaries({"a": TEXTY})),
    (pa.null(), st.none()),
    (pa.time64("us"), st.times()),
    (pa.duration("s"), st.integers(-10 ** 9, 10 ** 9).map(lambda s: dt.timedelta(seconds=s))),
    (pa.dictionary(pa.int8(), pa.string()), st.sampled_from(["户主", "配偶", None])),
]


@given(st.data())
@fuzz_settings(40)
def test_random_parquet(data):
    source = data.draw(SOURCE)
    h = data.draw(header(source))
    n = data.draw(st.integers(0, 8))
    arrays, names = [], []
    for i, name in enumerate(h):
        typ, values = data.draw(st.sampled_from(ARROW_COLUMNS))
        vals = data.draw(st.lists(st.one_of(st.none(), values), min_size=n, max_size=n))
        try:
            arrays.append(pa.array(vals, type=typ))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError):
            arrays.append(pa.array([None] * n, type=pa.string()))
        names.append(name if name not in names else f"{name}#{i}")
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=names) if names else pa.table({}), buf)
    check_stage(source, f"{source}.parquet", buf.getvalue(), "random_parquet")


# --- a title above the header ---------------------------------------------------------------------
TITLE_TEXT = st.one_of(
    TEXTY,
    st.sampled_from(["XX县2026年6月就业人员情况表", "填报单位：人社局  日期：2026-07-02", "单位：元", "附件2",
                     "姓名", "公民身份号码", "制表人：张三,审核人：李四", "表一\t（续）", "备注;以下数据截至月底",
                     "\"引号开头", "一行\n两行", " "]),
)
NO_NUL = st.one_of(CELL, ID_LIKE).map(lambda v: v.replace("\x00", "") if isinstance(v, str) else v)


@st.composite
def titled_table(draw, source: str):
    """Title rows (a title cell alone, padded with the empty cells of a merged cell, with a second
    cell, or blank), then a header holding every required column, then rows that are blank or hold
    an ID (so that each is a data row)."""
    c = CONTRACTS[source]
    cols = [draw(st.sampled_from(col.headers)) if col.required else col.header for col in c.columns
            if col.required or draw(st.booleans())]
    cols = draw(st.permutations(cols)) + draw(st.lists(st.sampled_from(["备注", "序号", ""]), max_size=2))
    mangle = draw(st.sampled_from([lambda h: h, lambda h: f" {h} ", lambda h: h + "\n", lambda h: "*" + h]))
    header = [mangle(h) for h in cols]
    titles = draw(st.lists(st.one_of(
        TITLE_TEXT.map(lambda t: [t]),
        st.tuples(TITLE_TEXT, st.integers(1, len(header) + 2)).map(lambda t: [t[0]] + [""] * t[1]),
        st.tuples(TITLE_TEXT, TITLE_TEXT).map(lambda t: [t[0], "", t[1]]),
        st.just([]),
    ), min_size=1, max_size=4))
    is_header = header_test(c)
    titles = [[v.replace("\x00", "") for v in t] for t in titles]
    titles = [t for t in titles if not is_header(t)]  # a title never holds the whole header (practically)
    id_at = next(i for i, col in enumerate(cols) if col in c.column(c.id_column or c.columns[0].canonical).headers)
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 5)) == 0:
            rows.append([None] * len(header))
            continue
        r = draw(st.lists(NO_NUL, min_size=len(header), max_size=len(header)))
        r[id_at] = draw(ID_LIKE)
        rows.append(r)
    return titles, header, rows


def _expected_rows(titles, rows) -> list[int]:
    """The data rows' own numbers in the file: after the title rows and the header."""
    return [len(titles) + 2 + j for j, r in enumerate(rows) if any(v is not None for v in r)]


def _check_titled(source: str, name: str, payload: bytes, titles, rows, test: str):
    r = check_stage(source, name, payload, test)
    expected = _expected_rows(titles, rows)
    assert r.status in (ACCEPTED, WRONG_MONTH), (r.status, r.message)  # never refused for its title
    assert r.rows_in == len(expected)  # no data row lost, no title row counted
    if r.status == ACCEPTED:
        numbers = r.accepted["_row_number"].to_list() + r.quarantine["row_number"].to_list()
        assert set(numbers) <= set(expected) and len(numbers) == len(set(numbers))
    return r


@given(st.data())
@fuzz_settings(60)
def test_csv_title_rows_above_the_header(data):
    import csv
    from lim.ingest import streaming

    source = data.draw(SOURCE)
    titles, header, rows = data.draw(titled_table(source))
    buf = io.StringIO()
    w = csv.writer(buf, quoting=data.draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    for t in titles:
        w.writerow(t)
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    text = buf.getvalue()
    if data.draw(st.booleans()):
        text = text.replace("\r\n", "\n")
    enc = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    r = _check_titled(source, f"{source}.csv", text.encode(enc), titles, rows, "csv_titles")
    if enc != "utf-8":
        return
    # the batch path (a big UTF-8 CSV) reads the same file to the same result when it takes it
    with tempfile.TemporaryDirectory() as d:
        month_dir = Path(d) / MONTH
        month_dir.mkdir()
        (month_dir / f"{source}.csv").write_bytes(text.encode(enc))
        paths = {k: Path(d) / f"{k}.parquet" for k in ("accepted", "quarantine")}
        old = streaming.STREAM_MIN_BYTES, streaming.BATCH_ROWS
        streaming.STREAM_MIN_BYTES, streaming.BATCH_ROWS = 0, data.draw(st.sampled_from([1, 3, 1000]))
        try:
            load = streaming.stage_streamed(source, MONTH, month_dir, Path(d), paths)
        finally:
            streaming.STREAM_MIN_BYTES, streaming.BATCH_ROWS = old
        if load is None:  # the whole-file path is used
            return
        TRIED["csv_titles_streamed"] += 1
        assert r.status == ACCEPTED
        assert (load["rows_in"], load["accepted"], load["duplicates"], load["quarantined"]) == (
            r.rows_in, r.accepted.height, r.duplicates, r.quarantine.height)
        assert pl.read_parquet(paths["accepted"]).equals(r.accepted)
        assert pl.read_parquet(paths["quarantine"]).equals(r.quarantine)


@given(st.data())
@fuzz_settings(40)
def test_excel_title_rows_above_the_header(data):
    source = data.draw(SOURCE)
    titles, header, rows = data.draw(titled_table(source))
    wb = openpyxl.Workbook()
    ws = wb.active
    for t in titles:
        ws.append([_xl_safe(x) for x in t])
    ws.append([_xl_safe(x) for x in header])
    for r in rows:
        ws.append([_xl_safe(x) for x in r])
    if titles and titles[0] and data.draw(st.booleans()):
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(2, len(header)))
    buf = io.BytesIO()
    wb.save(buf)
    # a cell emptied by _xl_safe (control characters only) may leave a title row or a data row blank
    safe_titles = [[_xl_safe(x) for x in t] for t in titles]
    safe_rows = [[None if v is None or (isinstance(v, str) and not _xl_safe(v).strip()) else v for v in r] for r in rows]
    _check_titled(source, f"{source}.xlsx", buf.getvalue(), safe_titles, safe_rows, "excel_titles")


# --- regressions found by the fuzzer ---------------------------------------------------------------
def test_regression_huge_amount_in_out_of_pocket_identity(tmp_path):
    """Found by test_csv_random_encodings_and_cells: an 18-digit ID typed into 个人自付 overflowed the
    cents of the out-of-pocket message (polars InvalidOperationError) and crashed the whole file.
    Now such an amount is no amount at all (≥ AMOUNT_MAX): invalid_value, the cell quoted."""
    c = CONTRACTS["medical_insurance"]
    row = {"id_number": "370322199001011238", "name": "张三", "settlement_date": "2026-06-03", "total_cost": "100",
           "fund_paid": "0", "critical_illness_paid": "0", "medical_assistance_paid": "0",
           "out_of_pocket": "3.70322199001011E+17"}
    text = csv_text([col.header for col in c.columns], [[row.get(col.canonical) for col in c.columns]])
    r = check_stage("medical_insurance", "medical_insurance.csv", text.encode("utf-8"), "regression")
    assert r.status == ACCEPTED and r.quarantine["reason_code"].to_list() == ["invalid_value"]
    assert "3.70322199001011E+17" in r.quarantine["reason"][0]
