"""Merge the county shards of month M into the warehouse's month tables (sql/shard/30_merge.sql):
after it the warehouse holds M as if it had been computed whole, and quality checks and publishing
run on it unchanged."""


from lim.core.paths import SQL_DIR
from lim.core.policy import Policy
from lim.rules.build import load_month_parameters
from lim.shard.plan import COUNTY, template_statements
from lim.warehouse import warehouse as wh

MERGE = SQL_DIR / "shard" / "30_merge.sql"
# The month's tables the shards make, and how a shard's rows of each are kept (30_merge.sql).
TABLES = {
    "persons_monthly": "persons",
    "households_monthly": "households",
    "household_members_monthly": "members",
    "determinations": "per_household",
    "alerts": "per_household",
    "audit_sample": "roster_household",
    "withheld_evaluations": "per_household",
    "resolved_alerts": "per_household",
}
# Made the same by every shard (the month's coverage of sources): taken from the first.
SAME_IN_EVERY_SHARD = ("source_coverage",)
# Monthly tables a shard keeps its own month rows of, in tables that also hold other months.
MONTH_ROWS = {"alerts"}


def _shard_has(con, alias: str, table: str) -> bool:
    return con.sql("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'months' AND table_name = ?",
                   params=[alias, table]).fetchall()[0][0] > 0


def merge_shards(con, month: str, shards: dict[str, str], policy: Policy) -> dict:
    """`shards`: county → shard file. Replaces the month's persons, households and rules tables."""
    if not shards:
        raise ValueError(f"{month}：没有可合并的县分片")
    statements = template_statements(MERGE)
    counties = sorted(shards)
    load_month_parameters(con, month, policy)
    for table in MONTH_ROWS:  # the warehouse's months table without M's rows (before the shards are
        # attached: relation_exists looks in every attached database)
        wh.replace_stage_month(con, table, month, added_columns={"data_note": "VARCHAR", **wh.ADDED_ALERT_COLUMNS})
    for county in counties:
        if not COUNTY.fullmatch(county):
            raise ValueError(f"not a county code: {county!r}")
        con.execute(f"ATTACH {wh.sql_literal(str(shards[county]))} AS shard_{county} (READ_ONLY)")
    try:
        # a household belongs to the shard of its county (months.shard_counties; else the first shard)
        con.execute("CREATE OR REPLACE TEMP TABLE owned_households AS " + " UNION ALL ".join(
            f"SELECT '{c}' AS shard, h.household_source, h.household_id FROM shard_{c}.months.households_monthly h "
            f"WHERE coalesce((SELECT s.shard FROM months.shard_counties s WHERE s.county_code = h.county_code), "
            f"(SELECT min(shard) FROM months.shard_counties)) = '{c}'" for c in counties))
        first = counties[0]
        for table in SAME_IN_EVERY_SHARD:
            con.execute(f"CREATE OR REPLACE TABLE months.{table} AS SELECT * FROM shard_{first}.months.{table}")
        merged = {}
        for table, kind in TABLES.items():
            present = [c for c in counties if _shard_has(con, f"shard_{c}", table)]
            if not present:
                continue
            if table not in MONTH_ROWS:  # the first shard's columns, in its order (each shard ran the same SQL)
                con.execute(f"CREATE OR REPLACE TABLE months.{table} AS SELECT * FROM shard_{present[0]}.months.{table} WITH NO DATA")
            for county in present:
                con.execute(statements[kind].replace("{table}", table).replace("{shard}", county))
            merged[table] = con.sql(f"SELECT count(*) FROM months.{table}").fetchall()[0][0]
        con.execute("DROP TABLE IF EXISTS months.shard_persons")
        con.execute("DROP TABLE IF EXISTS months.shard_counties")
    finally:
        for county in counties:
            con.execute(f"DETACH DATABASE IF EXISTS shard_{county}")
    return merged
