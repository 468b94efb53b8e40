"""The three sizes on one chart: wall time per stage, total and floor against households
(log–log, so linear growth is a line of slope 1; the dotted line is "county × households").

    python -m bench.chart [--results bench/results] [--out bench/results/scaling.svg]

Reads <results>/{county,prefecture,province}.json (whichever exist) and writes an SVG with no
dependency. Also prints the Markdown table used in bench/PERF.md and README.md.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

ORDER = ["county", "prefecture", "province"]
SERIES = [("total_seconds", "total (end to end)", "#000000", 2.5), ("ingest", "ingest", "#1f77b4", 1.5),
          ("reconcile", "reconcile", "#ff7f0e", 1.5), ("rules", "rules", "#2ca02c", 1.5),
          ("quality", "quality (GX)", "#d62728", 1.5), ("publish", "publish", "#9467bd", 1.5),
          ("floor_seconds", "floor (DuckDB alone)", "#7f7f7f", 2.0),
          ("raw_floor_seconds", "raw floor (from the CSVs)", "#8c564b", 2.0)]


def load(results: Path, extrapolate: bool = True) -> list[dict]:
    out = []
    for p in sorted(results.glob("*.json")):
        r = json.loads(p.read_text(encoding="utf-8"))
        # the default choices only: a shards/executor/counties run has a suffixed name
        if "households" in r and "total_seconds" in r and p.stem == r.get("size"):
            out.append(r)
    out.sort(key=lambda r: r["households"])
    if extrapolate and out and out[-1]["households"] < 5_000_000 and len(out) >= 2:
        out.append(extrapolated(out[-1], 5_000_000))
    return out


def extrapolated(r: dict, households: int) -> dict:
    """A size not measured: every time of `r` times households / r's households (linear), marked
    as such. Peak memory is not extrapolated (bounded by the DuckDB limit and the batch sizes)."""
    k = households / r["households"]
    e = {key: r[key] for key in ("machine", "versions", "month")}
    e.update({"size": "province", "households": households, "extrapolated_from": r["size"], "extrapolated": True,
              "factor": round(k, 2),
              "total_seconds": r["total_seconds"] * k, "floor_seconds": r["floor_seconds"] * k if r["floor_seconds"] else None,
              "ratio_to_floor": r["ratio_to_floor"],
              "raw_floor_seconds": r["raw_floor_seconds"] * k if r.get("raw_floor_seconds") else None,
              "total_over_raw_floor": r.get("total_over_raw_floor"), "cpu_seconds": r.get("cpu_seconds", 0) * k,
              "floor_cpu_seconds": (r.get("floor_cpu_seconds") or 0) * k,
              "stages": {s: v * k for s, v in r["stages"].items()},
              "stages_cpu_seconds": {s: v * k for s, v in r.get("stages_cpu_seconds", {}).items()},
              "counts": {"landing_rows": int(r["counts"]["landing_rows"] * k)}, "peak_rss_mb": None,
              "rows_per_second": r["rows_per_second"]})
    return e


def value(r: dict, key: str):
    v = r.get(key)
    if v is None:
        v = r.get("stages", {}).get(key)
    return v if v and v > 0 else None


def svg(rows: list[dict]) -> str:
    W, H, L, R, T, B = 760, 470, 70, 190, 40, 55
    xs = [r["households"] for r in rows]
    vals = [value(r, k) for r in rows for k, *_ in SERIES if value(r, k)]
    x0, x1 = math.log10(min(xs) / 1.6), math.log10(max(xs) * 1.6)
    y0, y1 = math.floor(math.log10(min(vals))), math.ceil(math.log10(max(vals) * 1.2))
    if x1 - x0 < 1:
        x0, x1 = x0 - 0.5, x1 + 0.5

    def px(x):
        return L + (math.log10(x) - x0) / (x1 - x0) * (W - L - R)

    def py(y):
        return H - B - (math.log10(y) - y0) / (y1 - y0) * (H - T - B)

    e = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="22" font-size="14" font-weight="bold">One month end to end vs households '
         f'({rows[0]["machine"]["cores"]} cores, log–log)</text>']
    for d in range(y0, y1 + 1):
        for m in (1, 2, 5):
            y = m * 10 ** d
            if 10 ** y0 <= y <= 10 ** y1:
                e.append(f'<line x1="{L}" x2="{W - R}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#ddd"/>')
                label = f"{y:g} s"
                e.append(f'<text x="{L - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{label}</text>')
    for r in rows:
        x = px(r["households"])
        e.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{T}" y2="{H - B}" stroke="#eee"/>')
        e.append(f'<text x="{x:.1f}" y="{H - B + 16}" text-anchor="middle">{r["households"]:,}</text>')
        mem = "extrapolated" if r.get("extrapolated") else f'{r["peak_rss_mb"] / 1024:.1f} GB peak'
        e.append(f'<text x="{x:.1f}" y="{H - B + 30}" text-anchor="middle" fill="#555">{r["size"]}, {mem}</text>')
    e.append(f'<text x="{(L + W - R) / 2}" y="{H - 6}" text-anchor="middle">households (one month)</text>')
    base = rows[0]
    if value(base, "total_seconds"):
        a, b = min(xs) / 1.3, max(xs) * 1.3
        k = base["total_seconds"] / base["households"]
        e.append(f'<line x1="{px(a):.1f}" y1="{py(k * a):.1f}" x2="{px(b):.1f}" y2="{py(k * b):.1f}" '
                 f'stroke="#000" stroke-dasharray="2,4"/>')
    ly = T + 10
    for key, label, color, width in SERIES:
        pts = [(px(r["households"]), py(value(r, key)), r.get("extrapolated")) for r in rows if value(r, key)]
        if not pts:
            continue
        dash = ' stroke-dasharray="6,3"' if key in ("floor_seconds", "raw_floor_seconds") else ""
        measured = [(x, y) for x, y, ex in pts if not ex]
        e.append(f'<polyline fill="none" stroke="{color}" stroke-width="{width}"{dash} points="'
                 + " ".join(f"{x:.1f},{y:.1f}" for x, y in measured) + '"/>')
        if len(pts) > len(measured) and measured:
            (xa, ya), (xb, yb, _) = measured[-1], pts[-1]
            e.append(f'<line x1="{xa:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" stroke="{color}" '
                     f'stroke-width="1" stroke-dasharray="1,3"/>')
        for x, y, ex in pts:
            fill = "white" if ex else color
            e.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{fill}" stroke="{color}"/>')
        e.append(f'<line x1="{W - R + 12}" x2="{W - R + 36}" y1="{ly}" y2="{ly}" stroke="{color}" '
                 f'stroke-width="{width}"{dash}/><text x="{W - R + 42}" y="{ly + 4}">{label}</text>')
        ly += 18
    e.append(f'<line x1="{W - R + 12}" x2="{W - R + 36}" y1="{ly}" y2="{ly}" stroke="#000" stroke-dasharray="2,4"/>'
             f'<text x="{W - R + 42}" y="{ly + 4}">linear from county</text>')
    if any(r.get("extrapolated") for r in rows):
        e.append(f'<circle cx="{W - R + 24}" cy="{ly + 18}" r="3.5" fill="white" stroke="#000"/>'
                 f'<text x="{W - R + 42}" y="{ly + 22}">extrapolated (not run)</text>')
    e.append("</svg>")
    return "\n".join(e) + "\n"


def table(rows: list[dict]) -> str:
    head = ("| size | households | landing rows | total s | ingest | reconcile | rules | quality | checks | publish "
            "| Dagster + imports | floor s | total / floor | raw floor s | total / raw floor | CPU s (floor, raw floor) "
            "| peak RSS | rows/s | load |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        st = r["stages"]
        other = r["total_seconds"] - sum(st.values())
        ex = r.get("extrapolated")
        name = f"{r['size']} (extrapolated ×{r['factor']:g} from {r['extrapolated_from']}, not run)" if ex else r["size"]
        mem = "—" if ex else f"{r['peak_rss_mb'] / 1024:.2f} GB"
        lines.append(
            f"| {name} | {r['households']:,} | {r['counts']['landing_rows']:,} | **{r['total_seconds']:.0f}** "
            + "".join(f"| {st.get(k, 0):.1f} " for k in ("ingest", "reconcile", "rules", "quality", "checks", "publish"))
            + f"| {other:.1f} | {r['floor_seconds'] or float('nan'):.1f} | {r['ratio_to_floor'] or float('nan'):.1f}× "
            + (f"| {r['raw_floor_seconds']:.1f} | **{r['total_over_raw_floor']:.1f}×** " if r.get("raw_floor_seconds")
               else "| not measured | — ")
            + f"| {r.get('cpu_seconds') or 0:.0f} ({r.get('floor_cpu_seconds') or 0:.1f}, "
            + (f"{r['raw_floor_cpu_seconds']:.1f}" if r.get("raw_floor_cpu_seconds") else "—")
            + f") | {mem} | {r['rows_per_second']:,} "
            + ("| — |" if ex else f"| {r['load_average_before'][0]:.1f}→{r['load_average_after'][0]:.1f} |"))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.chart")
    ap.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-extrapolation", action="store_true")
    a = ap.parse_args(argv)
    rows = load(Path(a.results), not a.no_extrapolation)
    if not rows:
        raise SystemExit(f"no results in {a.results}")
    out = Path(a.out) if a.out else Path(a.results) / "scaling.svg"
    out.write_text(svg(rows), encoding="utf-8")
    print(table(rows))
    print(f"\nchart: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
