"""The analysts' copy stays anonymous (issue #21 item 7): one generated county run through Dagster
for one month (its monthly run builds analyst.duckdb), then the attacks of the issue's report on
the real files — free text with names and IDs, a person called 城市, exact dates and ages, k-anonymity
of the members, and a town's alert list joined to the copy."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from bench.anonymity import join_attack, member_k, town_lists
from generator import generate
from lim.publish.analyst_copy import build_analyst_copy, load_key
from lim.warehouse.warehouse import table_names
from tests.e2e.test_privacy import _copy_rows, analyst_text
from tests.runs import pseudonym_key_env, run_months

M = "2026-05"
M_NEXT = "2026-06"
KEY = "anonymity-test-" + "k" * 30


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    mp = pseudonym_key_env(KEY)
    root = tmp_path_factory.mktemp("anonymity")
    generate(out=root / "landing", households=400, months=1, start=M, seed=7)
    env = run_months(root, [M], landing=root / "landing", policy=str(root / "landing" / "policy.yaml"))
    yield {"root": root, "wh": env["warehouse"], "out": env["out"], "analyst": env["warehouse"].parent / "analyst.duckdb"}
    mp.undo()


@pytest.fixture(scope="module")
def hostile(county, tmp_path_factory):
    """A writable copy of the warehouse with the report's hostile values planted in month M, and a
    month M+1 (month M's rows again) in which a person is called 城市 as well."""
    base = tmp_path_factory.mktemp("hostile")
    wh = base / "w.duckdb"
    con = duckdb.connect(str(wh))
    con.execute(f"ATTACH '{county['wh']}' AS src (READ_ONLY)")
    for t in table_names(con, "main", "src"):
        con.execute(f"CREATE TABLE main.{t} AS SELECT * FROM src.main.{t}")
    con.execute("DETACH src")
    (name, pid), (name2, _) = con.sql("SELECT name, id_number FROM household_members_monthly WHERE month = ? "
                                      "AND length(name) >= 2 ORDER BY id_number LIMIT 2", params=[M]).fetchall()
    some_ids = [i for (i,) in con.sql("SELECT id_number FROM persons_monthly WHERE month = ? ORDER BY id_number LIMIT 3",
                                      params=[M]).fetchall()]
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in some_ids[1])
    spaced = f"{some_ids[2][:6]} {some_ids[2][6:14]}-{some_ids[2][14:]}"
    con.execute("UPDATE persons_monthly SET school = ? || '的学校', serious_diagnoses = '患者' || ? || '，恶性肿瘤' "
                "WHERE month = ? AND id_number = ?", [name, name2, M, some_ids[0]])
    notes = ["ID" + some_ids[0], "证件 " + full_width, "身份证 " + spaced, f"联系{name}核实"]
    ids = [a for (a,) in con.sql("SELECT alert_id FROM alerts WHERE month = ? ORDER BY alert_id LIMIT 4", params=[M]).fetchall()]
    for a, note in zip(ids, notes):
        con.execute("UPDATE alerts SET data_note = ? WHERE month = ? AND alert_id = ?", [note, M, a])
    # a person called 城市, whose name is also a code (urban_rural) and a word of free text
    con.execute("UPDATE persons_monthly SET name = '城市' WHERE id_number = ?", [pid])
    con.execute("UPDATE household_members_monthly SET name = '城市' WHERE id_number = ?", [pid])
    con.execute("UPDATE alerts SET data_note = '城市低保标准已调整' WHERE month = ? AND alert_id = "
                "(SELECT max(alert_id) FROM alerts WHERE month = ?)", [M, M])
    build_analyst_copy(con, base / "analyst.duckdb")  # month M: not refused
    first = _suppressed(base / "analyst.duckdb")
    for t in table_names(con, "main"):
        cols = [c for (c,) in con.sql(f"SELECT column_name FROM duckdb_columns() WHERE table_name = '{t}' AND schema_name = 'main'").fetchall()]
        if "month" in cols:
            sel = ", ".join("? AS month" if c == "month" else f'"{c}"' for c in cols)
            con.execute(f"INSERT INTO {t} SELECT {sel} FROM {t} WHERE month = ?", [M_NEXT, M])
    info = build_analyst_copy(con, base / "analyst.duckdb", month=M_NEXT)  # the monthly update of M+1
    build_analyst_copy(con, base / "full.duckdb")
    con.close()
    return {"copy": base / "analyst.duckdb", "full": base / "full.duckdb", "name": name, "name2": name2,
            "ids": some_ids, "first": first, "info": info}


