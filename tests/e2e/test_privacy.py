"""Personal data: masked staff CSVs unless the flag is given (and then logged), one file per town,
an analysts' database without names or ID numbers, owner-only files, no personal data in the
Dagster event log. Real runs of the scenario county (tests/scenario.py) through Dagster."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lim.publish.analyst_copy import _build as _real_build  # the original, for the spy below
from lim.publish.analyst_copy import (AnalystCopyError, PseudonymKeyError, build_analyst_copy, load_key,
                                    scan_for_personal_data)
from pipelines.definitions import build_resources
from lim.core.paths import ROOT
from pipelines.runner import FatalError, run_month
from lim.warehouse.warehouse import table_names
from tests import scenario
from tests.landing import write_month
from tests.runs import pseudonym_key_env

M_PREV, M = scenario.M_PREV, scenario.M
ID18 = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
HEX_DIGEST = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32,}(?![0-9A-Za-z])")
KEY = "k" * 16 + "0123456789abcdef0123"


def _people(hhs):
    return [p for h in hhs for p in h.people]


def run_county(root: Path, landing: Path, instance, full_ids: bool = False, months=(M_PREV, M)) -> dict:
    res = build_resources(warehouse=str(root / "wh" / "warehouse.duckdb"), landing=str(landing),
                          out=str(root / "out"), staged=str(root / "staged"), full_ids=full_ids)
    ids = []
    for m in months:
        o = run_month(m, res, instance=instance)
        assert o.success, o.message
        ids.append(o.run_id)
    return {"root": root, "out": root / "out", "wh": root / "wh" / "warehouse.duckdb",
            "analyst": root / "wh" / "analyst.duckdb", "run_ids": ids}


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    mp = pseudonym_key_env(KEY)
    base = tmp_path_factory.mktemp("privacy")
    hhs = scenario.households()
    landing = base / "landing"
    for m in (M_PREV, M):
        tables = scenario.tables_for(m, hhs)
        if m == M:  # a row that will be quarantined, with its full ID in the raw content
            tables["health"].append({**tables["health"][0], "event_date": "2026-13-45"})
        write_month(landing, m, tables)
    instance = dg.DagsterInstance.ephemeral()
    env = run_county(base / "masked", landing, instance)
    people = _people(hhs)
    yield {**env, "ids": {p.id for p in people}, "names": {p.name for p in people}, "hhs": hhs,
           "landing": landing, "instance": instance, "base": base}
    mp.undo()


def all_text_files(folder: Path):
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in (".csv", ".json", ".html"):
            yield p, p.read_text(encoding="utf-8-sig", errors="replace")


# --- staff files -----------------------------------------------------------------------------------
def test_no_full_id_in_any_output_without_the_flag(county):
    found = []
    for p, text in all_text_files(county["out"]):
        hits = [i for i in county["ids"] if i in text]
        if hits:
            found.append(f"{p.relative_to(county['out'])}: {len(hits)}")
    assert not found, found
    manifest = json.loads((county["out"] / M / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["full_ids"] is False


def test_staff_csvs_show_first6_last4(county):
    rows = list(csv.DictReader(open(county["out"] / M / "alerts_all.csv", encoding="utf-8-sig")))
    shown = [r["户主身份证号"] for r in rows if r["户主身份证号"]]
    assert shown and all(re.fullmatch(r"[0-9]{6}\*{8}[0-9]{3}[0-9X]", s) for s in shown)
    for r in rows:  # the masked form is the real ID's first 6 and last 4
        if r["户主身份证号"]:
            assert any(i[:6] == r["户主身份证号"][:6] and i[-4:] == r["户主身份证号"][-4:] for i in county["ids"])


def test_full_ids_only_with_the_flag_and_logged(county, tmp_path):
    # month M alone: what the flag does to its files and audit row does not depend on M-1
    env = run_county(tmp_path / "full", county["landing"], county["instance"], full_ids=True, months=(M,))
    text = (env["out"] / M / "alerts_all.csv").read_text(encoding="utf-8-sig")
    assert any(i in text for i in county["ids"])
    assert json.loads((env["out"] / M / "manifest.json").read_text(encoding="utf-8"))["full_ids"] is True
    con = duckdb.connect(str(env["wh"]), read_only=True)
    audit = con.sql("select full_ids from run_audit where month = ? and status = 'success'", params=[M]).fetchall()
    con.close()
    assert audit == [(True,)]


def test_one_file_per_town_with_only_its_own_rows(county):
    folder = county["out"] / M / "alerts"
    files = sorted(folder.glob("*.csv"))
    assert len(files) >= 2
    for f in files:
        town_code = f.name.split("_")[0]
        rows = list(csv.DictReader(open(f, encoding="utf-8-sig")))
        con = duckdb.connect(str(county["wh"]), read_only=True)
        expected = {r[0] for r in con.sql("select alert_id from alerts where month = ? and town_code = ?",
                                          params=[M, town_code]).fetchall()}
        con.close()
        assert {r["预警编号"] for r in rows} == expected


def test_output_files_are_owner_only(county):
    for p in [county["out"] / M, *(county["out"] / M).rglob("*"), county["wh"], county["analyst"]]:
        assert p.stat().st_mode & 0o077 == 0, f"{p}: {oct(p.stat().st_mode & 0o777)}"


# --- analysts' database ----------------------------------------------------------------------------
def analyst_text(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = []
        for t, c in con.sql("select table_name, column_name from duckdb_columns() where schema_name = 'main'").fetchall():
            out += [str(v) for (v,) in con.sql(f'select distinct "{c}"::VARCHAR from main."{t}" where "{c}" is not null').fetchall()]
        return out
    finally:
        con.close()


def test_analyst_db_has_no_id_number_and_no_name(county):
    values = analyst_text(county["analyst"])
    assert len(values) > 500
    assert not [v for v in values if ID18.search(v)]
    blob = "\n".join(values)
    assert not [i for i in county["ids"] if i in blob]
    assert not [n for n in county["names"] if n in blob]  # no name, not even inside a text


def test_analyst_db_keys_are_stable_and_keyed(county, tmp_path):
    con = duckdb.connect(str(county["analyst"]), read_only=True)
    keys = con.sql("select month, person_key from persons_monthly").fetchall()
    tables = {t for (t,) in con.sql("select table_name from duckdb_tables()").fetchall()}
    con.close()
    assert "run_audit" not in tables and "alerts" in tables and "persons_monthly" in tables
    assert not [t for t in tables if t.startswith("src_")]  # the departments' records stay in the bureau
    by_month = {}
    for m, k in keys:
        by_month.setdefault(m, set()).add(k)
    assert by_month[M_PREV] & by_month[M]  # the same person has the same key in both months
    assert all(re.fullmatch(r"P[0-9a-f]{24}", k) for _, k in keys)
    # the keys DuckDB computed are exactly HMAC-SHA256 of Python's hmac module, person by person
    wh = duckdb.connect(str(county["wh"]), read_only=True)
    ids = wh.sql("select month, id_number from persons_monthly").fetchall()
    wh.close()
    py_key = load_key()
    assert {(m, py_key.pseudonym("P", i)) for m, i in ids} == set(keys)
    # another key, other pseudonyms: nobody without the key can recompute them from ID numbers
    os.environ["LIM_PSEUDONYM_KEY"] = "z" * 40
    try:
        other = build_analyst_copy(str(county["wh"]), tmp_path / "other.duckdb")
    finally:
        os.environ["LIM_PSEUDONYM_KEY"] = KEY
    con = duckdb.connect(str(tmp_path / "other.duckdb"), read_only=True)
    other_keys = {k for (k,) in con.sql("select person_key from persons_monthly").fetchall()}
    con.close()
    assert not other_keys & {k for _, k in keys}
    assert other["key_fingerprint"] != load_key().fingerprint


def test_analyst_copy_refuses_a_leak(county, tmp_path):
    """The build scans its own result: a column it does not know (here a new table with names and IDs
    under innocent column names) stops the copy, and nothing is written."""
    wh_copy = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh_copy))
    con.execute(f"ATTACH '{county['wh']}' AS src (READ_ONLY)")
    con.execute("CREATE TABLE persons_monthly AS SELECT * FROM src.main.persons_monthly")
    con.execute("CREATE TABLE notes AS SELECT name AS remark, '证件 ' || id_number || ' 已核' AS memo FROM src.main.persons_monthly")
    con.execute("DETACH src")
    con.close()
    with pytest.raises(AnalystCopyError, match="notes"):
        build_analyst_copy(str(wh_copy), tmp_path / "a.duckdb")
    assert not (tmp_path / "a.duckdb").exists()
    assert not list(tmp_path.glob(".a.duckdb*"))


def test_key_configuration(tmp_path, monkeypatch):
    monkeypatch.delenv("LIM_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("LIM_PSEUDONYM_KEY_FILE", raising=False)
    monkeypatch.setenv("LIM_ENV", "production")
    with pytest.raises(PseudonymKeyError, match="LIM_PSEUDONYM_KEY"):
        load_key()
    key_file = tmp_path / "k"
    key_file.write_text("s" * 40 + "\n", encoding="utf-8")
    os.chmod(key_file, 0o644)
    monkeypatch.setenv("LIM_PSEUDONYM_KEY_FILE", str(key_file))
    with pytest.raises(PseudonymKeyError, match="chmod 600"):
        load_key()
    os.chmod(key_file, 0o600)
    assert load_key().secret == b"s" * 40
    monkeypatch.setenv("LIM_PSEUDONYM_KEY", "short")
    with pytest.raises(PseudonymKeyError, match="太短"):
        load_key()


def test_production_run_without_key_is_refused_before_it_starts(county, monkeypatch, tmp_path):
    monkeypatch.delenv("LIM_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("LIM_PSEUDONYM_KEY_FILE", raising=False)
    monkeypatch.setenv("LIM_ENV", "production")
    res = build_resources(warehouse=str(tmp_path / "wh" / "w.duckdb"), landing=str(county["landing"]),
                          out=str(tmp_path / "out"), staged=str(tmp_path / "staged"))
    with pytest.raises(FatalError) as e:
        run_month(M, res, instance=county["instance"])
    assert "\n" not in str(e.value) and "LIM_PSEUDONYM_KEY" in str(e.value)
    assert not (tmp_path / "out" / M).exists()


def test_lim_analyst_copy_command(county, tmp_path):
    dest = tmp_path / "for_analysts.duckdb"
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "analyst-copy", "--warehouse", str(county["wh"]),
                           "--dest", str(dest)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LIM_PSEUDONYM_KEY": KEY})
    assert proc.returncode == 0, proc.stderr
    assert "分析库" in proc.stdout and dest.exists() and dest.stat().st_mode & 0o077 == 0
    values = "\n".join(analyst_text(dest))
    assert not [i for i in county["ids"] if i in values]
    # in production without a key: one line, exit 2
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIM_PSEUDONYM")}
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "analyst-copy", "--warehouse", str(county["wh"]),
                           "--dest", str(tmp_path / "x.duckdb")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**env, "LIM_ENV": "production"})
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


# --- logs ------------------------------------------------------------------------------------------
def _event_log_text(instance, run_id: str) -> str:
    """Everything the run's event log holds: messages, metadata, errors with their stacks."""
    return "\n".join(repr(rec) for rec in instance.all_logs(run_id))


