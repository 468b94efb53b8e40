"""What a town caseworker and an analyst check in the outputs of a run (interface.md)."""
from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import duckdb

from tests import scenario
from tests.conftest import TEST_POLICY
from tests.runs import run_months, scenario_county_rerun

PRIORITY = {"高": 1, "中": 2, "低": 3}


def read_csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} must start with a UTF-8 BOM for Excel/WPS"
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_staff_csv_per_town_masked_sorted(county):
    month_dir = county["out"] / scenario.M
    rows_all = read_csv(month_dir / "alerts_all.csv")
    assert len(rows_all) == county["con"].sql("select count(*) from alerts where month = ?", params=[scenario.M]).fetchall()[0][0]
    header = list(rows_all[0].keys())
    assert header == ["预警编号", "预警类型", "优先级", "状态", "首次预警月份", "家庭编号", "户主姓名", "户主身份证号",
                           "乡镇(街道)", "村(社区)", "家庭人口", "人均月收入", "低保标准", "预警原因", "依据", "建议措施", "数据说明"]
    assert {r["数据说明"] for r in rows_all} == {""}, "every department delivered for M: the note is empty"
    town_files = sorted((month_dir / "alerts").glob("*.csv"))
    assert {p.name for p in town_files} >= {"370322101_青城镇.csv", "370322001_田镇街道.csv"}
    seen = 0
    for p in town_files:
        rows = read_csv(p)
        seen += len(rows)
        town_name = p.stem.split("_", 1)[1]
        assert all(r["乡镇(街道)"] == town_name for r in rows), "a town's file holds only its own households"
        keys = [(PRIORITY[r["优先级"]], r["村(社区)"]) for r in rows]
        assert keys == sorted(keys), f"{p.name} not sorted by priority then village"
        for r in rows:
            assert re.fullmatch(r"\d{6}\*{8}[\dX]{4}", r["户主身份证号"]), r["户主身份证号"]
            assert r["预警原因"] and r["依据"] and r["建议措施"]
    assert seen == len(rows_all)
    # no full 18-digit ID anywhere in the staff files
    for p in [month_dir / "alerts_all.csv", *town_files, month_dir / "audit_sample.csv"]:
        assert not re.search(r"\d{17}[\dX]", p.read_text(encoding="utf-8-sig")), p


def test_reason_text_is_plain_chinese_with_numbers(county):
    rows = read_csv(county["out"] / scenario.M / "alerts_all.csv")
    name = county["con"].sql("select any_value(alert_name) from alerts where alert_type = 'DIBAO_OMISSION'").fetchall()[0][0]
    by_hh = {(r["家庭编号"], r["预警类型"]): r for r in rows}
    r = by_hh[("RR-W1", name)]
    assert r["预警原因"].startswith("家庭人均月收入 400 元，低于农村低保标准 800 元")
    assert "王一 月工资 1500 元" in r["依据"] and "扣减就业成本 300 元" in r["依据"]
    assert r["优先级"] == "高" and r["状态"] == "持续" and r["首次预警月份"] == scenario.M_PREV


def test_priority_and_status(county):
    con = county["con"]
    got = dict(con.sql("select household_id || '/' || alert_type, priority || status || first_month from alerts where month = ?",
                       params=[scenario.M]).fetchall())
    assert got["RR-REL/RELAPSE_RISK"] == "高新增" + scenario.M          # two shocks (ILLNESS, JOB_LOSS)
    assert got["RR-LOW/RELAPSE_RISK"].startswith("中")                  # one shock, not DIBAO/TEKUN
    assert got["CA-W4/GRADUAL_EXIT_END"] == "中新增" + scenario.M       # 17 months in M-1, 18 in M
    assert got["CA-T70/REVIEW_DUE"] == "低新增" + scenario.M
    assert got["CA-DEAD/DECEASED_RECIPIENT"] == "高持续" + scenario.M_PREV
    assert got["REG-DIS/DISASTER_AFFECTED"] == "高新增" + scenario.M
    members = con.sql("select alert_type, count(*) filter (where member_id_number is null) from alerts where month = ? group by 1",
                      params=[scenario.M]).fetchall()
    for alert_type, without_member in members:
        if alert_type in ("SINGLE_PERSON_DIBAO", "DECEASED_RECIPIENT", "STUDENT_DROPOUT", "DUPLICATE_ASSISTANCE"):
            assert without_member == 0, alert_type
        else:
            assert without_member > 0, alert_type


