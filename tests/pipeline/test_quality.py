"""Checks of issue #6: each check fails on data made to fail it and passes on good data.

The judgements (checks/asset_checks.py) are plain functions of a warehouse connection, tested
here on small hand-made months/main tables; the expectation suites (lim/quality/expectations.py) on
hand-made frames through Great Expectations; and one real pipeline month shows that an ERROR
check blocks publishing with a clear message (tests/pipeline/test_quality_county.py)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lim.quality import judges as ac
from lim.core.contracts import SOURCES, load_contract
from lim.warehouse import warehouse as wh
from tests import scenario
from tests.pipeline.test_quality_county import BAD_MONTH, county

M, PREV = "2026-06", "2026-05"
CFG = ac.QualityConfig()


@pytest.fixture
def con(tmp_path):
    c = wh.connect(str(tmp_path / "w.duckdb"))
    c.execute("CREATE TABLE months.load_log AS SELECT * FROM main.load_log WITH NO DATA")
    yield c
    c.close()


def _into(con, schema: str, table: str, month: str) -> str:
    """Where a hand-made row of `month` goes: months.<table>, or for an earlier month already
    published ("main") that month's table under the view main.<table> (lim/warehouse/warehouse.py)."""
    if schema != "main":
        return f"{schema}.{table}"
    name = wh.month_table(table, month)
    con.execute(f"CREATE TABLE IF NOT EXISTS months.{name} AS SELECT * FROM months.{wh.template_table(table)} WITH NO DATA")
    wh.refresh_view(con, table)
    return f"months.{name}"


def load(con, schema, month, source, status="accepted", rows_in=100, quarantined=0):
    con.execute(f"INSERT INTO {_into(con, schema, 'load_log', month)} (month, source, status, rows_in, rows_accepted, rows_quarantined) VALUES (?, ?, ?, ?, ?, ?)",
                [month, source, status, rows_in, rows_in - quarantined, quarantined])


def all_delivered(con, schema="months", month=M, rows=100, **over):
    for s in SOURCES:
        load(con, schema, month, s, **({"rows_in": rows} | over.get(s, {})))


def verdict(judge, con, cfg=CFG):
    errors, warns, _, _ = judge(con, M, cfg)
    return "error" if errors else ("warn" if warns else "pass")


# ---- sources_delivered ----------------------------------------------------------------------
def test_sources_delivered(con):
    all_delivered(con)
    assert verdict(ac.judge_sources, con) == "pass"
    con.execute("DELETE FROM months.load_log WHERE source = 'household_registration'")
    load(con, "months", M, "household_registration", status="missing", rows_in=0)
    assert verdict(ac.judge_sources, con) == "pass"  # optional register: normal
    con.execute("UPDATE months.load_log SET status = 'unreadable' WHERE source = 'education'")
    assert verdict(ac.judge_sources, con) == "warn"
    con.execute("UPDATE months.load_log SET status = 'missing' WHERE source = 'civil_affairs_members'")
    load(con, "main", PREV, "civil_affairs_members")
    assert verdict(ac.judge_sources, con) == "warn"  # the run goes on with what is there (extracts.md)
    critical = ac.QualityConfig(critical_sources=("civil_affairs_members",))
    errors, _, _, _ = ac.judge_sources(con, M, critical)
    assert any("家庭成员" in e and "迟报" in e for e in errors)


# ---- row_volume_vs_previous_month -------------------------------------------------------------
@pytest.mark.parametrize("cur,expected", [(110, "pass"), (130, "warn"), (40, "error"), (160, "error")])
def test_row_volume(con, cur, expected):
    all_delivered(con, "main", PREV)
    all_delivered(con, hr={"rows_in": cur})
    assert verdict(ac.judge_volume, con) == expected


def test_row_volume_events_only_warn_and_small_files_ignored(con):
    all_delivered(con, "main", PREV, emergency={"rows_in": 10})
    all_delivered(con, health={"rows_in": 20}, emergency={"rows_in": 0})
    assert verdict(ac.judge_volume, con) == "warn"  # health −80 %: an event source only warns
    assert verdict(ac.judge_volume, con, ac.QualityConfig(volume_error_events=True)) == "error"


def test_row_volume_first_month(con):
    all_delivered(con)
    assert verdict(ac.judge_volume, con) == "pass"


