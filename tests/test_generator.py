"""Tests of the synthetic county generator (generator/), not of the pipeline."""
from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from generator import generate
from generator.verify import verify

ROOT = Path(__file__).resolve().parents[1]

# rules.md's parameter table, written out here on purpose (independent of generator/params.py)
RULE_PARAMETERS = [
    "dibao_standard_urban", "dibao_standard_rural", "marginal_multiplier",
    "expenditure_income_ceiling_urban", "expenditure_income_ceiling_rural", "asset_months",
    "max_properties", "employment_cost_deduction", "gradual_exit_ceiling_multiplier",
    "gradual_exit_months", "gradual_exit_months_disabled", "tekun_multiplier",
    "min_topup_per_person", "supplement_severe", "supplement_multi_disabled",
    "supplement_elderly_minor", "medical_shock_12m", "disaster_loss_shock",
    "relapse_income_threshold", "review_cycle_months_stable", "review_cycle_months_unstable",
    "audit_sample_rate",
]
ALERT_TYPES = ["TEKUN_CANDIDATE", "DIBAO_OMISSION", "MARGINAL_OMISSION", "EXPENDITURE_HARDSHIP",
               "SINGLE_PERSON_DIBAO", "RELAPSE_RISK", "GRADUAL_EXIT_START", "GRADUAL_EXIT_REVERT",
               "GRADUAL_EXIT_END", "WRONGFUL_INCLUSION", "DECEASED_RECIPIENT", "BENEFIT_MISMATCH",
               "ZERO_EMPLOYMENT", "STUDENT_DROPOUT", "DANGEROUS_HOUSE", "DISASTER_AFFECTED",
               "REVIEW_DUE", "DUPLICATE_ASSISTANCE"]
CATEGORIES = ["OVER_ASSETS", "TEKUN", "DIBAO", "MARGINAL", "EXPENDITURE", "NOT_ELIGIBLE"]
SOURCES = ["civil_affairs_households", "civil_affairs_members", "household_registration", "education",
           "hr", "housing", "health", "medical_insurance", "emergency", "rural_revitalization"]


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def read_csv(path: Path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    out = tmp_path_factory.mktemp("messy")
    summary = generate(out, households=400, months=4, start="2026-01", seed=7, messy_rate=0.05)
    return out, summary


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    summary = generate(out, households=300, months=3, start="2026-05", seed=11)
    return out, summary


def test_same_seed_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, 250, 3, "2026-01", 5, messy_rate=0.05, chunk_size=100, processes=1)
    generate(b, 250, 3, "2026-01", 5, messy_rate=0.05, chunk_size=100, processes=2)
    assert tree_hash(a) == tree_hash(b)


def test_different_seeds_differ(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, 200, 2, "2026-01", 1)
    generate(b, 200, 2, "2026-01", 2)
    assert tree_hash(a) != tree_hash(b)
    ra = (a / "2026-01" / "household_registration.csv").read_bytes()
    rb = (b / "2026-01" / "household_registration.csv").read_bytes()
    assert ra != rb


def test_layout_and_summary(clean):
    out, summary = clean
    assert summary["months"] == ["2026-05", "2026-06", "2026-07"]
    for ym in summary["months"]:
        for s in SOURCES:
            assert (out / ym / f"{s}.csv").exists(), (ym, s)
        assert summary["counts"][ym]["household_registration"] > 300
    for name in ["determinations", "alerts", "quarantine", "refused_files", "links"]:
        assert (out / "truth" / f"{name}.csv").exists()
    assert read_csv(out / "truth" / "quarantine.csv") == []
    assert read_csv(out / "truth" / "refused_files.csv") == []


