"""Households considered in month M (rules.md "Households considered in month M"), through the
real pipeline: roster wins over rural revitalization, which wins over the register; register
households only with a signal of a 正常 member; the dead out of the size n; age on the last day
of M; a person in two roster households counted in both."""
from __future__ import annotations

import duckdb
import pytest

from tests.landing import make_id, write_month
from tests.runs import run_months

M = "2026-06"
RURAL = "370322101201"
URBAN = "370322001001"
ADULT = "19800101"

_seq = iter(range(700, 999))


def pid(birth: str = ADULT) -> str:
    return make_id(birth, next(_seq))


P = {k: pid() for k in "X X2 Y Z W A B C D E F G K K2 L N O R S T U".split()}
P["P18"] = pid("20080630")   # 18 on 2026-06-30, the last day of M
P["Q17"] = pid("20080701")   # 17 until 2026-07-01


def ca(hid, members, region=RURAL, urban_rural="农村"):
    h = dict(household_id=hid, region_code=region, urban_rural=urban_rural, assistance_type="低保",
             since_month="2024-01", monthly_benefit=500, other_income=0, financial_assets=0,
             last_review_date="2026-05-15")
    m = [dict(household_id=hid, id_number=P[k], name=f"民{k}", relation="户主" if i == 0 else "子女",
              labor_capacity="有") for i, k in enumerate(members)]
    return h, m


def rr(hid, members):
    return [dict(rr_household_id=hid, region_code=RURAL, id_number=P[k], name=f"民{k}",
                 relation="户主" if i == 0 else "子女", category="脱贫户", risk_eliminated="否",
                 annual_net_income_per_capita=9000, other_income=0) for i, k in enumerate(members)]


def rr_typo(hid):
    """RR lists the roster member X2 under a mistyped ID (one substitution): linked, so RR-3 shares X2."""
    row = rr(hid, ["X2"])[0]
    i = row["id_number"]
    row["id_number"] = next(b for d in "0123456789" if d != i[3]
                            for b in [i[:3] + d + i[4:]] if make_id(b[6:14], int(b[14:17]), b[:6]) != b)
    return [row]


def reg(hukou, members, status=None, regions=None):
    status, regions = status or {}, regions or {}
    return [dict(id_number=P[k], name=f"民{k}", hukou_id=hukou, relation="户主" if i == 0 else "子女",
                 region_code=regions.get(k, (RURAL, "农村"))[0], urban_rural=regions.get(k, (RURAL, "农村"))[1],
                 status=status.get(k, "正常")) for i, k in enumerate(members)]


def landing() -> dict[str, list[dict]]:
    hh, mem = [], []
    for hid, members in [("CA-1", ["X", "X2"]), ("CA-6", ["K2", "K"]), ("CA-7", ["L", "N", "O"]),
                         ("CA-8", ["P18", "Q17"]), ("CA-9a", ["R", "S"]), ("CA-9b", ["R"])]:
        h, m = ca(hid, members)
        hh.append(h)
        mem += m
    return {
        "civil_affairs_households": hh,
        "civil_affairs_members": mem,
        # RR-1 shares X with the roster: not considered. RR-2 is considered.
        "rural_revitalization": rr("RR-1", ["Y", "X"]) + rr("RR-2", ["Z"]) + rr_typo("RR-3"),
        "household_registration": (
            reg("H-2", ["W", "Z"])                                    # Z is in RR-2: not considered
            + reg("H-3", ["A", "B"])                                  # no signal
            + reg("H-4", ["C", "D"], regions={"C": (URBAN, "城市")})  # D unemployed: considered
            + reg("H-5", ["E", "F"], status={"F": "死亡注销"})          # only the 死亡注销 member has events
            + reg("H-6", ["G", "K"], status={"K": "迁出"})             # K (迁出) is a roster member of CA-6
            + reg("H-7", ["O"], status={"O": "死亡注销"})               # O dead by the register
            + reg("H-10", ["T", "U"])                                 # T 正常, dies in M (a health event)
        ),
        "hr": [dict(id_number=P["D"], name="民D", employment_status="失业登记"),
               dict(id_number=P["F"], name="民F", employment_status="未就业"),
               dict(id_number=P["G"], name="民G", employment_status="失业登记")],
        "medical_insurance": [dict(id_number=P["W"], name="民W", settlement_date="2026-06-03", total_cost=1000,
                                   fund_paid=600, critical_illness_paid=0, medical_assistance_paid=0,
                                   out_of_pocket=400)],
        "health": [dict(id_number=P["F"], name="民F", event_type="重大疾病", diagnosis="肺癌", event_date="2026-06-05"),
                   dict(id_number=P["N"], name="民N", event_type="死亡", event_date="2026-06-10"),
                   dict(id_number=P["T"], name="民T", event_type="死亡", event_date="2026-06-20")],
    }


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    root = tmp_path_factory.mktemp("households")
    write_month(root / "landing", M, landing())
    env = run_months(root, [M])
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    yield con
    con.close()


