"""docs/warehouse.md, the column reference, written from the warehouse's own documentation (COMMENT ON).

interface.md asks for every table and column to be documented inside the database and in a
document generated from it that the README links. The database's comments are the source
(sql/warehouse/comments.sql and the contracts); this module writes them into docs/warehouse.md
between two markers, so the two cannot drift apart (tests/pipeline/test_outputs.py regenerates the block
from a test warehouse and compares).

    .venv/bin/python -m lim.warehouse.warehouse_docs [--warehouse var/warehouse.duckdb] [--doc docs/warehouse.md]
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import duckdb

from lim.core.paths import DEFAULT_VAR, ROOT

DOC = ROOT / "docs" / "warehouse.md"
START = "<!-- warehouse-columns:start (written by python -m lim.warehouse.warehouse_docs) -->"
END = "<!-- warehouse-columns:end -->"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def column_reference(con) -> str:
    """Markdown: one collapsible block per table or view of main, each column with its comment."""
    relations = con.sql("""select table_name, comment from duckdb_tables() where schema_name = 'main' and database_name = current_database()
                           union all
                           select view_name, comment from duckdb_views() where schema_name = 'main' and not internal
                             and database_name = current_database()
                           order by 1""").fetchall()
    blocks = []
    for table, comment in relations:
        cols = con.sql("""select column_name, data_type, comment from duckdb_columns()
                          where schema_name = 'main' and database_name = current_database() and table_name = ?
                          order by column_index""", params=[table]).fetchall()
        rows = "\n".join(f"| `{c}` | {t} | {_cell(k)} |" for c, t, k in cols)
        blocks.append(f"<details><summary><code>{table}</code> — {_cell(comment)}</summary>\n\n"
                      f"| column | type | meaning |\n|---|---|---|\n{rows}\n\n</details>")
    return "\n".join(blocks)


def replace_block(readme: str, block: str) -> str:
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise ValueError(f"no {START} … {END} block")
    return pattern.sub(lambda _: f"{START}\n{block}\n{END}", readme)


def current_block(readme: str) -> str:
    return readme[readme.index(START) + len(START):readme.index(END)].strip("\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="数据仓库列说明 docs/warehouse.md（取自库内 COMMENT ON）")
    ap.add_argument("--warehouse", default=str(DEFAULT_VAR / "warehouse.duckdb"))
    ap.add_argument("--doc", "--readme", dest="doc", default=str(DOC))
    a = ap.parse_args(argv)
    con = duckdb.connect(a.warehouse, read_only=True)
    try:
        block = column_reference(con)
    finally:
        con.close()
    path = Path(a.doc)
    path.write_text(replace_block(path.read_text(encoding="utf-8"), block), encoding="utf-8")
    print(f"{path}: {block.count('<details>')} tables")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
