"""The `lim` command as an operator uses it: a landing folder outside the project, fatal
problems with one line saying what to fix, quarantine and refusals reported but not fatal."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TEST_POLICY
from tests.landing import make_id, write_month, bystander_roster

LIM = str(Path(sys.executable).parent / "lim")


def lim(*args, cwd=None, env_extra=None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([LIM, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope="module")
def outside(tmp_path_factory):
    root = tmp_path_factory.mktemp("outside")
    pid = make_id("19800101", 7)
    write_month(root / "landing", "2026-06", {
        **bystander_roster(),
        "rural_revitalization": [dict(rr_household_id="RR1", region_code="370322101201", id_number=pid, name="张 三",
                                      relation="户主", category="脱贫户", risk_eliminated="是", annual_net_income_per_capita=5000)],
        "hr": [dict(id_number=pid, name="张三", employment_status="就业", monthly_wage=900),
               dict(id_number="", name="李四", employment_status="就业", monthly_wage=900)],
    })
    return root


def test_run_on_a_landing_folder_outside_the_project(outside, tmp_path):
    r = lim("run", "--month", "2026-06", "--landing", str(outside / "landing"), "--warehouse", str(tmp_path / "w.duckdb"),
            "--out", str(tmp_path / "out"), "--policy", TEST_POLICY, cwd=tmp_path,
            env_extra={"DAGSTER_HOME": str(tmp_path / "dh")})
    assert r.returncode == 0, r.stderr
    assert "2026-06：完成" in r.stdout and "隔离行 1 行" in r.stdout
    assert (tmp_path / "out" / "2026-06" / "alerts_all.csv").exists()
    assert (tmp_path / "out" / "2026-06" / "quarantine" / "hr.csv").exists()
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    # pci 600 < 800, and 家庭年人均纯收入 5000 < 7300 (LOW_INCOME shock)
    assert sorted(con.sql("select alert_type from alerts").fetchall()) == [("DIBAO_OMISSION",), ("RELAPSE_RISK",)]
    con.close()


@pytest.mark.parametrize("case", ["no_month", "bad_policy", "bad_warehouse", "bad_month_text", "empty_month_folder",
                                  "policy_not_covering_month", "warehouse_under_a_file", "month_out_of_range"])
def test_fatal_problems_are_one_clear_line(outside, tmp_path, case):
    args = ["run", "--month", "2026-06", "--landing", str(outside / "landing"), "--warehouse", str(tmp_path / "w.duckdb"),
            "--out", str(tmp_path / "out"), "--policy", TEST_POLICY]
    if case == "no_month":
        args[2] = "2026-01"
        expect = "2026-01"
    elif case == "bad_policy":
        bad = tmp_path / "p.yaml"
        bad.write_text("counties:\n  '370322':\n    name: x\n    towns: {}\n    periods: []\n", encoding="utf-8")
        args[args.index(TEST_POLICY)] = str(bad)
        expect = "periods"
    elif case == "bad_warehouse":
        (tmp_path / "w.duckdb").write_bytes(b"this is not a duckdb file" * 100)
        expect = "数据仓库"
    elif case == "bad_month_text":
        args[2] = "2026-6"
        expect = "YYYY-MM"
    elif case == "empty_month_folder":  # a folder made for the month, nothing delivered into it
        landing = tmp_path / "landing"
        (landing / "2026-06").mkdir(parents=True)
        args[args.index(str(outside / "landing"))] = str(landing)
        expect = "空目录"
    elif case == "policy_not_covering_month":  # the only period starts after the month
        text = Path(TEST_POLICY).read_text(encoding="utf-8")
        first, second = text.index("- effective_from"), text.index('- effective_from: "2026-07"')
        late = tmp_path / "late.yaml"
        late.write_text(text[:first] + text[second:], encoding="utf-8")
        args[args.index(TEST_POLICY)] = str(late)
        expect = "2026-06 月的参数时段"
    elif case == "warehouse_under_a_file":
        (tmp_path / "afile").write_text("x", encoding="utf-8")
        args[args.index(str(tmp_path / "w.duckdb"))] = str(tmp_path / "afile" / "w.duckdb")
        expect = "afile"  # the warehouse path is named
    else:
        args[2] = "2019-12"
        expect = "不在可运行的范围内"
    r = lim(*args, cwd=tmp_path, env_extra={"DAGSTER_HOME": str(tmp_path / "dh")})
    assert r.returncode == 2
    lines = [l for l in r.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误：") and expect in lines[0], r.stderr
    assert not (tmp_path / "out" / "2026-06").exists()


def test_refused_file_is_reported_not_fatal(outside, tmp_path, monkeypatch, capsys):
    """(The CLI's main() in this process: the exit code and output of a real `lim run` process are
    covered by test_run_on_a_landing_folder_outside_the_project.)"""
    from pipelines.cli import main

    landing = tmp_path / "landing"
    import shutil
    shutil.copytree(outside / "landing", landing)
    (landing / "2026-06" / "education.csv").write_text("", encoding="utf-8")  # an empty file: refused
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    monkeypatch.chdir(tmp_path)
    rc = main(["run", "--month", "2026-06", "--landing", str(landing), "--warehouse", str(tmp_path / "w.duckdb"),
               "--out", str(tmp_path / "out"), "--policy", TEST_POLICY])
    r = capsys.readouterr()
    assert rc == 0, r.err
    assert "拒收 education" in r.out
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    status, rows_in, acc, q = con.sql("select status, rows_in, rows_accepted, rows_quarantined from load_log where source='education'").fetchall()[0]
    assert status == "empty_file" and (rows_in, acc, q) == (0, 0, 0)
    assert con.sql("select count(*) from quarantine where source='education'").fetchall()[0][0] == 0
    con.close()


def _two_month_landing(root: Path) -> tuple[Path, str]:
    """A roster household whose member died in 2026-05 (卫健委), still listed in 2026-06."""
    head, dead = make_id("19500101", 11), make_id("19520202", 12)
    hh = dict(household_id="MZH1", region_code="370322101201", urban_rural="农村", assistance_type="低保",
              since_month="2024-01", monthly_benefit=900, other_income=0, last_review_date="2026-03-01")
    members = [dict(household_id="MZH1", id_number=head, name="王一", relation="户主", labor_capacity="无"),
               dict(household_id="MZH1", id_number=dead, name="王二", relation="配偶", labor_capacity="无")]
    landing = root / "landing"
    write_month(landing, "2026-05", {"civil_affairs_households": [hh], "civil_affairs_members": members,
                                     "health": [dict(id_number=dead, name="王二", event_type="死亡", event_date="2026-05-20")]})
    write_month(landing, "2026-06", {"civil_affairs_households": [hh], "civil_affairs_members": members,
                                     "health": []})
    return landing, dead


def test_run_takes_earlier_landed_months_first(tmp_path, monkeypatch, capsys):
    """rules.md reads history from the months that have landed (a death in any landed month up to M):
    `lim run --month M` first runs the earlier landed months the warehouse has not run, in order,
    unless told not to (--no-history). (The CLI's main() in this process: the subprocess path is
    covered by the tests above.)"""
    from pipelines.cli import main

    landing, dead = _two_month_landing(tmp_path)
    args = ["run", "--month", "2026-06", "--landing", str(landing), "--warehouse", str(tmp_path / "w.duckdb"),
            "--out", str(tmp_path / "out"), "--policy", TEST_POLICY]
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))

    def state():
        con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
        try:
            return ([m for (m,) in con.sql("select distinct month from load_log order by 1").fetchall()],
                    con.sql("select member_id_number from alerts where month = '2026-06' "
                            "and alert_type = 'DECEASED_RECIPIENT'").fetchall())
        finally:
            con.close()

    assert main([*args, "--no-history"]) == 0
    out = capsys.readouterr().out
    assert "更早月份" not in out and state() == (["2026-06"], [])  # May's death unseen
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "更早月份 2026-05 已到达但尚未运行" in out and "2026-05：完成" in out
    assert state() == (["2026-05", "2026-06"], [(dead,)])


def test_a_month_that_cannot_run_runs_no_earlier_month_first(tmp_path, monkeypatch, capsys):
    """`lim run --month M` for a month that has not landed stops with one line before it runs the
    earlier landed months for their history (which would publish months nobody asked for)."""
    from pipelines.cli import main

    landing, _ = _two_month_landing(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    rc = main(["run", "--month", "2026-07", "--landing", str(landing), "--warehouse", str(tmp_path / "w.duckdb"),
               "--out", str(tmp_path / "out"), "--policy", TEST_POLICY])
    captured = capsys.readouterr()
    assert rc == 2 and "2026-07" in captured.err and "更早月份" not in captured.out
    assert not (tmp_path / "out" / "2026-05").exists() and not (tmp_path / "out" / "2026-06").exists()


@pytest.fixture(scope="module")
def may_published(tmp_path_factory) -> Path:
    """_two_month_landing with 2026-05 run by `lim run` (main()) once (warehouse w.duckdb, outputs out/);
    each case below works on its own copy of this folder."""
    from pipelines.cli import main

    root = tmp_path_factory.mktemp("may")
    landing, _ = _two_month_landing(root)
    mp = pytest.MonkeyPatch()  # the CLI's main() in this process: this run is not what is tested
    mp.setenv("DAGSTER_HOME", str(root / "dh"))
    mp.chdir(root)
    try:
        assert main(["run", "--month", "2026-05", "--landing", str(landing), "--warehouse", str(root / "w.duckdb"),
                     "--out", str(root / "out"), "--policy", TEST_POLICY]) == 0
    finally:
        mp.undo()
    return root


@pytest.mark.parametrize("how", ["missing", "refused", "all_rows_quarantined"])
def test_a_month_without_the_roster_stops_with_one_line(may_published, tmp_path, how):
    """extracts.md / interface.md: without an accepted civil_affairs_households and
    civil_affairs_members for M the run stops: exit 2, one line naming the file and the problem,
    nothing published, last month's outputs byte-identical."""
    tmp_path = tmp_path / "county"
    shutil.copytree(may_published, tmp_path, symlinks=True, ignore=shutil.ignore_patterns("dh"))
    landing = tmp_path / "landing"
    common = ["--landing", str(landing), "--warehouse", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out"),
              "--policy", TEST_POLICY]
    env = {"DAGSTER_HOME": str(tmp_path / "dh")}
    before = {p.relative_to(tmp_path / "out"): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    members = landing / "2026-06" / "civil_affairs_members.csv"
    if how == "missing":
        members.unlink()
    elif how == "refused":
        members.write_text("家庭编号,姓名\nMZH1,王一\n", encoding="utf-8")  # no ID column
    else:
        lines = members.read_text(encoding="utf-8").splitlines()
        members.write_text("\n".join([lines[0]] + [l.replace(l.split(",")[1], "不详", 1) for l in lines[1:]]) + "\n",
                           encoding="utf-8")
    r = lim("run", "--month", "2026-06", *common, cwd=tmp_path, env_extra=env)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [l for l in r.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误：") and "民政局救助台账" in lines[0], r.stderr
    assert ("civil_affairs_members" in lines[0]) if how == "missing" else ("civil_affairs_members.csv" in lines[0])
    assert not (tmp_path / "out" / "2026-06").exists()
    after = {p.relative_to(tmp_path / "out"): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert after == before
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.sql("select count(*) from alerts where month = '2026-06'").fetchall()[0][0] == 0
    con.close()
