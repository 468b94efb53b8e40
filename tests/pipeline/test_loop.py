"""Closing the loop with town staff (interface.md "Closing the loop with town staff"), through the
real pipeline and `lim feedback`: the scenario county of tests/scenario.py run for 2026-05, its
town workbooks filled as staff would (a sorted sheet, an added column, a CSV, two answers to one
key), imported, then 2026-06 and 2026-07 run: conclusions shown, 不属实 suppressed while the
evidence is unchanged (also across the raise of the standard in 2026-07) and back when it
changes, unanswered alerts 逾期, stopped alerts 解除; every quarantine reason of a returned row;
idempotent imports; the workbook's cells, drop-down, frozen header and print settings; reruns
byte-identical, workbooks included."""
from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest

from generator.feedback import fill_workbook
from pipelines import cli
from tests import scenario
from tests.conftest import TEST_POLICY
from tests.landing import write_month
from tests.runs import run_months
from tests.scenario import Household as H, P

M1, M2, M3 = "2026-05", "2026-06", "2026-07"
NUMERIC_HH = "00100200000136"   # a household number that spreadsheets like to turn into 1.002E+11
QC, TZ = "370322101_青城镇", "370322001_田镇街道"


def households() -> list[H]:
    return scenario.households() + [H(NUMERIC_HH, "civil_affairs", [P("19550101", "数十", labor="无")], benefit=1200)]


def tables_m3(hhs: list[H]) -> dict:
    """2026-07: the state of 2026-06 without its dated records; 王一's wage changes (1500 → 1450)."""
    t = scenario.tables_for(scenario.M, hhs)
    for s in ("health", "medical_insurance", "emergency"):
        t[s] = []
    for r in t["hr"]:
        if r["name"] == "王一":
            r["monthly_wage"] = 1450
    return t


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write_feedback_csv(path: Path, rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["预警编号", "核查结论", "核查日期", "核查人", "处理措施", "备注"])
        w.writerows(rows)
    return path


def alert_ids(warehouse: Path, month: str) -> dict[tuple[str, str], str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {(h, t): a for h, t, a in con.sql("select household_id, alert_type, alert_id from alerts where month = ?",
                                                 params=[month]).fetchall()}
    finally:
        con.close()


def sheet_rows(path: Path, sheet: str = "核查清单") -> list[dict]:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, [c.value for c in r])) for r in ws.iter_rows(min_row=2)]


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop")
    hhs = households()
    write_month(root / "landing", M1, scenario.tables_for(M1, hhs))
    write_month(root / "landing", M2, scenario.tables_for(M2, hhs))
    write_month(root / "landing", M3, tables_m3(hhs))
    env = run_months(root, [M1], policy=TEST_POLICY)
    ids = alert_ids(env["warehouse"], M1)
    fb = root / "feedback"
    answers = {ids[("RR-W1", "DIBAO_OMISSION")]: ("不属实", datetime(2026, 6, 5), "张伟", "入户核实：收入与数据不符", None),
               ids[("RR-S-1", "DIBAO_OMISSION")]: ("不属实", "2026/6/6", "张伟", None, None),
               ids[("CA-DEAD", "DECEASED_RECIPIENT")]: ("属实", datetime(2026, 6, 3), "王芳", "已办理停发", None),
               ids[("CA-18", "TEKUN_CANDIDATE")]: ("已处理", datetime(2026, 6, 4), "王芳", None, "已按特困审核")}
    files = [fill_workbook(env["out"] / M1 / "workbooks" / f"{QC}.xlsx", fb / f"{QC}（已核查）.xlsx", answers,
                           sort=True, add_column=True),
             # a CSV of another town, and a later answer (latest 核查日期) for CA-DEAD
             write_feedback_csv(fb / "田镇街道.csv", [[ids[("CA-STU", "ZERO_EMPLOYMENT")], "无法核实", "2026-06-10", "刘洋", "", ""],
                                                   [ids[("CA-DEAD", "DECEASED_RECIPIENT")], "已处理", "2026-06-20", "王芳", "已追回", ""]]),
             # imported later but with an earlier 核查日期: does not count
             write_feedback_csv(fb / "补充.csv", [[ids[("CA-DEAD", "DECEASED_RECIPIENT")], "属实", "2026-06-02", "王芳", "", ""]])]
    rc = cli.main(["feedback", "--month", M1, "--warehouse", str(env["warehouse"]), *map(str, files)])
    assert rc == 0
    run_months(root, [M2, M3], policy=TEST_POLICY)
    yield {"root": root, "ids1": ids, **env}
    shutil.rmtree(root, ignore_errors=True)


