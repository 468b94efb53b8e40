"""Closing the loop with town staff, incoming side: the answers to month M's lists
(interface.md "Closing the loop with town staff", Feedback in).

    lim feedback --month M FILE...                      (pipelines/cli.py)
    <landing>/<M>/feedback/*.xlsx|*.csv                 the sensor starts the asset below

Reads returned town workbooks (the sheet 核查清单, found by its name — or the first sheet whose
header has 预警编号 —, the header row found by 预警编号 in its first rows, columns by their header:
staff may have sorted or filtered the list, added columns, saved it from WPS) and CSV files with
预警编号 and the five staff columns (UTF-8 with or without BOM, or GB18030). Each row is accepted or
quarantined with its file, row number and reasons:

    unknown_alert      预警编号 not in the warehouse
    other_month        预警编号 of another month's list
    other_town         a workbook row of another town than the file's (its 说明 sheet, else its name)
    invalid_conclusion 核查结论 outside 属实 / 不属实 / 已处理 / 无法核实 (or empty while other columns are filled)
    invalid_date       核查日期 empty or not a date
    date_before_issue  核查日期 before the list was issued (the first day of M+1)
    date_after_import  核查日期 after the day of the import
    missing_checker    核查人 empty where a conclusion is given

Rows with every staff column empty are skipped (not answered yet), not errors. Accepted rows go
to alert_dispositions with the key of their alert; nothing is ever deleted there (history). A file
whose SHA-256 was imported before for the same month adds nothing. A file that cannot be read at
all, or a month without published lists, stops the whole import before anything is written
(FeedbackError, one line: `lim feedback` exits 2).
"""
import csv
import getpass
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from lim.core.hashing import sha256_bytes, sha256_text
from lim.core.month import Month, MonthError
from lim.publish.loop import CONCLUSIONS, LIST_SHEET, NOTE_SHEET, STAFF_INPUT_COLUMNS, issue_date
from lim.warehouse import warehouse as wh

ID_COLUMN = "预警编号"
REQUIRED = [ID_COLUMN, "核查结论", "核查日期", "核查人"]   # 处理措施, 备注 may be left out
HEADER_SEARCH_ROWS = 10
FEEDBACK_EXTS = (".xlsx", ".xlsm", ".csv")
REASONS = {
    "unknown_alert": "预警编号不存在",
    "other_month": "不是本月清单的预警",
    "other_town": "不是本乡镇（街道）的预警",
    "invalid_conclusion": "核查结论不在列表中",
    "invalid_date": "核查日期无法识别",
    "date_before_issue": "核查日期早于清单下发日",
    "date_after_import": "核查日期晚于导入日",
    "missing_checker": "填写了核查结论但核查人为空",
}


class FeedbackError(RuntimeError):
    """The import cannot run (a file cannot be read at all, or M has no published lists): one line."""


@dataclass
class FeedbackFile:
    path: Path
    kind: str                      # xlsx / csv
    sha256: str
    town_code: str | None          # the town the workbook says it is for
    rows: list[tuple[int, dict]]   # (row number, header -> cell value)


@dataclass
class FileResult:
    file: str
    status: str                    # imported / duplicate
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    skipped: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------
def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, datetime):
        return v.date().isoformat() if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    return str(v).replace("\u3000", " ").strip()


def _header_index(rows: list[list], what: str) -> tuple[int, dict[str, int]]:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = [_text(c).replace(" ", "") for c in row]
        if ID_COLUMN in names:
            cols: dict[str, int] = {}
            for j, n in enumerate(names):
                cols.setdefault(n, j)
            missing = [c for c in REQUIRED if c not in cols]
            if missing:
                raise FeedbackError(f"{what}：表头缺少列 {'、'.join(missing)}（需要 {ID_COLUMN} 和 {'、'.join(STAFF_INPUT_COLUMNS)}）")
            return i, cols
    raise FeedbackError(f"{what}：前 {HEADER_SEARCH_ROWS} 行中没有含“{ID_COLUMN}”的表头，无法读取")


