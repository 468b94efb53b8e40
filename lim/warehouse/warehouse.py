"""DuckDB warehouse: connection, schema bootstrap, SQL files, and the atomic month swap.

Each asset writes its month into the `months` schema (`months.<t>`); the publish step swaps every table's
month into place in one transaction, so analysts never see half a month.

Every monthly table `t` (MONTHLY_TABLES and src_<source>) is kept as one table per month,
`months.t__YYYY_MM`, beside an empty `months.t__template` that carries its columns, and analysts
read `main.t`: a view of the template and every month's table (UNION ALL BY NAME). Publishing
month M renames the finished `months.t` to `months.t__YYYY_MM` (dropping the old one of a rerun)
and re-creates the view — no row is copied: a copy of the month into one big table was 90 % of
the publish step (DuckDB 2.0 cannot move a table between schemas; it can rename one in a schema).
"""
from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import duckdb

from lim.core import settings
from lim.core.contracts import SOURCES, WAREHOUSE_TYPES, load_contract
from lim.core.paths import SQL_DIR

log = logging.getLogger("lim.warehouse")

# Tables whose month is swapped into place by publish (order irrelevant: one transaction).
MONTHLY_TABLES = [
    "load_log", "quarantine", "id_links", "month_parameters",
    "persons_monthly", "household_members_monthly", "households_monthly",
    "determinations", "alerts", "audit_sample", "targeting_metrics", "quality_results",
    "source_coverage", "withheld_evaluations", "resolved_alerts",
]
# Monthly tables added after the first release (sql/warehouse/upgrades.sql).
ADDED_MONTHLY_TABLES = ["source_coverage", "withheld_evaluations", "resolved_alerts"]
# Tables of every month at once (not swapped by publish) added after the first release: the
# answers of town staff and their imports (assets/feedback.py; sql/warehouse/upgrades.sql).
ADDED_TABLES = ["alert_dispositions", "feedback_imports", "feedback_quarantine"]
# Columns of `alerts` added after the first release (closing the loop, sql/rules/92_loop.sql):
# added to an older warehouse's alerts (its template) on open, so that earlier months read NULL.
ADDED_ALERT_COLUMNS = {
    "due_date": "DATE", "evidence_fingerprint": "VARCHAR", "last_answer_id": "VARCHAR", "last_conclusion": "VARCHAR",
    "last_check_date": "DATE", "suppressed": "BOOLEAN", "overdue": "BOOLEAN", "overdue_alert_id": "VARCHAR",
    "overdue_due_date": "DATE", "list_priority": "VARCHAR",
}


# The schema of the month tables: the month being built (months.<t>) and every published month
# (months.<t>__YYYY_MM, with the empty months.<t>__template); an older release called it `stage`
# (convert_stage_schema). schema_version: 1 = `stage`, 2 = `months`.
MONTHS = "months"
OLD_MONTHS_SCHEMA = "stage"
SCHEMA_VERSION = 2


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened or used; the message says what to fix."""


# How long a step waits for the warehouse file when another step of the same run holds it (the
# multiprocess and Celery executors: a county shard reads it while an asset check of
# source_records writes it, each with DuckDB's file lock). Steps are short; a run is one month.
LOCK_WAIT_SECONDS = 900


def lock_wait_seconds() -> float:
    """LOCK_WAIT_SECONDS when the run's steps are separate processes, else 0 (one process: a lock
    held elsewhere is another program, reported at once)."""
    return LOCK_WAIT_SECONDS if settings.current().executor != "in_process" else 0


def with_lock_wait(open_fn, wait_seconds: float):
    """open_fn() again every half second while DuckDB says another process holds the file's lock,
    for at most `wait_seconds`; any other error, or the last one, is raised."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return open_fn()
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.5)