# ---- quarantine_share -------------------------------------------------------------------------
@pytest.mark.parametrize("q,expected", [(2, "pass"), (10, "warn"), (60, "error")])
def test_quarantine_share(con, q, expected):
    all_delivered(con, hr={"quarantined": q})
    assert verdict(ac.judge_quarantine, con, ac.QualityConfig(quarantine_error=0.5)) == expected
    assert verdict(ac.judge_quarantine, con) == ("pass" if q == 2 else "warn")  # default: reported, not fatal


# ---- members_have_household ---------------------------------------------------------------------
@pytest.mark.parametrize("orphans,expected", [(0, "pass"), (1, "warn"), (6, "error")])
def test_members_have_household(con, orphans, expected):
    con.execute("CREATE TABLE months.src_civil_affairs_households AS SELECT * FROM main.src_civil_affairs_households WITH NO DATA")
    con.execute("CREATE TABLE months.src_civil_affairs_members AS SELECT * FROM main.src_civil_affairs_members WITH NO DATA")
    con.execute("INSERT INTO months.src_civil_affairs_households (month, household_id) VALUES (?, 'H1')", [M])
    all_delivered(con)
    for i in range(10):
        con.execute("INSERT INTO months.src_civil_affairs_members (month, household_id, id_number) VALUES (?, ?, ?)",
                    [M, "H9" if i < orphans else "H1", f"P{i}"])
    errors, warns, _, md = ac.judge_members(con, M, CFG)
    assert verdict(ac.judge_members, con) == expected
    assert md["orphan_rows"] == orphans
    con.execute("UPDATE months.load_log SET status = 'unreadable' WHERE source = 'civil_affairs_households'")
    assert verdict(ac.judge_members, con) == ("pass" if orphans == 0 else "warn")  # refused file: only warn


# ---- one_determination_per_household ---------------------------------------------------------------
def test_one_determination_per_household(con):
    con.execute("CREATE TABLE months.determinations (month VARCHAR, household_id VARCHAR, household_source VARCHAR, category VARCHAR)")
    con.execute("INSERT INTO months.determinations VALUES (?, 'H1', 'civil_affairs', 'DIBAO'), (?, 'H2', 'civil_affairs', 'TEKUN'),"
                " (?, 'H1', 'rural_revitalization', 'DIBAO')", [M, M, M])
    assert verdict(ac.judge_determinations, con) == "pass"
    con.execute("INSERT INTO months.determinations VALUES (?, 'H1', 'civil_affairs', 'MARGINAL')", [M])
    errors, _, _, _ = ac.judge_determinations(con, M, CFG)
    assert errors and "civil_affairs:H1" in errors[0]


# ---- alert_counts_vs_previous_month ------------------------------------------------------------------
def _alerts(con, schema, month, counts):
    for t, n in counts.items():
        con.execute(f"INSERT INTO {_into(con, schema, 'alerts', month)} (month, alert_type) SELECT ?, ? FROM range(?)", [month, t, n])


@pytest.mark.parametrize("cur,expected", [(120, "pass"), (40, "warn"), (200, "warn"), (500, "error")])
def test_alert_counts(con, cur, expected):
    con.execute("CREATE TABLE months.alerts AS SELECT * FROM main.alerts WITH NO DATA")
    all_delivered(con, "main", PREV)
    _alerts(con, "main", PREV, {"REVIEW_DUE": 100, "DIBAO_OMISSION": 5})
    _alerts(con, "months", M, {"REVIEW_DUE": cur, "DIBAO_OMISSION": 15})  # 5 → 15: too few to judge
    assert verdict(ac.judge_alerts, con) == expected


def test_alert_counts_jump_from_a_small_base_only_warns(con):
    """6 → 31 (+417 %): last month had too few of the type to call the jump a defect (a generated
    county's second month: GRADUAL_EXIT_REVERT needs history). 20 → 90 (+350 %) still blocks."""
    con.execute("CREATE TABLE months.alerts AS SELECT * FROM main.alerts WITH NO DATA")
    all_delivered(con, "main", PREV)
    _alerts(con, "main", PREV, {"GRADUAL_EXIT_REVERT": 6})
    _alerts(con, "months", M, {"GRADUAL_EXIT_REVERT": 31})
    assert verdict(ac.judge_alerts, con) == "warn"
    con.execute(f"DELETE FROM {_into(con, 'main', 'alerts', PREV)}; DELETE FROM months.alerts")
    _alerts(con, "main", PREV, {"GRADUAL_EXIT_REVERT": 20})
    _alerts(con, "months", M, {"GRADUAL_EXIT_REVERT": 90})
    assert verdict(ac.judge_alerts, con) == "error"


