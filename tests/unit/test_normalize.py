"""Value normalizers: every accepted form of extracts.md and every kind of bad value."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lim.ingest.normalize import (
    NormSpec,
    apply_normalizers,
    cell_to_str,
    id_check_char,
    id_checksum_ok,
    normalize_amount,
    normalize_date,
    normalize_enum,
    normalize_id,
    normalize_integer,
    normalize_month,
    normalize_name,
    normalize_region_code,
    normalize_series,
    normalize_text,
)

BODY = "37032219900101123"
ID = BODY + id_check_char(BODY)  # 370322199001011238
FW = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


# --------------------------------------------------------------------------- IDs
def test_check_digit_known_values():
    # GB 11643 example from the standard
    assert id_check_char("11010519491231002") == "X"
    assert ID == "370322199001011238"
    assert id_checksum_ok("11010519491231002X")
    assert not id_checksum_ok("110105194912310021")


@pytest.mark.parametrize(
    "raw",
    [
        ID,
        f" {ID} ",
        f"{ID[:6]} {ID[6:14]} {ID[14:]}",
        f"\u3000{ID}\u3000",
        f"'{ID}",
        f"\u2018{ID}",
        ID.translate(FW),
    ],
)
def test_id_valid_forms(raw):
    assert normalize_id(raw) == (ID, "valid")


@pytest.mark.parametrize("raw", ["11010519491231002x", "11010519491231002X", "11010519491231002ｘ", "１１０１０５１９４９１２３１００２Ｘ"])
def test_id_x_check_digit(raw):
    assert normalize_id(raw) == ("11010519491231002X", "valid")


def test_id_bad_checksum_is_kept():
    bad = ID[:-1] + "0"
    assert normalize_id(bad) == (bad, "bad_checksum")


def test_id_15_digit_upgraded():
    legacy = ID[:6] + ID[8:17]  # 370322900101123
    assert len(legacy) == 15
    assert normalize_id(legacy) == (ID, "upgraded_15")
    # a whole number cell from Excel (exact below 1e15)
    assert normalize_id(float(legacy)) == (ID, "upgraded_15")


@pytest.mark.parametrize(
    "raw",
    [
        "3.70322E+17",
        "3.70322e+17",
        3.70322199001011e17,  # a numeric Excel cell
        "37032219900101123",  # 17 digits
        "3703221990010112388",  # 19
        "37032219900101123A",
        "3703221990X10112X8",  # two X among the first 17: no single typo of a real ID
        "37032219900X10112XX",
        "370322199001011238.0",
        "abc",
    ],
)
def test_id_unrecoverable(raw):
    assert normalize_id(raw) == (None, "invalid_id")


@pytest.mark.parametrize("raw", ["3703221990X1011238", "3703221990010112X3", "X70322199001011238"])
def test_id_with_one_x_inside_is_a_bad_checksum_to_link(raw):
    """One X among the first 17: an X-final ID with its last two swapped, or a digit typed as X —
    one substitution or transposition from a real ID (extracts.md), left to reconciliation."""
    assert normalize_id(raw) == (raw, "bad_checksum")


def test_id_empty():
    assert normalize_id("") == (None, "missing_required")
    assert normalize_id(None) == (None, "missing_required")
    assert normalize_id("  ") == (None, "missing_required")
    assert normalize_id("", required=False) == (None, None)


DIGITS = st.text(alphabet="0123456789", min_size=17, max_size=17)


@settings(max_examples=200, deadline=None)
@given(body=DIGITS, pos=st.integers(0, 17), delta=st.integers(1, 10))
def test_property_check_digit_and_single_substitution(body, pos, delta):
    good = body + id_check_char(body)
    assert normalize_id(good) == (good, "valid")
    alphabet = "0123456789X" if pos == 17 else "0123456789"
    current = alphabet.index(good[pos])
    new = alphabet[(current + delta) % len(alphabet)]
    if new == good[pos]:  # delta == len(alphabet) for the body positions
        new = alphabet[(current + 1) % len(alphabet)]
    mutated = good[:pos] + new + good[pos + 1 :]
    assert mutated != good
    assert normalize_id(mutated) == (mutated, "bad_checksum")


@settings(max_examples=200, deadline=None)
@given(body=DIGITS, pos=st.integers(0, 16))
def test_property_adjacent_transposition_fails(body, pos):
    good = body + id_check_char(body)
    a, b = good[pos], good[pos + 1]
    if a == b:
        return  # an X-final ID swapped at 17: X inside, also a bad checksum
    swapped = good[:pos] + b + a + good[pos + 2 :]
    assert normalize_id(swapped) == (swapped, "bad_checksum")


def test_id_vectorized_matches_scalar():
    vals = [ID, ID.lower(), "'" + ID, ID[:-1] + "0", ID[:6] + ID[8:17], "3.70322E+17", None, ""]
    out = normalize_series("id", vals)
    assert out.to_dicts() == [
        {"value": v, "code": c} for v, c in (normalize_id(x) for x in vals)
    ]


# --------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("张三", "张三"),
        ("张 三", "张三"),
        (" 张\u3000三 ", "张三"),
        ("阿卜杜拉·买买提", "阿卜杜拉·买买提"),
        ("阿卜杜拉•买买提", "阿卜杜拉·买买提"),
        ("阿卜杜拉‧买买提", "阿卜杜拉‧买买提"),  # extracts.md: those three "and nothing else"
        ("阿卜杜拉．买买提", "阿卜杜拉·买买提"),
        ("阿卜杜拉・买买提", "阿卜杜拉·买买提"),
        ("阿卜杜拉･买买提", "阿卜杜拉･买买提"),
        ("阿卜杜拉 · 买买提", "阿卜杜拉·买买提"),
    ],
)
def test_names(raw, expected):
    assert normalize_name(raw) == (expected, None)


def test_name_empty():
    assert normalize_name("\u3000 ") == (None, "missing_required")


# --------------------------------------------------------------------------- dates
SEP1 = dt.date(2026, 9, 1)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-09-01",
        "2026/9/1",
        "2026/09/01",
        "2026-9-1",
        "20260901",
        "2026年9月1日",
        "2026年09月01日",
        "２０２６年９月１日",
        " 2026-09-01 ",
        "2026-09-01 00:00:00",
        "2026-09-01 08:30:00",
        "2026-09-01T08:30:00",
        "46266",
        "46266.0",
        46266,
        46266.0,
        dt.date(2026, 9, 1),
        dt.datetime(2026, 9, 1, 0, 0),
        dt.datetime(2026, 9, 1, 17, 45, 3),
    ],
)
def test_date_forms(raw):
    assert normalize_date(raw) == (SEP1, None)


def test_excel_serial_base():
    assert normalize_date("45658") == (dt.date(2025, 1, 1), None)
    assert normalize_date("46295.75") == (dt.date(2026, 9, 30), None)


@pytest.mark.parametrize("raw", ["2026-02-30", "2026-13-01", "2026/9", "9/1/2026", "昨天", "123", "2026-09-01x"])
def test_date_invalid(raw):
    assert normalize_date(raw) == (None, "invalid_value")


def test_date_empty():
    assert normalize_date("") == (None, "missing_required")
    assert normalize_date(None, required=False) == (None, None)


# --------------------------------------------------------------------------- months
@pytest.mark.parametrize(
    "raw",
    ["2025-03", "2025/3", "2025/03", "2025-3", "202503", "2025年3月", "2025年03月", "2025-03-01",
     "2025/3/15", "2025年3月1日", "20250301", "2025-03-01 00:00:00", dt.date(2025, 3, 9), dt.datetime(2025, 3, 1),
     "45717"],
)
def test_month_forms(raw):
    assert normalize_month(raw) == ("2025-03", None)


@pytest.mark.parametrize("raw", ["2025-13", "2025-00", "202513", "2025", "三月", "2025-3-32"])
def test_month_invalid(raw):
    assert normalize_month(raw) == (None, "invalid_value")


# --------------------------------------------------------------------------- amounts
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1234.5", 1234.5),
        ("1,234.50", 1234.5),
        ("1，234.50", 1234.5),
        ("￥1234", 1234.0),
        ("¥1234", 1234.0),
        ("¥ 1,234.56", 1234.56),
        ("1234元", 1234.0),
        ("１２３４．５", 1234.5),
        (" 1 234 ", 1234.0),
        ("0", 0.0),
        ("-0", 0.0),
        ("12.345", 12.35),
        ("1.005", 1.01),
        ("12.344", 12.34),
        (".5", 0.5),
        (1234.5, 1234.5),
        (800, 800.0),
        ("1.5e3", 1500.0),  # how a float cell of a Parquet file may be written
        ("12,345,678.9", 12345678.9),
        ("999,999,999,999.99", 999999999999.99),  # just under AMOUNT_MAX
    ],
)
def test_amount_forms(raw, expected):
    assert normalize_amount(raw) == (expected, None)


@pytest.mark.parametrize("raw, expected", [("-300", -300.0), ("-1,234.5", -1234.5), ("￥-12", -12.0), ("－５", -5.0)])
def test_amount_negative(raw, expected):
    assert normalize_amount(raw) == (expected, "negative_amount")


@pytest.mark.parametrize("raw", ["abc", "12a", "1.2.3", "--5", "约100", "100元整",
                                 # an ID number typed into an amount cell, as text or as Excel's float
                                 "360726199109071289", 3.607262e17, "1e400", "9999999999999999.99", "1000000000000",
                                 # a decimal comma or a misplaced separator is not guessed at
                                 "1.234,50", "12,34", "1,2345.6"])
def test_amount_invalid(raw):
    assert normalize_amount(raw) == (None, "invalid_value")


def test_amount_empty():
    assert normalize_amount("") == (None, None)  # optional: none
    assert normalize_amount(None, required=True) == (None, "missing_required")


# --------------------------------------------------------------------------- integers, region codes, enums, text
@pytest.mark.parametrize("raw, expected", [("3", 3), ("3.0", 3), (" ３ ", 3), ("0", 0), (2.0, 2), ("1,000", 1000)])
def test_integer_forms(raw, expected):
    assert normalize_integer(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["-1", "2.5", "两套", "1e3"])
def test_integer_invalid(raw):
    assert normalize_integer(raw) == (None, "invalid_value")


@pytest.mark.parametrize("raw", ["370322100201", "370322100201.0", 370322100201.0, 370322100201, "３７０３２２１００２０１", " 370322100201 ", "'370322100201"])
def test_region_code_forms(raw):
    assert normalize_region_code(raw) == ("370322100201", None)


@pytest.mark.parametrize("raw", ["37032210020", "3703221002011", "37032210020A", "370322100201.5"])
def test_region_code_invalid(raw):
    assert normalize_region_code(raw) == (None, "invalid_value")


def test_enum():
    allowed = ["城市", "农村"]
    assert normalize_enum("城市", allowed) == ("城市", None)
    assert normalize_enum(" 城 市\u3000", allowed) == ("城市", None)
    assert normalize_enum("城镇", allowed) == (None, "invalid_value")
    assert normalize_enum("", allowed) == (None, "missing_required")
    assert normalize_enum("", allowed, required=False) == (None, None)
    assert normalize_enum("Ｂ", ["A", "B"]) == ("B", None)  # NFKC
    assert normalize_enum("b", ["A", "B"]) == (None, "invalid_value")  # exact after NFKC


def test_text():
    assert normalize_text("  第一中学\u3000") == ("第一中学", None)
    assert normalize_text("第 一 中学") == ("第 一 中学", None)
    assert normalize_text(" ") == (None, "missing_required")
    assert normalize_text(None, required=False) == (None, None)


# --------------------------------------------------------------------------- cells and frames
def test_cell_to_str():
    assert cell_to_str(None) is None
    assert cell_to_str(46266.0) == "46266"
    assert cell_to_str(370322900101123.0) == "370322900101123"
    assert cell_to_str(3.70322199001011e17) == "3.70322199001011e+17"
    assert cell_to_str(1234.5) == "1234.5"
    assert cell_to_str(dt.datetime(2026, 9, 1)) == "2026-09-01"
    assert cell_to_str(dt.datetime(2026, 9, 1, 8, 5)) == "2026-09-01 08:05:00"
    assert cell_to_str(True) == "TRUE"


def test_apply_normalizers_lazy_and_eager_agree():
    df = pl.DataFrame({"id": [ID, "x"], "amt": ["1,200", "-3"], "d": ["2026/9/1", "46266"]})
    specs = [
        NormSpec("id", "id", "id_v", "id_c"),
        NormSpec("amount", "amt", "amt_v", "amt_c", required=True),
        NormSpec("date", "d", "d_v", "d_c"),
    ]
    eager = apply_normalizers(df, specs)
    lazy = apply_normalizers(df.lazy(), specs).collect()
    assert eager.equals(lazy)
    assert eager.columns == ["id", "amt", "d", "id_v", "id_c", "amt_v", "amt_c", "d_v", "d_c"]
    assert eager.schema["d_v"] == pl.Date and eager.schema["amt_v"] == pl.Float64
    assert eager["amt_v"].to_list() == [1200.0, -3.0]
    assert eager["amt_c"].to_list() == [None, "negative_amount"]


# --------------------------------------------------------------------------- contracts
def test_contracts_load_and_header_map():
    from lim.core.contracts import SOURCES, load_contract, normalize_header

    # the ten of extracts.md, then the optional civil_affairs_decisions of rules-variants.md B.2
    assert SOURCES[0] == "civil_affairs_households" and SOURCES[9] == "rural_revitalization" and len(SOURCES) == 11
    assert SOURCES[-1] == "civil_affairs_decisions" and load_contract("civil_affairs_decisions").optional
    hr = load_contract("hr")
    assert load_contract("hr") is hr  # cached
    hm = hr.header_map()
    for h in ("身份证号", "身份证号码", "公民身份号码", "证件号码"):
        assert hm[normalize_header(h)] == "id_number"
    assert hm[normalize_header(" *月工资（元/月）")] == "monthly_wage"
    assert normalize_header("＊学年费用(元)") == "学年费用"
    assert hr.required_columns == ["id_number", "name", "employment_status"]
    assert load_contract("health").in_month_columns == ["event_date"]
    assert load_contract("civil_affairs_households").unknown_when_empty == ["financial_assets"]
    assert load_contract("medical_insurance").has_oop_identity
    assert load_contract("household_registration").optional
    assert load_contract("housing").allowed_values["dangerous_house_grade"] == ("A", "B", "C", "D")
    assert load_contract("civil_affairs_households").id_column is None


def test_every_staged_id_passes_the_suites_id_format():
    """The GX suites' ID format (an ERROR expectation on the staged file) accepts every ID staging
    keeps for linking, and nothing staging refuses."""
    import re

    from lim.quality.expectations import _FORMAT_REGEX
    fmt = re.compile(_FORMAT_REGEX["id"])
    kept = ["11010519491231002X", "11010519491231002x", "110105194912310021", "3703221990X1011238",
            "X70322199001011238", "370322900101123"]
    refused = ["3703221990X10112X8", "37032219900101123", "3.70322E+17", "37032219900101123A"]
    for raw in kept:
        value, code = normalize_id(raw)
        assert code in ("valid", "bad_checksum", "upgraded_15") and fmt.search(value), raw
    for raw in refused:
        assert normalize_id(raw) == (None, "invalid_id") and not fmt.search(raw), raw


def test_suite_id_pattern_is_the_staged_id_shape():
    """ID18_PATTERN (RE2-compatible, for the GX suites) accepts exactly the 18-character strings of
    ID18_SHAPE that staging keeps; and pandas runs it in pyarrow, not row by row in Python."""
    import itertools
    import random
    import re

    import pandas as pd

    from lim.ingest.normalize import ID18_PATTERN, ID18_SHAPE

    suite, shape = re.compile(ID18_PATTERN), re.compile(f"^{ID18_SHAPE}$")
    rng = random.Random(7)
    samples = ["".join(rng.choice("0123456789XXa") for _ in range(rng.choice([17, 18, 18, 19]))) for _ in range(20000)]
    for i, j in itertools.product(range(18), repeat=2):  # every place of one or two X
        s = ["1"] * 18
        s[i] = s[j] = "X"
        samples.append("".join(s))
    for s in samples:
        assert bool(suite.search(s)) == (len(s) == 18 and bool(shape.search(s))), s
    arrow = pd.Series(samples, dtype="str").array
    assert not arrow._needs_python_regex(ID18_PATTERN)
