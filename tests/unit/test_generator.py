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

ROOT = Path(__file__).resolve().parents[2]

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
    for name in ["determinations", "alerts", "quarantine", "refused_files", "links", "withheld"]:
        assert (out / "truth" / f"{name}.csv").exists()
    assert read_csv(out / "truth" / "quarantine.csv") == []
    assert read_csv(out / "truth" / "refused_files.csv") == []
    assert read_csv(out / "truth" / "withheld.csv") == []     # every source delivered
    assert "PENDING" not in {d["category"] for d in read_csv(out / "truth" / "determinations.csv")}


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
    # the last month's refused files (housing among them) leave households PENDING
    assert "PENDING" in {d["category"] for d in dets if d["month"] == "2026-04"}
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
            from lim.core.contracts import load_contract
            assert set(c[5]) <= set(load_contract(s).column(c[0]).aliases), (s, c[0])
            assert set(c[4]) == set(cc.get("allowed", [])), (s, c[0])
    # rules-variants.md B.2: checked where the contracts already hold them (the pipeline adds them)
    from generator.columns import DECISION_COLUMNS, DECISIONS, VARIANT_COLUMNS
    for s, cols in list(VARIANT_COLUMNS.items()) + [(DECISIONS, DECISION_COLUMNS)]:
        path = cdir / f"{s}.yaml"
        if not path.exists():
            continue
        by = {c["canonical"]: c for c in yaml.safe_load(path.read_text(encoding="utf-8"))["columns"]}
        for c in cols:
            if c[0] not in by:
                continue
            assert by[c[0]]["header"] == c[1] and bool(by[c[0]].get("required")) == c[3], (s, c[0])
            assert set(c[4]) == set(by[c[0]].get("allowed", [])), (s, c[0])
            from lim.core.contracts import load_contract
            assert set(c[5]) <= set(load_contract(s).column(c[0]).aliases), (s, c[0])


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


# ---------------------------------------------------------------------------------------------
# incomplete months (rules.md "Incomplete months"), title rows, names outside GBK
# ---------------------------------------------------------------------------------------------
OMISSION = ["TEKUN_CANDIDATE", "DIBAO_OMISSION", "MARGINAL_OMISSION", "EXPENDITURE_HARDSHIP",
            "SINGLE_PERSON_DIBAO"]
UNDELIVERED = ["2026-06:housing", "2026-07:education:refused", "2026-07:hr", "2026-08:health"]


@pytest.fixture(scope="module")
def gaps(tmp_path_factory):
    out = tmp_path_factory.mktemp("gaps")
    summary = generate(out, households=400, months=4, start="2026-05", seed=7, undelivered=UNDELIVERED)
    return out, summary


def test_undelivered_files_absent_or_refused(gaps):
    out, summary = gaps
    assert not list((out / "2026-06").glob("housing.*"))
    assert not list((out / "2026-07").glob("hr.*"))
    assert (out / "2026-07" / "education.csv").exists()
    status = {(f["month"], f["source"]): f["status"] for f in read_csv(out / "truth" / "files.csv")}
    assert status[("2026-06", "housing")] == "missing"
    assert status[("2026-07", "hr")] == "missing"
    assert status[("2026-07", "education")] == "missing_column"
    assert status[("2026-08", "health")] == "missing"
    assert sum(v != "ok" for v in status.values()) == 4
    assert read_csv(out / "truth" / "refused_files.csv") == [
        {"month": "2026-07", "source": "education", "status": "missing_column"}]
    assert "housing" not in summary["paths"]["2026-06"]


def test_undelivered_pending_and_withheld(gaps):
    out, _ = gaps
    dets = read_csv(out / "truth" / "determinations.csv")
    alerts = read_csv(out / "truth" / "alerts.csv")
    withheld = read_csv(out / "truth" / "withheld.csv")
    pend = Counter((d["month"], d["reason_codes"]) for d in dets if d["category"] == "PENDING")
    assert pend[("2026-06", "SOURCE_NOT_DELIVERED:housing")] > 0
    assert pend[("2026-07", "SOURCE_NOT_DELIVERED:hr")] > 0
    assert {m for m, _ in pend} == {"2026-06", "2026-07"}     # health withholds no determination
    assert all(bool(d["reason_codes"]) == (d["category"] == "PENDING") for d in dets)
    # the other categories stand where the household's facts are known
    assert {d["category"] for d in dets if d["month"] == "2026-06"} >= {"PENDING", "OVER_ASSETS"}
    assert {d["category"] for d in dets if d["month"] == "2026-08"} >= {"DIBAO", "MARGINAL", "NOT_ELIGIBLE"}
    assert withheld and not [w for w in withheld if w["month"] == "2026-05"]
    wh = {(w["month"], w["household_source"], w["household_id"], w["alert_type"]): w["missing_sources"]
          for w in withheld}
    assert len(wh) == len(withheld)
    raised = {(a["month"], a["household_source"], a["household_id"], a["alert_type"]) for a in alerts}
    # a household whose determination is PENDING: no omission alert, all five withheld
    for d in dets:
        if d["category"] == "PENDING":
            srcs = ",".join(sorted(c.split(":")[1] for c in d["reason_codes"].split(",")))
            for t in OMISSION:
                k = (d["month"], d["household_source"], d["household_id"], t)
                assert wh[k] == srcs and k not in raised
    # withheld types that need a source are never raised for the household that month
    for k, srcs in wh.items():
        assert srcs and srcs == ",".join(sorted(srcs.split(",")))
        if k[3] not in ("DECEASED_RECIPIENT", "STUDENT_DROPOUT", "WRONGFUL_INCLUSION", "RELAPSE_RISK",
                        "DANGEROUS_HOUSE", "DISASTER_AFFECTED"):
            assert k not in raised, k
    kinds = Counter((m, t, s) for (m, _, _, t), s in wh.items())
    assert kinds[("2026-06", "GRADUAL_EXIT_START", "housing")] > 0
    assert kinds[("2026-07", "GRADUAL_EXIT_REVERT", "hr")] > 0
    assert kinds[("2026-07", "ZERO_EMPLOYMENT", "education,hr")] > 0
    assert kinds[("2026-06", "DANGEROUS_HOUSE", "housing")] > 0
    assert kinds[("2026-07", "STUDENT_DROPOUT", "education")] > 0
    assert not [k for k in wh if k[0] == "2026-07" and k[3] in ("GRADUAL_EXIT_START",) and wh[k] != "hr"]
    assert verify(out) == {}


