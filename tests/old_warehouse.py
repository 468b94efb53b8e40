"""A warehouse in the shape of the releases before issue #18 item 4: the month tables in schema
`stage` (stage.<t>, stage.<t>__YYYY_MM, stage.<t>__template), the views main.<t> over them and
schema_version 1 — made from a warehouse of this release, to test the one-time conversion
(lim/warehouse/warehouse.py convert_stage_schema)."""
from __future__ import annotations

import duckdb

from lim.warehouse import warehouse as wh


def to_stage_shape(path) -> None:
    """Turn the warehouse file at `path` (schema `months`) back into the old shape (schema `stage`),
    as the old release left it: same tables, DDL, rows and comments, views over `stage`."""
    con = duckdb.connect(str(path))
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE SCHEMA stage")
        tables = month_schema_tables(con, "months")
        for t in tables:
            wh._copy_table(con, "months", "stage", t)
        for t in wh.monthly_tables(con):
            if not wh._base_table_exists(con, "stage", wh.template_table(t)):
                continue
            months = sorted(n[len(t) + 2:] for n in tables if n.startswith(f"{t}__") and n[len(t) + 2:][:1].isdigit())
            parts = [f"SELECT * FROM stage.{wh.template_table(t)}"] + [f"SELECT * FROM stage.{t}__{m}" for m in months]
            con.execute(f"CREATE OR REPLACE VIEW main.{t} AS " + "\nUNION ALL BY NAME ".join(parts))
        for t in tables:
            con.execute(f'DROP TABLE months."{t}"')
        con.execute("DROP SCHEMA months")
        con.execute("DELETE FROM schema_version")
        con.execute("INSERT INTO schema_version VALUES (1, now()::TIMESTAMP)")
        wh.apply_comments(con)
        con.execute("COMMIT")
    finally:
        con.close()


def month_schema_tables(con, schema: str) -> list[str]:
    return [r[0] for r in con.sql("select table_name from duckdb_tables() where database_name = current_database() "
                                  "and schema_name = ? order by 1", params=[schema]).fetchall()]


def snapshot(con, schema: str) -> dict[str, tuple]:
    """Per table of `schema`: its columns (name, type, nullable), row count and a checksum of its rows."""
    out = {}
    for t in month_schema_tables(con, schema):
        cols = con.sql("select list(column_name || ' ' || data_type || ' ' || is_nullable::VARCHAR order by column_index) "
                       "from duckdb_columns() where database_name = current_database() and schema_name = ? and table_name = ?",
                       params=[schema, t]).fetchall()[0][0]
        n, checksum = con.sql(f'SELECT count(*), coalesce(sum(hash(r)), 0) FROM (SELECT * FROM {schema}."{t}") r').fetchall()[0]
        out[t] = (tuple(cols), n, checksum)
    return out


def view_counts(con) -> dict[str, int]:
    """Rows per month of every monthly view of main."""
    out = {}
    for t in wh.monthly_tables(con):
        if wh.relation_exists(con, "main", t):
            out[t] = dict(con.sql(f"SELECT month, count(*) FROM main.{t} GROUP BY 1").fetchall())
    return out
