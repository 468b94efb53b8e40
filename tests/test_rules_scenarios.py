"""Every determination and alert type at and on both sides of its thresholds (rules.md),
through the real pipeline: landing CSVs → Dagster (two monthly partitions) → DuckDB → CSVs."""
from __future__ import annotations

import pytest

from tests import scenario


def _household_cases():
    return [pytest.param(h, id=h.key) for h in scenario.households()]


@pytest.mark.parametrize("hh", _household_cases())
def test_determination(county, hh):
    rows = county["con"].sql("SELECT category FROM determinations WHERE month = ? AND household_id = ?",
                             params=[scenario.M, hh.key]).fetchall()
    assert [r[0] for r in rows] == ([hh.expect_category] if hh.expect_category else [])


@pytest.mark.parametrize("hh", _household_cases())
def test_alerts(county, hh):
    rows = county["con"].sql("SELECT alert_type, member_name FROM alerts WHERE month = ? AND household_id = ?",
                             params=[scenario.M, hh.key]).fetchall()
    got = {t if m is None else f"{t}@{m}" for t, m in rows}
    assert got == hh.expect_alerts
