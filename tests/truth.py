"""Compare a warehouse with a generator's planted truth: precision and recall per alert type
and determination, and the quarantine / refused-file lists."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path


def read_truth(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def pr(expected: set, got: set) -> dict:
    tp = len(expected & got)
    return {"expected": len(expected), "got": len(got), "tp": tp,
            "precision": tp / len(got) if got else 1.0, "recall": tp / len(expected) if expected else 1.0,
            "missing": sorted(expected - got)[:10], "extra": sorted(got - expected)[:10]}


def compare(con, truth_dir: Path) -> dict:
    truth_dir = Path(truth_dir)
    out: dict = {"alerts": {}, "determinations": {}}
    exp_a, got_a = defaultdict(set), defaultdict(set)
    for r in read_truth(truth_dir / "alerts.csv"):
        exp_a[r["alert_type"]].add((r["month"], r["household_source"], r["household_id"], r["member_id_number"] or ""))
    for m, s, h, t, mem in con.sql("select month, household_source, household_id, alert_type, coalesce(member_id_number, '') from alerts").fetchall():
        got_a[t].add((m, s, h, mem))
    for t in sorted(set(exp_a) | set(got_a)):
        out["alerts"][t] = pr(exp_a[t], got_a[t])
    exp_d, got_d = defaultdict(set), defaultdict(set)
    for r in read_truth(truth_dir / "determinations.csv"):
        exp_d[r["category"]].add((r["month"], r["household_source"], r["household_id"]))
    for m, s, h, c in con.sql("select month, household_source, household_id, category from determinations").fetchall():
        got_d[c].add((m, s, h))
    for c in sorted(set(exp_d) | set(got_d)):
        out["determinations"][c] = pr(exp_d[c], got_d[c])
    exp_q = {(r["month"], r["source"], int(r["row_number"]), r["reason_code"]) for r in read_truth(truth_dir / "quarantine.csv")}
    got_q = set(con.sql("select month, source, row_number, reason_code from quarantine").fetchall())
    out["quarantine"] = pr(exp_q, got_q)
    exp_f = {(r["month"], r["source"], r["status"]) for r in read_truth(truth_dir / "refused_files.csv")}
    got_f = set(con.sql("select month, source, status from load_log where status not in ('accepted', 'missing')").fetchall())
    out["refused_files"] = pr(exp_f, got_f)
    if (truth_dir / "audit_sample.csv").exists():
        exp_s = {(r["month"], r["household_id"]) for r in read_truth(truth_dir / "audit_sample.csv")}
        got_s = set(con.sql("select month, household_id from audit_sample").fetchall())
        out["audit_sample"] = pr(exp_s, got_s)
    # evaluations withheld for undelivered sources (rules.md "Incomplete months")
    if (truth_dir / "withheld.csv").exists():
        exp_w = {(r["month"], r["household_source"], r["household_id"], r["alert_type"], r["missing_sources"])
                 for r in read_truth(truth_dir / "withheld.csv")}
        got_w = set(con.sql("select month, household_source, household_id, alert_type, missing_sources from withheld_evaluations").fetchall())
        out["withheld"] = pr(exp_w, got_w)
    # reason codes of the alerts whose codes the truth states (rules-variants.md r3, r5)
    alert_rows = read_truth(truth_dir / "alerts.csv")
    if alert_rows and "reasons" in alert_rows[0]:
        typed = {"SINGLE_PERSON_DIBAO"}
        exp_r = {(r["month"], r["household_source"], r["household_id"], r["alert_type"], r["member_id_number"] or "", r["reasons"])
                 for r in alert_rows if r["alert_type"] in typed or r["reasons"] == "GRADUAL_EXIT_AMOUNT"}
        got_r = {row for row in con.sql(
            "select month, household_source, household_id, alert_type, coalesce(member_id_number, ''), reasons from alerts "
            "where alert_type = 'SINGLE_PERSON_DIBAO' or reasons = 'GRADUAL_EXIT_AMOUNT'").fetchall()}
        out["reasons"] = pr(exp_r, got_r)
    # reason codes of PENDING determinations
    det_rows = read_truth(truth_dir / "determinations.csv")
    if det_rows and "reason_codes" in det_rows[0]:
        exp_p = {(r["month"], r["household_source"], r["household_id"], r["reason_codes"]) for r in det_rows if r["category"] == "PENDING"}
        got_p = set(con.sql("select month, household_source, household_id, reason_codes from determinations where category = 'PENDING'").fetchall())
        out["pending_reasons"] = pr(exp_p, got_p)
    # priority and status of the alerts both sides agree on
    truth_ps = {(r["month"], r["household_source"], r["household_id"], r["alert_type"], r["member_id_number"] or ""):
                (r["priority"], r["status"]) + ((r["first_month"],) if "first_month" in r else ())
                for r in read_truth(truth_dir / "alerts.csv")}
    with_first = any(len(v) == 3 for v in truth_ps.values())
    got_ps = {(m, s, h, t, mem): (p, st) + ((f,) if with_first else ()) for m, s, h, t, mem, p, st, f in con.sql(
        "select month, household_source, household_id, alert_type, coalesce(member_id_number, ''), priority, status, first_month from alerts").fetchall()}
    both = set(truth_ps) & set(got_ps)
    out["priority_status_mismatch"] = sorted(k for k in both if truth_ps[k] != got_ps[k])[:20]
    out["priority_status_checked"] = len(both)
    return out


def summary_lines(result: dict) -> list[str]:
    lines = []
    for kind in ("determinations", "alerts"):
        for k, v in result[kind].items():
            lines.append(f"{kind[:5]} {k:22s} exp {v['expected']:5d} got {v['got']:5d} P {v['precision']:.3f} R {v['recall']:.3f}")
    for kind in ("quarantine", "refused_files", "audit_sample", "withheld", "pending_reasons"):
        if kind not in result:
            continue
        v = result[kind]
        lines.append(f"{kind:28s} exp {v['expected']:5d} got {v['got']:5d} P {v['precision']:.3f} R {v['recall']:.3f}")
    return lines
