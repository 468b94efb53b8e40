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


def test_unknown_financial_assets_are_to_be_verified(county):
    """rules.md: unknown financial assets count as OK and are reported as such — every omission
    alert of a household whose financial assets are unknown says they are to be verified."""
    rows = county["con"].sql("""
        SELECT a.alert_type, a.household_id, a.reason_text, a.evidence
        FROM alerts a JOIN determinations d USING (month, household_source, household_id)
        WHERE a.month = ? AND NOT d.financial_assets_known
          AND a.alert_type IN ('TEKUN_CANDIDATE', 'DIBAO_OMISSION', 'MARGINAL_OMISSION', 'EXPENDITURE_HARDSHIP',
                               'SINGLE_PERSON_DIBAO')""", params=[scenario.M]).fetchall()
    assert {r[0] for r in rows} >= {"DIBAO_OMISSION", "EXPENDITURE_HARDSHIP", "SINGLE_PERSON_DIBAO"}
    assert [r[:2] for r in rows if "需" not in (r[2] or "") + (r[3] or "") or "核实" not in (r[2] or "") + (r[3] or "")] == []


CATEGORY_REASONS = {"OVER_ASSETS": {"FINANCIAL_ASSETS_OVER_LIMIT", "PROPERTIES_OVER_LIMIT"},
                    "TEKUN": {"ALL_MEMBERS_UNABLE_TO_WORK"}, "DIBAO": {"INCOME_BELOW_STANDARD"},
                    "MARGINAL": {"INCOME_BELOW_MARGINAL_LINE"}, "EXPENDITURE": {"RIGID_EXPENDITURE"},
                    "NOT_ELIGIBLE": {"NO_RULE_MET"}}


def test_every_determination_carries_its_reason_codes(county):
    """rules.md: every determination carries reason codes — the test that decided it, and unknown
    financial assets whenever they were not declared."""
    rows = county["con"].sql("""SELECT household_id, category, reason_codes, financial_assets_known,
                                       financial_assets, asset_limit_per_capita * household_size, property_total
                                FROM determinations WHERE month = ?""", params=[scenario.M]).fetchall()
    assert {r[1] for r in rows} == set(CATEGORY_REASONS)
    for hh, category, codes, known, fin, fin_limit, properties in rows:
        got = set(codes.split(","))
        assert got & CATEGORY_REASONS[category], (hh, category, codes)
        assert ("FINANCIAL_ASSETS_UNKNOWN" in got) == (not known), (hh, codes)
        if category == "OVER_ASSETS":
            assert ("FINANCIAL_ASSETS_OVER_LIMIT" in got) == (known and fin > fin_limit), (hh, codes)
        if category == "TEKUN":
            assert "NO_INCOME" in got