def _con(loop):
    return duckdb.connect(str(loop["warehouse"]), read_only=True)


def test_feedback_import_stored_with_history(loop):
    con = _con(loop)
    rows = con.sql("select file, sha256, imported_at, conclusion, check_date from alert_dispositions where month = ? order by file",
                   params=[M1]).fetchall()
    con.close()
    assert len(rows) == 7
    assert all(r[1] and r[2] for r in rows)
    assert {Path(r[0]).name for r in rows} == {f"{QC}（已核查）.xlsx", "田镇街道.csv", "补充.csv"}


def test_conclusions_shown_on_next_month(loop):
    rows = {(r["家庭编号"], r["预警类型"]): r for r in sheet_rows(loop["out"] / M2 / "workbooks" / f"{QC}.xlsx")}
    dead = rows[("CA-DEAD", "死亡未停发")]
    assert dead["上次核查结论"] == "已处理" and dead["上次核查日期"] == datetime(2026, 6, 20)  # latest date wins
    assert all(dead[c] is None for c in ("核查结论", "核查日期", "核查人", "处理措施", "备注"))
    con = _con(loop)
    got = con.sql("select last_conclusion, last_check_date, overdue from alerts where month = ? and household_id = 'CA-DEAD'",
                  params=[M2]).fetchall()
    con.close()
    assert got == [("已处理", date(2026, 6, 20), False)]  # answered: not overdue


def test_not_true_suppressed_while_evidence_unchanged(loop):
    con = _con(loop)
    q = "select month, suppressed, status, first_month, last_conclusion from alerts where household_id = ? and alert_type = 'DIBAO_OMISSION' order by month"
    w1 = con.sql(q, params=["RR-W1"]).fetchall()
    s1 = con.sql(q, params=["RR-S-1"]).fetchall()
    fp = con.sql("select month, evidence_fingerprint from alerts where household_id = 'RR-S-1' and alert_type = 'DIBAO_OMISSION' order by month").fetchall()
    con.close()
    # 2026-06: same evidence → suppressed, still counted as raised (持续, first month kept)
    assert w1[1] == (M2, True, "持续", M1, "不属实")
    # 2026-07: 王一's wage changed → back on the lists, 持续 across the suppressed month
    assert w1[2] == (M3, False, "持续", M1, "不属实")
    # RR-S-1: unchanged facts; the standard rose in 2026-07 (800 → 850): still suppressed
    assert s1[1][1] is True and s1[2][1] is True and fp[0][1] == fp[1][1] == fp[2][1]
    for month, listed in ((M2, False), (M3, True)):
        folder = loop["out"] / month
        for rows in (read_csv(folder / "alerts_all.csv"), read_csv(folder / "alerts" / f"{QC}.csv"),
                     sheet_rows(folder / "workbooks" / f"{QC}.xlsx")):
            hh = {r["家庭编号"] for r in rows if r["预警类型"] == "疑似漏保（低保）"}
            assert ("RR-W1" in hh) is listed, month
            assert "RR-S-1" not in hh


def test_report_shows_answers_overdue_and_confirmed_share(loop):
    report = (loop["out"] / M2 / "report.html").read_text(encoding="utf-8")
    section = report[report.index("<section id='loop'>"):]
    section = section[:section.index("</section>")]
    con = _con(loop)
    issued = dict(con.sql("select town_code, count(*) from alerts where month = ? group by 1", params=[M1]).fetchall())
    overdue = con.sql("select count(*) from alerts where month = ? and town_code = '370322101' and overdue", params=[M2]).fetchall()[0][0]
    con.close()
    row = re.search(r"<tr><td>青城镇</td><td>370322101</td>(.*?)</tr>", section).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    # issued, answered (RR-W1, RR-S-1, CA-DEAD, CA-18), share, median of the days from 2026-06-01 to the
    # first 核查日期 (4, 5, 1, 3 → 3.5), overdue, suppressed (RR-W1, RR-S-1)
    assert cells == [str(issued["370322101"]), "4", f"{4 / issued['370322101'] * 100:.1f}%", "3.5", str(overdue), "2"]
    dead = re.findall(r"<td[^>]*>(.*?)</td>", re.search(r"<tr><td>死亡未停发</td>(.*?)</tr>", section).group(1))
    assert (dead[2], dead[5], dead[6]) == ("1", "0", "0.0%")  # answered; the answer that counts is 已处理, not 属实
    assert section.count("<svg") == 2 and "属实比例" in section