# A run of the in-process executor holds one connection to the warehouse from its first step that
# opens it to its end, and each step works on a cursor of it (assets/resources.py WarehouseResource):
# the file is opened, its catalog checked (ensure_schema) and its log checkpointed once a run instead
# of at each of the ~25 steps and checks (~30 ms each on a county's warehouse; the fixed cost of the
# month that the tests' ~100 months pay). Not for a warehouse of more than HOLD_OPEN_MAX_BYTES (asked
# again after each step: a big month's first step makes it big): DuckDB keeps the blocks a step has
# read in memory until it needs the room, beside the next step's own frames — a big month's steps
# need that memory, and 25 opens are nothing beside such a month. Not with county shards: a county
# step attaches the warehouse read-only from a connection of its own, which DuckDB refuses while the
# same process has the file open for writing. A step that fails lets go of it too.
HOLD_OPEN_MAX_BYTES = 1 << 30


def hold_open_between_steps(path: str) -> bool:
    """Whether the run keeps the warehouse at `path` open between its steps (above)."""
    s = settings.current()
    if s.executor != "in_process" or s.shards != "none":
        return False
    size = 0
    for p in (Path(path), Path(f"{path}.wal")):
        try:
            size += p.stat().st_size
        except OSError:
            pass  # not made yet (a new warehouse is small), or no log
    return size <= HOLD_OPEN_MAX_BYTES


def connect(path: str, memory_limit: str = "6GB", threads: int = 2, temp_dir: str | None = None):
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        con = with_lock_wait(lambda: duckdb.connect(str(p)), lock_wait_seconds())
    except (duckdb.Error, OSError) as e:
        first = str(e).splitlines()[0]
        raise WarehouseError(f"无法打开数据仓库 {p}：{first}（检查路径、权限，或是否有其他进程正在占用该文件）") from e
    tmp = Path(temp_dir) if temp_dir else p.parent / "duckdb_tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = '{memory_limit}'; SET threads = {int(threads)}; "
                f"SET temp_directory = '{tmp.as_posix()}'; SET preserve_insertion_order = false;")
    ensure_schema(con)
    return con


def ensure_schema(con) -> None:
    # Every step opens the warehouse: what is there is read in one query, and a warehouse that is
    # up to date is left alone (one catalog look-up per table took ~0.1 s a step).
    tables, views, schemas, alert_columns = _catalog(con)
    if ("main", "schema_version") not in tables:
        # A new file is made in its final shape, in one transaction: schema `months` with each
        # monthly table's template, the views main.<t> over it, the other tables in main.
        con.execute("BEGIN")
        try:
            run_sql(con, SQL_DIR / "warehouse" / "schema.sql")
            run_sql(con, SQL_DIR / "warehouse" / "upgrades.sql")
            for source in SOURCES:
                con.execute(source_table_ddl(load_contract(source)))
            _convert_to_month_tables(con)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        return
    if OLD_MONTHS_SCHEMA in schemas:  # a warehouse of an older release: schema `stage` → `months`
        convert_stage_schema(con)
        tables, views, schemas, alert_columns = _catalog(con)
    relations = tables | views
    if any(("main", t) not in relations for t in ADDED_MONTHLY_TABLES + ADDED_TABLES):
        run_sql(con, SQL_DIR / "warehouse" / "upgrades.sql")
        tables, views, schemas, alert_columns = _catalog(con)
    # a source added after the warehouse was made (civil_affairs_decisions)
    relations = tables | views
    missing = [s for s in SOURCES if ("main", f"src_{s}") not in relations]
    for source in missing:
        con.execute(source_table_ddl(load_contract(source)))
    if missing:
        tables, views, schemas, alert_columns = _catalog(con)
    if MONTHS not in schemas:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {MONTHS}")
    if any(("main", t) in tables for t in monthly_tables(con)):  # still one base table in main
        convert_to_month_tables(con)
        tables, views, schemas, alert_columns = _catalog(con)
    if ("months", template_table("alerts")) in tables and not set(ADDED_ALERT_COLUMNS) <= alert_columns:
        add_alert_columns(con)


