"""The floor: what DuckDB alone needs to load every staged source of a month and join it to the
persons once — the least any pipeline over these files could cost after staging.

    python -m bench.floor --staged <staged>/<M> [--memory 6GB] [--threads 2] [--json out.json]

One SQL script (FLOOR_SQL, printed with --print-sql), on a fresh DuckDB file with the same
settings as the warehouse (memory_limit, threads, temp_directory, preserve_insertion_order):

1. `persons`: the distinct ID numbers of the staged household register, roster members and
   rural-revitalization members (the people the county knows);
2. every staged `<source>.parquet` is read once, whole (all columns, `_raw` included), and
   LEFT JOINed to `persons` on its ID number (the roster's household file, which has no ID
   column, to the roster members on 家庭编号), and materialized as a table `f_<source>`;
3. nothing else: no normalization, no identity linking, no rules, no outputs, no Dagster.

The pipeline does all of that and more (CSV parsing and normalization happen before staging
and are not in the floor), so `pipeline / floor` is an upper bound on our overhead relative to
the bare minimum of DuckDB work on the same data, on the same machine, in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from lim.core.contracts import SOURCES, load_contract


def floor_sql(staged_month: Path) -> str:
    staged_month = Path(staged_month)

    def pq(s: str) -> str:
        return (staged_month / f"{s}.parquet").as_posix().replace("'", "''")

    present = [s for s in SOURCES if (staged_month / f"{s}.parquet").exists()]
    known = [s for s in ("household_registration", "civil_affairs_members", "rural_revitalization") if s in present]
    parts = [f"SELECT id_number FROM read_parquet('{pq(s)}')" for s in known] or ["SELECT NULL::VARCHAR AS id_number"]
    lines = ["-- persons the county knows",
             "CREATE TABLE persons AS SELECT DISTINCT id_number FROM (\n    "
             + "\n    UNION ALL ".join(parts) + "\n) WHERE id_number IS NOT NULL;"]
    for s in present:
        c = load_contract(s)
        if c.id_column:
            lines.append(f"CREATE TABLE f_{s} AS SELECT src.*, p.id_number IS NOT NULL AS known\n"
                         f"FROM read_parquet('{pq(s)}') src LEFT JOIN persons p ON p.id_number = src.{c.id_column};")
        elif s == "civil_affairs_households" and "civil_affairs_members" in present:
            lines.append(f"CREATE TABLE f_{s} AS SELECT src.*, m.id_number\n"
                         f"FROM read_parquet('{pq(s)}') src LEFT JOIN f_civil_affairs_members m USING (household_id);")
        else:
            lines.append(f"CREATE TABLE f_{s} AS SELECT * FROM read_parquet('{pq(s)}');")
    return "\n".join(lines) + "\n"


def _order(sql: str) -> str:
    # roster households join the already loaded roster members: put them last
    stmts = sql.strip().split(";\n")
    last = [x for x in stmts if x.startswith("CREATE TABLE f_civil_affairs_households")]
    rest = [x for x in stmts if x not in last]
    return ";\n".join(rest + last).rstrip(";") + ";\n"


def run_floor(staged_month: Path, memory: str = "6GB", threads: int = 2, workdir: Path | None = None) -> dict:
    import duckdb

    sql = _order(floor_sql(staged_month))
    tmp = Path(tempfile.mkdtemp(prefix="floor-", dir=workdir))
    try:
        t0 = time.perf_counter()
        con = duckdb.connect(str(tmp / "floor.duckdb"))
        con.execute(f"SET memory_limit = '{memory}'; SET threads = {int(threads)}; "
                    f"SET temp_directory = '{(tmp / 'duckdb_tmp').as_posix()}'; SET preserve_insertion_order = false;")
        t1 = time.perf_counter()
        con.execute(sql)
        con.execute("CHECKPOINT")
        t2 = time.perf_counter()
        rows = {r[0]: r[1] for r in con.sql(
            "SELECT table_name, estimated_size FROM duckdb_tables() ORDER BY 1").fetchall()}
        con.close()
        return {"seconds": round(t2 - t1, 3), "connect_seconds": round(t1 - t0, 3), "tables": rows,
                "sql": sql, "memory_limit": memory, "threads": threads}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.splitlines()[0])
    ap.add_argument("--staged", required=True, help="<staged>/<YYYY-MM> folder of one month")
    ap.add_argument("--memory", default=os.environ.get("LIM_DUCKDB_MEMORY", "6GB"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--print-sql", action="store_true")
    a = ap.parse_args(argv)
    if a.print_sql:
        print(_order(floor_sql(Path(a.staged))))
        return 0
    res = run_floor(Path(a.staged), a.memory, a.threads, Path(a.workdir) if a.workdir else None)
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    text = json.dumps(res, ensure_ascii=False, indent=1)
    if a.json:
        Path(a.json).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
