"""The optional parameters of rules-variants.md B.1 in the policy loader: absent = the default in that
period (never carried over), `null` only where it means something, and every invalid kind of B.1's
"Validation" list refused with one line naming the county, the period and the parameter. Also the
optional extract columns of B.2 through the contracts (allowed values, quarantine, aliases)."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from lim.core.policy import ALL_PARAMETERS, OPTIONAL_PARAMETERS, PARAMETERS, PolicyError, load_policy
from tests.conftest import TEST_POLICY

M = "2026-06"


@pytest.fixture
def doc():
    with open(TEST_POLICY, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _write(tmp_path: Path, doc: dict) -> str:
    p = tmp_path / "policy.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return str(p)


def _set(doc: dict, name: str, value, period: int = 0) -> dict:
    d = copy.deepcopy(doc)
    d["counties"]["370322"]["periods"][period][name] = value
    return d


DEFAULTS = {name: default for name, (_, default) in OPTIONAL_PARAMETERS.items()}


def test_absent_parameters_take_their_defaults():
    pol = load_policy(TEST_POLICY)
    period = pol.period_for("370322", M)
    assert {k: period[k] for k in OPTIONAL_PARAMETERS} == DEFAULTS == {
        "tekun_multiplier_urban": None, "tekun_multiplier_rural": None, "tekun_multiplier_centralized": None,
        "tekun_care_self": 0, "tekun_care_partial": 0, "tekun_care_full": 0, "support_income_disregard": False,
        "severe_disability_level3_intellectual_mental": False, "single_person_critical_illness_claim": False,
        "single_person_veteran_max_grade": None, "single_person_preferential": False, "supplement_elderly_age": 70,
        "supplement_minor_age": 18, "supplement_elderly_disabled_age": 60, "supplement_veteran_max_grade": None,
        "supplement_preferential": 0, "gradual_exit_annual_reduction": None, "gradual_exit_reduction_offset": 0,
        "dibao_benefit_basis": "current_month", "audit_per_town": False, "audit_include_rejected": False}
    assert ALL_PARAMETERS == [*PARAMETERS, *OPTIONAL_PARAMETERS]


def test_a_value_is_not_carried_over_to_the_next_period(tmp_path, doc):
    d = _set(_set(doc, "supplement_elderly_age", 65), "audit_per_town", True)
    pol = load_policy(_write(tmp_path, d))
    assert pol.period_for("370322", "2026-06")["supplement_elderly_age"] == 65
    assert pol.period_for("370322", "2026-06")["audit_per_town"] is True
    assert pol.period_for("370322", "2026-07")["supplement_elderly_age"] == 70
    assert pol.period_for("370322", "2026-07")["audit_per_town"] is False


@pytest.mark.parametrize("name, value", [
    ("tekun_multiplier_urban", None), ("tekun_multiplier_centralized", None), ("single_person_veteran_max_grade", None),
    ("supplement_veteran_max_grade", None), ("gradual_exit_annual_reduction", None),
    ("supplement_elderly_disabled_age", None),  # null = no 老残一体 group, where absent = 60
])
def test_null_where_it_means_something(tmp_path, doc, name, value):
    pol = load_policy(_write(tmp_path, _set(doc, name, value)))
    assert pol.period_for("370322", M)[name] is None


@pytest.mark.parametrize("name, value, stored", [
    ("tekun_multiplier_urban", 1.5, 1.5), ("tekun_care_full", 400, 400.0), ("supplement_preferential", 0.15, 0.15),
    ("supplement_preferential", 0, 0.0), ("supplement_preferential", 1, 1.0), ("gradual_exit_annual_reduction", 1, 1.0),
    ("gradual_exit_annual_reduction", 0.25, 0.25), ("supplement_elderly_age", 0, 0), ("supplement_minor_age", 120, 120),
    ("single_person_veteran_max_grade", 1, 1), ("supplement_veteran_max_grade", 10, 10),
    ("gradual_exit_reduction_offset", 1, 1), ("dibao_benefit_basis", "last_review_month", "last_review_month"),
    ("audit_include_rejected", True, True), ("audit_sample_rate", 1, 1.0), ("audit_sample_rate", 0.01, 0.01),
])
def test_valid_values(tmp_path, doc, name, value, stored):
    pol = load_policy(_write(tmp_path, _set(doc, name, value)))
    got = pol.period_for("370322", M)[name]
    assert got == stored and type(got) is type(stored)


# B.1 "Validation": one case (or more) per invalid kind; each refused with one line naming the county,
# the period (2025-07, the first one) and the parameter.
INVALID = {
    "multiplier_zero": ("tekun_multiplier_urban", 0),
    "multiplier_negative": ("tekun_multiplier_rural", -1.3),
    "multiplier_text": ("tekun_multiplier_centralized", "2倍"),
    "multiplier_flag": ("tekun_multiplier_urban", True),
    "multiplier_infinite": ("tekun_multiplier_urban", float("inf")),
    "care_negative": ("tekun_care_full", -1),
    "care_null": ("tekun_care_self", None),
    "new_rate_above_1": ("supplement_preferential", 1.5),
    "new_rate_negative": ("supplement_preferential", -0.15),
    "reduction_zero": ("gradual_exit_annual_reduction", 0),
    "reduction_above_1": ("gradual_exit_annual_reduction", 1.25),
    "age_float": ("supplement_elderly_age", 70.0),
    "age_flag": ("supplement_minor_age", True),
    "age_above_120": ("supplement_elderly_age", 121),
    "age_negative": ("supplement_minor_age", -1),
    "age_null": ("supplement_elderly_age", None),
    "age_text": ("supplement_elderly_disabled_age", "60"),
    "age_or_null_float": ("supplement_elderly_disabled_age", 60.5),
    "grade_zero": ("single_person_veteran_max_grade", 0),
    "grade_above_10": ("supplement_veteran_max_grade", 11),
    "grade_float": ("single_person_veteran_max_grade", 6.0),
    "grade_flag": ("supplement_veteran_max_grade", True),
    "offset_two": ("gradual_exit_reduction_offset", 2),
    "offset_half": ("gradual_exit_reduction_offset", 0.5),
    "offset_flag": ("gradual_exit_reduction_offset", True),
    "basis_other": ("dibao_benefit_basis", "review_month"),
    "basis_null": ("dibao_benefit_basis", None),
    "flag_text": ("support_income_disregard", "true"),
    "flag_number": ("audit_per_town", 1),
    "flag_null": ("single_person_preferential", None),
    "audit_rate_zero": ("audit_sample_rate", 0),
    "audit_rate_above_1": ("audit_sample_rate", 1.2),
}


@pytest.mark.parametrize("kind", list(INVALID))
def test_invalid_value_refused_with_one_line(tmp_path, doc, kind):
    name, value = INVALID[kind]
    with pytest.raises(PolicyError) as e:
        load_policy(_write(tmp_path, _set(doc, name, value)))
    msg = str(e.value)
    assert "\n" not in msg
    for word in ("370322", "2025-07", name):
        assert word in msg, msg


def test_invalid_value_in_a_later_period_names_that_period(tmp_path, doc):
    with pytest.raises(PolicyError) as e:
        load_policy(_write(tmp_path, _set(doc, "single_person_veteran_max_grade", 12, period=1)))
    assert "时段 2026-07" in str(e.value) and "single_person_veteran_max_grade" in str(e.value)


def test_invalid_value_refused_by_lim_run(tmp_path, doc, monkeypatch, capsys):
    """The loader's refusal reaches the operator as interface.md asks: exit 2, one line, nothing made."""
    from pipelines.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    policy = _write(tmp_path, _set(doc, "supplement_elderly_age", 70.0))
    from tests.landing import write_source
    write_source(tmp_path / "landing" / M, "civil_affairs_households", [dict(
        household_id="H1", region_code="370322101201", urban_rural="农村", assistance_type="低保", since_month="2024-01",
        monthly_benefit=800, other_income=0, last_review_date="2026-03-10")])
    rc = main(["run", "--month", M, "--landing", str(tmp_path / "landing"), "--warehouse", str(tmp_path / "wh.duckdb"),
               "--out", str(tmp_path / "out"), "--policy", policy])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc == 2 and len(lines) == 1, lines
    assert "supplement_elderly_age" in lines[0] and "370322" in lines[0] and "2025-07" in lines[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / "wh.duckdb").exists()