def test_status_across_a_gap(gaps):
    """An alert raised in May, withheld in June (housing undelivered), raised in July: 持续, first May."""
    out, _ = gaps
    alerts = read_csv(out / "truth" / "alerts.csv")
    wh = {(w["month"], w["household_source"], w["household_id"], w["alert_type"])
          for w in read_csv(out / "truth" / "withheld.csv")}
    by = {(a["month"], a["household_source"], a["household_id"], a["alert_type"], a["member_id_number"]): a
          for a in alerts}
    across = [a for k, a in by.items() if k[0] == "2026-07" and ("2026-06",) + k[1:4] in wh
              and ("2026-05",) + k[1:] in by and ("2026-06",) + k[1:] not in by]
    assert across
    for a in across:
        assert (a["status"], a["first_month"]) == ("持续", by[("2026-05",) + tuple(
            a[c] for c in ("household_source", "household_id", "alert_type", "member_id_number"))]["first_month"])
    # without a gap the rule is the M-1 one
    for k, a in by.items():
        if k[0] == "2026-06" and ("2026-05",) + k[1:4] not in wh:
            assert a["status"] == ("持续" if ("2026-05",) + k[1:] in by else "新增")
            assert a["first_month"] == (by[("2026-05",) + k[1:]]["first_month"] if a["status"] == "持续" else "2026-06")


def test_status_across_a_gap_planted():
    """The oracle alone, one roster 低保 household with a D-grade house: raised, withheld, 持续."""
    from datetime import date

    from generator.oracle import History, MonthInput, evaluate
    from generator.params import period_of, periods_for

    pid = "370322198001010011"
    pol = periods_for("2026-01", 3)
    hist = History()
    got = []
    for ym, present in (("2026-01", True), ("2026-02", False), ("2026-03", True)):
        mi = MonthInput(ym, period_of(pol, ym))
        mi.present = set(SOURCES) - (set() if present else {"housing"})
        mi.households = [("H1", "370322001001", "城市", "低保", "2025-01", None, 50000, 0, None,
                          date(2025, 12, 1))]
        mi.members = [("H1", pid, "张三", "户主", None, None, "有")]
        mi.hr = [(pid, "张三", "就业", 50000, None, None)]
        mi.housing = [(pid, "张三", 1, None, "否", "D")] if present else []
        got.append(evaluate(mi, hist))
    (d1, a1, w1), (d2, a2, w2), (d3, a3, w3) = got
    dh = lambda alerts: [a for a in alerts if a[2] == "DANGEROUS_HOUSE"]
    assert dh(a1) == [("civil_affairs", "H1", "DANGEROUS_HOUSE", "", "低", "新增", "2026-01", "")]
    assert dh(a2) == [] and ("civil_affairs", "H1", "DANGEROUS_HOUSE", "housing") in w2
    assert d2 == [("civil_affairs", "H1", "PENDING", "SOURCE_NOT_DELIVERED:housing")]
    assert dh(a3) == [("civil_affairs", "H1", "DANGEROUS_HOUSE", "", "低", "持续", "2026-01", "")]
    assert w3 == []


def test_roster_is_never_refused_or_left_out(messy, tmp_path):
    from generator.render import make_plans
    months = ["2026-01", "2026-02", "2026-03"]
    for seed in range(30):
        plans = make_plans(months, 0.9, seed, 400)
        for (ym, s), p in plans.items():
            if s.startswith("civil_affairs"):
                assert not p.refuse and not p.missing and not p.header_only, (seed, ym, s)
    out, _ = messy
    files = read_csv(out / "truth" / "files.csv")
    for f in files:
        if f["source"].startswith("civil_affairs"):
            assert f["status"] == "ok" and int(f["rows_quarantined"]) < int(f["rows_in"]), f
    with pytest.raises(ValueError, match="roster"):
        generate(tmp_path / "x", 100, 2, "2026-01", 1, undelivered=["2026-02:civil_affairs_members"])
    with pytest.raises(ValueError, match="not one of the generated months"):
        generate(tmp_path / "x", 100, 2, "2026-01", 1, undelivered=["2026-03:hr"])
    # asked for (tests of the fatal case): that month has no result in the truth
    out2 = tmp_path / "fatal"
    generate(out2, 150, 3, "2026-01", 1, undelivered=["2026-02:civil_affairs_households:refused"],
             allow_roster=True)
    assert {d["month"] for d in read_csv(out2 / "truth" / "determinations.csv")} == {"2026-01", "2026-03"}
    assert verify(out2) == {}


def test_undelivered_with_messy_mode_verifies(tmp_path):
    generate(tmp_path, 400, 3, "2026-05", 5, messy_rate=0.05,
             undelivered=["2026-06:household_registration", "2026-06:rural_revitalization",
                          "2026-07:medical_insurance:refused", "2026-07:hr:quarantined",
                          "2026-07:emergency:quarantined"])
    assert verify(tmp_path) == {}
    w = read_csv(tmp_path / "truth" / "withheld.csv")
    assert any("medical_insurance" in r["missing_sources"] for r in w if r["month"] == "2026-07")
    assert any("household_registration" in r["missing_sources"] for r in w if r["month"] == "2026-06") or \
        not [a for a in read_csv(tmp_path / "truth" / "alerts.csv")
             if a["month"] == "2026-05" and a["alert_type"] == "DECEASED_RECIPIENT"]
    # every row quarantined: the file is accepted, its rows in quarantine, the source undelivered
    files = {(f["month"], f["source"]): f for f in read_csv(tmp_path / "truth" / "files.csv")}
    for src in ("hr", "emergency"):
        f = files[("2026-07", src)]
        assert f["status"] == "ok" and int(f["rows_in"]) >= 1 and f["rows_quarantined"] == f["rows_in"]
    pend = {d["reason_codes"] for d in read_csv(tmp_path / "truth" / "determinations.csv")
            if d["month"] == "2026-07" and d["category"] == "PENDING"}
    assert pend and all("SOURCE_NOT_DELIVERED:hr" in p.split(",") for p in pend)   # housing: messy refusal


def test_title_rows(messy):
    out, _ = messy
    files = [f for f in read_csv(out / "truth" / "files.csv") if "title_rows" in f["file_variants"]]
    assert {f["format"] for f in files} == {"csv", "xlsx"}
    q = read_csv(out / "truth" / "quarantine.csv")
    checked = 0
    for f in files:
        path = out / f["month"] / f["file"]
        if f["format"] == "csv":
            enc = "utf-8-sig" if f["encoding"] in ("utf-8", "utf-8-sig") else "gb18030"
            lines = path.read_bytes().decode(enc).splitlines()
        else:
            from openpyxl import load_workbook
            ws = load_workbook(path).active
            assert any(r.min_row == 1 and r.max_col > 1 for r in ws.merged_cells.ranges)
            lines = [",".join("" if v is None else str(v) for v in r) for r in ws.iter_rows(values_only=True)]
        first = lines[0]
        assert first.startswith(summary_county_name(out)) and "年" in first and "月" in first
        hdr = f["headers"].split("|")[0]
        titles = next(i for i, ln in enumerate(lines) if ln.split(",")[0].strip() == hdr)
        assert titles >= 1
        assert len(lines) - titles - 1 == int(f["rows_in"])     # title rows are not rows_in
        for r in q:
            if (r["month"], r["source"]) == (f["month"], f["source"]):
                assert titles + 2 <= int(r["row_number"]) <= len(lines)   # the file's own row numbers
                checked += 1
    assert checked


def summary_county_name(out: Path) -> str:
    pol = yaml.safe_load((out / "policy.yaml").read_text(encoding="utf-8"))
    return next(iter(pol["counties"].values()))["name"]


