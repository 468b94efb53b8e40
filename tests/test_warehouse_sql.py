"""Running the SQL files: statement by statement on a real DuckDB file, with one more try on one
thread for a statement that hits a DuckDB internal error (pipelines/warehouse.py: run_sql)."""
from __future__ import annotations

import duckdb
import pytest

from pipelines import warehouse as wh


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
