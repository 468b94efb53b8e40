"""Stage 2 — reconciliation (sql/reconcile/*.sql): identities, persons, households for month M.

`source_records` loads the staged Parquet of every source, resolves check-digit failures to
known persons (or quarantines them), and writes months.src_<source>, quarantine, id_links and
load_log for M. `persons_monthly` and `households_monthly` build the reconciled view of every
department, looking back on the months already published for M-1 and M-11..M.
"""

import json
import math

from lim.core import settings
from lim.core.contracts import SOURCES, SQL_TYPES, WAREHOUSE_TYPES, load_contract
from lim.core.month import month_variables
from lim.core.paths import SQL_DIR
from lim.ingest.read_worker import staged_paths
from lim.warehouse import warehouse as wh

# The sources whose persons are "known" to ID linking (extracts.md; sql/reconcile/10_identity.sql).
KNOWN_PERSON_SOURCES = ("household_registration", "civil_affairs_members", "rural_revitalization")


def _parquet(con, path) -> tuple[str, list[str]]:
    """read_parquet(...) of a staged file, for a view, and its column names."""
    ref = "read_parquet('" + str(path).replace("'", "''") + "')"
    return ref, [r[0] for r in con.sql(f"DESCRIBE SELECT * FROM {ref}").fetchall()]


def _load_staged(con, month: str, staging) -> dict[str, dict]:
    loads = {}
    month_dir = staging.month_dir(month)
    for source in SOURCES:
        contract = load_contract(source)
        paths = staged_paths(month_dir, source)
        load = json.loads(paths["load"].read_text(encoding="utf-8")) if paths["load"].exists() else {
            "source": source, "file": None, "sha256": None, "status": "missing", "rows_in": 0, "duplicates": 0,
            "accepted": 0, "quarantined": 0, "message": f"{source}：本月未暂存（未报送）", "ignored_files": []}
        loads[source] = load
        con.execute(f"DROP VIEW IF EXISTS in_{source}")
        con.execute(f"DROP TABLE IF EXISTS in_{source}")
        if paths["accepted"].exists():
            # a view, not a copy: the staged Parquet is scanned where it is used (columns and
            # _id_status filters pushed down), instead of being materialized once more
            parquet, names = _parquet(con, paths["accepted"])
            id_status = "" if "_id_status" in names else ", 'valid' AS _id_status"
            con.execute(f"CREATE TEMP VIEW in_{source} AS SELECT *{id_status} FROM {parquet}")
        else:
            cols = ", ".join(f"{c.canonical} {SQL_TYPES[c.type]}" for c in contract.columns)
            con.execute(f"CREATE TEMP TABLE in_{source} ({cols}, _row_number BIGINT, _id_status VARCHAR, _raw VARCHAR)")
        if source in KNOWN_PERSON_SOURCES:
            # the valid IDs and names of the rows staging quarantined for another cell: known persons too
            con.execute(f"DROP VIEW IF EXISTS qk_{source}")
            con.execute(f"DROP TABLE IF EXISTS qk_{source}")
            parquet, names = _parquet(con, paths["quarantine"]) if paths["quarantine"].exists() else ("", [])
            if {"id_number", "name"} <= set(names):  # (a file staged by an older release has neither)
                con.execute(f"CREATE TEMP VIEW qk_{source} AS SELECT id_number, name FROM {parquet} WHERE id_number IS NOT NULL")
            else:
                con.execute(f"CREATE TEMP TABLE qk_{source} (id_number VARCHAR, name VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE in_files (source VARCHAR, file VARCHAR)")
    con.executemany("INSERT INTO in_files VALUES (?, ?)", [(s, l["file"]) for s, l in loads.items()])
    return loads


