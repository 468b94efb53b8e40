"""report.html for month M: can this month be trusted, and what does it say?

One self-contained file (inline CSS and SVG charts, no script, no font or CDN request) that
opens from disk on a laptop or a phone. Sections, top to bottom:

  1. a verdict banner (the asset checks of checks/asset_checks.py, judged again here),
  2. key figures, 3. alerts per type (table, bar chart, trend per type over every month run
  so far), 4. alerts per town (table, trend), the answers of town staff (closing the loop: share
  answered, overdue, days to answer, share confirmed per type), 5. roster households by category, 6. targeting
  accuracy per town (table) and its county trend, 7. what each source delivered (rows in /
  accepted / quarantined, missing and refused sources, quarantine reasons), 8. data quality
  (Great Expectations results with links to the Data Docs copied beside the report),
  9. notes: history months missing from the 12-month window, codes absent from the policy file.

Month M is read from the `months` schema (months.<t>) (publish has not swapped it yet), earlier months from
`main`. Trends stop at M, and nothing in the file depends on the clock or the run, so a rerun
of the same month with the same inputs writes the same bytes.
"""
from __future__ import annotations

import html
import shutil
from pathlib import Path

from lim.core.catalogue import alert_catalogue, alert_order, source_catalogue
from lim.core.month import shift
from lim.core.contracts import SOURCES, load_contract
from lim.quality.judges import CHECKS, QualityConfig
from lim.warehouse.warehouse import relations as _relations

# Display order of alert types: the alert catalogue (sql/seeds/alert_catalogue.csv).
ALERT_ORDER = alert_order()
ROSTER_TYPES = ["低保", "特困", "低保边缘", "支出型困难"]
CATEGORY_NAMES = {"OVER_ASSETS": "资产超标", "TEKUN": "特困", "DIBAO": "低保", "MARGINAL": "低保边缘",
                  "EXPENDITURE": "支出型困难", "PENDING": "待定（部门数据未齐）", "NOT_ELIGIBLE": "不符合"}
COVERAGE_NAMES = {"missing": "未报送", "refused": "被拒收"}
STATUS_NAMES = {"accepted": "已接收", "missing": "未报送", "missing_column": "拒收：缺少必需列", "unreadable": "拒收：无法读取",
                "empty_file": "拒收：空文件", "wrong_month": "拒收：非本月文件"}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

CSS = """
:root{--fg:#1d2430;--muted:#5b6574;--line:#d9dee5;--bg:#ffffff;--soft:#f4f6f9;--ok:#1e7b34;--warn:#a15c00;--err:#b3261e}
*{box-sizing:border-box}
body{margin:0;font:15px/1.55 -apple-system,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.45em;margin:.2em 0 .1em}h2{font-size:1.2em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:2px solid var(--line)}
h3{font-size:1em;margin:1em 0 .3em}
p.sub{color:var(--muted);margin:0 0 1em}
nav{display:flex;flex-wrap:wrap;gap:.3em .9em;font-size:.92em;margin:.6em 0 1em}
nav a{color:#1558b0;text-decoration:none}
.verdict{border-radius:8px;padding:12px 16px;margin:12px 0;color:#fff;font-size:1.05em}
.verdict.ok{background:var(--ok)}.verdict.warn{background:var(--warn)}.verdict.err{background:var(--err)}
.verdict b{font-size:1.2em}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:10px 0}
.kpi{background:var(--soft);border-radius:8px;padding:10px 12px}.kpi .v{font-size:1.5em;font-weight:600}.kpi .l{color:var(--muted);font-size:.9em}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.4em 0 1em}
table{border-collapse:collapse;min-width:100%;font-size:.93em}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top;white-space:nowrap}
td.wrap{white-space:normal;min-width:16em}
th{background:var(--soft);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;border-top:2px solid var(--line)}
.pass{color:var(--ok);font-weight:600}.warnc{color:var(--warn);font-weight:600}.errc{color:var(--err);font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:12px}
figure{margin:0;background:var(--soft);border-radius:8px;padding:8px 10px}
figcaption{font-size:.9em;font-weight:600;margin-bottom:2px}
svg{display:block;width:100%;height:auto}
svg.bars{max-width:640px}
svg.wide{max-width:900px}
svg text{font-family:inherit}
.legend{display:flex;flex-wrap:wrap;gap:.2em 1em;font-size:.88em;color:var(--muted)}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.note{color:var(--muted);font-size:.9em}
footer{color:var(--muted);font-size:.85em;margin:2em 0 1em}
@media (max-width:600px){main{padding:10px}body{font-size:14px}.kpi .v{font-size:1.25em}}
@media print{nav{display:none}}
"""


# --------------------------------------------------------------------------------------------
# small HTML helpers
# --------------------------------------------------------------------------------------------
def esc(x) -> str:
    return html.escape("" if x is None else str(x))


def num(v, digits: int = 0) -> str:
    if v is None:
        return "—"
    return f"{float(v):,.{digits}f}" if digits else f"{int(round(float(v))):,}"


def pct(v, digits: int = 1) -> str:
    return "—" if v is None else f"{float(v) * 100:.{digits}f}%"


