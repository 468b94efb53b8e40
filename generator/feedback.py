"""Synthetic town staff: fill a month's town workbooks with answers, as caseworkers would.

    python -m generator.feedback --out-dir <out>/<M>/workbooks --dest DIR --month M [--seed S]
                                 [--answered 0.7] [--malformed 0.05] [--today YYYY-MM-DD]

For each workbook of <out>/<M>/workbooks/ a filled copy is written to DEST (same file name): a
seeded share of the alerts is answered (conclusions mostly 属实, some 不属实, 已处理, 无法核实;
核查日期 within the due date, some after it — late —, never after `today`), the rest left empty
(never answered); a small share of rows is malformed the ways interface.md lists (a conclusion
outside the list, a date before the list was issued, an empty 核查人, an unknown 预警编号). Like
staff, it may sort the list by household and add a column of its own (联系电话), and it saves the
file with openpyxl (a different writer from the one that made it, as WPS or Excel would be).

Same arguments → byte-identical files (the zip members and document properties carry fixed
times), so importing them again adds nothing (their SHA-256 was imported before).

    fill_workbook(src, dst, answers, sort=True, add_column=True)   # explicit answers (tests)
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

STAFF = ["核查结论", "核查日期", "核查人", "处理措施", "备注"]
LIST_SHEET = "核查清单"
CONCLUSION_WEIGHTS = [("属实", 0.55), ("不属实", 0.2), ("已处理", 0.15), ("无法核实", 0.1)]
CHECKERS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"]
MEASURES = {"属实": ["已入户核实，按程序办理", "已告知申请渠道", "已提交乡镇审核"], "不属实": ["入户核实情况与数据不符", "部门数据有误，已反馈"],
            "已处理": ["已按程序处理完毕", "已办理停发", "已纳入救助"], "无法核实": ["多次入户无人", "户主外出务工，电话无法联系"]}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def fill_workbook(src: Path, dst: Path, answers: dict[str, tuple], sort: bool = False, add_column: bool = False,
                  extra_rows: list[tuple] = (), when: datetime | None = None) -> Path:
    """Copy the workbook `src` to `dst` with the staff columns of the rows in `answers` filled:
    预警编号 → (核查结论, 核查日期 (date or text), 核查人, 处理措施, 备注). `sort` orders the list by
    家庭编号 descending, `add_column` inserts a column 联系电话 after 预警编号, `extra_rows` appends
    rows (预警编号, *the five staff values) — a row copied from another list, say."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ws = wb[LIST_SHEET]
    header = [c.value for c in ws[1]]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    idx = {h: i for i, h in enumerate(header)}
    for r in rows:
        a = answers.get(r[idx["预警编号"]])
        if a:
            for h, v in zip(STAFF, a):
                r[idx[h]] = v
    for extra in extra_rows:
        r = [None] * len(header)
        r[idx["预警编号"]] = extra[0]
        for h, v in zip(STAFF, extra[1:]):
            r[idx[h]] = v
        rows.append(r)
    if sort:
        rows.sort(key=lambda r: str(r[idx["家庭编号"]] or ""), reverse=True)
    if add_column:
        at = idx["预警编号"] + 1
        header.insert(at, "联系电话")
        for k, r in enumerate(rows):
            r.insert(at, f"1380000{k:04d}")
    ws.delete_rows(1, ws.max_row)
    ws.append(header)
    for r in rows:
        ws.append(r)
    date_col = header.index("核查日期") + 1
    for row in ws.iter_rows(min_row=2, min_col=date_col, max_col=date_col):
        for c in row:
            if isinstance(c.value, (date, datetime)):
                c.number_format = "yyyy-mm-dd"
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.properties.lastModifiedBy = "乡镇民政办"
    wb.save(dst)
    _fix_times(dst, when or datetime(2000, 1, 1))
    return dst


def _fix_times(path: Path, when: datetime) -> None:
    """Zip members with a fixed timestamp and the document's modified time set to `when`: the
    same answers give the same bytes (openpyxl stamps both with the current time)."""
    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>", data)
            zi = zipfile.ZipInfo(info.filename, FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)


