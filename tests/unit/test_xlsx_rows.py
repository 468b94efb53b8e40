"""lim/publish/xlsx_rows.py: rows rendered to XML give the cells XlsxWriter itself writes (its
constant_memory mode: in-line strings), and read back as the values written."""
from __future__ import annotations

import re
import zipfile
from datetime import datetime

import openpyxl
import pytest
import xlsxwriter

from lim.publish import xlsx_rows as xr

pytestmark = pytest.mark.unit

HOSTILE = [
    "张三", "plain", " leading space", "trailing space ", "\ttab", "line\nbreak", "a & b < c > d \"q\"",
    "ctrl\x01\x07\x1fchars", "_x0041_ literal escape", "_X00a1_ upper", "non\ufffechar\uffff", "emoji 😀 text",
    "'=1+2", "<r>not rich</r>", "x" * 40_000, "😀" * 20_000, "全角　空格　", "\u3000ideographic space",
]


# rich cells for the texts without control characters or literal escapes: XlsxWriter's constant_memory
# mode escapes those twice in a rich string (`\x01` shows as `_x0001_`), ours once
RICH = {i for i, s in enumerate(HOSTILE) if i < 14 and not re.search(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-f]{4}_", s, re.I)}


def _sheet_data(path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    return re.search(r"<sheetData>.*</sheetData>|<sheetData/>", xml, re.S).group(0)


def _write(path, rendered: bool):
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": not rendered, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    ws = wb.add_worksheet("s", worksheet_class=xr.RowSheet) if rendered else wb.add_worksheet("s")
    text = wb.add_format({"num_format": "@", "border": 1})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    bold, plain = wb.add_format({"bold": True}), wb.add_format({"font_size": 9})
    ws.set_row(2, 40)
    for r, s in enumerate(HOSTILE):
        if rendered:
            ws.put(r, 0, xr.text_cell(xr.ref(r, 0), text._get_xf_index(), s))
            ws.put(r, 1, xr.number_cell(xr.ref(r, 1), text._get_xf_index(), r * 1.5 + 1e-7))
            ws.put(r, 2, xr.blank_cell(xr.ref(r, 2), text._get_xf_index()))
            ws.put(r, 3, xr.number_cell(xr.ref(r, 3), date._get_xf_index(), ws._convert_date_time(datetime(2026, 7, r + 1))))
            if r in RICH:
                cell = xr.rich_cell(xr.ref(r, 4), text._get_xf_index(), [(ws.run_prefix(bold), s), (ws.run_prefix(plain), "\n二" + s)])
                ws.put(r, 4, cell)
        else:
            ws.write_string(r, 0, s, text)
            ws.write_number(r, 1, r * 1.5 + 1e-7, text)
            ws.write_blank(r, 2, None, text)
            ws.write_datetime(r, 3, datetime(2026, 7, r + 1), date)
            if r in RICH:
                ws.write_rich_string(r, 4, bold, s, plain, "\n二" + s, text)
    wb.close()
    return path


def test_rendered_rows_are_the_cells_xlsxwriter_writes(tmp_path):
    ours = _sheet_data(_write(tmp_path / "ours.xlsx", True))
    theirs = _sheet_data(_write(tmp_path / "theirs.xlsx", False))
    # XlsxWriter's constant_memory mode writes a string shaped as a rich run into the XML as it is
    # (lim/publish/csv_out.safe_cell neutralises such text before it gets here); ours escapes it
    assert '<c r="A14" s="1" t="inlineStr"><is><r>not rich</r></is></c>' in theirs
    escaped = '<c r="A14" s="1" t="inlineStr"><is><t>&lt;r&gt;not rich&lt;/r&gt;</t></is></c>'
    assert escaped in ours
    assert ours.replace(escaped, "") == theirs.replace('<c r="A14" s="1" t="inlineStr"><is><r>not rich</r></is></c>', "")


def test_rendered_rows_read_back_as_written(tmp_path):
    wb = openpyxl.load_workbook(_write(tmp_path / "ours.xlsx", True))
    ws = wb["s"]
    for r, s in enumerate(HOSTILE, start=1):
        got = ws.cell(r, 1).value
        if "\x01" in s or "_x00" in s.lower() or "\ufffe" in s:
            continue  # openpyxl leaves Excel's _xHHHH_ escapes as they are
        want = s if len(s.encode("utf-16-le")) // 2 <= xr.STR_MAX else None
        if want is None:
            # cut to Excel's limit, never inside a character that takes two UTF-16 units
            assert xr.STR_MAX - 1 <= len(got.encode("utf-16-le")) // 2 <= xr.STR_MAX and s.startswith(got)
        else:
            assert got == want
        assert ws.cell(r, 2).value == pytest.approx((r - 1) * 1.5 + 1e-7)
        assert ws.cell(r, 3).value is None
        assert ws.cell(r, 4).value == datetime(2026, 7, r)
    assert ws.row_dimensions[3].customHeight  # set_row kept with the rendered row


def test_a_row_is_written_one_way_only(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    ws = wb.add_worksheet("s", worksheet_class=xr.RowSheet)
    ws.write_string(0, 0, "header")
    ws.put(0, 0, xr.text_cell("A1", 0, "again"))
    with pytest.raises(ValueError, match="row 1 written twice"):
        wb.close()
