"""Small hostile files must not kill the month (bounded reading: lim/core/limits.py, lim/ingest/readers.py,
lim/ingest/read_worker.py).

Measured on main before the bounds: a 124 KB XLSX whose 20,000 rows each format one cell at column
XFD (> 10 GB, then SIGABRT of the run); an 8 MB CSV with 1,000,000 header columns (> 10 GB); a
57 KB Parquet with a struct nested 500 deep (SIGSEGV of the run); one 140,000-character cell (the
month could not be published: the manifest's csv reader, "field larger than field limit").

Here each attack is run at reduced size where its size is what hurts (2,000 formatted rows,
20,000 header columns) and as it is where it is small anyway (500 deep, 140,000 characters): the
readers on their own, then one month through the real pipeline (tests/runs.py run_months)
with every attack in it at once, plus a worker killed by a signal and one out of memory
(LIM_FAIL_AT drills of lim/ingest/read_worker.py). Each hostile file is refused with one line naming
it and the bound (or, for the formatted XLSX, read as it is), and the month is published.

Full size (the issue's files, each in a month of its own through the real pipeline; prints wall
time and peak memory of the pipeline process and of the reading worker):

    PYTHONPATH=. .venv/bin/python -m tests.hostile_full            # all four attacks and a clean month
    PYTHONPATH=. .venv/bin/python -m tests.hostile_full xlsx csv    # some of them

Measured (2 shared cores, 2026-12): each hostile month published in 27–38 s with a peak RSS of the
process tree of 932–944 MB (largest process 308–311 MB), as the clean month (29 s, 937 MB); each
file read alone in 1.2–2.5 s and 72–100 MB. Before the bounds: > 10 GB and SIGABRT (XLSX), > 10 GB
(CSV), SIGSEGV in 5 s (Parquet), publishing failed (cell).
"""
from __future__ import annotations

import csv
import importlib
import json
import shutil
import time
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest

from lim.core import limits
from lim.ingest.read_worker import stage_isolated
from lim.ingest.readers import ReadError, read_raw
from lim.ingest.staging import stage_source
from tests import hostile, scenario
from tests.conftest import TEST_POLICY
from tests.landing import make_id, write_month, write_source
from tests.runs import run_months

M = scenario.M
ID = make_id("19860301", 1)
HR_ROWS = [dict(id_number=ID, name="张三", employment_status="就业", monthly_wage=1000),
           dict(id_number=make_id("19860301", 2), name="李四", employment_status="退休", monthly_pension=2000)]


def refusal(path: Path, match: str) -> str:
    with pytest.raises(ReadError) as ei:
        read_raw(path)
    assert ei.value.code == "unreadable" and match in ei.value.detail, ei.value.detail
    assert "\n" not in ei.value.detail
    return ei.value.detail


# --------------------------------------------------------------------------- CSV: header width
def test_csv_header_of_20000_columns_refused_before_parsing(tmp_path):
    p = hostile.csv_wide_header(tmp_path / "hr.csv", "hr", HR_ROWS, 20_000)
    t0 = time.monotonic()
    detail = refusal(p, "第 1 行有 20000 个字段，超过列数上限 500（LIM_READ_MAX_COLUMNS）")
    assert time.monotonic() - t0 < 2, detail