def _records(rows: list[list], header_at: int, cols: dict[str, int], first_row_number: int) -> list[tuple[int, dict]]:
    out = []
    wanted = [c for c in [ID_COLUMN, *STAFF_INPUT_COLUMNS] if c in cols]
    for k, row in enumerate(rows[header_at + 1:]):
        rec = {c: (row[cols[c]] if cols[c] < len(row) else None) for c in wanted}
        if all(_text(v) == "" for v in rec.values()):
            continue
        extra = {h: _text(row[j]) for h, j in cols.items() if h and h not in rec and j < len(row) and _text(row[j])}
        out.append((first_row_number + header_at + 1 + k, {**rec, "__raw__": {**{c: _text(v) for c, v in rec.items()}, **extra}}))
    return out


def read_feedback_file(path: Path, towns_by_name: dict[str, str] | None = None) -> FeedbackFile:
    """One returned file; FeedbackError (one line naming the file) if it cannot be read at all."""
    path = Path(path)
    what = f"反馈文件 {path}"
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FeedbackError(f"{what} 无法读取：{e.strerror}") from None
    sha = sha256_bytes(data)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_workbook(path, data, sha, what, towns_by_name or {})
    if suffix == ".csv":
        return _read_csv(path, data, sha, what)
    raise FeedbackError(f"{what}：只能导入 .xlsx 核查表或 .csv 文件（.xls/.et 请用 WPS 或 Excel 另存为 .xlsx）")


def _read_workbook(path: Path, data: bytes, sha: str, what: str, towns_by_name: dict[str, str]) -> FeedbackFile:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - zip, XML or openpyxl errors: the file is not a readable workbook
        raise FeedbackError(f"{what} 不是可读取的 .xlsx 工作簿（{type(e).__name__}）") from None
    try:
        sheets = {ws.title.strip(): ws for ws in wb.worksheets}
        candidates = [sheets[LIST_SHEET]] if LIST_SHEET in sheets else list(wb.worksheets)
        found = None
        for ws in candidates:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            try:
                found = (ws, rows, *_header_index(rows, f"{what} 工作表 {ws.title}"))
                break
            except FeedbackError:
                if ws.title.strip() == LIST_SHEET:
                    raise
        if found is None:
            raise FeedbackError(f"{what}：没有“{LIST_SHEET}”工作表，也没有含“{ID_COLUMN}”表头的工作表")
        ws, rows, header_at, cols = found
        town = _town_of_workbook(sheets.get(NOTE_SHEET), path, towns_by_name)
        return FeedbackFile(path, "xlsx", sha, town, _records(rows, header_at, cols, 1))
    finally:
        wb.close()


def _town_of_workbook(note, path: Path, towns_by_name: dict[str, str]) -> str | None:
    """The town a workbook is for: its 说明 sheet (乡镇（街道）代码, else the town's name), else its
    file name (<town_code>_...)."""
    if note is not None:
        code = name = None
        for row in note.iter_rows(max_row=40, values_only=True):
            label, value = (_text(row[0]) if row else ""), (_text(row[1]) if row and len(row) > 1 else "")
            if label.replace(" ", "") in ("乡镇（街道）代码", "乡镇(街道)代码") and re.fullmatch(r"\d{9}", value):
                code = value
            elif label.replace(" ", "") in ("乡镇（街道）", "乡镇(街道)") and value:
                name = value
        if code:
            return code
        if name and name in towns_by_name:
            return towns_by_name[name]
    m = re.match(r"(\d{9})(?!\d)", path.name)
    return m.group(1) if m else None


def _read_csv(path: Path, data: bytes, sha: str, what: str) -> FeedbackFile:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FeedbackError(f"{what} 的编码无法识别（请另存为 UTF-8 或 GBK 编码的 CSV）")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise FeedbackError(f"{what} 不是可读取的 CSV（{e}）") from None
    header_at, cols = _header_index(rows, what)
    return FeedbackFile(path, "csv", sha, None, _records(rows, header_at, cols, 1))