def test_names_outside_gbk_and_dot_variants(messy):
    out, _ = messy
    variants = Counter(r["variant"] for r in read_csv(out / "truth" / "variants.csv"))
    for v in ("name_non_gbk", "name_dot_variant", "name_dot_katakana", "name_dot_fullwidth"):
        assert variants[v] > 0, v
    seen = set()
    for f in read_csv(out / "truth" / "files.csv"):
        if f["format"] != "csv" or f["status"] != "ok":
            continue
        data = (out / f["month"] / f["file"]).read_bytes()
        text = data.decode("utf-8-sig") if f["encoding"] in ("utf-8", "utf-8-sig") else data.decode("gb18030")
        if "\U00020bb7" in text or "\u4dae" in text:
            seen.add(f["encoding"])
        if f["encoding"] == "gbk":
            data.decode("gbk")     # a file said to be GBK is GBK
    assert {"utf-8", "gb18030"} <= seen
    # a mistyped ID whose name carries another dot links to the person all the same
    links = {(r["month"], r["source"], r["row_number"]) for r in read_csv(out / "truth" / "links.csv")
             if r["method"] in ("typo_1", "transposition", "same_birth")}
    dotted = {(r["month"], r["source"], r["row_number"]) for r in read_csv(out / "truth" / "variants.csv")
              if r["variant"].startswith("name_dot")}
    assert links & dotted