def _catalog(con) -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[str], set[str]]:
    """In one query: (schema, name) of the connection's own tables and of its views, its schemas,
    and the columns of the alerts' monthly template (add_alert_columns)."""
    rows = con.sql("select 't', schema_name, table_name from duckdb_tables() where database_name = current_database() "
                   "union all select 'v', schema_name, view_name from duckdb_views() "
                   "where not internal and database_name = current_database() "
                   "union all select 's', schema_name, '' from duckdb_schemas() where database_name = current_database() "
                   "union all select 'c', '', column_name from duckdb_columns() where database_name = current_database() "
                   f"and schema_name = '{MONTHS}' and table_name = '{template_table('alerts')}'").fetchall()
    return ({(s, n) for k, s, n in rows if k == "t"}, {(s, n) for k, s, n in rows if k == "v"},
            {s for k, s, _ in rows if k == "s"}, {n for k, _, n in rows if k == "c"})


def schema_exists(con, schema: str) -> bool:
    return con.sql("select count(*) from duckdb_schemas() where database_name = current_database() and schema_name = ?",
                   params=[schema]).fetchall()[0][0] > 0


def sql_literal(text: str) -> str:
    """A string as a SQL literal ('it''s')."""
    return "'" + text.replace("'", "''") + "'"


def _copy_table(con, old: str, new: str, table: str) -> None:
    """old.<table> → new.<table>: the same statement that made it (column types, NOT NULL, defaults),
    its rows, and its comments (table and columns)."""
    ddl, comment = con.sql("select sql, comment from duckdb_tables() where database_name = current_database() "
                           "and schema_name = ? and table_name = ?", params=[old, table]).fetchall()[0]
    head = re.match(rf'CREATE TABLE "?{re.escape(old)}"?\."?{re.escape(table)}"?\(', ddl or "")
    if head:  # DuckDB quotes a schema name that is a keyword: CREATE TABLE "months".t(…)
        con.execute(f'CREATE TABLE {new}."{table}"(' + ddl[head.end():])
        con.execute(f"INSERT INTO {new}.{table} SELECT * FROM {old}.{table}")
    else:  # a name DuckDB quotes: the columns and their types are kept
        con.execute(f'CREATE TABLE {new}."{table}" AS FROM {old}."{table}"')
    if comment:
        con.execute(f'COMMENT ON TABLE {new}."{table}" IS {sql_literal(comment)}')
    for col, col_comment in con.sql("select column_name, comment from duckdb_columns() where database_name = current_database() "
                                    "and schema_name = ? and table_name = ? and comment is not null and comment <> '' "
                                    "order by column_index", params=[old, table]).fetchall():
        con.execute(f'COMMENT ON COLUMN {new}."{table}"."{col}" IS {sql_literal(col_comment)}')


def convert_stage_schema(con) -> list[str]:
    """A warehouse of an older release keeps its month tables in schema `stage` (DuckDB 2.0 can
    neither rename a schema nor move a table to another): every table of `stage` is copied to
    `months` (same DDL, rows and comments), the views main.<t> re-created over `months`, `stage`
    dropped and schema_version 2 recorded — all in one transaction, so a crash midway leaves the
    old shape as it was and the next open converts again. Nothing to do without a `stage` schema
    (a new warehouse, or one converted already). Returns the tables copied."""
    if not schema_exists(con, OLD_MONTHS_SCHEMA):
        return []
    tables = [r[0] for r in con.sql("select table_name from duckdb_tables() where database_name = current_database() "
                                    "and schema_name = ? order by 1", params=[OLD_MONTHS_SCHEMA]).fetchall()]
    log.info("warehouse: schema %s → %s (%d tables, once)", OLD_MONTHS_SCHEMA, MONTHS, len(tables))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {MONTHS}")
        both = [t for t in tables if _base_table_exists(con, MONTHS, t)]
        if both:
            raise WarehouseError(f"数据仓库同时有 {OLD_MONTHS_SCHEMA}.{both[0]} 与 {MONTHS}.{both[0]}（共 {len(both)} 张表），"
                                 f"无法自动转换：请保留正确的一份后重试")
        for t in tables:
            _copy_table(con, OLD_MONTHS_SCHEMA, MONTHS, t)
        for t in monthly_tables(con):
            if _base_table_exists(con, MONTHS, template_table(t)):
                refresh_view(con, t)
        for t in tables:
            con.execute(f'DROP TABLE {OLD_MONTHS_SCHEMA}."{t}"')
        con.execute(f"DROP SCHEMA {OLD_MONTHS_SCHEMA}")
        con.execute(f"INSERT INTO schema_version VALUES ({SCHEMA_VERSION}, now()::TIMESTAMP)")
        apply_comments(con)  # a re-created view has lost its comments
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return tables


