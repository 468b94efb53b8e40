"""The warehouse's schemas (issue #18 item 4): `months` holds the month tables (the month being built
months.<t>, the published months.<t>__YYYY_MM), `main` the analysts' views and the other tables. A new
file is made in that shape; a warehouse of an older release (schema `stage`) is converted once on
opening, in one transaction (lim/warehouse/warehouse.py: convert_stage_schema)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from lim.warehouse import warehouse as wh
from tests.old_warehouse import snapshot, to_stage_shape, view_counts

ROOT = Path(__file__).resolve().parents[2]


def _schemas(con) -> set[str]:
    return {r[0] for r in con.sql("select schema_name from duckdb_schemas() where database_name = current_database() "
                                  "and not internal").fetchall()} | {
        r[0] for r in con.sql("select schema_name from duckdb_tables() where database_name = current_database()").fetchall()}


def _versions(con) -> list[int]:
    return [r[0] for r in con.sql("select version from schema_version order by version").fetchall()]


def _build_month(con, month: str, rows: list[tuple[str, str]]) -> None:
    con.execute("DROP TABLE IF EXISTS months.alerts")
    con.execute("CREATE TABLE months.alerts AS SELECT * FROM main.alerts WITH NO DATA")
    for alert_id, household_id in rows:
        con.execute("INSERT INTO months.alerts (month, alert_id, household_id) VALUES (?, ?, ?)", [month, alert_id, household_id])


def _old_warehouse(path: Path) -> None:
    """Two published months of alerts and load_log, a half-built third month (a run that died before
    its publish) and a comment on a month table — then turned into the old shape (schema `stage`)."""
    con = wh.connect(str(path))
    for month, rows in (("2026-01", [("A1", "H1"), ("A2", "H2")]), ("2026-02", [("A3", "H1")])):
        _build_month(con, month, rows)
        con.execute("CREATE OR REPLACE TABLE months.load_log (month VARCHAR NOT NULL, source VARCHAR NOT NULL, rows_in BIGINT)")
        con.execute("INSERT INTO months.load_log (month, source, rows_in) VALUES (?, 'hr', 7)", [month])
        wh.publish_month(con, month, ["alerts", "load_log"])
    _build_month(con, "2026-03", [("A9", "H9")])
    con.execute("COMMENT ON TABLE months.alerts__2026_01 IS '一月''预警'")
    con.execute("COMMENT ON COLUMN months.alerts__2026_01.alert_id IS '编号'")
    con.close()
    to_stage_shape(path)


def test_a_new_warehouse_is_made_in_the_months_shape_without_a_conversion(tmp_path, monkeypatch):
    monkeypatch.setattr(wh, "convert_stage_schema", lambda con: pytest.fail("a new file is not converted"))
    con = wh.connect(str(tmp_path / "new.duckdb"))
    assert _schemas(con) == {"main", "months"}
    assert _versions(con) == [wh.SCHEMA_VERSION] == [2]
    for t in [t for t in wh.monthly_tables(con) if wh.relation_exists(con, "main", t)]:
        assert wh._base_table_exists(con, "months", wh.template_table(t)), t
        assert not wh._base_table_exists(con, "main", t), t
        assert con.sql(f"SELECT count(*) FROM main.{t}").fetchall() == [(0,)]
    assert '"months".alerts__template' in con.sql("select sql from duckdb_views() where view_name = 'alerts'").fetchall()[0][0]
    con.close()
    monkeypatch.undo()
    con = wh.connect(str(tmp_path / "new.duckdb"))  # opened again: nothing changes
    assert _schemas(con) == {"main", "months"} and _versions(con) == [2]
    con.close()


def test_an_old_warehouse_is_converted_once_with_every_row_type_and_comment(tmp_path):
    path = tmp_path / "old.duckdb"
    _old_warehouse(path)
    old = duckdb.connect(str(path))
    before, before_views = snapshot(old, "stage"), view_counts(old)
    assert "stage" in _schemas(old) and "months" not in _schemas(old) and _versions(old) == [1]
    assert {"alerts", "alerts__2026_01", "alerts__2026_02", "alerts__template", "load_log__2026_02"} <= set(before)
    assert "stage.alerts__2026_02" in old.sql("select sql from duckdb_views() where view_name = 'alerts'").fetchall()[0][0]
    old.close()

    con = wh.connect(str(path))
    assert snapshot(con, "months") == before  # every table: same columns and types, same rows
    assert view_counts(con) == before_views
    assert view_counts(con)["alerts"] == {"2026-01": 2, "2026-02": 1}
    assert "stage" not in _schemas(con) and _versions(con) == [1, 2]
    assert "stage." not in " ".join(r[0] for r in con.sql("select sql from duckdb_views() where schema_name = 'main' "
                                                          "and not internal").fetchall())
    assert con.sql("select comment from duckdb_tables() where schema_name = 'months' "
                   "and table_name = 'alerts__2026_01'").fetchall() == [("一月'预警",)]
    assert con.sql("select comment from duckdb_columns() where schema_name = 'months' and table_name = 'alerts__2026_01' "
                   "and column_name = 'alert_id'").fetchall() == [("编号",)]
    assert con.sql("select comment from duckdb_views() where view_name = 'alerts'").fetchall()[0][0]  # analysts' docs kept
    assert con.sql("select count(*) from duckdb_constraints() where schema_name = 'months' and constraint_type = 'NOT NULL'"
                   ).fetchall()[0][0] > 0
    # the half-built month is the month being built: its run publishes it
    _build_month(con, "2026-03", [("A9", "H9"), ("A10", "H10")])
    wh.publish_month(con, "2026-03", ["alerts"])
    assert view_counts(con)["alerts"] == {"2026-01": 2, "2026-02": 1, "2026-03": 2}
    con.close()

    con = wh.connect(str(path))  # opened again: nothing to convert
    assert _versions(con) == [1, 2] and "stage" not in _schemas(con)
    con.close()


CRASH = textwrap.dedent("""
    import os, sys
    from lim.warehouse import warehouse as wh
    copy, copied = wh._copy_table, []
    def dying_copy(con, old, new, table):
        copy(con, old, new, table)
        copied.append(table)
        if len(copied) == int(sys.argv[2]):
            os._exit(9)  # the process dies inside the conversion's transaction
    wh._copy_table = dying_copy
    wh.connect(sys.argv[1])
