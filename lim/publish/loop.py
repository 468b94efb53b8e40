"""Closing the loop with town staff, outgoing side (interface.md "Closing the loop with town staff"):

  <out>/<M>/workbooks/<town_code>_<town_name>.xlsx   the town's list to fill in: sheets 说明,
                                                     核查清单 (the CSV's columns + 办理时限, 上次核查结论,
                                                     上次核查日期 + five empty staff columns), 解除清单
  <out>/<M>/county/overdue.csv|xlsx                  every overdue key once, by town
  <out>/<M>/resolved.csv                             alerts resolved (解除) in M, with the reason

What each alert carries (due date, last answer, suppression, overdue, list priority) and the resolved
keys are computed by sql/rules/92_loop.sql; this module only writes them. The answers coming back
are read by assets/feedback.py.

Workbooks are written with XlsxWriter (data validation, text formats, frozen panes, print setup);
their data rows are rendered to cell XML by lim/publish/xlsx_rows.py, in the form XlsxWriter itself
writes (faster than its Python object per cell: the province's ~25 M cells). Every text cell is
written as a string (never through a formula or number guess) after the same formula-safe
neutralisation as the CSVs (lim/publish/csv_out.safe_cell: `=1+2` becomes `'=1+2`), with a
text number format so that household numbers such as 00100200000136 and masked ID numbers stay
text when staff edit them; numbers are numbers and dates are dates. The file is in memory until it
is written, its zip members carry XlsxWriter's fixed 1980-01-01 timestamp and its document
properties a fixed creation time (the day the list counts as issued), so a rerun of the month
writes the same bytes.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
from dataclasses import dataclass
import json
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter

from lim.core.catalogue import alert_catalogue
from lim.core import processes
from lim.publish import xlsx_rows as xr
from lim.publish.csv_out import STAFF_COLUMNS, mask_id, safe_cell, write_csv
from lim.publish.xlsx_rows import RowSheet
from lim.core.month import month_end, shift

CONCLUSIONS = ["属实", "不属实", "已处理", "无法核实"]
STAFF_INPUT_COLUMNS = ["核查结论", "核查日期", "核查人", "处理措施", "备注"]
LOOP_COLUMNS = ["办理时限", "上次核查结论", "上次核查日期"]
LIST_SHEET, NOTE_SHEET, RESOLVED_SHEET, PRINT_SHEET = "核查清单", "说明", "解除清单", "打印版"
RESOLVED_COLUMNS = ["预警编号", "预警类型", "优先级", "首次预警月份", "最后预警月份", "家庭编号", "户主姓名", "户主身份证号",
                    "乡镇(街道)", "村(社区)", "上次预警原因", "解除原因"]
OVERDUE_COLUMNS = ["乡镇(街道)", "村(社区)", "预警编号", "预警类型", "规则优先级", "名单优先级", "状态", "首次预警月份", "家庭编号",
                   "户主姓名", "户主身份证号", "未反馈的预警编号", "原办理时限", "逾期天数", "上次核查结论", "上次核查日期"]
OVERDUE_NUMERIC = {"逾期天数"}
PRIORITY_RANK = {"高": 1, "中": 2, "低": 3}
# Column widths (characters) of the workbook's list, by header; others 10.
WIDTHS = {"预警编号": 19, "预警类型": 14, "优先级": 6, "状态": 6, "首次预警月份": 9, "家庭编号": 16, "户主姓名": 8,
          "户主身份证号": 20, "乡镇(街道)": 10, "村(社区)": 12, "家庭人口": 6, "人均月收入": 9, "低保标准": 8,
          "预警原因": 40, "依据": 44, "建议措施": 30, "数据说明": 24, "办理时限": 11, "上次核查结论": 9, "上次核查日期": 11,
          "核查结论": 10, "核查日期": 12, "核查人": 9, "处理措施": 24, "备注": 18, "上次预警原因": 40, "解除原因": 30,
          "最后预警月份": 9, "未反馈的预警编号": 19, "原办理时限": 11, "逾期天数": 8, "规则优先级": 8, "名单优先级": 8}
WRAP = {"预警原因", "依据", "建议措施", "数据说明", "上次预警原因", "解除原因", "处理措施", "备注"}

# The sheet 打印版: what a caseworker needs on paper when visiting households, one row per alert,
# A4 landscape at 100 % (fit to width only as a safety net), 9 pt text. (header, width): two
# fields share a column where they are short; the five staff columns are empty boxes (核查结论 with
# its four answers to tick). Widths sum to PRINT_WIDTH_LIMIT or less, so Excel, WPS and LibreOffice
# print it unshrunk; row heights are set from the wrapped text (print_row_lines).
PRINT_FONT_PT = 9
PRINT_COLUMNS = [("预警编号\n预警类型", 15), ("优先级\n状态", 5.5), ("户主姓名\n身份证号", 17), ("村(社区)", 7.5),
                 ("家庭\n人口", 4), ("预警原因", 20.5), ("建议措施", 16), ("办理时限", 9), ("上次核查\n结论", 6),
                 ("核查结论", 9), ("核查日期", 9), ("核查人", 6.5), ("处理措施", 11), ("备注", 7)]
PRINT_STAFF = {"核查结论", "核查日期", "核查人", "处理措施", "备注"}
PRINT_TICKS = "\n".join("□" + c for c in CONCLUSIONS)
# A4 landscape (297 mm) less 0.25" margins: 11.19" = 1074 px at 96 dpi; a column of width w takes
# 7w + 5 px (Calibri 11, the workbook's default font) — 152 width units with 14 columns.
PRINT_WIDTH_LIMIT = (1074 - 5 * len(PRINT_COLUMNS)) / 7


def issue_date(month: str) -> date:
    """The list of M counts as issued on the first day of M+1 (interface.md)."""
    return date.fromisoformat(shift(month, 1) + "-01")


def _d(v) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def _iso(v) -> str:
    d = _d(v)
    return d.isoformat() if d else ""


_TOKEN = re.compile(r"[\x21-\x7e]+|.", re.S)


def print_row_lines(cells: list[tuple[str, float]], font_pt: float = PRINT_FONT_PT) -> int:
    """How many lines the tallest of a row's wrapped cells takes: (text, column width) pairs; CJK
    and full-width characters one em wide, ASCII half an em, runs of ASCII not broken (as Excel,
    WPS and LibreOffice wrap them), 5 % to spare. Row heights are set from it, so that printed rows
    neither clip nor leave tall gaps whichever program prints them."""
    return max([1, *(_cell_lines(str(text or ""), width, font_pt) for text, width in cells)])


@functools.lru_cache(maxsize=4096)  # the same texts recur on every row: actions, villages, 高/新增
def _cell_lines(text: str, width: float, font_pt: float) -> int:
    """The lines one cell's text takes (print_row_lines)."""
    em = font_pt * 96 / 72
    room = (7 * width + 5 - 6) * 0.95
    lines = 0
    for para in text.split("\n"):
        lines += 1
        if em * len(para) <= room:    # fits on one line whatever its characters (none is wider than an em)
            continue
        used = 0.0
        for tok in _TOKEN.findall(para):
            # a token is a run of printable ASCII (half an em each) or one other character
            w = em / 2 * len(tok) if len(tok) > 1 else (em / 2 if ord(tok) < 0x7f else em)
            if used and used + w > room:
                lines += 1
                used = 0.0
            while w > room:           # an ASCII run wider than the column
                lines += 1
                w -= room
            used += w
    return lines