def test_alert_counts_new_type_warns_and_first_month_passes(con):
    con.execute("CREATE TABLE months.alerts AS SELECT * FROM main.alerts WITH NO DATA")
    _alerts(con, "months", M, {"RELAPSE_RISK": 50})
    assert verdict(ac.judge_alerts, con) == "pass"  # M-1 never run
    all_delivered(con, "main", PREV)
    assert verdict(ac.judge_alerts, con) == "warn"  # a type that did not exist last month


# ---- expectations_pass ------------------------------------------------------------------------------
@pytest.mark.parametrize("failures,expected", [([], "pass"), (["warning"], "warn"), (["warning", "error"], "error")])
def test_expectations_pass(con, failures, expected):
    from lim.quality.build import QUALITY_COLUMNS
    con.execute(f"CREATE TABLE months.quality_results ({QUALITY_COLUMNS})")
    con.execute("INSERT INTO months.quality_results (month, source, rule, severity, success) VALUES (?, 'hr', 'ok', 'error', true)", [M])
    for sev in failures:
        con.execute("INSERT INTO months.quality_results (month, source, rule, severity, success, unexpected_count, element_count)"
                    " VALUES (?, 'hr', 'x', ?, false, 3, 10)", [M, sev])
    assert verdict(ac.judge_expectations, con) == expected


def test_config_from_env():
    cfg = ac.QualityConfig.from_env({"LIM_QUALITY_VOLUME_ERROR": "0.8", "LIM_QUALITY_QUARANTINE_ERROR": "off",
                                     "LIM_QUALITY_CRITICAL_SOURCES": "hr, civil_affairs_households",
                                     "LIM_QUALITY_ALERTS_MIN_COUNT": "5", "LIM_QUALITY_VOLUME_ERROR_EVENTS": "1"})
    assert (cfg.volume_error, cfg.quarantine_error, cfg.alerts_min_count, cfg.volume_error_events) == (0.8, None, 5, True)
    assert cfg.critical_sources == ("hr", "civil_affairs_households")
    assert ac.QualityConfig.from_env({}) == ac.QualityConfig()


# ---- expectation suites (Great Expectations) ------------------------------------------------------
def test_suites_come_from_the_contracts():
    from lim.quality.expectations import suite_specs
    for source in SOURCES:
        c = load_contract(source)
        specs = suite_specs(c, M)
        kinds = {(s.kind, s.column) for s in specs}
        for col in c.columns:
            assert ("ExpectColumnValuesToBeOfType", col.canonical) in kinds
            assert (("ExpectColumnValuesToNotBeNull", col.canonical) in kinds) == col.required
            if col.allowed:
                assert any(s.kind == "ExpectColumnValuesToBeInSet" and s.column == col.canonical
                           and s.kwargs["value_set"] == list(col.allowed) for s in specs)
            if col.type == "amount":
                assert any(s.kind == "ExpectColumnValuesToBeBetween" and s.column == col.canonical
                           and s.kwargs.get("min_value") == 0 for s in specs)
        if c.unique_key:
            assert any(s.severity == "warning" and "Unique" in s.kind for s in specs)
        if c.id_column:
            assert any(s.column == "_id_status" and s.kwargs.get("mostly") for s in specs)


def _good_medical(n=20):
    return pd.DataFrame({
        "id_number": [f"37032219860301{i:03d}X"[:18] for i in range(n)], "name": ["张三"] * n,
        "settlement_date": pd.to_datetime([dt.date(2026, 6, 10)] * n).astype("datetime64[ms]"),
        "total_cost": [100.0] * n, "fund_paid": [50.0] * n, "critical_illness_paid": [10.0] * n,
        "medical_assistance_paid": [5.0] * n, "out_of_pocket": [35.0] * n, "_id_status": ["valid"] * n,
        "_oop_residual": [0.0] * n}).astype({"id_number": "str", "name": "str", "_id_status": "str"})


