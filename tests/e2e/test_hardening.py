"""Hostile and careless input (issue "no formula reaches a caseworker, no landing file is ever lost"):

* formula-safe staff CSVs (CWE-1236): every attack goes through a real run (Dagster, DuckDB) and is
  read back from the town CSV, alerts_all.csv and audit_sample.csv;
* ID numbers written with spaces, full-width digits or 17/19 digits are masked in quarantine CSVs;
* the run's locations (landing, staged, out, warehouse, analysts' copy) cannot hurt each other.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import duckdb
import pytest

from lim.publish.csv_out import NUMERIC_COLUMNS, csv_lines, mask_ids_in_text, safe_cell, write_csv, write_csv_lines
from tests.conftest import TEST_POLICY
from tests.landing import make_id, write_month
from tests.runs import run_months

M = "2026-06"
URBAN = "370322001001"  # town 370322001, village 西关社区 in policy_test.yaml
ADULT, CHILD = "19860301", "20110301"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

HYPERLINK = '=HYPERLINK("http://x.example/?a=1","点我")'
CMD = "+cmd|' /C calc'!A0"
AT_SUM = "@SUM(1+1)"
MINUS = "-2+3"
TAB = "\t=1+2"
MEMBER = '=HYPERLINK("http://x.example/?c=3","看")'
HOUSEHOLD_NO = "=2+3"
TOWN, VILLAGE = "=1+2镇", "+西关社区"

# head name → household number; every household is a new approval of M (audit_sample_rate 1 below)
HEADS = {HYPERLINK: HOUSEHOLD_NO, CMD: "H-CMD", AT_SUM: "H-AT", MINUS: "H-MINUS", TAB: "H-TAB", "章十七": "H-DROP"}


def normalized_name(raw: str) -> str:
    """What name normalization makes of a name: every whitespace dropped (lim/ingest/normalize.py)."""
    return re.sub(r"\s", "", raw)


def read_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def read_cells(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [c for row in csv.reader(f) for c in row]


# IDs as a careless department types them, in rows quarantined for another cell (a wage "abc")
# or for the ID itself (17 and 19 digits)
SPACED_ID = make_id("19800101", 901)
WIDE_ID = make_id("19800101", 902)
SHORT_ID = make_id("19800101", 903)[:17]
LONG_ID = make_id("19800101", 904) + "5"
CARELESS_IDS = {
    "spaces": (SPACED_ID, f"{SPACED_ID[:6]} {SPACED_ID[6:14]} {SPACED_ID[14:]}"),
    "full_width": (WIDE_ID, WIDE_ID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))),
    "17_digits": (SHORT_ID, SHORT_ID),
    "19_digits": (LONG_ID, LONG_ID),
}


def hostile_policy(tmp_path: Path) -> str:
    text = Path(TEST_POLICY).read_text(encoding="utf-8")
    text = text.replace("田镇街道", TOWN).replace("西关社区", VILLAGE).replace("audit_sample_rate: 0.3", "audit_sample_rate: 1")
    p = tmp_path / "policy.yaml"
    p.write_text(text, encoding="utf-8")
    return str(p)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    hh, members, hr, education = [], [], [], []
    for i, (head, hid) in enumerate(HEADS.items()):
        pid = make_id(ADULT, 100 + i)
        hh.append(dict(household_id=hid, region_code=URBAN, urban_rural="城市", assistance_type="低保", since_month=M,
                       monthly_benefit=1000, other_income=0, financial_assets=0, last_review_date="2026-05-15"))
        members.append(dict(household_id=hid, id_number=pid, name=head, relation="户主", labor_capacity="有"))
        hr.append(dict(id_number=pid, name=head, employment_status="未就业"))
    child = make_id(CHILD, 150)
    members.append(dict(household_id="H-DROP", id_number=child, name=MEMBER, relation="子女", labor_capacity="无"))
    education.append(dict(id_number=child, name=MEMBER, stage="初中", school="青城镇中学", enrollment_status="辍学",
                          annual_fees=800, aid_received=0))
    for kind, (_, typed) in CARELESS_IDS.items():
        hr.append(dict(id_number=typed, name="=1+2" if kind == "spaces" else "赵某", employment_status="就业",
                       monthly_wage="abc"))
    write_month(root / "landing", M, {"civil_affairs_households": hh, "civil_affairs_members": members, "hr": hr,
                                      "education": education})
    env = run_months(root, [M], policy=hostile_policy(root))
    folder = env["out"] / M
    town_files = sorted((folder / "alerts").glob("370322001_*.csv"))
    assert len(town_files) == 1
    return {**env, "folder": folder, "town_file": town_files[0]}


def _files(hostile) -> dict[str, list[dict]]:
    folder = hostile["folder"]
    return {"town": read_rows(hostile["town_file"]), "alerts_all": read_rows(folder / "alerts_all.csv"),
            "audit_sample": read_rows(folder / "audit_sample.csv")}


# --- CWE-1236: one test per attack ----------------------------------------------------------------
@pytest.mark.parametrize("head", [HYPERLINK, CMD, AT_SUM, MINUS, TAB], ids=["hyperlink", "cmd", "at_sum", "minus", "tab"])
def test_hostile_head_name_is_text_in_every_staff_csv(hostile, head):
    expected = "'" + normalized_name(head)
    assert expected[1] in "=+-@"  # the tab case: normalization turned "\t=1+2" into "=1+2"
    for name, rows in _files(hostile).items():
        got = [r["户主姓名"] for r in rows if r["家庭编号"] == safe_cell(HEADS[head])]
        assert got and set(got) == {expected}, (name, got)


def test_household_number_starting_with_equals(hostile):
    for name, rows in _files(hostile).items():
        got = {r["家庭编号"] for r in rows if r["户主姓名"] == "'" + HYPERLINK}
        assert got == {"'" + HOUSEHOLD_NO}, (name, got)
    con = duckdb.connect(str(hostile["warehouse"]), read_only=True)  # the warehouse keeps the value as delivered
    assert con.sql("select count(*) from alerts where household_id = ?", params=[HOUSEHOLD_NO]).fetchall()[0][0] > 0
    con.close()


def test_town_and_village_names_of_the_policy_file(hostile):
    assert hostile["town_file"].name == f"370322001_{TOWN}.csv"
    for name, rows in _files(hostile).items():
        assert rows and {r["乡镇(街道)"] for r in rows} == {"'" + TOWN}, name
        assert {r["村(社区)"] for r in rows} == {"'" + VILLAGE}, name


def test_reason_that_starts_with_the_members_name(hostile):
    for name in ("town", "alerts_all"):
        rows = [r for r in _files(hostile)[name] if r["家庭编号"] == "H-DROP" and MEMBER in r["预警原因"]]
        assert len(rows) == 1, name
        assert rows[0]["预警原因"].startswith("'" + MEMBER + "（"), rows[0]["预警原因"]


def test_no_cell_of_any_csv_starts_a_formula_and_numbers_stay_numbers(hostile):
    files = sorted(hostile["folder"].rglob("*.csv"))
    assert {p.name for p in files} >= {"alerts_all.csv", "audit_sample.csv", "hr.csv", hostile["town_file"].name}
    for p in files:
        for cell in read_cells(p):
            assert not cell.startswith(TRIGGERS) and not cell.lstrip().startswith(TRIGGERS[:4]), (p.name, cell)
    for rows in _files(hostile).values():
        for r in rows:
            for col in NUMERIC_COLUMNS & set(r):
                assert r[col] == "" or re.fullmatch(r"-?\d+(\.\d+)?", r[col]), (col, r[col])
    all_rows = read_rows(hostile["folder"] / "alerts_all.csv")
    assert {r["低保标准"] for r in all_rows} == {"1000"} and {r["家庭人口"] for r in all_rows} >= {"1", "2"}


def test_writer_keeps_numbers_and_neutralizes_text(tmp_path):
    """Numbers by value type (int, float, Decimal) or, for text, by column (NUMERIC_COLUMNS)."""
    from decimal import Decimal

    p = tmp_path / "x.csv"
    write_csv(p, ["人均月收入", "家庭人口", "预警原因", "户主姓名"],
              [["-12.5", -3, "-12.5", " =1+2"], [-12.5, Decimal("-1.5"), "+86 电话", "@x"], ["-2+3", "", "\r=1", "张三"]])
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and p.stat().st_mode & 0o077 == 0
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[1] == ["-12.5", "-3", "'-12.5", "' =1+2"]
    assert rows[2] == ["-12.5", "-1.5", "'+86 电话", "'@x"]
    assert rows[3][0] == "'-2+3" and rows[3][1] == "" and rows[3][3] == "张三"
    assert safe_cell("\t=1") == "'\t=1" and safe_cell(None) == "" and safe_cell("a=1") == "a=1"
    # the staff lists' rows rendered once for a town's list and alerts_all.csv: the same bytes
    header, rows = ["人均月收入", "家庭人口", "预警原因", "户主姓名"], [
        ["-12.5", -3, "-12.5", " =1+2"], [-12.5, Decimal("-1.5"), "+86 电话", "@x"], ["-2+3", "", "\r=1", "张三"],
        ["1,5", None, 'say "hi"\nnext line', "<r>x</r>"]]
    write_csv(p, header, rows)
    head, lines = csv_lines(header, rows)
    write_csv_lines(tmp_path / "y.csv", head, lines)
    assert (tmp_path / "y.csv").read_bytes() == p.read_bytes() and len(lines) == len(rows)
    assert (tmp_path / "y.csv").stat().st_mode & 0o077 == 0


# --- masking of careless IDs in quarantine CSVs ---------------------------------------------------
_SEPARATORS = re.compile(r"[\s\-._·]")


@pytest.mark.parametrize("kind", list(CARELESS_IDS))
def test_careless_id_is_masked_in_the_quarantine_csv(hostile, kind):
    real, typed = CARELESS_IDS[kind]
    text = "\n".join(read_cells(hostile["folder"] / "quarantine" / "hr.csv"))
    canonical = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    assert real[6:-4] not in canonical, kind  # the birth date and sequence number are never shown
    assert typed not in text
    assert real[:6] + "*" * (len(real) - 10) + real[-4:] in text, kind
    con = duckdb.connect(str(hostile["warehouse"]), read_only=True)  # the restricted warehouse keeps it as delivered
    assert con.sql("select count(*) from quarantine where contains(raw, ?)", params=[typed]).fetchall()[0][0] == 1
    con.close()


def test_mask_ids_in_text_cases():
    assert mask_ids_in_text("370322 19800101 0071") == "370322********0071"
    assert mask_ids_in_text("３７０３２２１９８００１０１００７Ｘ") == "370322********007X"
    assert mask_ids_in_text("ID:370322-1980-0101-0071，月工资 1500 元") == "ID:370322********0071，月工资 1500 元"
    assert mask_ids_in_text("3703221980010100") == "370322******0100"
    assert mask_ids_in_text("37032219800101007115") == "370322**********7115"
    assert mask_ids_in_text("370322\u200b198001010071") == "370322********0071"
    # not ID-like: dates, village codes, amounts, phone numbers
    for text in ("2026-06-10", "370322101201", "12345.67", "13800138000", '{"a":"2026-06-10","b":"370322101201"}'):
        assert mask_ids_in_text(text) == text
    assert mask_ids_in_text("370322198001010071", full=True) == "370322198001010071"


# --- locations that could hurt the inputs ---------------------------------------------------------
def _digest(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (symlinks as their target path), bytes."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            out[p.relative_to(folder).as_posix()] = b"->" + str(p.readlink()).encode()
        elif p.is_file():
            out[p.relative_to(folder).as_posix()] = p.read_bytes()
    return out


@pytest.fixture
def delivered(tmp_path):
    """A landing month with CSVs and a delivered hr.parquet, and a warehouse that holds a table."""
    import polars as pl

    pid = make_id(ADULT, 7)
    landing = tmp_path / "landing"
    write_month(landing, M, {
        "civil_affairs_households": [dict(household_id="H1", region_code=URBAN, urban_rural="城市", assistance_type="低保",
                                          since_month="2024-01", monthly_benefit=1000, other_income=0,
                                          last_review_date="2026-05-15")],
        "civil_affairs_members": [dict(household_id="H1", id_number=pid, name="张三", relation="户主", labor_capacity="有")],
    })
    pl.DataFrame({"公民身份号码": [pid], "姓名": ["张三"], "就业状态": ["未就业"]}).write_parquet(landing / M / "hr.parquet")
    wh = tmp_path / "wh" / "warehouse.duckdb"
    wh.parent.mkdir()
    con = duckdb.connect(str(wh))
    con.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    con.close()
    return {"landing": landing, "warehouse": wh, "before": _digest(landing), "wh_bytes": wh.read_bytes(),
            "root": tmp_path}


def _run(delivered, monkeypatch, capsys, **over) -> tuple[int, str]:
    from pipelines.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(delivered["root"] / "dh"))
    paths = {"landing": delivered["landing"], "warehouse": delivered["warehouse"], "out": delivered["root"] / "out",
             "staged": delivered["root"] / "staged", **over}
    args = ["run", "--month", M, "--policy", TEST_POLICY, "--no-history"]
    for k, v in paths.items():
        args += [f"--{k}", str(v)]
    rc = main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误："), err
    return rc, lines[0]


def _untouched(delivered) -> None:
    assert _digest(delivered["landing"]) == delivered["before"]
    assert delivered["warehouse"].read_bytes() == delivered["wh_bytes"]
    assert not (delivered["root"] / "out").exists() and not (delivered["root"] / "staged").exists()
    assert not (delivered["warehouse"].parent / "locks").exists()


def test_out_equal_to_landing_is_refused_by_the_lim_command(delivered):
    import os
    import subprocess
    import sys

    lim = str(Path(sys.executable).parent / "lim")
    r = subprocess.run([lim, "run", "--month", M, "--landing", str(delivered["landing"]), "--out", str(delivered["landing"]),
                        "--warehouse", str(delivered["warehouse"]), "--policy", TEST_POLICY],
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, "DAGSTER_HOME": str(delivered["root"] / "dh")})
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert "输出目录（--out）与落地目录（--landing）是同一位置" in lines[0]
    assert _digest(delivered["landing"]) == delivered["before"]
    assert delivered["warehouse"].read_bytes() == delivered["wh_bytes"]


@pytest.mark.parametrize("case", ["staged_is_landing", "out_inside_landing", "landing_inside_out", "warehouse_inside_landing",
                                  "staged_is_out", "out_symlink_to_landing", "landing_via_dotdot", "analyst_is_warehouse",
                                  "warehouse_inside_staged"])
def test_overlapping_locations_are_refused_before_anything_runs(delivered, monkeypatch, capsys, case):
    root, landing = delivered["root"], delivered["landing"]
    expect = {"staged_is_landing": ("暂存目录", "落地目录", "同一位置"), "out_inside_landing": ("输出目录", "落地目录", "之内"),
              "landing_inside_out": ("落地目录", "输出目录", "之内"), "warehouse_inside_landing": ("数据仓库", "落地目录"),
              "staged_is_out": ("暂存目录", "输出目录", "同一位置"), "out_symlink_to_landing": ("输出目录", "落地目录", "同一位置"),
              "landing_via_dotdot": ("暂存目录", "落地目录"), "analyst_is_warehouse": ("分析库副本", "数据仓库", "覆盖"),
              "warehouse_inside_staged": ("数据仓库", "暂存目录", "之内")}[case]
    over = {}
    if case == "staged_is_landing":
        over = {"staged": landing}
    elif case == "out_inside_landing":
        over = {"out": landing / "out"}
    elif case == "landing_inside_out":
        over = {"out": root}
    elif case == "warehouse_inside_landing":
        over = {"warehouse": landing / M / "warehouse.duckdb"}
    elif case == "staged_is_out":
        over = {"staged": root / "out"}
    elif case == "out_symlink_to_landing":
        (root / "link").symlink_to(landing)
        over = {"out": root / "link"}
    elif case == "landing_via_dotdot":
        over = {"staged": root / "wh" / ".." / "landing" / M}
    elif case == "analyst_is_warehouse":
        monkeypatch.setenv("LIM_ANALYST_DB", str(delivered["warehouse"]))
    else:
        over = {"staged": delivered["warehouse"].parent}
    rc, line = _run(delivered, monkeypatch, capsys, **over)
    assert rc == 2
    for word in expect:
        assert word in line, line
    if case == "out_symlink_to_landing":
        (root / "link").unlink()
    if case != "staged_is_out" and case != "landing_inside_out" and case != "warehouse_inside_staged":
        _untouched(delivered)
    else:
        assert _digest(landing) == delivered["before"] and delivered["warehouse"].read_bytes() == delivered["wh_bytes"]


def test_analyst_copy_over_the_warehouse_is_refused(delivered, tmp_path):
    import os
    import subprocess
    import sys

    from lim.publish.analyst_copy import AnalystCopyError, build_analyst_copy

    wh = delivered["warehouse"]
    (tmp_path / "wh_link").symlink_to(wh)
    lim = str(Path(sys.executable).parent / "lim")
    env = {**os.environ, "LIM_PSEUDONYM_KEY": "k" * 40}
    for args, extra in ((["--dest", str(wh)], {}), (["--dest", str(tmp_path / "wh_link")], {}),
                        ([], {"LIM_ANALYST_DB": str(wh)}), (["--dest", f"{wh}.wal"], {})):
        r = subprocess.run([lim, "analyst-copy", "--warehouse", str(wh), *args], capture_output=True, text=True,
                           timeout=120, env={**env, **extra})
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert r.returncode == 2 and len(lines) == 1 and "分析库副本" in lines[0], (args, r.stderr)
        assert wh.read_bytes() == delivered["wh_bytes"]
    con = duckdb.connect(str(wh))  # the asset's path: the open warehouse connection
    try:
        with pytest.raises(AnalystCopyError, match="数据仓库"):
            build_analyst_copy(con, tmp_path / "wh_link")
        assert con.sql("SELECT answer FROM kept").fetchall() == [(42,)]
    finally:
        con.close()


def test_landing_file_linking_outside_the_landing_folder_is_refused(delivered, monkeypatch, capsys, tmp_path):
    from lim.core.paths import landing_links_outside

    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("公民身份号码,姓名\n", encoding="utf-8")
    landing = delivered["landing"]
    (landing / "spare.csv").write_text("x\n", encoding="utf-8")
    (landing / M / "education.csv").unlink(missing_ok=True)
    (landing / M / "education.csv").symlink_to(landing / "spare.csv")  # inside the landing folder: allowed
    assert landing_links_outside(landing, M) == []
    (landing / M / "health.csv").unlink(missing_ok=True)
    (landing / M / "health.csv").symlink_to(secret)
    assert landing_links_outside(landing, M) == [(f"{M}/health.csv", secret.resolve())]
    delivered["before"] = _digest(landing)
    rc, line = _run(delivered, monkeypatch, capsys)
    assert rc == 2 and f"{M}/health.csv" in line and "符号链接" in line, line
    _untouched(delivered)
    # the month folder itself linking outside
    (landing / M / "health.csv").unlink()
    (landing / "2026-07").symlink_to(tmp_path / "elsewhere")
    assert landing_links_outside(landing, "2026-07") == [("2026-07", (tmp_path / "elsewhere").resolve())]