def test_unanswered_past_due_is_overdue(loop):
    folder = loop["out"] / M2
    overdue = read_csv(folder / "county" / "overdue.csv")
    keys = {(r["家庭编号"], r["预警类型"]) for r in overdue}
    assert ("CA-17", "疑似特困") in keys and ("CA-ZE", "零就业家庭") in keys
    assert ("CA-DEAD", "死亡未停发") not in keys and ("RR-W1", "疑似漏保（低保）") not in keys
    assert len(keys) == len(overdue), "each overdue key once"
    ze = next(r for r in overdue if r["家庭编号"] == "CA-ZE")
    assert ze["规则优先级"] == "低" and ze["名单优先级"] == "中" and ze["原办理时限"] == "2026-06-30" and ze["逾期天数"] == "1"
    assert ze["未反馈的预警编号"] == loop["ids1"][("CA-ZE", "ZERO_EMPLOYMENT")]
    town = {r["家庭编号"]: r for r in read_csv(folder / "alerts" / f"{TZ}.csv") if r["预警类型"] == "零就业家庭"}
    assert town["CA-ZE"]["优先级"] == "中"  # one level up on the town list
    con = _con(loop)
    assert con.sql("select priority, list_priority, overdue from alerts where month = ? and household_id = 'CA-ZE'",
                   params=[M2]).fetchall() == [("低", "中", True)]  # the warehouse keeps the rule's priority
    con.close()
    assert openpyxl.load_workbook(folder / "county" / "overdue.xlsx").active.max_row == len(overdue) + 1
    # 2026-05's 30-day due date of an alert first raised in 2026-06 is not reached yet in 2026-06
    assert ("REG-DIS", "受灾") not in keys


def test_stopped_alert_is_resolved(loop):
    folder = loop["out"] / M2
    resolved = {(r["家庭编号"], r["预警类型"]): r for r in read_csv(folder / "resolved.csv")}
    assert resolved[("CA-18", "疑似特困")]["解除原因"] == "认定类别由“特困”变为“低保”"
    assert resolved[("CA-STU", "零就业家庭")]["解除原因"] == "预警条件本月不再成立"
    assert resolved[("CA-18", "疑似特困")]["预警编号"] == loop["ids1"][("CA-18", "TEKUN_CANDIDATE")]
    sheet = {(r["家庭编号"], r["预警类型"]) for r in sheet_rows(folder / "workbooks" / f"{QC}.xlsx", "解除清单")}
    assert ("CA-18", "疑似特困") in sheet and ("CA-STU", "零就业家庭") not in sheet  # per town
    assert ("CA-STU", "零就业家庭") in {(r["家庭编号"], r["预警类型"]) for r in sheet_rows(folder / "workbooks" / f"{TZ}.xlsx", "解除清单")}
    # suppressed keys count as raised: RR-W1 was not resolved in 2026-06
    assert ("RR-W1", "疑似漏保（低保）") not in resolved


def test_manifest_records_answers(loop):
    m1 = json.loads((loop["out"] / M1 / "manifest.json").read_text(encoding="utf-8"))
    m2 = json.loads((loop["out"] / M2 / "manifest.json").read_text(encoding="utf-8"))
    assert m1["answers"]["count"] == 0 and m2["answers"]["count"] == 7
    assert re.fullmatch(r"[0-9a-f]{64}", m2["answers"]["sha256"])
    listed = {o["path"]: o for o in m2["outputs"]}
    assert {f"workbooks/{QC}.xlsx", "county/overdue.csv", "county/overdue.xlsx", "resolved.csv"} <= set(listed)
    assert listed[f"workbooks/{QC}.xlsx"]["rows"] == len(sheet_rows(loop["out"] / M2 / "workbooks" / f"{QC}.xlsx"))


