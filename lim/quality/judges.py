"""The judgements of the quality checks: can this month's data be trusted before town staff act on it?

Plain functions of (con, month, QualityConfig); the Dagster asset checks are made from them in
checks/asset_checks.py.

Every check is *blocking*: it runs before the assets downstream of the asset it checks, and
when it fails at ERROR severity those assets — `published_month` among them — are not
materialized: the month is computed in the warehouse's months schema but nothing is published
and the previous good month stays in place. A WARN failure is shown (Dagster UI, log, report)
and publishing goes on.

| check (asset)                                   | WARN when                          | ERROR (blocks) when                 |
|-------------------------------------------------|------------------------------------|-------------------------------------|
| sources_delivered (source_records)              | a required source missing/refused  | a *critical* source (none by default)|
| row_volume_vs_previous_month (source_records)   | rows in changed > 20 % vs the last | > 50 % (state sources only)         |
|                                                 | month the source was accepted      |                                     |
| quarantine_share (source_records)               | > 5 % of a file's rows quarantined | off by default (e.g. 0.5)           |
| members_have_household (households_monthly)     | any member row without household   | > 50 % (both files accepted)        |
| one_determination_per_household (determinations)| —                                  | any household with 2+ rows          |
| alert_counts_vs_previous_month (alerts)         | a type changed > 50 % vs its last  | a type grew > 300 % (×4) from ≥ 20  |
|                                                 | fully evaluated month              |                                     |
| expectations_pass (quality_results)             | a `warning` expectation failed     | an `error` expectation failed       |

Thresholds are configuration: environment variables `LIM_QUALITY_<FIELD>` (upper-case field
of QualityConfig, e.g. `LIM_QUALITY_VOLUME_ERROR=0.8`; `off` disables an ERROR level). Small
files are not judged on shares (`*_min_rows`, `alerts_min_count`). Dated (event) sources —
health, medical_insurance, emergency — vary by nature, so their volume change only warns
unless `LIM_QUALITY_VOLUME_ERROR_EVENTS=1`. By default a missing or refused source and
quarantined rows only warn — extracts.md and interface.md: the run goes on with what is there,
and "a refused file or quarantined rows are reported, not fatal"; a deployment that wants them
to stop the month sets `LIM_QUALITY_CRITICAL_SOURCES` / `LIM_QUALITY_QUARANTINE_ERROR`.
"""

import math
from dataclasses import dataclass, fields

from lim.core import settings
from lim.core.settings import Settings

from lim.core.month import shift
from lim.core.contracts import SOURCES, load_contract
from lim.warehouse.warehouse import relation_exists


@dataclass(frozen=True)
class QualityConfig:
    critical_sources: tuple[str, ...] = ()  # e.g. civil_affairs_households,civil_affairs_members
    volume_warn: float | None = 0.20
    volume_error: float | None = 0.50
    volume_min_rows: int = 50
    volume_error_events: bool = False
    quarantine_warn: float | None = 0.05
    quarantine_error: float | None = None
    quarantine_min_rows: int = 20
    orphan_members_warn: float | None = 0.0
    orphan_members_error: float | None = 0.50
    alerts_warn: float | None = 0.50
    alerts_error: float | None = 3.00
    alerts_min_count: int = 20
    id_validity_min: float = 0.98

    @classmethod
    def from_env(cls, env: dict | None = None) -> "QualityConfig":
        """The thresholds of LIM_QUALITY_<FIELD> (Settings.quality of lim/core/settings.py; `env`: a
        mapping of variables instead of this process's environment)."""
        given = dict(settings.current().quality if env is None else Settings.from_env(env).quality)
        values = {}
        for f in fields(cls):
            raw = given.get(f.name)
            if raw is None or raw.strip() == "":
                continue
            raw = raw.strip()
            if f.name == "critical_sources":
                values[f.name] = tuple(s.strip() for s in raw.split(",") if s.strip())
            elif f.name == "volume_error_events":
                values[f.name] = raw.lower() in ("1", "true", "yes", "on")
            elif raw.lower() in ("off", "none", "-"):
                values[f.name] = None
            elif f.name.endswith(("_rows", "_count")):
                values[f.name] = int(raw)
            else:
                values[f.name] = float(raw)
        return cls(**values)

    def as_metadata(self, *names: str) -> dict:
        return {n: (",".join(getattr(self, n)) if isinstance(getattr(self, n), tuple) else
                    ("off" if getattr(self, n) is None else getattr(self, n))) for n in names}


def _over(value: float, threshold: float | None) -> bool:
    return threshold is not None and value > threshold


def _pct(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x:.0%}"