def test_no_personal_data_in_the_dagster_event_log(county, monkeypatch):
    instance = county["instance"]
    texts = [_event_log_text(instance, r) for r in county["run_ids"]]
    # a failed run too: its error and the skipped steps' messages
    monkeypatch.setenv("LIM_FAIL_AT", "rules")
    res = build_resources(warehouse=str(county["wh"]), landing=str(county["landing"]), out=str(county["out"]),
                          staged=str(county["root"] / "staged"))
    o = run_month(M, res, instance=instance)
    assert not o.success
    texts.append(_event_log_text(instance, o.run_id))
    blob = "\n".join(texts)
    assert len(blob) > 10000  # the log is really there
    assert not [i for i in county["ids"] if i in blob]
    # Dagster's own dagster/data_version tags are SHA-256 hex digests that change every run; about
    # one in 250 holds 18 decimal digits in a row. Digests are not text: leave them out of the
    # ID-shape search (the exact input IDs are searched for in the whole log above).
    assert not ID18.search(HEX_DIGEST.sub("", blob))
    assert not [n for n in county["names"] if n in blob]


def test_scan_finds_what_it_should(tmp_path):
    con = duckdb.connect()
    con.execute(f"ATTACH '{tmp_path / 'x.duckdb'}' AS x")
    con.execute("CREATE TABLE x.main.t (a VARCHAR, sha256 VARCHAR, b_key VARCHAR)")
    con.execute("INSERT INTO x.main.t VALUES ('身份证370322199001011238已核', '1234567890123456789012345678901234', 'P0123456789abcdef01234567'),"
                " ('ok', 'ab', 'H370322199001011238'), ('张三', NULL, '张三'), ('ok', NULL, NULL)")
    con.execute("CREATE TEMP TABLE _names AS SELECT '张三' AS n")
    leaks = scan_for_personal_data(con, "x")
    # the digest column is not taken for an ID; a key column holds keys only (an ID or a name in it is found)
    assert sorted(leaks) == sorted(["t.a 有 1 个值含身份证号样式的数字", "t.a 有 1 个值含人员姓名", "t.b_key 有 2 个值不是假名键"])


