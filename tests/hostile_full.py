"""The hostile files of the issue at full size, each in a month of its own through the real
pipeline (tests/pipeline/test_hostile_files.py runs them reduced). Not part of the test suite.

    PYTHONPATH=. .venv/bin/python -m tests.hostile_full                 # xlsx csv parquet cell clean
    PYTHONPATH=. .venv/bin/python -m tests.hostile_full csv --keep /tmp/h

For each attack: the scenario county's month (tests/scenario.py) with one file replaced by the
hostile one, then two measured child processes (bench/run.py run_measured: wall seconds, peak RSS
= max of the child's ru_maxrss and the RSS of its process tree sampled every 0.2 s, the reading
worker and the GX worker included):

* ``read``: ``read_raw`` of the file alone, in a process of its own (no worker, no bound on
  memory but the readers' own);
* ``month``: ``tests.runs.run_months`` of the month; prints the file's ``load_log`` row and
  whether the month was published.

Attacks: ``xlsx`` 20,000 rows each formatting one cell at column XFD (education.xlsx; read as it
is), ``csv`` a header of 1,000,000 columns (hr.csv, 8 MB), ``parquet`` a struct nested 500 deep
(housing.parquet), ``cell`` a 140,000-character cell (medical_insurance.csv); ``clean`` the month
without any, for comparison.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests import hostile, scenario
from tests.landing import write_month

M = scenario.M
ATTACKS = {
    "xlsx": ("education", "education.xlsx"),
    "csv": ("hr", "hr.csv"),
    "parquet": ("housing", "housing.parquet"),
    "cell": ("medical_insurance", "medical_insurance.csv"),
    "clean": ("hr", "hr.csv"),  # no attack: the same month as it is, for comparison
}


def build(root: Path, attack: str) -> Path:
    """<root>/landing/M with the attack's file; returns the file."""
    tables = scenario.tables_for(M, scenario.households())
    d = write_month(root / "landing", M, tables)
    source, name = ATTACKS[attack]
    path = d / name
    if attack == "clean":
        return path
    (d / f"{source}.csv").unlink()
    if attack == "xlsx":
        hostile.xlsx_styled_to_xfd(path, source, tables[source], hostile.FULL_XFD_ROWS)
    elif attack == "csv":
        hostile.csv_wide_header(path, source, tables[source], hostile.FULL_WIDE_COLUMNS)
    elif attack == "parquet":
        hostile.parquet_nested(path, source, tables[source], hostile.FULL_DEPTH)
    else:
        hostile.csv_long_cell(path, source, tables[source], "name", hostile.FULL_CELL, at=1)
    return path


def _read_one(path: str) -> None:
    from lim.ingest.readers import ReadError, read_raw

    try:
        t = read_raw(path)
        print(json.dumps({"read": "ok", "columns": len(t.header), "rows_in": t.rows_in}, ensure_ascii=False))
    except ReadError as e:
        print(json.dumps({"read": e.code, "detail": e.detail}, ensure_ascii=False))


def _run_month(root: str, source: str) -> None:
    import duckdb

    from tests.conftest import TEST_POLICY
    from tests.runs import run_months

    env = run_months(Path(root), [M], policy=TEST_POLICY)
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    row = con.execute("SELECT status, message, rows_in, rows_accepted, rows_quarantined FROM load_log WHERE month = ? AND source = ?",
                      [M, source]).fetchall()[0]
    con.close()
    print(json.dumps({"published": (Path(env["out"]) / M / "manifest.json").exists(), "load_log": row},
                     ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("attacks", nargs="*", help=f"some of {' '.join(ATTACKS)} (default: all)")
    ap.add_argument("--keep", help="build under this folder and keep it")
    ap.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--read-one", help=argparse.SUPPRESS)
    ap.add_argument("--run-month", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.build:
        print(build(Path(a.build[0]), a.build[1]))
        return 0
    if a.read_one:
        _read_one(a.read_one)
        return 0
    if a.run_month:
        _run_month(*a.run_month)
        return 0
    unknown = [x for x in a.attacks if x not in ATTACKS]
    if unknown:
        ap.error(f"unknown attack {unknown}; choose among {' '.join(ATTACKS)}")
    from bench.run import run_measured

    base = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        for attack in a.attacks or list(ATTACKS):
            root = base / attack
            shutil.rmtree(root, ignore_errors=True)
            # built in a process of its own: a child forked from this process would start its peak
            # RSS (ru_maxrss survives exec) at what building the files took here
            path = Path(subprocess.run([sys.executable, "-m", "tests.hostile_full", "--build", str(root), attack],
                                       check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
            print(f"== {attack}: {path.name}, {path.stat().st_size:,} bytes", flush=True)
            for what, cmd in (("read", ["--read-one", str(path)]),
                              ("month", ["--run-month", str(root), ATTACKS[attack][0]])):
                log = root / f"{what}.log"
                m = run_measured([sys.executable, "-m", "tests.hostile_full", *cmd], log=log)
                last = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.startswith("{")]
                print(f"  {what:5} exit {m['returncode']}, {m['seconds']} s, peak RSS {m['peak_rss_mb']} MB "
                      f"(largest process {m['ru_maxrss_mb']} MB, tree {m['sampled_tree_rss_mb']} MB): "
                      f"{last[-1] if last else log.read_text(errors='replace')[-500:]}", flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
