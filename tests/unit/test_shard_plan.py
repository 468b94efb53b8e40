"""The county shards' plan (sql/shard/10_plan.sql, lim/shard/plan.py) on a hand-made month: who goes
to which shard, and what a hostile region code can and cannot do."""
from __future__ import annotations

import pytest

from lim.shard.county import input_statements
from lim.shard.plan import plan_shards
from lim.warehouse import warehouse as wh

M = "2026-06"
A, B = "360726", "360781"          # two counties of the policy
P1, P2, P3, P4 = "360726198001010011", "360781199002020022", "110101197003030033", "360781200004040044"


@pytest.fixture()
def con(tmp_path):
    c = wh.connect(str(tmp_path / "w.duckdb"), "1GB", 1)
    for t in ("household_registration", "civil_affairs_households", "civil_affairs_members", "rural_revitalization",
              "civil_affairs_decisions"):
        wh.replace_stage_month(c, f"src_{t}", M)
    c.execute("INSERT INTO months.src_civil_affairs_households (month, household_id, region_code) VALUES "
              f"('{M}', 'H1', '{A}001001'), ('{M}', 'H2', '{B}001001'), ('{M}', 'H3', '999999001001')")
    # P1 in rosters of both counties (A's H1, B's H2); P3 (born in Beijing) in B's roster; P4 only in H3,
    # a household whose region code names no county of the policy
    c.execute("INSERT INTO months.src_civil_affairs_members (month, household_id, id_number) VALUES "
              f"('{M}', 'H1', '{P1}'), ('{M}', 'H2', '{P1}'), ('{M}', 'H2', '{P3}'), ('{M}', 'H3', '{P4}')")
    c.execute(f"INSERT INTO months.src_household_registration (month, hukou_id, id_number, region_code) VALUES "
              f"('{M}', 'K1', '{P2}', '{B}002003')")
    # a hostile file: a thousand region codes of counties nobody knows
    c.execute(f"INSERT INTO months.src_rural_revitalization (month, rr_household_id, id_number, region_code) "
              f"SELECT '{M}', 'R' || i, '{P2}', lpad(i::VARCHAR, 6, '0') || '000000' FROM range(100000, 101000) t(i)")
    yield c
    c.close()


def test_the_shards_are_the_policy_counties_m_names(con):
    assert plan_shards(con, M, [A, B, "360000"]) == [A, B]
    # every other county code of M goes to the first shard: a hostile file makes no extra shard
    other = con.sql(f"SELECT DISTINCT shard FROM months.shard_counties WHERE county_code NOT IN ('{A}', '{B}')").fetchall()
    assert other == [(A,)]
    assert con.sql("SELECT count(*) FROM months.shard_counties").fetchall()[0][0] == 2 + 1 + 1000


def test_a_person_goes_to_every_county_m_lists_them_in_and_is_owned_by_one(con):
    plan_shards(con, M, [A, B])
    got = con.sql("SELECT id_number, shard, owner FROM months.shard_persons ORDER BY ALL").fetchall()
    assert (P1, A, True) in got and (P1, B, False) in got          # the person in two counties' rosters
    assert (P3, B, True) in got                                     # by their household, not their ID's county
    assert (P4, A, True) in got                                     # an unknown county's household: first shard
    assert {(i, s) for i, s, _ in got if i == P2} == {(P2, B), (P2, A)}  # register in B, RR rows of unknown counties
    assert all(sum(o for i2, _, o in got if i2 == i) == 1 for i, _, _ in got)


def test_a_policy_without_any_county_of_the_month_still_gets_one_shard(con):
    assert plan_shards(con, M, ["510000"]) == ["510000"]


def test_shard_inputs_refuse_a_name_that_is_not_a_county_code():
    assert "shard_persons WHERE shard = '360726'" in input_statements(A)["hr"]
    with pytest.raises(ValueError):
        input_statements("1'; DROP TABLE x; --")