def _issue_date(month: str) -> date:
    y, m = int(month[:4]), int(month[5:7])
    return date(y + m // 12, m % 12 + 1, 1)


def generated_answers(src: Path, month: str, rng: random.Random, answered: float, malformed: float,
                      today: date) -> tuple[dict, list]:
    """Answers for one workbook: (answers by 预警编号, extra malformed rows)."""
    import openpyxl

    wb = openpyxl.load_workbook(src, read_only=True)
    ws = wb[LIST_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    wb.close()
    header = list(rows[0])
    idx = {h: i for i, h in enumerate(header)}
    issued = _issue_date(month)
    answers, extra = {}, []
    for r in rows[1:]:
        aid = r[idx["预警编号"]]
        if not aid or rng.random() >= answered:
            continue  # never answered
        due = r[idx["办理时限"]]
        due = due.date() if isinstance(due, datetime) else (due or issued + timedelta(days=30))
        late = rng.random() < 0.15
        day = due + timedelta(days=rng.randint(1, 10)) if late else issued + timedelta(days=rng.randint(0, max(0, (due - issued).days)))
        day = max(issued, min(day, today))
        conclusion = rng.choices([c for c, _ in CONCLUSION_WEIGHTS], [w for _, w in CONCLUSION_WEIGHTS])[0]
        answer = [conclusion, datetime(day.year, day.month, day.day), rng.choice(CHECKERS), rng.choice(MEASURES[conclusion]),
                  "逾期反馈" if late else None]
        if rng.random() < malformed:  # the mistakes interface.md lists, one per malformed row
            kind = rng.choice(["conclusion", "early", "checker", "text_date"])
            if kind == "conclusion":
                answer[0] = rng.choice(["属实吧", "核实", "是", "待定"])
            elif kind == "early":
                answer[1] = datetime(issued.year, issued.month, issued.day) - timedelta(days=rng.randint(1, 20))
            elif kind == "checker":
                answer[2] = None
            else:
                answer[1] = rng.choice(["下周", "七月中旬"])
        answers[aid] = tuple(answer)
    if rng.random() < malformed * 4:  # a row copied from elsewhere, its 预警编号 mistyped
        extra.append(("YJ" + month.replace("-", "") + "-0000ABCD", "属实", datetime(issued.year, issued.month, issued.day + 1),
                      rng.choice(CHECKERS), None, "抄错编号"))
    return answers, extra


def generate_feedback(workbooks: Path, dest: Path, month: str, seed: int = 1, answered: float = 0.7, malformed: float = 0.05,
                      today: date | None = None) -> list[Path]:
    """Filled copies of every workbook of `workbooks` in `dest` (same file names)."""
    today = today or date.today()
    out = []
    for i, src in enumerate(sorted(Path(workbooks).glob("*.xlsx"))):
        rng = random.Random(f"{seed}|{month}|{src.name}")
        answers, extra = generated_answers(src, month, rng, answered, malformed, today)
        if not answers and not extra:
            continue
        issued = _issue_date(month)
        out.append(fill_workbook(src, Path(dest) / src.name, answers, sort=rng.random() < 0.5, add_column=rng.random() < 0.3,
                                 extra_rows=extra, when=datetime(issued.year, issued.month, issued.day) + timedelta(days=20)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m generator.feedback", description="为某月乡镇核查表生成模拟的核查反馈")
    p.add_argument("--out-dir", required=True, help="<out>/<M>/workbooks：该月下发的乡镇核查表")
    p.add_argument("--dest", required=True, help="写出填好的核查表的目录")
    p.add_argument("--month", required=True, help="清单的数据月份 YYYY-MM")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--answered", type=float, default=0.7, help="有反馈的预警比例（其余从未反馈）")
    p.add_argument("--malformed", type=float, default=0.05, help="填写有误的行的比例")
    p.add_argument("--today", help="核查日期不晚于这一天（默认今天）")
    args = p.parse_args(argv)
    today = date.fromisoformat(args.today) if args.today else None
    files = generate_feedback(Path(args.out_dir), Path(args.dest), args.month, args.seed, args.answered, args.malformed, today)
    print(f"已生成 {len(files)} 个填好的核查表：{args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