def test_rerun_byte_identical_with_workbooks(loop, tmp_path, monkeypatch):
    """The rerun writes its town workbooks in two worker processes (the first run wrote them in its
    own process, as a county month does): the same bytes either way."""
    from lim.core import processes
    from lim.publish import loop as loop_files

    before = {o["path"]: o["sha256"] for o in json.loads((loop["out"] / M2 / "manifest.json").read_text())["outputs"]}
    root = tmp_path / "rerun"
    shutil.copytree(loop["root"], root, ignore=shutil.ignore_patterns("*.wal"))
    pools = []
    ctx = processes.context()  # the context object town_workbooks_written gets (one per process)
    real_pool = ctx.Pool
    monkeypatch.setattr(ctx, "Pool", lambda n: pools.append(n) or real_pool(n), raising=False)  # a spy: the real pool
    monkeypatch.setattr(loop_files, "PARALLEL_MIN_ALERTS", 0)
    monkeypatch.setenv("LIM_PUBLISH_PROCESSES", "2")
    env = run_months(root, [M2], landing=root / "landing", policy=TEST_POLICY)
    after = {o["path"]: o["sha256"] for o in json.loads((env["out"] / M2 / "manifest.json").read_text())["outputs"]}
    assert pools == [2]
    assert after == before
    assert any(p.startswith("workbooks/") for p in after)


def test_town_workbook_cells_validation_and_print_setup(loop):
    path = loop["out"] / M2 / "workbooks" / f"{QC}.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["说明", "核查清单", "打印版", "解除清单"]
    ws = wb["核查清单"]
    header = [c.value for c in ws[1]]
    assert header[:17] == ["预警编号", "预警类型", "优先级", "状态", "首次预警月份", "家庭编号", "户主姓名", "户主身份证号",
                           "乡镇(街道)", "村(社区)", "家庭人口", "人均月收入", "低保标准", "预警原因", "依据", "建议措施", "数据说明"]
    assert header[17:] == ["办理时限", "上次核查结论", "上次核查日期", "核查结论", "核查日期", "核查人", "处理措施", "备注"]
    col = {h: i + 1 for i, h in enumerate(header)}
    n = ws.max_row - 1
    numeric_rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, col["家庭编号"]).value == NUMERIC_HH]
    assert numeric_rows, "the household 00100200000136 keeps its zeros"
    for r in range(2, ws.max_row + 1):
        hh, pid = ws.cell(r, col["家庭编号"]), ws.cell(r, col["户主身份证号"])
        assert hh.data_type == "s" and hh.number_format == "@"
        assert pid.data_type == "s" and re.fullmatch(r"\d{6}\*{8}[\dX]{4}", pid.value)
        assert isinstance(ws.cell(r, col["办理时限"]).value, datetime)
        assert ws.cell(r, col["核查日期"]).number_format == "yyyy-mm-dd"
    # households together, ordered by their highest priority, then village, then household id
    seq = [ws.cell(r, col["家庭编号"]).value for r in range(2, ws.max_row + 1)]
    assert all(seq.index(h) + seq.count(h) - 1 == max(i for i, x in enumerate(seq) if x == h) for h in set(seq))
    dvs = {dv.type: dv for dv in ws.data_validations.dataValidation}
    assert dvs["list"].formula1 == '"属实,不属实,已处理,无法核实"'
    letter = openpyxl.utils.get_column_letter
    assert str(dvs["list"].sqref) == f"{letter(col['核查结论'])}2:{letter(col['核查结论'])}{n + 1}"
    assert str(dvs["date"].sqref) == f"{letter(col['核查日期'])}2:{letter(col['核查日期'])}{n + 1}"
    assert ws.freeze_panes == "A2"
    assert ws.print_title_rows in ("$1:$1", "1:1")
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.fitToHeight) == 0
    assert ws.page_setup.fitToWidth in (None, 1, "1")
    assert "打印版" in ws.oddHeader.right.text
    # 打印版: what a caseworker takes on a household visit, printed at 100 % on A4 landscape
    from lim.publish.loop import PRINT_COLUMNS, PRINT_FONT_PT, PRINT_WIDTH_LIMIT
    pr = wb["打印版"]
    assert [c.value for c in pr[1]] == ["预警编号\n预警类型", "优先级\n状态", "户主姓名\n身份证号", "村(社区)", "家庭\n人口", "预警原因",
                                        "建议措施", "办理时限", "上次核查\n结论", "核查结论", "核查日期", "核查人", "处理措施", "备注"]
    assert pr.max_row == ws.max_row and pr.print_area in ("'打印版'!$A$1:$N$%d" % ws.max_row, "打印版!$A$1:$N$%d" % ws.max_row)
    assert pr.print_title_rows in ("$1:$1", "1:1") and pr.freeze_panes == "A2"
    assert pr.page_setup.orientation == "landscape" and int(pr.page_setup.paperSize) == 9
    assert pr.sheet_properties.pageSetUpPr.fitToPage and int(pr.page_setup.fitToHeight) == 0
    assert pr.page_setup.fitToWidth in (None, 1, "1")
    by_col = {c: d.width for d in pr.column_dimensions.values() for c in range(d.min, d.max + 1)}   # <col min max> ranges
    widths = [by_col[c] for c in range(1, 15)]
    # stored widths carry the 5 px cell padding (7w + 5 px, whole pixels); at 7 px a unit they fit the printable width
    # of A4 landscape with 0.25" margins (1074 px at 96 dpi) at 100 % — fit to width never shrinks it,
    # so the 9 pt text prints at 9 pt
    assert len(widths) == len(PRINT_COLUMNS) and all(abs(s * 7 - (w * 7 + 5)) <= 1 for s, (_, w) in zip(widths, PRINT_COLUMNS))
    assert sum(widths) * 7 <= 1074 and sum(w for _, w in PRINT_COLUMNS) <= PRINT_WIDTH_LIMIT and PRINT_FONT_PT >= 9
    assert pr.page_margins.left == pr.page_margins.right == 0.25 and pr.print_options.horizontalCentered
    assert "青城镇　2026-06 低收入人口动态监测预警核查清单" in pr.oddHeader.left.text and "清单下发 2026-07-01" in pr.oddHeader.right.text
    assert pr.oddFooter.center.text == "第 &P 页，共 &N 页" and "核查清单" in pr.oddFooter.left.text
    assert pr.protection.sheet
    for r in range(2, pr.max_row + 1):
        src = {h: ws.cell(r, col[h]).value for h in col}
        assert str(pr.cell(r, 1).value).split("\n") == [src["预警编号"], src["预警类型"]]
        assert str(pr.cell(r, 3).value).split("\n") == [src["户主姓名"], src["户主身份证号"]]
        assert pr.cell(r, 6).value == src["预警原因"] and pr.cell(r, 7).value == src["建议措施"]
        assert pr.cell(r, 8).value == src["办理时限"] and pr.cell(r, 8).number_format == "yyyy-mm-dd"
        assert pr.cell(r, 10).value == "□属实\n□不属实\n□已处理\n□无法核实"
        assert all(pr.cell(r, c).value is None and pr.cell(r, c).border.left.style for c in range(11, 15))
        assert pr.cell(r, 6).alignment.wrap_text and pr.cell(r, 6).font.sz == PRINT_FONT_PT
        assert pr.row_dimensions[r].height >= 4 * 12      # the four answers to tick, at least
    note = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True) if r[0]}
    assert "打印版" in note["打印"]
    assert note["数据月份"] == M2 and note["乡镇（街道）"] == "青城镇" and note["乡镇（街道）代码"] == "370322101"
    assert note["数据说明"] == "本月各部门数据齐全。" and "办理时限" in note and "2026-07-01" in note["如何填写"]
    assert wb.properties.created == datetime(2026, 7, 1)


