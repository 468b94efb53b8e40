"""Which county shards month M has, and which persons go to each (sql/shard/10_plan.sql)."""

import re

from lim.core.month import month_variables
from lim.core.paths import SQL_DIR
from lim.warehouse import warehouse as wh

COUNTY = re.compile(r"[0-9]{6}")


def plan_shards(con, month: str) -> list[str]:
    """months.shard_persons and months.shard_counties of M in the warehouse; the counties, in order."""
    wh.run_sql(con, SQL_DIR / "shard" / "10_plan.sql", **month_variables(month))
    counties = [c for (c,) in con.sql("SELECT county_code FROM months.shard_counties ORDER BY 1").fetchall()]
    bad = [c for c in counties if not COUNTY.fullmatch(c)]
    if bad:  # (10_plan.sql keeps six digits only; a shard's name goes into SQL and file names)
        raise ValueError(f"not a county code: {bad[0]!r}")
    return counties