def test_csv_width_bound_below_a_title_and_in_blank_top_lines(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("XX县2026年6月就业人员情况表\n" + ",".join(["公民身份号码", "姓名"] + ["x"] * 600) + "\n1,2\n", encoding="utf-8")
    refusal(p, "第 2 条记录有 602 个字段")  # the title is no header: the wide row is a ragged record
    p.write_text("," * 5000 + "\n公民身份号码,姓名\n1,2\n", encoding="utf-8")  # polars' width is the first line's
    refusal(p, "第 1 行有 5001 个字段")


def test_csv_separators_inside_quotes_do_not_count(tmp_path, monkeypatch):
    monkeypatch.setenv("LIM_READ_MAX_COLUMNS", "3")
    p = tmp_path / "a.csv"
    p.write_text('公民身份号码,姓名,"备注,,,,,"\n1,2,3\n', encoding="utf-8")
    assert read_raw(p).header == ["公民身份号码", "姓名", "备注,,,,,"]
    p.write_text("公民身份号码,姓名,备注,多\n1,2,3,4\n", encoding="utf-8")
    refusal(p, "第 1 行有 4 个字段，超过列数上限 3（LIM_READ_MAX_COLUMNS）")


def test_csv_ragged_row_too_wide_refused(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("公民身份号码,姓名\n1,2\n" + ",".join(["x"] * 20_000) + "\n", encoding="utf-8")
    refusal(p, "第 3 条记录有 20000 个字段，超过列数上限 500")


def test_csv_header_too_wide_is_refused_by_the_batch_path_too(tmp_path, monkeypatch):
    from lim.ingest import streaming
    from lim.ingest.sources import stage_one
    from assets.resources import LandingResource, StagingResource

    d = tmp_path / "landing" / M
    d.mkdir(parents=True)
    hostile.csv_wide_header(d / "hr.csv", "hr", HR_ROWS, 20_000)
    monkeypatch.setattr(streaming, "STREAM_MIN_BYTES", 0)
    load = stage_one("hr", M, LandingResource(root=str(tmp_path / "landing")), StagingResource(root=str(tmp_path / "st")))
    assert load["status"] == "unreadable" and "超过列数上限 500" in load["message"]


# --------------------------------------------------------------------------- XLSX: used range
def test_xlsx_formatted_to_xfd_read_without_padding(tmp_path):
    p = hostile.xlsx_styled_to_xfd(tmp_path / "hr.xlsx", "hr", HR_ROWS, 2_000)
    t0 = time.monotonic()
    t = read_raw(p)
    assert time.monotonic() - t0 < 5
    assert t.header == hostile.headers("hr") and t.rows_in == 2
    assert t.data["_row_number"].to_list() == [2, 3]
    assert t.blank_rows == 2_000 - 3  # formatted empty rows after the data, as before


def test_xlsx_value_beyond_the_column_bound_refused(tmp_path):
    p = hostile.xlsx_styled_to_xfd(tmp_path / "hr.xlsx", "hr", HR_ROWS, 2_000, value_at_xfd=True)
    refusal(p, "工作表 Sheet 第 2000 行第 XFD 列（第 16384 列）有内容，超过列数上限 500（LIM_READ_MAX_COLUMNS）")


def test_xlsx_other_sheet_formatted_to_xfd(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(hostile.headers("hr"))
    other = wb.create_sheet("格式")
    from openpyxl.styles import PatternFill

    for i in range(1, 2_001):
        other.cell(row=i, column=16384).fill = PatternFill("solid", fgColor="FFFF00")
    other.cell(row=3, column=16384).value = "x"
    p = tmp_path / "a.xlsx"
    wb.save(p)
    t = read_raw(p)
    assert t.rows_in == 0 and t.notes == ["工作簿另有非空工作表未读取：格式（只读取第一个工作表 Sheet）"]


def test_xlsx_decompressing_over_the_bound_refused(tmp_path, monkeypatch):
    wb = openpyxl.Workbook()
    wb.active.append(hostile.headers("hr"))
    for i in range(30_000):
        wb.active.append([ID, "张三", "就业", 1000, None, None])
    p = tmp_path / "a.xlsx"
    wb.save(p)
    assert p.stat().st_size < 1 << 20
    monkeypatch.setenv("LIM_READ_MAX_XLSX_MB", "1")
    refusal(p, "MiB，超过上限 1 MiB（LIM_READ_MAX_XLSX_MB）")


# --------------------------------------------------------------------------- Parquet: schema
def test_parquet_nested_500_deep_refused_before_reading(tmp_path):
    p = hostile.parquet_nested(tmp_path / "housing.parquet", "housing", [], 500)
    refusal(p, "Parquet 的列是嵌套结构且嵌套过深")


@pytest.mark.parametrize("kind, make", [
    ("struct", lambda pa: pa.array([{"a": 1}], pa.struct([pa.field("a", pa.int64())]))),
    ("list", lambda pa: pa.array([[1, 2]], pa.list_(pa.int64()))),
    ("map", lambda pa: pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64()))),
])
def test_parquet_nested_columns_refused(tmp_path, kind, make):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "a.parquet"
    pq.write_table(pa.table({"公民身份号码": pa.array([ID]), "嵌": make(pa)}), p)
    refusal(p, f"Parquet 的列「嵌」是嵌套类型（{kind}），只接受每列为简单类型")


def test_parquet_too_many_columns_and_broken_footer(tmp_path):
    p = tmp_path / "a.parquet"
    pl.DataFrame({f"c{i}": ["x"] for i in range(600)}).write_parquet(p)
    refusal(p, "Parquet 文件有 600 列，超过列数上限 500（LIM_READ_MAX_COLUMNS）")
    data = bytearray(p.read_bytes())
    data[-8:-4] = (len(data) * 2).to_bytes(4, "little")
    p.write_bytes(bytes(data))
    refusal(p, "超出文件大小，文件已损坏")


def test_parquet_flat_scalar_types_accepted(tmp_path):
    import datetime as dt
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "a.parquet"
    pq.write_table(pa.table({
        "公民身份号码": pa.array([ID]).dictionary_encode(),
        "金额": pa.array([decimal.Decimal("12.50")], pa.decimal128(10, 2)),
        "时间": pa.array([dt.time(8, 30)]),
        "日期": pa.array([dt.date(2026, 6, 1)]),
        "空": pa.array([None], pa.null()),
        "字节": pa.array([b"ab"]),
    }), p)
    t = read_raw(p)
    assert t.rows()[0]["公民身份号码"] == ID and t.rows()[0]["金额"] == "12.50" and t.rows()[0]["日期"] == "2026-06-01"


# --------------------------------------------------------------------------- cell length
def test_cell_of_140000_characters_quarantines_its_row(tmp_path):
    d = tmp_path / M
    d.mkdir(parents=True)
    hostile.csv_long_cell(d / "hr.csv", "hr", HR_ROWS, "name", 140_000, at=1)
    r = stage_source("hr", M, d)
    assert r.status == "accepted" and r.rows_in == 2 and r.accepted.height == 1
    q = r.quarantine.row(0, named=True)
    assert (q["row_number"], q["reason_code"], q["column"]) == (3, "invalid_value", "name")
    assert q["reason"] == "姓名 的内容有 140000 个字符，超过单元格长度上限 10000（LIM_READ_MAX_CELL_CHARS）"
    raw = json.loads(q["raw"])
    assert raw["姓名"] == "长" * 10_000 + "…［超过 10000 字符，已截断；原长 140000 字符］"
    assert len(q["raw"]) < 10_300
    assert len(r.accepted["_raw"][0]) < 200


def test_long_cell_in_an_extra_column_and_in_the_header(tmp_path, monkeypatch):
    d = tmp_path / M
    d.mkdir(parents=True)
    lines = ["公民身份号码,姓名,就业状态,备注", f"{ID},张三,就业,{'x' * 10_001}", f"{ID},李四,失业,{'x' * 10_000}"]
    (d / "hr.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = stage_source("hr", M, d)
    q = r.quarantine.row(0, named=True)
    # the long cell is the row's first error, even with another one (失业 is not an allowed status) after it
    assert r.quarantine.height == 2 and q["row_number"] == 2 and q["column"] is None
    assert q["reason"].startswith("备注 的内容有 10001 个字符")
    assert r.quarantine.row(1, named=True)["reason_code"] == "invalid_value"
    assert r.quarantine.row(1, named=True)["column"] == "employment_status"
    monkeypatch.setenv("LIM_READ_MAX_CELL_CHARS", "0")  # bound off
    assert stage_source("hr", M, d).quarantine.height == 1
    monkeypatch.setenv("LIM_READ_MAX_CELL_CHARS", "5")
    refusal(d / "hr.csv", "表头第 1 列有 6 个字符，超过单元格长度上限 5")


def test_long_cell_same_in_the_batch_path(tmp_path, monkeypatch):
    from lim.ingest import streaming
    from lim.ingest.sources import stage_one, staged_paths
    from assets.resources import LandingResource, StagingResource

    d = tmp_path / "landing" / M
    d.mkdir(parents=True)
    hostile.csv_long_cell(d / "hr.csv", "hr", HR_ROWS * 3, "employment_status", 140_000, at=4)
    out = {}
    for mode, min_bytes in (("whole", 1 << 62), ("stream", 0)):
        monkeypatch.setattr(streaming, "STREAM_MIN_BYTES", min_bytes)
        monkeypatch.setattr(streaming, "BATCH_ROWS", 2)
        st = StagingResource(root=str(tmp_path / mode))
        load = stage_one("hr", M, LandingResource(root=str(tmp_path / "landing")), st)
        paths = staged_paths(st.month_dir(M), "hr")
        out[mode] = (load, pl.read_parquet(paths["accepted"]), pl.read_parquet(paths["quarantine"]))
    assert out["whole"][0] == out["stream"][0] and out["whole"][0]["quarantined"] == 1
    assert out["whole"][1].equals(out["stream"][1]) and out["whole"][2].equals(out["stream"][2])


def test_written_csv_with_a_field_over_the_csv_default_limit_reads_back(tmp_path):
    from lim.publish import csv_out

    csv.field_size_limit(131_072)  # the csv module's default, as a fresh process has it
    importlib.reload(csv_out)  # importing the writer raises it
    p = tmp_path / "q.csv"
    csv_out.write_csv(p, ["原始内容"], [["注" * 200_000], ["x"]])
    with open(p, encoding="utf-8-sig", newline="") as f:  # as publish.manifest counts rows
        assert sum(1 for _ in csv.reader(f)) - 1 == 2


def test_bounds_from_the_environment(monkeypatch):
    assert limits.current().max_columns == 500 and limits.current().max_cell_chars == 10_000
    monkeypatch.setenv("LIM_READ_MAX_COLUMNS", "7")
    assert limits.current().max_columns == 7
    monkeypatch.setenv("LIM_READ_MAX_COLUMNS", "seven")
    with pytest.raises(ValueError, match="LIM_READ_MAX_COLUMNS"):
        limits.current()


# --------------------------------------------------------------------------- the worker process
@pytest.fixture
def hr_landing(tmp_path):
    land = tmp_path / "landing"
    write_source(land / M, "hr", HR_ROWS)
    st = tmp_path / "staged" / M
    st.mkdir(parents=True)
    return land, st


def _isolated(land: Path, st: Path) -> dict:
    load = stage_isolated("hr", M, land / M, land, st)
    assert json.loads((st / "hr.load.json").read_text(encoding="utf-8")) == load
    return load


@pytest.mark.parametrize("drill, env, says", [
    ("", {}, None),
    ("read_crash:hr", {}, "读取进程异常终止（SIGSEGV）"),
    ("read_oom:hr", {"LIM_READ_MEMORY_MB": "256"}, "读取所需内存超过上限 256 MiB（LIM_READ_MEMORY_MB）"),
    ("read_hang:hr", {"LIM_READ_TIMEOUT_S": "2"}, "读取超过 2 秒仍未完成（LIM_READ_TIMEOUT_S）"),
    # a parser thread that could not start under the bound: its panic never reaches Python, the
    # reading would wait for it until the time bound (an hour by default)
    ("read_thread_panic:hr", {"LIM_READ_MEMORY_MB": "256", "LIM_READ_TIMEOUT_S": "30"}, "读取所需内存超过上限 256 MiB（LIM_READ_MEMORY_MB）"),
])
def test_worker_refuses_the_file_it_cannot_read(hr_landing, monkeypatch, drill, env, says):
    land, st = hr_landing
    (st / "hr.parquet").write_bytes(b"stale")  # left by an earlier run: never survives
    monkeypatch.setenv("LIM_FAIL_AT", drill)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    load = _isolated(land, st)
    if says is None:
        assert load["status"] == "accepted" and load["accepted"] == 2
        assert pl.read_parquet(st / "hr.parquet").height == 2
        return
    assert load["status"] == "unreadable" and load["message"].startswith(f"文件 {M}/hr.csv 无法读取：")
    assert says in load["message"] and "\n" not in load["message"]
    assert load["sha256"] and load["rows_in"] == load["accepted"] == load["quarantined"] == 0
    assert sorted(p.name for p in st.iterdir()) == ["hr.load.json"]


def test_worker_memory_bound_is_real(hr_landing, monkeypatch):
    """No drill: a file whose parsing needs more than LIM_READ_MEMORY_MB (here 64 MiB, for a CSV
    of 2 million rows) is refused, whatever the parser does when it runs out (MemoryError or abort)."""
    land, st = hr_landing
    with open(land / M / "hr.csv", "a", encoding="utf-8") as f:
        line = f"{ID},张三,就业,1000,,\n"
        f.write(line * 2_000_000)
    monkeypatch.setenv("LIM_READ_MEMORY_MB", "64")
    load = _isolated(land, st)
    assert load["status"] == "unreadable" and "LIM_READ_MEMORY_MB" in load["message"], load["message"]


# --------------------------------------------------------------------------- the month
@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """M of the scenario county with a hostile file in six sources and two worker drills."""
    root = tmp_path_factory.mktemp("hostile")
    tables = scenario.tables_for(M, scenario.households())
    d = write_month(root / "landing", M, tables)
    for s in ("hr", "housing", "education"):
        (d / f"{s}.csv").unlink()
    hostile.csv_wide_header(d / "hr.csv", "hr", tables["hr"], 20_000)
    hostile.parquet_nested(d / "housing.parquet", "housing", tables["housing"], hostile.FULL_DEPTH)
    hostile.xlsx_styled_to_xfd(d / "education.xlsx", "education", tables["education"], 2_000)
    hostile.csv_long_cell(d / "medical_insurance.csv", "medical_insurance", tables["medical_insurance"], "name",
                          hostile.FULL_CELL, at=1)
    bad = dict(tables["emergency"][0], disaster_type="泥石流")
    hostile.csv_long_raw(d / "emergency.csv", "emergency", tables["emergency"], 20, 9_000, bad)
    mp = pytest.MonkeyPatch()
    mp.setenv("LIM_FAIL_AT", "read_crash:health,read_oom:household_registration")
    mp.setenv("LIM_READ_MEMORY_MB", "512")
    t0 = time.monotonic()
    try:
        env = run_months(root, [M], policy=TEST_POLICY)
    finally:
        mp.undo()
    env["seconds"] = time.monotonic() - t0
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    env["load"] = {r[0]: r[1:] for r in con.sql(
        "SELECT source, status, message, rows_in, rows_accepted, rows_quarantined FROM load_log WHERE month = ?",
        params=[M]).fetchall()}
    env["con"] = con
    yield env
    con.close()
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("source, file, says", [
    ("hr", "hr.csv", "第 1 行有 20000 个字段，超过列数上限 500（LIM_READ_MAX_COLUMNS）"),
    ("housing", "housing.parquet", "Parquet 的列是嵌套结构且嵌套过深"),
    ("health", "health.csv", "读取进程异常终止（SIGSEGV）"),
    ("household_registration", "household_registration.csv", "读取所需内存超过上限 512 MiB（LIM_READ_MEMORY_MB）"),
])
def test_month_refuses_each_hostile_file_in_one_line(month, source, file, says):
    status, message, rows_in, accepted, quarantined = month["load"][source]
    assert status == "unreadable" and (rows_in, accepted, quarantined) == (0, 0, 0)
    assert message.startswith(f"文件 {M}/{file} 无法读取：") and says in message and "\n" not in message


def test_month_reads_the_xlsx_formatted_to_xfd(month):
    assert month["load"]["education"][:1] == ("accepted",) and month["load"]["education"][2:] == (2, 2, 0)


def test_month_is_published_with_the_long_cells(month):
    out = month["out"] / M
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rows = {o["path"]: o["rows"] for o in manifest["outputs"]}
    assert month["load"]["medical_insurance"][0] == "accepted" and month["load"]["medical_insurance"][4] == 1
    assert month["load"]["emergency"][0] == "accepted" and month["load"]["emergency"][4] == 1
    assert rows["quarantine/medical_insurance.csv"] == 1 and rows["quarantine/emergency.csv"] == 1
    with open(out / "quarantine" / "medical_insurance.csv", encoding="utf-8-sig", newline="") as f:
        row = list(csv.reader(f))[1]
    assert "姓名 的内容有 140000 个字符" in row[5] and len(row[7]) < 11_000
    with open(out / "quarantine" / "emergency.csv", encoding="utf-8-sig", newline="") as f:
        row = list(csv.reader(f))[1]
    assert row[4] == "invalid_value" and len(row[7]) > 131_072  # over the csv module's default limit
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "超过列数上限 500" in report


def test_isolation_off_reads_in_the_pipeline_process(hr_landing, monkeypatch):
    from lim.ingest import read_worker
    from lim.ingest.sources import stage_one_bounded
    from assets.resources import LandingResource, StagingResource

    land, st = hr_landing

    def no_worker(*a, **k):
        raise AssertionError("no worker process with LIM_READ_ISOLATE=0")

    monkeypatch.setattr("lim.ingest.sources.stage_isolated", no_worker)
    monkeypatch.setenv("LIM_READ_ISOLATE", "0")
    load = stage_one_bounded("hr", M, LandingResource(root=str(land)), StagingResource(root=str(st.parent)))
    assert load["status"] == "accepted" and load["accepted"] == 2
    monkeypatch.setenv("LIM_READ_ISOLATE", "1")

    def no_forkserver():
        raise OSError("no forkserver here")

    monkeypatch.setattr("lim.core.processes.context", no_forkserver)  # read here, said in the log
    logged = []
    monkeypatch.setattr("lim.ingest.sources.stage_isolated", read_worker.stage_isolated)
    load = stage_one_bounded("hr", M, LandingResource(root=str(land)), StagingResource(root=str(st.parent)),
                             type("Log", (), {"warning": lambda self, m: logged.append(m)})())
    assert load["status"] == "accepted" and logged and "无法启动读取进程" in logged[0]