def test_workbook_text_cells_are_formula_safe(tmp_path):
    from lim.publish.loop import write_town_workbook

    alert = {"alert_id": "YJ1", "alert_name": "疑似特困", "priority": "高", "list_priority": "高", "status": "新增", "first_month": M2,
             "household_id": "=1+2", "head_name": "+SUM(A1)", "head_id_number": "370322195501010011", "town_code": "370322101",
             "village_code": "370322101201", "household_size": 1, "per_capita_income": 0, "standard": 800,
             "reason_text": "@cmd", "evidence": "-2+3", "action": "=HYPERLINK(\"http://x\")", "data_note": "", "due_date": date(2026, 7, 30),
             "last_conclusion": None, "last_check_date": None, "overdue": False, "member_id_number": None, "alert_type": "TEKUN_CANDIDATE"}
    from lim.publish.files import staff_row
    path = tmp_path / "w.xlsx"
    write_town_workbook(path, M2, "370322101", "青城镇", [alert], [], 0, "", {}, {},
                        lambda a: staff_row(a, {}, {}, False), lambda i: i)
    ws = openpyxl.load_workbook(path)["核查清单"]
    texts = [c for c in ws[2] if isinstance(c.value, str)]
    assert texts and all(c.data_type == "s" and not c.value.startswith(("=", "+", "-", "@")) for c in texts)
    assert ws.cell(2, 6).value == "'=1+2"
    pr = openpyxl.load_workbook(path)["打印版"]
    assert pr.cell(2, 3).value == "'+SUM(A1)\n370322********0011" and pr.cell(2, 6).value == "'@cmd"