def _loads(con, schema: str, month: str) -> dict[str, dict]:
    rows = con.sql(f"SELECT source, status, rows_in, rows_accepted, rows_quarantined, coalesce(message, ''), sha256 "
                   f"FROM {schema}.load_log WHERE month = ?", params=[month]).fetchall()
    return {r[0]: {"status": r[1], "rows_in": r[2] or 0, "rows_accepted": r[3] or 0, "rows_quarantined": r[4] or 0,
                   "message": r[5], "sha256": r[6]} for r in rows}


def _name(source: str) -> str:
    return f"{load_contract(source).department}（{source}）"


# --------------------------------------------------------------------------------------------
# the judgements, as plain functions of (con, month, cfg) -> (errors, warnings, ok text, metadata)
# --------------------------------------------------------------------------------------------
def judge_sources(con, month: str, cfg: QualityConfig):
    cur, prev = _loads(con, "months", month), _loads(con, "main", shift(month, -1))
    errors, warns, status = [], [], {}
    for s in SOURCES:
        st = cur.get(s, {"status": "missing"})["status"]
        status[s] = st
        if st == "accepted":
            continue
        optional = load_contract(s).optional
        if st == "missing" and optional:
            continue  # interpretations.md #7: an optional register not delivered is normal
        late = " 上月已报送，疑为迟报" if prev.get(s, {}).get("status") == "accepted" and st == "missing" else ""
        text = f"{_name(s)} {'未报送' if st == 'missing' else '文件被拒收（' + st + '）'}{late}"
        (errors if s in cfg.critical_sources else warns).append(text)
    for found in (errors, warns):  # a month with undelivered sources is incomplete, not an anomaly
        if found:
            found[0] = "本月数据不完整：" + found[0]
    # A file byte-identical to last month's is reported as a likely resend (said here and in the
    # report's sources table); not a warning: a department's list may well not change in a month.
    resent = [_name(s) for s, this in sorted(cur.items())
              if this["status"] == "accepted" and this["rows_in"] > 0 and not s.startswith("civil_affairs")
              and this.get("sha256") and this.get("sha256") == prev.get(s, {}).get("sha256")]
    note = f"；{'、'.join(resent)} 本月文件与上月完全相同（SHA-256），疑为重复报送上月文件，请与部门核实" if resent else ""
    if note:
        warns = [w + note if i == len(warns) - 1 else w for i, w in enumerate(warns)]
    return errors, warns, "各来源均已按时报送并被接收" + note, {"status": status, "likely_resends": resent,
                                                       **cfg.as_metadata("critical_sources")}


def _latest_accepted(con, month: str) -> dict[str, tuple[str, int]]:
    """For each source, the latest month before M whose file was accepted, and its rows in: the
    month-over-month checks compare with the latest month in which the same thing was evaluated
    (rules.md "Incomplete months"), so the month after a missing or refused file is not judged
    against nothing."""
    rows = con.sql("""SELECT source, arg_max(month, month), arg_max(rows_in, month) FROM main.load_log
                      WHERE month < ? AND status = 'accepted' GROUP BY source""", params=[month]).fetchall()
    return {s: (m, n or 0) for s, m, n in rows}


def judge_volume(con, month: str, cfg: QualityConfig):
    cur, prev = _loads(con, "months", month), _latest_accepted(con, month)
    errors, warns, changes = [], [], {}
    for s in SOURCES:
        c, p = cur.get(s), prev.get(s)
        if not c or not p or c["status"] != "accepted" or p[1] < cfg.volume_min_rows:
            continue  # nothing to compare (first month, missing or refused: see sources_delivered)
        pm, p_rows = p
        share = abs(c["rows_in"] - p_rows) / p_rows
        changes[s] = round(share, 4)
        text = f"{_name(s)} 行数 {p_rows}（{pm}）→ {c['rows_in']}（变化 {_pct(share)}）"
        event = load_contract(s).is_dated
        if _over(share, cfg.volume_error) and (not event or cfg.volume_error_events):
            errors.append(text + f"，超过 {_pct(cfg.volume_error)}")
        elif _over(share, cfg.volume_warn):
            warns.append(text + f"，超过 {_pct(cfg.volume_warn)}")
    ok = (f"各来源行数与最近一次接收的月份相比变化在 {_pct(cfg.volume_warn or 0)} 以内" if changes
          else "无可比较的往月数据")
    return errors, warns, ok, {"change_share": changes, **cfg.as_metadata("volume_warn", "volume_error", "volume_min_rows")}


