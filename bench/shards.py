"""County shards: how the month's wall time falls with the number of shards run side by side
(issue #19), from the benchmark results of one landing of several counties:

    python -m bench.run --size prefecture --counties 4                                     # whole
    python -m bench.run --size prefecture --counties 4 --shards county                     # 1 at a time
    python -m bench.run --size prefecture --counties 4 --shards county --executor multiprocess   # 2 at a time
    python -m bench.shards [--results bench/results] [--size prefecture] [--counties 4]

Reads <size>-<N>-counties[-county-shards[-multiprocess]].json, prints a Markdown table (measured:
whole, shards one at a time, shards two at a time; per-county step times; the critical path and the
global steps' share) and writes <results>/<size>-shards.svg: wall time against the number of
parallel shard slots, measured for 1 and 2 and projected past them. The projection is the
critical-path model of bench.run.critical_path on the one-at-a-time run: the global steps one
after another, plus the county steps packed onto k slots (longest first), so it says how far more
workers would take this month and where it stops: at the global steps plus the slowest county.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.run import critical_path, split_step_key

SLOTS = [1, 2, 4, 8, 16]


def load(results: Path, size: str, counties: int) -> dict[str, dict]:
    base = f"{size}-{counties}-counties"
    names = {"whole": base, "shards_1": f"{base}-county-shards", "shards_2": f"{base}-county-shards-multiprocess"}
    return {k: json.loads((results / f"{n}.json").read_text(encoding="utf-8"))
            for k, n in names.items() if (results / f"{n}.json").exists()}


def county_seconds(steps: dict) -> dict[str, float]:
    """county -> its shard step's seconds."""
    out = {}
    for k, v in steps.items():
        op, key = split_step_key(k)
        if key and op.endswith("county_shard"):
            out[key] = out.get(key, 0.0) + v["seconds"]
    return out


def projected(steps: dict, slots: int) -> float:
    """The global steps one after another plus the county steps packed longest first onto `slots`."""
    glob = sum(v["seconds"] for k, v in steps.items() if "[" not in k)
    bins = [0.0] * slots
    for sec in sorted(county_seconds(steps).values(), reverse=True):
        bins[bins.index(min(bins))] += sec
    return glob + max(bins)


def table(runs: dict[str, dict]) -> str:
    lines = ["| run | total s | county steps (s, each) | global steps s | critical path s | global share | peak RSS |",
             "|---|---|---|---|---|---|---|"]
    labels = {"whole": "whole (no shards)", "shards_1": "county shards, 1 at a time (in-process)",
              "shards_2": "county shards, 2 at a time (multiprocess)"}
    for k in ("whole", "shards_1", "shards_2"):
        r = runs.get(k)
        if not r:
            continue
        cp = critical_path(r["steps"])
        per = county_seconds(r["steps"])
        each = ", ".join(f"{c}: {s:.1f}" for c, s in sorted(per.items())) or "—"
        lines.append(f"| {labels[k]} | {r['total_seconds']:.1f} | {each} | {cp['global_seconds']:.1f} | "
                     f"{cp['critical_path_seconds']:.1f} | {cp['global_share']:.0%} | {r['peak_rss_mb'] / 1024:.2f} GB |")
    return "\n".join(lines)


def svg(runs: dict[str, dict], out: Path) -> None:
    """Wall time against parallel shard slots: measured (dots), projected (line), whole (dashed)."""
    base = runs.get("shards_1")
    if not base:
        return
    overhead = base["total_seconds"] - sum(v["seconds"] for v in base["steps"].values())  # Dagster, imports
    proj = [(k, projected(base["steps"], k) + overhead) for k in SLOTS]
    meas = [(1, base["total_seconds"])] + ([(2, runs["shards_2"]["total_seconds"])] if "shards_2" in runs else [])
    ymax = max([t for _, t in proj + meas] + [runs["whole"]["total_seconds"] if "whole" in runs else 0]) * 1.15
    w, h, left, bottom, top, right = 820, 360, 60, 40, 30, 300
    x = lambda k: left + (SLOTS.index(k) if k in SLOTS else 0) * (w - left - right) / (len(SLOTS) - 1)  # noqa: E731
    y = lambda t: h - bottom - t / ymax * (h - bottom - top)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">',
             f'<text x="{left}" y="18" font-size="13">{base["size"]}, {len(county_seconds(base["steps"]))} counties: '
             f'wall time vs parallel county shards</text>',
             f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#000"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="#000"/>']
    for k in SLOTS:
        parts.append(f'<text x="{x(k):.0f}" y="{h - bottom + 15}" text-anchor="middle">{k}</text>')
    for i in range(6):
        t = ymax * i / 5
        parts.append(f'<text x="{left - 5}" y="{y(t) + 4:.0f}" text-anchor="end">{t:.0f}</text>')
    parts.append(f'<text x="{(left + w - right) / 2:.0f}" y="{h - 5}" text-anchor="middle">county shards side by side '
                 f'(workers)</text>')
    pts = " ".join(f"{x(k):.1f},{y(t):.1f}" for k, t in proj)
    parts.append(f'<polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    for k, t in meas:
        parts.append(f'<circle cx="{x(k):.1f}" cy="{y(t):.1f}" r="5" fill="#d62728"/>')
    floor = proj[-1][1]
    parts.append(f'<line x1="{left}" y1="{y(floor):.1f}" x2="{w - right}" y2="{y(floor):.1f}" stroke="#7f7f7f" '
                 f'stroke-dasharray="2,3"/>')
    if "whole" in runs:
        t = runs["whole"]["total_seconds"]
        parts.append(f'<line x1="{left}" y1="{y(t):.1f}" x2="{w - right}" y2="{y(t):.1f}" stroke="#000" stroke-dasharray="6,4"/>')
    legend = [("#d62728", "measured (this machine, 2 cores)"), ("#1f77b4", "projected: global + county steps on k slots"),
              ("#7f7f7f", "global steps + slowest county"), ("#000000", "whole month, no shards")]
    for i, (c, label) in enumerate(legend):
        yy = top + 10 + i * 18
        parts.append(f'<rect x="{w - right + 10}" y="{yy - 8}" width="10" height="10" fill="{c}"/>')
        parts.append(f'<text x="{w - right + 25}" y="{yy + 1}">{label}</text>')
    parts.append("</svg>")
    out.write_text("\n".join(parts), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=Path("bench/results"))
    ap.add_argument("--size", default="prefecture")
    ap.add_argument("--counties", type=int, default=4)
    a = ap.parse_args(argv)
    runs = load(a.results, a.size, a.counties)
    if not runs:
        raise SystemExit(f"no results {a.size}-{a.counties}-counties*.json in {a.results}")
    print(table(runs))
    if "shards_1" in runs:
        base = runs["shards_1"]["steps"]
        print("\nprojected (critical-path model on the one-at-a-time run, Dagster and imports excluded):")
        print(", ".join(f"{k} slots: {projected(base, k):.1f} s" for k in SLOTS))
    out = a.results / f"{a.size}-shards.svg"
    svg(runs, out)
    print(f"\n{out}")


if __name__ == "__main__":
    main()
