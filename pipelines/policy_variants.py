"""The same landing months under several policy files (rules-variants.md C): how the lists differ.

Each policy file gets its own warehouse, staged files and outputs under --work; every month is run
through Dagster as `lim run` does it. The table (alerts per type and month under each policy, plus
the determinations, the withheld evaluations and the audit sample) is written into --doc between two
markers, with the command that made it.

    .venv/bin/python -m pipelines.policy_variants \\
        [--landing data_samples/landing] [--months 2026-06,2026-07,2026-08] \\
        [--policies data_samples/policy.yaml data_samples/policies/*.yaml] [--doc docs/policy-variants.md] [--work DIR]
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from lim.core.catalogue import alert_catalogue
from lim.core.paths import ROOT
from pipelines.definitions import build_resources
from pipelines.runner import run_month

START = "<!-- policy-variants:start (written by python -m pipelines.policy_variants) -->"
END = "<!-- policy-variants:end -->"
DEFAULT_POLICIES = [ROOT / "data_samples" / "policy.yaml", *sorted((ROOT / "data_samples" / "policies").glob("*.yaml"))]
CATEGORIES = ["OVER_ASSETS", "PENDING", "TEKUN", "DIBAO", "MARGINAL", "EXPENDITURE", "NOT_ELIGIBLE"]


def run_policy(policy: Path, landing: Path, months: list[str], work: Path) -> Path:
    """Every month under one policy file, in order; returns the warehouse file."""
    import dagster as dg

    work.mkdir(parents=True, exist_ok=True)
    resources = build_resources(warehouse=str(work / "warehouse.duckdb"), landing=str(landing), out=str(work / "out"),
                                policy=str(policy), staged=str(work / "staged"))
    instance = dg.DagsterInstance.ephemeral()
    for month in months:
        outcome = run_month(month, resources, instance=instance)
        if not outcome.success:
            raise RuntimeError(f"{policy.name} {month}: {outcome.message}")
    return work / "warehouse.duckdb"


def counts(warehouse: Path, months: list[str]) -> dict:
    """What one policy's run produced, per month."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        for m in months:
            q = lambda sql: con.sql(sql, params=[m]).fetchall()  # noqa: E731
            out[m] = {
                "alerts": dict(q("SELECT alert_type, count(*) FROM alerts WHERE month = ? GROUP BY 1")),
                "benefit_reasons": dict(q("SELECT reasons, count(*) FROM alerts WHERE month = ? "
                                          "AND alert_type = 'BENEFIT_MISMATCH' GROUP BY 1")),
                "determinations": dict(q("SELECT category, count(*) FROM determinations WHERE month = ? GROUP BY 1")),
                "withheld": dict(q("SELECT alert_type, count(*) FROM withheld_evaluations WHERE month = ? GROUP BY 1")),
                "audit": q("SELECT count(*), count(DISTINCT draw_scope || coalesce(town_code, '')) FROM audit_sample WHERE month = ?")[0],
                "withheld_unknown_b": q("SELECT count(*) FROM withheld_evaluations WHERE month = ? "
                                        "AND missing_sources = 'PRE_EXIT_BENEFIT_UNKNOWN'")[0][0],
            }
        return out
    finally:
        con.close()


def _cell(value: int, base: int) -> str:
    return f"**{value}**" if value != base else str(value)


def table(results: dict[str, dict], month: str) -> str:
    """Markdown: one row per alert type (and the other counts), one column per policy; a value that
    differs from the first policy's (the sample county's own) is bold."""
    names = list(results)
    head = "| | " + " | ".join(f"`{n}`" for n in names) + " |\n|---|" + "---:|" * len(names) + "\n"
    rows = []

    def row(label: str, values: list[int]) -> None:
        rows.append(f"| {label} | " + " | ".join(_cell(v, values[0]) for v in values) + " |")

    for a in alert_catalogue():
        row(f"{a.alert_name} `{a.alert_type}`", [results[n][month]["alerts"].get(a.alert_type, 0) for n in names])
    row("**预警合计**", [sum(results[n][month]["alerts"].values()) for n in names])
    codes = sorted({c for n in names for c in results[n][month]["benefit_reasons"]})
    for c in codes:
        row(f"其中 `BENEFIT_MISMATCH` 原因 `{c}`", [results[n][month]["benefit_reasons"].get(c, 0) for n in names])
    for c in CATEGORIES:
        row(f"认定 `{c}`", [results[n][month]["determinations"].get(c, 0) for n in names])
    row("暂缓评估（户×类型）", [sum(results[n][month]["withheld"].values()) for n in names])
    row("其中渐退前月保障金额未知 `PRE_EXIT_BENEFIT_UNKNOWN`", [results[n][month]["withheld_unknown_b"] for n in names])
    row("抽查户数", [results[n][month]["audit"][0] for n in names])
    row("抽样范围数（全县 = 1，按乡镇 = 乡镇数）", [results[n][month]["audit"][1] for n in names])
    return head + "\n".join(rows)


def render(results: dict[str, dict], months: list[str], command: str) -> str:
    parts = [f"Made by:\n\n```\n{command}\n```\n"]
    for m in months:
        parts.append(f"### {m}\n\n" + table(results, m) + "\n")
    return "\n".join(parts)


def replace_block(doc: str, block: str) -> str:
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(doc):
        return doc.rstrip("\n") + f"\n\n{START}\n{block}\n{END}\n"
    return pattern.sub(lambda _: f"{START}\n{block}\n{END}", doc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="同一落地月份在多个政策文件下运行，比较预警清单（rules-variants.md C）")
    ap.add_argument("--landing", default=str(ROOT / "data_samples" / "landing"))
    ap.add_argument("--months", default="2026-06,2026-07,2026-08", help="逗号分隔，按顺序运行")
    ap.add_argument("--policies", nargs="+", default=[str(p) for p in DEFAULT_POLICIES])
    ap.add_argument("--doc", default=str(ROOT / "docs" / "policy-variants.md"))
    ap.add_argument("--work", default=None, help="每个政策的数据仓库与输出（默认临时目录，运行后删除）")
    args = ap.parse_args(argv)
    months = [m.strip() for m in args.months.split(",") if m.strip()]
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="policy-variants-"))
    results = {}
    try:
        for p in args.policies:
            policy = Path(p)
            print(f"{policy.name}: {', '.join(months)}", file=sys.stderr)
            results[policy.stem] = counts(run_policy(policy, Path(args.landing), months, work / policy.stem), months)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    def rel(p: str) -> str:
        try:
            return Path(p).resolve().relative_to(ROOT).as_posix()
        except ValueError:
            return p
    command = (f".venv/bin/python -m pipelines.policy_variants --landing {rel(args.landing)} --months {','.join(months)} "
               f"--policies {' '.join(rel(p) for p in args.policies)} --doc {rel(args.doc)}")
    doc = Path(args.doc)
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Policy variants\n"
    doc.write_text(replace_block(text, render(results, months, command)), encoding="utf-8")
    print(f"{doc}: {len(results)} policies × {len(months)} months", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
