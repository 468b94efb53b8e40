"""Running the SQL files: statement by statement on a real DuckDB file, with one more try on one
thread for a statement that hits a DuckDB internal error (lim/warehouse/warehouse.py: run_sql)."""
from __future__ import annotations

import duckdb
import pytest

from lim.warehouse import warehouse as wh


class FlakyOnce:
    """A real DuckDB connection whose first execution of a statement containing `marker` raises the
    internal error DuckDB 2.0.0 raised on a province-size month (fault injection, as LIM_FAIL_AT)."""

    def __init__(self, con, marker: str, times: int = 1):
        self.con, self.marker, self.left, self.seen_threads = con, marker, times, []

    def execute(self, statement, *args):
        text = statement if isinstance(statement, str) else statement.query
        if self.marker in text:
            self.seen_threads.append(self.con.sql("SELECT current_setting('threads')").fetchall()[0][0])
            if self.left:
                self.left -= 1
                raise duckdb.InternalException("INTERNAL Error: dict-surviving join: narrowed column 11 received a "
                                               "non-dictionary chunk with values; build pipeline is not single-source")
        return self.con.execute(statement, *args)

    def sql(self, *args, **kwargs):
        return self.con.sql(*args, **kwargs)


SQL = """-- a rule file: a temp table, then an append that must happen exactly once
CREATE OR REPLACE TEMP TABLE hits AS SELECT getvariable('month') AS month, range AS i FROM range(3);
INSERT INTO hits SELECT month, i + 10 FROM hits /* finish */;
CREATE OR REPLACE TABLE result AS SELECT month, count(*) AS n, sum(i) AS s FROM hits GROUP BY ALL;
"""


@pytest.fixture
def con(tmp_path):
    c = wh.connect(str(tmp_path / "w.duckdb"), "1GB", 2)
    yield c
    c.close()


def test_statements_run_in_order_with_variables(con, tmp_path):
    f = tmp_path / "10_rule.sql"
    f.write_text(SQL, encoding="utf-8")
    wh.run_sql(con, f, month="2026-06")
    assert con.sql("SELECT * FROM result").fetchall() == [("2026-06", 6, 36)]


def test_internal_error_is_retried_once_on_one_thread(con, tmp_path, caplog):
    f = tmp_path / "90_finish.sql"
    f.write_text(SQL, encoding="utf-8")
    flaky = FlakyOnce(con, "/* finish */")
    wh.run_sql(flaky, f, month="2026-06")
    # the failed statement changed nothing; its second run appended once: the same result as above
    assert con.sql("SELECT * FROM result").fetchall() == [("2026-06", 6, 36)]
    assert flaky.seen_threads == [2, 1]
    assert con.sql("SELECT current_setting('threads')").fetchall()[0][0] == 2  # restored
    assert "90_finish.sql: DuckDB internal error" in caplog.text


def test_internal_error_twice_is_raised(con, tmp_path):
    f = tmp_path / "90_finish.sql"
    f.write_text(SQL, encoding="utf-8")
    with pytest.raises(duckdb.InternalException):
        wh.run_sql(FlakyOnce(con, "/* finish */", times=2), f, month="2026-06")
    assert con.sql("SELECT current_setting('threads')").fetchall()[0][0] == 2


def test_other_errors_are_not_retried(con, tmp_path):
    f = tmp_path / "20_bad.sql"
    f.write_text("SELECT * FROM no_such_table;", encoding="utf-8")
    with pytest.raises(duckdb.CatalogException):
        wh.run_sql(FlakyOnce(con, "never"), f)


# --- the monthly tables: one table per month under a view (lim/warehouse/warehouse.py) -----------------
def _stage_month(con, month: str, rows: list[tuple], extra: bool = False) -> None:
    con.execute("DROP TABLE IF EXISTS months.alerts")
    con.execute("CREATE TABLE months.alerts AS SELECT * FROM main.alerts WITH NO DATA")
    if extra:  # a newer release adds a column
        con.execute("ALTER TABLE months.alerts ADD COLUMN new_flag BOOLEAN")
    for alert_id, household_id in rows:
        con.execute("INSERT INTO months.alerts (month, alert_id, household_id) VALUES (?, ?, ?)", [month, alert_id, household_id])


