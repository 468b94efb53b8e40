"""Stage 4 — publishing, the library part (the asset is assets/publish.py): staff CSVs per town, alerts_all, audit sample, quarantine, report,
manifest; and the warehouse month put in place (months.<t> → months.<t>__YYYY_MM, views main.<t>) in one transaction.

Files are written into a hidden folder beside <out>/<M> and moved into place only when every
file is written and the warehouse transaction has committed, so a failed run leaves the
previous good month untouched.
"""

import csv
import json
import os
import shutil
import socket
import getpass
from datetime import datetime, timezone
from pathlib import Path

from lim.core import settings
from lim.core.faults import maybe_fail
from lim.core.hashing import sha256_file
from lim.core.policy import Policy
from lim.publish import loop
from lim.publish.csv_out import STAFF_COLUMNS, csv_lines, write_csv_lines
from lim.publish.report import write_report
from lim.warehouse import warehouse as wh

# The staff CSV's columns (interface.md, in its order): lim/publish/csv_out.py.
QUARANTINE_COLUMNS = ["数据月份", "来源", "文件", "行号", "原因代码", "原因", "字段", "原始内容"]


# An ID in a list column (first 6 and last 4 digits shown), and IDs in free texts (quarantine reasons,
# raw rows; masked on NFKC-normalized text without separators): lim/publish/csv_out.py.
from lim.publish.csv_out import mask_id, mask_ids_in_text  # noqa: E402


def money(v) -> str:
    if v is None:
        return ""
    text = f"{float(v):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# Every CSV is written by the one formula-safe writer (CWE-1236; numeric columns: lim/publish/csv_out.py).
from lim.publish.csv_out import write_csv  # noqa: E402


def safe_name(text: str) -> str:
    return "".join(ch for ch in text if ch not in '\\/:*?"<>|').strip() or "未命名"


def town_and_village_names(policy: Policy) -> tuple[dict, dict]:
    towns = {t: n for c in policy.counties.values() for t, n in c.towns.items()}
    villages = {v: n for c in policy.counties.values() for v, n in c.villages.items()}
    return towns, villages


def staff_row(a: dict, towns: dict, villages: dict, full_ids: bool) -> list:
    """The staff CSV row of an alert (lim/publish/loop.town_alerts): its priority on the town list is
    list_priority (one level up when 逾期, sql/rules/92_loop.sql)."""
    return [a["alert_id"], a["alert_name"], a["list_priority"] or a["priority"], a["status"], a["first_month"], a["household_id"],
            a["head_name"] or "", mask_id(a["head_id_number"], full_ids), towns.get(a["town_code"], a["town_code"]),
            villages.get(a["village_code"], a["village_code"]), a["household_size"], money(a["per_capita_income"]),
            money(a["standard"]), a["reason_text"], a["evidence"], a["action"], a["data_note"] or ""]


def write_month_files(con, month: str, folder: Path, policy: Policy, full_ids: bool) -> dict:
    """Every staff-facing file of month M (from the months schema) into `folder`."""
    towns, villages = town_and_village_names(policy)
    # Suppressed alerts (last answer 不属实, evidence unchanged) are on no list (interface.md).
    rank = {"高": 1, "中": 2, "低": 3}
    month_alerts = loop.town_alerts(con, month)
    # each alert's row once, for its CSVs and both sheets of its town's workbook
    rows_of = {id(a): staff_row(a, towns, villages, full_ids) for a in month_alerts}
    alerts = sorted(month_alerts,
                    key=lambda a: (rank.get(a["list_priority"] or a["priority"], 3), a["village_code"] or "", a["household_id"] or "",
                                   a["alert_type"], a["member_id_number"] or ""))
    rows_by_town: dict[str, list] = {t: [] for t in towns}
    all_rows = []
    for a in alerts:
        row = rows_of[id(a)]
        rows_by_town.setdefault(a["town_code"], []).append(row)
        all_rows.append(row)
    town_files = {town: f"{town}_{safe_name(towns.get(town, town))}" for town in sorted(rows_by_town)}
    # Town workbooks, the county's overdue list and the resolved alerts (lim/publish/loop.py): the
    # workbooks in worker processes (a big month) while this process writes everything else.
    with loop.loop_files_written(con, month, folder, towns, villages, town_files,
                                 lambda a: rows_of[id(a)], lambda i: mask_id(i, full_ids), full_ids, month_alerts,
                                 workbook_processes=settings.current().publish_processes) as loop_info:
        # each row rendered once, for its town's list and alerts_all.csv
        header_line, lines = csv_lines(STAFF_COLUMNS, all_rows)
        line_of = {id(row): line for row, line in zip(all_rows, lines)}
        for town, rows in sorted(rows_by_town.items()):
            write_csv_lines(folder / "alerts" / f"{town_files[town]}.csv", header_line, (line_of[id(r)] for r in rows))
        write_csv_lines(folder / "alerts_all.csv", header_line, lines)
        other = _other_month_files(con, month, folder, policy, full_ids, towns, villages)
    return {"alerts": len(all_rows), **other, "loop": loop_info}


