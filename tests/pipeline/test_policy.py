"""The policy file: validated on load, and a standard raised at a period boundary changes the
determinations of the months after it and not before (interface.md "Policy file")."""
from __future__ import annotations

import copy

import duckdb
import pytest
import yaml

from lim.core.policy import PARAMETERS, PolicyError, load_policy
from tests.conftest import TEST_POLICY
from tests.landing import make_id, write_month
from tests.runs import run_months


def _write(tmp_path, doc) -> str:
    p = tmp_path / "policy.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return str(p)


@pytest.fixture
def doc():
    with open(TEST_POLICY, encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_sample_policy_loads_every_parameter():
    pol = load_policy(TEST_POLICY)
    period = pol.period_for("370322", "2026-06")
    assert period["effective_from"] == "2025-07" and set(PARAMETERS) <= set(period)
    assert pol.period_for("370322", "2026-07")["dibao_standard_rural"] == 850
    assert pol.period_for("370322", "2025-06") is None


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d["counties"]["370322"]["periods"][1].pop("tekun_multiplier"), ["370322", "2026-07", "tekun_multiplier"]),
    (lambda d: d["counties"]["370322"]["periods"][0].__setitem__("dibao_standard_rural", 0), ["2025-07", "dibao_standard_rural", "正数"]),
    (lambda d: d["counties"]["370322"]["periods"][0].__setitem__("dibao_standard_urban", -5), ["dibao_standard_urban"]),
    (lambda d: d["counties"]["370322"]["periods"][1].__setitem__("effective_from", "2025-07"), ["重叠"]),
    (lambda d: d["counties"]["370322"]["periods"][0].__setitem__("effective_to", "2026-04"), ["空档", "2026-05"]),
    (lambda d: d["counties"]["370322"]["periods"][0].__setitem__("effective_to", "2026-09"), ["重叠"]),
    (lambda d: d["counties"]["370322"]["periods"][0].__setitem__("surprise", 1), ["未知参数", "surprise"]),
    (lambda d: d["counties"]["370322"].__setitem__("mayor", "x"), ["未知键", "mayor"]),
    (lambda d: d.__setitem__("version", 2), ["未知键", "version"]),
    (lambda d: d["counties"]["370322"]["periods"][0].__setitem__("asset_months", "24个月"), ["asset_months", "数值"]),
])
def test_invalid_policy_is_refused_naming_county_period_parameter(tmp_path, doc, mutate, words):
    bad = copy.deepcopy(doc)
    mutate(bad)
    with pytest.raises(PolicyError) as e:
        load_policy(_write(tmp_path, bad))
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_unparseable_or_missing_policy(tmp_path):
    with pytest.raises(PolicyError, match="不存在"):
        load_policy(tmp_path / "nope.yaml")
    p = tmp_path / "broken.yaml"
    p.write_text("counties: [unclosed", encoding="utf-8")
    with pytest.raises(PolicyError, match="YAML"):
        load_policy(p)


def test_standard_raised_at_period_boundary(tmp_path):
    """Rural S is 800 until 2026-06 and 850 from 2026-07 (policy_test.yaml): a household with
    pci 820 is MARGINAL in June and DIBAO in July; one with pci 790 is DIBAO in both."""
    def rr(hid, pid, name, wage):
        return dict(rr_household_id=hid, region_code="370322101201", id_number=pid, name=name, relation="户主",
                    category="脱贫户", risk_eliminated="是", annual_net_income_per_capita=9000)
    people = [("RR-820", make_id("19800101", 1), "甲一", 1120), ("RR-790", make_id("19800101", 2), "乙二", 1090)]
    # the bureau's roster must be delivered for a month to run (extracts.md): one unrelated household
    roster = {"civil_affairs_households": [dict(household_id="CA-1", region_code="370322101201", urban_rural="农村",
                                                 assistance_type="低保", since_month="2024-01", monthly_benefit=800,
                                                 other_income=0, financial_assets=0, last_review_date="2026-05-15")],
              "civil_affairs_members": [dict(household_id="CA-1", id_number=make_id("19800101", 3), name="丙三",
                                             relation="户主", labor_capacity="有")]}
    for month in ("2026-06", "2026-07"):
        write_month(tmp_path / "landing", month, {
            **{s: [] for s in ("education", "housing", "health", "medical_insurance", "emergency")},  # delivered, empty
            **roster,
            "rural_revitalization": [rr(h, i, n, w) for h, i, n, w in people],
            "hr": [dict(id_number=i, name=n, employment_status="就业", monthly_wage=w) for _, i, n, w in people],
        })
    env = run_months(tmp_path, ["2026-06", "2026-07"], policy=TEST_POLICY)
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    got = {(m, h): (c, float(s)) for m, h, c, s in con.sql(
        "select month, household_id, category, standard from determinations").fetchall()}
    assert got[("2026-06", "RR-820")] == ("MARGINAL", 800.0)
    assert got[("2026-07", "RR-820")] == ("DIBAO", 850.0)
    assert got[("2026-06", "RR-790")] == ("DIBAO", 800.0)
    assert got[("2026-07", "RR-790")] == ("DIBAO", 850.0)
    periods = dict(con.sql("select month, any_value(effective_from) from month_parameters group by 1").fetchall())
    assert periods == {"2026-06": "2025-07", "2026-07": "2026-07"}
    con.close()
