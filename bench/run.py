"""End-to-end benchmark: one month through the same code path as `lim run`, at a given size.

    python -m bench.run --size county|prefecture|province [--households N] [--reuse DIR]
                        [--out bench/results] [--data bench/data] [--duckdb-memory 6GB]
                        [--shards none|county] [--executor in_process|multiprocess] [--counties N]

1. Landing data: `python -m generator --households N --months 1 --start 2026-06 --seed 1
   --no-truth` into <data>/<size>-<N>/ (git-ignored), reused when it is already there (or the
   folder given with --reuse). Generation time is reported but is not part of the pipeline.
2. The month: a child process imports the project and calls `pipelines.runner.run_month`
   (what `lim run` calls: `dagster.materialize` of every asset and check of the month,
   in-process, recorded in a Dagster instance under the work folder) against a fresh warehouse.
   Per-stage wall time comes from the run's STEP_START/STEP_SUCCESS events; the total is the
   child's wall time from interpreter start to exit (imports, Dagster, everything).
3. The floors (bench/floor.py), in the same benchmark run, each in a process of its own: the
   floor on the month's staged Parquet (`floor_seconds`), and the raw floor on the month's landing
   CSVs (`raw_floor_seconds`, issue #19's floor: parsing and ID normalization included).
4. Peak memory: the child's ru_maxrss (wait4), and the sum of RSS over the child's process
   tree sampled every 0.2 s from /proc; the larger is reported.

County shards: `--shards` sets LIM_SHARDS and `--executor` LIM_EXECUTOR in the child's environment;
`--counties N` has the generator write N counties (`python -m generator --counties N`) into a data
folder of its own. A non-default choice gives the result file a suffix
(`prefecture-county-shards-multiprocess.json`). Steps of a dynamic output keep their mapping key
(`county_shard[360726]`) in `steps`; `critical_path` splits them from the global steps.

Results: <out>/<size>[-suffix].json (small), and a one-line summary on stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"county": 50_000, "prefecture": 500_000, "province": 5_000_000}
MONTH = "2026-06"
SEED = 1
SHARDS = ("none", "county")
EXECUTORS = ("in_process", "multiprocess")


# ---------------------------------------------------------------------------------------------
# machine and process measurements
# ---------------------------------------------------------------------------------------------
def machine() -> dict:
    mem = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            k, v = line.split(":", 1)
            mem[k] = int(v.split()[0])
    except OSError:
        pass
    model = ""
    try:
        model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                      if ln.startswith("model name")), "")
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "memory_gb": round(mem.get("MemTotal", 0) / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def versions() -> dict:
    out = {}
    for mod in ("dagster", "duckdb", "polars", "pyarrow", "great_expectations"):
        try:
            from importlib.metadata import version
            out[mod] = version(mod.replace("_", "-"))
        except Exception:  # noqa: BLE001
            out[mod] = None
    return out


class ForkserverCPU:
    """CPU seconds of the multiprocessing forkservers in the measured tree and of every process
    forked from them (read workers, the GX worker, workbook writers; the multiprocess executor's
    step processes): processes the measured child never waits for, so not in its wait4 figures.

    Sampled from /proc: each process's last seen utime+stime, plus what its reaped children used
    (cutime+cstime) less what was already counted for the children seen before they were reaped.
    A forked child has its forkserver's command line, and its CPU is in the forkserver's cutime
    once reaped: counted under both pids, it was counted twice (the figures before 2026-12-05
    15:00, bench/PERF.md "CPU seconds counted twice")."""

    def __init__(self) -> None:
        self.n = 0                                               # samples taken
        self.last: dict[int, tuple[int, float, float, int]] = {}  # pid -> (ppid, own, children, sample)

    TICK = os.sysconf("SC_CLK_TCK")  # /proc's clock ticks a second

    def see(self, pid: int, ppid: int, fields: list[str]) -> None:
        own = (int(fields[11]) + int(fields[12])) / self.TICK
        children = (int(fields[13]) + int(fields[14])) / self.TICK
        self.last[pid] = (ppid, own, children, self.n)

    def total(self) -> float:
        reaped: dict[int, float] = {}  # parent -> the seen children gone before its own last sample
        for pid, (ppid, own, children, n) in self.last.items():
            parent = self.last.get(ppid)
            if parent is not None and n < parent[3]:
                reaped[ppid] = reaped.get(ppid, 0.0) + own + children
        return sum(own + max(0.0, children - reaped.get(pid, 0.0)) for pid, (_, own, children, _) in self.last.items())


def _tree_rss_kb(pid: int, cpu: ForkserverCPU | None = None) -> int:
    """Sum of VmRSS over pid and its descendants (from /proc); with `cpu`, a sample of the
    forkservers' CPU (ForkserverCPU)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            f = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError, ValueError):
            continue
        stats[int(d.name)] = f
        children.setdefault(int(f[1]), []).append(int(d.name))
    total, todo = 0, [pid]
    if cpu is not None:
        cpu.n += 1
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
            if cpu is not None and p != pid and p in stats and b"forkserver" in Path(f"/proc/{p}/cmdline").read_bytes():
                cpu.see(p, int(stats[p][1]), stats[p])
        except (OSError, ValueError):
            pass
    return total


