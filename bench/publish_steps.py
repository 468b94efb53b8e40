"""The publish steps' library code alone, on a warehouse kept by `bench.run --keep`, for profiling
(`py-spy record -- python -m bench.publish_steps ...`) and before/after comparisons:

    python -m bench.publish_steps prepare <work>/wh/warehouse.duckdb /tmp/prepared.duckdb
    python -m bench.publish_steps publish /tmp/prepared.duckdb /tmp/pub --policy <landing>/policy.yaml
    python -m bench.publish_steps analyst <work>/wh/warehouse.duckdb /tmp/analyst.duckdb

`prepare` copies the published warehouse and puts month M's tables back where the month's steps
leave them before `published_month` (months.<t>, copied from months.<t>__YYYY_MM); `publish` runs
lim.publish.files.publish (what `published_month` calls) on a copy of it into <out>/out;
`analyst` runs build_analyst_copy (what `analyst_copy` calls: a full build, as in the benchmark).
Each prints its wall and CPU seconds (DuckDB's threads included) as JSON; the copies are made
before the clock starts. Compare the outputs with <out>/out/<M>/manifest.json (sha256 of every
file) and the copies' tables row by row.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

MONTH = "2026-06"


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def prepare(published: str, dest: str, month: str) -> None:
    from lim.warehouse import warehouse as wh

    shutil.copyfile(published, dest)
    con = wh.connect(dest)
    for t in wh.monthly_tables(con):
        name = wh.month_table(t, month)
        if con.sql("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'months' AND table_name = ?",
                   params=[name]).fetchall()[0][0]:
            con.execute(f"CREATE TABLE months.{t} AS SELECT * FROM months.{name}")
    con.execute("CHECKPOINT")
    con.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["prepare", "publish", "analyst"])
    ap.add_argument("source", help="warehouse file (prepare, analyst: published; publish: prepared)")
    ap.add_argument("dest", help="prepared warehouse, output folder or analysts' copy")
    ap.add_argument("--month", default=MONTH)
    ap.add_argument("--policy", help="policy file (publish)")
    a = ap.parse_args(argv)
    from lim.warehouse import warehouse as wh

    if a.what == "prepare":
        prepare(a.source, a.dest, a.month)
        return 0
    if a.what == "publish":
        from lim.core.policy import load_policy
        from lim.publish.files import publish

        out = Path(a.dest)
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        shutil.copyfile(a.source, out / "warehouse.duckdb")
        con = wh.connect(str(out / "warehouse.duckdb"))
        policy = load_policy(str(Path(a.policy).resolve()))
        t0, c0 = time.perf_counter(), cpu_seconds()
        publish(con, a.month, out / "out", policy, False, "bench-publish-steps", "bench", "")
    else:
        from lim.publish.analyst_copy import build_analyst_copy

        Path(a.dest).unlink(missing_ok=True)
        con = wh.connect(a.source)
        t0, c0 = time.perf_counter(), cpu_seconds()
        build_analyst_copy(con, a.dest, month=a.month)
    print(json.dumps({"step": a.what, "seconds": round(time.perf_counter() - t0, 2), "cpu_seconds": round(cpu_seconds() - c0, 2)}))
    con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
