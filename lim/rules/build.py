"""Stage 3 — rules (sql/rules/*.sql), the library part (the asset is assets/rules.py): parameters → determinations → alerts → audit sample.

Python only loads the policy period in force for M into months.month_parameters; every number a
caseworker sees is computed by the SQL files, read in order.
"""

from lim.core.month import month_variables
from lim.core.paths import SQL_DIR
from lim.core.policy import ALL_PARAMETERS, Policy, stored_value
from lim.core.response_days import period_response_days
from lim.warehouse import warehouse as wh


def load_month_parameters(con, month: str, policy: Policy) -> list[str]:
    """months.month_parameters for M; returns the counties without a period covering M."""
    con.execute("CREATE TABLE IF NOT EXISTS months.month_parameters (month VARCHAR, county_code VARCHAR, county_name VARCHAR, effective_from VARCHAR, name VARCHAR, value DOUBLE, text_value VARCHAR)")
    # text_value (rules-variants.md B.1: flags, null, dibao_benefit_basis): absent from an older warehouse's table
    con.execute("ALTER TABLE months.month_parameters ADD COLUMN IF NOT EXISTS text_value VARCHAR")
    con.execute("DELETE FROM months.month_parameters WHERE month = ?", [month])
    rows, uncovered = [], []
    for code, county in sorted(policy.counties.items()):
        period = policy.period_for(code, month)
        if period is None:
            uncovered.append(code)
            continue
        rows += [(month, code, county.name, period["effective_from"], name, *stored_value(period[name]))
                 for name in ALL_PARAMETERS]
        # days to answer each alert type (interface.md "Due dates"; read by sql/rules/92_loop.sql)
        rows += [(month, code, county.name, period["effective_from"], f"response_days.{t}", float(d), None)
                 for t, d in sorted(period_response_days(period).items())]
    if rows:  # (lim run refuses a month no period covers before it starts: runner.preflight)
        con.executemany("INSERT INTO months.month_parameters (month, county_code, county_name, effective_from, name, value, text_value) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return uncovered


def published_history(con) -> None:
    """temp.published_determinations: the determinations of the months published so far, which the
    rules read back (rules-variants.md r6: the review month's per-capita income); an empty stand-in
    before the first month is published (main.determinations does not exist yet)."""
    con.execute("DROP VIEW IF EXISTS temp.published_determinations")
    con.execute("DROP TABLE IF EXISTS temp.published_determinations")
    if wh.relation_exists(con, "main", "determinations"):
        con.execute("CREATE TEMP VIEW published_determinations AS "
                    "SELECT month, household_source, household_id, per_capita_income FROM main.determinations")
    else:
        con.execute("CREATE TEMP TABLE published_determinations (month VARCHAR, household_source VARCHAR, "
                    "household_id VARCHAR, per_capita_income DECIMAL(18,2))")


def build_rules(con, month: str, policy: Policy) -> dict:
    uncovered = load_month_parameters(con, month, policy)
    published_history(con)
    wh.replace_stage_month(con, "alerts", month, added_columns={"data_note": "VARCHAR", **wh.ADDED_ALERT_COLUMNS})
    files = wh.run_sql_dir(con, SQL_DIR / "rules", shared=True, seed_dir=str(SQL_DIR / "seeds"), **month_variables(month))
    return {"sql_files": files, "counties_without_period": uncovered}
