"""`lim` — the command line of the low-income monitoring pipeline.

  lim demo                         every sample month through Dagster, then where things are
  lim run --month YYYY-MM [...]    one month (re-running replaces that month)
  lim backfill --from M1 --to M2   months in order
  lim generate ...                 synthetic landing data with its ground truth
  lim feedback --month M FILE...   import town staff's answers to month M's lists
  lim ui                           the Dagster UI on this code location

A month given on the command line is parsed here, once (lim.core.month.Month), and passed on. The
commands import Dagster, DuckDB and the generator when they run, not at start-up (Dagster alone
takes ~2 s); no import here is made inside a function to dodge a cycle (docs/architecture.md).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lim.core import settings
from lim.core.month import Month, MonthError, month_range
from lim.core.paths import DEFAULT_VAR, ROOT, SAMPLE_LANDING, SAMPLE_POLICY


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--landing", help="落地目录（<landing>/<YYYY-MM>/<source>.*），默认为内置样例")
    p.add_argument("--warehouse", help="DuckDB 数据仓库文件，默认 var/warehouse.duckdb")
    p.add_argument("--out", help="输出目录，默认 var/out")
    p.add_argument("--policy", help="政策参数 YAML，默认 data_samples/policy.yaml")
    p.add_argument("--staged", help="暂存 Parquet 目录，默认为数据仓库旁的 staged/")
    p.add_argument("--full-ids", action="store_true", help="工作人员 CSV 中写出完整身份证号（记录在 manifest 中）")
    p.add_argument("--verbose", action="store_true", help="显示 Dagster 运行日志")
    p.add_argument("--executor", choices=settings.EXECUTORS,
                   help="Dagster 执行器（即 LIM_EXECUTOR，默认 in_process；celery 见 docs/deploy.md）")
    p.add_argument("--no-history", action="store_true",
                   help="不先补跑已到达但尚未运行的更早月份（默认先按顺序补跑：规则需要上月和近 12 个月的历史）")


def _resources(args) -> dict:
    from pipelines.definitions import build_resources
    return build_resources(warehouse=args.warehouse, landing=args.landing, out=args.out, policy=args.policy,
                           staged=args.staged, full_ids=args.full_ids, requested_by=os.environ.get("USER", ""))


def months_run(warehouse_path: str) -> set[str]:
    """Months already run into the warehouse (empty if it does not exist or cannot be read now)."""
    import duckdb
    if not Path(warehouse_path).is_file():
        return set()
    try:
        con = duckdb.connect(warehouse_path, read_only=True)
    except duckdb.Error:
        return set()  # held by another run: the run itself reports it
    try:
        return {m for (m,) in con.sql("SELECT DISTINCT month FROM load_log").fetchall()}
    except duckdb.Error:
        return set()
    finally:
        con.close()


def history_first(months: list[str], resources: dict) -> list[str]:
    """Landed months before the first requested one that this warehouse has not run, in order.
    rules.md reads history from the months that have landed (deaths and serious illness in any
    landed month up to M, out-of-pocket over M-11..M, employment in M-1); the pipeline reads it
    from the months it has run, so those come first."""
    done = months_run(resources["warehouse"].path)
    return [m for m in landing_months(Path(resources["landing"].root)) if m < months[0] and m not in done]


def _run_months(months: list[Month], args) -> int:
    from pipelines.runner import FatalError, preflight, run_month

    if getattr(args, "executor", None):  # the option is the variable, for this run and its step processes
        os.environ[settings.var_of("executor")] = args.executor
    resources = _resources(args)
    if months and not getattr(args, "no_history", False):
        earlier = history_first(months, resources)
        if earlier:
            try:  # a month that cannot run is refused before any earlier month is run for its history
                preflight(months[0], resources)  # (run_month checks it again when its turn comes)
            except FatalError as e:
                print(f"错误：{e}", file=sys.stderr)
                return 2
            print(f"更早月份 {'、'.join(earlier)} 已到达但尚未运行：先按顺序运行（规则需要上月和近 12 个月的历史；"
                  f"--no-history 跳过）")
            months = earlier + months
    failed = 0
    for month in months:
        try:
            outcome = run_month(month, resources, quiet=not args.verbose)
        except FatalError as e:
            print(f"错误：{e}", file=sys.stderr)
            return 2
        if outcome.success:
            print(f"{month}：完成（运行 {outcome.run_id[:8]}），输出 {outcome.folder}")
            _print_month_summary(resources, month)
        else:
            print(f"{month}：失败 — {outcome.message}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def _print_month_summary(resources: dict, month: str) -> None:
    with resources["warehouse"].connect() as con:
        loads = con.sql("SELECT source, status, rows_in, rows_quarantined, message FROM load_log WHERE month = ? ORDER BY source", params=[month]).fetchall()
        n = con.sql("SELECT count(*) FROM alerts WHERE month = ?", params=[month]).fetchall()[0][0]
    missing = [s for s, st, *_ in loads if st == "missing"]
    refused = [(s, msg) for s, st, _, _, msg in loads if st not in ("accepted", "missing")]
    q = sum(r[3] or 0 for r in loads)
    print(f"  预警 {n} 条；隔离行 {q} 行" + (f"；未报送：{', '.join(missing)}" if missing else ""))
    for s, msg in refused:
        print(f"  拒收 {s}：{msg}")


def cmd_run(args) -> int:
    try:
        month = Month.parse(args.month)
    except MonthError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    return _run_months([month], args)


def cmd_backfill(args) -> int:
    try:
        first, last = Month.parse(args.from_month), Month.parse(args.to_month)
    except MonthError:
        first = last = None
    if first is None or first > last:
        print("错误：--from/--to 应为 YYYY-MM，且 --from 不晚于 --to", file=sys.stderr)
        return 2
    return _run_months(month_range(first, last), args)


def landing_months(landing: Path) -> list[Month]:
    return sorted(Month(p.name) for p in landing.iterdir() if p.is_dir() and Month.is_month(p.name)) if landing.is_dir() else []


def cmd_demo(args) -> int:
    landing = Path(args.landing or SAMPLE_LANDING)
    if not landing_months(landing):
        print(f"样例数据不存在，正在生成：{landing}")
        from generator import generate
        generate(out=landing, households=300, months=3, start="2026-06", seed=20261123, messy_rate=0.06)
    args.landing = str(landing)
    if not args.policy:
        gen_policy = landing / "policy.yaml"
        args.policy = str(gen_policy if gen_policy.exists() else SAMPLE_POLICY)
    args.warehouse = args.warehouse or str(DEFAULT_VAR / "warehouse.duckdb")
    args.out = args.out or str(DEFAULT_VAR / "out")
    months = landing_months(landing)
    # The loop closed once: the first month's town workbooks answered by synthetic staff
    # (generator/feedback.py) and imported before the next months run, which then show the
    # conclusions, suppress what was 不属实, list what is 逾期 and what was resolved.
    rc = _run_months(months[:1], args)
    if rc == 0 and len(months) > 1:
        rc = _demo_feedback(months[0], args) or _run_months(months[1:], args)
    print()
    print(f"数据仓库：{Path(args.warehouse).resolve()}  （duckdb -readonly {args.warehouse}）")
    print(f"预警 CSV：{Path(args.out).resolve()}/<月份>/alerts/ 与 alerts_all.csv")
    print(f"月报：    {Path(args.out).resolve()}/{months[-1] if months else '<月份>'}/report.html")
    print(f"核查表：  {Path(args.out).resolve()}/<月份>/workbooks/（乡镇填写后用 lim feedback --month <月份> 文件 导入）；"
          f"逾期清单 county/overdue.csv，解除清单 resolved.csv")
    print(f"Dagster UI：make ui  （或 .venv/bin/lim ui）")
    return rc


def _demo_feedback(month: str, args) -> int:
    """Synthetic answers to `month`'s town workbooks, imported like `lim feedback` (same files on a
    second demo: nothing added)."""
    from lim.publish.feedback import FeedbackError, import_feedback
    from generator.feedback import generate_feedback
    from lim.warehouse.warehouse import WarehouseError, connect

    dest = Path(args.warehouse).resolve().parent / "feedback" / month
    files = generate_feedback(Path(args.out) / month / "workbooks", dest, month, seed=20261123)
    if not files:
        return 0
    try:
        con = connect(args.warehouse)
    except WarehouseError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    try:
        results = import_feedback(con, month, files, requested_by="demo")
    except FeedbackError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    finally:
        con.close()
    new = [r for r in results if r.status == "imported"]
    print(f"{month} 月清单的模拟核查反馈：{len(files)} 个乡镇核查表（{dest}），新导入 {len(new)} 个："
          f"接受 {sum(r.accepted for r in new)} 行，隔离 {sum(r.quarantined for r in new)} 行，未填写 {sum(r.skipped for r in new)} 行")
    return 0


def cmd_generate(args) -> int:
    from generator import generate
    try:
        summary = generate(out=args.out, households=args.households, months=args.months, start=args.start,
                           seed=args.seed, messy_rate=args.messy_rate, undelivered=args.undelivered or None,
                           policy=args.policy)
    except ValueError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    print(f"已生成 {args.households} 户 × {args.months} 个月：{args.out}")
    if isinstance(summary, dict):
        for k, v in summary.items():
            if k != "paths":
                print(f"  {k}: {v}")
    return 0


def cmd_ui(args) -> int:
    from pipelines.runner import dagster_instance
    dagster_instance()
    os.chdir(ROOT)
    dagster = Path(sys.executable).parent / "dagster"
    os.execv(str(dagster), [str(dagster), "dev", "-m", "pipelines.definitions", "-h", args.host, "-p", str(args.port)])
    return 0


def cmd_feedback(args) -> int:
    """Import town staff's answers to month M's lists (interface.md "Closing the loop"): exit 0 when
    the import ran (quarantined rows reported), 2 with one line when a file cannot be read at all,
    M has no published lists or the warehouse cannot be opened."""
    from lim.publish.feedback import FeedbackError, import_feedback, summary_lines
    from lim.warehouse.warehouse import WarehouseError, connect

    warehouse = settings.current().warehouse_path(args.warehouse)
    if not Path(warehouse).is_file():
        print(f"错误：数据仓库不存在：{warehouse}（检查 --warehouse；{args.month} 月需先运行 lim run）", file=sys.stderr)
        return 2
    try:
        con = connect(warehouse)
    except WarehouseError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    try:
        month = Month.parse(args.month)
        results = import_feedback(con, month, [Path(f) for f in args.files], requested_by=os.environ.get("USER", ""))
    except (FeedbackError, MonthError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    finally:
        con.close()
    for line in summary_lines(results):
        print(line)
    accepted = sum(r.accepted for r in results)
    quarantined = sum(r.quarantined for r in results)
    print(f"{args.month} 月核查反馈：接受 {accepted} 行，隔离 {quarantined} 行（隔离行见数据仓库 feedback_quarantine）；"
          f"下月运行时清单显示上次核查结论")
    return 0


def cmd_analyst_copy(args) -> int:
    """Rebuild the analysts' pseudonymized DuckDB file from the restricted warehouse."""
    from lim.publish.analyst_copy import AnalystCopyError, PseudonymKeyError, build_analyst_copy, default_dest
    warehouse = settings.current().warehouse_path(args.warehouse)
    if not Path(warehouse).is_file():
        print(f"错误：数据仓库不存在：{warehouse}（检查 --warehouse）", file=sys.stderr)
        return 2
    dest = Path(args.dest) if args.dest else default_dest(warehouse)
    old_umask = os.umask(0o077)
    try:
        info = build_analyst_copy(warehouse, dest)
    except (PseudonymKeyError, AnalystCopyError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    finally:
        os.umask(old_umask)
    print(f"分析库：{info['path']}（{len(info['tables'])} 张表，月份 {', '.join(info['months']) or '无'}，"
          f"密钥指纹 {info['key_fingerprint']}）")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lim", description="低收入人口动态监测月度数据管道")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="用内置样例数据跑完所有样例月份")
    _common(p)
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("run", help="运行一个月（重跑会完整替换该月结果）")
    p.add_argument("--month", required=True, help="数据月份 YYYY-MM")
    _common(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("backfill", help="按顺序运行多个月")
    p.add_argument("--from", dest="from_month", required=True)
    p.add_argument("--to", dest="to_month", required=True)
    _common(p)
    p.set_defaults(func=cmd_backfill)
    p = sub.add_parser("generate", help="生成合成落地数据及其真值")
    p.add_argument("--households", type=int, required=True)
    p.add_argument("--months", type=int, required=True)
    p.add_argument("--start", default="2026-01")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--messy-rate", type=float, default=0.0)
    p.add_argument("--undelivered", action="append", metavar="YYYY-MM:SOURCE[:refused|:quarantined]",
                   help="该月该来源不报送（或文件被拒收、全部行被隔离），可重复")
    p.add_argument("--policy", help="政策文件（rules-variants.md 的可选参数按其时段写入生成的县；如 generator/policies/002.yaml）")
    p.set_defaults(func=cmd_generate)
    p = sub.add_parser("feedback", help="导入乡镇交回的核查表或 CSV（某月清单的核查结论）")
    p.add_argument("--month", required=True, help="所反馈清单的数据月份 YYYY-MM")
    p.add_argument("--warehouse", help="数据仓库文件，默认 var/warehouse.duckdb")
    p.add_argument("files", nargs="+", metavar="FILE", help="交回的核查表（.xlsx）或 CSV（预警编号 + 五个填写列）")
    p.set_defaults(func=cmd_feedback)
    p = sub.add_parser("analyst-copy", help="重建分析人员使用的假名化数据库副本（无姓名、无身份证号）")
    p.add_argument("--warehouse", help="数据仓库文件，默认 var/warehouse.duckdb")
    p.add_argument("--dest", help="副本文件，默认为数据仓库旁的 analyst.duckdb（或 LIM_ANALYST_DB）")
    p.set_defaults(func=cmd_analyst_copy)
    p = sub.add_parser("ui", help="启动 Dagster UI")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=cmd_ui)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
