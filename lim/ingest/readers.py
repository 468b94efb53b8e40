"""Read one landed extract (CSV, XLSX, Parquet) into strings.

:func:`read_raw` returns a :class:`RawTable`: the header cells as written and every data
cell as a string (or ``None``), with the spreadsheet row number of each data row
(header = row 1, interpretations.md #1). It never normalizes values; it only makes the
three formats look alike. Problems that make the whole file unusable raise
:class:`ReadError` with ``code`` ``empty_file`` or ``unreadable``.

Choices (see the module functions for details):

* CSV: bytes decoded strictly as UTF-8 (a BOM is dropped), else strictly as GB18030 (a
  superset of GBK), else ``unreadable``. DuckDB is never used (it cannot read GBK
  here). Parsing is polars ``read_csv`` with every column as Utf8; only a file with
  ragged lines (more fields than its first line) falls back to Python's ``csv``.
* XLSX: openpyxl (read-only) on the first sheet, because it reports each cell's own
  type: a text ID stays text, a numeric ID cell is formatted so that an 18-digit number
  rounded by Excel stays recognisably scientific (``3.70322199001011e+17`` → later
  ``invalid_id``), whole numbers lose their ``.0``, serial numbers stay numbers and
  date-formatted cells become ISO dates. (fastexcel/calamine is ~10x faster but turns
  a numeric ID cell into a plausible wrong 18-digit string and cannot tell it from text.)
* Parquet: pyarrow via polars; every column cast to Utf8 with the same formatting rules.
* Rows whose every cell is empty are not data rows (Excel's formatted-but-empty rows,
  blank CSV lines); they are counted in ``blank_rows`` and keep their place in the
  row numbering of the rows after them.
* A title above the header (``XX县2026年6月就业人员情况表``, ``填报单位：人社局  日期：…``; in XLSX
  often one merged cell): given ``is_header`` (staging passes "holds the source's required
  headers or their aliases"), the header is the first of the first :data:`HEADER_SCAN_ROWS`
  non-blank rows that passes it; the rows above it are not data (not in ``data``, not in
  ``rows_in``, counted in ``title_rows``), and every row keeps its own number in the file (a
  data row's number counts the title rows above it). No row passes → the first non-blank row
  is the header, as without ``is_header`` (staging then refuses the file ``missing_column``).
* Bounded (lim/core/limits.py): a file with more columns than ``LIM_READ_MAX_COLUMNS`` (a CSV's
  header record, checked before parsing, or any of its rows; an XLSX row with a value beyond
  that column; a Parquet schema), a header cell longer than ``LIM_READ_MAX_CELL_CHARS``, an XLSX
  whose parts decompress to more than ``LIM_READ_MAX_XLSX_MB``, or a Parquet file that is not
  flat (a struct, list or map column) or whose footer is over ``LIM_READ_MAX_PARQUET_FOOTER_MB``
  is ``unreadable``, with the bound named. XLSX rows are read from the sheet's XML as they are
  written, never padded to the sheet's used range (an empty formatted cell at column XFD costs
  nothing). A ``MemoryError`` is not turned into a refusal here: the worker process that reads
  the file (lim/ingest/read_worker.py) reports it with the memory bound.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from lim.core import limits
from lim.core.limits import over
from lim.ingest.normalize import cell_to_str

limits.raise_csv_field_limit()  # a long cell is a row problem (staging), not a parser failure

ROW_COL = "_row_number"
SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".parquet")

#: The header is searched for among the first HEADER_SCAN_ROWS non-blank rows of a file (a title
#: is one to a few rows; a file whose header is not among them is refused as missing a column, as
#: a file without any header is), and in CSV within its first HEADER_SCAN_BYTES bytes.
HEADER_SCAN_ROWS = 50
HEADER_SCAN_BYTES = 1 << 20

#: ``is_header(cells)``: whether a row (its cells as written, ``""`` for an empty one) is the header.
HeaderTest = Callable[[list[str]], bool]


class ReadError(Exception):
    """The file as a whole cannot be used. ``code`` is ``empty_file`` or ``unreadable``."""

    def __init__(self, code: str, detail: str):
        # one line whatever the file holds: a header or column name may carry line breaks
        detail = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", detail)
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass
class RawTable:
    """Cells of one extract as strings.

    ``header``: the header cells as written (``""`` for an empty header cell).
    ``data``: one Utf8 column per header cell, named ``c0``, ``c1``, … (positional, so
    duplicate or empty headers are harmless), plus ``_row_number`` (Int64, spreadsheet
    row: header = 1 when it is the file's first row). Blank rows are not included.
    ``header_row``: the header's own row number (1, or more below blank or title rows);
    ``title_rows``: non-blank rows above the header (a title), not data.
    """

    header: list[str]
    data: pl.DataFrame
    format: str
    encoding: str | None = None
    blank_rows: int = 0
    header_row: int = 1
    notes: list[str] = field(default_factory=list)
    title_rows: int = 0

    @property
    def columns(self) -> list[str]:
        return [f"c{i}" for i in range(len(self.header))]

    @property
    def rows_in(self) -> int:
        return self.data.height

    def raw_keys(self) -> list[str]:
        """Unique, non-empty names of the header cells for the raw JSON object."""
        seen: dict[str, int] = {}
        keys = []
        for i, h in enumerate(self.header):
            k = (h or "").strip() or f"列{i + 1}"
            if k in seen:
                seen[k] += 1
                k = f"{k}#{seen[k]}"
            else:
                seen[k] = 1
            keys.append(k)
        return keys

    def rows(self) -> list[dict[str, str | None]]:
        """Data rows as header → cell dicts (tests and debugging; not for big files)."""
        keys = self.raw_keys()
        return [dict(zip(keys, r)) for r in self.data.select(self.columns).rows()]


def read_raw(path: str | Path, is_header: HeaderTest | None = None) -> RawTable:
    """Read a landed extract; the format comes from the extension (case-insensitive).

    ``is_header``: which row is the header, for files with a title above it (module doc); without
    it the header is the first non-blank row. Parquet has no title: its column names are the header."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReadError("unreadable", f"无法打开文件：{exc}") from exc
    if size == 0:
        raise ReadError("empty_file", "文件为空（0 字节）")
    lim = limits.current()
    if suffix == ".csv":
        table = _read_csv(path, is_header, lim)
    elif suffix == ".xlsx":
        table = _read_xlsx(path, is_header, lim)
    elif suffix == ".parquet":
        table = _read_parquet(path, lim)
    else:
        raise ReadError("unreadable", f"不支持的文件类型：{path.suffix}")
    check_header(table.header, lim)
    return table


def check_header(header: list[str], lim: limits.Limits) -> None:
    """The bounds of a header: its width and the length of each of its cells."""
    if over(len(header), lim.max_columns):
        raise ReadError("unreadable", f"表头有 {len(header)} 列，超过列数上限 {lim.max_columns}（{lim.var('max_columns')}）")
    for i, h in enumerate(header):
        if over(len(h or ""), lim.max_cell_chars):
            raise ReadError("unreadable", f"表头第 {i + 1} 列有 {len(h)} 个字符，超过单元格长度上限 "
                                          f"{lim.max_cell_chars}（{lim.var('max_cell_chars')}）")


def _not_memory(exc: BaseException) -> None:
    """Re-raise a MemoryError: the worker process reports it with the memory bound."""
    if isinstance(exc, MemoryError):
        raise exc


# ---------------------------------------------------------------------------
# shared
# ---------------------------------------------------------------------------
def _finish(
    header: list[str], cells: pl.DataFrame, first_row_number: int, fmt: str, encoding: str | None = None,
    blank_rows: int = 0,
) -> RawTable:
    """``cells``: Utf8 columns c0..cN-1, one row per line after the header (blank ones
    included). Adds row numbers, drops blank rows and trailing unnamed empty columns.

    ``cells`` may carry its rows' numbers already (a ``_row_number`` column: XLSX, whose blank rows
    are not materialized); ``blank_rows`` then counts the blank rows left out of it."""
    n = len(header)
    if ROW_COL not in cells.columns:
        cells = cells.with_row_index(ROW_COL, offset=first_row_number)
    cells = cells.with_columns(pl.col(ROW_COL).cast(pl.Int64))
    names = [f"c{i}" for i in range(n)]
    # trailing columns with an empty header and no data (trailing commas, formatted cells)
    while n > 0 and not (header[n - 1] or "").strip():
        col = names[n - 1]
        if cells.height and cells.select(_nonblank(pl.col(col)).any()).item():
            break
        cells = cells.drop(col)
        n -= 1
    header, names = header[:n], names[:n]
    if n == 0:
        raise ReadError("empty_file", "文件没有表头")
    if cells.height:
        nonblank = pl.any_horizontal([_nonblank(pl.col(c)) for c in names])
        kept = cells.filter(nonblank)
    else:
        kept = cells
    blank = cells.height - kept.height + blank_rows
    return RawTable(
        header=header,
        data=kept.select([ROW_COL, *names]),
        format=fmt,
        encoding=encoding,
        blank_rows=blank,
        header_row=first_row_number - 1,
    )


def _nonblank(e: pl.Expr) -> pl.Expr:
    return e.str.contains(r"[^\s\u200b\ufeff]").fill_null(False)


def _strip_header_cell(h: str | None) -> str:
    return "" if h is None else str(h).replace("\ufeff", "")


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------
_CHUNK = 1 << 24  # 16 MiB: validate/transcode in slices, never a whole-file str


def _decode(data: bytes) -> tuple[bytes, str]:
    """UTF-8 bytes (BOM removed) of the file and the encoding it was read with.

    Strict UTF-8 first (validated slice by slice, the bytes are then used as they are);
    else strict GB18030 (a superset of GBK), transcoded to UTF-8 slice by slice."""
    if b"\x00" in data[:65536]:
        raise ReadError("unreadable", "文件含有 NUL 字节，不是文本 CSV（可能是 UTF-16 或二进制文件）")
    if data.startswith(b"\xef\xbb\xbf"):
        body, enc = memoryview(data)[3:], "utf-8-sig"
    else:
        body, enc = memoryview(data), "utf-8"
    if _valid(body, "utf-8"):
        return bytes(body) if enc == "utf-8-sig" else data, enc
    dec = codecs.getincrementaldecoder("gb18030")(errors="strict")
    out: list[bytes] = []
    view = memoryview(data)
    pos = 0
    try:
        for pos in range(0, len(view), _CHUNK):
            out.append(dec.decode(view[pos : pos + _CHUNK], final=pos + _CHUNK >= len(view)).encode("utf-8"))
        if not len(view):
            dec.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise ReadError(
            "unreadable", f"无法按 UTF-8 或 GBK/GB18030 解码（第 {pos + exc.start} 字节附近）"
        ) from exc
    return b"".join(out), "gb18030"


def _valid(view: memoryview, encoding: str) -> bool:
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        for pos in range(0, len(view), _CHUNK):
            dec.decode(view[pos : pos + _CHUNK], final=pos + _CHUNK >= len(view))
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _read_csv(path: Path, is_header: HeaderTest | None = None, lim: limits.Limits | None = None) -> RawTable:
    lim = lim or limits.current()
    body, enc = _decode(path.read_bytes())
    if not body.strip(b" \t\r\n,;"):
        raise ReadError("empty_file", "文件没有表头")
    if b"\r" in body and b"\n" not in body:
        # lines ended by a bare CR (classic Mac, some old exporters): polars would read the whole
        # file as one header line and accept it with 0 rows
        body = body.replace(b"\r", b"\n")
    title = title_above_header(body, is_header) if is_header is not None else None
    if title is not None:
        # parsed from the header on: the title's width does not make the rows "ragged", and the
        # separator comes from the header line, not from the title
        body = body[title.offset:]
    sep = _separator(body)
    # polars makes as many columns as the first line has fields: a header of a million columns
    # would take gigabytes before any check could see it
    problem = csv_width_problem(body, sep, lim.max_columns, first_line=(title.lines if title is not None else 0) + 1)
    if problem:
        raise ReadError("unreadable", problem)
    try:
        df = pl.read_csv(
            io.BytesIO(body),
            has_header=False,
            infer_schema=False,
            empty_string_is_null=False,
            raise_if_empty=False,
            separator=sep,
        )
    except pl.exceptions.ComputeError as exc:
        if "more fields" in str(exc):
            return _read_csv_python(body, enc, sep, title=title, max_columns=lim.max_columns)
        if "malformed" in str(exc):
            # a stray quote inside an unquoted field (陈"乐帅), which Excel and Python's csv read as a
            # character; strict, so that a quote left open (which would swallow the rest of the
            # file into one cell) is still refused
            return _read_csv_python(body, enc, sep, strict=True, title=title, max_columns=lim.max_columns)
        raise ReadError("unreadable", f"CSV 无法解析：{_first_line(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure is a refusal
        _not_memory(exc)
        raise ReadError("unreadable", f"CSV 无法解析：{_first_line(exc)}") from exc
    if df.height == 0 or df.width == 0:
        raise ReadError("empty_file", "文件没有表头")
    df = df.rename({c: f"c{i}" for i, c in enumerate(df.columns)})
    return _from_lines(df.with_columns(pl.all().cast(pl.Utf8)), enc, title)


def _from_lines(df: pl.DataFrame, enc: str, title: TitleAbove | None = None) -> RawTable:
    """``df``: Utf8 columns c0..cN, one row per CSV record, the header's included. The header is
    the first non-blank record (blank lines, or Excel's empty top row written as ",,,,,"). With a
    ``title``, ``df`` starts at the header and its rows are numbered after the title's records."""
    first = (df.lazy().with_row_index("_line").filter(pl.any_horizontal([_nonblank(pl.col(c)) for c in df.columns]))
             .select("_line").head(1).collect())
    if first.height == 0:
        raise ReadError("empty_file", "文件没有表头")
    start = int(first.item())
    header = [_strip_header_cell(h) for h in df.row(start)]
    before = title.rows if title is not None else 0
    table = _finish(header, df.slice(start + 1), before + start + 2, "csv", enc)
    if title is not None:
        table.title_rows = title.title_rows
    return table


# ---- a title above the header ----------------------------------------------------------------
@dataclass(frozen=True)
class TitleAbove:
    """Where the header of a CSV with a title starts (``body`` as :func:`title_above_header` got it)."""

    offset: int  # byte offset of the header's first line
    lines: int  # physical lines (b"\n") before it
    rows: int  # CSV records before it, blank ones included: the header's row number is rows + 1
    title_rows: int  # the non-blank ones among them (the title)
    sep: str  # the header line's separator (:func:`_separator`)


# the characters of polars' `\s` (Unicode White_Space) and the two that `_nonblank` adds
_BLANK_CHARS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
               "\u2028\u2029\u202f\u205f\u3000\u200b\ufeff"


def _nonblank_cell(c: str | None) -> bool:
    """Python twin of :func:`_nonblank`."""
    return bool(c) and bool(c.strip(_BLANK_CHARS))


class _Lines:
    """The physical lines of UTF-8 bytes for ``csv.reader``, with the offset of what it has read."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.data):
            raise StopIteration
        end = self.data.find(b"\n", self.pos)
        end = len(self.data) if end < 0 else end + 1
        line = self.data[self.pos:end]
        self.pos = end
        return line.decode("utf-8", errors="replace")


def title_above_header(body: bytes, is_header: HeaderTest, complete: bool = True) -> TitleAbove | None:
    """Where the header is when a title is above it, else None.

    ``body``: UTF-8 bytes of a CSV (no BOM), the whole file or (``complete=False``) its beginning.
    The header is the first record that passes ``is_header`` among the first HEADER_SCAN_ROWS
    non-blank records of the first HEADER_SCAN_BYTES bytes, read with the separator its own first
    line gives (:func:`_separator`; a title line, often without any comma, has no say). None when
    that record is the first non-blank one (no title: the file is read as it always was) or when no
    record passes (read as without a title: the first non-blank record is the header, and staging
    refuses the file for the columns it lacks)."""
    window = body[:HEADER_SCAN_BYTES]
    if len(window) < len(body) or not complete:
        window = window[: window.rfind(b"\n") + 1]  # whole lines only
        complete = False
    best: TitleAbove | None = None
    for sep in (",", "\t", ";"):
        found = _scan_for_header(window, complete, sep, is_header)
        if found is not None and found.title_rows == 0:
            return None  # the first non-blank record is the header: no title
        if found is not None and (best is None or found.offset < best.offset):
            best = found
    return best


def _max_columns() -> int:
    return limits.current().max_columns or 1 << 62


def _scan_for_header(window: bytes, complete: bool, sep: str, is_header: HeaderTest) -> TitleAbove | None:
    lines = _Lines(window)
    reader = csv.reader(lines, delimiter=sep)
    rows = nonblank = 0
    while nonblank < HEADER_SCAN_ROWS:
        start = lines.pos
        try:
            cells = next(reader)
        except (StopIteration, csv.Error):
            return None
        if not complete and lines.pos >= len(window):
            return None  # the record may go on past the window (a quoted line break)
        cells = [_strip_header_cell(c) for c in cells]
        if any(_nonblank_cell(c) for c in cells):
            if len(cells) <= _max_columns() and is_header(cells) and _separator(window[start:start + 65536]) == sep:
                return TitleAbove(offset=start, lines=window.count(b"\n", 0, start), rows=rows,
                                  title_rows=nonblank, sep=sep)
            nonblank += 1
        rows += 1
    return None


_QUOTED = re.compile(rb'"[^"]*"')


def csv_width_problem(body: bytes, sep: str, max_columns: int, first_line: int = 1) -> str | None:
    """Why the first lines of a CSV are too wide to parse, or None: each line up to the first
    non-blank one (the header; blank ones before it, such as Excel's ",,,,", count as well) may
    have at most ``max_columns`` fields. Separators inside double quotes do not count. ``body``
    may be the file's beginning only: a line it does not end is counted as far as it goes."""
    if not max_columns:
        return None
    s = sep.encode()
    pos, line_no = 0, first_line
    while pos < len(body):
        end = body.find(b"\n", pos)
        end = len(body) if end < 0 else end
        line = body[pos:end]
        fields = line.count(s) + 1
        if fields > max_columns:
            fields = _QUOTED.sub(b"", line).count(s) + 1
            if fields > max_columns:
                return (f"第 {line_no} 行有 {fields} 个字段，超过列数上限 {max_columns}"
                        f"（{limits.DEFAULTS['max_columns'][0]}）")
        if line.strip(b" \t\r" + s):
            return None
        pos, line_no = end + 1, line_no + 1
    return None


def _separator(body: bytes) -> str:
    """The field separator: a comma, unless the header line has none but has tabs (Excel's "text,
    tab-separated" saved as .csv) or semicolons."""
    for line in body[:65536].splitlines():
        if line.strip(b" \t\r"):
            if b"," not in line:
                if b"\t" in line:
                    return "\t"
                if b";" in line:
                    return ";"
            return ","
    return ","


def _read_csv_python(body: bytes, enc: str, sep: str = ",", strict: bool = False,
                     title: TitleAbove | None = None, max_columns: int = 0) -> RawTable:
    """Fallback for ragged files and stray quotes: Python's csv module, rows padded to the widest
    (refused when one is wider than ``max_columns``: every row would be padded to it)."""
    text = body.decode("utf-8")
    rows = []
    try:
        for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=strict):
            if over(len(r), max_columns):
                row = len(rows) + 1 + (title.rows if title is not None else 0)
                raise ReadError("unreadable", f"第 {row} 条记录有 {len(r)} 个字段，超过列数上限 {max_columns}"
                                              f"（{limits.DEFAULTS['max_columns'][0]}）")
            rows.append(r)
    except csv.Error as exc:
        raise ReadError("unreadable", f"CSV 无法解析：{exc}") from exc
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        raise ReadError("empty_file", "文件没有表头")
    # csv gives "" for empty fields (polars too, with empty_string_is_null=False); short rows padded
    cols = {f"c{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)}
    return _from_lines(pl.DataFrame(cols, schema={f"c{i}": pl.Utf8 for i in range(width)}), enc, title)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------
def _read_xlsx(path: Path, is_header: HeaderTest | None = None, lim: limits.Limits | None = None) -> RawTable:
    import openpyxl

    lim = lim or limits.current()
    _check_xlsx_size(path, lim)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ReadError("unreadable", f"XLSX 无法打开：{_first_line(exc)}") from exc
    except Exception as exc:  # noqa: BLE001
        _not_memory(exc)
        raise ReadError("unreadable", f"XLSX 无法打开：{_first_line(exc)}") from exc
    try:
        if not wb.worksheets:
            raise ReadError("empty_file", "工作簿没有工作表")
        ws = wb.worksheets[0]
        sheet = SheetRows(ws, lim.max_columns)
        header: list[str] | None = None
        header_row = 0
        title_rows = 0
        # the data rows after the header that hold a value, with their row numbers; the blank
        # ones (formatted-but-empty rows, gaps in the XML) are counted from the row numbers
        rows: list[list[str | None]] = []
        numbers: list[int] = []
        width = 0
        # the rows read while looking for the header, from the first non-blank one on: a title
        # above it (often one merged cell: its value in the first cell, the others empty) or, when
        # none of the first HEADER_SCAN_ROWS non-blank rows passes is_header, the header (the
        # first) and the data rows after it
        pending: list[tuple[int, list[str | None]]] = []
        scanned = 0

        def settle(k: int) -> None:
            """pending[k] is the header: the pending rows above it are a title, those below data."""
            nonlocal header, header_row, title_rows, width
            header_row, cells = pending[k]
            header = [_strip_header_cell(c) for c in cells]
            title_rows = sum(1 for _, c in pending[:k] if any((x or "").strip() for x in c))
            width = max([len(header)] + [len(c) for _, c in pending[k + 1:]])
            for i, c in pending[k + 1:]:
                numbers.append(i)
                rows.append(c)
            pending.clear()

        try:
            for i, values in sheet:
                cells = [cell_to_str(v) for v in values]
                if header is None:
                    if any((c or "").strip() for c in cells):
                        pending.append((i, cells))
                        scanned += 1
                        if is_header is None or is_header([_strip_header_cell(c) for c in cells]):
                            settle(len(pending) - 1)
                        elif scanned >= HEADER_SCAN_ROWS:
                            settle(0)
                    elif pending:
                        pending.append((i, cells))
                    continue
                numbers.append(i)
                rows.append(cells)
                if len(cells) > width:
                    width = len(cells)
            if header is None and pending:
                settle(0)
        except ReadError:
            raise
        except Exception as exc:  # noqa: BLE001
            _not_memory(exc)
            raise ReadError("unreadable", f"XLSX 无法解析：{_first_line(exc)}") from exc
        others = _other_sheets_with_content(wb)
    finally:
        wb.close()
    note = f"工作簿另有非空工作表未读取：{'、'.join(others)}（只读取第一个工作表 {ws.title}）" if others else None
    if header is None:
        raise ReadError("empty_file", "第一个工作表没有表头" + (f"；{note}" if note else ""))
    header = header + [""] * (width - len(header))
    cols = {f"c{j}": [r[j] if j < len(r) else None for r in rows] for j in range(width)}
    df = pl.DataFrame(cols, schema={f"c{j}": pl.Utf8 for j in range(width)})
    df = df.with_columns(pl.Series(ROW_COL, numbers, dtype=pl.Int64))
    # rows after the header up to the sheet's last row in its XML that hold no value
    blank = max(0, sheet.last_row - header_row - len(rows))
    table = _finish(header, df, header_row + 1, "xlsx", blank_rows=blank)
    table.title_rows = title_rows
    if note:
        table.notes.append(note)
    return table


def _check_xlsx_size(path: Path, lim: limits.Limits) -> None:
    """Refuse a workbook whose parts decompress to more than LIM_READ_MAX_XLSX_MB (its zip
    directory says how much; the zip reader never gives more than that)."""
    if not lim.max_xlsx_mb:
        return
    try:
        with zipfile.ZipFile(path) as z:
            total = sum(i.file_size for i in z.infolist())
    except Exception as exc:  # noqa: BLE001 - openpyxl says what is wrong with it
        _not_memory(exc)
        return
    if total > lim.max_xlsx_mb << 20:
        raise ReadError("unreadable", f"XLSX 解压后共 {total >> 20} MiB，超过上限 {lim.max_xlsx_mb} MiB"
                                      f"（{lim.var('max_xlsx_mb')}）")


class _Discard(dict):
    """Row formats openpyxl's parser would keep for every formatted row: not needed here."""

    def __setitem__(self, key, value) -> None:
        pass


class SheetRows:
    """The rows of a read-only openpyxl worksheet that hold a value, as ``(row number, values)``,
    read from the sheet's XML as they are written: a row's values reach up to its last cell with
    a value, never to the sheet's used range or to a formatted empty cell (openpyxl's ``iter_rows``
    pads every row to the sheet's last column: 16 384 cells a row for one formatted cell at XFD).
    Whatever the sheet's ``<dimension>`` says, every row is read (some exporters write "A1" or a
    stale range there). A value beyond column ``max_columns`` raises ReadError (``strict``) or is
    reported as a row of its own (not strict: only whether a sheet holds anything matters).
    ``last_row``: the number of the last row in the XML read so far."""

    def __init__(self, ws, max_columns: int, strict: bool = True):
        self.ws, self.max_columns, self.strict = ws, max_columns, strict
        self.last_row = 0

    def __iter__(self):
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet._reader import WorkSheetParser

        ws = self.ws
        wb = ws.parent
        with ws._get_source() as src:
            parser = WorkSheetParser(src, ws._shared_strings, data_only=wb.data_only, epoch=wb.epoch,
                                     date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
            parser.row_dimensions = _Discard()
            for idx, cells in parser.parse():
                self.last_row = max(self.last_row, idx)
                found: list[tuple[int, object]] = []
                for cell in cells:
                    v = cell["value"]
                    if v is None:
                        continue
                    col = cell["column"]
                    if over(col, self.max_columns):
                        if v == "":
                            continue
                        if not self.strict:
                            yield idx, [v]
                            return
                        raise ReadError("unreadable", f"工作表 {ws.title} 第 {idx} 行第 {get_column_letter(col)} 列"
                                                      f"（第 {col} 列）有内容，超过列数上限 {self.max_columns}"
                                                      f"（{limits.DEFAULTS['max_columns'][0]}）")
                    found.append((col, v))
                if not found:
                    continue
                row: list = [None] * max(c for c, _ in found)
                for col, v in found:
                    row[col - 1] = v
                yield idx, row


def _other_sheets_with_content(wb) -> list[str]:
    """Names of the sheets after the first that hold any value (each read up to its first one):
    a department that puts its data on the second sheet, or one sheet per town, is told so."""
    names = []
    for other in wb.worksheets[1:]:
        try:
            if any(any(v is not None and str(v).strip() for v in row) for _, row in SheetRows(other, _max_columns(), strict=False)):
                names.append(other.title)
        except Exception as exc:  # noqa: BLE001 - a broken extra sheet does not spoil the first one
            _not_memory(exc)
            names.append(other.title)
    return names


# ---------------------------------------------------------------------------
# Parquet
# ---------------------------------------------------------------------------
def _to_utf8(name: str, dtype: pl.DataType) -> pl.Expr:
    c = pl.col(name)
    if dtype == pl.Utf8:
        return c
    if dtype == pl.Date:
        return c.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return (
            pl.when(c.dt.time() == pl.time(0, 0, 0))
            .then(c.dt.strftime("%Y-%m-%d"))
            .otherwise(c.dt.strftime("%Y-%m-%d %H:%M:%S"))
        )
    if dtype.is_float():
        whole = c.is_finite() & (c == c.floor()) & (c.abs() < 1e15)
        return (
            pl.when(c.is_nan())
            .then(pl.lit(None, pl.Utf8))
            .when(whole)
            .then(c.cast(pl.Int64, strict=False).cast(pl.Utf8))
            .otherwise(c.cast(pl.Utf8))
        )
    if dtype == pl.Boolean:
        return pl.when(c).then(pl.lit("TRUE")).when(~c).then(pl.lit("FALSE")).otherwise(pl.lit(None, pl.Utf8))
    if dtype == pl.Binary:
        return c.cast(pl.Utf8, strict=False)
    if isinstance(dtype, (pl.List, pl.Array, pl.Struct)):
        return c.map_elements(lambda v: None if v is None else str(v), return_dtype=pl.Utf8)
    return c.cast(pl.Utf8, strict=False)


def _read_parquet(path: Path, lim: limits.Limits | None = None) -> RawTable:
    check_parquet_schema(path, lim or limits.current())
    try:
        df = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001
        _not_memory(exc)
        raise ReadError("unreadable", f"Parquet 无法解析：{_first_line(exc)}") from exc
    if df.width == 0:
        raise ReadError("empty_file", "Parquet 文件没有列")
    header = [_strip_header_cell(c) for c in df.columns]
    try:
        cells = df.select(
            [_to_utf8(c, dt).alias(f"c{i}") for i, (c, dt) in enumerate(df.schema.items())]
        )
    except Exception as exc:  # noqa: BLE001
        _not_memory(exc)
        raise ReadError("unreadable", f"Parquet 列无法转为文本：{_first_line(exc)}") from exc
    return _finish(header, cells, 2, "parquet")


def _kind(t) -> str:
    """A nested Arrow type's kind, for the message (its full text can be thousands of characters)."""
    import pyarrow as pa

    for test, name in ((pa.types.is_struct, "struct"), (pa.types.is_map, "map"), (pa.types.is_union, "union")):
        if test(t):
            return name
    return "list"


def _scalar_type(t) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _scalar_type(t.value_type)
    if isinstance(t, pa.ExtensionType):
        return _scalar_type(t.storage_type)
    return not pa.types.is_nested(t)


def check_parquet_schema(path: Path, lim: limits.Limits) -> None:
    """Refuse a Parquet file that is not a flat table, before any of its data is read: its footer
    over LIM_READ_MAX_PARQUET_FOOTER_MB, more leaf columns than LIM_READ_MAX_COLUMNS, or a column
    that is not of a scalar type (struct, list, map, union: a schema nested 500 deep crashes
    polars' reader outright). Parsed by pyarrow, which refuses a schema nested over 100 deep."""
    import pyarrow.parquet as pq

    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(4)
        if size >= 12:
            fh.seek(-8, io.SEEK_END)
        tail = fh.read(8)
    if size < 12 or head != b"PAR1" or tail[4:] != b"PAR1":
        raise ReadError("unreadable", "Parquet 无法解析：不是完整的 Parquet 文件（缺少开头或结尾的 PAR1 标记）")
    footer = int.from_bytes(tail[:4], "little")
    if footer > size - 12:
        raise ReadError("unreadable", f"Parquet 无法解析：元数据长度 {footer} 字节超出文件大小，文件已损坏")
    if over(footer, lim.max_parquet_footer_mb << 20):
        raise ReadError("unreadable", f"Parquet 元数据有 {footer >> 20} MiB，超过上限 {lim.max_parquet_footer_mb} MiB"
                                      f"（{lim.var('max_parquet_footer_mb')}）")
    try:
        meta = pq.read_metadata(path)
        if over(meta.num_columns, lim.max_columns):
            raise ReadError("unreadable", f"Parquet 文件有 {meta.num_columns} 列，超过列数上限 {lim.max_columns}"
                                          f"（{lim.var('max_columns')}）")
        schema = meta.schema.to_arrow_schema()
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001
        _not_memory(exc)
        if "deeply nested" in str(exc):
            raise ReadError("unreadable", "Parquet 的列是嵌套结构且嵌套过深，只接受每列为简单类型（文本、数字、日期等）的平表") from exc
        raise ReadError("unreadable", f"Parquet 无法解析：{_first_line(exc)}") from exc
    for f in schema:
        if not _scalar_type(f.type):
            raise ReadError("unreadable", f"Parquet 的列「{f.name[:100]}」是嵌套类型（{_kind(f.type)}），"
                                          "只接受每列为简单类型（文本、数字、日期等）的平表")
