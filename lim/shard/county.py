"""One county shard of month M: persons, households and rules of the county, computed by the same
SQL models as the whole month (sql/reconcile/40, 50; sql/rules/) in a DuckDB file of the shard's
own, from the rows sql/shard/10_plan.sql routed to it. The warehouse is attached read-only as `wh`:
the shard reads M's linked rows (months.src_*, copied filtered to the county:
sql/shard/20_county_inputs.sql) and every published month (main.*, unfiltered: a person's history
follows them across counties). Nothing is written to the warehouse, so shards run in parallel."""

from pathlib import Path

import duckdb

from lim.core.contracts import SOURCES, load_contract
from lim.core.paths import SQL_DIR
from lim.core.policy import Policy
from lim.reconcile.build import build_households, build_persons
from lim.rules.build import build_rules
from lim.shard.plan import COUNTY, template_statements
from lim.warehouse import warehouse as wh

INPUTS = SQL_DIR / "shard" / "20_county_inputs.sql"
# The statement of 20_county_inputs.sql each source's rows are routed with.
KIND = {"civil_affairs_households": "roster_household", "civil_affairs_decisions": "decision"}
# The month's tables of the warehouse the shard reads whole (counts and evidence, not routed).
WHOLE = ("load_log", "quarantine", "id_links")


def input_statements(county: str) -> dict[str, str]:
    """source → the CREATE VIEW of its rows for the county."""
    if not COUNTY.fullmatch(county):
        raise ValueError(f"not a county code: {county!r}")
    kinds = template_statements(INPUTS)
    out = {}
    for source in SOURCES:
        kind = KIND.get(source) or ("person" if load_contract(source).id_column else None)
        if kind is None:
            raise ValueError(f"{source}: no shard routing for a source without ID numbers")
        out[source] = kinds[kind].replace("{source}", source).replace("{shard}", county)
    return out


def open_shard(path: Path, warehouse_path: str, county: str, memory_limit: str = "6GB", threads: int = 2,
               temp_dir: str | None = None):
    """A fresh shard file for the county with the warehouse attached read-only and its views made."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    tmp = Path(temp_dir) if temp_dir else path.parent / "duckdb_tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = '{memory_limit}'; SET threads = {int(threads)}; "
                f"SET temp_directory = {wh.sql_literal(tmp.as_posix())}; SET preserve_insertion_order = false;")
    # read-only: county steps run side by side; a step writing the warehouse is waited for
    wh.with_lock_wait(lambda: con.execute(f"ATTACH {wh.sql_literal(str(warehouse_path))} AS wh (READ_ONLY)"), wh.lock_wait_seconds())
    con.execute("CREATE SCHEMA months")
    # the published months and the non-monthly tables, as the analysts see them
    for (name,) in con.sql("SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' AND schema_name = 'main' "
                           "UNION SELECT view_name FROM duckdb_views() WHERE database_name = 'wh' AND schema_name = 'main' "
                           "AND NOT internal ORDER BY 1").fetchall():
        con.execute(f'CREATE VIEW main."{name}" AS SELECT * FROM wh.main."{name}"')
    for source, statement in input_statements(county).items():
        con.execute(statement)
    for table in WHOLE:
        con.execute(f"CREATE VIEW months.{table} AS SELECT * FROM wh.months.{table}")
    return con


def build_county_shard(path: Path, warehouse_path: str, county: str, month: str, policy: Policy,
                       memory_limit: str = "6GB", threads: int = 2, temp_dir: str | None = None) -> dict:
    """persons_monthly, households_monthly and the rules of one county, in the shard file at `path`."""
    con = open_shard(path, warehouse_path, county, memory_limit, threads, temp_dir)
    try:
        buckets = build_persons(con, month)
        build_households(con, month)
        info = build_rules(con, month, policy)
        counts = dict(con.sql("SELECT 'households', count(*) FROM months.households_monthly WHERE county_code = ? "
                              "UNION ALL SELECT 'alerts', count(*) FROM months.alerts WHERE month = ? AND county_code = ?",
                              params=[county, month, county]).fetchall())  # (its own county's; the merge decides)
        con.execute("DETACH wh")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {"county": county, "path": str(path), "buckets": buckets, **counts,
            "counties_without_period": info["counties_without_period"]}
