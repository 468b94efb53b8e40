"""An in-process run holds the warehouse open between its steps (lim/warehouse/warehouse.py
hold_open_between_steps, assets/resources.py WarehouseResource): each step works on a cursor of one
connection, so the file is opened and checked once a run. Not with county shards (a county step
attaches the file read-only) nor another executor, not once the file has grown past
HOLD_OPEN_MAX_BYTES (its cached blocks would stay in memory beside the next step), not after a step
that failed on it, and never beyond the run: after it, anyone may open the file."""
from __future__ import annotations

import duckdb
import pytest

from assets.resources import WarehouseResource
from lim.warehouse import warehouse as wh


def _others_can_open(path) -> bool:
    """A read-only connection of this process opens the file only when no connection holds it."""
    try:
        duckdb.connect(str(path), read_only=True).close()
        return True
    except duckdb.ConnectionException:
        return False


def _in_a_run(path) -> WarehouseResource:
    """The resource as Dagster sets it up for a run (its teardown is the test's)."""
    res = WarehouseResource(path=str(path))
    res.setup_for_execution(None)
    return res


@pytest.fixture
def in_process(monkeypatch):
    monkeypatch.setenv("LIM_EXECUTOR", "in_process")
    monkeypatch.setenv("LIM_SHARDS", "none")


def test_a_run_holds_the_warehouse_between_steps_and_lets_go_at_its_end(tmp_path, in_process):
    path = tmp_path / "warehouse.duckdb"
    res = _in_a_run(path)
    with res.connect() as con:
        con.execute("CREATE TABLE main.step_one AS SELECT 1 AS i")
    assert not _others_can_open(path)  # between two steps: still open
    with res.connect() as con:
        assert con.sql("SELECT i FROM main.step_one").fetchall() == [(1,)]
    res.teardown_after_execution(None)
    assert _others_can_open(path)
    with duckdb.connect(str(path), read_only=True) as con:  # and what the steps wrote is there
        assert con.sql("SELECT i FROM main.step_one").fetchall() == [(1,)]


def test_outside_a_run_every_connection_closes_the_file(tmp_path, in_process):
    path = tmp_path / "warehouse.duckdb"
    res = WarehouseResource(path=str(path))  # the runner's own use, not set up by Dagster
    with res.connect() as con:
        con.execute("CREATE TABLE main.x AS SELECT 1 AS i")
    assert _others_can_open(path)


def test_a_run_lets_go_once_the_file_has_grown(tmp_path, in_process, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    res = _in_a_run(path)
    with res.connect():
        pass
    monkeypatch.setattr(wh, "HOLD_OPEN_MAX_BYTES", path.stat().st_size + (1 << 20))
    with res.connect() as con:  # a step that writes 10 MB
        con.execute("CREATE TABLE main.big AS SELECT range AS i, repeat('x', 100) || range AS s FROM range(200000)")
        con.execute("CHECKPOINT")
    assert _others_can_open(path)  # let go after that step
    with res.connect() as con:  # the next step opens it anew
        assert con.sql("SELECT count(*) FROM main.big").fetchall() == [(200000,)]
    assert _others_can_open(path)
    res.teardown_after_execution(None)


def test_a_step_that_fails_lets_go_and_the_next_opens_anew(tmp_path, in_process):
    path = tmp_path / "warehouse.duckdb"
    res = _in_a_run(path)
    with res.connect() as con:
        con.execute("CREATE TABLE main.kept AS SELECT 1 AS i")
    with pytest.raises(duckdb.CatalogException):
        with res.connect() as con:
            con.execute("BEGIN")
            con.execute("CREATE TABLE main.half AS SELECT 1 AS i")
            con.execute("SELECT * FROM main.no_such_table")
    assert _others_can_open(path)
    with res.connect() as con:  # the failed step's transaction is gone, the rest is there
        names = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
        assert "kept" in names and "half" not in names
    res.teardown_after_execution(None)
    assert _others_can_open(path)


@pytest.mark.parametrize("env", [{"LIM_SHARDS": "county"}, {"LIM_EXECUTOR": "multiprocess"}])
def test_not_held_with_county_shards_or_step_processes(tmp_path, in_process, monkeypatch, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    path = tmp_path / "warehouse.duckdb"
    assert not wh.hold_open_between_steps(str(path))
    res = WarehouseResource(path=str(path))
    res.setup_for_execution(None)
    with res.connect():
        pass
    assert _others_can_open(path)
    res.teardown_after_execution(None)


def test_the_log_counts_in_the_size(tmp_path, in_process, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    path.write_bytes(b"x" * 100)
    (tmp_path / "warehouse.duckdb.wal").write_bytes(b"x" * 100)
    monkeypatch.setattr(wh, "HOLD_OPEN_MAX_BYTES", 150)
    assert not wh.hold_open_between_steps(str(path))
    monkeypatch.setattr(wh, "HOLD_OPEN_MAX_BYTES", 200)
    assert wh.hold_open_between_steps(str(path))
