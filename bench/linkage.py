"""Linkage quality benchmark: our identity SQL vs Splink 4 (DuckDB backend) on the same records.

A synthetic county (self-contained harness: realistic Chinese names by surname frequency, so
common names such as 王伟 recur many times; twins — some with the same name — and same-name
pairs in one village) is the set of *known persons* (register ∪ roster ∪ rural
revitalization). Departments send records about them (and about a few outsiders the county
does not know); a share `--rate` (default 2 %) of department records arrive with a corrupted
ID: one substitution at any of the 18 positions, one adjacent transposition, or the sequence
digits garbled (same first 14 digits). Every corruption fails the check digit (MOD 11-2
detects every single substitution and adjacent transposition).

Evaluated records: the department records whose ID fails the check digit (the only ones
either system has to link). Truth: the person the record was about (none for outsiders).
  TP: linked to the true person;  FP: linked to anyone else (wrong person, or an outsider);
  FN: a known person's record left unlinked or linked wrongly.
  precision = TP / (TP + FP), recall = TP / (records of known persons), F1 their harmonic mean.
Near-duplicate false links: corrupted records of a twin / same-name-same-village person linked
to the other member of the pair.

OURS runs the real sql/reconcile/10_identity.sql on in_<source> temp tables, exactly as
assets/reconcile.py does (statuses from the project's ID normalizer). SPLINK runs in its own
venv (it is not a project dependency) as a subprocess of this script:

    .venv/bin/python -m bench.linkage                      # writes bench/results/linkage.json
    LINKAGE_SPLINK_PYTHON=/tmp/splink-venv/bin/python       # default; `--no-splink` to skip

Setting up that venv: python3 -m venv /tmp/splink-venv && /tmp/splink-venv/bin/pip install "splink>=4,<5"
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPLINK_PY = "/tmp/splink-venv/bin/python"
SOURCES = ["civil_affairs_members", "household_registration", "education", "hr", "housing", "health",
           "medical_insurance", "emergency", "rural_revitalization"]
DEPT_SOURCES = {"hr": 0.45, "medical_insurance": 0.20, "housing": 0.20, "health": 0.08, "emergency": 0.02}

_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_C = "10X98765432"


def check_digit(body17: str) -> str:
    return _C[sum(int(d) * w for d, w in zip(body17, _W)) % 11]


def is_valid(idn: str) -> bool:
    return len(idn) == 18 and idn[:17].isdigit() and check_digit(idn[:17]) == idn[17]


# --- names: surnames by frequency (per mille), given names of 1 or 2 characters --------------------
_SURNAMES = ("王71 李70 张67 刘54 陈45 杨31 黄22 赵20 吴18 周17 徐14 孙13 马12 朱11 胡10 郭10 何9 高9 林9 "
             "罗8 郑8 梁7 谢6 宋6 唐5 许5 韩5 冯5 邓5 曹5 彭4 曾4 肖4 田4 董4 袁4 潘4 于3 蒋3 蔡3 余3 杜3 "
             "叶3 程3 苏3 魏3 吕3 丁3 任3 沈3 姚3 卢3 姜3 崔3 钟2 谭2 陆2 汪2 范2 金2 石2 廖2 贾2 夏2").split()
SURNAMES = [s[0] for s in _SURNAMES]
SURNAME_W = [int(s[1:]) for s in _SURNAMES]
MALE = "伟 强 磊 军 勇 杰 涛 明 超 刚 平 辉 鹏 华 飞 鑫 波 斌 宇 浩 凯 健 俊 帆 旭 宁 龙 林 洋 阳 峰 建 国 成 东 海 志 文 博 晨 轩 子 睿 泽 宏 兵 亮".split()
FEMALE = "芳 娜 敏 静 丽 艳 娟 霞 秀 玲 桂 英 燕 萍 红 梅 琳 雪 婷 慧 莉 倩 颖 琴 云 洁 兰 凤 欣 怡 佳 雨 涵 萱 琪 悦 彤 璐 晶 瑶".split()


def person_name(rng: random.Random, male: bool, surname: str | None = None) -> str:
    pool = MALE if male else FEMALE
    s = surname or rng.choices(SURNAMES, SURNAME_W)[0]
    return s + (rng.choice(pool) if rng.random() < 0.35 else rng.choice(pool) + rng.choice(pool))


# --- the county -------------------------------------------------------------------------------------
class County:
    def __init__(self, persons: int, seed: int, county: str = "370322"):
        self.rng = rng = random.Random(seed)
        self.county = county
        self.ids: set[str] = set()
        self.persons: list[dict] = []        # id, name, village, birth
        self.pairs: list[tuple[str, str, str]] = []  # near-duplicate pairs (id_a, id_b, kind)
        villages = [f"{county}{101 + t:03d}{201 + v:03d}" for t in range(12) for v in range(15)]
        while len(self.persons) < persons:
            village = rng.choice(villages)
            fam = rng.choice(SURNAMES[:30]) if rng.random() < 0.5 else None   # rural villages share surnames
            parents = rng.choice([1, 2, 2, 2])
            for k in range(parents):
                male = k == 0
                self.add(person_name(rng, male, fam if male else None), village, self.birth(1945, 1992), male)
            kids = rng.choice([0, 1, 1, 2, 2, 3])
            if kids and rng.random() < 0.03:      # twins
                b = self.birth(1990, 2020)
                male = rng.random() < 0.5
                a_name = person_name(rng, male, fam)
                if rng.random() < 0.15:            # same-name twins (rare, but the case that must be refused)
                    b_name = a_name
                else:                              # twins' names share the surname and often a character
                    b_name = a_name[:-1] + rng.choice(MALE if male else FEMALE)
                a = self.add(a_name, village, b, male)
                t = self.add(b_name, village, b, male, near=a)
                if a and t:
                    self.pairs.append((a, t, "twins_same_name" if a_name == b_name else "twins"))
                kids -= 1
            for _ in range(kids):
                self.add(person_name(rng, rng.random() < 0.5, fam), village, self.birth(1985, 2022), rng.random() < 0.5)
        # same name in one village, another birth date (cousins named after the same grandparent)
        for p in rng.sample(self.persons, max(1, len(self.persons) // 200)):
            q = self.add(p["name"], p["village"], self.birth(1945, 2020), rng.random() < 0.5)
            if q:
                self.pairs.append((p["id"], q, "same_name_village"))

    def birth(self, y0: int, y1: int) -> date:
        return date(y0, 1, 1) + timedelta(days=self.rng.randrange((date(y1, 12, 31) - date(y0, 1, 1)).days))

    def new_id(self, birth: date, male: bool, near: str | None = None) -> str | None:
        for _ in range(50):
            if near:   # twin: the next free sequence number of the same sex
                seq = int(near[14:17]) + 2 * (_ + 1)
                if seq > 999:
                    return None
            else:
                seq = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            body = f"{self.county}{birth:%Y%m%d}{seq:03d}"
            idn = body + check_digit(body)
            if idn not in self.ids:
                self.ids.add(idn)
                return idn
        return None

    def add(self, name: str, village: str, birth: date, male: bool, near: str | None = None) -> str | None:
        idn = self.new_id(birth, male, near)
        if idn:
            self.persons.append({"id": idn, "name": name, "village": village, "birth": birth.isoformat()})
        return idn


# --- corruption -------------------------------------------------------------------------------------
def corrupt(idn: str, rng: random.Random) -> tuple[str, str]:
    kind = rng.choices(["substitution", "transposition", "garbled_sequence"], [0.60, 0.25, 0.15])[0]
    if kind == "substitution":
        i = rng.randrange(18)
        c = rng.choice([d for d in ("0123456789X" if i == 17 else "0123456789") if d != idn[i]])
        out = idn[:i] + c + idn[i + 1:]
    elif kind == "transposition":
        i = rng.choice([i for i in range(17) if idn[i] != idn[i + 1]])
        out = idn[:i] + idn[i + 1] + idn[i] + idn[i + 2:]
    else:
        while True:
            seq = f"{rng.randrange(1000):03d}"
            if sum(a != b for a, b in zip(seq, idn[14:17])) >= 2:
                break
        body = idn[:14] + seq
        out = body + rng.choice([c for c in "0123456789X" if c != check_digit(body)])
    assert not is_valid(out), (idn, out, kind)
    return out, kind


def build(persons: int, rate: float, seed: int, outsiders: float = 0.03) -> dict:
    """Known persons (split over register / roster / RR) and department records, 2 % corrupted."""
    county = County(persons, seed)
    rng = random.Random(seed + 1)
    known = county.persons
    # outsiders: people the county does not know (moved in, registered elsewhere) with the same naming
    out_c = County(max(1, int(persons * outsiders)), seed + 2)
    out_c.ids |= county.ids
    outsider_ids = {p["id"] for p in out_c.persons}
    near = {}
    for a, b, kind in county.pairs:
        near[a] = (b, kind)
        near[b] = (a, kind)
    records = []   # source, row_number, id delivered, name, true id (None: outsider)
    row = {s: 1 for s in DEPT_SOURCES}
    for p, is_out in [(p, False) for p in known] + [(p, True) for p in out_c.persons if p["id"] not in county.ids]:
        chosen = [s for s, share in DEPT_SOURCES.items() if rng.random() < share]
        if not chosen and p["id"] in near:
            chosen = ["hr"]   # every near-duplicate person has at least one record
        for s in chosen:
            row[s] += 1
            records.append({"source": s, "row_number": row[s], "id": p["id"], "name": p["name"],
                            "true_id": None if is_out else p["id"], "kind": "valid",
                            "near": near.get(p["id"], (None, None))[1]})
    # corrupt `rate` of the records; up to a quarter of the budget goes to near-duplicate persons
    budget = round(rate * len(records))
    near_recs = [r for r in records if r["near"]]
    pick = rng.sample(near_recs, min(len(near_recs), budget // 4))
    chosen_ids = {id(r) for r in pick}
    rest = [r for r in records if id(r) not in chosen_ids]
    pick += rng.sample(rest, budget - len(pick))
    for r in pick:
        r["id"], r["kind"] = corrupt(r["id"], rng)
    # roster 10 %, rural revitalization 10 %, everyone in the register
    splits = {"household_registration": [], "civil_affairs_members": [], "rural_revitalization": []}
    for i, p in enumerate(known):
        splits["household_registration"].append((i + 2, p["id"], p["name"]))
        u = rng.random()
        if u < 0.10:
            splits["civil_affairs_members"].append((len(splits["civil_affairs_members"]) + 2, p["id"], p["name"]))
        elif u < 0.20:
            splits["rural_revitalization"].append((len(splits["rural_revitalization"]) + 2, p["id"], p["name"]))
    return {"known": known, "records": records, "splits": splits, "pairs": county.pairs,
            "outsiders": len(outsider_ids - county.ids)}


# --- ours: the project's SQL -----------------------------------------------------------------------
def run_ours(data: dict) -> tuple[dict, float]:
    sys.path.insert(0, str(ROOT))
    import duckdb
    import polars as pl

    from lim.ingest.normalize import normalize_series
    from lim.core.paths import SQL_DIR
    from lim.warehouse.warehouse import run_sql

    con = duckdb.connect()
    rows = {s: [] for s in SOURCES}
    for s, lst in data["splits"].items():
        rows[s] = [(rn, idn, name) for rn, idn, name in lst]
    for r in data["records"]:
        rows[r["source"]].append((r["row_number"], r["id"], r["name"]))
    t0 = time.perf_counter()
    for s in SOURCES:
        lst = rows[s]
        norm = normalize_series("id", [x[1] for x in lst]) if lst else None
        df = pl.DataFrame({
            "id_number": norm["value"] if lst else pl.Series([], dtype=pl.Utf8),
            "name": [x[2] for x in lst], "_row_number": [x[0] for x in lst],
            "_id_status": norm["code"] if lst else pl.Series([], dtype=pl.Utf8),
            "_raw": [x[1] for x in lst]}, schema_overrides={"name": pl.Utf8, "_row_number": pl.Int64})
        con.register(f"df_{s}", df.to_arrow())
        con.execute(f"CREATE OR REPLACE TEMP TABLE in_{s} AS SELECT * FROM df_{s}")
    run_sql(con, SQL_DIR / "reconcile" / "10_identity.sql")
    out = {(s, rn): (idn, method) for s, rn, idn, method in
           con.sql("SELECT source, row_number, id_number, method FROM id_resolution").fetchall()}
    return out, time.perf_counter() - t0


# --- Splink (runs in its own venv) ----------------------------------------------------------------
def splink_worker(folder: str) -> None:
    """Runs inside the Splink venv: links bad-checksum records to known persons, best match per record."""
    import duckdb
    import splink
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    d = Path(folder)
    con = duckdb.connect()
    left = con.sql(f"SELECT *, substr(id_number, 7, 8) AS birth, left(id_number, 6) AS county, "
                   f"substr(id_number, 15, 3) AS seq FROM read_parquet('{d / 'bad.parquet'}')").df()
    right = con.sql(f"SELECT *, substr(id_number, 7, 8) AS birth, left(id_number, 6) AS county, "
                    f"substr(id_number, 15, 3) AS seq FROM read_parquet('{d / 'known.parquet'}')").df()
    t0 = time.perf_counter()
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="uid",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.9, 0.7]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("id_number", [1, 2]),
            cl.ExactMatch("birth"),
        ],
        blocking_rules_to_generate_predictions=[block_on("name"), block_on("birth"), block_on("county", "seq")],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([left, right], settings, db_api=DuckDBAPI(connection=duckdb.connect()))
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name")], recall=0.95)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth"))
    pred = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    elapsed = time.perf_counter() - t0
    result = {"splink_version": splink.__version__, "duckdb_version": duckdb.__version__, "seconds": elapsed,
              "pairs": [[r.uid_l, r.uid_r, float(r.match_probability)] for r in pred.itertuples()]
              if "uid_l" in pred.columns else []}
    (d / "splink_out.json").write_text(json.dumps(result), encoding="utf-8")


def run_splink(data: dict, python: str, thresholds=(0.5, 0.9, 0.99)) -> dict:
    import polars as pl

    bad = [r for r in data["records"] if not is_valid(r["id"])]
    with tempfile.TemporaryDirectory(prefix="linkage-splink-") as tmp:
        pl.DataFrame({"uid": [f"{r['source']}#{r['row_number']}" for r in bad],
                      "id_number": [r["id"] for r in bad], "name": [r["name"] for r in bad]}
                     ).write_parquet(Path(tmp) / "bad.parquet")
        pl.DataFrame({"uid": [p["id"] for p in data["known"]], "id_number": [p["id"] for p in data["known"]],
                      "name": [p["name"] for p in data["known"]]}).write_parquet(Path(tmp) / "known.parquet")
        proc = subprocess.run([python, str(Path(__file__).resolve()), "--splink-worker", tmp],
                              capture_output=True, text=True, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "splink failed")
        res = json.loads((Path(tmp) / "splink_out.json").read_text(encoding="utf-8"))
    # uid_l / uid_r follow the input order (bad, known); normalise each pair to (record, person)
    best: dict[str, list] = {}
    for a, b, p in res["pairs"]:
        rec, person = (a, b) if "#" in a else (b, a)
        best.setdefault(rec, []).append((p, person))
    by_threshold = {}
    for th in thresholds:
        links = {}
        for rec, cands in best.items():
            cands.sort(reverse=True)
            top = [c for c in cands if c[0] >= th]
            if top and (len(top) == 1 or top[0][0] > top[1][0]):   # a tie at the top is refused
                links[rec] = top[0][1]
        by_threshold[th] = links
    return {"by_threshold": by_threshold, "version": res["splink_version"], "duckdb": res["duckdb_version"],
            "seconds": res["seconds"]}


# --- scoring ------------------------------------------------------------------------------------------
def score(data: dict, links: dict[str, str | None]) -> dict:
    """links: 'source#row' → linked ID (or None) for every bad-checksum record."""
    near_of = {}
    for a, b, kind in data["pairs"]:
        near_of[a], near_of[b] = (b, kind), (a, kind)
    tp = fp = fn = 0
    near_false = {"twins": 0, "twins_same_name": 0, "same_name_village": 0}
    near_eval = {"twins": 0, "twins_same_name": 0, "same_name_village": 0}
    by_kind: dict[str, dict] = {}
    for r in data["records"]:
        if is_valid(r["id"]):
            continue
        got = links.get(f"{r['source']}#{r['row_number']}")
        k = by_kind.setdefault(r["kind"] if r["true_id"] else "outsider", {"records": 0, "linked_right": 0,
                                                                            "linked_wrong": 0, "unlinked": 0})
        k["records"] += 1
        if got is None:
            k["unlinked"] += 1
        elif got == r["true_id"]:
            k["linked_right"] += 1
        else:
            k["linked_wrong"] += 1
        if r["true_id"] is not None:
            if got == r["true_id"]:
                tp += 1
            else:
                fn += 1
                if got is not None:
                    fp += 1
        elif got is not None:
            fp += 1
        if r["true_id"] in near_of:
            other, kind = near_of[r["true_id"]]
            near_eval[kind] += 1
            if got == other:
                near_false[kind] += 1
    p = tp / (tp + fp) if tp + fp else 1.0
    rc = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
    return {"precision": round(p, 5), "recall": round(rc, 5), "f1": round(f1, 5), "tp": tp, "fp": fp, "fn": fn,
            "near_duplicate_records": near_eval, "near_duplicate_false_links": near_false, "by_corruption": by_kind}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=60000)
    ap.add_argument("--rate", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "linkage.json"))
    ap.add_argument("--no-splink", action="store_true")
    ap.add_argument("--splink-python", default=os.environ.get("LINKAGE_SPLINK_PYTHON", DEFAULT_SPLINK_PY))
    ap.add_argument("--splink-worker", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.splink_worker:
        splink_worker(a.splink_worker)
        return 0
    t0 = time.perf_counter()
    data = build(a.persons, a.rate, a.seed)
    bad = [r for r in data["records"] if not is_valid(r["id"])]
    kinds = {}
    for x in data["pairs"]:
        kinds[x[2]] = kinds.get(x[2], 0) + 1
    report = {"command": " ".join([".venv/bin/python -m bench.linkage", *(argv if argv is not None else sys.argv[1:])]),
              "data": {"known_persons": len(data["known"]), "department_records": len(data["records"]),
                       "corrupted_records": len(bad), "rate": a.rate, "seed": a.seed,
                       "outsider_records_corrupted": sum(1 for r in bad if r["true_id"] is None),
                       "near_duplicate_pairs": kinds, "build_seconds": round(time.perf_counter() - t0, 1)}}
    res, secs = run_ours(data)
    ours = {f"{s}#{rn}": idn for (s, rn), (idn, _m) in res.items()}
    report["ours"] = {**score(data, ours), "seconds": round(secs, 2),
                      "methods": _count(m for (_s, _r), (_i, m) in res.items())}
    if a.no_splink:
        report["splink"] = {"skipped": "--no-splink"}
    elif not Path(a.splink_python).exists():
        report["splink"] = {"skipped": f"no Splink interpreter at {a.splink_python} "
                                       "(python3 -m venv /tmp/splink-venv && /tmp/splink-venv/bin/pip install 'splink>=4,<5')"}
    else:
        try:
            sp = run_splink(data, a.splink_python)
            report["splink"] = {"version": sp["version"], "duckdb": sp["duckdb"], "seconds": round(sp["seconds"], 2),
                                "by_threshold": {str(th): score(data, links) for th, links in sp["by_threshold"].items()}}
        except Exception as e:  # report, do not hide
            report["splink"] = {"error": f"{type(e).__name__}: {e}"}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    _print(report)
    print(f"\nwritten {out}")
    return 0


def _count(it) -> dict:
    c: dict = {}
    for x in it:
        c[x] = c.get(x, 0) + 1
    return dict(sorted(c.items()))


def _print(rep: dict) -> None:
    d = rep["data"]
    print(f"{d['known_persons']} known persons, {d['department_records']} department records, "
          f"{d['corrupted_records']} corrupted ({d['rate']:.0%}; {d['outsider_records_corrupted']} of outsiders), "
          f"near-duplicate pairs {d['near_duplicate_pairs']}")
    rows = [("ours (sql/reconcile/10_identity.sql)", rep["ours"])]
    sp = rep.get("splink", {})
    for th, s in sp.get("by_threshold", {}).items():
        rows.append((f"Splink {sp['version']} (DuckDB), p >= {th}", s))
    print(f"{'system':42} {'precision':>9} {'recall':>7} {'F1':>7} {'FP':>4} {'FN':>4}  near-dup false links")
    for name, s in rows:
        print(f"{name:42} {s['precision']:9.4f} {s['recall']:7.4f} {s['f1']:7.4f} {s['fp']:4d} {s['fn']:4d}  "
              f"{sum(s['near_duplicate_false_links'].values())} {s['near_duplicate_false_links']}")
    if "error" in sp or "skipped" in sp:
        print("Splink:", sp.get("error") or sp.get("skipped"))


if __name__ == "__main__":
    sys.exit(main())