def table(head: list[str], rows: list[list], numeric: set[int] = frozenset(), total: list | None = None,
          wrap: set[int] = frozenset()) -> str:
    def cell(tag, i, v):
        cls = " class='n'" if i in numeric else (" class='wrap'" if i in wrap else "")
        return f"<{tag}{cls}>{v}</{tag}>"
    h = "".join(cell("th", i, esc(x)) for i, x in enumerate(head))
    body = "".join("<tr>" + "".join(cell("td", i, x) for i, x in enumerate(r)) + "</tr>" for r in rows)
    if total:
        body += "<tr class='total'>" + "".join(cell("td", i, x) for i, x in enumerate(total)) + "</tr>"
    if not rows and not total:
        body = f"<tr><td colspan='{len(head)}' class='note'>（无）</td></tr>"
    return f"<div class='scroll'><table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table></div>"


# --------------------------------------------------------------------------------------------
# inline SVG charts (no script): deterministic text, scaled by viewBox
# --------------------------------------------------------------------------------------------
def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5, 10):
        mag = 10 ** (len(str(int(v))) - 1) if v >= 1 else 0.1
        top = step * mag
        if top >= v:
            return top
    return v


def _f(x: float) -> str:
    return f"{x:.1f}"


def line_chart(months: list[str], series: list[tuple[str, list]], title: str, percent: bool = False,
               width: int = 260, height: int = 140, css_class: str = "chart") -> str:
    """Lines over months; `series` = [(label, values aligned with months, None = no data)]."""
    left, right, top, bottom = 38, 10, 10, 24
    pw, ph = width - left - right, height - top - bottom
    vals = [v for _, s in series for v in s if v is not None]
    vmax = _nice_max(max(vals) if vals else 0.0) if not percent else max(0.1, min(1.0, _nice_max(max(vals or [0]) * 100) / 100))
    n = len(months)

    def x(i):
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v):
        return top + ph - ph * (float(v) / vmax if vmax else 0)

    parts = [f"<svg class='{css_class}' viewBox='0 0 {width} {height}' role='img' aria-label='{esc(title)}'>",
             f"<title>{esc(title)}</title>"]
    for k in range(3):  # grid and y labels at 0, max/2, max
        v = vmax * k / 2
        label = f"{v * 100:.0f}%" if percent else (f"{v:g}" if v < 1000 else f"{v / 1000:g}k")
        parts.append(f"<line x1='{left}' x2='{width - right}' y1='{_f(y(v))}' y2='{_f(y(v))}' stroke='#d9dee5' stroke-width='1'/>")
        parts.append(f"<text x='{left - 4}' y='{_f(y(v) + 4)}' font-size='11' text-anchor='end' fill='#5b6574'>{label}</text>")
    step = max(1, (n + 5) // 6)
    for i, m in enumerate(months):
        if i % step == 0 or i == n - 1:
            parts.append(f"<text x='{_f(x(i))}' y='{height - 8}' font-size='11' text-anchor='middle' fill='#5b6574'>{m[2:]}</text>")
    for si, (label, values) in enumerate(series):
        color = PALETTE[si % len(PALETTE)]
        pts = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if len(pts) > 1:
            d = " ".join(f"{'M' if j == 0 else 'L'}{_f(a)},{_f(b)}" for j, (a, b) in enumerate(pts))
            parts.append(f"<path class='series' d='{d}' fill='none' stroke='{color}' stroke-width='2.2' stroke-linejoin='round'/>")
        for a, b in pts:
            parts.append(f"<circle class='point' cx='{_f(a)}' cy='{_f(b)}' r='3' fill='{color}'/>")
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(items: list[tuple[str, float]], title: str, width: int = 480, bar_h: int = 20, color: str = PALETTE[0]) -> str:
    """Horizontal bars with labels (readable on a phone: the SVG scales with the page)."""
    if not items:
        return "<p class='note'>（本月无数据）</p>"
    label_w, value_w = 140, 44
    pw = width - label_w - value_w
    vmax = max(v for _, v in items) or 1
    height = len(items) * (bar_h + 6) + 6
    parts = [f"<svg class='chart bars' viewBox='0 0 {width} {height}' role='img' aria-label='{esc(title)}'><title>{esc(title)}</title>"]
    for i, (label, v) in enumerate(items):
        yy = 6 + i * (bar_h + 6)
        w = pw * float(v) / vmax
        parts.append(f"<text x='{label_w - 6}' y='{yy + bar_h - 5}' font-size='13' text-anchor='end' fill='#1d2430'>{esc(label)}</text>")
        parts.append(f"<rect class='bar' x='{label_w}' y='{yy}' width='{_f(max(w, 1))}' height='{bar_h}' rx='3' fill='{color}'/>")
        parts.append(f"<text x='{_f(label_w + max(w, 1) + 4)}' y='{yy + bar_h - 5}' font-size='12' fill='#1d2430'>{num(v)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def legend(labels: list[str]) -> str:
    return "<div class='legend'>" + "".join(
        f"<span><i style='background:{PALETTE[i % len(PALETTE)]}'></i>{esc(l)}</span>" for i, l in enumerate(labels)) + "</div>"


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
def _history(con, rels: set, table: str, select: str, month: str, where: str = "TRUE", group: str = "") -> list[tuple]:
    """`select` over main.<table> for months before M plus months.<table> for M (`rels`: the
    warehouse's tables and views, warehouse.relations)."""
    parts, params = [], []
    if ("main", table) in rels:
        parts.append(f"SELECT {select} FROM main.{table} WHERE month < ? AND {where} {group}")
        params.append(month)
    if ("months", table) in rels:
        parts.append(f"SELECT {select} FROM months.{table} WHERE month = ? AND {where} {group}")
        params.append(month)
    if not parts:
        return []
    return con.sql(" UNION ALL ".join(parts), params=params).fetchall()


def unknown_codes(con, month: str, policy, rels: set) -> tuple[list[str], list[str]]:
    """Town and village codes met in month M's data (its households and alerts, months schema)
    that the policy file does not name: shown by their code, reported once per run
    (interface.md). Villages only for counties whose policy lists villages at all (the list is
    optional; without it every village is shown by its code and that is no news)."""
    towns = {t for c in policy.counties.values() for t in c.towns}
    villages = {v for c in policy.counties.values() for v in c.villages}
    with_villages = {code for code, c in policy.counties.items() if c.villages}
    seen = set()
    for table in ("households_monthly", "alerts"):
        if ("months", table) in rels:
            seen |= set(_one(con, f"SELECT DISTINCT town_code, village_code FROM months.{table} WHERE month = ?", [month]))
    unknown_towns = sorted({t for t, _ in seen if t and t not in towns})
    unknown_villages = sorted({v for _, v in seen if v and v not in villages and v[:6] in with_villages})
    return unknown_towns, unknown_villages


def _one(con, q: str, params: list):
    return con.sql(q, params=params).fetchall()


def copy_data_docs(con, month: str, folder: Path, rels: set) -> bool:
    """Copy the month's GX Data Docs (built in the staging folder) to <folder>/data_docs."""
    if ("months", "quality_results") not in rels:
        return False
    dirs = [r[0] for r in _one(con, "SELECT DISTINCT docs_built_in FROM months.quality_results WHERE month = ? ORDER BY 1", [month]) if r[0]]
    for d in dirs:
        if Path(d).is_dir():
            target = folder / "data_docs"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(d, target)
            return True
    return False


# --------------------------------------------------------------------------------------------
# closing the loop: answers of town staff (interface.md "Closing the loop with town staff")
# --------------------------------------------------------------------------------------------
def loop_section(con, rels: set, month: str, towns: dict, names: dict) -> str:
    """Per town and per alert type, over the lists of the 12 months before M (M-12 … M-1; answers
    to M's own lists are not in yet): alerts issued (on a list, not suppressed), the share answered,
    the median days from issue (the first day of the month after the list's month) to the first
    核查日期, the share confirmed 属实 (the answer that counts per alert: latest 核查日期, then latest
    import) — how often each rule is right on the ground —; and M's overdue and suppressed alerts.
    Only answers stored for alerts of months before M are read, as for the lists themselves."""
    if not (("main", "alert_dispositions") in rels and ("months", "alerts") in rels):
        return "<p class='note'>（无核查反馈数据）</p>"
    first = shift(month, -12)
    stats = _one(con, """
        WITH issued AS (
            SELECT month, alert_id, alert_type, town_code FROM main.alerts
            WHERE month >= ? AND month < ? AND NOT coalesce(suppressed, false)
        ), ans AS (
            SELECT month, alert_id, min(check_date) AS first_check,
                   arg_max(conclusion, strftime(check_date, '%Y-%m-%d') || '|' || strftime(imported_at, '%Y-%m-%d %H:%M:%S.%f')
                                       || '|' || lpad(CAST(row_number AS VARCHAR), 12, '0')) AS conclusion
            FROM main.alert_dispositions WHERE month >= ? AND month < ? GROUP BY 1, 2
        )
        SELECT GROUPING(i.town_code) AS by_type, coalesce(i.town_code, i.alert_type) AS k, count(*) AS issued,
               count(a.alert_id) AS answered,
               median(date_diff('day', last_day(CAST(i.month || '-01' AS DATE)) + 1, a.first_check)) AS median_days,
               count(*) FILTER (WHERE a.conclusion = '属实') AS confirmed
        FROM issued i LEFT JOIN ans a USING (month, alert_id)
        GROUP BY GROUPING SETS ((i.town_code), (i.alert_type))""", [first, month, first, month])
    now = _one(con, """SELECT GROUPING(town_code), coalesce(town_code, alert_type), count(*) FILTER (WHERE overdue),
                              count(*) FILTER (WHERE suppressed)
                       FROM months.alerts WHERE month = ? GROUP BY GROUPING SETS ((town_code), (alert_type))""", [month])
    by = {(g, k): (n, a, med, c) for g, k, n, a, med, c in stats}
    cur = {(g, k): (o, s) for g, k, o, s in now}

    def share(a, n):
        return a / n if n else None
    town_keys = sorted({k for g, k in list(by) + list(cur) if g == 0 and k}, key=str)
    town_rows = []
    for k in town_keys:
        n, a, med, _ = by.get((0, k), (0, 0, None, 0))
        o, s = cur.get((0, k), (0, 0))
        town_rows.append([esc(towns.get(k, k)), esc(k), num(n), num(a), pct(share(a, n)), num(med, 1) if med is not None else "—",
                          num(o), num(s)])
    type_keys = [t for t in ALERT_ORDER if (1, t) in by or (1, t) in cur]
    type_rows, confirmed_bars, answered_bars = [], [], []
    for k in type_keys:
        n, a, med, c = by.get((1, k), (0, 0, None, 0))
        o, s = cur.get((1, k), (0, 0))
        type_rows.append([esc(names.get(k, k)), f"<code>{esc(k)}</code>", num(n), num(a), pct(share(a, n)),
                          num(med, 1) if med is not None else "—", num(c), pct(share(c, a)), num(o), num(s)])
        if a:
            confirmed_bars.append((names.get(k, k), round(100 * c / a)))
    for k in town_keys:
        n, a, _, _ = by.get((0, k), (0, 0, None, 0))
        if n:
            answered_bars.append((towns.get(k, k), round(100 * a / n)))
    window = f"{first} 至 {shift(month, -1)}"
    return (f"<p>近 12 个月（{esc(window)}）下发的预警清单中乡镇交回的核查结论（导入 {esc(month)} 月运行之前的反馈）；"
            "“逾期”“暂不列出”为本月清单的数字。</p>"
            + "<h3>各乡镇（街道）</h3>"
            + table(["乡镇(街道)", "代码", "下发预警", "已反馈", "反馈率", "反馈用时中位数（天）", "本月逾期", "本月暂不列出"],
                    town_rows, numeric={2, 3, 4, 5, 6, 7})
            + "<h3>各类预警：核查结论“属实”的比例（规则在实地的准确程度）</h3>"
            + table(["预警类型", "代码", "下发预警", "已反馈", "反馈率", "反馈用时中位数（天）", "属实", "属实比例", "本月逾期",
                     "本月暂不列出"], type_rows, numeric={2, 3, 4, 5, 6, 7, 8, 9})
            + "<h3>属实比例（%，按预警类型）</h3>" + bar_chart(confirmed_bars, "属实比例（%）", color=PALETTE[2])
            + "<h3>反馈率（%，按乡镇）</h3>" + bar_chart(answered_bars, "反馈率（%）", color=PALETTE[0])
            + "<p class='note'>反馈用时 = 清单下发日（数据月份次月 1 日）到首次核查日期的天数；属实比例 = 属实 / 已反馈"
              "（每条预警取核查日期最晚的结论）。暂不列出 = 上次核查“不属实”且依据未变化的预警（仍计入预警数）；"
              "逾期 = 同一预警上次下发后过了办理时限仍无反馈，名单上优先级上调一级，县级逾期清单见 county/overdue.csv。</p>")


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------
def write_report(con, month: str, path: Path, policy) -> tuple[list[str], list[str]]:
    """Write report.html for M into `path` and the Data Docs beside it (path.parent/data_docs);
    returns the unknown town and village codes the report lists (unknown_codes), for the run's
    summary."""
    path = Path(path)
    rels = _relations(con)  # the report asks about ~25 tables: the catalog is read once
    has_docs = copy_data_docs(con, month, path.parent, rels)
    unknown = unknown_codes(con, month, policy, rels)
    path.write_text(render_report(con, month, policy, has_docs, rels, unknown), encoding="utf-8")
    return unknown


def render_report(con, month: str, policy, has_docs: bool, rels: set, unknown: tuple[list[str], list[str]]) -> str:
    """The report's HTML (`rels`: the warehouse's tables and views, read once by write_report;
    `unknown`: unknown_codes of M)."""

    towns = {t: n for c in policy.counties.values() for t, n in c.towns.items()}
    county_names = [c.name for _, c in sorted(policy.counties.items())]
    months = sorted({r[0] for r in _one(con, "SELECT DISTINCT month FROM main.load_log WHERE month < ?", [month])} | {month})

    # ---- checks (same judgements as the Dagster asset checks) ------------------------------
    cfg = QualityConfig.from_env()
    check_rows, n_err, n_warn = [], 0, 0
    for name, asset, judge, what, desc in CHECKS:
        try:
            errors, warns, ok, _ = judge(con, month, cfg)
        except Exception as e:  # a table missing (e.g. a step skipped): say so, do not fail the report
            errors, warns, ok = [], [f"无法判断：{type(e).__name__}"], ""
        if errors:
            n_err += 1
            state, cls, text = "错误", "errc", "；".join(errors + warns)
        elif warns:
            n_warn += 1
            state, cls, text = "警告", "warnc", "；".join(warns)
        else:
            state, cls, text = "通过", "pass", ok
        check_rows.append([esc(what), f"<code>{esc(name)}</code>", f"<span class='{cls}'>{state}</span>", esc(text)])

    # ---- alerts ----------------------------------------------------------------------------
    names = dict(_history(con, rels, "alerts", "alert_type, any_value(alert_name)", month, group="GROUP BY 1"))
    by_type_hist = _history(con, rels, "alerts", "month, alert_type, count(*)", month, group="GROUP BY 1, 2")
    by_town_hist = _history(con, rels, "alerts", "month, town_code, count(*)", month, group="GROUP BY 1, 2")
    cur = _one(con, """SELECT alert_type, count(*), count(*) FILTER (WHERE priority = '高'), count(*) FILTER (WHERE status = '新增')
                       FROM months.alerts WHERE month = ? GROUP BY 1""", [month]) if ("months", "alerts") in rels else []
    cur = {r[0]: r[1:] for r in cur}
    order = [t for t in ALERT_ORDER if t in names] + sorted(t for t in names if t not in ALERT_ORDER)
    type_counts = {(m, t): n for m, t, n in by_type_hist}
    town_counts = {(m, t): n for m, t, n in by_town_hist}
    prev = shift(month, -1)
    type_rows = []
    for t in order:
        n, high, new = cur.get(t, (0, 0, 0))
        p = type_counts.get((prev, t), 0) if prev in months else None
        type_rows.append([esc(names.get(t, t)), f"<code>{esc(t)}</code>", num(n), num(high), num(new),
                          "—" if p is None else num(p)])
    total_alerts = sum(v[0] for v in cur.values())
    total_row = ["合计", "", num(total_alerts), num(sum(v[1] for v in cur.values())), num(sum(v[2] for v in cur.values())),
                 num(sum(type_counts.get((prev, t), 0) for t in order)) if prev in months else "—"]
    type_bars = bar_chart([(names.get(t, t), cur.get(t, (0,))[0]) for t in order if cur.get(t, (0,))[0]], f"{month} 各类预警数")
    type_trends = "".join(
        f"<figure><figcaption>{esc(names.get(t, t))}</figcaption>"
        + line_chart(months, [(t, [type_counts.get((m, t), 0) for m in months])], f"{names.get(t, t)} 预警数趋势")
        + "</figure>" for t in order)

    town_codes = sorted({t for _, t in town_counts} | set(towns))
    town_rows = []
    for t in town_codes:
        n = town_counts.get((month, t), 0)
        p = town_counts.get((prev, t), 0) if prev in months else None
        town_rows.append([esc(towns.get(t, t)), esc(t), num(n), "—" if p is None else num(p)])
    town_trends = "".join(
        f"<figure><figcaption>{esc(towns.get(t, t))}</figcaption>"
        + line_chart(months, [(t, [town_counts.get((m, t), 0) for m in months])], f"{towns.get(t, t)} 预警数趋势")
        + "</figure>" for t in town_codes)

    # ---- roster by category -----------------------------------------------------------------
    roster_hist = _history(con, rels, "households_monthly", "month, roster_type, count(*)", month,
                           where="household_source = 'civil_affairs'", group="GROUP BY 1, 2")
    roster = {(m, t): n for m, t, n in roster_hist}
    rtypes = ROSTER_TYPES + sorted({t for _, t in roster if t not in ROSTER_TYPES and t is not None})
    roster_town = _one(con, """SELECT town_code, roster_type, count(*) FROM months.households_monthly
                               WHERE household_source = 'civil_affairs' GROUP BY 1, 2""", []) if ("months", "households_monthly") in rels else []
    rt = {(a, b): n for a, b, n in roster_town}
    roster_towns = sorted({a for a, _ in rt})
    roster_rows = [[esc(towns.get(tc, tc))] + [num(rt.get((tc, t), 0)) for t in rtypes] + [num(sum(rt.get((tc, t), 0) for t in rtypes))]
                   for tc in roster_towns]
    roster_total = ["合计"] + [num(roster.get((month, t), 0)) for t in rtypes] + [num(sum(roster.get((month, t), 0) for t in rtypes))]
    roster_chart = line_chart(months, [(t, [roster.get((m, t), 0) for m in months]) for t in rtypes],
                              "在册家庭数趋势（按救助类别）", width=640, height=220, css_class="chart wide")
    det = _one(con, "SELECT category, count(*) FROM months.determinations WHERE month = ? GROUP BY 1", [month]) \
        if ("months", "determinations") in rels else []
    det = dict(det)

    # ---- targeting accuracy -----------------------------------------------------------------
    tm_cols = ("eligible, eligible_not_in_roster, roster_assessed, roster_failing, roster_wrongful, cash_eligible, "
               "cash_eligible_receiving, entitled_amount, paid_to_eligible")
    tm_rows, tm_total, tm_chart = [], None, "<p class='note'>（无瞄准精度数据）</p>"
    if ("months", "targeting_metrics") in rels:
        def ratios(r):
            e, x, ra, rf, rw, ce, cr, ea, pa = r
            return [x / e if e else None, rf / ra if ra else None, cr / ce if ce else None, float(pa) / float(ea) if ea else None]

        def fmt(label, code, r):
            e, x, ra, rf, rw, ce, cr, ea, pa = r
            ex, inc, tc, ta = ratios(r)
            return [label, code, f"{pct(ex)} <span class='note'>({num(x)}/{num(e)})</span>",
                    f"{pct(inc)} <span class='note'>({num(rf)}/{num(ra)})</span>", num(rw),
                    f"{pct(tc)} <span class='note'>({num(cr)}/{num(ce)})</span>",
                    f"{pct(ta)} <span class='note'>({num(pa)}/{num(ea)} 元)</span>"]
        for r in _one(con, f"SELECT town_code, {tm_cols} FROM months.targeting_metrics WHERE month = ? ORDER BY town_code", [month]):
            tm_rows.append(fmt(esc(towns.get(r[0], r[0])), esc(r[0]), r[1:]))
        hist = _history(con, rels, "targeting_metrics", "month, " + ", ".join(f"sum({c.strip()})" for c in tm_cols.split(",")),
                        month, group="GROUP BY 1")
        by_month = {h[0]: ratios(h[1:]) for h in hist}
        if month in by_month:
            tot = [h for h in hist if h[0] == month][0][1:]
            tm_total = fmt("全县", "", tot)
        labels = ["排斥误差", "纳入误差", "覆盖率（户数）", "覆盖率（金额）"]
        tm_chart = legend(labels) + line_chart(
            months, [(l, [by_month.get(m, [None] * 4)[i] for m in months]) for i, l in enumerate(labels)],
            "瞄准精度趋势（全县）", percent=True, width=640, height=220, css_class="chart wide")

    # ---- sources ----------------------------------------------------------------------------
    loads = {r[0]: r[1:] for r in _one(con, """SELECT source, status, coalesce(file, ''), rows_in, rows_accepted, rows_duplicate,
                                                      rows_quarantined, coalesce(message, '') FROM months.load_log WHERE month = ?""", [month])}
    src_rows, missing = [], []
    # one read of the month's coverage: likely resends, and optional sources the county never delivered
    coverage = _one(con, "SELECT source, same_file_as_previous_month, coverage = 'missing' AND NOT counted "
                         "FROM months.source_coverage WHERE month = ?", [month]) if ("months", "source_coverage") in rels else []
    resent = {src for src, same, _ in coverage if same}
    never = {src for src, _, unseen in coverage if unseen}
    for s in SOURCES:
        c = load_contract(s)
        st, file, rin, acc, dup, q, msg = loads.get(s, ("missing", "", 0, 0, 0, 0, ""))
        if c.optional and s in never:
            continue  # an optional source this county has never delivered: nothing to report
        cls = "pass" if st == "accepted" else ("note" if st == "missing" and c.optional else ("warnc" if st == "missing" else "errc"))
        if st != "accepted":
            missing.append(f"{c.department}（{STATUS_NAMES.get(st, st)}{'，可选' if c.optional else ''}）")
        if s in resent:
            msg = (msg + "；" if msg else "") + "文件与上月完全相同，疑为重复报送上月文件"
        src_rows.append([esc(c.department), f"<span class='{cls}'>{esc(STATUS_NAMES.get(st, st))}</span>", esc(file),
                         num(rin), num(acc), num(dup), num(q), pct(q / rin if rin else None), esc(msg)])
    reasons = _one(con, """SELECT source, reason_code, count(*) FROM months.quarantine WHERE month = ?
                           GROUP BY 1, 2 ORDER BY 1, 2""", [month]) if ("months", "quarantine") in rels else []
    reason_rows = [[esc(load_contract(s).department), f"<code>{esc(rc)}</code>", num(n)] for s, rc, n in reasons]

    # ---- data quality (GX) --------------------------------------------------------------------
    q_rows, q_fail_rows = [], []
    if ("months", "quality_results") in rels:
        for s, n, ok, ferr, fwarn, page in _one(con, """
                SELECT source, count(*), count(*) FILTER (WHERE success),
                       count(*) FILTER (WHERE NOT success AND severity = 'error'),
                       count(*) FILTER (WHERE NOT success AND severity = 'warning'), any_value(data_docs_page)
                FROM months.quality_results WHERE month = ? GROUP BY 1""", [month]):
            state = "<span class='errc'>错误</span>" if ferr else ("<span class='warnc'>警告</span>" if fwarn else "<span class='pass'>通过</span>")
            link = f"<a href='{esc(page)}'>Data Docs</a>" if page and has_docs else "—"
            q_rows.append((SOURCES.index(s), [esc(load_contract(s).department), state, num(n), num(ok), num(ferr), num(fwarn), link]))
        for s, rule, sev, unexpected, elements, observed in _one(con, """
                SELECT source, rule, severity, unexpected_count, element_count, observed_value FROM months.quality_results
                WHERE month = ? AND NOT success ORDER BY source, severity, rule""", [month]):
            detail = f"{num(unexpected)}/{num(elements)} 行不符" if unexpected is not None else f"实际：{observed}"
            q_fail_rows.append([esc(load_contract(s).department), esc(rule),
                                f"<span class='{'errc' if sev == 'error' else 'warnc'}'>{esc(sev)}</span>", esc(detail)])
    q_rows = [r for _, r in sorted(q_rows)]

    # ---- notes -------------------------------------------------------------------------------
    window = [shift(month, -k) for k in range(11, 0, -1)]
    missing_history = [m for m in window if m not in months]
    unknown_towns, unknown_villages = unknown
    no_policy = _one(con, """SELECT county_code, count(*) FROM months.households_monthly
                             WHERE county_code NOT IN (SELECT county_code FROM months.month_parameters WHERE month = ?)
                             GROUP BY 1 ORDER BY 1""", [month]) \
        if ("months", "households_monthly") in rels and ("months", "month_parameters") in rels else []

    # rules-variants.md r7: a county samples rejected applications but M's decisions file is undelivered
    rejections_unsampled = _one(con, """SELECT p.county_name FROM months.month_parameters p
                                        WHERE p.month = ? AND p.name = 'audit_include_rejected' AND p.value = 1
                                          AND NOT EXISTS (SELECT 1 FROM months.source_coverage c WHERE c.month = p.month
                                                          AND c.source = 'civil_affairs_decisions' AND c.coverage = 'delivered')
                                        ORDER BY p.county_code""", [month]) \
        if ("months", "month_parameters") in rels and ("months", "source_coverage") in rels else []

    # ---- incomplete month (rules.md "Incomplete months") ----------------------------------------
    undelivered = _one(con, """SELECT department, source, coverage FROM months.source_coverage
                               WHERE month = ? AND counted AND coverage <> 'delivered' ORDER BY source_order""", [month]) \
        if ("months", "source_coverage") in rels else []
    withheld = _one(con, """SELECT alert_type, town_code, missing_sources, count(*) FROM months.withheld_evaluations
                            WHERE month = ? GROUP BY ALL""", [month]) if ("months", "withheld_evaluations") in rels else []
    withheld_by_type: dict[str, int] = {}
    withheld_sources: dict[str, set] = {}
    withheld_by_town: dict[str, int] = {}
    for t, town, srcs, n in withheld:
        withheld_by_type[t] = withheld_by_type.get(t, 0) + n
        withheld_sources.setdefault(t, set()).update((srcs or "").split(","))
        withheld_by_town[town] = withheld_by_town.get(town, 0) + n
    departments = {s.source: s.department for s in source_catalogue()}
    departments["PRE_EXIT_BENEFIT_UNKNOWN"] = "民政局：渐退前月保障金额未知"  # rules-variants.md r5 (38_withheld.sql)
    withheld_type_rows = [[esc(names.get(a.alert_type, a.alert_name)), f"<code>{esc(a.alert_type)}</code>", num(withheld_by_type[a.alert_type]),
                           esc("、".join(departments.get(x, x) for x in sorted(withheld_sources[a.alert_type]) if x))]
                          for a in alert_catalogue() if a.alert_type in withheld_by_type]
    withheld_town_rows = [[esc(towns.get(t, t)), esc(t), num(n)] for t, n in sorted(withheld_by_town.items(), key=lambda x: x[0] or "")]
    incomplete_text = ""
    if undelivered:
        gone = "、".join(f"{d}{COVERAGE_NAMES.get(c, c)}" for d, _, c in undelivered)
        incomplete_text = (f"<b>本月数据不完整</b>：{esc(gone)}。这些部门的数据按“未知”处理，不当作“没有收入、没有房产”："
                           f"依赖它们的认定暂定为“待定”（{num(det.get('PENDING', 0))} 户），相关预警暂缓发出（{num(sum(withheld_by_type.values()))} 项评估暂缓，"
                           "见“暂缓评估”）；名单只列出有正面证据的预警。部门补报后重新运行本月，结果会被替换。")

    # ---- assemble ----------------------------------------------------------------------------
    if n_err:
        verdict = ("err", f"<b>数据存在错误，不宜使用</b>：{n_err} 项检查未通过（错误）、{n_warn} 项警告。请先处理下列问题。")
    elif n_warn:
        verdict = ("warn", f"<b>可以使用，但请注意</b>：{n_warn} 项检查有警告，见“数据检查”。")
    else:
        verdict = ("ok", "<b>数据可信，可以使用</b>：全部检查通过。")
    if incomplete_text:  # said first: it changes what the lists mean
        verdict = ("err" if n_err else "warn", incomplete_text + "<br>" + verdict[1])
    high_total = sum(v[1] for v in cur.values())
    kpis = [("预警总数", num(total_alerts)), ("高优先级", num(high_total)), ("在册家庭", num(sum(roster.get((month, t), 0) for t in rtypes))),
            ("认定家庭", num(sum(det.values()))), ("隔离行", num(sum(v[5] for v in loads.values()))),
            ("未接收来源", num(len(undelivered))), ("暂缓评估", num(sum(withheld_by_type.values())))]
    sections = [
        ("checks", "数据检查", table(["检查", "代码", "结果", "说明"], check_rows, wrap={3})
         + "<p class='note'>错误级检查未通过时本月结果不会发布；阈值可通过环境变量 LIM_QUALITY_* 配置（见 README）。</p>"),
        ("alerts", "预警类型", table(["预警类型", "代码", "本月", "其中高优先级", "其中新增", "上月"], type_rows, numeric={2, 3, 4, 5}, total=total_row)
         + type_bars + f"<h3>各类预警趋势（{months[0]} 至 {month}）</h3><div class='grid'>{type_trends}</div>"),
        ("towns", "各乡镇（街道）", table(["乡镇(街道)", "代码", "本月预警", "上月预警"], town_rows, numeric={2, 3})
         + f"<h3>各乡镇预警趋势</h3><div class='grid'>{town_trends}</div>"),
        ("loop", "核查反馈（闭环管理）", loop_section(con, rels, month, towns, names)),
        ("withheld", "暂缓评估（部门数据未齐）",
         ("<p>" + incomplete_text + "</p>" if incomplete_text else "<p>本月各部门数据齐全，没有暂缓的评估。</p>")
         + (table(["预警类型", "代码", "暂缓户数", "缺少的部门数据"], withheld_type_rows, numeric={2})
            + "<h3>各乡镇（街道）暂缓评估</h3>" + table(["乡镇(街道)", "代码", "暂缓评估数（户×预警类型）"], withheld_town_rows, numeric={2})
            + "<p class='note'>暂缓的预警不算“已解除”：部门补报后重新运行本月，或下月数据齐全时重新评估；"
              "新增/持续按最近一次完整评估的月份判断。</p>" if withheld else "")),
        ("roster", "在册救助家庭（按类别）", table(["乡镇(街道)"] + rtypes + ["合计"], roster_rows, numeric=set(range(1, len(rtypes) + 2)), total=roster_total)
         + legend(rtypes) + roster_chart
         + "<h3>本月认定结果（全部纳入考察的家庭）</h3>"
         + table(["认定", "代码", "户数"], [[esc(CATEGORY_NAMES.get(k, k)), f"<code>{esc(k)}</code>", num(det.get(k, 0))] for k in CATEGORY_NAMES], numeric={2})),
        ("targeting", "瞄准精度", table(["乡镇(街道)", "代码", "排斥误差", "纳入误差", "疑似错保户", "覆盖率（户数）", "覆盖率（金额）"], tm_rows, total=tm_total)
         + "<p class='note'>排斥误差 = 认定符合救助条件但不在救助台账的家庭 / 认定符合条件的家庭（估计值：户籍家庭只在有信号时纳入考察）；"
           "纳入误差 = 在册家庭中按关联数据认定为“不符合”或“资产超标”的 / 已认定的在册家庭；覆盖率按低保、特困两项现金救助计算："
           "户数 = 认定为低保或特困且正在领取的家庭 / 认定为低保或特困的家庭；金额 = 实发（不超过应发）/ 基本应发（不含分类施保）。</p>"
         + tm_chart),
        ("sources", "数据接收", table(["来源", "状态", "文件", "行数", "接收", "其中重复", "隔离", "隔离比例", "说明"], src_rows,
                                     numeric={3, 4, 5, 6, 7}, wrap={8})
         + (f"<p><b>未接收的来源：</b>{esc('、'.join(missing))}</p>" if missing else "<p>十个来源均已接收。</p>")
         + "<h3>隔离原因</h3>" + table(["来源", "原因代码", "行数"], reason_rows, numeric={2})),
        ("quality", "数据质量（Great Expectations）", table(["来源", "结果", "期望数", "通过", "错误", "警告", "详情"], q_rows, numeric={2, 3, 4, 5})
         + ("<p><a href='data_docs/index.html'>打开 Data Docs 总览</a>（期望由数据契约 checks/contracts 生成；不含样本值）</p>" if has_docs else "")
         + "<h3>未通过的期望</h3>" + table(["来源", "期望", "级别", "结果"], q_fail_rows, wrap={1})),
        ("notes", "说明", "<ul>"
         + f"<li>近 12 个月窗口中未运行的月份（不计入历史）：{esc('、'.join(missing_history) or '无')}</li>"
         + f"<li>政策文件中没有名称的乡镇代码（以代码显示）：{esc('、'.join(unknown_towns) or '无')}</li>"
         + f"<li>政策文件中没有名称的村（社区）代码（以代码显示）：{esc('、'.join(unknown_villages) or '无')}</li>"
         + f"<li>所属县不在政策文件中、未作认定的家庭：{esc('、'.join(f'{c}（{n} 户）' for c, n in no_policy) or '无')}</li>"
         + f"<li>趋势覆盖已运行的月份：{esc('、'.join(months))}</li>"
         + (f"<li>本月审核未通过的申请未纳入抽查（{esc('、'.join(n for (n,) in rejections_unsampled))}的政策要求抽查含申请未通过的对象，"
            "但民政局审核确认记录本月未报送或被拒收）：抽查名单只含新增审批家庭</li>" if rejections_unsampled else "")
         + "</ul>"),
    ]
    nav = "<nav>" + "".join(f"<a href='#{k}'>{esc(t)}</a>" for k, t, _ in sections) + "</nav>"
    body = "".join(f"<section id='{k}'><h2>{esc(t)}</h2>{c}</section>" for k, t, c in sections)
    kpi_html = "<div class='kpis'>" + "".join(f"<div class='kpi'><div class='v'>{v}</div><div class='l'>{esc(l)}</div></div>" for l, v in kpis) + "</div>"
    title = f"{month} 低收入人口动态监测月报"
    return ("<!doctype html>\n<html lang='zh-CN'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
            f"<h1>{esc(title)}</h1><p class='sub'>{esc('、'.join(county_names))} · 数据月份 {esc(month)}</p>"
            f"<div class='verdict {verdict[0]}' id='verdict'>{verdict[1]}</div>{kpi_html}{nav}{body}"
            "<footer>本报告由月度数据管道生成，可离线打开；数字来自数据仓库（本月 months，往月 main）。</footer>"
            "</main></body></html>\n")
