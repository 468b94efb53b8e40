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