def run_measured(cmd: list[str], env: dict | None = None, log: Path | None = None) -> dict:
    """Run cmd; wall time, exit code, peak RSS (max of ru_maxrss and the sampled tree sum)."""
    peak = [0]
    forkserver_cpu = ForkserverCPU()
    t0 = time.perf_counter()
    fh = open(log, "w", encoding="utf-8") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT if log else None)
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid, forkserver_cpu))
            done.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    if log:
        fh.close()
    return {"seconds": round(wall, 2), "returncode": proc.returncode,
            "peak_rss_mb": round(max(ru.ru_maxrss, peak[0]) / 1024, 1),
            "ru_maxrss_mb": round(ru.ru_maxrss / 1024, 1), "sampled_tree_rss_mb": round(peak[0] / 1024, 1),
            "user_cpu_s": round(ru.ru_utime, 1), "sys_cpu_s": round(ru.ru_stime, 1),
            "forkserver_cpu_s": round(forkserver_cpu.total(), 1)}


# ---------------------------------------------------------------------------------------------
# landing data
# ---------------------------------------------------------------------------------------------
def generator_takes(option: str) -> bool:
    """Whether `python -m generator` knows `option` (from its --help)."""
    out = subprocess.run([sys.executable, "-m", "generator", "--help"], cwd=ROOT, capture_output=True, text=True)
    return option in out.stdout


def ensure_landing(size: str, households: int, data: Path, reuse: str | None, messy_rate: float,
                   counties: int | None = None) -> tuple[Path, dict]:
    if reuse:
        landing = Path(reuse)
        if not (landing / MONTH).is_dir():
            raise SystemExit(f"--reuse {landing}: no {MONTH}/ folder in it")
        return landing, {"generated": False, "reused": str(landing)}
    name = (f"{size}-{households}" + (f"-counties{counties}" if counties else "")
            + (f"-messy{messy_rate}" if messy_rate else ""))
    landing = data / name
    marker = landing / ".complete"
    if marker.exists():
        return landing, {"generated": False, "reused": str(landing), **json.loads(marker.read_text())}
    shutil.rmtree(landing, ignore_errors=True)
    cmd = [sys.executable, "-m", "generator", "--households", str(households), "--months", "1", "--start", MONTH,
           "--seed", str(SEED), "--out", str(landing), "--no-truth", "--messy-rate", str(messy_rate)]
    if counties:
        if not generator_takes("--counties"):
            raise SystemExit(f"--counties {counties}: this generator does not take --counties yet (`python -m generator "
                             "--help` lists no such option; it is being added). Run without --counties, or give "
                             "a landing folder of several counties with --reuse.")
        cmd += ["--counties", str(counties)]
    print(f"generating {households:,} households into {landing} ...", file=sys.stderr, flush=True)
    m = run_measured(cmd, log=data / f"{name}.generate.log")
    if m["returncode"] != 0:
        log = data / f"{name}.generate.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        if counties and "--counties" in text and ("unrecognized" in text or "invalid" in text):
            raise SystemExit(f"the generator rejected --counties {counties}: {text.strip().splitlines()[-1]} "
                             f"(see {log})")
        raise SystemExit(f"generator failed, see {log}")
    info = {"generate_seconds": m["seconds"], "generate_peak_rss_mb": m["peak_rss_mb"]}
    marker.write_text(json.dumps(info))
    return landing, {"generated": True, **info}