def households(con) -> dict[tuple[str, str], tuple]:
    rows = con.sql("SELECT household_source, household_id, n_listed, n_living, region_code, urban_rural, head_id_number "
                   "FROM households_monthly WHERE month = ?", params=[M]).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def members(con, hid: str) -> list[str]:
    return sorted(r[0] for r in con.sql("SELECT id_number FROM household_members_monthly WHERE month = ? AND household_id = ?",
                                        params=[M, hid]).fetchall())


def test_considered_households_exactly(county):
    assert sorted(households(county)) == sorted([
        ("civil_affairs", h) for h in ("CA-1", "CA-6", "CA-7", "CA-8", "CA-9a", "CA-9b")] + [
        ("rural_revitalization", "RR-2"),
        ("household_registration", "H-4"), ("household_registration", "H-10")])


def test_roster_wins_over_rural_revitalization(county):
    hh = households(county)
    assert ("rural_revitalization", "RR-1") not in hh
    got = county.sql("SELECT household_source, household_id FROM household_members_monthly WHERE month = ? AND id_number = ?",
                     params=[M, P["X"]]).fetchall()
    assert got == [("civil_affairs", "CA-1")]
    # Y, RR-1's other member, is in no considered household
    assert county.sql("SELECT count(*) FROM household_members_monthly WHERE month = ? AND id_number = ?",
                      params=[M, P["Y"]]).fetchall() == [(0,)]


def test_rr_member_linked_by_typo_is_a_roster_member(county):
    assert ("rural_revitalization", "RR-3") not in households(county)
    assert county.sql("SELECT method, id_number FROM id_links WHERE month = ? AND source = 'rural_revitalization'",
                      params=[M]).fetchall() == [("typo_1", P["X2"])]


def test_rural_revitalization_wins_over_register(county):
    hh = households(county)
    assert hh[("rural_revitalization", "RR-2")][:4] == (1, 1, RURAL, "农村")
    assert ("household_registration", "H-2") not in hh  # W's settlement is a signal, but Z is RR-2's


def test_register_household_without_signal_not_considered(county):
    assert ("household_registration", "H-3") not in households(county)


def test_register_household_with_signal_takes_its_heads_region(county):
    n_listed, n_living, region, urban_rural, head = households(county)[("household_registration", "H-4")]
    assert (n_listed, n_living, region, urban_rural, head) == (2, 2, URBAN, "城市", P["C"])


def test_events_of_a_deregistered_member_are_no_signal(county):
    assert ("household_registration", "H-5") not in households(county)


def test_register_household_with_a_roster_member_in_any_status_not_considered(county):
    assert ("household_registration", "H-6") not in households(county)


def test_dead_excluded_from_n(county):
    hh = households(county)
    # N: health 死亡 in M; O: 户籍 死亡注销 in M's register
    assert hh[("civil_affairs", "CA-7")][:2] == (3, 1)
    living = dict(county.sql("SELECT id_number, is_living FROM household_members_monthly WHERE month = ? AND household_id = 'CA-7'",
                             params=[M]).fetchall())
    assert living == {P["L"]: True, P["N"]: False, P["O"]: False}
    # a 正常 register member who dies in M: the death event is a signal; the household is screened without them
    assert hh[("household_registration", "H-10")][:2] == (2, 1)


def test_age_on_the_last_day_of_month(county):
    ages = dict(county.sql("SELECT id_number, age FROM household_members_monthly WHERE month = ? AND household_id = 'CA-8'",
                           params=[M]).fetchall())
    assert ages == {P["P18"]: 18, P["Q17"]: 17}


def test_person_in_two_roster_households_counted_in_both(county):
    hh = households(county)
    assert hh[("civil_affairs", "CA-9a")][:2] == (2, 2)
    assert hh[("civil_affairs", "CA-9b")][:2] == (1, 1)
    assert members(county, "CA-9a") == sorted([P["R"], P["S"]])
    assert members(county, "CA-9b") == [P["R"]]