def test_workbook_text_cells_cannot_inject_markup(tmp_path):
    """XlsxWriter writes a string shaped `<r>…</r>` into the workbook's XML unescaped (a rich string):
    a cell so shaped gets the leading ' (csv_out.safe_cell) and is read back as the text it was."""
    from lim.publish.files import staff_row
    from lim.publish.loop import write_town_workbook

    from openpyxl.cell.rich_text import CellRichText

    markup = "<r><rPr><b/></rPr><t>核查结论：属实</t></r>"
    alert = {"alert_id": "YJ1", "alert_name": "疑似特困", "priority": "高", "list_priority": "高", "status": "新增", "first_month": M2,
             "household_id": "H1", "head_name": "张三", "head_id_number": "370322195501010011", "town_code": "370322101",
             "village_code": "370322101201", "household_size": 1, "per_capita_income": 0, "standard": 800,
             "reason_text": markup, "evidence": markup, "action": markup, "data_note": "", "due_date": date(2026, 7, 30),
             "last_conclusion": None, "last_check_date": None, "overdue": False, "member_id_number": None, "alert_type": "TEKUN_CANDIDATE"}
    path = tmp_path / "w.xlsx"
    write_town_workbook(path, M2, "370322101", "青城镇", [alert], [], 0, "", {}, {},
                        lambda a: staff_row(a, {}, {}, False), lambda i: i)
    for sheet in ("核查清单", "打印版"):
        values = [c.value for row in openpyxl.load_workbook(path, rich_text=True)[sheet].iter_rows() for c in row]
        assert "'" + markup in values, (sheet, [v for v in values if isinstance(v, str) and "属实" in v])
        assert not any(isinstance(v, CellRichText) and "核查结论：属实" in str(v) for v in values), sheet


def test_print_sheet_without_alerts_and_row_lines(tmp_path):
    from lim.publish.loop import print_row_lines, write_town_workbook

    path = tmp_path / "w.xlsx"
    write_town_workbook(path, M2, "370322101", "青城镇", [], [], 0, "", {}, {}, lambda a: [], lambda i: i)
    pr = openpyxl.load_workbook(path)["打印版"]
    assert pr.cell(2, 1).value == "本月本乡镇（街道）没有需要核查的预警。" and pr.print_area.endswith("$A$1:$N$2")
    # one em a CJK character, half an em ASCII; runs of ASCII are not broken
    assert print_row_lines([("高\n新增", 5.5), ("", 10)]) == 2
    assert print_row_lines([("低保" * 20, 10)]) == 8            # 40 ems, 5 to a line of width 10 (9 pt: 12 px an em)
    assert print_row_lines([("YJ202607-0AFDF0DE", 15)]) == 2    # 102 px in 99 px
    assert print_row_lines([("YJ202607-0AFDF0DE", 16)]) == 1