def build_source_records(con, month: str, staging) -> dict:
    """Everything of month M's landing, linked and counted, in the months schema (months.<t>)."""
    variables = month_variables(month)
    for t in ["load_log", "quarantine", "id_links"]:
        wh.replace_stage_month(con, t, month, added_columns={"id_number": "VARCHAR"} if t == "quarantine" else None)
    for s in SOURCES:  # columns a contract gained since the warehouse was made (rules-variants.md B.2)
        wh.replace_stage_month(con, f"src_{s}", month,
                               added_columns={c.canonical: WAREHOUSE_TYPES[c.type] for c in load_contract(s).columns})
    loads = _load_staged(con, month, staging)
    for s, l in loads.items():
        variables[f"file_{s}"] = l["file"] or ""
    wh.run_sql(con, SQL_DIR / "reconcile" / "10_identity.sql", **variables)
    with_id = (SQL_DIR / "reconcile" / "20_accept_source.sql").read_text(encoding="utf-8")
    without_id = (SQL_DIR / "reconcile" / "21_accept_source_without_id.sql").read_text(encoding="utf-8")
    for source in SOURCES:
        contract = load_contract(source)
        columns = ", ".join(f"i.{c.canonical}" for c in contract.columns if c.type != "id")
        template = with_id if contract.id_column else without_id
        con.execute(template.replace("{source}", source).replace("{columns}", columns))
    wh.run_sql(con, SQL_DIR / "reconcile" / "30_quarantine_links.sql", **variables)
    # Ingest-time quarantine rows, then the load log: rows in = accepted (duplicates included) + quarantined.
    for source, load in loads.items():
        q = staged_paths(staging.month_dir(month), source)["quarantine"]
        if q.exists():
            # the row's valid ID, where it had one: the evidence of an alert names a member whose row
            # in a source it reads was quarantined (sql/rules/90_alerts_finish.sql)
            id_col = "id_number" if "id_number" in _parquet(con, q)[1] else "NULL::VARCHAR AS id_number"
            con.execute(f"""INSERT INTO months.quarantine BY NAME
                           SELECT ? AS month, ? AS source, ? AS file, row_number, reason_code,
                                  reason_code || '：' || reason AS reason,
                                  "column" AS column_name, raw, {id_col} FROM read_parquet(?)""",
                        [month, source, load["file"], str(q)])
    link_q = dict(con.sql("SELECT source, count(*) FROM months.quarantine WHERE month = ? AND reason_code IN ('id_unlinked','id_ambiguous') GROUP BY ALL",
                          params=[month]).fetchall())
    rows = []
    for source, load in loads.items():
        quarantined = load["quarantined"] + link_q.get(source, 0)
        rows.append((month, source, load["file"], load["status"], load["message"], load["rows_in"],
                     load["rows_in"] - quarantined if load["status"] == "accepted" else 0, load["duplicates"],
                     quarantined if load["status"] == "accepted" else 0, load["sha256"],
                     ",".join(load.get("ignored_files") or []) or None))
    con.executemany("INSERT INTO months.load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return {s: l["status"] for s, l in loads.items()}


# The bureau's own roster: without it every list would lose the households the bureau pays
# (extracts.md "Landing layout", interface.md fatal cases), so the month stops.
ROSTER_SOURCES = ("civil_affairs_households", "civil_affairs_members")


class RosterNotDelivered(RuntimeError):
    """The roster of M is missing, refused, or has no accepted row: the run stops (exit 2, one line)."""


def roster_problem(con, month: str) -> str | None:
    """One line naming the roster file of M and its problem, or None when both were delivered."""
    rows = con.sql("""SELECT source, file, status, message, rows_in, rows_accepted - coalesce(rows_duplicate, 0)
                       FROM months.load_log WHERE month = ? AND source IN ? ORDER BY source""",
                   params=[month, list(ROSTER_SOURCES)]).fetchall()
    problems = []
    for source, file, status, message, rows_in, accepted in rows:
        if status == "missing":
            problems.append(f"{source}（民政局救助台账）本月未报送")
        elif status != "accepted":
            problems.append(f"{file} 被拒收：{message}")
        elif accepted <= 0:
            why = "没有任何数据行" if not rows_in else f"{rows_in} 行全部未通过校验（见隔离行）"
            problems.append(f"{file} {why}")
    if not problems:
        return None
    return (f"{month} 月没有可用的民政局救助台账：" + "；".join(problems)
            + "。没有台账无法生成名单，本月不发布，上月结果保持不变；请补齐文件后重新运行")


# At most this many source rows of the month per bucket of persons_monthly (sql/reconcile/40_persons.sql).
# Measured (bench/PERF.md): 35 M rows with DuckDB at 5 GB, 1 bucket 154 s, 2: 83 s, 4: 77 s, 8: 86 s,
# 16: 97 s; 3.5 M rows the same in 1, 2 or 4. Lower it when DuckDB has less memory.
PERSONS_BUCKET_ROWS = settings.current().persons_bucket_rows  # LIM_PERSONS_BUCKET_ROWS (lim/core/settings.py)
MAX_PERSONS_BUCKETS = 64


def persons_buckets(con, month: str, bucket_rows: int = PERSONS_BUCKET_ROWS) -> int:
    """How many hash buckets persons_monthly is built in: one per `bucket_rows` rows that month's
    person-level sources hold (1 for a county or a prefecture, 5 for a 5 M-household province)."""
    rows = sum(con.sql(f"SELECT count(*) FROM months.src_{s} WHERE month = ?", params=[month]).fetchall()[0][0]
               for s in SOURCES if s != "civil_affairs_households")
    return max(1, min(MAX_PERSONS_BUCKETS, math.ceil(rows / max(1, bucket_rows))))


def hr_delivered(con, month: str) -> bool:
    """Whether 人社局 delivered its file for a published month (JOB_LOSS compares M with M-1 only when
    hr was delivered in both: rules.md "Incomplete months"). Delivered as sql/rules/05_coverage.sql
    says: accepted, and a header-only file or at least one row accepted."""
    return con.sql("SELECT count(*) > 0 FROM main.load_log WHERE month = ? AND source = 'hr' AND status = 'accepted' "
                   "AND (rows_in = 0 OR rows_accepted - coalesce(rows_duplicate, 0) > 0)", params=[month]).fetchall()[0][0]


def build_persons(con, month: str, buckets: int | None = None) -> int:
    """months.persons_monthly of `month`, written bucket by bucket; returns the number of buckets."""
    prev = month_variables(month)["prev_month"]
    landed = hr_delivered(con, prev)
    buckets = buckets or persons_buckets(con, month)
    wh.run_sql(con, SQL_DIR / "reconcile" / "40_persons.sql", prev_hr_landed=bool(landed), buckets=buckets, bucket=0,
               **month_variables(month))
    # No transaction needed: a run that stops half-way leaves a months.<t> table that the next run of
    # this asset replaces, and no months.<t> is published before every asset has succeeded.
    wh.run_statement(con, "CREATE OR REPLACE TABLE months.persons_monthly AS SELECT * FROM persons_bucket", "40_persons.sql")
    for b in range(1, buckets):
        con.execute("SET VARIABLE bucket = ?", [b])
        wh.run_statement(con, "INSERT INTO months.persons_monthly SELECT * FROM persons_bucket", "40_persons.sql")
    return buckets


def build_households(con, month: str) -> None:
    prev = month_variables(month)["prev_month"]
    landed = hr_delivered(con, prev)
    wh.run_sql(con, SQL_DIR / "reconcile" / "50_households.sql", prev_hr_landed=bool(landed), **month_variables(month))