def landing_bytes(landing: Path) -> int:
    return sum(p.stat().st_size for p in (landing / MONTH).rglob("*") if p.is_file())  # county sub-folders too


# ---------------------------------------------------------------------------------------------
# steps of dynamic outputs (county shards)
# ---------------------------------------------------------------------------------------------
def split_step_key(step_key: str) -> tuple[str, str | None]:
    """`county_shard[360726]` → ("county_shard", "360726"); a step without a mapping key → (key, None)."""
    if "[" in step_key and step_key.endswith("]"):
        op, key = step_key.split("[", 1)
        return op, key[:-1]
    return step_key, None


def critical_path(steps: dict) -> dict:
    """The global steps (step keys without `[`) against the mapped ones (`op[key]`: the county
    shards), from the `steps` of a result (each with `seconds`).

    `serial_seconds` is every step one after another (the in-process executor); `critical_path_seconds`
    is the global steps one after another plus the slowest mapping key (the sum of its steps), as
    if the shards of different keys ran side by side; `global_share` is the global steps' part of
    it. Per op: count, sum and max of its mapped steps."""
    glob = {k: v["seconds"] for k, v in steps.items() if "[" not in k}
    mapped = {k: v["seconds"] for k, v in steps.items() if "[" in k}
    per_key: dict[str, float] = {}
    per_op: dict[str, dict] = {}
    for k, sec in mapped.items():
        op, key = split_step_key(k)
        per_key[key or k] = per_key.get(key or k, 0.0) + sec
        o = per_op.setdefault(op, {"count": 0, "sum_seconds": 0.0, "max_seconds": 0.0, "max_key": None})
        o["count"] += 1
        o["sum_seconds"] += sec
        if sec >= o["max_seconds"]:
            o["max_seconds"], o["max_key"] = sec, key
    g = sum(glob.values())
    slowest = max(per_key, key=per_key.get) if per_key else None
    shard_max = per_key[slowest] if slowest else 0.0
    crit = g + shard_max
    r3 = lambda x: round(x, 3)  # noqa: E731
    return {"global_steps": len(glob), "global_seconds": r3(g),
            "shard_steps": len(mapped), "shard_keys": len(per_key),
            "shard_sum_seconds": r3(sum(mapped.values())), "shard_max_seconds": r3(shard_max),
            "slowest_key": slowest, "serial_seconds": r3(g + sum(mapped.values())),
            "critical_path_seconds": r3(crit), "global_share": round(g / crit, 3) if crit else None,
            "by_op": {op: {**o, "sum_seconds": r3(o["sum_seconds"]), "max_seconds": r3(o["max_seconds"])}
                      for op, o in sorted(per_op.items())}}


def result_name(size: str, shards: str = "none", executor: str = "in_process", counties: int | None = None) -> str:
    """<size>, with a suffix for each non-default choice: prefecture-county-shards-multiprocess."""
    parts = [size]
    if counties:
        parts.append(f"{counties}-counties")
    if shards != "none":
        parts.append(f"{shards}-shards")
    if executor != "in_process":
        parts.append(executor.replace("_", "-"))
    return "-".join(parts)