def _other_month_files(con, month: str, folder: Path, policy: Policy, full_ids: bool, towns: dict, villages: dict) -> dict:
    """audit_sample.csv, quarantine/<source>.csv and report.html; the counts for write_month_files."""
    # 抽查来源 (rules-variants.md r7): 新增审批, or 审核未通过 (申请类别) where the county samples rejections
    audit = con.sql("""SELECT a.household_id, a.town_code, a.region_code, a.roster_type, a.draw_rank, a.new_approvals, a.to_draw, a.digest,
                              h.head_name, h.head_id_number,
                              CASE WHEN a.source = 'rejected' THEN '审核未通过（申请' || coalesce(a.applied_type, '') || '）' ELSE '新增审批' END
                       FROM months.audit_sample a LEFT JOIN months.households_monthly h
                         ON h.household_source = 'civil_affairs' AND h.household_id = a.household_id
                       ORDER BY a.county_code, CASE WHEN a.draw_scope = 'town' THEN a.town_code END NULLS FIRST, a.draw_rank""").fetchall()
    # the 抽查来源 column only where a county samples rejected applications: at the defaults the file
    # is the one of rules.md, byte for byte
    with_source = con.sql("""SELECT count(*) > 0 FROM months.month_parameters WHERE month = ?
                             AND name = 'audit_include_rejected' AND text_value = 'true'""", params=[month]).fetchall()[0][0]
    header = ["抽查序号", "家庭编号", "户主姓名", "户主身份证号", "乡镇(街道)", "村(社区)", "救助类别", "本月新增审批户数", "抽查户数", "排序摘要(SHA-256)"]
    write_csv(folder / "audit_sample.csv", header + (["抽查来源"] if with_source else []),
              [[r[4], r[0], r[8] or "", mask_id(r[9], full_ids), towns.get(r[1], r[1]), villages.get(r[2], r[2]), r[3] or "", r[5], r[6], r[7]]
               + ([r[10]] if with_source else []) for r in audit])

    q = con.sql("""SELECT month, source, file, row_number, reason_code, reason, column_name, raw
                   FROM months.quarantine WHERE month = ? ORDER BY source, row_number, reason_code""", params=[month]).fetchall()
    by_source: dict[str, list] = {}
    for r in q:  # reasons and raw rows quote the ID as delivered: masked like the alert lists
        by_source.setdefault(r[1], []).append([*r[:5], mask_ids_in_text(r[5], full_ids), r[6], mask_ids_in_text(r[7], full_ids)])
    for source, rows in by_source.items():
        write_csv(folder / "quarantine" / f"{source}.csv", QUARANTINE_COLUMNS, rows)

    unknown_towns, unknown_villages = write_report(con, month, folder / "report.html", policy)
    return {"unknown_towns": unknown_towns, "unknown_villages": unknown_villages, "quarantined": len(q)}


def manifest(folder: Path, month: str, run_id: str, con, policy: Policy, full_ids: bool, xlsx_rows: dict | None = None) -> dict:
    outputs = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            rows = (xlsx_rows or {}).get(p.relative_to(folder).as_posix())  # workbooks: rows of their list
            if p.suffix == ".csv":
                with open(p, encoding="utf-8-sig", newline="") as f:
                    rows = max(0, sum(1 for _ in csv.reader(f)) - 1)
            outputs.append({"path": p.relative_to(folder).as_posix(), "rows": rows, "sha256": sha256_file(p)})
    inputs = [{"source": r[0], "file": r[1], "status": r[2], "rows_in": r[3], "rows_accepted": r[4],
               "rows_quarantined": r[5], "sha256": r[6]}
              for r in con.sql("SELECT source, file, status, rows_in, rows_accepted, rows_quarantined, sha256 FROM months.load_log WHERE month = ? ORDER BY source",
                               params=[month]).fetchall()]
    periods = dict(con.sql("SELECT DISTINCT county_code, effective_from FROM months.month_parameters WHERE month = ? ORDER BY 1", params=[month]).fetchall())
    return {"month": month, "run_id": run_id, "full_ids": full_ids,
            "policy": {"file": policy.path, "sha256": sha256_file(Path(policy.path)), "periods": periods},
            "inputs": inputs, "outputs": outputs,
            # the town staff's answers M's outputs rest on: those stored for alerts of earlier months
            "answers": loop.answers_used(con, month)}


