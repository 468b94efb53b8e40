"""persons_monthly built in hash buckets of persons (sql/reconcile/40_persons.sql) is the same
table as built in one piece: the same rows, every person once, history (M-1, M-11..M) included."""
from __future__ import annotations

import shutil

import duckdb
import pytest

from lim.reconcile.build import build_persons, persons_buckets
from lim.core.contracts import SOURCES
from lim.warehouse import warehouse as wh
from tests import scenario


@pytest.fixture()
def restaged(county, tmp_path):
    """A copy of the scenario warehouse with month M's source records back in months.<t>, as
    source_records leaves them before persons_monthly runs."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(county["warehouse"], path)
    con = wh.connect(str(path), "1GB", 2, str(tmp_path / "tmp"))
    con.execute("CREATE SCHEMA IF NOT EXISTS months")
    for s in SOURCES:
        con.execute(f"CREATE OR REPLACE TABLE months.src_{s} AS SELECT * FROM main.src_{s} WHERE month = ?", [scenario.M])
    yield con
    con.close()


def _rows(con, table: str) -> list[tuple]:
    return sorted(con.sql(f"SELECT * FROM {table} WHERE month = '{scenario.M}'").fetchall(), key=repr)


@pytest.mark.parametrize("buckets", [1, 3, 7])
def test_buckets_give_the_published_table(restaged, buckets):
    con = restaged
    assert build_persons(con, scenario.M, buckets) == buckets
    built = _rows(con, "months.persons_monthly")
    assert built == _rows(con, "main.persons_monthly")
    ids = [r[1] for r in built]
    assert len(ids) == len(set(ids)) > 50
    # the history columns come through the buckets too (a person employed in M-1, deaths to M)
    cols = [r[0] for r in con.sql("DESCRIBE months.persons_monthly").fetchall()]
    assert any(r[cols.index("employed_prev")] for r in built)
    assert any(r[cols.index("is_dead")] for r in built)


def test_bucket_count_follows_the_rows(restaged):
    con = restaged
    rows = sum(con.sql(f"SELECT count(*) FROM months.src_{s}").fetchall()[0][0] for s in SOURCES if s != "civil_affairs_households")
    assert persons_buckets(con, scenario.M) == 1
    assert persons_buckets(con, scenario.M, bucket_rows=rows // 3) == 4
    assert persons_buckets(con, scenario.M, bucket_rows=1) == 64  # capped