def _good_households(n=5):
    return pd.DataFrame({
        "household_id": [f"H{i}" for i in range(n)], "region_code": ["370322101201"] * n, "urban_rural": ["农村"] * n,
        "assistance_type": ["低保"] * n, "since_month": ["2024-01"] * n, "gradual_exit_since": [None] * n,
        "monthly_benefit": [100.0] * n, "other_income": [0.0] * n, "financial_assets": [None] * n,
        "last_review_date": pd.to_datetime([dt.date(2026, 1, 5)] * n).astype("datetime64[ms]"),
        # rules-variants.md B.2: optional columns, staged empty when the file has no such header
        "support_mode": [None] * n, "support_income": [None] * n, "pre_exit_benefit": [None] * n}
    ).astype({"household_id": "str", "region_code": "str", "urban_rural": "str", "assistance_type": "str",
              "since_month": "str", "gradual_exit_since": "str", "financial_assets": "float64",
              "support_mode": "str", "support_income": "float64", "pre_exit_benefit": "float64"})


def test_gx_suites_pass_on_good_data_and_fail_on_bad(tmp_path):
    from lim.quality.expectations import run_suites
    bad_med = _good_medical()
    bad_med.loc[0, "out_of_pocket"] = 99.0
    bad_med.loc[0, "_oop_residual"] = 64.0                       # out-of-pocket identity broken
    bad_med.loc[1, "fund_paid"] = -5.0                           # negative amount
    bad_med.loc[2, "settlement_date"] = pd.Timestamp("2026-07-02")  # outside the month
    bad_med.loc[3:5, "_id_status"] = "bad_checksum"              # 3/20 = 85 % valid < 98 %
    bad_hh = _good_households()
    bad_hh.loc[1, "household_id"] = "H0"                         # duplicate key (grain: household)
    bad_hh.loc[2, "urban_rural"] = "郊区"                         # outside the allowed set
    bad_hh.loc[3, "since_month"] = None                          # required value missing
    good = run_suites(M, {"medical_insurance": _good_medical(), "civil_affairs_households": _good_households()},
                      tmp_path / "good")
    assert all(v.success for v in good.values()), [r for v in good.values() for r in v.results if not r["success"]]
    bad = run_suites(M, {"medical_insurance": bad_med, "civil_affairs_households": bad_hh}, tmp_path / "bad")
    failed = {(s, r["rule"].split("：")[0] if "：" in r["rule"] else r["rule"], r["severity"])
              for s, v in bad.items() for r in v.results if not r["success"]}
    heads = {f[1] for f in failed}
    assert {"统筹基金支付", "结算日期", "城乡类别", "保障开始月份"} <= heads
    assert any("个人自付" in h for h in heads)
    assert ("medical_insurance", "身份证号校验位有效率 ≥ 98%", "warning") in failed
    assert any(s == "civil_affairs_households" and sev == "warning" and "唯一" in h for s, h, sev in failed)
    # Data Docs: one page per validated source, no timestamp that would change on a rerun
    assert (tmp_path / "bad" / "index.html").exists() and bad["medical_insurance"].docs_page
    assert "?d=" not in (tmp_path / "bad" / "index.html").read_text(encoding="utf-8")


# ---- the real pipeline: an ERROR check blocks publishing ---------------------------------------------
def _evaluations(result):
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_good_months_pass_the_error_checks():
    env = county()
    assert all(o.success for o in env["outcomes"])
    assert (env["out"] / scenario.M / "report.html").exists()
    assert (env["out"] / scenario.M / "data_docs" / "index.html").exists()


def test_missing_critical_source_blocks_publishing():
    """LIM_QUALITY_CRITICAL_SOURCES names hr: its file missing stops the month."""
    env = county()
    result = env["bad_result"]
    assert not result.success
    ev = _evaluations(result)
    assert not ev["sources_delivered"].passed and ev["sources_delivered"].severity.value == "ERROR"
    assert "人社局" in ev["sources_delivered"].description and "阻止发布" in ev["sources_delivered"].description
    published = [m.asset_key.to_user_string() for m in result.get_asset_materialization_events()]
    assert "published_month" not in {p.split(".")[-1] for p in published}
    assert not (env["out"] / BAD_MONTH).exists()
    import duckdb
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    try:
        assert con.sql("SELECT count(*) FROM main.load_log WHERE month = ?", params=[BAD_MONTH]).fetchall()[0][0] == 0
    finally:
        con.close()
