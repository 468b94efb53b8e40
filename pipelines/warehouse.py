"""DuckDB warehouse: connection, schema bootstrap, SQL files, and the atomic month swap.

Each asset writes its month into the `stage` schema; the publish step moves every table's
month from `stage` into `main` in one transaction, so analysts never see half a month.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

import duckdb

from pipelines.paths import SQL_DIR

log = logging.getLogger("lim.warehouse")

# Tables whose month is swapped from stage into main by publish (order irrelevant: one transaction).
MONTHLY_TABLES = [
    "load_log", "quarantine", "id_links", "month_parameters",
    "persons_monthly", "household_members_monthly", "households_monthly",
    "determinations", "alerts", "audit_sample", "targeting_metrics", "quality_results",
]


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened or used; the message says what to fix."""


def connect(path: str, memory_limit: str = "6GB", threads: int = 2, temp_dir: str | None = None):
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(p))
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
    from checks.contracts import SOURCES, load_contract  # local import: contracts are a leaf module

    exists = con.sql("select count(*) from duckdb_tables() where schema_name='main' and table_name='schema_version'").fetchall()[0][0]
    if not exists:
        con.execute("BEGIN")
        run_sql(con, SQL_DIR / "warehouse" / "schema.sql")
        for source in SOURCES:
            con.execute(source_table_ddl(load_contract(source)))
        con.execute("COMMIT")
    con.execute("CREATE SCHEMA IF NOT EXISTS stage")


_DUCK_TYPES = {"text": "VARCHAR", "id": "VARCHAR", "name": "VARCHAR", "enum": "VARCHAR",
               "region_code": "VARCHAR", "month": "VARCHAR", "amount": "DECIMAL(18,2)",
               "integer": "BIGINT", "date": "DATE"}


def source_table_ddl(contract) -> str:
    """src_<source>: the accepted (and ID-linked) rows of every month, the history rules look back on."""
    cols = ["month VARCHAR NOT NULL", "file VARCHAR", "row_number BIGINT"]
    for c in contract.columns:
        cols.append(f"{c.canonical} {_DUCK_TYPES[c.type]}")
        if c.type == "id":
            cols += ["id_raw VARCHAR", "link_method VARCHAR"]
    cols.append("raw VARCHAR")
    name = f"src_{contract.source}"
    comments = [f"COMMENT ON TABLE {name} IS '{contract.department}：每月接收的有效行（已标准化、身份证号已链接），规则回看历史时读取';"]
    for c in contract.columns:
        comments.append(f"COMMENT ON COLUMN {name}.{c.canonical} IS '{c.header}';")
    return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(cols)});\n" + "\n".join(comments)


def run_sql(con, path: Path, **variables) -> None:
    """Run one SQL file, statement by statement; `variables` are available in it as
    getvariable('name').

    A statement that fails with a DuckDB *internal* error (an assertion inside DuckDB, not a
    problem of the data or the SQL) is run once more on one thread. DuckDB 2.0.0's
    dictionary-surviving hash join (duckdb/duckdb#24807) raised "dict-surviving join: narrowed
    column … build pipeline is not single-source" once in 90_alerts_finish.sql on a 5 M-household
    month under memory pressure and not when the same statement ran again; a statement either
    completes or changes nothing, so running it again is safe. Any other error is raised at once."""
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


def run_sql_dir(con, folder: Path, **variables) -> list[str]:
    files = sorted(p for p in Path(folder).glob("*.sql"))
    for f in files:
        try:
            run_sql(con, f, **variables)
        except duckdb.Error as e:
            raise RuntimeError(f"{f.relative_to(SQL_DIR.parent)}: {e}") from e
    return [f.name for f in files]


def _exists(con, schema: str, table: str) -> bool:
    return con.sql("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                   params=[schema, table]).fetchall()[0][0] > 0


def _columns(con, schema: str, table: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in con.sql(
        "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
        params=[schema, table]).fetchall()]


def stage_table(con, table: str) -> None:
    """Create stage.<table> with main.<table>'s columns if it does not exist yet."""
    if not _exists(con, "stage", table) and _exists(con, "main", table):
        con.execute(f"CREATE TABLE stage.{table} AS SELECT * FROM main.{table} WITH NO DATA")


def replace_stage_month(con, table: str, month: str) -> None:
    stage_table(con, table)
    con.execute(f"DELETE FROM stage.{table} WHERE month = ?", [month])


def publish_month(con, month: str, tables: list[str], also=None) -> dict[str, int]:
    """Replace `month` of every table in main with stage's rows, in one transaction.
    `also(con)`, if given, runs inside the same transaction (policy tables, run audit)."""
    counts = {}
    con.execute("BEGIN TRANSACTION")
    try:
        if also is not None:
            also(con)
        for t in tables:
            if not _exists(con, "stage", t):
                continue
            if not _exists(con, "main", t):
                con.execute(f"CREATE TABLE main.{t} AS SELECT * FROM stage.{t} WITH NO DATA")
            have = {c for c, _ in _columns(con, "main", t)}
            for col, typ in _columns(con, "stage", t):  # a newer release may add columns
                if col not in have:
                    con.execute(f'ALTER TABLE main.{t} ADD COLUMN "{col}" {typ}')
            con.execute(f"DELETE FROM main.{t} WHERE month = ?", [month])
            con.execute(f"INSERT INTO main.{t} BY NAME SELECT * FROM stage.{t} WHERE month = ?", [month])
            counts[t] = con.sql(f"SELECT count(*) FROM main.{t} WHERE month = ?", params=[month]).fetchall()[0][0]
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    for t in tables:
        if _exists(con, "stage", t):
            con.execute(f"DROP TABLE stage.{t}")
    return counts


def monthly_tables(con) -> list[str]:
    """Every table that holds one slice per month: the derived ones and src_<source>."""
    from checks.contracts import SOURCES
    return MONTHLY_TABLES + [f"src_{s}" for s in SOURCES]


def apply_comments(con) -> None:
    """COMMENT ON every documented table/column that exists (sql/warehouse/comments.sql)."""
    lines = (SQL_DIR / "warehouse" / "comments.sql").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("--"))
    for stmt in [s.strip() for s in text.split(";\n") if s.strip()]:
        try:
            con.execute(stmt)
        except duckdb.CatalogException:
            pass  # table not built yet in this warehouse (e.g. before the first run)


def table_names(con, schema: str = "main") -> list[str]:
    return [r[0] for r in con.sql("select table_name from duckdb_tables() where schema_name = ? order by 1", params=[schema]).fetchall()]



