"""Every determination and alert type at and on both sides of its thresholds (rules.md),
through the real pipeline: landing CSVs → Dagster (two monthly partitions) → DuckDB → CSVs."""
from __future__ import annotations

import duckdb
import pytest

from tests import scenario
from tests.landing import write_month
from tests.pipeline import run_months


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    root = tmp_path_factory.mktemp("scenario")
    hhs = scenario.households()
    for month in (scenario.M_PREV, scenario.M):
        write_month(root / "landing", month, scenario.tables_for(month, hhs))
    env = run_months(root, [scenario.M_PREV, scenario.M])
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    yield {"hhs": hhs, "con": con, **env}
    con.close()


def _household_cases():
    return [pytest.param(h, id=h.key) for h in scenario.households()]


@pytest.mark.parametrize("hh", _household_cases())
def test_determination(county, hh):
    rows = county["con"].sql("SELECT category FROM determinations WHERE month = ? AND household_id = ?",
                             params=[scenario.M, hh.key]).fetchall()
    assert [r[0] for r in rows] == [hh.expect_category]


@pytest.mark.parametrize("hh", _household_cases())
def test_alerts(county, hh):
    rows = county["con"].sql("SELECT alert_type, member_name FROM alerts WHERE month = ? AND household_id = ?",
                             params=[scenario.M, hh.key]).fetchall()
    got = {t if m is None else f"{t}@{m}" for t, m in rows}
    assert got == hh.expect_alerts