# --------------------------------------------------------------------------------------------
# the workbook writer
# --------------------------------------------------------------------------------------------
class _Book:
    """One XlsxWriter workbook with the formats every sheet shares."""

    def __init__(self, path: Path, month: str, title: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.wb = xlsxwriter.Workbook(str(self.path), {
            "in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd"})
        issued = issue_date(month)
        self.wb.set_properties({"title": title, "subject": f"{month} 低收入人口动态监测预警核查",
                                "author": "县民政局 低收入人口动态监测", "company": "县民政局",
                                "created": datetime(issued.year, issued.month, issued.day)})
        base = {"font_name": "宋体", "font_size": 10, "valign": "top", "border": 1}
        self.header = self.wb.add_format({**base, "bold": True, "bg_color": "#DDE5F0", "text_wrap": True, "align": "center",
                                          "valign": "vcenter"})
        self.staff_header = self.wb.add_format({**base, "bold": True, "bg_color": "#FCE9C8", "text_wrap": True,
                                                "align": "center", "valign": "vcenter"})
        self.text = self.wb.add_format({**base, "num_format": "@"})
        self.wrap = self.wb.add_format({**base, "num_format": "@", "text_wrap": True})
        self.number = self.wb.add_format({**base, "num_format": "General"})
        self.date = self.wb.add_format({**base, "num_format": "yyyy-mm-dd"})
        self.date_overdue = self.wb.add_format({**base, "num_format": "yyyy-mm-dd", "font_color": "#B3261E", "bold": True})
        self.input_text = self.wb.add_format({**base, "num_format": "@", "bg_color": "#FFF8E6"})
        self.input_wrap = self.wb.add_format({**base, "num_format": "@", "bg_color": "#FFF8E6", "text_wrap": True})
        self.input_date = self.wb.add_format({**base, "num_format": "yyyy-mm-dd", "bg_color": "#FFF8E6"})
        self.label = self.wb.add_format({"font_name": "宋体", "font_size": 11, "bold": True, "valign": "top", "num_format": "@"})
        self.value = self.wb.add_format({"font_name": "宋体", "font_size": 11, "valign": "top", "num_format": "@", "text_wrap": True})
        self.title = self.wb.add_format({"font_name": "黑体", "font_size": 14, "bold": True, "num_format": "@"})
        pb = {"font_name": "宋体", "font_size": PRINT_FONT_PT, "border": 1, "text_wrap": True, "valign": "top", "num_format": "@"}
        self.p_header = self.wb.add_format({**pb, "bold": True, "bg_color": "#E4E4E4", "align": "center", "valign": "vcenter"})
        self.p_text = self.wb.add_format(pb)
        self.p_center = self.wb.add_format({**pb, "align": "center"})
        self.p_bold = self.wb.add_format({"font_name": "宋体", "font_size": PRINT_FONT_PT, "bold": True})
        self.p_plain = self.wb.add_format({"font_name": "宋体", "font_size": PRINT_FONT_PT})
        self.p_date = self.wb.add_format({**pb, "num_format": "yyyy-mm-dd"})
        self.p_date_overdue = self.wb.add_format({**pb, "num_format": "yyyy-mm-dd", "bold": True, "underline": 1})
        self.p_box = self.wb.add_format({**pb, "locked": False})
        self.p_ticks = self.wb.add_format({**pb, "font_color": "#404040"})

    def cell(self, ws: RowSheet, r: int, c: int, value, fmt=None, kind: str = "text") -> None:
        """One cell: text formula-safe as a string, numbers as numbers, dates as dates, empty as blank."""
        where = xr.ref(r, c)
        if kind == "date":
            fmt = fmt or self.date
            d = _d(value)
            if d is None:
                ws.put(r, c, xr.blank_cell(where, fmt._get_xf_index()))
            else:
                serial = ws._convert_date_time(datetime(d.year, d.month, d.day))
                ws.put(r, c, xr.number_cell(where, fmt._get_xf_index(), serial))
            return
        if kind == "number" and value not in (None, ""):
            try:
                ws.put(r, c, xr.number_cell(where, (fmt or self.number)._get_xf_index(), float(value)))
                return
            except (TypeError, ValueError):
                pass
        text = safe_cell(value)
        if text == "" or text is None:
            ws.put(r, c, xr.blank_cell(where, (fmt or self.text)._get_xf_index()))
        else:
            ws.put(r, c, xr.text_cell(where, (fmt or self.text)._get_xf_index(), str(text)))

    def blank(self, ws: RowSheet, r: int, c: int, fmt) -> None:
        ws.put(r, c, xr.blank_cell(xr.ref(r, c), fmt._get_xf_index()))

    def sheet(self, name: str) -> RowSheet:
        return self.wb.add_worksheet(name, worksheet_class=RowSheet)

    def list_sheet(self, name: str, header: list[str], staff: set[str] = frozenset()) -> RowSheet:
        ws = self.sheet(name)
        for c, h in enumerate(header):
            ws.write_string(0, c, h, self.staff_header if h in staff else self.header)
            ws.set_column(c, c, WIDTHS.get(h, 10))
        ws.set_row(0, 30)
        ws.freeze_panes(1, 0)      # the header row stays in view
        ws.repeat_rows(0)          # and is printed on every page
        ws.set_landscape()
        ws.set_paper(9)            # A4
        ws.fit_to_pages(1, 0)      # fit to width, as many pages tall as needed
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        ws.center_horizontally()
        ws.set_footer("&C第 &P 页，共 &N 页")
        return ws

    def close(self) -> None:
        self.wb.close()
        os.chmod(self.path, 0o600)


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
def town_alerts(con, month: str) -> list[dict]:
    """Month M's alerts on the staff lists (not suppressed), with what the workbook adds."""
    cols = ["alert_id", "alert_type", "alert_name", "priority", "list_priority", "status", "first_month", "household_id",
            "head_name", "head_id_number", "town_code", "village_code", "household_size", "per_capita_income", "standard",
            "reason_text", "evidence", "action", "data_note", "due_date", "last_conclusion", "last_check_date", "overdue",
            "overdue_alert_id", "overdue_due_date", "member_id_number"]
    rows = con.sql(f"SELECT {', '.join(cols)} FROM months.alerts WHERE month = ? AND NOT coalesce(suppressed, false)",
                   params=[month]).fetchall()
    return [dict(zip(cols, r)) for r in rows]


def workbook_order(alerts: list[dict]) -> list[dict]:
    """The alerts of one household next to each other; households by their highest (list)
    priority, then village, then household id; within a household by priority, then type order."""
    ords = {a.alert_type: a.ord for a in alert_catalogue()}

    def rank(a):
        return PRIORITY_RANK.get(a["list_priority"] or a["priority"], 3)
    best: dict[tuple, int] = {}
    for a in alerts:
        k = (a["town_code"], a["household_id"])
        best[k] = min(best.get(k, 9), rank(a))
    return sorted(alerts, key=lambda a: (best[(a["town_code"], a["household_id"])], a["village_code"] or "", a["household_id"] or "",
                                         rank(a), ords.get(a["alert_type"], 99), a["member_id_number"] or ""))


def resolved_rows(con, month: str) -> list[dict]:
    cols = ["last_alert_id", "alert_type", "alert_name", "last_priority", "first_month", "last_alert_month", "household_id",
            "head_name", "head_id_number", "town_code", "village_code", "last_reason_text", "reason", "reason_code",
            "member_id_number"]
    if not con.sql("select count(*) from duckdb_tables() where schema_name = 'months' and table_name = 'resolved_alerts'").fetchall()[0][0]:
        return []
    ords = {a.alert_type: a.ord for a in alert_catalogue()}
    rows = [dict(zip(cols, r)) for r in con.sql(f"SELECT {', '.join(cols)} FROM months.resolved_alerts WHERE month = ?",
                                                params=[month]).fetchall()]
    return sorted(rows, key=lambda r: (r["town_code"] or "", r["village_code"] or "", r["household_id"] or "",
                                       ords.get(r["alert_type"], 99), r["member_id_number"] or ""))


def month_data_note(con, month: str) -> str:
    """The month's 数据说明 (alerts.data_note; sql/rules/05_coverage.sql), also for a month without alerts."""
    note = con.sql("SELECT any_value(data_note) FROM months.alerts WHERE month = ? AND data_note <> ''", params=[month]).fetchall()[0][0]
    if note:
        return note
    if not con.sql("select count(*) from duckdb_tables() where schema_name = 'months' and table_name = 'source_coverage'").fetchall()[0][0]:
        return ""
    return con.sql("""SELECT coalesce(string_agg(department || CASE coverage WHEN 'missing' THEN '本月未报送' ELSE '本月报送文件被拒收' END
                                                 || '：' || withheld_note, '；' ORDER BY source_order) || '。', '')
                      FROM months.source_coverage WHERE month = ? AND coverage <> 'delivered' AND counted""", params=[month]).fetchall()[0][0]


def answers_used(con, month: str) -> dict:
    """The answers M's outputs depend on: every stored answer for an alert of a month before M
    (count and SHA-256 of their canonical JSON lines, in disposition order), for the manifest. The
    time of the import is left out: the same answers give the same manifest whenever they were
    imported (a county rebuilt from its files reproduces every checksum)."""
    rows = con.sql("""SELECT disposition_id, month, alert_id, conclusion, CAST(check_date AS VARCHAR), sha256, row_number
                      FROM main.alert_dispositions WHERE month < ? ORDER BY disposition_id""", params=[month]).fetchall()
    h = hashlib.sha256()
    for r in rows:
        h.update((json.dumps(list(r), ensure_ascii=False) + "\n").encode("utf-8"))
    return {"count": len(rows), "sha256": h.hexdigest()}


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def loop_files_written(con, month: str, folder: Path, towns: dict, villages: dict, town_files: dict[str, str],
                       staff_row, mask, full_ids: bool, alerts: list[dict] | None = None, workbook_processes: int = 1):
    """workbooks/, county/overdue.csv|xlsx and resolved.csv of M into `folder`, every one written
    when the `with` block ends; it is given counts and the row count of every workbook (for the
    manifest). `town_files`: town code → file stem of its CSV (the workbook takes the same name);
    `staff_row(alert)` the CSV row of an alert (lim/publish/files.py); `mask(id)` masks an ID as
    the CSVs do (csv_out.mask_id with `full_ids`); `alerts`: town_alerts of M if the caller has
    them; `workbook_processes`: see town_workbooks_written — worker processes write the town
    workbooks while this process writes the other files and runs the caller's block."""
    alerts = town_alerts(con, month) if alerts is None else alerts
    resolved = resolved_rows(con, month)
    counts = dict(con.sql("""SELECT 'suppressed', count(*) FILTER (WHERE suppressed) FROM months.alerts WHERE month = ?""",
                          params=[month]).fetchall())
    suppressed_by_town = dict(con.sql("SELECT town_code, count(*) FROM months.alerts WHERE month = ? AND suppressed GROUP BY 1",
                                      params=[month]).fetchall())
    data_note = month_data_note(con, month)
    by_town: dict[str, list] = {t: [] for t in town_files}
    for a in workbook_order(alerts):
        by_town.setdefault(a["town_code"], []).append(a)
    resolved_by_town: dict[str, list] = {}
    for r in resolved:
        resolved_by_town.setdefault(r["town_code"], []).append(r)

    xlsx_rows, books = {}, []
    for town, stem in sorted(town_files.items()):
        rel = f"workbooks/{stem}.xlsx"
        alerts_of, resolved_of = by_town.get(town, []), resolved_by_town.get(town, [])
        # what a workbook reads, no more: it may be pickled to a worker process (a province's ~1,000
        # towns: the whole village table with each of them cost more than writing the books)
        books.append(TownBook(folder / rel, month, town, towns.get(town, town),
                              [{k: a[k] for k in BOOK_FIELDS} for a in alerts_of], [staff_row(a) for a in alerts_of],
                              resolved_of, suppressed_by_town.get(town, 0), data_note,
                              {r["town_code"]: towns[r["town_code"]] for r in resolved_of if r["town_code"] in towns},
                              {r["village_code"]: villages[r["village_code"]] for r in resolved_of if r["village_code"] in villages},
                              full_ids))
        xlsx_rows[rel] = len(alerts_of)
    with town_workbooks_written(books, workbook_processes):
        yield _other_loop_files(alerts, resolved, counts, xlsx_rows, folder, month, towns, villages, mask)


def _other_loop_files(alerts: list[dict], resolved: list[dict], counts: dict, xlsx_rows: dict, folder: Path, month: str,
                      towns: dict, villages: dict, mask) -> dict:
    """resolved.csv and county/overdue.csv|xlsx; the counts for loop_files_written."""
    res_rows = [resolved_row(r, towns, villages, mask) for r in resolved]
    write_csv(folder / "resolved.csv", RESOLVED_COLUMNS, res_rows)

    overdue = sorted((a for a in alerts if a["overdue"]),
                     key=lambda a: (a["town_code"] or "", a["village_code"] or "", a["household_id"] or "", a["alert_type"],
                                    a["member_id_number"] or ""))
    issued = issue_date(month)
    od_rows = [[towns.get(a["town_code"], a["town_code"]), villages.get(a["village_code"], a["village_code"]), a["alert_id"],
                a["alert_name"], a["priority"], a["list_priority"], a["status"], a["first_month"], a["household_id"],
                a["head_name"] or "", mask(a["head_id_number"]), a["overdue_alert_id"], _iso(a["overdue_due_date"]),
                (issued - _d(a["overdue_due_date"])).days if a["overdue_due_date"] else "",
                a["last_conclusion"] or "", _iso(a["last_check_date"])] for a in overdue]
    write_csv(folder / "county" / "overdue.csv", OVERDUE_COLUMNS, od_rows, numeric=OVERDUE_NUMERIC)
    book = _Book(folder / "county" / "overdue.xlsx", month, f"{month} 逾期未反馈预警（按乡镇）")
    ws = book.list_sheet("逾期清单", OVERDUE_COLUMNS)
    for i, r in enumerate(od_rows, start=1):
        for c, (h, v) in enumerate(zip(OVERDUE_COLUMNS, r)):
            kind = "date" if h in ("原办理时限", "上次核查日期") else ("number" if h in OVERDUE_NUMERIC else "text")
            book.cell(ws, i, c, v, kind=kind)
    if od_rows:
        ws.autofilter(0, 0, len(od_rows), len(OVERDUE_COLUMNS) - 1)
    book.close()
    xlsx_rows["county/overdue.xlsx"] = len(od_rows)
    return {"suppressed": counts.get("suppressed", 0) or 0, "overdue": len(od_rows), "resolved": len(res_rows),
            "xlsx_rows": xlsx_rows}


def resolved_row(r: dict, towns: dict, villages: dict, mask) -> list:
    return [r["last_alert_id"], r["alert_name"], r["last_priority"], r["first_month"], r["last_alert_month"], r["household_id"],
            r["head_name"] or "", mask(r["head_id_number"]), towns.get(r["town_code"], r["town_code"]),
            villages.get(r["village_code"], r["village_code"]), r["last_reason_text"] or "", r["reason"]]


def write_print_sheet(book: _Book, month: str, town_name: str, alerts: list[dict], staff_row) -> None:
    """The sheet 打印版: the list as a caseworker takes it on a household visit (PRINT_COLUMNS), a
    copy of 核查清单's rows for paper only — answers are entered in 核查清单, which is the sheet read
    back; this one is protected (no password) so that nobody types answers into it by mistake."""
    ws = book.sheet(PRINT_SHEET)
    bold, plain = ws.run_prefix(book.p_bold), ws.run_prefix(book.p_plain)
    widths = [w for _, w in PRINT_COLUMNS]
    for c, (h, w) in enumerate(PRINT_COLUMNS):
        ws.write_string(0, c, h, book.p_header)
        ws.set_column(c, c, w)
    ws.set_row(0, 2 * 12 + 4)
    issued = issue_date(month)

    def s(v) -> str:
        t = safe_cell(v)
        return "" if t is None else str(t)

    for i, a in enumerate(alerts, start=1):
        f = dict(zip(STAFF_COLUMNS, staff_row(a)))
        pri = f["优先级"] + "\n" + f["状态"] + ("\n逾期" if a["overdue"] else "")
        cells = [(s(f["预警编号"]), s(f["预警类型"])), pri, (s(f["户主姓名"]), s(f["户主身份证号"])), s(f["村(社区)"]),
                 f["家庭人口"], s(f["预警原因"]), s(f["建议措施"]), a["due_date"], s(a["last_conclusion"] or ""),
                 PRINT_TICKS, None, None, None, None]
        texts = []
        for c, v in enumerate(cells):
            if isinstance(v, tuple):
                first, second = v
                rich = xr.rich_cell(xr.ref(i, c), book.p_text._get_xf_index(), [(bold, first), (plain, "\n" + second)]) \
                    if first and second else None
                if rich is not None:
                    ws.put(i, c, rich)
                else:
                    book.cell(ws, i, c, first or second, book.p_text)
                texts.append(first + "\n" + second)
            elif c == 7:
                book.cell(ws, i, c, v, book.p_date_overdue if a["overdue"] else book.p_date, "date")
                texts.append("2026-01-01")
            elif c == 4:
                book.cell(ws, i, c, v, book.p_center, "number")
                texts.append(str(v or ""))
            elif c == 9:
                book.cell(ws, i, c, v, book.p_ticks)
                texts.append(v)
            elif v is None:
                book.blank(ws, i, c, book.p_box)
            else:
                book.cell(ws, i, c, v, book.p_center if c == 1 else book.p_text)
                texts.append(v)
        lines = print_row_lines(list(zip(texts + [""] * (len(widths) - len(texts)), widths)))
        ws.set_row(i, lines * 12 + 4)
    if not alerts:
        ws.merge_range(1, 0, 1, len(PRINT_COLUMNS) - 1, "本月本乡镇（街道）没有需要核查的预警。", book.p_text)
    n = max(len(alerts), 1)
    ws.print_area(0, 0, n, len(PRINT_COLUMNS) - 1)
    ws.repeat_rows(0)
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)          # a safety net: the widths fit the page at 100 % (PRINT_WIDTH_LIMIT)
    ws.set_margins(left=0.25, right=0.25, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.set_header(f"&L&\"宋体\"&B&11{town_name}　{month} 低收入人口动态监测预警核查清单（入户核查用）&B"
                  f"&R&\"宋体\"&9清单下发 {issued.isoformat()}　打印日期 &D")
    ws.set_footer("&L&\"宋体\"&9核查人签字：＿＿＿＿＿＿　核查结果请录入“核查清单”工作表后交回"
                  "&C&\"宋体\"&9第 &P 页，共 &N 页")
    ws.protect("", {"format_columns": True, "format_rows": True})


# A month with fewer alerts than this writes its town workbooks in the pipeline's own process (a
# county's few thousand rows: starting worker processes would cost more than it saves).
PARALLEL_MIN_ALERTS = 20_000
# the fields of an alert a town workbook reads besides its staff row (write_town_workbook, write_print_sheet)
BOOK_FIELDS = ("due_date", "last_check_date", "last_conclusion", "list_priority", "overdue", "priority", "status")


@dataclass(frozen=True)
class TownBook:
    """Everything one town's workbook is written from (picklable: a worker process writes it)."""
    path: Path
    month: str
    town: str
    town_name: str
    alerts: list[dict]        # BOOK_FIELDS of each alert
    rows: list[list]          # each alert's staff row (lim/publish/files.staff_row), in the order of `alerts`
    resolved: list[dict]
    suppressed: int
    data_note: str
    towns: dict               # the names of the towns and villages of `resolved`
    villages: dict
    full_ids: bool

    def write(self) -> None:
        rows = {id(a): r for a, r in zip(self.alerts, self.rows)}
        write_town_workbook(self.path, self.month, self.town, self.town_name, self.alerts, self.resolved, self.suppressed,
                            self.data_note, self.towns, self.villages, lambda a: rows[id(a)],
                            functools.partial(mask_id, full=self.full_ids))


@contextlib.contextmanager
def town_workbooks_written(books: list[TownBook], workers: int = 1, min_alerts: int | None = None):
    """Every town's workbook is written when the `with` block ends. With `workers` > 1 and at least
    `min_alerts` alerts, in that many worker processes (forked from the pipeline's forkserver,
    lim/core/processes.py), the biggest towns first, while this process runs the block (the other
    files of the month: bench/PERF.md change 21); otherwise here, before the block. XlsxWriter is
    pure Python (~65 % of a prefecture's publishing): the books are independent, and each is the
    same bytes whichever process writes it (tested). An error in a worker fails the step at the end
    of the block as it would in this process; an error in the block stops the workers (their
    half-written files are in the month's folder aside, which is never swapped into place); a
    pool that cannot start writes here."""
    min_alerts = PARALLEL_MIN_ALERTS if min_alerts is None else min_alerts
    pool = None
    if workers > 1 and len(books) > 1 and sum(len(b.alerts) for b in books) >= min_alerts:
        try:
            pool = processes.context().Pool(min(workers, len(books), os.cpu_count() or 1))
        except OSError:
            pass
    if pool is None:
        for b in books:
            b.write()
        yield
        return
    with pool:  # leaving it terminates the workers: after the books are written, or on an error
        written = pool.map_async(TownBook.write, sorted(books, key=lambda b: -len(b.alerts)), chunksize=1)
        yield
        written.get()


def write_town_workbook(path: Path, month: str, town: str, town_name: str, alerts: list[dict], resolved: list[dict],
                        suppressed: int, data_note: str, towns: dict, villages: dict, staff_row, mask) -> None:
    issued = issue_date(month)
    book = _Book(path, month, f"{town_name} {month} 预警核查清单")
    header = STAFF_COLUMNS + LOOP_COLUMNS + STAFF_INPUT_COLUMNS
    # --- 说明 -------------------------------------------------------------------------------------
    note = book.wb.add_worksheet(NOTE_SHEET)
    note.set_column(0, 0, 18)
    note.set_column(1, 1, 90)
    note.set_landscape()
    note.set_paper(9)
    note.fit_to_pages(1, 0)
    dues = sorted(_d(a["due_date"]) for a in alerts if a["due_date"])
    n_by = {p: sum(1 for a in alerts if (a["list_priority"] or a["priority"]) == p) for p in ("高", "中", "低")}
    n_new = sum(1 for a in alerts if a["status"] == "新增")
    n_overdue = sum(1 for a in alerts if a["overdue"])
    by_when = (f"请在各条预警的“办理时限”之前完成核查并交回（本清单最早 {dues[0].isoformat()}，最晚 {dues[-1].isoformat()}）。"
               "受灾预警须在 24 小时内核实（次日），死亡未停发须在下月发放名单确定前核实（5 天内），其他预警 30 天内。"
               if dues else "本月本乡镇（街道）没有需要核查的预警。")
    lines = [
        ("数据月份", month),
        ("乡镇（街道）", town_name),
        ("乡镇（街道）代码", town),
        ("清单下发日期", issued.isoformat()),
        ("预警总数", f"{len(alerts)} 条（高 {n_by['高']}、中 {n_by['中']}、低 {n_by['低']}；新增 {n_new}、持续 {len(alerts) - n_new}）"),
        ("逾期", f"{n_overdue} 条：上次下发的同一预警已过办理时限仍未反馈，优先级已上调一级，“办理时限”标红"),
        ("本月解除", f"{len(resolved)} 条，见“{RESOLVED_SHEET}”"),
        ("暂不列出", f"{suppressed} 条：上次核查结论为“不属实”且依据未变化的预警，本月不再列出；依据变化后会重新列出"),
        ("数据说明", data_note or "本月各部门数据齐全。"),
        ("办理时限", by_when),
        ("如何填写", "在“核查清单”每行右侧的五列填写：① 核查结论：从下拉列表选择 属实 / 不属实 / 已处理 / 无法核实；"
                     f"② 核查日期：实际核查的日期（{issued.isoformat()} 或之后，不晚于交回当天），格式 2026-07-05；"
                     "③ 核查人：填写了核查结论的必须填写；④ 处理措施；⑤ 备注。"),
        ("注意", "请勿修改“预警编号”列和本页的乡镇代码；可以排序、筛选、增加自己的列，可用 WPS 或 Excel 保存（.xlsx）。"
                 "未核查的行留空即可，不算错误。只填写本乡镇（街道）的预警。"),
        ("打印", f"入户核查请打印“{PRINT_SHEET}”工作表（A4 横向，每行一条预警，右侧五列留空供手写）；"
                 f"核查结果请录入“{LIST_SHEET}”工作表后交回，“{PRINT_SHEET}”只供打印，不会被导入。"),
        ("交回方式", "填好后将本文件（.xlsx）交回县民政局；也可交回含“预警编号”和上述五列的 CSV 文件。"
                     "县民政局导入后，下月清单会显示“上次核查结论”和“上次核查日期”。"),
    ]
    note.write_string(0, 0, f"{town_name} 低收入人口动态监测预警核查清单（{month}）", book.title)
    for i, (k, v) in enumerate(lines, start=2):
        note.write_string(i, 0, k, book.label)
        note.write_string(i, 1, str(safe_cell(v)), book.value)
    # --- 核查清单 ---------------------------------------------------------------------------------
    ws = book.list_sheet(LIST_SHEET, header, staff=set(STAFF_INPUT_COLUMNS))
    numeric = {"家庭人口", "人均月收入", "低保标准"}
    for i, a in enumerate(alerts, start=1):
        row = staff_row(a)
        for c, (h, v) in enumerate(zip(STAFF_COLUMNS, row)):
            book.cell(ws, i, c, v, book.wrap if h in WRAP else None, "number" if h in numeric else "text")
        c0 = len(STAFF_COLUMNS)
        book.cell(ws, i, c0, a["due_date"], book.date_overdue if a["overdue"] else book.date, "date")
        book.cell(ws, i, c0 + 1, a["last_conclusion"] or "")
        book.cell(ws, i, c0 + 2, a["last_check_date"], kind="date")
        for k, h in enumerate(STAFF_INPUT_COLUMNS):
            fmt = book.input_date if h == "核查日期" else (book.input_wrap if h in WRAP else book.input_text)
            book.blank(ws, i, c0 + 3 + k, fmt)
    n = len(alerts)
    if n:
        col = {h: i for i, h in enumerate(header)}
        ws.data_validation(1, col["核查结论"], n, col["核查结论"], {
            "validate": "list", "source": CONCLUSIONS, "ignore_blank": True,
            "input_title": "核查结论", "input_message": "请选择：属实 / 不属实 / 已处理 / 无法核实",
            "error_title": "核查结论", "error_message": "只能选择 属实、不属实、已处理 或 无法核实"})
        ws.data_validation(1, col["核查日期"], n, col["核查日期"], {
            "validate": "date", "criteria": ">=", "value": datetime(issued.year, issued.month, issued.day), "ignore_blank": True,
            "input_title": "核查日期", "input_message": f"实际核查日期，不早于 {issued.isoformat()}",
            "error_title": "核查日期", "error_message": f"请填写日期（不早于清单下发日 {issued.isoformat()}）"})
        ws.autofilter(0, 0, n, len(header) - 1)
    ws.set_header(f"&L&\"宋体\"&9{town_name}　{month} 预警核查清单（完整）"
                  f"&R&\"宋体\"&9入户核查请打印“{PRINT_SHEET}”工作表")
    # --- 打印版 -----------------------------------------------------------------------------------
    write_print_sheet(book, month, town_name, alerts, staff_row)
    # --- 解除清单 ---------------------------------------------------------------------------------
    rs = book.list_sheet(RESOLVED_SHEET, RESOLVED_COLUMNS)
    for i, r in enumerate(resolved, start=1):
        for c, (h, v) in enumerate(zip(RESOLVED_COLUMNS, resolved_row(r, towns, villages, mask))):
            book.cell(rs, i, c, v, book.wrap if h in WRAP else None)
    ws.activate()
    book.close()
