"""Identity resolution (extracts.md "Bad input", interpretations.md #8), through the real pipeline.

One month (2026-06) is landed with a register of known persons and an `hr` extract whose ID
numbers arrive as given, in 15-digit form, or with one typo / one adjacent transposition /
garbled sequence digits. Each case checks the three traces a caseworker or analyst sees:
the `id_links` row (method, candidates, linked ID), the `quarantine` row (spreadsheet row
number, reason code) and that the record's facts (its wage) land on the right person in
`persons_monthly` — or on nobody when the link is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pytest

from tests.landing import check_digit, make_id, write_month
from tests.runs import run_months

M = "2026-06"
REGION = "370322101201"


def is_valid(id18: str) -> bool:
    return check_digit(id18[:17]) == id18[17]


def sub(id18: str, pos: int, digit: str | None = None) -> str:
    """One substitution at 1-based `pos` (a different digit; the result must fail the check)."""
    old = id18[pos - 1]
    for d in ([digit] if digit else "1234567890"):
        if d != old:
            out = id18[:pos - 1] + d + id18[pos:]
            if not is_valid(out):
                return out
    raise AssertionError("no failing substitution")


def swap(id18: str, pos: int) -> str:
    """Transpose the characters at 1-based `pos` and `pos + 1`."""
    a, b = id18[pos - 1], id18[pos]
    assert a != b, "transposing equal digits changes nothing"
    return id18[:pos - 1] + b + a + id18[pos + 1:]


def upgrade_back(id18: str) -> str:
    """The legacy 15-digit form of an ID born in the 1900s (no century, no check digit)."""
    assert id18[6:8] == "19"
    return id18[:6] + id18[8:17]


def with_check(body17: str) -> str:
    return body17 + check_digit(body17)


def wrong_check(body17: str, avoid: str = "") -> str:
    """body17 + a check digit that fails (and is none of `avoid`)."""
    good = check_digit(body17)
    return body17 + next(c for c in "0123456789X" if c != good and c not in avoid)


@dataclass
class Case:
    key: str
    name: str
    known: list[str]            # valid IDs the register knows under `name`
    delivered: str              # the ID as hr delivers it
    method: str | None          # id_links.method (None: no id_links row, taken as given)
    candidates: int | None
    linked: str | None          # the ID the record must land on (None: quarantined)
    dept_name: str | None = None  # hr's name when it differs from the register's
    reason: str | None = None   # quarantine.reason_code
    wage: float = 0
    row_number: int = 0
    extra_known: list[tuple[str, str]] = field(default_factory=list)  # (id, name) also in the register
    register_status: str = "正常"  # an unknown status quarantines the register row (for that cell only)


def cases() -> list[Case]:
    seq = iter(range(100, 999, 7))

    def new(birth="19800101", area="370322"):
        return make_id(birth, next(seq), area)

    out: list[Case] = []
    a = new()
    out.append(Case("exact", "赵一", [a], a, None, None, a))
    b = new("19750315")
    out.append(Case("upgraded_15", "钱二", [b], upgrade_back(b), "upgraded_15", None, b))
    # one substitution, anywhere: county part, birth date, sequence, the check digit itself
    for pos, name in [(2, "孙三"), (5, "孙四"), (9, "孙五"), (13, "孙六"), (16, "孙七"), (18, "孙八")]:
        p = new()
        out.append(Case(f"typo_1@{pos}", name, [p], sub(p, pos), "typo_1", 1, p))
    # adjacent transposition in the birth date (19800101 → 19801001-like) and in the sequence
    p = make_id("19800112", 345)
    out.append(Case("transposition@11", "李九", [p], swap(p, 11), "transposition", 1, p))
    p = make_id("19800112", 356)
    out.append(Case("transposition@15", "李十", [p], swap(p, 15), "transposition", 1, p))
    # an ID ending in X with its last two characters swapped, and a digit typed as X (extracts.md: a
    # substitution at any of the 18 positions, a transposition): staged as bad checksums, linked
    px = next(i for i in (make_id("19800112", n) for n in range(700, 900)) if i.endswith("X"))
    out.append(Case("transposition@17_X", "李十一", [px], swap(px, 17), "transposition", 1, px))
    p = new()
    out.append(Case("typo_1@10_X", "孙九", [p], p[:9] + "X" + p[10:], "typo_1", 1, p))
    # the known person's register row is quarantined for another cell (an unknown 户籍状态): the
    # person is still in the register (extracts.md: "known person (register ∪ roster ∪ RR)")
    p = new()
    out.append(Case("typo_1_register_row_quarantined", "孙十", [p], sub(p, 7), "typo_1", 1, p, register_status="待核"))
    # same name, same first 14 digits, sequence garbled (no tier-1 candidate)
    p = make_id("19660708", 123)
    bad = wrong_check(p[:14] + "987", avoid=p[17])
    assert not is_valid(bad)
    out.append(Case("same_birth", "周十一", [p], bad, "same_birth", 1, p))
    # --- refusals -------------------------------------------------------------------------------
    # two same-name persons (different birth years) each one substitution away
    a = make_id("19800101", 401)
    b = with_check(a[:9] + "1" + a[10:17])          # born 1981, differs from a at pos 10 and 18
    assert b[17] != a[17]
    bad = b[:17] + a[17]                            # 1 from a (pos 10), 1 from b (pos 18)
    out.append(Case("ambiguous_two_at_1", "吴十二", [a, b], bad, "id_ambiguous", 2, None, reason="id_ambiguous"))
    # same-name twins: same first 14 digits, the sequence garbled → tier 2 finds both
    t1, t2 = make_id("20100203", 411), make_id("20100203", 413)
    bad = wrong_check(t1[:14] + "977")
    out.append(Case("ambiguous_twins_same_birth", "郑小双", [t1, t2], bad, "id_ambiguous", 2, None,
                    reason="id_ambiguous"))
    # same-name twins, a typo one step from each twin
    t1, t2 = make_id("20100203", 421), make_id("20100203", 423)
    bad = t1[:17] + t2[17]                          # 1 from t1 (check), 1 from t2 (pos 17)
    out.append(Case("ambiguous_twins_at_1", "郑大双", [t1, t2], bad, "id_ambiguous", 2, None, reason="id_ambiguous"))
    # same-name twins, a typo one step from one twin only: tier 1 wins over the twin's tier 2
    t1, t2 = make_id("20100203", 431), make_id("20100203", 433)
    bad = sub(t1, 18, next(c for c in "0123456789" if c not in (t1[17], t2[17], check_digit(t1[:17]))))
    out.append(Case("twin_typo_links_one", "郑三双", [t1, t2], bad, "typo_1", 1, t1))
    # nobody of that name
    p = new()
    out.append(Case("unlinked_unknown", "无名氏", [], sub(p, 16), "id_unlinked", 0, None, reason="id_unlinked"))
    # a different name one substitution away: never linked on the number alone
    p = new()
    out.append(Case("unlinked_other_name", "王五", [p], sub(p, 18), "id_unlinked", 0, None, dept_name="王伍",
                    reason="id_unlinked"))
    # same name but two substitutions away and another birth date: refused
    p = new()
    bad = sub(sub(p, 4, "9"), 12)
    out.append(Case("unlinked_distance_2", "冯六", [p], bad, "id_unlinked", 0, None, reason="id_unlinked"))
    # a valid ID is never re-linked, even next to a same-name same-birth known person
    p = make_id("19900909", 501)
    q = make_id("19900909", 502)
    out.append(Case("valid_not_relinked", "陈七", [p], q, None, None, q))
    for i, c in enumerate(out):
        c.wage = 1000 + 10 * i
        c.row_number = i + 2          # header is row 1
    return out


# a roster member whose own ID has a typo: linked to the register, and the household lists the right ID
ROSTER_KNOWN = make_id("19700505", 601)
ROSTER_BAD = sub(ROSTER_KNOWN, 8)


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    root = tmp_path_factory.mktemp("identity")
    cs = cases()
    register, hr = [], []
    for i, c in enumerate(cs):
        for j, kid in enumerate(c.known):
            register.append(dict(id_number=kid, name=c.name, hukou_id=f"H{i:02d}{j}", relation="户主",
                                 region_code=REGION, urban_rural="农村", status=c.register_status))
        hr.append(dict(id_number=c.delivered, name=c.dept_name or c.name, employment_status="就业",
                       monthly_wage=c.wage))
    register.append(dict(id_number=ROSTER_KNOWN, name="蒋八", hukou_id="H99", relation="户主",
                         region_code=REGION, urban_rural="农村", status="正常"))
    tables = {
        "household_registration": register,
        "hr": hr,
        "civil_affairs_households": [dict(household_id="MZ1", region_code=REGION, urban_rural="农村",
                                          assistance_type="低保", since_month="2024-01", monthly_benefit=800,
                                          other_income=0, financial_assets=0, last_review_date="2026-05-15")],
        "civil_affairs_members": [dict(household_id="MZ1", id_number=ROSTER_BAD, name="蒋 八", relation="户主",
                                       labor_capacity="无")],
    }
    write_month(root / "landing", M, tables)
    env = run_months(root, [M])
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    yield {"cases": {c.key: c for c in cs}, "con": con}
    con.close()


def _rows(con, sql, *params):
    return con.sql(sql, params=list(params)).fetchall()


@pytest.mark.parametrize("key", [c.key for c in cases()])
def test_id_links_row(linked, key):
    c, con = linked["cases"][key], linked["con"]
    got = _rows(con, "SELECT method, candidates, id_number, id_raw, name FROM id_links "
                     "WHERE month = ? AND source = 'hr' AND row_number = ?", M, c.row_number)
    if c.method is None:
        assert got == []
    else:
        assert len(got) == 1
        method, candidates, id_number, raw, name = got[0]
        assert (method, candidates, id_number) == (c.method, c.candidates, c.linked)
        assert (raw, name) == (c.delivered, c.dept_name or c.name)


@pytest.mark.parametrize("key", [c.key for c in cases()])
def test_quarantine_row(linked, key):
    c, con = linked["cases"][key], linked["con"]
    got = _rows(con, "SELECT row_number, reason_code, column_name FROM quarantine WHERE month = ? AND source = 'hr' "
                     "AND row_number = ?", M, c.row_number)
    assert got == ([(c.row_number, c.reason, "id_number")] if c.reason else [])


@pytest.mark.parametrize("key", [c.key for c in cases()])
def test_facts_land_on_the_right_person(linked, key):
    c, con = linked["cases"][key], linked["con"]
    src = _rows(con, "SELECT id_number, link_method FROM src_hr WHERE month = ? AND row_number = ?", M, c.row_number)
    if c.linked is None:
        assert src == []
        # nobody got the wage, and the bad number did not become a person
        assert _rows(con, "SELECT count(*) FROM persons_monthly WHERE month = ? AND id_number = ?", M, c.delivered) == [(0,)]
        for kid in c.known:
            assert _rows(con, "SELECT monthly_wage FROM persons_monthly WHERE month = ? AND id_number = ?", M, kid) == [(0,)]
    else:
        expect_method = c.method or "exact"
        assert src == [(c.linked, expect_method)]
        got = _rows(con, "SELECT name, monthly_wage, employed FROM persons_monthly WHERE month = ? AND id_number = ?",
                    M, c.linked)
        assert got == [(c.name, c.wage, True)]
        for kid in c.known:
            if kid != c.linked:  # the other twin / namesake keeps nothing
                assert _rows(con, "SELECT monthly_wage FROM persons_monthly WHERE month = ? AND id_number = ?",
                             M, kid) == [(0,)]


def test_ambiguous_reason_names_the_candidates(linked):
    con = linked["con"]
    c = linked["cases"]["ambiguous_two_at_1"]
    (reason,), = _rows(con, "SELECT reason FROM quarantine WHERE month = ? AND source = 'hr' AND row_number = ?",
                       M, c.row_number)
    assert c.delivered in reason and "2 人" in reason


def test_roster_member_with_typo_linked_to_register(linked):
    con = linked["con"]
    assert _rows(con, "SELECT method, candidates, id_number FROM id_links WHERE month = ? AND source = 'civil_affairs_members'",
                 M) == [("typo_1", 1, ROSTER_KNOWN)]
    assert _rows(con, "SELECT id_number, name FROM household_members_monthly WHERE month = ? AND household_id = 'MZ1'",
                 M) == [(ROSTER_KNOWN, "蒋八")]


def test_rows_in_equals_accepted_plus_quarantined(linked):
    con = linked["con"]
    cs = linked["cases"].values()
    (rows_in, acc, q), = _rows(con, "SELECT rows_in, rows_accepted, rows_quarantined FROM load_log WHERE month = ? "
                                    "AND source = 'hr'", M)
    assert rows_in == len(cs) == acc + q
    assert q == sum(1 for c in cs if c.reason)


def test_a_quarantined_register_row_still_names_a_known_person(linked):
    con = linked["con"]
    c = linked["cases"]["typo_1_register_row_quarantined"]
    assert _rows(con, "SELECT reason_code, column_name FROM quarantine WHERE month = ? AND source = 'household_registration'",
                 M) == [("invalid_value", "status")]
    assert _rows(con, "SELECT count(*) FROM src_household_registration WHERE month = ? AND id_number = ?", M, c.linked) == [(0,)]


def test_every_method_audited(linked):
    """Every record of every source says how its ID was obtained."""
    con = linked["con"]
    got = {r[0] for r in _rows(con, "SELECT DISTINCT link_method FROM src_hr WHERE month = ?", M)}
    assert got == {"exact", "upgraded_15", "typo_1", "transposition", "same_birth"}