# ---------------------------------------------------------------------------------------------
# the child: one month through run_month
# ---------------------------------------------------------------------------------------------
def child(cfg_path: str) -> int:
    t_start = time.perf_counter()
    cfg = json.loads(Path(cfg_path).read_text())
    os.environ["DAGSTER_HOME"] = cfg["dagster_home"]
    import dagster as dg

    from pipelines.definitions import ALL_ASSETS, all_checks, build_resources
    from pipelines.runner import dagster_instance, run_month
    t_imported = time.perf_counter()

    resources = build_resources(warehouse=cfg["warehouse"], landing=cfg["landing"], out=cfg["out"],
                                policy=cfg["policy"], staged=cfg["staged"])
    # CPU seconds of this process over time, to give each step its CPU time (wall time on a
    # shared machine mostly measures the other processes)
    cpu_marks: list[tuple[float, float, int]] = []
    stop = threading.Event()
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024

    def sample_cpu():
        with open("/proc/self/statm") as statm:
            while not stop.is_set():
                t = os.times()
                statm.seek(0)
                rss_kb = int(statm.read().split()[1]) * page_kb
                cpu_marks.append((time.time(), t.user + t.system, rss_kb))
                stop.wait(0.05)

    sampler = threading.Thread(target=sample_cpu, daemon=True)
    sampler.start()
    t_run0 = time.perf_counter()
    outcome = run_month(cfg["month"], resources, instance=dagster_instance())
    t_run1 = time.perf_counter()
    stop.set()
    sampler.join()

    def rss_between(a: float, b: float) -> float:
        vals = [m[2] for m in cpu_marks if a <= m[0] <= b]
        return round(max(vals) / 1024, 1) if vals else 0.0

    def cpu_at(ts: float) -> float:
        import bisect
        i = bisect.bisect_right([m[0] for m in cpu_marks], ts)
        return cpu_marks[max(0, min(i, len(cpu_marks)) - 1)][1] if cpu_marks else 0.0

    groups = {}
    for a in ALL_ASSETS:
        for g in a.group_names_by_key.values():
            # the county shards are a graph of ops (steps `county_shards.<op>`): their own stage
            groups[a.node_def.name] = "shards" if isinstance(a.node_def, dg.GraphDefinition) else g
    for c in all_checks():
        groups[c.op.name] = "checks"
    instance = dg.DagsterInstance.get()
    starts, steps = {}, {}
    for e in instance.all_logs(outcome.run_id):
        ev = e.dagster_event
        if ev is None or not ev.step_key:
            continue
        if ev.event_type == dg.DagsterEventType.STEP_START:
            starts[ev.step_key] = e.timestamp
        elif ev.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            t0 = starts.get(ev.step_key, e.timestamp)
            op, key = split_step_key(ev.step_key)
            steps[ev.step_key] = {"seconds": round(e.timestamp - t0, 3),
                                  "cpu_seconds": round(cpu_at(e.timestamp) - cpu_at(t0), 2),
                                  "peak_rss_mb": rss_between(t0, e.timestamp),
                                  "group": groups.get(op, groups.get(op.split(".")[0], "other")),
                                  "ok": ev.event_type == dg.DagsterEventType.STEP_SUCCESS}
            if key is not None:  # a dynamic output's step, kept per mapping key
                steps[ev.step_key] |= {"op": op, "mapping_key": key}
    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}
    for s in steps.values():
        stages[s["group"]] = round(stages.get(s["group"], 0) + s["seconds"], 3)
        stages_cpu[s["group"]] = round(stages_cpu.get(s["group"], 0) + s["cpu_seconds"], 2)

    import duckdb
    con = duckdb.connect(cfg["warehouse"], read_only=True)
    q = lambda sql: con.sql(sql, params=[cfg["month"]]).fetchall()[0][0]  # noqa: E731
    counts = {"landing_rows": q("SELECT sum(rows_in) FROM load_log WHERE month = ?"),
              "accepted_rows": q("SELECT sum(rows_accepted) FROM load_log WHERE month = ?"),
              "persons": q("SELECT count(*) FROM persons_monthly WHERE month = ?"),
              "households_considered": q("SELECT count(*) FROM households_monthly WHERE month = ?"),
              "alerts": q("SELECT count(*) FROM alerts WHERE month = ?"),
              "register_rows": q("SELECT rows_in FROM load_log WHERE month = ? AND source = 'household_registration'")}
    con.close()
    res = {"success": outcome.success, "message": outcome.message, "run_id": outcome.run_id,
           "import_seconds": round(t_imported - t_start, 2), "run_month_seconds": round(t_run1 - t_run0, 2),
           "steps": dict(sorted(steps.items(), key=lambda kv: -kv[1]["seconds"])), "stages": stages,
           "stages_cpu": stages_cpu, "run_month_cpu_seconds": round(cpu_marks[-1][1] - cpu_marks[0][1], 2) if cpu_marks else None,
           "steps_sum_seconds": round(sum(s["seconds"] for s in steps.values()), 2), "counts": counts}
    Path(cfg["result"]).write_text(json.dumps(res, ensure_ascii=False, indent=1))
    return 0 if outcome.success else 1