def test_cli_undelivered(tmp_path):
    base = [sys.executable, "-m", "generator", "--households", "120", "--months", "2", "--start", "2026-03",
            "--seed", "4"]
    r = subprocess.run(base + ["--out", str(tmp_path / "a"), "--undelivered", "2026-04:housing",
                               "--undelivered", "2026-04:education:refused"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not list((tmp_path / "a" / "2026-04").glob("housing.*"))
    assert read_csv(tmp_path / "a" / "truth" / "refused_files.csv") == [
        {"month": "2026-04", "source": "education", "status": "missing_column"}]
    r = subprocess.run(base + ["--out", str(tmp_path / "b"), "--undelivered", "2026-04:civil_affairs_households"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "roster" in r.stderr and "--allow-roster" in r.stderr
    assert not (tmp_path / "b").exists()


# ---------------------------------------------------------------------------------------------
# policy variants (rules-variants.md): a policy given to the generator, the optional columns and
# source, the planted thresholds and the oracle's r1-r7
# ---------------------------------------------------------------------------------------------
POLICIES = ROOT / "generator" / "policies"
# the generator before policy variants: default runs must stay byte-identical to it
BASELINE = "cc8ab641e8754300f8244771ac10b2988466a468"
# rules-variants.md B.1, written out here on purpose (with the defaults)
VARIANT_DEFAULTS = {
    "tekun_multiplier_urban": None, "tekun_multiplier_rural": None, "tekun_multiplier_centralized": None,
    "tekun_care_self": 0, "tekun_care_partial": 0, "tekun_care_full": 0, "support_income_disregard": False,
    "severe_disability_level3_intellectual_mental": False, "single_person_critical_illness_claim": False,
    "single_person_veteran_max_grade": None, "single_person_preferential": False,
    "supplement_elderly_age": 70, "supplement_minor_age": 18, "supplement_elderly_disabled_age": 60,
    "supplement_veteran_max_grade": None, "supplement_preferential": 0,
    "gradual_exit_annual_reduction": None, "gradual_exit_reduction_offset": 0,
    "dibao_benefit_basis": "current_month", "audit_per_town": False, "audit_include_rejected": False,
}
NEW_HOUSEHOLD_COLS = ["供养方式", "赡养抚养扶养费", "渐退前月保障金额"]
NEW_MEMBER_COLS = ["护理等级", "残疾军人等级", "优抚对象类别", "定期抚恤补助"]
CUSTOM = {"periods": [{
    "effective_from": "2025-01",
    "tekun_multiplier_urban": 1.5, "tekun_multiplier_rural": 1.4, "tekun_multiplier_centralized": 2.0,
    "tekun_care_self": 50, "tekun_care_partial": 300, "tekun_care_full": 600,
    "support_income_disregard": True, "severe_disability_level3_intellectual_mental": True,
    "single_person_critical_illness_claim": True, "single_person_veteran_max_grade": 3,
    "single_person_preferential": False, "supplement_elderly_age": 65, "supplement_minor_age": 16,
    "supplement_elderly_disabled_age": 55, "supplement_veteran_max_grade": 2, "supplement_preferential": 0.2,
    "gradual_exit_annual_reduction": 0.25, "gradual_exit_reduction_offset": 1,
    "dibao_benefit_basis": "current_month", "audit_per_town": True, "audit_include_rejected": True,
    "audit_sample_rate": 0.5}]}


@pytest.fixture(scope="module")
def v002(tmp_path_factory):
    out = tmp_path_factory.mktemp("v002")
    summary = generate(out, 400, 4, "2026-01", 7, messy_rate=0.05, policy=POLICIES / "002.yaml",
                       undelivered=["2026-04:hr"])
    return out, summary


@pytest.fixture(scope="module")
def v001(tmp_path_factory):
    out = tmp_path_factory.mktemp("v001")
    summary = generate(out, 400, 4, "2026-01", 8, messy_rate=0.05, policy=str(POLICIES / "001.yaml"),
                       undelivered=["2026-04:hr"])
    return out, summary


@pytest.fixture(scope="module")
def vcustom(tmp_path_factory):
    out = tmp_path_factory.mktemp("vcustom")
    summary = generate(out, 300, 3, "2026-01", 9, policy=CUSTOM)
    return out, summary


def month_params(out: Path, ym: str) -> dict:
    """The parameters of month ym in the generated policy.yaml, rules-variants.md defaults filled in."""
    pol = yaml.safe_load((out / "policy.yaml").read_text(encoding="utf-8"))
    periods = next(iter(pol["counties"].values()))["periods"]
    cur = [p for p in periods if str(p["effective_from"]) <= ym][-1]
    return {**VARIANT_DEFAULTS, **{k: v for k, v in cur.items()
                                   if v is not None or k == "supplement_elderly_disabled_age"}}


def expected_outcome(case: str, P: dict) -> dict:
    """What the truth must say in the planted month for a planted household (generator/README.md
    'Planted thresholds'), from the policy's values: {alert type: reasons or True / None}."""
    kind, _, rest = case.partition(":")
    who, _, side = rest.partition(":")
    out = {}
    if kind == "sup":      # 低保, base = topup·n, the bureau misses the subject's group
        rate = 0
        severe, em = P["supplement_severe"], P["supplement_elderly_minor"]
        if who == "elderly" and side == "at":
            rate = em
        elif who == "minor" and side == "below":
            rate = em
        elif who == "elderly_disabled" and side == "at" and P["supplement_elderly_disabled_age"] is not None:
            rate = severe
        elif who == "l3" and side in ("智力", "精神") and P["severe_disability_level3_intellectual_mental"]:
            rate = severe
        elif who == "veteran" and side == "at" and P["supplement_veteran_max_grade"] is not None:
            rate = severe
        elif who == "pref" and side == "set":
            rate = P["supplement_preferential"]
        out["BENEFIT_MISMATCH"] = "" if rate > 0.05 else None
    elif kind == "single":  # 低保边缘 determined MARGINAL
        why = []
        if (who == "l3" and side != "肢体" and P["severe_disability_level3_intellectual_mental"]) or who == "all":
            why.append("SEVERE_DISABILITY")
        if who == "all":
            why.append("MAJOR_ILLNESS")
        if (who == "claim" and side == "0.01" or who == "all") and P["single_person_critical_illness_claim"]:
            why.append("CRITICAL_ILLNESS_CLAIM")
        if (who == "veteran" and side == "at" or who == "all") and P["single_person_veteran_max_grade"] is not None:
            why.append("VETERAN_DISABILITY")
        if (who == "subsidy" and side == "是" or who == "all") and P["single_person_preferential"]:
            why.append("PREFERENTIAL")
        out["SINGLE_PERSON_DIBAO"] = ",".join(why) or None
    elif kind == "exit":
        r, off = P["gradual_exit_annual_reduction"], P["gradual_exit_reduction_offset"]
        amount = "GRADUAL_EXIT_AMOUNT" if r is not None else None
        m = {"m11": 11, "m12": 12, "m17": 17, "m18": 18, "m23": 23, "m24": 24}.get(who)
        if m is not None:
            L = P["gradual_exit_months_disabled"] if m in (23, 24) else P["gradual_exit_months"]
            # paid: B·(1 − r·offset) for 11/12 (the yearly cut missed), 0.3·B for the others
            paid = (1 - r * off) if (r is not None and m in (11, 12)) else 0.3
            exp = None if r is None or m >= L else max(0.0, 1 - r * (m // 12 + off))
            out["BENEFIT_MISMATCH"] = amount if exp is not None and abs(paid - exp) > 0.1 * exp else None
            out["GRADUAL_EXIT_END"] = True if m >= L else None
        elif who == "roster":
            out["BENEFIT_MISMATCH"] = amount if side == "bad" else None
        elif who in ("column_over_roster", "future"):
            out["BENEFIT_MISMATCH"] = None
        elif who == "unknown":
            out["BENEFIT_MISMATCH"] = None
            out["withheld:BENEFIT_MISMATCH"] = "PRE_EXIT_BENEFIT_UNKNOWN" if r is not None else None
    elif kind == "review":
        frozen = P["dibao_benefit_basis"] == "last_review_month"
        out["BENEFIT_MISMATCH"] = "" if (who == "current") == frozen else None
    elif kind == "tk":
        mode, pay = who, side.split(":")[0]
        care = ":care" in case
        urban = case.endswith(":urban")
        t_ur = P["tekun_multiplier_urban" if urban else "tekun_multiplier_rural"] or P["tekun_multiplier"]
        central = P["tekun_multiplier_centralized"]
        t_exp = central if (central is not None and mode == "集中供养") else t_ur
        t_paid = {"right": t_exp, "as_dispersed": t_ur, "base": P["tekun_multiplier"],
                  "as_centralized": central if central is not None else t_ur, "no_care": t_exp}.get(pay, t_exp)
        care_missed = (P["tekun_care_full"] + P["tekun_care_partial"]) if pay == "no_care" else 0
        if who == "dibao_row_with_mode":
            out["BENEFIT_MISMATCH"] = None
        else:
            n = 2 if care else 1
            S = P["dibao_standard_urban" if urban else "dibao_standard_rural"]
            diff = abs(t_exp - t_paid) * S * n + care_missed
            out["BENEFIT_MISMATCH"] = "" if diff > max(10, 0.1 * (t_exp * S * n)) else None
    elif kind == "support":
        dis = P["support_income_disregard"]
        if who == "低保":
            out["GRADUAL_EXIT_START"] = None if dis else True
            out["category"] = "DIBAO" if dis else "MARGINAL"
            out["BENEFIT_MISMATCH"] = None
        elif who == "低保边缘":
            out["DIBAO_OMISSION"] = True if dis else None
            out["WRONGFUL_INCLUSION"] = None if dis else True
        else:   # 特困: no disregard, income before deductions > 0
            out["WRONGFUL_INCLUSION"] = True
    return out


def check_planted(out: Path) -> int:
    alerts = read_csv(out / "truth" / "alerts.csv")
    withheld = read_csv(out / "truth" / "withheld.csv")
    dets = read_csv(out / "truth" / "determinations.csv")
    checked = 0
    for p in read_csv(out / "truth" / "planted.csv"):
        if p["case"].startswith("audit"):
            continue
        h, ym = p["household_id"], p["month"]
        mine = {a["alert_type"]: a for a in alerts if (a["month"], a["household_id"]) == (ym, h)
                and a["household_source"] == "civil_affairs"
                and (a["alert_type"] != "SINGLE_PERSON_DIBAO" or a["member_id_number"] == p["member_id_number"])}
        wh = {w["alert_type"]: w["missing_sources"] for w in withheld if (w["month"], w["household_id"]) == (ym, h)}
        cat = next(d["category"] for d in dets if (d["month"], d["household_id"], d["household_source"]) ==
                   (ym, h, "civil_affairs"))
        for what, want in expected_outcome(p["case"], month_params(out, ym)).items():
            if what == "category":
                assert cat == want, (p["case"], cat, want)
            elif what.startswith("withheld:"):
                assert wh.get(what.split(":")[1]) == want, (p["case"], wh, want)
            elif want is None:
                assert what not in mine, (p["case"], what, mine.get(what))
            else:
                assert what in mine, (p["case"], what, sorted(mine))
                if want is not True:
                    assert mine[what]["reasons"] == want, (p["case"], mine[what]["reasons"], want)
            checked += 1
    return checked


def test_variant_run_002_verifies(v002):
    out, summary = v002
    assert summary["variants"] is True
    assert verify(out) == {}


def test_variant_run_001_verifies(v001):
    out, _ = v001
    assert verify(out) == {}


def test_variant_run_custom_policy_verifies(vcustom):
    out, _ = vcustom
    assert verify(out) == {}


def test_policy_yaml_carries_the_given_parameters(v002, v001):
    given = yaml.safe_load((POLICIES / "002.yaml").read_text(encoding="utf-8"))
    want = next(iter(given["counties"].values()))["periods"][0]
    out, summary = v002
    pol = yaml.safe_load((out / "policy.yaml").read_text(encoding="utf-8"))
    (code, county), = pol["counties"].items()
    assert code == summary["county"] != "230102"             # the generated county, not the file's
    assert county["towns"] and all(t.startswith(code) for t in county["towns"])
    periods = county["periods"]
    assert [p["effective_from"] for p in periods] == ["2025-01", "2026-03"]   # the generated boundaries
    for p in periods:
        for k, v in want.items():
            if k != "effective_from":
                assert p[k] == v, (k, p[k], v)
        assert set(p) - {"effective_from"} - set(RULE_PARAMETERS) == set(want) - {"effective_from"} - set(RULE_PARAMETERS)
    assert periods[0]["dibao_standard_rural"] == 800 and periods[1]["dibao_standard_rural"] == 850
    assert periods[0]["supplement_elderly_disabled_age"] is None          # null kept: no 老残一体 group
    p001 = month_params(v001[0], "2026-02")
    assert (p001["tekun_multiplier_centralized"], p001["gradual_exit_annual_reduction"]) == (2.0, 0.25)
    assert p001["supplement_severe"] == 0.6 and p001["dibao_benefit_basis"] == "current_month"


def test_policy_periods_map_by_date(tmp_path):
    """A given period starting inside the generated window adds a boundary; a month before the given
    file's first period is an error; absent rules-variants parameters are not carried over."""
    pol = {"periods": [{"effective_from": "2025-06", "supplement_preferential": 0.1, "dibao_standard_rural": 900},
                       {"effective_from": "2026-02", "gradual_exit_annual_reduction": 0.5}]}
    generate(tmp_path / "a", 150, 4, "2026-01", 2, policy=pol)
    periods = next(iter(yaml.safe_load((tmp_path / "a" / "policy.yaml").read_text(encoding="utf-8"))
                        ["counties"].values()))["periods"]
    assert [p["effective_from"] for p in periods] == ["2025-01", "2026-02", "2026-03"]
    assert periods[0]["supplement_preferential"] == 0.1 and periods[0]["dibao_standard_rural"] == 900
    assert "supplement_preferential" not in periods[1] and periods[1]["gradual_exit_annual_reduction"] == 0.5
    assert periods[1]["dibao_standard_rural"] == 800 and periods[2]["dibao_standard_rural"] == 850
    assert verify(tmp_path / "a") == {}
    with pytest.raises(ValueError, match="first period starts 2025-06"):
        generate(tmp_path / "b", 100, 2, "2025-04", 2, policy=pol)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("bad, match", [
    ({"supplement_elderly_age": 70.0}, "supplement_elderly_age"),
    ({"supplement_elderly_age": True}, "supplement_elderly_age"),
    ({"single_person_veteran_max_grade": 11}, "single_person_veteran_max_grade"),
    ({"gradual_exit_annual_reduction": 0}, "gradual_exit_annual_reduction"),
    ({"gradual_exit_reduction_offset": 2}, "gradual_exit_reduction_offset"),
    ({"tekun_multiplier_centralized": 0}, "tekun_multiplier_centralized"),
    ({"tekun_care_full": -1}, "tekun_care_full"),
    ({"supplement_preferential": 1.5}, "supplement_preferential"),
    ({"dibao_benefit_basis": "review"}, "dibao_benefit_basis"),
    ({"audit_per_town": "yes"}, "audit_per_town"),
    ({"no_such_parameter": 1}, "unknown parameter"),
])
def test_policy_refused(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        generate(tmp_path, 100, 2, "2026-01", 1, policy={"periods": [{"effective_from": "2025-01", **bad}]})


def test_policy_with_several_counties(tmp_path):
    two = {"counties": {"111111": {"periods": [{"effective_from": "2025-01"}]},
                        "222222": {"periods": [{"effective_from": "2025-01", "audit_per_town": True}]}}}
    with pytest.raises(ValueError, match="name one"):
        generate(tmp_path / "a", 100, 2, "2026-01", 1, policy=two)
    s = generate(tmp_path / "b", 100, 2, "2026-01", 1, policy=two, policy_county="222222")
    assert s["variants"] is True


def test_thresholds_planted_on_both_sides_002(v002):
    out, _ = v002
    cases = {p["case"] for p in read_csv(out / "truth" / "planted.csv")}
    for c in ("sup:elderly:at", "sup:elderly:below", "sup:minor:at", "sup:minor:below",
              "sup:elderly_disabled:at", "sup:elderly_disabled:below", "sup:l3:智力", "sup:l3:肢体",
              "sup:veteran:at", "sup:veteran:above", "sup:pref:set", "sup:pref:empty",
              "single:l3:智力", "single:l3:肢体", "single:claim:0.01", "single:claim:0", "single:veteran:at",
              "single:veteran:above", "single:subsidy:是", "single:subsidy:否", "exit:m11", "exit:m12",
              "exit:m17", "exit:m18", "exit:roster:ok", "exit:roster:bad", "exit:column_over_roster",
              "exit:unknown", "review:frozen", "review:current", "support:低保:below", "support:低保:above"):
        assert c in cases, c
    assert check_planted(out) > 60
    alerts = read_csv(out / "truth" / "alerts.csv")
    # 002 in its own words: 三级智力 and the four new single-person grounds, all five in one person
    spd = {a["reasons"] for a in alerts if a["alert_type"] == "SINGLE_PERSON_DIBAO"}
    assert "SEVERE_DISABILITY,MAJOR_ILLNESS,CRITICAL_ILLNESS_CLAIM,VETERAN_DISABILITY,PREFERENTIAL" in spd
    assert {"CRITICAL_ILLNESS_CLAIM", "VETERAN_DISABILITY", "PREFERENTIAL"} <= spd


def test_thresholds_planted_on_both_sides_001(v001):
    out, _ = v001
    assert check_planted(out) > 60
    alerts = read_csv(out / "truth" / "alerts.csv")
    # 001 has no new single-person ground: only the two of rules.md
    spd = {a["reasons"] for a in alerts if a["alert_type"] == "SINGLE_PERSON_DIBAO"}
    assert spd and spd <= {"SEVERE_DISABILITY", "MAJOR_ILLNESS", "SEVERE_DISABILITY,MAJOR_ILLNESS"}
    assert {a["reasons"] for a in alerts if a["alert_type"] == "BENEFIT_MISMATCH"} == {"", "GRADUAL_EXIT_AMOUNT"}


def test_thresholds_planted_on_both_sides_custom(vcustom):
    """Other ages, veteran grades, multipliers, care amounts and the other reduction offset."""
    out, _ = vcustom
    assert check_planted(out) > 60


def test_exit_amount_and_frozen_pci_without_hr(v001, v002):
    """hr undelivered in 2026-04: the exit amount (r5) reads the roster only and is still checked;
    an unknown pre-exit amount is withheld as PRE_EXIT_BENEFIT_UNKNOWN, not for hr; with 002's
    last_review_month the amount of a household reviewed in a run month is checked too."""
    for (out, _), keys in ((v001, ("exit:m11", "exit:m12", "exit:unknown", "exit:m17")),
                           (v002, ("review:current", "review:frozen"))):
        planted = {p["case"]: p["household_id"] for p in read_csv(out / "truth" / "planted.csv")}
        alerts = {(a["month"], a["household_id"], a["alert_type"]): a for a in read_csv(out / "truth" / "alerts.csv")}
        withheld = {(w["month"], w["household_id"], w["alert_type"]): w["missing_sources"]
                    for w in read_csv(out / "truth" / "withheld.csv")}
        hr_withheld = {k[1] for k, v in withheld.items() if k[0] == "2026-04" and k[2] == "BENEFIT_MISMATCH" and v == "hr"}
        assert hr_withheld       # other roster 低保 households wait for hr
        for c in keys:
            h = planted[c]
            k = ("2026-04", h, "BENEFIT_MISMATCH")
            if c == "exit:m17":   # m = 19 >= L in 2026-04: no amount check, withheld for hr as in rules.md
                assert withheld[k] == "hr"
                continue
            assert h not in hr_withheld, c
            if c == "exit:unknown":
                assert withheld[k] == "PRE_EXIT_BENEFIT_UNKNOWN" and k not in alerts
            elif c == "review:frozen":
                assert k not in alerts and k not in withheld
            else:
                assert alerts[k]["status"] == "持续" and k not in withheld, c
    # PRE_EXIT_BENEFIT_UNKNOWN stands for BENEFIT_MISMATCH only, never beside a source
    for out, _ in (v001, v002):
        for w in read_csv(out / "truth" / "withheld.csv"):
            if "PRE_EXIT" in w["missing_sources"]:
                assert w["alert_type"] == "BENEFIT_MISMATCH" and w["missing_sources"] == "PRE_EXIT_BENEFIT_UNKNOWN"


def test_variant_columns_and_decisions_written(v002):
    from generator.verify import find_header, read_rows
    out, summary = v002
    files = read_csv(out / "truth" / "files.csv")
    assert {f["month"] for f in files if f["source"] == "civil_affairs_decisions"} == {
        "2026-01", "2026-02", "2026-03", "2026-04"}
    for f in files:
        if f["source"] in ("civil_affairs_households", "civil_affairs_members") and f["status"] == "ok":
            heads = f["headers"].split("|")
            assert heads[-len(NEW_HOUSEHOLD_COLS if "households" in f["source"] else NEW_MEMBER_COLS):] == (
                NEW_HOUSEHOLD_COLS if "households" in f["source"] else NEW_MEMBER_COLS)
    # bad values of every new column and of the decisions planted, quarantined with the right reason
    q = {(r["month"], r["source"], int(r["row_number"])): r["reason_code"] for r in read_csv(out / "truth" / "quarantine.csv")}
    found = Counter()
    allowed = {"供养方式": {"集中供养", "分散供养"}, "护理等级": {"全自理", "半护理", "全护理"},
               "残疾军人等级": {"一级", "二级", "三级", "四级", "五级", "六级", "七级", "八级", "九级", "十级"},
               "优抚对象类别": {"军属", "烈士遗属", "因公牺牲军人遗属", "病故军人遗属", "在乡老复员军人"},
               "定期抚恤补助": {"是", "否"}, "审核确认结果": {"通过", "未通过"}}
    for f in files:
        if f["status"] != "ok" or f["source"] not in ("civil_affairs_households", "civil_affairs_members",
                                                      "civil_affairs_decisions"):
            continue
        rows = read_rows(out / f["month"] / f["file"])
        hi = find_header(f["source"], rows)
        head = [str(h) for h in rows[hi]]
        for rn, row in enumerate(rows[hi + 1:], start=hi + 2):
            cell = dict(zip(head, ["" if v is None else str(v).strip() for v in row]))
            for col, ok in allowed.items():
                if cell.get(col) and cell[col] not in ok:
                    assert q[(f["month"], f["source"], rn)] == "invalid_value", (f, rn, col)
                    found[col] += 1
            for col in ("赡养抚养扶养费", "渐退前月保障金额"):
                if cell.get(col, "").startswith("-"):
                    assert q[(f["month"], f["source"], rn)] == "negative_amount", (f, rn, col)
                    found[col] += 1
    assert set(found) == set(allowed) | {"赡养抚养扶养费", "渐退前月保障金额"}, found
    assert {k for k in summary["planted"] if k.startswith("vbad:")} == {
        f"vbad:{c}" for c in NEW_HOUSEHOLD_COLS + NEW_MEMBER_COLS + ["申请类别", "审核确认结果", "审核确认日期"]}
    # truth gains reasons (alerts), source and town_code (audit), planted.csv
    with open(out / "truth" / "alerts.csv", encoding="utf-8") as fh:
        assert fh.readline().strip().split(",")[-1] == "reasons"
    with open(out / "truth" / "audit_sample.csv", encoding="utf-8") as fh:
        assert fh.readline().strip().split(",") == ["month", "household_id", "new_approvals", "source", "town_code"]


def test_relapse_reasons_in_rules_order(v002):
    out, _ = v002
    order = ["ILLNESS", "MEDICAL_COST", "DISASTER", "JOB_LOSS", "DEATH", "DROPOUT", "LOW_INCOME"]
    rel = [a for a in read_csv(out / "truth" / "alerts.csv") if a["alert_type"] == "RELAPSE_RISK"]
    assert rel
    for a in rel:
        codes = a["reasons"].split(",")
        assert codes and codes == sorted(codes, key=order.index)
        if len(codes) >= 2:
            assert a["priority"] == "高"


def test_audit_per_town_with_rejections(tmp_path):
    """004: ceil(30 %) of each town's approvals and rejections; a household approved and rejected in
    M counts once as approved; a rejected roster household counts in its roster town; towns with
    rejections only are drawn; without the decisions file only approvals."""
    import hashlib
    import math
    out = tmp_path / "v004"
    generate(out, 300, 3, "2026-01", 9, policy=POLICIES / "004.yaml", messy_rate=0.02)
    assert verify(out) == {}
    audit = read_csv(out / "truth" / "audit_sample.csv")
    planted = read_csv(out / "truth" / "planted.csv")
    pop = {}
    for p in planted:
        if p["case"].startswith("audit:") and p["month"] == "2026-02":
            role, town = p["case"].split(":")[1:]
            pop[p["household_id"]] = ("rejected" if role == "rejected" else "approved" if role != "roster_rejected"
                                      else "rejected", town)
    drawn = {a["household_id"]: a for a in audit if a["month"] == "2026-02"}
    by_town = {}
    for a in audit:
        if a["month"] == "2026-02":
            by_town.setdefault(a["town_code"], []).append(a)
    towns_planted = {t for _, t in pop.values()}
    assert len(towns_planted) == 2
    for t, rows in by_town.items():
        k = int(rows[0]["new_approvals"])
        assert all(int(r["new_approvals"]) == k for r in rows)
        assert len(rows) == math.ceil(0.3 * k)
        if t in towns_planted:
            members = [h for h, v in pop.items() if v[1] == t]
            assert k >= len(members)
    # the draw is the first ones in SHA-256 order within each town
    for t, rows in by_town.items():
        ids = [r["household_id"] for r in rows]
        assert ids == sorted(ids, key=lambda h: hashlib.sha256(f"2026-02|{h}".encode()).hexdigest())
    rejected_only = [t for t in towns_planted if all(v[0] == "rejected" for v in pop.values() if v[1] == t)]
    assert rejected_only and all(by_town[t][0]["source"] == "rejected" for t in rejected_only)
    both = next(p["household_id"] for p in planted if p["case"].startswith("audit:both"))
    roster_rej = next(p for p in planted if p["case"].startswith("audit:roster_rejected"))
    assert {a["source"] for a in audit if a["household_id"] == both} <= {"approved"}
    for a in audit:
        if a["household_id"] == roster_rej["household_id"]:
            assert (a["source"], a["town_code"]) == ("rejected", roster_rej["case"].split(":")[2])
    assert len(drawn) > math.ceil(0.3 * len(pop)) - 1
    # the decisions undelivered in M: approvals only
    out2 = tmp_path / "v004u"
    generate(out2, 300, 2, "2026-01", 9, policy=POLICIES / "004.yaml", undelivered=["2026-02:civil_affairs_decisions"])
    assert verify(out2) == {}
    a2 = [a for a in read_csv(out2 / "truth" / "audit_sample.csv") if a["month"] == "2026-02"]
    assert a2 and {a["source"] for a in a2} == {"approved"}


def test_variants_without_policy(tmp_path):
    """variants=True with rules.md's defaults: the columns and the decisions are written and the
    planted households are there, but nothing new changes a result (every threshold at its
    default); the audit is county-wide without rejections."""
    out = tmp_path / "v"
    s = generate(out, 300, 3, "2026-05", 11, variants=True)
    assert s["variants"] is True and verify(out) == {}
    assert check_planted(out) > 60
    assert {a["source"] for a in read_csv(out / "truth" / "audit_sample.csv")} <= {"approved"}
    with pytest.raises(ValueError, match="variants"):
        generate(tmp_path / "x", 100, 2, "2026-01", 1, undelivered=["2026-02:civil_affairs_decisions"])


def _old_generator(tmp_path) -> Path | None:
    """The generator as it was before policy variants (git archive of BASELINE), or None."""
    old = tmp_path / "old"
    old.mkdir()
    r = subprocess.run(f"git archive {BASELINE} generator | tar -x -C {old}", shell=True, cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode != 0 or not (old / "generator" / "core.py").exists():
        return None
    return old


@pytest.mark.parametrize("kwargs", [
    dict(households=400, months=4, start="2026-01", seed=7, messy_rate=0.05),
    dict(households=300, months=3, start="2026-05", seed=11,
         undelivered=["2026-06:housing", "2026-07:hr:quarantined"]),
])
def test_default_output_byte_identical_to_before(tmp_path, kwargs):
    old = _old_generator(tmp_path)
    if old is None:
        pytest.skip("no git history here")
    code = ("import json,sys; from generator import generate; "
            f"generate(sys.argv[1], **json.loads(sys.argv[2]))")
    import json
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a"), json.dumps(kwargs)], cwd=old,
                       env={"PYTHONPATH": str(old), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    generate(tmp_path / "b", **kwargs)
    assert tree_hash(tmp_path / "a") == tree_hash(tmp_path / "b")


def test_cli_policy(tmp_path):
    base = [sys.executable, "-m", "generator", "--households", "150", "--months", "2", "--start", "2026-03",
            "--seed", "4"]
    r = subprocess.run(base + ["--out", str(tmp_path / "a"), "--policy", str(POLICIES / "001.yaml")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert '"variants": true' in r.stderr
    assert list((tmp_path / "a" / "2026-04").glob("civil_affairs_decisions.*"))
    assert verify(tmp_path / "a") == {}
    r = subprocess.run(base + ["--out", str(tmp_path / "b"), "--policy", str(POLICIES / "001.yaml"),
                               "--no-policy-variants"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not list((tmp_path / "b" / "2026-04").glob("civil_affairs_decisions.*"))
    assert "tekun_multiplier_centralized: 2.0" in (tmp_path / "b" / "policy.yaml").read_text(encoding="utf-8")
    assert verify(tmp_path / "b") == {}
    bad = tmp_path / "bad.yaml"
    bad.write_text("periods:\n  - effective_from: 2025-01\n    supplement_minor_age: 17.5\n", encoding="utf-8")
    r = subprocess.run(base + ["--out", str(tmp_path / "c"), "--policy", str(bad)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "supplement_minor_age" in r.stderr and not (tmp_path / "c").exists()


def test_seed_policy_files():
    """generator/policies/000-004.yaml: rules-variants.md section C, one county each, values only."""
    from generator.params import load_policy
    want = {"000": {"tekun_multiplier_urban": 1.5, "tekun_multiplier_rural": 1.3},
            "001": {"tekun_multiplier": 1.3, "tekun_multiplier_centralized": 2.0,
                    "gradual_exit_annual_reduction": 0.25, "gradual_exit_reduction_offset": 0,
                    "supplement_elderly_age": 70, "supplement_minor_age": 18},
            "002": {"severe_disability_level3_intellectual_mental": True, "single_person_critical_illness_claim": True,
                    "single_person_veteran_max_grade": 6, "single_person_preferential": True,
                    "supplement_severe": 0.15, "supplement_elderly_minor": 0.15, "supplement_multi_disabled": 0,
                    "supplement_elderly_disabled_age": None, "supplement_veteran_max_grade": 4,
                    "supplement_preferential": 0.15, "support_income_disregard": True,
                    "dibao_benefit_basis": "last_review_month"},
            "003": {},
            "004": {"audit_sample_rate": 0.30, "audit_per_town": True, "audit_include_rejected": True}}
    starts = {"000": "2021-06", "001": "2021-11", "002": "2023-06", "003": "2023-08", "004": "2022-06"}
    for k, params in want.items():
        path = POLICIES / f"{k}.yaml"
        _, periods = load_policy(path)
        assert periods == [{"effective_from": starts[k], **params}], k
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if ":" in line and not line.strip().startswith("#") and line.strip().split(":")[0] in params:
                assert f"# {k}:" in line, line      # each value with its clause


def test_oracle_review_basis_and_pre_exit_edges():
    """The oracle alone. r6: pci* from R only when R < M, R was run with hr delivered; else the pci of
    M (and, hr missing in M, withheld). r5: B from the roster of the month before exit only when that
    month was run (a month without the members file was not)."""
    from datetime import date

    from generator.oracle import History, MonthInput, evaluate, skip_month
    from generator.params import period_of, periods_for

    pol = periods_for("2026-01", 4)
    for p in pol:
        p.update(dibao_benefit_basis="last_review_month", gradual_exit_annual_reduction=0.25)
    ids = {h: f"3703221980010{i:03d}" for i, h in enumerate(["H1", "H2", "H4", "H5", "H7", "H8"])}
    from generator.ids import check_digit
    ids = {h: v[:17] + check_digit(v[:17]) for h, v in ids.items()}
    review = {"H1": date(2026, 1, 15), "H2": date(2026, 3, 10), "H4": date(2026, 2, 10), "H5": date(2026, 4, 5),
              "H7": date(2025, 6, 1), "H8": date(2025, 6, 1)}
    wage = {"2026-01": 60000, "2026-02": 90000, "2026-03": 90000, "2026-04": 90000}   # pci 300 then 600
    hist = History()
    got = {}
    for ym, hr_in, members_in in (("2026-01", True, False), ("2026-02", False, True), ("2026-03", True, True),
                                  ("2026-04", False, True)):
        mi = MonthInput(ym, period_of(pol, ym))
        mi.present = set(SOURCES) - ({"hr"} if not hr_in else set()) - ({"civil_affairs_members"} if not members_in else set())
        for h in ("H1", "H2", "H4", "H5"):
            mi.households.append((h, "370322100200", "农村", "低保", "2024-01", None, 50000, 0, None, review[h]))
        for h, col in (("H7", None), ("H8", 70000)):
            mi.households.append((h, "370322100200", "农村", "低保", "2024-01", "2026-02", 50000, 0, None,
                                  review[h], None, None, col))
        mi.members = [(h, pid, "张三", "户主", None, None, "有") for h, pid in ids.items()] if members_in else []
        mi.hr = [(pid, "张三", "就业", wage[ym], None, None) for pid in ids.values()] if hr_in else []
        if not members_in:
            skip_month(mi, hist)
            continue
        d, a, w = evaluate(mi, hist)
        got[ym] = ({x[1] for x in a if x[2] == "BENEFIT_MISMATCH"}, {x[1]: x[3] for x in w if x[2] == "BENEFIT_MISMATCH"})
    # 2026-02 (hr missing): January was not run (no members file) -> no pci of R, withheld for hr;
    # H7's month before exit (January) was not run -> B unknown; H8 has its column: 500 vs 700 -> alert
    mm, wh = got["2026-02"]
    assert wh == {"H1": "hr", "H2": "hr", "H4": "hr", "H5": "hr", "H7": "PRE_EXIT_BENEFIT_UNKNOWN"} and mm == {"H8"}
    # 2026-03: H4 reviewed in February, whose hr was missing -> pci of March (600): expected 200, paid 500
    mm, wh = got["2026-03"]
    assert "H4" in mm and "H1" in mm and wh == {"H7": "PRE_EXIT_BENEFIT_UNKNOWN"}
    # 2026-04 (hr missing): H1 and H4 have no run R with hr -> withheld; H5 reviewed in April (R = M) too;
    # H2 reviewed in March (run, hr delivered): pci 600 of March -> expected 200, paid 500, not withheld
    mm, wh = got["2026-04"]
    assert set(wh) == {"H1", "H4", "H5", "H7"} and wh["H1"] == "hr" and mm == {"H2", "H8"}


# ---- a prefecture of several counties in one landing (issue #19, generator/prefecture.py) ----------
PRE_PREFECTURE = "dfa3e7c"   # the generator before --counties


@pytest.fixture(scope="module")
def prefecture(tmp_path_factory):
    out = tmp_path_factory.mktemp("prefecture")
    summary = generate(out, households=360, months=3, start="2026-04", seed=7, counties=3, messy_rate=0.03)
    return out, summary


def test_prefecture_layout_policy_and_truth(prefecture):
    import yaml
    out, s = prefecture
    codes = [c["code"] for c in s["counties"]]
    assert len(codes) == 3 and len(set(codes)) == 3 and {c[:4] for c in codes} == {s["county"]}
    assert sum(c["households"] for c in s["counties"]) == 360
    assert sorted(p.name for p in out.iterdir()) == ["2026-04", "2026-05", "2026-06", "policy.yaml", "truth"]
    pol = yaml.safe_load((out / "policy.yaml").read_text(encoding="utf-8"))["counties"]
    assert list(pol) == codes
    assert len({v["name"] for v in pol.values()}) == 3
    assert all(all(t[:6] == c for t in v["towns"]) and all(x[:6] == c for x in v["villages"]) for c, v in pol.items())
    assert len({v["periods"][0]["dibao_standard_rural"] for v in pol.values()}) == 3
    assert verify(out) == {}


def test_prefecture_plantings(prefecture):
    out, s = prefecture
    codes = [c["code"] for c in s["counties"]]
    planted = read_csv(out / "truth" / "prefecture.csv")
    kinds = Counter(r["kind"] for r in planted)
    assert kinds["duplicate"] == 4 and kinds["mover"] >= 4 and kinds["typo"] >= 9
    alerts = read_csv(out / "truth" / "alerts.csv")
    dup = {(a["month"], a["household_id"], a["member_id_number"]) for a in alerts
           if a["alert_type"] == "DUPLICATE_ASSISTANCE"}
    for r in planted:
        if r["kind"] == "duplicate":
            assert {(m, r["household_id"], r["member_id_number"]) for m in s["months"]} <= dup
        if r["kind"] == "mover" and r["household_source"] == "civil_affairs":
            rd = [a for a in alerts if a["household_id"] == r["household_id"] and a["alert_type"] == "REVIEW_DUE"]
            assert [(a["month"], a["status"], a["first_month"]) for a in rd] == [
                ("2026-04", "新增", "2026-04"), ("2026-05", "持续", "2026-04"), ("2026-06", "持续", "2026-04")]
    typos = [r for r in planted if r["kind"] == "typo"]
    assert all(r["member_id_number"][:6] in codes and r["member_id_number"][:6] != r["county_code"] for r in typos)


def test_prefecture_same_seed_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, 200, 2, "2026-01", 3, counties=2, messy_rate=0.03, chunk_size=40)
    generate(b, 200, 2, "2026-01", 3, counties=2, messy_rate=0.03, chunk_size=40)
    assert tree_hash(a) == tree_hash(b)
    assert verify(a) == {}
    # one landing file per source and month holds every county's rows; persons born in another
    # county of the prefecture (their ID's code) are common
    c = tmp_path / "c"
    generate(c, 200, 2, "2026-01", 3, counties=2)
    reg = read_csv(c / "2026-01" / "household_registration.csv")
    assert len({r["行政区划代码"][:6] for r in reg}) == 2
    born = sum(r["公民身份号码"][:6] != r["行政区划代码"][:6] for r in reg)
    assert 0.1 < born / len(reg) < 0.3
    with pytest.raises(ValueError, match="counties"):
        generate(tmp_path / "x", 100, 2, "2026-01", 1, counties=2, variants=True)
    with pytest.raises(ValueError, match="counties"):
        generate(tmp_path / "y", 100, 2, "2026-01", 1, counties=0)


@pytest.mark.parametrize("kwargs", [
    dict(households=400, months=3, start="2026-04", seed=7),
    dict(households=300, months=4, start="2026-05", seed=11, messy_rate=0.05,
         undelivered=["2026-06:housing", "2026-07:hr:quarantined"]),
])
def test_one_county_byte_identical_to_before_counties(tmp_path, kwargs):
    """--counties 1 (the default) writes what the generator wrote before the option."""
    old = tmp_path / "old"
    old.mkdir()
    r = subprocess.run(f"git archive {PRE_PREFECTURE} generator | tar -x -C {old}", shell=True, cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode != 0 or not (old / "generator" / "core.py").exists():
        pytest.skip("no git history here")
    import json
    code = "import json,sys; from generator import generate; generate(sys.argv[1], **json.loads(sys.argv[2]))"
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a"), json.dumps(kwargs)], cwd=old,
                       env={"PYTHONPATH": str(old), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    generate(tmp_path / "b", counties=1, **kwargs)
    assert tree_hash(tmp_path / "a") == tree_hash(tmp_path / "b")
