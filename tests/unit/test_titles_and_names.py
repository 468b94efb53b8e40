"""Real months (extracts.md, the last accepted variants): a title above the header, names with
characters outside GBK, and the middle-dot variants — read, staged (whole file and in batches)
and written to the staged Parquet exactly."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from lim.ingest import streaming
from lim.ingest.sources import stage_one, staged_paths
from lim.ingest.normalize import id_check_char, normalize_name
from lim.ingest.readers import HEADER_SCAN_ROWS, read_raw
from lim.ingest.staging import header_test, stage_source
from lim.core.contracts import load_contract
from assets.resources import LandingResource, StagingResource

MONTH = "2026-09"


def mk(body17: str) -> str:
    return body17 + id_check_char(body17)


A, B, C = mk("37032219900101123"), mk("37032219850505001"), mk("37032220010101002")
HR_TEST = header_test(load_contract("hr"))
TITLE = "XX县2026年9月就业人员情况表"
UNIT = "填报单位：人社局  日期：2026-10-02"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    d = tmp_path / MONTH
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_bytes(text.encode(encoding))
    return p


def make_xlsx(path: Path, rows: list[list], merge: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    if merge:
        ws.merge_cells(merge)
    wb.save(path)
    return path


# --------------------------------------------------------------------------- CSV titles, read_raw
@pytest.mark.parametrize("encoding, reported", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")])
@pytest.mark.parametrize(
    "top, title_rows",
    [
        (f"{TITLE}\n", 1),  # one title line, no comma at all
        (f"{TITLE},,,,\n", 1),  # a merged title cell saved by Excel: the title and empty cells
        (f"{TITLE}\n{UNIT}\n\n", 2),  # two title lines and a blank line
        (f"\n{TITLE}\n,,\n{UNIT};页码：1\t共 1 页\n", 2),  # blank rows around; tabs/semicolons in a title
        (f'"{TITLE}\n（第一批）",,\n', 1),  # a quoted title cell with a line break: one row
    ],
)
def test_csv_title_above_the_header(tmp_path, encoding, reported, top, title_rows):
    text = top + f"身份证号,姓名,就业状态\n{A},张三,就业\n\n{B},李四,退休\n"
    t = read_raw(write(tmp_path, "hr.csv", text, encoding), is_header=HR_TEST)
    assert t.encoding == reported
    assert t.header == ["身份证号", "姓名", "就业状态"]
    header_row = top.count("\n") + 1 - (1 if top.startswith('"') else 0)  # the quoted title is one row
    assert t.header_row == header_row and t.title_rows == title_rows
    assert t.rows_in == 2 and t.blank_rows == 1  # the title rows are neither data nor blank rows
    assert t.data["_row_number"].to_list() == [header_row + 1, header_row + 3]  # the file's own rows
    assert [r["姓名"] for r in t.rows()] == ["张三", "李四"]


@pytest.mark.parametrize("sep", ["\t", ";"])
@pytest.mark.parametrize("title", [TITLE, "填报单位：人社局, 日期：2026-10-02"])
def test_csv_separator_comes_from_the_header_line_not_the_title(tmp_path, sep, title):
    """A title without commas (or with one) says nothing about the separator: the header line does."""
    text = f"{title}\n" + sep.join(["公民身份号码", "姓名", "就业状态", "月工资"]) + "\n" + sep.join([A, "张三", "就业", "1,234.50"]) + "\n"
    t = read_raw(write(tmp_path, "hr.csv", text), is_header=HR_TEST)
    assert t.header == ["公民身份号码", "姓名", "就业状态", "月工资"]
    assert t.rows() == [{"公民身份号码": A, "姓名": "张三", "就业状态": "就业", "月工资": "1,234.50"}]
    assert t.data["_row_number"].to_list() == [3] and t.title_rows == 1


def test_csv_title_with_aliases_quoted_and_wrapped_header_cells(tmp_path):
    """The header may use aliases, be quoted, and have a cell wrapped onto two lines (Alt+Enter)."""
    text = f'{TITLE}\n"证件号码","姓\n名","就业情况"\n{A},张三,就业\n'
    t = read_raw(write(tmp_path, "hr.csv", text), is_header=HR_TEST)
    assert t.header == ["证件号码", "姓\n名", "就业情况"]
    assert t.header_row == 2 and t.data["_row_number"].to_list() == [3]  # the wrapped header is one row


def test_csv_title_above_ragged_rows(tmp_path):
    """Rows wider than the header below a title (Python csv fallback) keep their numbers too."""
    text = f"{TITLE}\n身份证号,姓名,就业状态\n{A},张三,就业,多余\n{B},李四,退休\n"
    t = read_raw(write(tmp_path, "hr.csv", text), is_header=HR_TEST)
    assert t.header == ["身份证号", "姓名", "就业状态", ""]
    assert t.data["_row_number"].to_list() == [3, 4] and t.rows_in == 2


def test_csv_without_title_is_read_as_before(tmp_path):
    text = f",,\n身份证号,姓名,就业状态\n{A},张三,就业\n"
    p = write(tmp_path, "hr.csv", text)
    with_test, without = read_raw(p, is_header=HR_TEST), read_raw(p)
    assert with_test.header == without.header and with_test.data.equals(without.data)
    assert with_test.header_row == without.header_row == 2 and with_test.title_rows == 0


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_header_search_is_bounded(tmp_path, ext):
    """The header is looked for among the first HEADER_SCAN_ROWS non-blank rows; beyond them the
    file is read as without a title (its first row as the header) and refused missing_column."""
    def put(root: Path, n_titles: int) -> Path:
        rows = [r for i in range(n_titles) for r in ([f"说明第{i}行"], [])] + [["身份证号", "姓名", "就业状态"], [A, "张三", "就业"]]
        if ext == "csv":
            return write(root, "hr.csv", "\n".join(",".join(r) for r in rows) + "\n").parent
        return make_xlsx(root / MONTH / "hr.xlsx", rows).parent

    ok = stage_source("hr", MONTH, put(tmp_path / "ok", HEADER_SCAN_ROWS - 1), tmp_path / "ok")
    assert ok.status == "accepted" and ok.rows_in == 1
    assert ok.accepted["_row_number"].to_list() == [2 * (HEADER_SCAN_ROWS - 1) + 2]
    far = stage_source("hr", MONTH, put(tmp_path / "far", HEADER_SCAN_ROWS), tmp_path / "far")
    assert far.status == "missing_column"


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_title_without_any_header_is_refused_missing_column(tmp_path, ext):
    rows = [[TITLE], [UNIT], ["身份证号", "名字没有", "就业状态"], [A, "张三", "就业"]]
    if ext == "csv":
        write(tmp_path, "hr.csv", "\n".join(",".join(r) for r in rows) + "\n")
    else:
        make_xlsx(tmp_path / MONTH / "hr.xlsx", rows)
    r = stage_source("hr", MONTH, tmp_path / MONTH, tmp_path)
    assert r.status == "missing_column" and r.accepted.height == 0 and r.quarantine.height == 0
    assert "姓名" in r.message


# --------------------------------------------------------------------------- XLSX titles
@pytest.mark.parametrize("merge", [True, False])
def test_xlsx_title_rows_above_the_header(tmp_path, merge):
    """A title merged across the columns in row 1 (or a title cell whose row is otherwise empty), a
    second title row with two cells, a blank row, then the header in row 4."""
    p = make_xlsx(
        tmp_path / "hr.xlsx",
        [[TITLE], ["填报单位：人社局", None, None, "日期：2026-10-02"], [], ["公民身份号码", "姓名", "就业状态"],
         [A, "张三", "就业"], [None, None, None], [B, "李四", "退休"]],
        merge="A1:C1" if merge else None,
    )
    t = read_raw(p, is_header=HR_TEST)
    assert t.header == ["公民身份号码", "姓名", "就业状态"]
    assert t.header_row == 4 and t.title_rows == 2 and t.blank_rows == 1
    assert t.data["_row_number"].to_list() == [5, 7] and t.rows_in == 2
    assert read_raw(p).header[0] == TITLE  # without is_header: the first row, as always


def test_xlsx_title_wider_than_the_header_adds_no_column(tmp_path):
    p = make_xlsx(tmp_path / "hr.xlsx", [[TITLE, None, None, None, None, "第1页"], ["身份证号", "姓名", "就业状态"], [A, "张三", "就业"]])
    t = read_raw(p, is_header=HR_TEST)
    assert t.header == ["身份证号", "姓名", "就业状态"] and t.data["_row_number"].to_list() == [3]


# --------------------------------------------------------------------------- staging with a title
@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_stage_file_with_title(tmp_path, ext):
    rows = [[TITLE], [UNIT], ["身份证号", "姓名", "就业状态", "月工资"], [A, "张三", "就业", "100"],
            [B, "李四", "上学", ""], [A, "张 三", "就业", "100.00"]]
    if ext == "csv":
        write(tmp_path, "hr.csv", "\n".join(",".join(r) for r in rows) + "\n", "gb18030")
    else:
        make_xlsx(tmp_path / MONTH / "hr.xlsx", rows, merge="A1:D1")
    r = stage_source("hr", MONTH, tmp_path / MONTH, tmp_path)
    assert r.status == "accepted" and r.message is None
    assert r.rows_in == 3 == r.accepted.height + r.duplicates + r.quarantine.height  # the title is not counted
    assert r.accepted["_row_number"].to_list() == [4] and r.duplicates == 1
    assert r.quarantine.select("row_number", "reason_code").rows() == [(5, "invalid_value")]


# --------------------------------------------------------------------------- batches (streaming.py)
def _both(tmp_path: Path, source: str, monkeypatch, batch_rows: int = 2):
    out = {"streamed": []}
    original = streaming._stream

    def spy(*a, **k):
        r = original(*a, **k)
        out["streamed"].append(r is not None)
        return r

    monkeypatch.setattr(streaming, "_stream", spy)
    for mode in ("whole", "stream"):
        monkeypatch.setattr(streaming, "STREAM_MIN_BYTES", 0 if mode == "stream" else 1 << 62)
        monkeypatch.setattr(streaming, "BATCH_ROWS", batch_rows)
        st = StagingResource(root=str(tmp_path / f"staged-{mode}"))
        load = stage_one(source, MONTH, LandingResource(root=str(tmp_path / "landing")), st)
        paths = staged_paths(st.month_dir(MONTH), source)
        frames = {k: pl.read_parquet(paths[k]) if paths[k].exists() else None for k in ("accepted", "quarantine")}
        out[mode] = (load, frames, json.loads(paths["load"].read_text(encoding="utf-8")))
    (lw, fw, jw), (ls, fs, js) = out["whole"], out["stream"]
    assert ls == lw and js == jw
    for k in ("accepted", "quarantine"):
        assert (fs[k] is None) == (fw[k] is None)
        if fw[k] is not None:
            assert fs[k].schema == fw[k].schema and fs[k].equals(fw[k]), k
    return out


HR_LINES = ["身份证号,姓名,就业状态,月工资（元）", f"{A},张 三,就业,100", f"{A},张三,就业,100.00", "",
            f"{B},阿卜杜拉．买买提,退休,", f"{B},阿卜杜拉•买买提,退休,", f"{C},𠮷䶮,就业,-5", f"{C},𠮷 䶮,就业,-5.0",
            f"{C},王五,上学,"]


@pytest.mark.parametrize("top", [[TITLE], [f"{TITLE},,,", UNIT, ""], ["", f'"{TITLE}\n（续）"']])
@pytest.mark.parametrize("batch_rows", [1, 3, 1000])
def test_streamed_file_with_title_is_the_whole_file_result(tmp_path, monkeypatch, top, batch_rows):
    d = tmp_path / "landing" / MONTH
    d.mkdir(parents=True)
    (d / "hr.csv").write_text("\n".join(top + HR_LINES) + "\n", encoding="utf-8")
    out = _both(tmp_path, "hr", monkeypatch, batch_rows)
    assert out["streamed"] == [True]
    load, frames, _ = out["whole"]
    header_row = len(top) + 1
    assert load["status"] == "accepted" and load["rows_in"] == 7  # title and blank rows not counted
    assert frames["accepted"]["_row_number"].to_list() == [header_row + 1, header_row + 4]
    assert frames["quarantine"]["row_number"].to_list() == [header_row + 6, header_row + 8]
    assert load["duplicates"] == 3


def test_streamed_tab_header_below_title_falls_back(tmp_path, monkeypatch):
    d = tmp_path / "landing" / MONTH
    d.mkdir(parents=True)
    (d / "hr.csv").write_text(f"{TITLE}\n身份证号\t姓名\t就业状态\n{A}\t张三\t就业\n", encoding="utf-8")
    out = _both(tmp_path, "hr", monkeypatch)
    assert out["streamed"] == [False] and out["whole"][0]["rows_in"] == 1
    assert out["whole"][1]["accepted"]["_row_number"].to_list() == [3]


# --------------------------------------------------------------------------- names outside GBK
RARE = ["𠮷", "䶮"]  # U+20BB7 (four bytes in GB18030: 95 34 B2 35), U+4DAE (FE 9F)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "xlsx"])
def test_names_outside_gbk_reach_the_staged_parquet(tmp_path, monkeypatch, encoding):
    names = ["𠮷祥", "李䶮", "阿依𠮷•䶮"]
    rows = [["公民身份号码", "姓名", "就业状态"], [A, names[0], "就业"], [B, names[1], "退休"], [C, names[2], "就业"]]
    d = tmp_path / "landing" / MONTH
    d.mkdir(parents=True)
    if encoding == "xlsx":
        make_xlsx(d / "hr.xlsx", rows)
    else:
        data = "\n".join(",".join(r) for r in rows).encode(encoding) + b"\n"
        if encoding == "gb18030":
            assert bytes.fromhex("9534b235") in data and bytes.fromhex("fe9f") in data
            with pytest.raises(UnicodeDecodeError):
                data.decode("gbk")  # not GBK: read as GB18030, not with a GBK/CP936 table
        (d / "hr.csv").write_bytes(data)
    out = _both(tmp_path, "hr", monkeypatch)
    load, frames, _ = out["whole"]
    assert load["status"] == "accepted" and load["accepted"] == 3
    assert frames["accepted"]["name"].to_list() == ["𠮷祥", "李䶮", "阿依𠮷·䶮"]
    assert all(ch in frames["accepted"]["_raw"][2] for ch in RARE)  # the raw cells as written too
    if encoding != "xlsx":
        r = stage_source("hr", MONTH, d, tmp_path / "landing")
        assert r.encoding == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030"}[encoding]


# --------------------------------------------------------------------------- middle dots
@pytest.mark.parametrize("dot", ["\u2022", "\u30fb", "\uff0e", "\u00b7"])
def test_middle_dot_variants_become_u00b7(dot):
    assert normalize_name(f"阿卜杜拉{dot}买买提") == ("阿卜杜拉·买买提", None)
    assert normalize_name(f"𠮷{dot}䶮") == ("𠮷·䶮", None)


@pytest.mark.parametrize("name", ["张三.", "阿卜杜拉。买买提", "ＡＢＣ", "阿卜杜拉-买买提", "阿卜杜拉_买买提", "𠮷䶮", "李䶮・"[:2]])
def test_nothing_else_in_a_name_changes(name):
    assert normalize_name(name) == (name, None)


def test_rows_that_differ_only_by_the_dot_are_duplicates(tmp_path):
    lines = ["身份证号,姓名,就业状态,月工资", f"{A},阿卜杜拉·买买提,就业,1", f"{A},阿卜杜拉•买买提,就业,1",
             f"{A},阿卜杜拉・买买提,就业,1", f"{A},阿卜杜拉．买买提,就业,1", f"{B},玛丽•居里,上学,",
             f"{B},玛丽．居里,上学,", f"{B},玛丽.居里,上学,"]
    write(tmp_path, "hr.csv", "\n".join(lines) + "\n")
    r = stage_source("hr", MONTH, tmp_path / MONTH, tmp_path)
    assert r.rows_in == 7 and r.accepted.height == 1 and r.duplicates == 4
    assert r.accepted["name"].to_list() == ["阿卜杜拉·买买提"]
    # bad rows too: the first copy is quarantined, with the normalized name; "." is no middle dot
    assert r.quarantine.select("row_number", "name").rows() == [(6, "玛丽·居里"), (8, "玛丽.居里")]