def test_load_log_counts_every_row(county):
    rows = county["con"].sql("select source, file, rows_in, rows_accepted, rows_quarantined, status from load_log").fetchall()
    assert rows
    for source, file, rows_in, accepted, quarantined, status in rows:
        if status == "accepted":
            assert rows_in == accepted + quarantined, (source, file)
    dup = county["con"].sql("select rows_duplicate from load_log where month = ? and source = 'hr'", params=[scenario.M]).fetchall()[0][0]
    assert dup == 1  # the person listed in two roster households appears twice, identically, in hr


def test_manifest_lists_every_file_with_checksums(county):
    month_dir = county["out"] / scenario.M
    m = json.loads((month_dir / "manifest.json").read_text(encoding="utf-8"))
    listed = {o["path"] for o in m["outputs"]}
    on_disk = {p.relative_to(month_dir).as_posix() for p in month_dir.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert listed == on_disk
    assert m["policy"]["periods"] == {"370322": "2025-07"}
    assert {i["source"] for i in m["inputs"]} >= {"hr", "civil_affairs_households"}
    assert m["full_ids"] is False


def test_rerun_is_identical_and_replaces_the_month(county):
    """Running a month again gives byte-identical files and one copy in every warehouse table."""
    before = {o["path"]: o["sha256"] for o in json.loads((county["out"] / scenario.M / "manifest.json").read_text())["outputs"]}
    env = scenario_county_rerun()  # a copy of county["root"] with 2026-06 run again there
    after = {o["path"]: o["sha256"] for o in json.loads((env["out"] / scenario.M / "manifest.json").read_text())["outputs"]}
    assert after == before
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    for table in ("alerts", "determinations", "load_log", "persons_monthly", "households_monthly", "quarantine", "src_hr"):
        n_run = con.sql(f"select count(*) from {table} where month = ?", params=[scenario.M]).fetchall()[0][0]
        n_orig = county["con"].sql(f"select count(*) from {table} where month = ?", params=[scenario.M]).fetchall()[0][0]
        assert n_run == n_orig, table
    dup = con.sql("select count(*) from (select household_source, household_id, count(*) c from determinations where month = ? group by all having c > 1)",
                  params=[scenario.M]).fetchall()[0][0]
    assert dup == 0
    con.close()


def test_full_ids_only_with_flag(county, tmp_path):
    root = tmp_path / "full"
    shutil.copytree(county["root"] / "landing", root / "landing")
    env = run_months(root, [scenario.M], policy=TEST_POLICY, full_ids=True)
    rows = read_csv(env["out"] / scenario.M / "alerts_all.csv")
    assert any(re.fullmatch(r"\d{17}[\dX]", r["户主身份证号"]) for r in rows)
    assert json.loads((env["out"] / scenario.M / "manifest.json").read_text())["full_ids"] is True


def test_analyst_tables_documented_in_the_database(county):
    """Every column of the analyst-facing tables carries a COMMENT (interface.md)."""
    con = county["con"]
    for table in ("alerts", "determinations", "persons_monthly", "households_monthly", "household_members_monthly",
                  "audit_sample", "quarantine", "load_log"):
        # monthly tables are views of main over one table per month (lim/warehouse/warehouse.py)
        assert con.sql("select comment from duckdb_views() where schema_name = 'main' and view_name = ?",
                       params=[table]).fetchall()[0][0], table
    undocumented = con.sql("""select table_name, column_name from duckdb_columns()
                              where schema_name = 'main' and comment is null
                                and table_name in ('alerts', 'determinations', 'persons_monthly', 'households_monthly',
                                                   'household_members_monthly')""").fetchall()
    assert undocumented == []


def test_every_table_and_column_documented_in_the_database(county):
    """interface.md: "Documentation of every table and column inside the database (COMMENT ON)" —
    not only the analyst-facing ones: the policy, audit, quality and department tables too."""
    con = county["con"]
    relations = con.sql("""select table_name, comment from duckdb_tables() where schema_name = 'main' and database_name = current_database()
                           union all select view_name, comment from duckdb_views()
                           where schema_name = 'main' and not internal and database_name = current_database()""").fetchall()
    assert len(relations) >= 25
    assert [t for t, c in relations if not c] == []
    undocumented = con.sql("""select table_name, column_name from duckdb_columns()
                              where schema_name = 'main' and database_name = current_database() and comment is null
                              order by all""").fetchall()
    assert undocumented == []


def test_unknown_town_and_village_codes_shown_by_code_and_reported(county, tmp_path):
    """interface.md: a town or village code met in the data but absent from the policy file is
    shown by its code and reported once per run — also when no alert of that town is raised."""
    con = county["con"]
    towns = {t for (t,) in con.sql("select distinct town_code from households_monthly where month = ?", params=[scenario.M]).fetchall()}
    alert_towns = {t for (t,) in con.sql("select distinct town_code from alerts where month = ?", params=[scenario.M]).fetchall()}
    # the policy names two villages; one of them is taken out of it
    villages = sorted(v for (v,) in con.sql("select distinct village_code from households_monthly where month = ? and village_code = '370322001001'",
                                            params=[scenario.M]).fetchall())
    quiet_town = sorted(towns - alert_towns)
    dropped_town = sorted(alert_towns)[0]
    text = Path(TEST_POLICY).read_text(encoding="utf-8")
    lines = [l for l in text.splitlines() if not any(l.strip().startswith(f'"{t}":') for t in [dropped_town, *quiet_town[:1], *villages])]
    policy = tmp_path / "policy.yaml"
    policy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    root = tmp_path / "run"
    shutil.copytree(county["root"] / "landing" / scenario.M, root / "landing" / scenario.M)
    env = run_months(root, [scenario.M], policy=str(policy))
    rows = read_csv(env["out"] / scenario.M / "alerts_all.csv")
    assert any(r["乡镇(街道)"] == dropped_town for r in rows)  # shown by its code
    assert (env["out"] / scenario.M / "alerts" / f"{dropped_town}_{dropped_town}.csv").exists()
    report = (env["out"] / scenario.M / "report.html").read_text(encoding="utf-8")
    notes = report[report.index("政策文件中没有名称的乡镇代码"):]
    assert dropped_town in notes.split("</li>")[0]
    if quiet_town:
        assert quiet_town[0] in notes.split("</li>")[0]
    village_note = notes.split("</li>")[1]
    assert "村（社区）代码" in village_note and villages and all(v in village_note for v in villages)
    assert "370322101201" not in village_note  # named in the policy file
    events = env["instance"].get_records_for_run(env["outcomes"][0].run_id).records
    warnings = [e.event_log_entry.user_message for e in events if "政策文件中没有这些" in (e.event_log_entry.user_message or "")]
    assert len(warnings) == 2 and dropped_town in warnings[0] and villages[0] in warnings[1]


def test_readme_documents_every_table_and_column(county):
    """interface.md: every table and column documented inside the database and in a document
    generated from it that the README links — docs/warehouse.md is the database's own COMMENT ON
    text (lim/warehouse/warehouse_docs.py)."""
    from lim.core.paths import ROOT
    from lim.warehouse.warehouse_docs import DOC, column_reference, current_block

    assert "docs/warehouse.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    readme = DOC.read_text(encoding="utf-8")
    expected = column_reference(county["con"])
    assert current_block(readme) == expected, "docs/warehouse.md out of date: .venv/bin/python -m lim.warehouse.warehouse_docs --warehouse <a warehouse>"
    for (table,) in county["con"].sql("select distinct table_name from duckdb_columns() where schema_name = 'main' "
                                      "and database_name = current_database()").fetchall():
        assert f"<code>{table}</code>" in readme, table