def test_policy_file(messy):
    out, summary = messy
    pol = yaml.safe_load((out / "policy.yaml").read_text(encoding="utf-8"))
    assert list(pol) == ["counties"]
    (code, county), = pol["counties"].items()
    assert isinstance(code, str) and len(code) == 6 and code.isdigit()
    assert code == summary["county"]
    assert county["name"].endswith("县")
    towns = county["towns"]
    assert towns and all(len(c) == 9 and c.startswith(code) and 1 <= int(c[6:]) <= 199 for c in towns)
    vill = county["villages"]
    assert vill and all(len(c) == 12 and c[:9] in towns and 1 <= int(c[9:]) <= 399 for c in vill)
    periods = county["periods"]
    assert len(periods) == 2
    for p in periods:
        assert set(p) == {"effective_from"} | set(RULE_PARAMETERS)
        assert p["dibao_standard_urban"] > 0 and p["dibao_standard_rural"] > 0
    p1, p2 = periods
    assert p1["dibao_standard_rural"] == 800 and p1["dibao_standard_urban"] == 1000
    assert p1["effective_from"] <= "2026-01" < p2["effective_from"] <= "2026-04"
    assert p2["dibao_standard_rural"] > p1["dibao_standard_rural"]


def test_every_alert_and_determination_planted(messy):
    out, _ = messy
    alerts = read_csv(out / "truth" / "alerts.csv")
    dets = read_csv(out / "truth" / "determinations.csv")
    assert set(ALERT_TYPES) <= {a["alert_type"] for a in alerts}
    assert set(CATEGORIES) <= {d["category"] for d in dets}
    assert {a["status"] for a in alerts} == {"新增", "持续"}
    assert {a["priority"] for a in alerts} == {"高", "中", "低"}
    assert {d["household_source"] for d in dets} == {"civil_affairs", "rural_revitalization",
                                                       "household_registration"}
    member_level = {"SINGLE_PERSON_DIBAO", "DECEASED_RECIPIENT", "STUDENT_DROPOUT", "DUPLICATE_ASSISTANCE"}
    for a in alerts:
        assert bool(a["member_id_number"]) == (a["alert_type"] in member_level), a


def test_every_variant_and_bad_input_planted(messy):
    out, summary = messy
    q = Counter(r["reason_code"] for r in read_csv(out / "truth" / "quarantine.csv"))
    assert set(q) == {"missing_required", "invalid_id", "invalid_value", "negative_amount",
                      "date_outside_month", "oop_mismatch", "id_unlinked", "id_ambiguous"}
    refused = {r["status"] for r in read_csv(out / "truth" / "refused_files.csv")}
    assert refused == {"missing_column", "unreadable", "empty_file", "wrong_month"}
    links = Counter(r["method"] for r in read_csv(out / "truth" / "links.csv"))
    assert set(links) == {"exact", "upgraded_15", "typo_1", "transposition", "same_birth",
                          "refused_ambiguous", "refused_unlinked"}
    variants = {r["variant"] for r in read_csv(out / "truth" / "variants.csv")}
    assert {"id_lower_x", "id_fullwidth", "id_fullwidth_x", "id_spaces", "id_apostrophe", "id_15",
            "date_slash", "date_compact", "date_chinese", "amount_comma", "amount_yen", "amount_yuan",
            "name_space", "name_fullwidth_space", "name_dot_variant", "duplicate",
            "xlsx_serial_date"} <= variants
    files = read_csv(out / "truth" / "files.csv")
    fv = set()
    for f in files:
        fv |= set(filter(None, f["file_variants"].split("|")))
    assert {"utf-8-sig", "gbk", "gb18030", "xlsx", "parquet", "header_alias", "extra_column",
            "header_only"} <= fv
    assert "missing" in {f["status"] for f in files}          # a department that did not deliver
    links_by_method = Counter(r["method"] for r in read_csv(out / "truth" / "links.csv"))
    assert links_by_method["exact"] > 0                      # near-duplicates that must stay apart
    exts = {p.suffix for p in out.rglob("*") if p.parent.name[:2] == "20"}
    assert exts == {".csv", ".xlsx", ".parquet"}


def test_truth_agrees_with_files(messy):
    """Read the landing files back independently; truth must match what they say."""
    out, _ = messy
    assert verify(out) == {}