def test_every_quarantine_reason_and_idempotent_import(loop, tmp_path):
    from lim.publish.feedback import import_feedback
    from lim.warehouse import warehouse as wh

    ids2, ids3 = alert_ids(loop["warehouse"], M2), alert_ids(loop["warehouse"], M3)
    qc = [k for k in ids3 if k[0].startswith(("CA-T70", "CA-A", "CA-2S", "RR-S0", "RR-15"))]
    assert len(qc) >= 6
    ok = (ids3[qc[0]], "属实", datetime(2026, 8, 3), "赵敏", None, None)
    rows = {ids3[qc[1]]: ("属实吧", datetime(2026, 8, 3), "赵敏", None, None),             # conclusion outside the list
            ids3[qc[2]]: ("属实", "下周", "赵敏", None, None),                            # not a date
            ids3[qc[3]]: ("不属实", datetime(2026, 7, 20), "赵敏", None, None),           # before the list was issued
            ids3[qc[4]]: ("已处理", datetime(2026, 9, 2), "赵敏", None, None),            # after the day of the import
            ids3[qc[5]]: ("无法核实", datetime(2026, 8, 3), None, None, "人不在"),         # no 核查人
            ok[0]: ok[1:]}
    extra = [("YJ202607-DEADBEEF", "属实", datetime(2026, 8, 3), "赵敏", None, None),              # unknown
             (ids2[("CA-17", "TEKUN_CANDIDATE")], "属实", datetime(2026, 8, 3), "赵敏", None, None),  # another month's
             (ids3[("CA-ZE", "ZERO_EMPLOYMENT")], "属实", datetime(2026, 8, 3), "赵敏", None, None)]  # another town's
    book = fill_workbook(loop["out"] / M3 / "workbooks" / f"{QC}.xlsx", tmp_path / f"{QC}.xlsx", rows, sort=True,
                         add_column=True, extra_rows=extra)
    con = wh.connect(str(loop["warehouse"]))
    try:
        res = import_feedback(con, M3, [book], today=date(2026, 9, 1))[0]
        listed = len(sheet_rows(loop["out"] / M3 / "workbooks" / f"{QC}.xlsx"))
        assert (res.accepted, res.quarantined, res.skipped) == (1, 8, listed - 6)
        codes = dict(con.sql("select reason_code, count(*) from feedback_quarantine where month = ? group by 1", params=[M3]).fetchall())
        assert codes == {c: 1 for c in ("unknown_alert", "other_month", "other_town", "invalid_conclusion", "invalid_date",
                                        "date_before_issue", "date_after_import", "missing_checker")}
        rn = con.sql("select row_number, reason from feedback_quarantine where reason_code = 'missing_checker'").fetchall()[0]
        assert rn[0] >= 2 and "核查人" in rn[1]
        before = con.sql("select * from alert_dispositions order by all").fetchall()
        again = import_feedback(con, M3, [book], today=date(2026, 9, 1))
        assert again[0].status == "duplicate"
        assert con.sql("select * from alert_dispositions order by all").fetchall() == before
        assert con.sql("select count(*) from feedback_imports where month = ?", params=[M3]).fetchall()[0][0] == 1
        # a CSV: every staff column empty is skipped; an unknown 预警编号 quarantined
        res = import_feedback(con, M3, [write_feedback_csv(tmp_path / "x.csv", [[ids3[qc[1]], "", "", "", "", ""],
                                                                                 ["YJ000000-00000000", "属实", "2026-08-05", "赵敏", "", ""]])],
                              today=date(2026, 9, 1))[0]
        assert (res.accepted, res.quarantined, res.skipped) == (0, 1, 1)
    finally:
        con.close()