def _suppressed(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {(m, t, c, r): n for m, t, c, r, n in con.sql(
            "SELECT month, table_name, column_name, reason, sum(cells) FROM about_this_copy_suppressed GROUP BY ALL").fetchall()}
    finally:
        con.close()


def test_school_and_diagnosis_with_a_name_are_generalized(hostile):
    blob = "\n".join(analyst_text(hostile["copy"]))
    assert hostile["name"] not in blob and hostile["name2"] not in blob and "的学校" not in blob
    con = duckdb.connect(str(hostile["copy"]), read_only=True)
    cols = {c for (c,) in con.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = 'persons_monthly'").fetchall()}
    assert "school" not in cols and "school_stage" in cols
    diagnoses = {v for (v,) in con.sql("SELECT DISTINCT serious_diagnoses FROM persons_monthly").fetchall()}
    con.close()
    assert diagnoses == {None, "重大疾病"}


def test_prefixed_full_width_and_spaced_ids_are_found_and_suppressed(hostile):
    values = analyst_text(hostile["copy"])
    blob = "\n".join(values)
    assert not [i for i in hostile["ids"] if i in blob]
    spaced = f"{hostile['ids'][2][:6]} "
    assert not [v for v in values if "证件 " in v or spaced in v or re.match(r"ID[0-9]", v)]
    found = {k: n for k, n in hostile["first"].items() if k[1] == "alerts" and k[2] == "data_note"}
    assert found[(M, "alerts", "data_note", "个人信息扫描：身份证号样式的数字")] == 3
    assert found[(M, "alerts", "data_note", "个人信息扫描：人员姓名")] == 2  # 联系<name>核实 and 城市低保标准已调整


def test_a_person_called_chengshi_locks_no_month(hostile):
    """城市 is a person's name and a code: the coded column keeps it, the copy is published for M and
    updated for M+1, and the update equals a full build."""
    assert hostile["info"]["months"] == [M, M_NEXT]
    con = duckdb.connect(str(hostile["copy"]), read_only=True)
    codes = con.sql("SELECT month, count(*) FROM households_monthly WHERE urban_rural = '城市' GROUP BY 1 ORDER BY 1").fetchall()
    con.close()
    assert [m for m, n in codes if n > 0] == [M, M_NEXT]
    suppressed = _suppressed(hostile["copy"])
    assert suppressed[(M_NEXT, "alerts", "data_note", "个人信息扫描：人员姓名")] == 2
    assert _copy_rows(hostile["copy"]) == _copy_rows(hostile["full"])


def test_exact_dates_and_ages_are_gone(county):
    con = duckdb.connect(str(county["analyst"]), read_only=True)
    cols = con.sql("SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main'").fetchall()
    bands = {v for (v,) in con.sql("SELECT DISTINCT age_band FROM household_members_monthly UNION "
                                   "SELECT DISTINCT age_band FROM persons_monthly").fetchall()}
    deaths = {v for (v,) in con.sql("SELECT DISTINCT death_month FROM persons_monthly").fetchall()}
    incomes = {v for (v,) in con.sql("SELECT DISTINCT per_capita_income FROM determinations WHERE per_capita_income IS NOT NULL").fetchall()}
    con.close()
    assert not [(t, c) for t, c, ty in cols if ty == "DATE" or c.endswith("_date") or c in ("age", "birth_date", "death_evidence", "school")]
    assert len(bands) > 5 and all(b is None or re.fullmatch(r"[0-9]{2}-[0-9]{2}|00-17|18-59|60\+", b) for b in bands)
    assert all(d is None or re.fullmatch(r"[0-9]{4}-[0-9]{2}", d) for d in deaths)
    assert incomes and all(v % 100 == 0 for v in incomes)


def test_members_are_k_anonymous(county):
    con = duckdb.connect(str(county["analyst"]), read_only=True)
    k = member_k(con, M)
    con.close()
    print(k)
    assert k["members"] > 300
    assert k["min_k"] >= 5 and k["classes_below_k"] == 0
    assert k["suppressed_share"] < 0.4  # most members keep their age band and sex


def test_join_attack_on_a_town_list_links_at_most_5_percent(county):
    files = town_lists(county["out"], M)
    assert files
    key = load_key()
    con = duckdb.connect(str(county["analyst"]), read_only=True)
    r = join_attack(con, files, M, true_key=lambda hid: key.pseudonym("H", hid))
    con.close()
    print(r)
    assert r["rows"] > 50
    assert r["linked_share"] <= 0.05