_DATE_PATTERNS = [re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?"),
                  re.compile(r"(\d{4})(\d{2})(\d{2})")]


def parse_date(v) -> date | None:
    """A 核查日期 as staff write it: a date cell, an Excel serial number, 2026-07-05, 2026/7/5,
    2026.7.5, 2026年7月5日, 20260705 (a time of day is ignored). None if it is none of these."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if 20000 < v < 80000:  # Excel's 1900 date system (a date cell saved without its format)
            return date(1899, 12, 30) + timedelta(days=int(v))
        v = str(int(v)) if float(v).is_integer() else str(v)
    text = _text(v)
    for pat in _DATE_PATTERNS:
        m = pat.fullmatch(text)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


# --------------------------------------------------------------------------------------------
# validating and storing
# --------------------------------------------------------------------------------------------
def published(con, month: str) -> bool:
    return month in wh.published_months(con, "alerts")


def import_feedback(con, month: str, paths: list, today: date | None = None, requested_by: str = "") -> list[FileResult]:
    """Import the answers to month M's lists from `paths`; FeedbackError before anything is
    written when M has no published lists or a file cannot be read at all."""
    try:
        month = Month.parse(month)
    except MonthError as e:
        raise FeedbackError(str(e)) from None
    if not paths:
        raise FeedbackError("没有指定要导入的反馈文件")
    if not published(con, month):
        raise FeedbackError(f"{month} 月没有已发布的预警清单（请先运行 lim run --month {month}），无法导入其核查反馈")
    towns_by_name = {n: c for c, n in con.sql("SELECT town_code, town_name FROM towns").fetchall()}
    files = [read_feedback_file(Path(p), towns_by_name) for p in paths]  # every file read before anything is written
    today = today or import_day()
    issued = issue_date(month)
    user = requested_by or _user()
    alerts = {r[0]: r[1:] for r in con.sql(
        """SELECT alert_id, household_source, household_id, alert_type, member_id_number, town_code
           FROM main.alerts WHERE month = ?""", params=[month]).fetchall()}
    base_time = datetime.now(timezone.utc).replace(tzinfo=None)
    results = []
    seen_in_call: set[str] = set()
    for i, f in enumerate(files):
        name = str(f.path)
        done = con.sql("SELECT min(imported_at) FROM feedback_imports WHERE month = ? AND sha256 = ?",
                       params=[month, f.sha256]).fetchall()[0][0]
        if done is not None or f.sha256 in seen_in_call:
            results.append(FileResult(name, "duplicate"))
            continue
        seen_in_call.add(f.sha256)
        imported_at = base_time + timedelta(microseconds=i)
        import_id = sha256_text(f"{month}|{f.sha256}")[:16]
        other_months = _other_months(con, month, [_alert_id(r) for _, r in f.rows if _alert_id(r) not in alerts])
        res = FileResult(name, "imported", rows_read=len(f.rows))
        accepted, quarantined = [], []
        for row_number, rec in f.rows:
            staff = {c: rec.get(c) for c in STAFF_INPUT_COLUMNS}
            if all(_text(v) == "" for v in staff.values()):
                res.skipped += 1
                continue
            aid = _alert_id(rec)
            problems = _check(aid, staff, alerts, other_months, f.town_code, month, issued, today)
            if problems:
                res.quarantined += 1
                res.problems.append((row_number, "；".join(text for _, text in problems)))
                quarantined.append([import_id, month, name, f.sha256, row_number, aid, problems[0][0],
                                    "；".join(text for _, text in problems),
                                    json.dumps(rec["__raw__"], ensure_ascii=False), imported_at])
                continue
            src, hid, typ, member, town = alerts[aid]
            res.accepted += 1
            accepted.append([sha256_text(f"{f.sha256}|{row_number}|{month}")[:16], import_id, month, aid,
                             src, hid, typ, member, town, _text(staff["核查结论"]), parse_date(staff["核查日期"]),
                             _text(staff["核查人"]), _text(staff.get("处理措施")) or None, _text(staff.get("备注")) or None,
                             name, row_number, f.sha256, imported_at])
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("INSERT INTO feedback_imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [import_id, month, name, f.sha256, imported_at, f.kind, f.town_code, res.rows_read, res.accepted,
                         res.quarantined, res.skipped, user])
            if accepted:
                con.executemany("INSERT INTO alert_dispositions VALUES (" + ", ".join("?" * 18) + ")", accepted)
            if quarantined:
                con.executemany("INSERT INTO feedback_quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", quarantined)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        results.append(res)
    return results


def import_day() -> date:
    """The day of the import where the county is (China Standard Time, like the schedule): a
    核查日期 of today in the county is never "after the day of the import" on a UTC machine."""
    try:
        from zoneinfo import ZoneInfo
        return datetime.now(ZoneInfo("Asia/Shanghai")).date()
    except Exception:  # noqa: BLE001 - no time zone data: the machine's own date
        return date.today()


def _alert_id(rec: dict) -> str:
    return _text(rec.get(ID_COLUMN)).replace(" ", "").upper()


def _other_months(con, month: str, ids: list[str]) -> dict[str, str]:
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    return dict(con.sql("SELECT alert_id, min(month) FROM main.alerts WHERE month <> ? AND list_contains(?, alert_id) GROUP BY 1",
                        params=[month, ids]).fetchall())


def _check(aid: str, staff: dict, alerts: dict, other_months: dict, file_town: str | None, month: str,
           issued: date, today: date) -> list[tuple[str, str]]:
    """The reasons a row cannot be accepted (code, text), in the order of interface.md; [] if none."""
    out = []
    if aid not in alerts:
        if aid in other_months:
            out.append(("other_month", f"预警编号 {aid} 是 {other_months[aid]} 月清单的预警，不是 {month} 月的"))
        else:
            out.append(("unknown_alert", f"预警编号“{aid}”不存在" if aid else "预警编号为空"))
    elif file_town and alerts[aid][4] != file_town:
        out.append(("other_town", f"预警编号 {aid} 属于乡镇（街道）{alerts[aid][4]}，不是本文件的 {file_town}"))
    conclusion = _text(staff.get("核查结论"))
    if conclusion not in CONCLUSIONS:
        out.append(("invalid_conclusion", f"核查结论“{conclusion}”不在 {'/'.join(CONCLUSIONS)} 之中" if conclusion
                    else f"核查结论为空（应为 {'/'.join(CONCLUSIONS)} 之一）"))
    raw_date = staff.get("核查日期")
    d = parse_date(raw_date)
    if d is None:
        if conclusion or _text(raw_date):
            out.append(("invalid_date", f"核查日期“{_text(raw_date)}”无法识别为日期" if _text(raw_date) else "核查日期为空"))
    elif d < issued:
        out.append(("date_before_issue", f"核查日期 {d.isoformat()} 早于清单下发日 {issued.isoformat()}"))
    elif d > today:
        out.append(("date_after_import", f"核查日期 {d.isoformat()} 晚于导入日 {today.isoformat()}"))
    if conclusion and not _text(staff.get("核查人")):
        out.append(("missing_checker", "填写了核查结论但核查人为空"))
    return out


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return "unknown"


def feedback_files(folder: Path) -> list[Path]:
    """The returned files in a feedback folder (not hidden, not Office lock files ~$…)."""
    if not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and p.suffix.lower() in FEEDBACK_EXTS and not p.name.startswith((".", "~$")))


def summary_lines(results: list[FileResult]) -> list[str]:
    lines = []
    for r in results:
        if r.status == "duplicate":
            lines.append(f"{r.file}：此前已导入过（SHA-256 相同），本次不再导入")
            continue
        lines.append(f"{r.file}：读取 {r.rows_read} 行，接受 {r.accepted} 行，隔离 {r.quarantined} 行，未填写跳过 {r.skipped} 行")
        lines += [f"  第 {n} 行：{why}" for n, why in r.problems]
    return lines