def publish(con, month: str, out_root: Path, policy: Policy, full_ids: bool, run_id: str, requested_by: str = "",
            landing: str = "") -> dict:
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    out_root.mkdir(parents=True, exist_ok=True)
    final = out_root / month
    tmp = out_root / f".{month}.partial-{run_id[:8]}"
    recover_outputs(out_root, month)
    tmp.mkdir(mode=0o700)
    info = write_month_files(con, month, tmp, policy, full_ids)
    maybe_fail("published_month")  # after the files are written aside, before anything is swapped
    m = manifest(tmp, month, run_id, con, policy, full_ids, info["loop"]["xlsx_rows"])
    (tmp / "manifest.json").write_text(json.dumps(m, ensure_ascii=False, indent=1), encoding="utf-8")
    os.chmod(tmp / "manifest.json", 0o600)

    # Warehouse: policy tables (current file), the month's slice of every table and the run audit
    # row, in one transaction: a run killed before COMMIT leaves the warehouse as it was.
    def policy_and_audit(c) -> None:
        c.execute("DELETE FROM policy_parameters; DELETE FROM towns; DELETE FROM villages; DELETE FROM counties;")
        # text_value (rules-variants.md B.1 flags, null, words): added to an older warehouse's table
        c.execute("ALTER TABLE policy_parameters ADD COLUMN IF NOT EXISTS text_value VARCHAR")
        c.executemany("INSERT INTO policy_parameters (county_code, effective_from, effective_to, name, value, text_value) "
                      "VALUES (?, ?, ?, ?, ?, ?)", policy.parameter_rows())
        if policy.town_rows():
            c.executemany("INSERT INTO towns VALUES (?, ?, ?)", policy.town_rows())
        if policy.village_rows():
            c.executemany("INSERT INTO villages VALUES (?, ?, ?)", policy.village_rows())
        c.executemany("INSERT INTO counties VALUES (?, ?)", [(k, v.name) for k, v in sorted(policy.counties.items())])
        c.execute("INSERT INTO run_audit VALUES (?, ?, ?, ?, 'success', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  [run_id, month, started, datetime.now(timezone.utc).replace(tzinfo=None), requested_by or _user(),
                   socket.gethostname(), landing, policy.path, m["policy"]["sha256"],
                   json.dumps(m["inputs"], ensure_ascii=False), sha256_file(tmp / "manifest.json"), full_ids,
                   f"alerts={info['alerts']}"])

    maybe_fail("published_month:before_swap")
    counts = wh.publish_month(con, month, wh.monthly_tables(con), also=policy_and_audit)
    try:
        maybe_fail("published_month:after_commit")
        # Files: swap the finished folder into place (two renames; recover_outputs mends a kill between them).
        swap_into_place(out_root, month, tmp, run_id)
    except BaseException:
        # The warehouse has the new month, the files not yet: one clear state in run_audit, and the
        # next run (complete_pending_swap, at its start) puts the finished folder into place.
        con.execute("UPDATE run_audit SET status = 'files_pending', message = message || '；文件尚未替换到位，下一次运行开始时补完' "
                    "WHERE run_id = ?", [run_id])
        raise
    return {"folder": str(final), "counts": counts, **info}


def swap_into_place(out_root: Path, month: str, ready: Path, run_id: str) -> None:
    final = out_root / month
    old = out_root / f".{month}.old-{run_id[:8]}"
    if final.exists():
        os.replace(final, old)
    maybe_fail("published_month:mid_swap")
    os.replace(ready, final)
    shutil.rmtree(old, ignore_errors=True)


def complete_pending_swap(con, out_root: Path, month: str) -> str | None:
    """A run whose warehouse month committed but whose folder swap did not happen (killed, disk
    error) left its finished folder `.M.partial-<run>` with its manifest: put it into place, so that
    files and warehouse say the same, and mark its run_audit row `success`. Returns the run id, or
    None. Called under the month lock, before recover_outputs removes leftovers."""
    out_root = Path(out_root)
    if not out_root.is_dir():
        return None
    for partial in sorted(out_root.glob(f".{month}.partial-*")):
        try:
            run_id = json.loads((partial / "manifest.json").read_text(encoding="utf-8"))["run_id"]
        except (OSError, ValueError, KeyError):
            continue  # not finished: a leftover
        latest = con.sql("SELECT arg_max(run_id, finished_at) FROM run_audit WHERE month = ? AND status IN ('success', 'files_pending')",
                         params=[month]).fetchall()[0][0]
        if latest == run_id:
            swap_into_place(out_root, month, partial, run_id)
            con.execute("UPDATE run_audit SET status = 'success', message = regexp_replace(message, '；文件尚未替换到位.*$', '') "
                        "|| '；文件于下一次运行开始时替换到位' WHERE run_id = ?", [run_id])
            return run_id
    return None


def recover_outputs(out_root: Path, month: str) -> None:
    """Mend what a killed run of `month` left in <out>: if it died between the two renames of the
    swap, <out>/<M> is missing and the previous good folder is `.M.old-*`: put it back. Then remove
    the hidden leftovers (`.M.partial-*`, `.M.old-*`). Called under the month lock only."""
    out_root = Path(out_root)
    if not out_root.is_dir():
        return
    final = out_root / month
    olds = sorted(out_root.glob(f".{month}.old-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    if not final.exists() and olds:
        os.replace(olds.pop(0), final)
    for p in [*olds, *out_root.glob(f".{month}.partial-*")]:
        shutil.rmtree(p, ignore_errors=True)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