def test_publish_swaps_whole_months_without_copying_rows(tmp_path):
    con = wh.connect(str(tmp_path / "w.duckdb"))
    kinds = dict(con.sql("select view_name, 'view' from duckdb_views() where schema_name = 'main' union all "
                         "select table_name, 'table' from duckdb_tables() where schema_name = 'main'").fetchall())
    assert all(kinds[t] == "view" for t in wh.monthly_tables(con) if t in kinds) and kinds["alerts"] == "view"
    assert con.sql("select comment from duckdb_views() where view_name = 'alerts'").fetchall()[0][0]

    _stage_month(con, "2026-01", [("A1", "H1"), ("A2", "H2")])
    assert wh.publish_month(con, "2026-01", ["alerts"]) == {"alerts": 2}
    _stage_month(con, "2026-02", [("A3", "H1")], extra=True)
    # a month of another run that died before its publish left a row in months.alerts: it is not published
    con.execute("INSERT INTO months.alerts (month, alert_id) VALUES ('2026-05', 'stray')")
    wh.publish_month(con, "2026-02", ["alerts"])
    rows = con.sql("select month, alert_id, new_flag from alerts order by alert_id").fetchall()
    assert rows == [("2026-01", "A1", None), ("2026-01", "A2", None), ("2026-02", "A3", None)]
    assert wh.published_months(con, "alerts") == ["2026-01", "2026-02"]
    assert not wh.relation_exists(con, "months", "alerts")  # renamed into place, nothing left to drop

    # a rerun of 2026-01 replaces that month and only it; the view keeps its documentation
    _stage_month(con, "2026-01", [("A9", "H9")])
    wh.publish_month(con, "2026-01", ["alerts"])
    assert con.sql("select month, alert_id from alerts order by 1, 2").fetchall() == [("2026-01", "A9"), ("2026-02", "A3")]
    assert con.sql("select comment from duckdb_views() where view_name = 'alerts'").fetchall()[0][0]
    assert con.sql("select count(*) from duckdb_columns() where table_name = 'alerts' and schema_name = 'main' "
                   "and column_name = 'alert_type' and comment is not null").fetchall()[0][0] == 1

    # a failure inside the transaction leaves every month as it was
    _stage_month(con, "2026-02", [("B1", "H1")])
    with pytest.raises(RuntimeError):
        wh.publish_month(con, "2026-02", ["alerts"], also=lambda c: (_ for _ in ()).throw(RuntimeError("boom")))
    assert con.sql("select alert_id from alerts where month = '2026-02'").fetchall() == [("A3",)]
    con.close()


def test_a_warehouse_of_one_table_per_kind_is_converted_with_every_row(tmp_path):
    """A warehouse of an older release (main.alerts one table of every month) opens as month tables."""
    path = tmp_path / "old.duckdb"
    con = wh.connect(str(path))
    con.close()
    old = duckdb.connect(str(path))
    cols = ", ".join(c for (c,) in old.sql("select column_name from duckdb_columns() where schema_name = 'main' "
                                           "and table_name = 'alerts' order by column_index").fetchall())
    old.execute(f"CREATE TABLE main.alerts_old AS SELECT {cols} FROM main.alerts")
    old.execute("DROP VIEW main.alerts")
    old.execute("ALTER TABLE main.alerts_old RENAME TO alerts")
    old.execute("INSERT INTO main.alerts (month, alert_id) SELECT '2025-' || lpad((i % 12 + 1)::VARCHAR, 2, '0'), 'A' || i "
                "FROM range(100) t(i)")
    old.close()
    con = wh.connect(str(path))
    assert wh.published_months(con, "alerts") == [f"2025-{m:02d}" for m in range(1, 13)]
    assert con.sql("select count(*), count(distinct alert_id) from alerts").fetchall() == [(100, 100)]
    assert con.sql("select table_type from information_schema.tables where table_schema = 'main' "
                   "and table_name = 'alerts'").fetchall() == [("VIEW",)]
    con.close()