def _copy_rows(path: Path) -> dict[str, list]:
    con = duckdb.connect(str(path), read_only=True)
    out = {}
    for (t,) in con.sql("select table_name from duckdb_tables() order by 1").fetchall():
        cols = [r[0] for r in con.sql(f"describe {t}").fetchall() if r[0] != "built_at"]
        out[t] = (cols, sorted(con.sql(f"select {', '.join(cols)} from {t}").fetchall(), key=repr))
    con.close()
    return out


def test_monthly_update_of_the_copy_equals_a_full_build(county, tmp_path, monkeypatch):
    """The monthly run updates the existing copy with month M only; the result has the same tables,
    columns and rows as a full build of the warehouse. Another key or other columns: full build."""
    import lim.publish.analyst_copy as ac

    wh_copy = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh_copy))
    con.execute(f"ATTACH '{county['wh']}' AS src (READ_ONLY)")
    for t in table_names(con, "main", "src"):
        con.execute(f"CREATE TABLE main.{t} AS SELECT * FROM src.main.{t}")
    con.execute("DETACH src")
    # the copy of the warehouse before month M was run again ...
    build_analyst_copy(con, tmp_path / "analyst.duckdb")
    # ... and month M republished with other results (an alert less, one changed), policy changed too
    con.execute("DELETE FROM alerts WHERE month = ? AND alert_id = (SELECT min(alert_id) FROM alerts WHERE month = ?)", [M, M])
    con.execute("UPDATE alerts SET priority = '低' WHERE month = ? AND alert_id = (SELECT max(alert_id) FROM alerts WHERE month = ?)", [M, M])
    con.execute("UPDATE persons_monthly SET monthly_wage = monthly_wage + 1 WHERE month = ?", [M])
    con.execute("DELETE FROM towns WHERE town_code = (SELECT min(town_code) FROM towns)")
    built = []
    monkeypatch.setattr(ac, "_build", lambda *a, **k: built.append(1) or _real_build(*a, **k))
    info = build_analyst_copy(con, tmp_path / "analyst.duckdb", month=M)
    assert not built  # updated, not rebuilt
    monkeypatch.undo()
    build_analyst_copy(con, tmp_path / "full.duckdb")
    con.close()
    updated, full = _copy_rows(tmp_path / "analyst.duckdb"), _copy_rows(tmp_path / "full.duckdb")
    assert updated == full
    assert len(updated["alerts"][1]) > 10 and {r[0] for r in updated["alerts"][1]} == {M_PREV, M}
    assert info["months"] == [M_PREV, M] and info["persons"] > 0
    assert not list(tmp_path.glob(".analyst.duckdb*"))

    # another key: the old copy does not fit, it is built anew under the new key
    monkeypatch.setenv("LIM_PSEUDONYM_KEY", "q" * 40)
    built.clear()
    monkeypatch.setattr(ac, "_build", lambda *a, **k: built.append(1) or _real_build(*a, **k))
    other = build_analyst_copy(str(wh_copy), tmp_path / "analyst.duckdb", month=M)
    assert built and other["key_fingerprint"] == load_key().fingerprint
    con = duckdb.connect(str(tmp_path / "analyst.duckdb"), read_only=True)
    assert con.sql("select distinct key_fingerprint from about_this_copy").fetchall() == [(other["key_fingerprint"],)]
    con.close()

