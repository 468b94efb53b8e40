"""report.html for month M — a first, self-contained version (counts per type, town and source)."""
from __future__ import annotations

import html
from pathlib import Path


def write_report(con, month: str, path: Path, policy) -> None:
    towns = {t: n for c in policy.counties.values() for t, n in c.towns.items()}
    by_type = con.sql("SELECT alert_name, priority, count(*) FROM stage.alerts WHERE month = ? GROUP BY ALL ORDER BY 3 DESC, 1", params=[month]).fetchall()
    by_town = con.sql("SELECT town_code, count(*) FROM stage.alerts WHERE month = ? GROUP BY 1 ORDER BY 1", params=[month]).fetchall()
    loads = con.sql("SELECT source, status, coalesce(file, ''), rows_in, rows_accepted, rows_quarantined, coalesce(message, '') FROM stage.load_log WHERE month = ? ORDER BY source", params=[month]).fetchall()
    def table(head, rows):
        h = "".join(f"<th>{html.escape(str(x))}</th>" for x in head)
        b = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{h}</tr></thead><tbody>{b}</tbody></table>"
    body = (f"<h1>{month} 低收入人口动态监测月报</h1>"
            "<h2>预警类型</h2>" + table(["预警类型", "优先级", "户（人）次"], by_type)
            + "<h2>各乡镇（街道）</h2>" + table(["乡镇(街道)", "预警数"], [(towns.get(t, t), n) for t, n in by_town])
            + "<h2>数据接收</h2>" + table(["来源", "状态", "文件", "行数", "接收", "隔离", "说明"], loads))
    path.write_text(f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{month} 月报</title></head><body>{body}</body></html>", encoding="utf-8")
