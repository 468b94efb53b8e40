"""The data rows of a workbook's sheets written as XML here, everything else by XlsxWriter.

XlsxWriter keeps a Python object per cell and turns each into XML when the workbook closes, about
5 µs a cell: the province's town workbooks (~25 M cells) spent ~250 CPU seconds there
(bench/PERF.md). A `RowSheet` is an XlsxWriter worksheet whose data rows the caller renders to
cell XML at once (`text_cell`, `number_cell`, `blank_cell`, `rich_cell`), in the form XlsxWriter
itself writes in its `constant_memory` mode — in-line strings (`t="inlineStr"`), control
characters as `_xHHHH_`, `xml:space="preserve"` for edge whitespace, numbers as `%.16G` — so the
cells are those XlsxWriter would write; rows written through XlsxWriter's own calls (the header)
and row settings (`set_row`: heights) are written with them, in row order. Formats, column widths,
frozen panes, filters, validation, print setup, protection and the rest stay XlsxWriter's.

A cell's style is the format's XF index (`fmt._get_xf_index()`, as XlsxWriter asks for it when it
writes a cell). The whitespace and UTF-16 length helpers are XlsxWriter's own, the escaping copies
its rules; tests/unit/test_xlsx_rows.py compares the sheet XML with XlsxWriter's (version pinned in
requirements.lock: a new XlsxWriter that writes cells otherwise fails that test).
"""
from __future__ import annotations

import re
from io import StringIO

from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

STR_MAX = 32767  # Excel's cell text limit (UTF-16 units); XlsxWriter truncates to it too
# anything XlsxWriter's escaping would change: control characters, literal _xHHHH_ escapes, the
# non-characters U+FFFE/U+FFFF, and & < > (the data escapes)
_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_CONTROL_1 = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL_2 = re.compile(r"([\x00-\x08\x0b-\x1f])")
_COLS = [xl_col_to_name(c) for c in range(256)]


def ref(row: int, col: int) -> str:
    """A1-style reference of a zero-based cell."""
    return f"{_COLS[col] if col < 256 else xl_col_to_name(col)}{row + 1}"


def _escape_control(text: str) -> str:
    text = _CONTROL_1.sub(r"_x005F\1", text)
    text = _CONTROL_2.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def _escape_data(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _t(text: str) -> str:
    """<t> with its text escaped (no control-character escaping: see rich_cell)."""
    if _SPECIAL.search(text):
        text = _escape_data(text)
    return f'<t xml:space="preserve">{text}</t>' if _preserve_whitespace(text) else f"<t>{text}</t>"


def text_cell(where: str, xf: int, text: str) -> str:
    """A string cell (in-line), as XlsxWriter's write_string writes it in constant_memory mode."""
    if len(text) > STR_MAX // 2 and _utf16_len(text) > STR_MAX:
        text = _utf16_truncate(text, STR_MAX)
    if _SPECIAL.search(text):
        text = _escape_control(text)
        preserve = _preserve_whitespace(text)
        text = _escape_data(text)
    else:
        preserve = text[0].isspace() or text[-1].isspace() if text else False
    t = '<t xml:space="preserve">' if preserve else "<t>"
    return f'<c r="{where}" s="{xf}" t="inlineStr"><is>{t}{text}</t></is></c>'


def number_cell(where: str, xf: int, number: float) -> str:
    return f'<c r="{where}" s="{xf}"><v>{number:.16G}</v></c>'


def blank_cell(where: str, xf: int) -> str:
    return f'<c r="{where}" s="{xf}"/>'


def rich_cell(where: str, xf: int, runs: list[tuple[str, str]]) -> str | None:
    """A rich string: [(run prefix from RowSheet.run_prefix, text), ...]; None if a run is empty or
    the text is longer than Excel allows (XlsxWriter's write_rich_string refuses those too)."""
    if any(not text for _, text in runs) or _utf16_len("".join(t for _, t in runs)) > STR_MAX:
        return None
    body = _escape_control("".join(f"{prefix}{_t(text)}</r>" for prefix, text in runs))
    return f'<c r="{where}" s="{xf}" t="inlineStr"><is>{body}</is></c>'


class RowSheet(Worksheet):
    """An XlsxWriter worksheet that also takes rendered rows: `put(row, col, xml)` in column order
    within a row. A row is either put here or written with XlsxWriter's calls, not both."""

    def __init__(self) -> None:
        super().__init__()
        self.rendered: dict[int, list[str]] = {}
        self._max_col = -1

    def put(self, row: int, col: int, xml: str) -> None:
        cells = self.rendered.get(row)
        if cells is None or col > self._max_col:  # a new row or a new last column: the sheet's dimensions
            if self._check_dimensions(row, col):
                raise ValueError(f"cell ({row}, {col}) outside the worksheet")
            self._max_col = max(self._max_col, col)
            if cells is None:
                cells = self.rendered[row] = []
        cells.append(xml)

    def run_prefix(self, fmt) -> str:
        """The opening of a rich-text run in `fmt`'s font (<r><rPr>…</rPr>), as write_rich_string
        writes it."""
        fh = StringIO()
        self.rstring = XMLwriter()
        self.rstring._set_filehandle(fh)
        self.rstring._xml_start_tag("r")
        self._write_font(fmt)
        return fh.getvalue()

    def _write_rows(self) -> None:
        if not self.rendered:
            super()._write_rows()
            return
        for r in range(self.dim_rowmin, self.dim_rowmax + 1):
            info = self.row_info.get(r)
            cells = self.rendered.get(r)
            written = self.table.get(r)
            if cells is not None:
                if written:
                    raise ValueError(f"row {r + 1} written twice")
                self._write_row(r, None, info)
                self.fh.write("".join(cells))
                self._xml_end_tag("row")
            elif written:
                self._write_row(r, None, info)
                for c in sorted(written):
                    self._write_cell(r, c, written[c])
                self._xml_end_tag("row")
            elif info is not None or r in self.comments:
                self._write_empty_row(r, None, info)
