"""The one writer of every CSV the project emits (town lists, alerts_all, audit sample, quarantine
and any file added later): UTF-8 with BOM, CRLF, owner-only, and formula-safe cells.

    write_csv(path, header, rows)                 # numeric columns: NUMERIC_COLUMNS by header
    write_csv(path, header, rows, numeric={...})  # or the caller's own set of headers

Formula-safe (CWE-1236, OWASP "CSV Injection"): Excel and WPS run a cell that starts with `=`, `+`,
`-` or `@` as a formula (`=HYPERLINK(...)` opens a link, `=cmd|...` starts a program), and a tab
or carriage return in front of one is dropped on import. A text cell that starts with one of
`= + - @`, a tab, a carriage return or a line feed — or with one of `= + - @` after leading
whitespace — is written with a leading apostrophe (`'=1+2`), which spreadsheet programs show as
text. Names, household numbers, town and village names of the policy file, reasons that start with
a member's name: every text, whatever its source.

Numbers stay numbers. Which cells count as numbers:

* a value whose Python type is a number (int, float, Decimal; not bool) — a count or amount the
  database returned — is written as before, `-12.5` included;
* in a numeric column (NUMERIC_COLUMNS: 家庭人口, 人均月收入, 低保标准, 抽查序号, 本月新增审批户数,
  抽查户数, 行号; or `numeric=`), a text that is a plain decimal number (`-12.5`, `0`, `1500`; what
  publish.money writes) is written as it is;
* every other cell is text and neutralized: `-2+3` in a numeric column, and `-12.5` in a text
  column (shown as the text it is).

ID numbers in free texts (quarantine reasons and raw rows) are masked by `mask_ids_in_text`.

Importing this module raises the csv module's field size limit for the process
(lim/core/limits.py CSV_FIELD_LIMIT), so that re-reading a written CSV never fails on a long field.
"""
from __future__ import annotations

import csv
import os
import re
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any, Collection, Iterable

from lim.core.limits import raise_csv_field_limit

# Whatever reads these CSVs back in this process (publish.manifest counts their rows with the csv
# module) reads a field of any length: a quarantined raw row of many long cells is over the csv
# module's default of 131 072 characters ("field larger than field limit").
raise_csv_field_limit()

# Columns of the staff CSVs that hold numbers (by their Chinese header).
# Exactly the columns interface.md lists, in its order. The member a member-level alert is about
# is named in 预警原因; the warehouse's alerts table has member_id_number, the alert code and the
# household source for anyone who needs them. 数据说明: empty when every department delivered
# for M, else one sentence naming the departments that did not and what was held back
# (rules.md "Incomplete months"; alerts.data_note, sql/rules/05_coverage.sql).
STAFF_COLUMNS = ["预警编号", "预警类型", "优先级", "状态", "首次预警月份", "家庭编号", "户主姓名", "户主身份证号",
                 "乡镇(街道)", "村(社区)", "家庭人口", "人均月收入", "低保标准", "预警原因", "依据", "建议措施", "数据说明"]
NUMERIC_COLUMNS = frozenset({"家庭人口", "人均月收入", "低保标准", "抽查序号", "本月新增审批户数", "抽查户数", "行号"})

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def mask_id(id_number: str | None, full: bool) -> str:
    """An ID number as the staff lists show it: first 6 and last 4 characters (all of it with `full`)."""
    if not id_number:
        return ""
    if full or len(id_number) < 10:
        return id_number
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def safe_cell(value: Any, numeric: bool = False) -> Any:
    """The cell as it is written: None → "", numbers as they are, text formula-safe."""
    if type(value) is str:  # most cells: tested first (a few million cells a prefecture month)
        text = value
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return str(value)
    elif isinstance(value, (int, float, Decimal)):
        return value
    else:
        text = value if isinstance(value, str) else str(value)
    if not text:
        return text
    if numeric and _PLAIN_NUMBER.fullmatch(text):
        return text
    first = text[0]
    # after leading whitespace (only then is lstrip needed: it copies the text)
    if first in FORMULA_START or (first.isspace() and text.lstrip()[:1] in ("=", "+", "-", "@")):
        return "'" + text
    if first == "<" and text.startswith("<r>") and text.endswith("</r>"):
        # XlsxWriter writes such a string into the workbook's XML as it is (a rich string,
        # xlsxwriter/sharedstrings.py _write_si): a name or free text shaped so would inject markup
        return "'" + text
    return text


