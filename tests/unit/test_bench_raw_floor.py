"""The benchmark's raw floor (bench/floor.py, issue #19) on a tiny generated landing: one table per
landing CSV with its row count, IDs normalized as lim/ingest/normalize.py normalizes them (ordinary
cases: full-width digits, lower-case x, spaces, leading quote, zero-width), and the helpers of
bench/run.py for county shards (mapped step keys, critical path, result names)."""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from bench.floor import KNOWN, landing_files, raw_floor_sql, run_raw_floor
from bench.run import critical_path, result_name, split_step_key
from lim.core.contracts import SOURCES, load_contract
from lim.ingest.normalize import normalize_id

MONTH = "2026-06"
#: ways a department writes an ordinary 18-character ID (each → the same ID after normalization)
VARIANTS = [
    lambda i: i.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),  # full width
    lambda i: i.lower(),
    lambda i: f"  {i} ",
    lambda i: f"\u3000{i}\u3000",
    lambda i: "'" + i,
    lambda i: i[:6] + " " + i[6:14] + "\u200b" + i[14:],
    lambda i: "\u2018" + i.translate(str.maketrans("0123456789", "０１２３４５６７８９")).lower(),
]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    from generator import generate

    root = tmp_path_factory.mktemp("raw-floor") / "landing"
    generate(root, households=200, months=1, start=MONTH, seed=3, truth=False)
    month = root / MONTH
    # messy but ordinary IDs in the register and in hr (a person's hr row keeps matching the register)
    for source in ("household_registration", "hr"):
        path = month / f"{source}.csv"
        rows = _rows(path)
        header = load_contract(source).header_of("id_number")
        for n, r in enumerate(rows):
            if n % 3 == 0:
                r[header] = VARIANTS[(n // 3) % len(VARIANTS)](r[header])
        _write(path, rows)
    return month


def test_one_table_per_source_with_the_landing_rows(landing, tmp_path):
    res = run_raw_floor(landing, memory="1GB", threads=1, workdir=tmp_path)
    present = [s for s in SOURCES if landing_files(landing, s)]
    assert len(present) >= 10
    for s in present:
        assert res["tables"][f"r_{s}"] == len(_rows(landing / f"{s}.csv")), s
    assert res["landing_files"]["hr"] == ["hr.csv"]
    assert res["seconds"] > 0 and "read_csv" in res["sql"] and "CHECKPOINT" not in res["sql"]


def test_normalized_ids_match_the_pipeline(landing):
    con = duckdb.connect()
    con.execute(raw_floor_sql(landing))
    checked = 0
    for s in SOURCES:
        c = load_contract(s)
        if not c.id_column or not landing_files(landing, s):
            continue
        header = c.header_of(c.id_column)
        got = con.sql(f'SELECT "{header}", id_number, known FROM r_{s}').fetchall()
        raw = sorted(r[header] for r in _rows(landing / f"{s}.csv"))
        assert sorted(g[0] or "" for g in got) == raw, s  # every landing cell, as written
        for cell, id_number, known in got:
            want, code = normalize_id(cell)
            assert code in ("valid", "bad_checksum"), (s, cell, code)  # ordinary IDs only
            assert id_number == want, (s, cell)
            if s in KNOWN:
                assert known
            checked += 1
    assert checked > 1000
    # the messy cells were there and normalized
    messy = con.sql("SELECT count(*) FROM r_household_registration WHERE \"公民身份号码\" <> id_number").fetchall()[0][0]
    assert messy >= len(VARIANTS)
    # persons: the distinct normalized IDs of the three sources of known people
    want = set()
    for s in KNOWN:
        header = load_contract(s).header_of("id_number")
        want |= {normalize_id(r[header])[0] for r in _rows(landing / f"{s}.csv")}
    assert {r[0] for r in con.sql("SELECT id_number FROM persons").fetchall()} == want
    # the roster's households: one row each, their members counted through 家庭编号
    members = con.sql("SELECT sum(members) FROM r_civil_affairs_households").fetchall()[0][0]
    assert members == len(_rows(landing / "civil_affairs_members.csv"))


def test_norm_id_cases():
    con = duckdb.connect()
    con.execute(raw_floor_sql(Path("/nonexistent")))  # no files: the macro and an empty persons
    base = "11010519491231002X"
    for v in VARIANTS + [lambda i: "\ufeff" + i + "\t", lambda i: "\u00a0" + i]:
        cell = v(base)
        assert con.sql("SELECT norm_id(?)", params=[cell]).fetchall()[0][0] == normalize_id(cell)[0] == base, cell
    assert con.sql("SELECT norm_id(' '), norm_id(NULL)").fetchall()[0] == (None, None)


def test_mapped_steps_and_critical_path():
    assert split_step_key("county_shard[360726]") == ("county_shard", "360726")
    assert split_step_key("persons_monthly") == ("persons_monthly", None)
    steps = {"staged_hr": {"seconds": 2.0}, "published_month": {"seconds": 3.0},
             "county_shard[360726]": {"seconds": 4.0}, "county_shard[360727]": {"seconds": 6.0},
             "county_rules[360726]": {"seconds": 1.0}, "county_rules[360727]": {"seconds": 0.5}}
    cp = critical_path(steps)
    assert cp["global_seconds"] == 5.0 and cp["global_steps"] == 2
    assert cp["shard_steps"] == 4 and cp["shard_keys"] == 2
    assert cp["shard_sum_seconds"] == 11.5 and cp["shard_max_seconds"] == 6.5 and cp["slowest_key"] == "360727"
    assert cp["serial_seconds"] == 16.5 and cp["critical_path_seconds"] == 11.5
    assert cp["global_share"] == round(5.0 / 11.5, 3)
    assert cp["by_op"]["county_shard"] == {"count": 2, "sum_seconds": 10.0, "max_seconds": 6.0, "max_key": "360727"}
    none = critical_path({"a": {"seconds": 1.0}})
    assert none["shard_steps"] == 0 and none["global_share"] == 1.0
    assert result_name("prefecture") == "prefecture"
    assert result_name("prefecture", "county", "multiprocess") == "prefecture-county-shards-multiprocess"
    assert result_name("county", executor="multiprocess", counties=3) == "county-3-counties-multiprocess"


def test_county_subfolders_read_together(landing, tmp_path):
    """A landing with one sub-folder per county: each source's files read in one read_csv."""
    month = tmp_path / "sharded" / MONTH
    present = [s for s in SOURCES if landing_files(landing, s)]
    for s in present:
        rows = _rows(landing / f"{s}.csv")
        half = (len(rows) + 1) // 2
        for county, part in (("410523", rows[:half]), ("410524", rows[half:] or rows[:1])):
            (month / county).mkdir(parents=True, exist_ok=True)
            _write(month / county / f"{s}.csv", part)
    res = run_raw_floor(month, memory="1GB", threads=1, workdir=tmp_path)
    for s in present:
        n = len(_rows(landing / f"{s}.csv"))
        assert res["tables"][f"r_{s}"] == (n if n > 1 else 2), s
        assert res["landing_files"][s] == [f"410523/{s}.csv", f"410524/{s}.csv"]
    assert "union_by_name = true" in res["sql"]