def judge_quarantine(con, month: str, cfg: QualityConfig):
    errors, warns, shares = [], [], {}
    for s, l in sorted(_loads(con, "months", month).items()):
        if l["status"] != "accepted" or l["rows_in"] < cfg.quarantine_min_rows:
            continue
        share = l["rows_quarantined"] / l["rows_in"]
        shares[s] = round(share, 4)
        text = f"{_name(s)} 隔离 {l['rows_quarantined']}/{l['rows_in']} 行（{share:.1%}）"
        if _over(share, cfg.quarantine_error):
            errors.append(text + f"，超过 {_pct(cfg.quarantine_error)}")
        elif _over(share, cfg.quarantine_warn):
            warns.append(text + f"，超过 {_pct(cfg.quarantine_warn)}")
    return errors, warns, f"各来源隔离比例不超过 {_pct(cfg.quarantine_warn or 0)}", {
        "quarantine_share": shares, **cfg.as_metadata("quarantine_warn", "quarantine_error", "quarantine_min_rows")}


def judge_members(con, month: str, cfg: QualityConfig):
    members, orphans, sample = con.sql("""
        SELECT count(*), count(*) FILTER (WHERE h.household_id IS NULL),
               list(DISTINCT m.household_id ORDER BY m.household_id) FILTER (WHERE h.household_id IS NULL)[1:5]
        FROM months.src_civil_affairs_members m
        LEFT JOIN (SELECT DISTINCT household_id FROM months.src_civil_affairs_households WHERE month = ?) h USING (household_id)
        WHERE m.month = ?""", params=[month, month]).fetchall()[0]
    errors, warns = [], []
    share = orphans / members if members else 0.0
    loads = _loads(con, "months", month)
    both = all(loads.get(s, {}).get("status") == "accepted" for s in ("civil_affairs_households", "civil_affairs_members"))
    if orphans:
        text = (f"民政局 家庭成员 中 {orphans}/{members} 行（{share:.1%}）的家庭编号不在救助家庭台账中"
                f"（如 {'、'.join(sample or [])}），这些成员不属于任何在册家庭")
        if both and _over(share, cfg.orphan_members_error):  # a refused households file: sources_delivered says so
            errors.append(text + f"，超过 {_pct(cfg.orphan_members_error)}")
        elif _over(share, cfg.orphan_members_warn):
            warns.append(text)
    return errors, warns, f"全部 {members} 行家庭成员都能找到所属救助家庭", {
        "member_rows": members, "orphan_rows": orphans, "orphan_share": round(share, 4),
        **cfg.as_metadata("orphan_members_warn", "orphan_members_error")}


def judge_determinations(con, month: str, cfg: QualityConfig):
    total, dups, sample = con.sql("""
        WITH k AS (SELECT household_source, household_id, count(*) AS n FROM months.determinations
                   WHERE month = ? GROUP BY ALL)
        SELECT coalesce(sum(n), 0), count(*) FILTER (WHERE n > 1),
               list(household_source || ':' || household_id ORDER BY household_source, household_id) FILTER (WHERE n > 1)[1:5]
        FROM k""", params=[month]).fetchall()[0]
    errors = [f"{dups} 户在本月有多个认定结果（如 {'、'.join(sample or [])}），规则要求每户每月一个"] if dups else []
    return errors, [], f"{total} 户，每户每月一个认定结果", {"determinations": int(total), "households_with_several": dups}