def add_alert_columns(con) -> None:
    """ADDED_ALERT_COLUMNS on an older warehouse's alerts (the template of the monthly tables, then
    the view re-created), so that SQL reading earlier months' alerts finds them (NULL there)."""
    template = template_table("alerts")
    if not _base_table_exists(con, "months", template):
        return
    have = {c for c, _ in _columns(con, "months", template)}
    missing = {c: t for c, t in ADDED_ALERT_COLUMNS.items() if c not in have}
    if not missing:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        for col, typ in missing.items():
            con.execute(f'ALTER TABLE months.{template} ADD COLUMN "{col}" {typ}')
        refresh_view(con, "alerts")
        apply_comments(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def source_table_ddl(contract) -> str:
    """src_<source>: the accepted (and ID-linked) rows of every month, the history rules look back on."""
    cols = ["month VARCHAR NOT NULL", "file VARCHAR", "row_number BIGINT"]
    for c in contract.columns:
        cols.append(f"{c.canonical} {WAREHOUSE_TYPES[c.type]}")
        if c.type == "id":
            cols += ["id_raw VARCHAR", "link_method VARCHAR"]
    cols.append("raw VARCHAR")
    return f"CREATE TABLE IF NOT EXISTS src_{contract.source} ({', '.join(cols)});"


def source_table_comments(contract) -> list[str]:
    name = f"src_{contract.source}"
    comments = [f"COMMENT ON TABLE {name} IS '{contract.department}：每月接收的有效行（已标准化、身份证号已链接），规则回看历史时读取'"]
    comments.append(f"COMMENT ON COLUMN {name}.raw IS '原始行（JSON，表头 → 单元格原文；含契约以外的列）'")
    for c in contract.columns:
        comments.append(f"COMMENT ON COLUMN {name}.{c.canonical} IS '{c.header}'")
        if c.type == "id":
            comments += [f"COMMENT ON COLUMN {name}.id_raw IS '报送的身份证号（标准化后）；与 {c.canonical} 不同时见 link_method 与 id_links'",
                         f"COMMENT ON COLUMN {name}.link_method IS 'exact 原样 / upgraded_15 15 位升级 / typo_1 一位之差 / transposition 相邻互换 / same_birth 同名同前 14 位'"]
    return comments


def run_sql(con, path: Path, **variables) -> None:
    """Run one SQL file, statement by statement; `variables` are available in it as
    getvariable('name').

    A statement that fails with a DuckDB *internal* error (an assertion inside DuckDB, not a
    problem of the data or the SQL) is run once more on one thread. DuckDB 2.0.0's
    dictionary-surviving hash join (duckdb/duckdb#24807) raised "dict-surviving join: narrowed
    column … build pipeline is not single-source" once in 90_alerts_finish.sql on a 5 M-household
    month under memory pressure and not when the same statement ran again; a statement either
    completes or changes nothing, so running it again is safe. Any other error is raised at once.
    An internal error raised while a statement *executes* also invalidates the database for every
    connection of the process (duckdb/duckdb#15588): the second attempt then fails with DuckDB's
    FatalException, and the whole step is run once more on a warehouse opened afresh
    (assets/guard.py; seen on a province month on 2026-12-05)."""
    for k, v in variables.items():
        con.execute(f"SET VARIABLE {k} = ?", [v])
    sql = Path(path).read_text(encoding="utf-8")
    for statement in duckdb.extract_statements(sql):
        run_statement(con, statement, Path(path).name)


def run_statement(con, statement, where: str) -> None:
    """One statement, run once more on one thread after a DuckDB internal error (run_sql)."""
    try:
        con.execute(statement)
    except duckdb.InternalException as first:
        threads = con.sql("SELECT current_setting('threads')").fetchall()[0][0]
        log.warning("%s: DuckDB internal error, statement run again on one thread: %s", where, str(first).splitlines()[0])
        con.execute("SET threads = 1")
        try:
            con.execute(statement)
        finally:
            con.execute(f"SET threads = {int(threads)}")


SHARED_SQL = SQL_DIR / "shared"


def sql_models(folder: Path) -> list[Path]:
    """The SQL models of a folder in the order they run: by path, the files of a subfolder (e.g.
    sql/rules/35_alerts/, one model per alert family) at the subfolder's place. Each model's first
    line says what it reads (`-- reads: …`; checked by tests/pipeline/test_sql_models.py)."""
    folder = Path(folder)
    return sorted(folder.rglob("*.sql"), key=lambda p: p.relative_to(folder).parts)


def run_sql_dir(con, folder: Path, *, shared: bool = False, **variables) -> list[str]:
    """Run the models of `folder` in order (sql_models); with `shared`, first those of sql/shared/
    (the macros and the month's parameter table that the rules and the metrics both read)."""
    files = (sql_models(SHARED_SQL) if shared else []) + sql_models(folder)
    for f in files:
        try:
            run_sql(con, f, **variables)
        except duckdb.Error as e:
            raise RuntimeError(f"{f.relative_to(SQL_DIR.parent)}: {e}") from e
    return [f.relative_to(SQL_DIR).as_posix() for f in files]


def relation_exists(con, schema: str, table: str) -> bool:
    """A table or a view of that name in the schema (main's monthly tables are views)."""
    return con.sql("select (select count(*) from duckdb_tables() where schema_name = $1 and table_name = $2)"
                   " + (select count(*) from duckdb_views() where not internal and schema_name = $1 and view_name = $2)",
                   params=[schema, table]).fetchall()[0][0] > 0


def _base_table_exists(con, schema: str, table: str) -> bool:
    return con.sql("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                   params=[schema, table]).fetchall()[0][0] > 0


def _columns(con, schema: str, table: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in con.sql(
        "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
        params=[schema, table]).fetchall()]


def relations(con) -> set[tuple[str, str]]:
    """(schema, name) of every table and view of the connection's own database, in one query (for
    a reader that asks about many: each relation_exists costs milliseconds)."""
    tables, views, _, _ = _catalog(con)
    return tables | views


def stage_table(con, table: str) -> None:
    """Create months.<table> with main.<table>'s columns if it does not exist yet."""
    # one catalog query (each costs milliseconds; ~15 tables a month are staged)
    staged, published = con.sql(
        "select count(*) filter (where s = 'months'), count(*) filter (where s = 'main') from ("
        "select schema_name s from duckdb_tables() where schema_name in ('months', 'main') and table_name = $1 "
        "union all select schema_name from duckdb_views() where not internal and schema_name in ('months', 'main') "
        "and view_name = $1)", params=[table]).fetchall()[0]
    if not staged and published:
        con.execute(f"CREATE TABLE months.{table} AS SELECT * FROM main.{table} WITH NO DATA")


def replace_stage_month(con, table: str, month: str, added_columns: dict[str, str] | None = None) -> None:
    """months.<table> without month M's rows; `added_columns` (name → type), columns a newer release
    writes, are added to a months.<table> made from an older warehouse's main.<table>."""
    stage_table(con, table)
    for col, typ in (added_columns or {}).items():
        con.execute(f'ALTER TABLE months.{table} ADD COLUMN IF NOT EXISTS "{col}" {typ}')
    con.execute(f"DELETE FROM months.{table} WHERE month = ?", [month])


def month_table(table: str, month: str) -> str:
    """The name of month M's table of `table` in the months schema: alerts, 2026-06 → alerts__2026_06."""
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise ValueError(f"not a month: {month!r}")
    return f"{table}__{month.replace('-', '_')}"


def template_table(table: str) -> str:
    return f"{table}__template"


def published_months(con, table: str) -> list[str]:
    """The months of `table` published so far (its tables months.t__YYYY_MM), in order."""
    names = con.sql("select table_name from duckdb_tables() where schema_name = 'months' and starts_with(table_name, ?)",
                    params=[f"{table}__"]).fetchall()
    return _months_in((n for (n,) in names), table)


def _months_in(names, table: str) -> list[str]:
    """The months of `table`'s published tables (months.t__YYYY_MM) among the table names `names`."""
    found = (re.fullmatch(re.escape(table) + r"__(\d{4})_(\d{2})", n) for n in names)
    return sorted(f"{m.group(1)}-{m.group(2)}" for m in found if m)


def refresh_view(con, table: str, months: list[str] | None = None) -> None:
    """main.<table> = its template and every published month's table (`months`, else read from the
    catalog), by column name (a month published by an older release lacks a column added later:
    NULL there)."""
    months = published_months(con, table) if months is None else months
    parts = [f"SELECT * FROM months.{template_table(table)}"]
    parts += [f"SELECT * FROM months.{month_table(table, m)}" for m in months]
    con.execute(f"CREATE OR REPLACE VIEW main.{table} AS " + "\nUNION ALL BY NAME ".join(parts))


def _month_tables_to_convert(con) -> list[str]:
    """Monthly tables still held as one base table in main (a new or an older warehouse)."""
    return [t for t in monthly_tables(con) if _base_table_exists(con, "main", t)]


def convert_to_month_tables(con) -> None:
    """main.<t> (one table of every month) → months.t__template, one months.t__YYYY_MM per month and
    the view main.<t>, in one transaction. Run once by ensure_schema for a warehouse of an older
    release that has its history in one table per kind (a new file: _convert_to_month_tables inside
    the transaction that makes it)."""
    con.execute("BEGIN TRANSACTION")
    try:
        _convert_to_month_tables(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _convert_to_month_tables(con) -> None:
    """convert_to_month_tables inside the caller's transaction (a new file: its empty tables)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {MONTHS}")
    for t in _month_tables_to_convert(con):
        con.execute(f"CREATE TABLE IF NOT EXISTS months.{template_table(t)} AS SELECT * FROM main.{t} WITH NO DATA")
        for (m,) in con.sql(f"SELECT DISTINCT month FROM main.{t} WHERE month IS NOT NULL ORDER BY 1").fetchall():
            name = month_table(t, str(m)[:7])
            con.execute(f"DROP TABLE IF EXISTS months.{name}")
            con.execute(f"CREATE TABLE months.{name} AS SELECT * FROM main.{t} WHERE month = ?", [m])
        con.execute(f"DROP TABLE main.{t}")
        refresh_view(con, t)
    apply_comments(con)


def publish_month(con, month: str, tables: list[str], also=None) -> dict[str, int]:
    """Put month M of every table (months.<t>) in place, in one transaction: months.<t> becomes
    months.t__YYYY_MM (replacing a previous run's) and main.<t> is re-created over the months.
    `also(con)`, if given, runs inside the same transaction (policy tables, run audit)."""
    counts = {}
    con.execute("BEGIN TRANSACTION")
    try:
        if also is not None:
            also(con)
        # the months schema's tables and their columns, read once (each look-up costs milliseconds)
        columns: dict[str, list[tuple[str, str]]] = {}
        for name, col, typ in con.sql("select table_name, column_name, data_type from duckdb_columns() "
                                      "where database_name = current_database() and schema_name = ? "
                                      "order by table_name, column_index", params=[MONTHS]).fetchall():
            columns.setdefault(name, []).append((col, typ))
        for t in tables:
            if t not in columns:
                continue
            template = template_table(t)
            if template not in columns:
                con.execute(f"CREATE TABLE months.{template} AS SELECT * FROM months.{t} WITH NO DATA")
                columns[template] = list(columns[t])
            have = {c for c, _ in columns[template]}
            for col, typ in columns[t]:  # a newer release may add columns
                if col not in have:
                    con.execute(f'ALTER TABLE months.{template} ADD COLUMN "{col}" {typ}')
            # months.<t> holds month M (a run of another month that died before its publish may
            # have left its rows: they are not M's)
            con.execute(f"DELETE FROM months.{t} WHERE month IS DISTINCT FROM ?", [month])
            name = month_table(t, month)
            con.execute(f"DROP TABLE IF EXISTS months.{name}")
            con.execute(f"ALTER TABLE months.{t} RENAME TO {name}")
            refresh_view(con, t, sorted({*_months_in(columns, t), month}))
            counts[t] = con.sql(f"SELECT count(*) FROM months.{name}").fetchall()[0][0]
        apply_comments(con)  # a re-created view has lost its comments
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts


def monthly_tables(con) -> list[str]:
    """Every table that holds one slice per month: the derived ones and src_<source>."""
    return MONTHLY_TABLES + [f"src_{s}" for s in SOURCES]


_COMMENT_TARGET = re.compile(r"COMMENT ON (TABLE|COLUMN) ([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))? IS", re.S)


def comment_statements() -> list[str]:
    """sql/warehouse/comments.sql and the src_<source> tables' comments from the contracts."""
    lines = (SQL_DIR / "warehouse" / "comments.sql").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("--"))
    out = [s.strip() for s in text.split(";\n") if s.strip()]
    for source in SOURCES:
        out += source_table_comments(load_contract(source))
    return [s.rstrip(";") for s in out]


# Columns that mean the same in every table that has them, documented once: a table's own
# statement in comments.sql (or its contract) wins where it says something else.
COMMON_COLUMN_COMMENTS = {
    "month": "数据月份 YYYY-MM",
    "source": "来源（extracts.md 的来源名）",
    "file": "落地文件（相对落地根目录）",
    "row_number": "电子表格行号：表头为第 1 行，第一条数据为第 2 行",
}


def apply_comments(con) -> None:
    """COMMENT ON every documented table (or view) and column of main that exists; safe inside a
    transaction (no statement is tried on something missing: a failed one would abort it)."""
    relations = set(table_names(con))
    columns = {(t, c) for t, c in con.sql("select table_name, column_name from duckdb_columns() "
                                          "where schema_name = 'main' and database_name = current_database()").fetchall()}
    documented = set()
    for stmt in comment_statements():
        m = _COMMENT_TARGET.match(stmt)
        if not m:
            raise ValueError(f"comments: not a COMMENT ON TABLE/COLUMN statement: {stmt[:80]}")
        kind, table, column = m.groups()
        if (kind == "TABLE" and table in relations) or (kind == "COLUMN" and (table, column) in columns):
            con.execute(stmt)
            documented.add((table, column))
    for table, column in sorted(columns - documented):
        if column in COMMON_COLUMN_COMMENTS:
            con.execute(f"COMMENT ON COLUMN {table}.{column} IS '{COMMON_COLUMN_COMMENTS[column]}'")


def table_names(con, schema: str = "main", database: str | None = None) -> list[str]:
    """The tables and views of `schema` (in `database`, default the connection's own), in order:
    main's monthly tables are views over one table per month."""
    db = "current_database()" if database is None else "$2"
    params = [schema] if database is None else [schema, database]
    return [r[0] for r in con.sql(
        f"select table_name from duckdb_tables() where schema_name = $1 and database_name = {db} union "
        f"select view_name from duckdb_views() where not internal and schema_name = $1 and database_name = {db} "
        "order by 1", params=params).fetchall()]



