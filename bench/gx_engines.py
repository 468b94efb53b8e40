"""GX's two engines on one staged month (issue #19 item 5): the contract's expectations counted by
DuckDB and rendered by GX (LIM_GX_ENGINE=duckdb) against GX evaluating them on pandas frames
(LIM_GX_ENGINE=pandas; a month over LIM_GX_CHILD_ROWS in a child process, as `quality_results`
does), each in a fresh process of its own, timed with its children; then the two results compared.

    python -m bench.run --size province --duckdb-memory 5GB --keep       # keeps <data>/work-province-*/staged
    python -m bench.gx_engines --staged bench/data/work-province-5000000/staged/2026-06 \
        [--out bench/results/gx-engines-province.json]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(staged: Path, engine: str, docs: Path, result: Path) -> None:
    from lim.core.contracts import SOURCES
    from lim.quality.build import gx_child_rows
    from lim.quality.expectations import run_suites_from_files, run_suites_in_child

    files = {s: staged / f"{s}.parquet" for s in SOURCES if (staged / f"{s}.parquet").exists()}
    rows = 0
    for s in files:
        load = staged / f"{s}.load.json"
        rows += json.loads(load.read_text(encoding="utf-8")).get("accepted") or 0 if load.exists() else 0
    run = run_suites_in_child if engine == "pandas" and rows > gx_child_rows() else run_suites_from_files
    out = run(staged.name, files, docs, engine=engine)
    result.write_text(json.dumps({s: {"success": v.success, "rows": v.rows, "results": v.results, "page": v.docs_page}
                                  for s, v in out.items()}, ensure_ascii=False, default=str), encoding="utf-8")


def measure(staged: Path, engine: str, work: Path) -> dict:
    docs, result = work / f"docs-{engine}", work / f"{engine}.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench.gx_engines", "--_child", engine, "--staged", str(staged),
                    "--docs", str(docs), "--result", str(result)], cwd=ROOT, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"engine": engine, "seconds": round(wall, 1),
            "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
            # the largest child so far (the pandas engine's own child process is reaped by its parent)
            "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
            "results": json.loads(result.read_text(encoding="utf-8")),
            "docs": {p.relative_to(docs).as_posix(): p.read_bytes() for p in sorted(docs.rglob("*.html"))}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gx_engines", description=__doc__.splitlines()[0])
    ap.add_argument("--staged", required=True, help="a staged month folder (<staged>/<YYYY-MM>)")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    ap.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--docs", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--result", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    staged = Path(a.staged).resolve()
    if a._child:
        _child(staged, a._child, Path(a.docs), Path(a.result))
        return 0
    with tempfile.TemporaryDirectory(prefix="lim-gx-engines-") as tmp:
        runs = [measure(staged, "duckdb", Path(tmp)), measure(staged, "pandas", Path(tmp))]
    same_results = runs[0]["results"] == runs[1]["results"]
    same_docs = runs[0]["docs"] == runs[1]["docs"]
    rows = sum(v["rows"] for v in runs[0]["results"].values())
    summary = {"staged": str(staged), "rows": rows, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "load_average": os.getloadavg(), "same_results": same_results, "same_data_docs": same_docs,
               "pages": len(runs[0]["docs"]),
               "runs": [{k: v for k, v in r.items() if k not in ("results", "docs")} for r in runs]}
    print("| engine | wall s | CPU s | peak RSS of a process |\n|---|---|---|---|")
    for r in summary["runs"]:
        print(f"| {r['engine']} | {r['seconds']} | {r['cpu_seconds']} | {r['peak_rss_mb'] / 1024:.2f} GB |")
    print(f"{rows:,} rows validated; same results: {same_results}; same Data Docs ({len(runs[0]['docs'])} pages): {same_docs}")
    if a.out:
        Path(a.out).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return 0 if same_results and same_docs else 1


if __name__ == "__main__":
    sys.exit(main())