def test_feedback_exit_2_with_one_line(loop, tmp_path, capsys):
    wh_path = str(loop["warehouse"])
    good = write_feedback_csv(tmp_path / "ok.csv", [])
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"this is not a workbook")
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("预警编号,备注\nYJ1,x\n", encoding="utf-8")
    con = _con(loop)
    n = con.sql("select count(*) from feedback_imports").fetchall()[0][0]
    con.close()
    for month, files, what in (("2026-09", [good], "没有已发布的预警清单"), (M3, [good, bad], "坏文件.xlsx"),
                               (M3, [nocol], "缺少列")):
        assert cli.main(["feedback", "--month", month, "--warehouse", wh_path, *map(str, files)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and what in err, err
    con = _con(loop)
    assert con.sql("select count(*) from feedback_imports").fetchall()[0][0] == n  # nothing imported
    con.close()
    assert cli.main(["feedback", "--month", M3, "--warehouse", wh_path, str(good)]) == 0


def test_feedback_sensor_and_asset(loop, tmp_path):
    from assets.feedback import alert_feedback
    from assets.resources import LandingResource, WarehouseResource
    from pipelines.sensors import feedback_sensor

    landing = tmp_path / "landing"
    folder = landing / M3 / "feedback"
    folder.mkdir(parents=True)
    ids3 = alert_ids(loop["warehouse"], M3)
    write_feedback_csv(folder / "回执.csv", [[ids3[("CA-T70", "REVIEW_DUE")], "已处理", "2026-08-06", "黄强", "已复核", ""]])
    (folder / "~$回执.xlsx").write_bytes(b"lock file of an open workbook")
    ctx = dg.build_sensor_context(resources={"landing": LandingResource(root=str(landing))})
    requests = list(feedback_sensor(ctx))
    assert [r.partition_key for r in requests] == [M3]
    result = dg.materialize([alert_feedback], partition_key=M3, instance=dg.DagsterInstance.ephemeral(),
                            resources={"landing": LandingResource(root=str(landing)),
                                       "warehouse": WarehouseResource(path=str(loop["warehouse"])),
                                       # the guard of every asset checks the run's locations (assets/guard.py)
                                       "staging": loop["resources"]["staging"], "output": loop["resources"]["output"]})
    assert result.success
    con = _con(loop)
    assert con.sql("select conclusion, checker_name from alert_dispositions where alert_id = ?",
                   params=[ids3[("CA-T70", "REVIEW_DUE")]]).fetchall() == [("已处理", "黄强")]
    con.close()


def test_response_days_from_the_policy(tmp_path):
    from lim.rules.build import load_month_parameters
    from lim.core.policy import PolicyError, load_policy

    text = Path(TEST_POLICY).read_text(encoding="utf-8")
    first = text.index("      - effective_from: \"2026-07\"")
    with_days = text[:first] + "        response_days:\n          DISASTER_AFFECTED: 2\n          REVIEW_DUE: 0\n" + text[first:]
    p = tmp_path / "policy.yaml"
    p.write_text(with_days, encoding="utf-8")
    pol = load_policy(p)
    periods = pol.counties["370322"].periods
    assert periods[0]["response_days"]["DISASTER_AFFECTED"] == 2 and periods[0]["response_days"]["REVIEW_DUE"] == 0
    assert periods[0]["response_days"]["DECEASED_RECIPIENT"] == 5 and periods[0]["response_days"]["TEKUN_CANDIDATE"] == 30
    assert periods[1]["response_days"]["DISASTER_AFFECTED"] == 1, "not carried over to the next period"
    con = duckdb.connect()
    con.execute("CREATE SCHEMA months")
    load_month_parameters(con, "2026-06", pol)
    got = dict(con.sql("select name, value from months.month_parameters where name like 'response_days.%'").fetchall())
    assert got["response_days.DISASTER_AFFECTED"] == 2 and len(got) == 18
    for bad, what in (("          FLOOD: 3\n", "FLOOD"), ("          REVIEW_DUE: -1\n", "REVIEW_DUE"),
                      ("          REVIEW_DUE: 2.5\n", "REVIEW_DUE")):
        p.write_text(text[:first] + "        response_days:\n" + bad + text[first:], encoding="utf-8")
        with pytest.raises(PolicyError) as e:
            load_policy(p)
        assert "370322" in str(e.value) and "2025-07" in str(e.value) and what in str(e.value)


def test_due_dates_by_type(loop):
    con = _con(loop)
    due = dict(con.sql("select household_id || '/' || alert_type, due_date from alerts where month = ?", params=[M2]).fetchall())
    con.close()
    assert due["CA-DEAD/DECEASED_RECIPIENT"] == date(2026, 7, 5)
    assert due["REG-DIS/DISASTER_AFFECTED"] == date(2026, 7, 1)
    assert due["CA-17/TEKUN_CANDIDATE"] == date(2026, 7, 30)


def test_generated_feedback_is_seeded_and_readable(loop, tmp_path):
    """generator/feedback.py: same arguments → byte-identical files; answers, unanswered rows and
    malformed rows; the files read back like staff's."""
    from lim.publish.feedback import STAFF_INPUT_COLUMNS, read_feedback_file
    from generator.feedback import generate_feedback

    src = loop["out"] / M1 / "workbooks"
    a = generate_feedback(src, tmp_path / "a", M1, seed=7, answered=0.8, malformed=0.3, today=date(2026, 9, 1))
    b = generate_feedback(src, tmp_path / "b", M1, seed=7, answered=0.8, malformed=0.3, today=date(2026, 9, 1))
    assert a and [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    rows = [r for p in a for _, r in read_feedback_file(p).rows]
    answered = [r for r in rows if any(r.get(c) not in (None, "") for c in STAFF_INPUT_COLUMNS)]
    assert 0 < len(answered) < len(rows)
    assert any(r["核查结论"] not in ("属实", "不属实", "已处理", "无法核实") or not r["核查人"] for r in answered)


def test_analyst_copy_leaves_out_what_staff_wrote(loop):
    """The pseudonymized copy (built by the monthly run) keeps the answers' conclusions and months,
    not who checked or what they wrote."""
    from lim.publish.analyst_copy import default_dest

    con = duckdb.connect(str(default_dest(str(loop["warehouse"]))), read_only=True)
    cols = {c for (c,) in con.sql("select column_name from duckdb_columns() where table_name = 'alert_dispositions'").fetchall()}
    n = con.sql("select count(*) from alert_dispositions").fetchall()[0][0]
    rcols = {c for (c,) in con.sql("select column_name from duckdb_columns() where table_name = 'resolved_alerts'").fetchall()}
    con.close()
    assert n == 7 and {"conclusion", "check_month", "alert_key", "member_person_key"} <= cols
    assert not cols & {"checker_name", "measures", "remarks", "alert_id", "member_id_number", "household_id"}
    assert "last_alert_key" in rcols and not rcols & {"last_reason_text", "head_name", "member_name", "head_id_number"}