def safe_row(row: Iterable[Any], numeric_at: Collection[int] = ()) -> list:
    return [safe_cell(v, i in numeric_at) for i, v in enumerate(row)]


def write_csv(path: Path, header: list[str], rows: Iterable[Iterable[Any]],
              numeric: Collection[str] | None = None) -> None:
    """Write `rows` under `header` to `path` (UTF-8 with BOM, CRLF, mode 0600), every cell through
    safe_cell; `numeric` names the numeric columns by header (default NUMERIC_COLUMNS)."""
    numeric = NUMERIC_COLUMNS if numeric is None else numeric
    numeric_at = {i for i, h in enumerate(header) if h in numeric}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(safe_row(header))
        w.writerows(safe_row(r, numeric_at) for r in rows)
    os.chmod(path, 0o600)


class _Lines(list):
    """A file for csv.writer that keeps each row's line (the writer writes a row in one call)."""
    write = list.append


def csv_lines(header: list[str], rows: Iterable[Iterable[Any]], numeric: Collection[str] | None = None) -> tuple[str, list[str]]:
    """The header line and one line per row, each exactly as write_csv writes it (safe cells, CRLF):
    for rows that go into several files (a town's list and alerts_all.csv), rendered once."""
    numeric = NUMERIC_COLUMNS if numeric is None else numeric
    numeric_at = {i for i, h in enumerate(header) if h in numeric}
    out = _Lines()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(safe_row(header))
    w.writerows(safe_row(r, numeric_at) for r in rows)
    return out[0], out[1:]


def write_csv_lines(path: Path, header_line: str, lines: Iterable[str]) -> None:
    """Write lines made by csv_lines to `path` as write_csv writes a file (UTF-8 with BOM, mode 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write(header_line)
        f.writelines(lines)
    os.chmod(path, 0o600)


# --- ID numbers in free text ---------------------------------------------------------------------
# A run of decimal digits of any script (ASCII, full-width ０-９, ...), optionally ending in X, in
# which up to 3 separators may stand between two digits: spaces of any kind (full-width and
# no-break included), zero-width characters, hyphens and dashes, dots, underscores, middle dots.
_SEP = r"[\s\u200b-\u200d\u2060\ufeff\-\u2010-\u2015\u2212\ufe63\uff0d._\uff0e\uff3f\u00b7\u30fb\uff65]"
_ID_RUN = re.compile(rf"\d(?:{_SEP}{{0,3}}\d)*(?:{_SEP}{{0,3}}[XxＸｘ])?")
MIN_ID_CHARS = 15  # the old 15-digit ID; 17- and 19-digit typos and longer runs are masked too


def _canonical(run: str) -> str:
    """The run NFKC-normalized, separators removed, every digit as ASCII, x upper-case."""
    out = []
    for ch in unicodedata.normalize("NFKC", run):
        if ch in "Xx":
            out.append("X")
        elif ch.isdigit():
            d = unicodedata.decimal(ch, None)
            if d is not None:
                out.append(str(d))
    return "".join(out)


def _mask_run(m: re.Match) -> str:
    digits = _canonical(m.group(0))
    if len(digits) < MIN_ID_CHARS:
        return m.group(0)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def mask_ids_in_text(text: str | None, full: bool = False) -> str | None:
    """Every ID-like run of a free text masked as the staff lists mask IDs (first 6 and last 4
    characters): runs of 15 or more digits once NFKC-normalized and without separators, so an ID
    written with spaces or hyphens, in full-width digits, or with a digit too many or too few is
    masked too (shown without its separators); the rest of the text is left as it is. `full`
    (--full-ids): unchanged."""
    if full or not text:
        return text
    return _ID_RUN.sub(_mask_run, text)
