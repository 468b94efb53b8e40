"""read_raw on real files: every encoding and format, and each refusal."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from lim.ingest.readers import ReadError, read_raw

ID = "370322199001011238"
HEADER = ["公民身份号码", "姓名", "事件日期"]


def write_text(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


CSV_TEXT = "公民身份号码,姓名,事件日期\n370322199001011238,张 三,2026/9/1\n,䶮·阿依,20260902\n"


@pytest.mark.parametrize(
    "encoding, reported",
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")],
)
def test_csv_encodings(tmp_path, encoding, reported):
    t = read_raw(write_text(tmp_path / "x.csv", CSV_TEXT, encoding))
    assert t.format == "csv" and t.encoding == reported
    assert t.header == HEADER  # no BOM left in the first header
    assert t.data["_row_number"].to_list() == [2, 3]
    assert t.rows() == [
        {"公民身份号码": ID, "姓名": "张 三", "事件日期": "2026/9/1"},
        {"公民身份号码": "", "姓名": "䶮·阿依", "事件日期": "20260902"},
    ]


def test_csv_gbk(tmp_path):
    text = "公民身份号码,姓名\n370322199001011238,张三\n"
    t = read_raw(write_text(tmp_path / "x.csv", text, "gbk"))
    assert t.encoding == "gb18030"  # GB18030 is a superset of GBK
    assert t.header == ["公民身份号码", "姓名"]
    assert t.rows() == [{"公民身份号码": ID, "姓名": "张三"}]


def test_csv_crlf_quotes_and_blank_lines(tmp_path):
    text = '公民身份号码,姓名,备注\r\n"370322199001011238","张三","a,b"\r\n\r\n,,\r\n"x",李四,"两\r\n行"\r\n'
    t = read_raw(write_text(tmp_path / "x.csv", text, "utf-8"))
    assert t.blank_rows == 2
    assert t.data["_row_number"].to_list() == [2, 5]  # blank rows keep their place
    assert t.rows()[0] == {"公民身份号码": ID, "姓名": "张三", "备注": "a,b"}
    assert t.rows()[1]["备注"] == "两\r\n行"


@pytest.mark.parametrize("top", [",,\n", ",,\n , ,\n", "\n,,\n"])
def test_csv_header_below_empty_top_rows(tmp_path, top):
    """Excel saves an empty top row as ",,": the header is the first non-blank line, the data rows
    keep their line numbers."""
    t = read_raw(write_text(tmp_path / "x.csv", top + "公民身份号码,姓名,事件日期\n370322199001011238,张三,2026/9/1\n", "utf-8"))
    assert t.header == HEADER
    assert t.data["_row_number"].to_list() == [top.count("\n") + 2]
    assert t.rows() == [{"公民身份号码": ID, "姓名": "张三", "事件日期": "2026/9/1"}]


def test_csv_stray_quote_inside_a_field(tmp_path):
    """A quote inside an unquoted cell is a character (as Excel and Python's csv read it); a quote
    left open, which would swallow the rest of the file into one cell, refuses the file."""
    t = read_raw(write_text(tmp_path / "x.csv", '公民身份号码,姓名,事件日期\n1,陈"乐帅,2026/9/1\n2,李四,2026/9/2\n', "utf-8"))
    assert [r["姓名"] for r in t.rows()] == ['陈"乐帅', "李四"] and t.data["_row_number"].to_list() == [2, 3]
    with pytest.raises(ReadError) as e:
        read_raw(write_text(tmp_path / "y.csv", '公民身份号码,姓名,事件日期\n1,"陈乐帅,2026/9/1\n2,李四,2026/9/2\n', "utf-8"))
    assert e.value.code == "unreadable"


def test_csv_ragged_lines(tmp_path):
    text = "公民身份号码,姓名\n370322199001011238,张三,\n1,李四,多余\n"
    t = read_raw(write_text(tmp_path / "x.csv", text, "utf-8"))
    assert t.header == ["公民身份号码", "姓名", ""]
    assert t.data["_row_number"].to_list() == [2, 3]
    assert t.rows()[1] == {"公民身份号码": "1", "姓名": "李四", "列3": "多余"}


def test_csv_trailing_empty_columns_dropped(tmp_path):
    t = read_raw(write_text(tmp_path / "x.csv", "公民身份号码,姓名,,\n1,张三,,\n", "utf-8"))
    assert t.header == ["公民身份号码", "姓名"]


def test_csv_header_only(tmp_path):
    t = read_raw(write_text(tmp_path / "x.csv", "公民身份号码,姓名\n", "utf-8"))
    assert t.header == ["公民身份号码", "姓名"] and t.rows_in == 0


def test_csv_duplicate_headers_kept_apart(tmp_path):
    t = read_raw(write_text(tmp_path / "x.csv", "姓名,姓名\n张三,李四\n", "utf-8"))
    assert t.raw_keys() == ["姓名", "姓名#2"]
    assert t.rows() == [{"姓名": "张三", "姓名#2": "李四"}]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n", b"  \r\n", b",,,\n"])
def test_csv_empty_file(tmp_path, content):
    p = tmp_path / "x.csv"
    p.write_bytes(content)
    with pytest.raises(ReadError) as ei:
        read_raw(p)
    assert ei.value.code == "empty_file"


@pytest.mark.parametrize(
    "content",
    [
        b"a,b\n\x81\x20,1\n",  # invalid in UTF-8 and in GB18030
        "公民身份号码,姓名\n1,张三\n".encode("utf-16"),  # NUL bytes
        b'a,b\n"unterminated,1\n',
    ],
)
def test_csv_unreadable(tmp_path, content):
    p = tmp_path / "x.csv"
    p.write_bytes(content)
    with pytest.raises(ReadError) as ei:
        read_raw(p)
    assert ei.value.code == "unreadable"


@pytest.mark.parametrize("sep", ["\t", ";"])
def test_csv_separated_by_tabs_or_semicolons(tmp_path, sep):
    """Excel's "text (tab-separated)" saved under .csv, or a semicolon export: the header line has
    no comma, so its separator is used (a comma inside a value stays in the value)."""
    p = tmp_path / "x.csv"
    p.write_text(sep.join(["公民身份号码", "姓名", "金额"]) + "\n" + sep.join([ID, "张三", "1,234.50"]) + "\n",
                 encoding="utf-8")
    t = read_raw(p)
    assert t.header == ["公民身份号码", "姓名", "金额"]
    assert t.rows() == [{"公民身份号码": ID, "姓名": "张三", "金额": "1,234.50"}]


def test_csv_with_bare_cr_line_ends(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes(f"公民身份号码,姓名\r{ID},张三\r{ID},李四\r".encode())
    t = read_raw(p)
    assert t.header == ["公民身份号码", "姓名"] and t.rows_in == 2
    assert [r["姓名"] for r in t.rows()] == ["张三", "李四"]


# --------------------------------------------------------------------------- XLSX
def make_xlsx(path: Path, rows: list[list], number_formats: dict[str, str] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for cell, fmt in (number_formats or {}).items():
        ws[cell].number_format = fmt
    wb.save(path)
    return path


def test_xlsx_cells(tmp_path):
    p = make_xlsx(
        tmp_path / "x.xlsx",
        [
            ["公民身份号码", "姓名", "事件日期", "金额", "区划"],
            [ID, "张 三", dt.date(2026, 9, 1), 1234.5, 370322100201],
            [370322199001011238, "李四", 46266, 1234.0, 370322100201.0],  # numeric ID cell
            ["'" + ID, "王五", dt.datetime(2026, 9, 2, 10, 30), "1,234.50", "370322100201"],
            [370322900101123, "赵六", "2026年9月3日", 0, None],
            [None, None, None, None, None],
        ],
        number_formats={"C2": "yyyy-mm-dd"},
    )
    t = read_raw(p)
    assert t.format == "xlsx"
    assert t.header == ["公民身份号码", "姓名", "事件日期", "金额", "区划"]
    assert t.data["_row_number"].to_list() == [2, 3, 4, 5]
    assert t.blank_rows == 1
    rows = t.rows()
    assert rows[0] == {"公民身份号码": ID, "姓名": "张 三", "事件日期": "2026-09-01", "金额": "1234.5", "区划": "370322100201"}
    # an 18-digit number cell stays visibly scientific (unrecoverable), never a wrong 18-digit ID
    assert rows[1]["公民身份号码"].endswith("e+17")
    assert rows[1]["事件日期"] == "46266"  # serial number stays a number
    assert rows[1]["金额"] == "1234" and rows[1]["区划"] == "370322100201"
    assert rows[2]["公民身份号码"] == "'" + ID
    assert rows[2]["事件日期"] == "2026-09-02 10:30:00"
    assert rows[3]["公民身份号码"] == "370322900101123"  # 15-digit number exact
    assert rows[3]["金额"] == "0" and rows[3]["区划"] is None


def test_xlsx_header_only_and_first_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["公民身份号码", "姓名"])
    other = wb.create_sheet("说明")
    other.append(["x", "y"])
    other.append(["1", "2"])
    p = tmp_path / "x.xlsx"
    wb.save(p)
    t = read_raw(p)
    assert t.header == ["公民身份号码", "姓名"] and t.rows_in == 0
    assert t.notes == ["工作簿另有非空工作表未读取：说明（只读取第一个工作表 Sheet）"]  # said, not silent


@pytest.mark.parametrize("dimension", ["A1", "A1:B2"])
def test_xlsx_with_a_stale_dimension_loses_no_row(tmp_path, dimension):
    """Some exporters write <dimension ref="A1"/> or an old range; read-only openpyxl stopped there."""
    import re
    import zipfile
    good = make_xlsx(tmp_path / "g.xlsx", [["公民身份号码", "姓名"], [ID, "张三"], [ID, "李四"], [ID, "王五"]])
    p = tmp_path / "x.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            b = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                b, n = re.subn(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>'.encode(), b)
                assert n == 1
            zout.writestr(item, b)
    t = read_raw(p)
    assert t.header == ["公民身份号码", "姓名"] and t.rows_in == 3
    assert [r["姓名"] for r in t.rows()] == ["张三", "李四", "王五"]


def test_xlsx_empty_sheet(tmp_path):
    p = tmp_path / "x.xlsx"
    openpyxl.Workbook().save(p)
    with pytest.raises(ReadError) as ei:
        read_raw(p)
    assert ei.value.code == "empty_file"


@pytest.mark.parametrize("content", [b"PK\x03\x04garbage", b"not a zip at all", "公民身份号码,姓名\n".encode()])
def test_xlsx_unreadable(tmp_path, content):
    p = tmp_path / "x.xlsx"
    p.write_bytes(content)
    with pytest.raises(ReadError) as ei:
        read_raw(p)
    assert ei.value.code == "unreadable"


# --------------------------------------------------------------------------- Parquet
def test_parquet_all_types_to_strings(tmp_path):
    df = pl.DataFrame(
        {
            "公民身份号码": [ID, None],
            "id_int": [370322199001011238, 1],
            "id_float": [3.70322199001011e17, 2.0],
            "事件日期": [dt.date(2026, 9, 1), None],
            "dt": [dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 1, 1, 2, 3)],
            "amt": [1234.5, None],
            "flag": [True, None],
        }
    )
    p = tmp_path / "x.parquet"
    df.write_parquet(p)
    t = read_raw(p)
    assert t.format == "parquet" and t.header == list(df.columns)
    assert t.data["_row_number"].to_list() == [2, 3]
    r0, r1 = t.rows()
    assert r0 == {
        "公民身份号码": ID,
        "id_int": ID,
        "id_float": r0["id_float"],
        "事件日期": "2026-09-01",
        "dt": "2026-09-01",
        "amt": "1234.5",
        "flag": "TRUE",
    }
    assert "e" in r0["id_float"].lower()  # a float ID is not silently turned into digits
    assert r1["id_float"] == "2" and r1["dt"] == "2026-09-01 01:02:03" and r1["amt"] is None


def test_parquet_header_only(tmp_path):
    p = tmp_path / "x.parquet"
    pl.DataFrame(schema={"公民身份号码": pl.Utf8, "姓名": pl.Utf8}).write_parquet(p)
    t = read_raw(p)
    assert t.header == ["公民身份号码", "姓名"] and t.rows_in == 0


def test_parquet_unreadable(tmp_path):
    p = tmp_path / "x.parquet"
    p.write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(ReadError) as ei:
        read_raw(p)
    assert ei.value.code == "unreadable"


def test_zero_byte_files_are_empty(tmp_path):
    for name in ("a.csv", "a.xlsx", "a.parquet"):
        p = tmp_path / name
        p.write_bytes(b"")
        with pytest.raises(ReadError) as ei:
            read_raw(p)
        assert ei.value.code == "empty_file", name


def test_raw_json_keeps_unicode(tmp_path):
    t = read_raw(write_text(tmp_path / "x.csv", "姓名,备注\n张三,\n", "utf-8"))
    df = t.data.select(pl.struct([pl.col(c).alias(k) for c, k in zip(t.columns, t.raw_keys())]).struct.json_encode())
    assert json.loads(df.item()) == {"姓名": "张三", "备注": ""}
