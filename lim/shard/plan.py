"""Which county shards month M has, and which persons go to each (sql/shard/10_plan.sql)."""

import re

from lim.core.month import month_variables
from lim.core.paths import SQL_DIR
from lim.warehouse import warehouse as wh

COUNTY = re.compile(r"[0-9]{6}")


def template_statements(path) -> dict[str, str]:
    """kind → statement of a shard template (sql/shard/20_*.sql, 30_*.sql): each statement follows a
    line `-- kind: <kind> …`; the rest of that line is its comment."""
    kinds = {}
    for part in path.read_text(encoding="utf-8").split("-- kind: ")[1:]:
        header, _, statement = part.partition("\n")
        kinds[header.split()[0]] = statement.strip()
    return kinds


def plan_shards(con, month: str, policy_counties: list[str]) -> list[str]:
    """months.shard_persons and months.shard_counties of M in the warehouse; the shards (county
    codes of the policy that M's rows name; others go to the first), in order."""
    con.execute("CREATE OR REPLACE TEMP TABLE policy_counties (county_code VARCHAR)")
    con.executemany("INSERT INTO policy_counties VALUES (?)", [[c] for c in sorted(policy_counties)])
    wh.run_sql(con, SQL_DIR / "shard" / "10_plan.sql", **month_variables(month))
    counties = [c for (c,) in con.sql("SELECT DISTINCT shard FROM months.shard_counties WHERE shard IS NOT NULL ORDER BY 1").fetchall()]
    if not counties:
        raise ValueError(f"{month} 月没有任何家庭的行政区划代码属于政策文件中的县，无法按县分片")
    bad = [c for c in counties if not COUNTY.fullmatch(c)]
    if bad:  # (10_plan.sql keeps six digits only; a shard's name goes into SQL and file names)
        raise ValueError(f"not a county code: {bad[0]!r}")
    return counties