""")


def test_a_crash_midway_leaves_the_old_shape_usable_and_the_next_open_converts(tmp_path):
    path = tmp_path / "old.duckdb"
    _old_warehouse(path)
    old = duckdb.connect(str(path))
    before, before_views = snapshot(old, "stage"), view_counts(old)
    old.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CRASH, str(path), "5"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 9, done.stderr

    old = duckdb.connect(str(path))  # as the old release would open it
    assert "months" not in _schemas(old) and _versions(old) == [1]
    assert snapshot(old, "stage") == before and view_counts(old) == before_views
    old.close()
    con = wh.connect(str(path))
    assert snapshot(con, "months") == before and view_counts(con) == before_views and _versions(con) == [1, 2]
    con.close()


def test_a_table_in_both_schemas_stops_the_conversion_and_changes_nothing(tmp_path):
    path = tmp_path / "old.duckdb"
    _old_warehouse(path)
    old = duckdb.connect(str(path))
    old.execute("CREATE SCHEMA months")
    old.execute("CREATE TABLE months.alerts__2026_01 AS FROM stage.alerts__2026_01")
    before = snapshot(old, "stage")
    old.close()
    with pytest.raises(wh.WarehouseError, match="alerts__2026_01"):
        wh.connect(str(path))
    old = duckdb.connect(str(path))
    assert snapshot(old, "stage") == before and _versions(old) == [1]
    old.close()