def judge_alerts(con, month: str, cfg: QualityConfig):
    """Each type against the latest earlier month in which it was evaluated in full (no evaluation
    of it withheld: rules.md "Incomplete months"); a type withheld for some households in M is not
    compared (the report counts what was withheld)."""
    cur = dict(con.sql("SELECT alert_type, count(*) FROM months.alerts WHERE month = ? GROUP BY 1", params=[month]).fetchall())
    withheld_now = dict(con.sql("SELECT alert_type, count(*) FROM months.withheld_evaluations WHERE month = ? GROUP BY 1",
                                params=[month]).fetchall()) if relation_exists(con, "months", "withheld_evaluations") else {}
    run_months = [m for (m,) in con.sql("SELECT DISTINCT month FROM main.load_log WHERE month < ? ORDER BY month DESC",
                                        params=[month]).fetchall()]
    if not run_months:
        return [], [], "此前没有运行过的月份，无可比较的往月预警", {"counts": cur}
    withheld_before = {(m, t) for m, t in con.sql("SELECT DISTINCT month, alert_type FROM main.withheld_evaluations WHERE month < ?",
                                                  params=[month]).fetchall()}
    history = {(m, t): n for m, t, n in con.sql("SELECT month, alert_type, count(*) FROM main.alerts WHERE month < ? GROUP BY 1, 2",
                                                params=[month]).fetchall()}
    types = sorted(set(cur) | {t for _, t in history})
    errors, warns, changes, compared_with, prev = [], [], {}, {}, {}
    for t in types:
        if t in withheld_now:
            continue
        pm = next((m for m in run_months if (m, t) not in withheld_before), None)
        if pm is None:
            continue
        c, p = cur.get(t, 0), history.get((pm, t), 0)
        prev[t], compared_with[t] = p, pm
        if max(c, p) < cfg.alerts_min_count:
            continue
        share = abs(c - p) / p if p else math.inf
        changes[t] = None if math.isinf(share) else round(share, 4)
        text = f"{t} 预警 {p}（{pm}）→ {c}（变化 {_pct(share)}）"
        # A jump blocks only from a base big enough to judge: a type new this month, or grown from
        # fewer than alerts_min_count (e.g. a history-based type in the second month run), warns.
        if p >= cfg.alerts_min_count and c > p and _over(share, cfg.alerts_error):
            errors.append(text + f"，增幅超过 {_pct(cfg.alerts_error)}")
        elif _over(share, cfg.alerts_warn):
            warns.append(text + (f"，超过 {_pct(cfg.alerts_warn)}" if p else "，比较月份没有此类预警")
                         + (f"（比较月份不足 {cfg.alerts_min_count} 条，只提示）" if 0 < p < cfg.alerts_min_count
                            and c > p and _over(share, cfg.alerts_error) else ""))
    ok = f"各类预警数与最近一次完整评估的月份相比变化在 {_pct(cfg.alerts_warn or 0)} 以内"
    if withheld_now:
        ok += f"；本月数据不完整，{len(withheld_now)} 类预警有暂缓评估，不作比较"
    return errors, warns, ok, {
        "counts": cur, "previous": prev, "compared_with": compared_with, "change_share": changes,
        "withheld_types": withheld_now, **cfg.as_metadata("alerts_warn", "alerts_error", "alerts_min_count")}


def judge_expectations(con, month: str, cfg: QualityConfig):
    exists = con.sql("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'months' AND table_name = 'quality_results'").fetchall()[0][0]
    if not exists:
        return [], [], "本月没有可验证的来源", {}
    rows = con.sql("""SELECT source, severity, rule, unexpected_count, element_count, observed_value
                      FROM months.quality_results WHERE month = ? AND NOT success
                      ORDER BY source, severity, rule""", params=[month]).fetchall()
    total = con.sql("SELECT count(*), count(DISTINCT source) FROM months.quality_results WHERE month = ?", params=[month]).fetchall()[0]
    errors, warns = [], []
    for source, severity, rule, unexpected, elements, observed in rows:
        detail = f"{unexpected}/{elements} 行不符" if unexpected is not None else f"实际 {observed}"
        (errors if severity == "error" else warns).append(f"{source}：{rule}（{detail}）")
    return errors, warns, f"{total[1]} 个来源的 {total[0]} 项期望全部通过", {
        "expectations": total[0], "failed": len(rows), "id_validity_min": cfg.id_validity_min}


# --------------------------------------------------------------------------------------------
# the checks: (name, asset checked, judge, what it is called in messages, description); the Dagster
# asset checks (checks/asset_checks.py) and the report (lim/publish/report.py) are made from this list
# --------------------------------------------------------------------------------------------
CHECKS = [
    ("sources_delivered", "source_records", judge_sources, "来源报送检查",
     "每个来源本月是否报送并被接收；缺失或被拒收为警告，LIM_QUALITY_CRITICAL_SOURCES 所列的关键来源为错误。"),
    ("row_volume_vs_previous_month", "source_records", judge_volume, "行数变化检查",
     "各来源行数与上月相比：变化超过 20% 警告，超过 50% 错误（事件类来源只警告）。"),
    ("quarantine_share", "source_records", judge_quarantine, "隔离比例检查",
     "各来源被隔离行的比例：超过 5% 警告；设置 LIM_QUALITY_QUARANTINE_ERROR 后超过该比例为错误。"),
    ("members_have_household", "households_monthly", judge_members, "家庭成员归属检查",
     "参照完整性：每个家庭成员行的家庭编号都在救助家庭台账中；有缺失警告，超过 50% 错误（两个文件都被接收时）。"),
    ("one_determination_per_household", "determinations", judge_determinations, "认定唯一性检查",
     "每户每月只有一个认定结果。"),
    ("alert_counts_vs_previous_month", "alerts", judge_alerts, "预警数量变化检查",
     "各类预警数与上月相比：变化超过 50% 警告，增加超过 300% 错误（两月都少于 20 条不判断）。"),
    ("expectations_pass", "quality_results", judge_expectations, "数据契约期望检查",
     "Great Expectations 结果：error 级期望（契约）失败为错误，warning 级（身份证号有效率、唯一性）为警告。"),
]