def test_truth_agrees_with_files_other_seed(tmp_path):
    generate(tmp_path, 600, 3, "2025-12", 3, messy_rate=0.1, chunk_size=250)
    assert verify(tmp_path) == {}


def test_ids_valid_unique_and_consistent(clean):
    out, _ = clean
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    rows = read_csv(out / "2026-05" / "household_registration.csv")
    ids = [r["公民身份号码"] for r in rows]
    assert len(ids) == len(set(ids))
    pol = yaml.safe_load((out / "policy.yaml").read_text(encoding="utf-8"))
    county = next(iter(pol["counties"]))
    for r in rows:
        i = r["公民身份号码"]
        assert len(i) == 18 and i[:6] == county
        assert "10X98765432"[sum(w * int(c) for w, c in zip(weights, i[:17])) % 11] == i[17]
        assert 1920 <= int(i[6:10]) <= 2026
        assert r["行政区划代码"].startswith(county) and len(r["行政区划代码"]) == 12
        assert r["城乡类别"] == ("城市" if int(r["行政区划代码"][9:]) < 200 else "农村")
        assert " " not in r["姓名"] and 2 <= len(r["姓名"]) <= 12
    names = [r["姓名"] for r in rows]
    assert any("·" in n for n in names) or len(rows) < 500
    heads = [r for r in rows if r["与户主关系"] == "户主"]
    assert len(heads) == 300


def test_aliases_are_in_the_contracts():
    cdir = ROOT / "checks" / "contracts"
    if not cdir.exists():
        pytest.skip("no contracts in this tree")
    from generator.columns import SOURCES as COLS
    for s, cols in COLS.items():
        contract = yaml.safe_load((cdir / f"{s}.yaml").read_text(encoding="utf-8"))
        by = {c["canonical"]: c for c in contract["columns"]}
        for c in cols:
            cc = by[c[0]]
            assert cc["header"] == c[1]
            # the contract's own aliases and the shared mapping (checks/contracts/aliases.yaml)
            from checks.contracts import load_contract
            assert set(c[5]) <= set(load_contract(s).column(c[0]).aliases), (s, c[0])
            assert set(c[4]) == set(cc.get("allowed", [])), (s, c[0])


def test_cli(tmp_path):
    r = subprocess.run([sys.executable, "-m", "generator", "--households", "120", "--months", "2",
                        "--start", "2026-03", "--seed", "4", "--out", str(tmp_path), "--messy-rate", "0.02"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "2026-04" / "household_registration.csv").exists() or \
        list((tmp_path / "2026-04").glob("household_registration.*"))
    assert (tmp_path / "truth" / "alerts.csv").exists()


def test_ids_of_a_province_sized_run_spread_over_address_codes():
    """Past a million households one address code's sequence codes run out for common birth dates
    (about 9 M IDs per code); IDs then take other county codes of the same prefecture instead of
    moving the person's birth date. Up to a million households: the county's code only."""
    from datetime import date

    from generator.ids import SEQ_CAPACITY, birth_of, id_areas, is_valid
    from generator.model import Ctx
    from generator.params import Geography, period_of, periods_for
    import random

    assert id_areas("370322", 1_000_000) == ("370322",)
    areas = id_areas("370322", 5_000_000)
    assert areas[0] == "370322" and len(set(areas)) == 6 and all(a[:4] == "3703" for a in areas)
    geo = Geography(random.Random(1), 100)
    periods = periods_for("2026-06", 1)
    ctx = Ctx(1, geo, ["2026-06"], [period_of(periods, "2026-06")], id_areas=areas[:2])
    born = date(1970, 5, 17)
    half = SEQ_CAPACITY // 2
    ids = [ctx.new_id(born, True) for _ in range(2 * half + 5)]
    assert len(set(ids)) == len(ids) and all(is_valid(i) for i in ids)
    assert [i[:6] for i in ids[:2 * half]] == ["370322"] * half + [areas[1]] * half
    assert all(birth_of(i) == born for i in ids[:2 * half])  # the birth date holds while codes last
    assert all(birth_of(i) > born for i in ids[2 * half:])   # then, as before, the next free day