def test_parameter_rows_keep_every_parameter_with_its_text(tmp_path, doc):
    d = _set(_set(doc, "supplement_elderly_disabled_age", None), "dibao_benefit_basis", "last_review_month")
    pol = load_policy(_write(tmp_path, d))
    rows = {(f, n): (v, t) for _, f, _, n, v, t in pol.parameter_rows()}
    assert len(rows) == 2 * len(ALL_PARAMETERS)
    assert rows[("2025-07", "supplement_elderly_disabled_age")] == (None, "null")
    assert rows[("2026-07", "supplement_elderly_disabled_age")] == (60.0, None)
    assert rows[("2025-07", "dibao_benefit_basis")] == (None, "last_review_month")
    assert rows[("2025-07", "audit_per_town")] == (0.0, "false")
    assert rows[("2025-07", "dibao_standard_rural")] == (800.0, None)


# ---- B.2: the optional extract columns through the contracts ------------------------------------------
def _stage(tmp_path, source: str, header: list[str], rows: list[list]):
    from lim.ingest.staging import stage_source
    d = tmp_path / M
    d.mkdir(parents=True, exist_ok=True)
    import csv
    with open(d / f"{source}.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return stage_source(source, M, d)


HH_HEADER = ["家庭编号", "行政区划代码", "城乡类别", "救助类别", "保障开始月份", "月保障金额", "家庭其他月收入", "上次核查日期"]


def test_household_columns_allowed_values_and_quarantine(tmp_path):
    base = ["370322101201", "农村", "低保", "2024-01", "800", "500", "2026-03-10"]
    r = _stage(tmp_path, "civil_affairs_households", HH_HEADER + ["特困供养方式", "赡养费", "渐退前月保障金额"], [
        ["H1", *base, "集中供养", "300", "600"],        # valid (供养方式 on a 低保 row: kept, ignored by r1)
        ["H2", *base, "集中", "", ""],                  # outside the set: quarantined whatever its 救助类别
        ["H3", *base, "", "-5", ""],                    # negative amount
        ["H4", *base, "", "", ""],                      # empty cells: today's behaviour
    ])
    assert r.status == "accepted"
    acc = {row["household_id"]: row for row in r.accepted.to_dicts()}
    assert set(acc) == {"H1", "H4"}
    assert (acc["H1"]["support_mode"], acc["H1"]["support_income"], acc["H1"]["pre_exit_benefit"]) == ("集中供养", 300.0, 600.0)
    assert (acc["H4"]["support_mode"], acc["H4"]["support_income"], acc["H4"]["pre_exit_benefit"]) == (None, None, None)
    assert sorted(r.quarantine["reason_code"].to_list()) == ["invalid_value", "negative_amount"]
    assert r.header_mapping["support_mode"] == "特困供养方式" and r.header_mapping["support_income"] == "赡养费"


def test_files_without_the_new_headers_are_accepted(tmp_path):
    r = _stage(tmp_path, "civil_affairs_households", HH_HEADER,
               [["H1", "370322101201", "农村", "低保", "2024-01", "800", "0", "2026-03-10"]])
    assert r.status == "accepted" and r.accepted["support_mode"].to_list() == [None]


def test_member_columns_allowed_values_and_quarantine(tmp_path):
    from tests.landing import make_id
    header = ["家庭编号", "公民身份号码", "姓名", "与户主关系", "劳动能力", "护理等级", "伤残军人等级", "优抚类别", "定期抚恤补助"]
    rows = [["H1", make_id("19500101", i), f"人{i}", "户主", "无", *cells] for i, cells in enumerate([
        ["全护理", "六级", "军属", "是"],
        ["", "十级", "", ""],
        ["", "十一级", "", ""],          # no such grade
        ["", "", "", "有"],              # 是 / 否 only
        ["全失能", "", "", ""],          # not a 护理等级
        ["", "", "退役军人", ""],        # not a 优抚对象类别
    ], start=1)]
    r = _stage(tmp_path, "civil_affairs_members", header, rows)
    assert r.status == "accepted"
    assert r.accepted.select("care_level", "veteran_disability_grade", "preferential_category", "regular_pension_subsidy").rows() == [
        ("全护理", "六级", "军属", "是"), (None, "十级", None, None)]
    assert r.quarantine["reason_code"].to_list() == ["invalid_value"] * 4


# ---- the five example policies (data_samples/policies/, rules-variants.md C) ----------------------------
SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
SECTION_C = {
    "000_gaoqing": {"tekun_multiplier_urban": 1.5, "tekun_multiplier_rural": 1.3},
    "001_jiaohe": {"tekun_multiplier": 1.3, "tekun_multiplier_centralized": 2.0, "gradual_exit_annual_reduction": 0.25,
                   "gradual_exit_reduction_offset": 0, "supplement_elderly_age": 70, "supplement_minor_age": 18,
                   "marginal_multiplier": 2.0, "gradual_exit_months": 18, "gradual_exit_months_disabled": 24,
                   "supplement_severe": 0.6, "supplement_multi_disabled": 0.55, "supplement_elderly_minor": 0.5},
    "002_harbin": {"severe_disability_level3_intellectual_mental": True, "single_person_critical_illness_claim": True,
                   "single_person_veteran_max_grade": 6, "single_person_preferential": True, "supplement_severe": 0.15,
                   "supplement_elderly_minor": 0.15, "supplement_multi_disabled": 0, "supplement_elderly_disabled_age": None,
                   "supplement_veteran_max_grade": 4, "supplement_preferential": 0.15, "support_income_disregard": True,
                   "dibao_benefit_basis": "last_review_month", "tekun_multiplier": 1.3, "marginal_multiplier": 1.5},
    "003_zhijin": {},
    "004_anhui": {"audit_sample_rate": 0.3, "audit_per_town": True, "audit_include_rejected": True},
}


@pytest.mark.parametrize("name", list(SECTION_C))
def test_example_policy_per_seed(name):
    import re
    path = SAMPLES / "policies" / f"{name}.yaml"
    pol, sample = load_policy(path), load_policy(SAMPLES / "policy.yaml")
    county, base = pol.counties["360726"], sample.counties["360726"]
    assert set(pol.counties) == {"360726"} and county.towns == base.towns and county.villages == base.villages
    assert [p["effective_from"] for p in county.periods] == [p["effective_from"] for p in base.periods]
    for period, base_period in zip(county.periods, base.periods):  # in every period: nothing is carried over
        want = {**{k: base_period[k] for k in ALL_PARAMETERS}, **SECTION_C[name]}
        assert {k: period[k] for k in ALL_PARAMETERS} == want
    # every value the seed sets carries its clause (NNN:line) in a comment
    for line in path.read_text(encoding="utf-8").splitlines():
        key = line.strip().split(":")[0]
        if key in SECTION_C[name]:
            assert re.search(r"#.*\b00[0-4]:\d+", line), line
