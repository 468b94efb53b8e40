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

The raw floor (issue #19), the goal's floor since: what a hand-written DuckDB script would do
with the same *landing* files, parsing included.

    python -m bench.floor --landing <landing>/<M> [--memory 6GB] [--threads 2] [--json out.json]

One SQL script (raw_floor_sql, printed with --print-sql), on a fresh DuckDB file with the same
settings as above:

1. a macro `norm_id`: what lim/ingest/normalize.py does to an ID in the ordinary case, in SQL —
   full-width digits, Ｘ/ｘ and ＇ to ASCII (NFKC's effect on an ID), every whitespace removed
   (ASCII, U+00A0, U+3000, zero-width, BOM), leading quotes (' ‘ ’ `) dropped, upper case, empty
   → NULL (no 15-digit upgrade, no check digit: neither occurs in a clean month);
2. every landing CSV of the month (`<M>/<source>.csv`, or several of one source in sub-folders,
   read together) read once with `read_csv(..., all_varchar = true, header = true)`; the ID column
   (the contract's Chinese header or one of its aliases, found in the file's header line) gets a
   normalized `id_number`. The register, the roster members and the rural-revitalization members
   go to TEMP tables `l_<source>` first;
3. `persons`: the distinct normalized IDs of those three;
4. every source LEFT JOINed to `persons` once on the normalized ID and materialized as
   `r_<source>` (one row per landing row, `known` = the ID is a person's); the roster's household
   file (no ID column) LEFT JOINed on 家庭编号 to the joined members, grouped per household (its
   member count and known members), so it too keeps one row per landing row; then CHECKPOINT.
   No Python per row: the script is written from the file headers before the clock starts.
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

from lim.core.contracts import SOURCES, load_contract, normalize_header


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


# ---------------------------------------------------------------------------------------------
# the raw floor: from the landing CSVs
# ---------------------------------------------------------------------------------------------
#: the sources whose members are the people the county knows
KNOWN = ("household_registration", "civil_affairs_members", "rural_revitalization")
#: NFKC's effect on the characters of an ID (full-width digits, X, apostrophe) → ASCII
ID_FULLWIDTH, ID_ASCII = "０１２３４５６７８９Ｘｘ＇", "0123456789XX'"
#: whitespace as lim/ingest/normalize.py's _WS after NFKC (RE2's \s is ASCII only)
ID_WS = r"[\s\x{00a0}\x{3000}\x{200b}\x{200c}\x{200d}\x{2060}\x{feff}]+"
#: the leading quotes lim/ingest/normalize.py drops (_LEADING_QUOTES)
ID_QUOTES = "'\u2018\u2019`"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


NORM_ID_MACRO = ("CREATE TEMP MACRO norm_id(x) AS NULLIF(upper(ltrim(regexp_replace("
                 f"translate(x, {_lit(ID_FULLWIDTH)}, {_lit(ID_ASCII)}), {_lit(ID_WS)}, '', 'g'), "
                 f"{_lit(ID_QUOTES)})), '');")


def landing_files(landing_month: Path, source: str) -> list[Path]:
    """The month's CSVs of `source`: <M>/<source>.csv, or one per sub-folder (county shards)."""
    return sorted(Path(landing_month).rglob(f"{source}.csv"))


def _header_line(path: Path) -> list[str]:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh), [])


def _find_header(source: str, canonical: str, header: list[str]) -> str:
    """The file's header of the contract's column `canonical` (its Chinese header or an alias)."""
    hmap = load_contract(source).header_map()
    for h in header:
        if hmap.get(normalize_header(h)) == canonical:
            return h
    return load_contract(source).header_of(canonical)


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _read_csv(files: list[Path]) -> str:
    lits = ", ".join(_lit(f.as_posix()) for f in files)
    if len(files) == 1:
        return f"read_csv({lits}, all_varchar = true, header = true)"
    return f"read_csv([{lits}], all_varchar = true, header = true, union_by_name = true)"


def raw_floor_sql(landing_month: Path) -> str:
    landing_month = Path(landing_month)
    files = {s: landing_files(landing_month, s) for s in SOURCES}
    present = [s for s in SOURCES if files[s]]
    header = {s: _header_line(files[s][0]) for s in present}

    def id_col(s: str) -> str | None:
        c = load_contract(s).id_column
        return _find_header(s, c, header[s]) if c else None

    lines = ["-- what lim/ingest/normalize.py does to an ID in the ordinary case", NORM_ID_MACRO]
    known = [s for s in KNOWN if s in present and id_col(s)]
    for s in known:
        lines.append(f"CREATE TEMP TABLE l_{s} AS SELECT *, norm_id({_q(id_col(s))}) AS id_number\n"
                     f"FROM {_read_csv(files[s])};")
    lines.append("-- persons the county knows")
    parts = [f"SELECT id_number FROM l_{s}" for s in known] or ["SELECT NULL::VARCHAR AS id_number"]
    lines.append("CREATE TABLE persons AS SELECT DISTINCT id_number FROM (\n    "
                 + "\n    UNION ALL ".join(parts) + "\n) WHERE id_number IS NOT NULL;")
    lines.append("-- every source joined to the persons once")
    later = []
    for s in present:
        if s in known:
            lines.append(f"CREATE TABLE r_{s} AS SELECT src.*, p.id_number IS NOT NULL AS known\n"
                         f"FROM l_{s} src LEFT JOIN persons p ON p.id_number = src.id_number;")
        elif id_col(s):
            lines.append(f"CREATE TABLE r_{s} AS SELECT src.*, p.id_number IS NOT NULL AS known\n"
                         f"FROM (SELECT *, norm_id({_q(id_col(s))}) AS id_number FROM {_read_csv(files[s])}) src\n"
                         f"LEFT JOIN persons p ON p.id_number = src.id_number;")
        elif "civil_affairs_members" in known and "household_id" in load_contract(s).canonical_names:
            hh = _q(_find_header(s, "household_id", header[s]))
            mh = _q(_find_header("civil_affairs_members", "household_id", header["civil_affairs_members"]))
            later.append(f"CREATE TABLE r_{s} AS SELECT src.*, m.members, m.known_members\n"
                         f"FROM {_read_csv(files[s])} src LEFT JOIN (\n"
                         f"    SELECT {mh} AS _household, count(*) AS members, count(*) FILTER (known) AS known_members\n"
                         f"    FROM r_civil_affairs_members GROUP BY ALL) m ON m._household = src.{hh};")
        else:
            lines.append(f"CREATE TABLE r_{s} AS SELECT * FROM {_read_csv(files[s])};")
    return "\n".join(lines + later) + "\n"


def _run_script(sql: str, memory: str, threads: int, workdir: Path | None, prefix: str,
                exact_rows: bool = False) -> dict:
    import duckdb

    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=workdir))
    try:
        t0 = time.perf_counter()
        con = duckdb.connect(str(tmp / "floor.duckdb"))
        con.execute(f"SET memory_limit = '{memory}'; SET threads = {int(threads)}; "
                    f"SET temp_directory = '{(tmp / 'duckdb_tmp').as_posix()}'; SET preserve_insertion_order = false;")
        t1 = time.perf_counter()
        con.execute(sql)
        con.execute("CHECKPOINT")
        t2 = time.perf_counter()
        if exact_rows:  # counted after the clock
            names = [r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()]
            rows = {n: con.sql(f"SELECT count(*) FROM {_q(n)}").fetchall()[0][0] for n in names}
        else:
            rows = {r[0]: r[1] for r in con.sql(
                "SELECT table_name, estimated_size FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()}
        con.close()
        return {"seconds": round(t2 - t1, 3), "connect_seconds": round(t1 - t0, 3), "tables": rows,
                "sql": sql, "memory_limit": memory, "threads": threads}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_floor(staged_month: Path, memory: str = "6GB", threads: int = 2, workdir: Path | None = None) -> dict:
    return _run_script(_order(floor_sql(staged_month)), memory, threads, workdir, "floor-")


def run_raw_floor(landing_month: Path, memory: str = "6GB", threads: int = 2, workdir: Path | None = None) -> dict:
    """The raw floor on <landing>/<M>: `tables` holds each table's exact row count (counted after
    the clock), `landing_files` the CSVs read per source."""
    landing_month = Path(landing_month)
    res = _run_script(raw_floor_sql(landing_month), memory, threads, workdir, "raw-floor-", exact_rows=True)
    res["landing_files"] = {s: [f.relative_to(landing_month).as_posix() for f in landing_files(landing_month, s)]
                            for s in SOURCES if landing_files(landing_month, s)}
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.splitlines()[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--staged", help="<staged>/<YYYY-MM> folder of one month: the floor")
    where.add_argument("--landing", help="<landing>/<YYYY-MM> folder of one month: the raw floor (from the CSVs)")
    ap.add_argument("--memory", default=os.environ.get("LIM_DUCKDB_MEMORY", "6GB"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--print-sql", action="store_true")
    a = ap.parse_args(argv)
    if a.print_sql:
        print(raw_floor_sql(Path(a.landing)) if a.landing else _order(floor_sql(Path(a.staged))))
        return 0
    workdir = Path(a.workdir) if a.workdir else None
    if a.landing:
        res = run_raw_floor(Path(a.landing), a.memory, a.threads, workdir)
    else:
        res = run_floor(Path(a.staged), a.memory, a.threads, workdir)
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    text = json.dumps(res, ensure_ascii=False, indent=1)
    if a.json:
        Path(a.json).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
