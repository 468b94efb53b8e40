"""How anonymous the analysts' copy is (issue #21 item 7), measured on a generated county:

    .venv/bin/python -m bench.anonymity --households 10000 [--months 2] [--seed 7] [--keep DIR]

Generates the county (`generator`), runs the months through Dagster (`pipelines.runner.run_month`;
the monthly run builds `analyst.duckdb`), then prints for the last month:

* k-anonymity of the household members on (town, age band, sex, household size, income band) as
  published in the copy (household_members_monthly ⋈ persons_monthly ⋈ households_monthly ⋈
  determinations): the smallest class among the members not suppressed, and the share suppressed
  (age band or sex left empty);
* the join attack: every row of the town lists (`<out>/<M>/towns/*.csv` or `alerts/*.csv`) matched
  against the copy on every column they share (type, status, first month, priority, town — the
  village gives its town —, household size, per-capita income within the copy's band, standard),
  a NULL in the copy matching anything; the households compatible through `alerts` and through
  `determinations` are intersected; a row is linked when exactly one household key is left.

The functions are used by tests/pipeline/test_anonymity.py on a smaller county.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb


def member_k(con, month: str) -> dict:
    """{'members', 'suppressed', 'min_k', 'classes_below_k'} for `month` of an open copy."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _q AS
        SELECT DISTINCT m.person_key, h.town_code, coalesce(d.household_size, h.n_listed) AS size, d.per_capita_income AS band,
               m.age_band, p.sex
        FROM household_members_monthly m
        LEFT JOIN households_monthly h ON h.month = m.month AND h.household_key = m.household_key
        LEFT JOIN determinations d ON d.month = m.month AND d.household_key = m.household_key
        LEFT JOIN persons_monthly p ON p.month = m.month AND p.person_key = m.person_key
        WHERE m.month = ? AND m.person_key IS NOT NULL""", [month])
    members = con.sql("SELECT count(DISTINCT person_key) FROM _q").fetchall()[0][0]
    suppressed = con.sql("SELECT count(DISTINCT person_key) FROM _q WHERE age_band IS NULL OR sex IS NULL").fetchall()[0][0]
    ks = con.sql("""SELECT count(DISTINCT person_key) AS k FROM _q WHERE age_band IS NOT NULL AND sex IS NOT NULL
                    GROUP BY town_code, size, band, age_band, sex""").fetchall()
    # the same measure on what an attacker had before (exact village, age, sex) is in the restricted warehouse
    return {"members": members, "suppressed": suppressed, "suppressed_share": round(suppressed / members, 4) if members else 0.0,
            "min_k": min((k for (k,) in ks), default=None), "classes_below_k": sum(1 for (k,) in ks if k < 5)}


def town_lists(out: Path, month: str) -> list[Path]:
    for sub in ("towns", "alerts"):
        files = sorted((Path(out) / month / sub).glob("*.csv"))
        if files:
            return files
    return []


def join_attack(con, csv_files: list[Path], month: str, true_key=None) -> dict:
    """{'rows', 'linked', 'linked_share', 'linked_correctly'}: the town lists' rows against the copy."""
    if not csv_files:
        return {"rows": 0, "linked": 0, "linked_share": 0.0, "linked_correctly": 0}
    files = [str(f) for f in csv_files]
    con.execute("""CREATE OR REPLACE TEMP TABLE _csv AS
        SELECT row_number() OVER () AS rid, * FROM read_csv(?, all_varchar = true, union_by_name = true, header = true)""", [files])
    cols = {c for (c,) in con.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = '_csv'").fetchall()}

    def col(name: str) -> str:
        return f'"{name}"' if name in cols else "NULL"

    con.execute(f"""CREATE OR REPLACE TEMP TABLE _r AS SELECT rid,
            {col('预警类型')} AS alert_name, {col('状态')} AS status, {col('首次预警月份')} AS first_month,
            {col('优先级')} AS priority, t.town_code, TRY_CAST({col('家庭人口')} AS BIGINT) AS size,
            floor(TRY_CAST({col('人均月收入')} AS DOUBLE) / 100) * 100 AS band, TRY_CAST({col('低保标准')} AS DOUBLE) AS standard,
            {col('家庭编号')} AS household_id
        FROM _csv c LEFT JOIN towns t ON t.town_name = c.{col('乡镇(街道)')}""")
    ok = "({a} IS NULL OR {r} IS NULL OR {a} = {r})"
    alert_match = " AND ".join(ok.format(a=f"a.{c}", r=f"r.{c}") for c in
                               ("alert_name", "status", "first_month", "priority", "town_code")) + \
        " AND " + ok.format(a="a.household_size", r="r.size") + " AND " + ok.format(a="a.per_capita_income", r="r.band") + \
        " AND " + ok.format(a="a.standard", r="r.standard")
    det_match = ok.format(a="d.town_code", r="r.town_code") + " AND " + ok.format(a="d.household_size", r="r.size") + \
        " AND " + ok.format(a="d.per_capita_income", r="r.band") + " AND " + ok.format(a="d.standard", r="r.standard")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _cand AS
        WITH a AS (SELECT r.rid, a.household_key FROM _r r JOIN alerts a ON a.month = ? AND {alert_match}),
             a_open AS (SELECT DISTINCT rid FROM a WHERE household_key IS NULL),
             d AS (SELECT r.rid, d.household_key FROM _r r JOIN determinations d ON d.month = ? AND {det_match}),
             d_open AS (SELECT DISTINCT rid FROM d WHERE household_key IS NULL),
             sa AS (SELECT DISTINCT rid, household_key FROM a WHERE rid NOT IN (SELECT rid FROM a_open)),
             sd AS (SELECT DISTINCT rid, household_key FROM d WHERE rid NOT IN (SELECT rid FROM d_open))
        SELECT r.rid, k.household_key FROM _r r,
             LATERAL (SELECT household_key FROM sd WHERE sd.rid = r.rid
                      INTERSECT SELECT household_key FROM sa WHERE sa.rid = r.rid) k
        WHERE r.rid IN (SELECT rid FROM sa) AND r.rid IN (SELECT rid FROM sd)
        UNION ALL
        SELECT rid, household_key FROM sd WHERE rid NOT IN (SELECT rid FROM sa)
        UNION ALL
        SELECT rid, household_key FROM sa WHERE rid NOT IN (SELECT rid FROM sd) AND rid NOT IN (SELECT rid FROM d_open)""",
                [month, month])
    linked = con.sql("SELECT rid, any_value(household_key) FROM _cand GROUP BY rid HAVING count(DISTINCT household_key) = 1").fetchall()
    rows = con.sql("SELECT count(*) FROM _r").fetchall()[0][0]
    correct = 0
    if true_key is not None and linked:
        ids = dict(con.sql("SELECT rid, household_id FROM _r").fetchall())
        correct = sum(1 for rid, k in linked if ids.get(rid) and true_key(ids[rid]) == k)
    return {"rows": rows, "linked": len(linked), "linked_share": round(len(linked) / rows, 4) if rows else 0.0,
            "linked_correctly": correct}


def measure(copy_path: Path, out: Path, month: str, true_key=None) -> dict:
    con = duckdb.connect(str(copy_path), read_only=True)
    try:
        return {"month": month, "k": member_k(con, month),
                "join": join_attack(con, town_lists(out, month), month, true_key)}
    finally:
        con.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.anonymity", description="k-anonymity and join attack on the analysts' copy")
    ap.add_argument("--households", type=int, default=10000)
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--start", default="2026-05")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", help="work folder to keep (default: a temporary one)")
    a = ap.parse_args(argv)
    os.environ.setdefault("LIM_PSEUDONYM_KEY", "bench-anonymity-" + "k" * 32)
    from generator import generate
    from lim.publish.analyst_copy import load_key
    from tests.runs import run_months

    root = Path(a.keep or tempfile.mkdtemp(prefix="anon-bench-"))
    t0 = time.time()
    info = generate(out=root / "landing", households=a.households, months=a.months, start=a.start, seed=a.seed)
    months = info.get("months") if isinstance(info, dict) and info.get("months") else None
    if not months:
        y, m = map(int, a.start.split("-"))
        months = [f"{y + (m - 1 + i) // 12}-{(m - 1 + i) % 12 + 1:02d}" for i in range(a.months)]
    t1 = time.time()
    env = run_months(root, months, landing=root / "landing", policy=str(root / "landing" / "policy.yaml"))
    t2 = time.time()
    key = load_key()
    result = measure(env["warehouse"].parent / "analyst.duckdb", env["out"], months[-1],
                     true_key=lambda hid: key.pseudonym("H", hid))
    result.update(households=a.households, months=months, date=date.today().isoformat(),
                  seconds={"generate": round(t1 - t0, 1), "run": round(t2 - t1, 1)})
    k, j = result["k"], result["join"]
    print(f"{a.households} 户，{len(months)} 个月，测量 {months[-1]}（{result['date']}）")
    print(f"k 匿名（乡镇、年龄段、性别、家庭人口、收入段）：成员 {k['members']}，最小 k = {k['min_k']}，"
          f"隐去 {k['suppressed']}（{k['suppressed_share']:.1%}）")
    print(f"连接攻击：预警行 {j['rows']}，唯一链接到一个家庭假名键 {j['linked']}（{j['linked_share']:.1%}），其中正确 {j['linked_correctly']}")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