# ---------------------------------------------------------------------------------------------
# the benchmark
# ---------------------------------------------------------------------------------------------
STAGE_ORDER = ["ingest", "reconcile", "rules", "quality", "checks", "publish"]


def bench(size: str, households: int, data: Path, out: Path, reuse: str | None, memory: str | None,
          keep: bool, messy_rate: float, skip_floor: bool, shards: str = "none", executor: str = "in_process",
          counties: int | None = None) -> dict:
    data.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    landing, gen = ensure_landing(size, households, data, reuse, messy_rate, counties)
    name = result_name(size if households == SIZES[size] else f"{households // 1000}k", shards, executor, counties)
    work = data / f"work-{name}-{households}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cfg = {"month": MONTH, "landing": str(landing), "warehouse": str(work / "wh" / "warehouse.duckdb"),
           "out": str(work / "out"), "staged": str(work / "staged"), "dagster_home": str(work / "dagster_home"),
           "policy": str(landing / "policy.yaml"), "result": str(work / "child.json")}
    (work / "cfg.json").write_text(json.dumps(cfg))
    env = dict(os.environ)
    env.pop("LIM_FAULT", None)
    if memory:
        env["LIM_DUCKDB_MEMORY"] = memory
    env["LIM_SHARDS"] = shards
    env["LIM_EXECUTOR"] = executor
    load0 = os.getloadavg()
    print(f"running {MONTH} of {landing} (load {load0[0]:.1f}) ...", file=sys.stderr, flush=True)
    m = run_measured([sys.executable, "-m", "bench.run", "--_child", str(work / "cfg.json")], env=env,
                     log=work / "child.log")
    if not Path(cfg["result"]).exists():
        raise SystemExit(f"the month did not finish, see {work / 'child.log'}")
    child_res = json.loads(Path(cfg["result"]).read_text())
    floor = None
    if not skip_floor:
        fl = run_measured([sys.executable, "-m", "bench.floor", "--staged", str(Path(cfg["staged"]) / MONTH),
                           "--memory", memory or env.get("LIM_DUCKDB_MEMORY", "6GB"), "--workdir", str(work),
                           "--json", str(work / "floor.json")], env=env, log=work / "floor.log")
        floor = json.loads((work / "floor.json").read_text())
        floor["process_seconds"] = fl["seconds"]
        floor["process_peak_rss_mb"] = fl["peak_rss_mb"]
        rf = run_measured([sys.executable, "-m", "bench.floor", "--landing", str(landing / MONTH),
                           "--memory", memory or env.get("LIM_DUCKDB_MEMORY", "6GB"), "--workdir", str(work),
                           "--json", str(work / "raw_floor.json")], env=env, log=work / "raw_floor.log")
        if rf["returncode"] != 0 or not (work / "raw_floor.json").exists():
            raise SystemExit(f"the raw floor failed, see {work / 'raw_floor.log'}")
        raw = json.loads((work / "raw_floor.json").read_text())
        raw["process_seconds"] = rf["seconds"]
        raw["process_peak_rss_mb"] = rf["peak_rss_mb"]
    load1 = os.getloadavg()
    counts = child_res["counts"]
    total = m["seconds"]
    res = {
        "size": size, "households": households, "month": MONTH, "seed": SEED, "messy_rate": messy_rate,
        "command": " ".join(["python -m bench.run", "--size", size]
                            + (["--households", str(households)] if households != SIZES[size] else [])
                            + (["--duckdb-memory", memory] if memory else [])
                            + (["--shards", shards] if shards != "none" else [])
                            + (["--executor", executor] if executor != "in_process" else [])
                            + (["--counties", str(counties)] if counties else [])),
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(), "versions": versions(),
        "load_average_before": [round(x, 2) for x in load0], "load_average_after": [round(x, 2) for x in load1],
        "duckdb_memory_limit": memory or os.environ.get("LIM_DUCKDB_MEMORY", "6GB"), "duckdb_threads": 2,
        "shards": shards, "executor": executor, "counties": counties,
        "landing": {"path": str(landing), "bytes": landing_bytes(landing), **gen},
        "success": child_res["success"], "message": child_res["message"],
        "total_seconds": total, "run_month_seconds": child_res["run_month_seconds"],
        "import_seconds": child_res["import_seconds"],
        "stages": {k: child_res["stages"].get(k, 0) for k in STAGE_ORDER if k in child_res["stages"]}
                  | {k: v for k, v in child_res["stages"].items() if k not in STAGE_ORDER},
        "stages_cpu_seconds": {k: child_res["stages_cpu"].get(k, 0) for k in STAGE_ORDER if k in child_res["stages_cpu"]},
        "cpu_seconds": round(m["user_cpu_s"] + m["sys_cpu_s"] + m["forkserver_cpu_s"], 1),
        "dagster_overhead_seconds": round(child_res["run_month_seconds"] - child_res["steps_sum_seconds"], 2),
        "steps": child_res["steps"],
        "critical_path": critical_path(child_res["steps"]),
        "peak_rss_mb": m["peak_rss_mb"], "process": m,
        "counts": counts,
        "rows_per_second": round((counts["landing_rows"] or 0) / total) if total else None,
        "floor_seconds": floor["seconds"] if floor else None,
        "floor_cpu_seconds": round(fl["user_cpu_s"] + fl["sys_cpu_s"], 1) if floor else None,
        "ratio_to_floor": round(total / floor["seconds"], 2) if floor and floor["seconds"] else None,
        "floor": {k: v for k, v in (floor or {}).items() if k != "sql"} or None,
        "raw_floor_seconds": raw["seconds"] if floor else None,
        "raw_floor_cpu_seconds": round(rf["user_cpu_s"] + rf["sys_cpu_s"], 1) if floor else None,
        "total_over_raw_floor": round(total / raw["seconds"], 2) if floor and raw["seconds"] else None,
        # CPU against CPU: on a shared machine the steadier ratio (the child's CPU includes the GX worker's)
        "cpu_over_raw_floor_cpu": (round((m["user_cpu_s"] + m["sys_cpu_s"] + m["forkserver_cpu_s"])
                                         / (rf["user_cpu_s"] + rf["sys_cpu_s"]), 2)
                                   if floor and rf["user_cpu_s"] + rf["sys_cpu_s"] else None),
        "raw_floor": {k: v for k, v in raw.items() if k != "sql"} if floor else None,
    }
    if households != SIZES[size]:  # a size of its own: named by its households
        res["size"] = f"{households // 1000}k"
    (out / f"{name}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return res


def summary(r: dict) -> str:
    st = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
    fl = (f"floor {r['floor_seconds']:.1f} s (x{r['ratio_to_floor']}), raw floor {r['raw_floor_seconds']:.1f} s "
          f"(x{r['total_over_raw_floor']}; CPU x{r.get('cpu_over_raw_floor_cpu')})" if r["floor_seconds"] else "floors not run")
    cpu = ", ".join(f"{k} {v:.1f}" for k, v in r.get("stages_cpu_seconds", {}).items())
    return (f"{r['size']} {r['households']:,} households, {r['counts']['landing_rows']:,} landing rows: "
            f"CPU {r.get('cpu_seconds')} s [{cpu}], floor CPU {r.get('floor_cpu_seconds')} s, "
            f"raw floor CPU {r.get('raw_floor_cpu_seconds')} s; "
            f"total {r['total_seconds']:.1f} s [{st}; dagster+imports "
            f"{r['total_seconds'] - sum(r['stages'].values()):.1f}], {fl}, peak RSS {r['peak_rss_mb']:,.0f} MB, "
            f"{r['rows_per_second']:,} rows/s, load {r['load_average_before'][0]:.1f}→{r['load_average_after'][0]:.1f}, "
            f"success={r['success']}" + _shard_note(r))


def _shard_note(r: dict) -> str:
    cp = r.get("critical_path") or {}
    choice = f"; shards={r.get('shards', 'none')}, executor={r.get('executor', 'in_process')}, counties={r.get('counties')}"
    if not cp.get("shard_steps"):
        return choice if (r.get("shards", "none") != "none" or r.get("executor", "in_process") != "in_process"
                          or r.get("counties")) else ""
    return (choice + f"; global steps {cp['global_seconds']:.1f} s, {cp['shard_steps']} shard steps over "
            f"{cp['shard_keys']} keys: sum {cp['shard_sum_seconds']:.1f} s, max {cp['shard_max_seconds']:.1f} s "
            f"({cp['slowest_key']}); global share {cp['global_share']}")


def main(argv=None) -> int:
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--_child":
        return child(sys.argv[2])
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="county")
    ap.add_argument("--households", type=int, default=None, help="override the size's household count")
    ap.add_argument("--reuse", default=None, help="an existing landing folder (with 2026-06/ and policy.yaml)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--data", default=str(ROOT / "bench" / "data"), help="generated landing and work folders")
    ap.add_argument("--duckdb-memory", default=None, help="DuckDB memory_limit (LIM_DUCKDB_MEMORY, default 6GB)")
    ap.add_argument("--messy-rate", type=float, default=0.0)
    ap.add_argument("--keep", action="store_true", help="keep the work folder (warehouse, staged, outputs)")
    ap.add_argument("--no-floor", action="store_true", help="run neither floor")
    ap.add_argument("--shards", choices=SHARDS, default="none", help="LIM_SHARDS of the child (county shards)")
    ap.add_argument("--executor", choices=EXECUTORS, default="in_process", help="LIM_EXECUTOR of the child")
    ap.add_argument("--counties", type=int, default=None,
                    help="generate N counties (python -m generator --counties N) into a data folder of their own")
    a = ap.parse_args(argv)
    if a.counties is not None and a.counties < 1:
        ap.error("--counties: at least 1")
    households = a.households or SIZES[a.size]
    # absolute: the child runs with DAGSTER_HOME under --data, which Dagster refuses relative
    r = bench(a.size, households, Path(a.data).resolve(), Path(a.out).resolve(),
              str(Path(a.reuse).resolve()) if a.reuse else None, a.duckdb_memory, a.keep, a.messy_rate,
              a.no_floor, a.shards, a.executor, a.counties)
    print(summary(r))
    return 0 if r["success"] else 1


if __name__ == "__main__":
    sys.exit(main())
