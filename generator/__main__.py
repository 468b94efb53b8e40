"""python -m generator --households N --months K --start YYYY-MM --seed S --out DIR [--messy-rate R]
    [--undelivered YYYY-MM:SOURCE[:refused|:quarantined]]... [--allow-roster]
    [--policy FILE [--policy-county CODE]] [--policy-variants | --no-policy-variants] [--counties N]"""
from __future__ import annotations

import argparse
import json
import sys
import time

from .core import generate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m generator",
                                 description="Synthetic county landing data with planted ground truth.")
    ap.add_argument("--households", type=int, required=True)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--start", default="2026-01", help="first data month, YYYY-MM")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--messy-rate", type=float, default=0.0)
    ap.add_argument("--no-truth", action="store_true", help="skip the truth files")
    ap.add_argument("--chunk-size", type=int, default=5000)
    ap.add_argument("--rate", action="append", default=[], metavar="SCENARIO=SHARE",
                    help="share of households of a planted scenario (see model.DEFAULT_RATES), repeatable")
    ap.add_argument("--undelivered", action="append", default=[], metavar="YYYY-MM:SOURCE[:refused|:quarantined]",
                    help="a source the department did not deliver that month (left out); with "
                         ":refused a file refused as a whole (a required column missing); with "
                         ":quarantined a file whose every row is quarantined; repeatable")
    ap.add_argument("--allow-roster", action="store_true",
                    help="allow --undelivered for civil_affairs_households/members (the run of that "
                         "month then stops: for tests of the fatal case)")
    ap.add_argument("--policy", metavar="FILE",
                    help="a policy file (interface.md's format, rules-variants.md parameters allowed): its "
                         "parameters, period by period, for the generated county (README 'Policy variants')")
    ap.add_argument("--policy-county", metavar="CODE", help="the county of --policy when it holds several")
    ap.add_argument("--policy-variants", dest="variants", action="store_true", default=None,
                    help="write rules-variants.md's optional roster columns and civil_affairs_decisions and "
                         "plant its thresholds (default: when --policy states a rules-variants.md parameter)")
    ap.add_argument("--no-policy-variants", dest="variants", action="store_false")
    ap.add_argument("--counties", type=int, default=1, metavar="N",
                    help="a prefecture of N counties in one landing (movers, a person in two counties' "
                         "rosters, mistyped IDs of persons born in another county; README 'A prefecture')")
    a = ap.parse_args(argv)
    from .model import DEFAULT_RATES
    rates = {}
    for item in a.rate:
        k, _, v = item.partition("=")
        if k not in DEFAULT_RATES:
            ap.error(f"unknown scenario {k!r}; one of {', '.join(sorted(DEFAULT_RATES))}")
        rates[k] = float(v)
    from .core import parse_undelivered
    from .params import month_add
    try:
        parse_undelivered(a.undelivered, [month_add(a.start, i) for i in range(max(a.months, 0))],
                          a.allow_roster)
    except ValueError as e:
        ap.error(str(e))
    if a.counties < 1:
        ap.error("--counties must be >= 1")
    if a.counties > 1 and (a.policy or a.variants):
        ap.error("--counties > 1 is generated with the generated parameters only (no --policy, no --policy-variants)")
    if a.counties > a.households:
        ap.error("--counties: need at least one household per county")
    if a.policy:
        from .params import load_policy, merge_periods, periods_for
        try:
            _, given = load_policy(a.policy, a.policy_county)
            merge_periods(periods_for(a.start, a.months), given,
                          [month_add(a.start, i) for i in range(max(a.months, 1))])
        except (OSError, ValueError) as e:
            ap.error(str(e))
        except Exception as e:   # YAML that cannot be parsed
            ap.error(f"policy: {a.policy}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    t0 = time.time()
    s = generate(a.out, a.households, a.months, a.start, a.seed, messy_rate=a.messy_rate,
                 truth=not a.no_truth, chunk_size=a.chunk_size, rates=rates or None,
                 undelivered=a.undelivered, allow_roster=a.allow_roster, policy=a.policy,
                 policy_county=a.policy_county, variants=a.variants, counties=a.counties)
    brief = {k: s[k] for k in ("county", "county_name", "months", "households", "seed", "messy_rate")}
    if "counties" in s:
        brief["counties"] = {c["code"]: c["name"] for c in s["counties"]}
    if s.get("variants"):
        brief["variants"] = True
    brief["rows"] = {ym: sum(c.values()) for ym, c in s["counts"].items()}
    brief["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(brief, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
