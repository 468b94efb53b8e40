"""stage_source on real files written to tmp_path."""
from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from lim.ingest.normalize import id_check_char
from lim.ingest.staging import stage_source

MONTH = "2026-09"


def mk(body17: str) -> str:
    return body17 + id_check_char(body17)


A = mk("37032219900101123")
B = mk("37032219850505001")
C = mk("37032220010101002")


def bad_check(valid: str) -> str:
    wrong = "0" if valid[-1] != "0" else "1"
    return valid[:-1] + wrong


def write_csv(root: Path, source: str, lines: list[str], encoding: str = "utf-8", ext: str = "csv") -> Path:
    d = root / MONTH
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{source}.{ext}"
    p.write_text("\n".join(lines) + "\n", encoding=encoding)
    return p


def stage(root: Path, source: str):
    return stage_source(source, MONTH, root / MONTH, root)


def assert_invariant(r):
    assert r.status == "accepted"
    assert r.rows_in == r.accepted.height + r.duplicates + r.quarantine.height


HR_HEADER = "身份证号,姓名,就业状态,月工资（元）,月养老金,月失业保险金,备注"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_hr_csv_encodings(tmp_path, encoding):
    write_csv(
        tmp_path,
        "hr",
        [
            HR_HEADER,
            f"{A},张 三,就业,\"1,234.50\",,,x",
            f"{A},张三,就业,1234.5,,,y",
            f"{bad_check(B)},李四,退休,,2000,,",
            "3.70322E+17,王五,就业,100,,,",
            f"{C},赵六,上学,,,,",
            f"{C},赵六,就业,-300,,,",
            ",钱七,就业,,,,",
            f"{B[:6]}{B[8:17]},孙八,未就业,,,,",
        ],
        encoding=encoding,
    )
    r = stage(tmp_path, "hr")
    assert_invariant(r)
    assert r.file == f"{MONTH}/hr.csv"
    assert r.rows_in == 8 and r.duplicates == 1 and r.accepted.height == 3
    q = {row["row_number"]: row["reason_code"] for row in r.quarantine.to_dicts()}
    assert q == {5: "invalid_id", 6: "invalid_value", 7: "negative_amount", 8: "missing_required"}
    acc = {row["_row_number"]: row for row in r.accepted.to_dicts()}
    assert acc[2]["id_number"] == A and acc[2]["name"] == "张三" and acc[2]["monthly_wage"] == 1234.5
    assert acc[2]["_id_status"] == "valid"
    assert acc[4]["_id_status"] == "bad_checksum" and acc[4]["id_number"] == bad_check(B)
    assert acc[9]["_id_status"] == "upgraded_15" and acc[9]["id_number"] == B
    assert r.accepted.schema["monthly_wage"] == pl.Float64


# --------------------------------------------------------------------------- helpers for the rest
import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402

import openpyxl  # noqa: E402


def qmap(r) -> dict[int, str]:
    return {row["row_number"]: row["reason_code"] for row in r.quarantine.to_dicts()}


def by_row(r) -> dict[int, dict]:
    return {row["_row_number"]: row for row in r.accepted.to_dicts()}


def refused(r, status, rows_in=0):
    """Refused whole: nothing accepted or quarantined; rows_in counts the file's rows if it parsed."""
    assert r.status == status
    assert r.rows_in == rows_in and r.accepted.height == 0 and r.quarantine.height == 0 and r.duplicates == 0
    assert r.rows_accepted == 0 and r.rows_quarantined == 0
    assert r.message and r.file and r.file in r.message


# --------------------------------------------------------------------------- headers
def test_header_aliases_units_star_and_extra_columns(tmp_path):
    write_csv(
        tmp_path,
        "education",
        [
            "学生身份证号, 学生姓名 ,就读学段,学校,在学状态,学年费用合计（元）,*资助金额(元),班级",
            f"{A},张三,初中,第一中学,在读,\"1,200\",800,三(2)班",
        ],
    )
    r = stage(tmp_path, "education")
    assert_invariant(r)
    row = r.accepted.to_dicts()[0]
    assert row["id_number"] == A and row["stage"] == "初中" and row["school"] == "第一中学"
    assert row["annual_fees"] == 1200.0 and row["aid_received"] == 800.0
    assert r.extra_columns == ["班级"]
    assert "班级" not in r.accepted.columns
    assert json.loads(row["_raw"])["班级"] == "三(2)班"
    assert r.header_mapping["annual_fees"] == "学年费用合计（元）"


def test_one_alias_mapping_for_every_source():
    """extracts.md: aliases are kept in one mapping: a header's alias is accepted in every source that
    has a column with that header (hr once refused 身份证, which the register accepted)."""
    from lim.core.contracts import load_all_contracts, shared_aliases
    shared = shared_aliases()
    assert set(shared["公民身份号码"]) >= {"身份证号", "身份证号码", "证件号码"}  # the spec's own list
    for source, contract in load_all_contracts().items():
        mapping = contract.header_map()
        for col in contract.columns:
            for alias in shared.get(col.header, ()):
                assert mapping[alias] == col.canonical, (source, col.header, alias)


@pytest.mark.parametrize("source,lines,column", [
    ("hr", ["身份证,姓名,就业状态", "{A},张三,退休"], "id_number"),
    ("rural_revitalization", ["户编号,行政区划代码,身份证号,姓名,与户主关系,监测类别,风险已消除,家庭年人均纯收入,家庭其他收入",
                              "R1,370322100201,{A},张三,户主,脱贫户,否,9000,300"], "other_income"),
])
def test_an_alias_of_one_source_is_read_in_another(tmp_path, source, lines, column):
    write_csv(tmp_path, source, [line.format(A=A) for line in lines])
    r = stage(tmp_path, source)
    assert_invariant(r)
    assert r.status == "accepted" and r.accepted.height == 1
    assert r.accepted[column].to_list()[0] in (A, 300.0)


def test_contract_header_wins_over_alias(tmp_path):
    write_csv(tmp_path, "hr", ["身份证号,公民身份号码,姓名,就业状态", f"{B},{A},张三,就业"])
    r = stage(tmp_path, "hr")
    assert r.accepted["id_number"].to_list() == [A]
    assert r.extra_columns == ["身份证号"]


def test_missing_required_column_refused(tmp_path):
    write_csv(tmp_path, "hr", ["身份证号,姓名,月工资", f"{A},张三,100"])
    r = stage(tmp_path, "hr")
    refused(r, "missing_column", rows_in=1)  # its one row is refused with it, counted
    assert r.message == "文件 2026-09/hr.csv 缺少必需列：就业状态"


def test_missing_optional_column_is_null(tmp_path):
    write_csv(tmp_path, "hr", ["身份证号,姓名,就业状态", f"{A},张三,退休"])
    r = stage(tmp_path, "hr")
    assert_invariant(r)
    row = r.accepted.to_dicts()[0]
    assert row["monthly_wage"] is None and row["monthly_pension"] is None


# --------------------------------------------------------------------------- files
def test_missing_file(tmp_path):
    (tmp_path / MONTH).mkdir()
    r = stage(tmp_path, "hr")
    assert r.status == "missing" and r.file is None and r.sha256 is None and r.rows_in == 0
    assert "hr.csv|xlsx|parquet" in r.message
    r = stage(tmp_path, "household_registration")
    assert r.status == "missing" and "可选" in r.message


def test_missing_month_dir(tmp_path):
    r = stage(tmp_path, "hr")
    assert r.status == "missing"


def test_choice_of_file_and_ignored(tmp_path):
    d = tmp_path / MONTH
    d.mkdir()
    pl.DataFrame({"公民身份号码": [B], "姓名": ["李四"], "就业状态": ["就业"]}).write_parquet(d / "hr.parquet")
    (d / "hr.XLSX").write_bytes(b"whatever")
    r = stage(tmp_path, "hr")  # xlsx comes before parquet, even upper-case, and is unreadable
    assert r.file == f"{MONTH}/hr.XLSX" and r.status == "unreadable"
    assert r.ignored_files == [f"{MONTH}/hr.parquet"]
    (d / "hr.Csv").write_text(f"身份证号,姓名,就业状态\n{A},张三,就业\n", encoding="utf-8")
    r = stage(tmp_path, "hr")
    assert r.file == f"{MONTH}/hr.Csv" and r.status == "accepted"
    assert r.ignored_files == [f"{MONTH}/hr.XLSX", f"{MONTH}/hr.parquet"]
    assert r.accepted["id_number"].to_list() == [A]


def test_sha256_and_relative_path(tmp_path):
    p = write_csv(tmp_path, "hr", ["身份证号,姓名,就业状态", f"{A},张三,就业"])
    r = stage(tmp_path, "hr")
    assert r.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    r2 = stage_source("hr", MONTH, tmp_path / MONTH)  # landing_root defaults to the parent
    assert r2.file == f"{MONTH}/hr.csv"


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf\r\n"])
def test_empty_file_refused(tmp_path, content):
    d = tmp_path / MONTH
    d.mkdir()
    (d / "hr.csv").write_bytes(content)
    r = stage(tmp_path, "hr")
    refused(r, "empty_file")
    assert r.message.startswith("文件 2026-09/hr.csv 为空")
    assert r.sha256 == hashlib.sha256(content).hexdigest()


def test_unreadable_refused(tmp_path):
    d = tmp_path / MONTH
    d.mkdir()
    (d / "hr.csv").write_bytes(b"\xff\xfe\xfa\x81\x20,\n")
    r = stage(tmp_path, "hr")
    refused(r, "unreadable")
    assert r.message.startswith("文件 2026-09/hr.csv 无法读取")


def test_header_only_file_is_valid(tmp_path):
    write_csv(tmp_path, "health", ["公民身份号码,姓名,事件类型,疾病名称,事件日期"])
    r = stage(tmp_path, "health")
    assert_invariant(r)
    assert r.rows_in == 0 and r.accepted.height == 0
    assert r.accepted.schema["event_date"] == pl.Date and r.accepted.schema["_row_number"] == pl.Int64
    assert r.quarantine.schema == pl.Schema(
        {"row_number": pl.Int64, "reason_code": pl.Utf8, "reason": pl.Utf8, "column": pl.Utf8, "raw": pl.Utf8,
         "id_number": pl.Utf8, "name": pl.Utf8}
    )


def test_bad_month_argument(tmp_path):
    for bad in ("2026-9", "202609", "2026-13", "2026/09", ""):
        with pytest.raises(ValueError):
            stage_source("hr", bad, tmp_path, tmp_path)


# --------------------------------------------------------------------------- values
def test_names_with_spaces_and_dots(tmp_path):
    write_csv(
        tmp_path,
        "hr",
        ["身份证号,姓名,就业状态", f"{A},张 三,就业", f"{B},阿卜杜拉\u3000•买买提,就业", f"{C},玛丽・居里,就业"],
    )
    r = stage(tmp_path, "hr")
    assert r.accepted["name"].to_list() == ["张三", "阿卜杜拉·买买提", "玛丽·居里"]


def test_every_id_form(tmp_path):
    x_body = "11010519491231002"  # check char X
    xid = x_body + "X"
    fw = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    write_csv(
        tmp_path,
        "hr",
        [
            "身份证号,姓名,就业状态",
            f"{x_body}x,甲,就业",
            f"{xid.translate(fw)},乙,就业",
            f"'{A},丙,就业",
            f" {B[:6]} {B[6:]} ,丁,就业",
            f"\u3000{C}\u3000,戊,就业",
            f"{A[:6]}{A[8:17]},己,就业",
            f"{bad_check(B)},庚,就业",
            "3.70322E+17,辛,就业",
            "37032219900101,壬,就业",
            f"{A[:-1]}Y,癸,就业",
        ],
    )
    r = stage(tmp_path, "hr")
    assert_invariant(r)
    acc = by_row(r)
    assert {n: (acc[n]["id_number"], acc[n]["_id_status"]) for n in acc} == {
        2: (xid, "valid"),
        3: (xid, "valid"),
        4: (A, "valid"),
        5: (B, "valid"),
        6: (C, "valid"),
        7: (A, "upgraded_15"),
        8: (bad_check(B), "bad_checksum"),
    }
    assert qmap(r) == {9: "invalid_id", 10: "invalid_id", 11: "invalid_id"}
    reason = r.quarantine.filter(pl.col("row_number") == 9).to_dicts()[0]
    assert reason["reason"] == "公民身份号码 不是可识别的身份证号码：3.70322E+17" and reason["column"] == "id_number"


HEALTH = "公民身份号码,姓名,事件类型,疾病名称,事件日期"


def test_every_date_form(tmp_path):
    forms = ["2026-09-01", "2026/9/1", "20260901", "2026年9月1日", "2026-09-01 00:00:00", "46266", "46266.0"]
    ids = [mk(f"3703221990010{i:04d}") for i in range(len(forms))]
    write_csv(tmp_path, "health", [HEALTH] + [f"{i},张三,慢性病,,{d}" for i, d in zip(ids, forms)])
    r = stage(tmp_path, "health")
    assert_invariant(r)
    assert r.accepted["event_date"].to_list() == [dt.date(2026, 9, 1)] * len(forms)


def test_date_outside_month_and_invalid_date(tmp_path):
    write_csv(
        tmp_path,
        "health",
        [HEALTH, f"{A},张三,死亡,,2026-09-30", f"{B},李四,重大疾病,肺癌,2026-08-31", f"{C},王五,慢性病,,2026-02-30", f"{A},张三,死亡,,"],
    )
    r = stage(tmp_path, "health")
    assert_invariant(r)
    assert qmap(r) == {3: "date_outside_month", 4: "invalid_value", 5: "missing_required"}
    q = {row["row_number"]: row for row in r.quarantine.to_dicts()}
    assert q[3]["reason"] == "事件日期 不在数据月份 2026-09 内：2026-08-31" and q[3]["column"] == "event_date"
    assert q[4]["reason"] == "事件日期 无法识别为日期：2026-02-30"
    assert r.accepted["diagnosis"].to_list() == [None]


def test_wrong_month_refused(tmp_path):
    write_csv(tmp_path, "health", [HEALTH, f"{A},张三,死亡,,2026-08-30", f"{B},李四,慢性病,,2026/8/1"])
    r = stage(tmp_path, "health")
    refused(r, "wrong_month", rows_in=2)
    assert "2026-09" in r.message and "事件日期" in r.message


def test_a_file_without_a_readable_date_is_quarantined_not_refused(tmp_path):
    """No row of another month, only rows without a usable date (a one-row emergency file with an
    empty 受灾日期): the rows are quarantined one by one; the file is not taken for another month's."""
    write_csv(tmp_path, "health", [HEALTH, f"{A},张三,死亡,,", f"{B},李四,慢性病,,2026-02-30"])
    r = stage(tmp_path, "health")
    assert r.status == "accepted" and r.rows_in == 2
    assert_invariant(r)
    assert qmap(r) == {2: "missing_required", 3: "invalid_value"}
    # one row dated in another month among them: the file is another month's, refused as a whole
    write_csv(tmp_path, "health", [HEALTH, f"{A},张三,死亡,,", f"{B},李四,慢性病,,2026-08-03"])
    refused(stage(tmp_path, "health"), "wrong_month", rows_in=2)


def test_undated_source_has_no_month_check(tmp_path):
    write_csv(tmp_path, "civil_affairs_households", [
        "家庭编号,行政区划代码,城乡类别,救助类别,保障开始月份,渐退开始月份,月保障金额,家庭其他月收入,家庭金融资产,上次核查日期",
        "H001,370322100201,农村,低保,2019/3,,\"1,200\",300,,2025-01-15",
        "H002,370322100201.0,城市,特困,201903,2026年6月,800元,0,￥5000,46000",
        "H003,37032210020,城市,特困,2019-03,,800,0,0,2025-01-15",
        "H004,370322100202,城市,低保,2019-03,,800,,0,2025-01-15",
        "H005,370322100202,城市,低保,2019-13,,800,0,0,2025-01-15",
    ])
    r = stage(tmp_path, "civil_affairs_households")
    assert_invariant(r)
    acc = by_row(r)
    assert acc[2]["since_month"] == "2019-03" and acc[2]["monthly_benefit"] == 1200.0
    assert acc[2]["financial_assets"] is None  # empty_means: unknown → stays null
    assert acc[2]["gradual_exit_since"] is None
    assert acc[3]["region_code"] == "370322100201" and acc[3]["gradual_exit_since"] == "2026-06"
    assert acc[3]["financial_assets"] == 5000.0 and acc[3]["last_review_date"] == dt.date(2025, 12, 9)
    assert qmap(r) == {4: "invalid_value", 5: "missing_required", 6: "invalid_value"}
    q = {row["row_number"]: row for row in r.quarantine.to_dicts()}
    assert q[4]["column"] == "region_code" and q[5]["column"] == "other_income" and q[6]["column"] == "since_month"


def test_housing_integer_and_enum(tmp_path):
    write_csv(tmp_path, "housing", [
        "公民身份号码,姓名,房产套数,公积金月缴存额,公租房,危房等级",
        f"{A},张三,1,,否,",
        f"{B},李四,2.0,500,是,Ｃ",
        f"{C},王五,-1,,否,",
        f"{A[:-1]}0,赵六,0,,有,",
    ])
    r = stage(tmp_path, "housing")
    assert_invariant(r)
    acc = by_row(r)
    assert acc[2]["property_count"] == 1 and acc[2]["provident_fund_monthly"] is None and acc[2]["dangerous_house_grade"] is None
    assert acc[3]["property_count"] == 2 and acc[3]["dangerous_house_grade"] == "C"
    assert r.accepted.schema["property_count"] == pl.Int64
    assert qmap(r) == {4: "invalid_value", 5: "invalid_value"}


MED = "公民身份号码,姓名,结算日期,医疗总费用,统筹基金支付,大病保险支付,医疗救助支付,个人自付"


def test_medical_insurance_oop_identity(tmp_path):
    write_csv(tmp_path, "medical_insurance", [
        MED,
        f"{A},张三,2026-09-05,1000,600,100,200,100",
        f"{B},李四,2026-09-05,1000,600,100,200,100.01",  # within 0.01
        f"{C},王五,2026-09-05,1000,600,100,200,120",
        f"{A},张三,2026-09-06,1000,600,100,-200,500",  # negative wins over the identity
        f"{B},李四,2026-08-06,1000,600,100,200,120",  # outside month wins over the identity
    ])
    r = stage(tmp_path, "medical_insurance")
    assert_invariant(r)
    assert qmap(r) == {4: "oop_mismatch", 5: "negative_amount", 6: "date_outside_month"}
    q = {row["row_number"]: row for row in r.quarantine.to_dicts()}
    assert q[4]["column"] == "out_of_pocket"
    assert q[4]["reason"] == "个人自付 120.00 与 医疗总费用−统筹基金支付−大病保险支付−医疗救助支付 = 100.00 不符"
    assert q[5]["reason"] == "医疗救助支付 为负数：-200"


def test_reason_precedence_follows_contract_order(tmp_path):
    write_csv(tmp_path, "hr", [
        HR_HEADER,
        ",张三,上学,-1,,,",  # id missing first
        f"{A},,上学,-1,,,",  # then name
        f"{A},张三,上学,-1,,,",  # then employment_status
        f"{A},张三,就业,-1,abc,,",  # then monthly_wage before monthly_pension
        f"{bad_check(A)},张三,就业,-300,,,",  # bad checksum comes last: negative wins
    ])
    r = stage(tmp_path, "hr")
    assert_invariant(r)
    q = {row["row_number"]: (row["reason_code"], row["column"]) for row in r.quarantine.to_dicts()}
    assert q == {
        2: ("missing_required", "id_number"),
        3: ("missing_required", "name"),
        4: ("invalid_value", "employment_status"),
        5: ("negative_amount", "monthly_wage"),
        6: ("negative_amount", "monthly_wage"),
    }
    assert r.quarantine.filter(pl.col("row_number") == 6)["reason"].item() == "月工资 为负数：-300"


def test_duplicates_after_normalization(tmp_path):
    write_csv(tmp_path, "medical_insurance", [
        MED + ",备注",
        f"{A},张三,2026-09-05,\"1,000.00\",600,100,200,100,a",
        f"{A[:6]}{A[8:17]},张 三,2026/9/5,￥1000,600.0,100,200,100元,b",  # same after normalization
        f"'{A},张三,20260905,1000,600,100,200,100,c",
        f"{A},张三,2026-09-06,1000,600,100,200,100,d",  # another day: not a duplicate
        f"{B},李四,2026-09-05,1000,600,100,200,100,",
        f"{B},李四,2026-09-05,1000,600,100,200,100,",
        f"{B},李四,2026-09-05,1000,600,100,200,120,",  # quarantined, not a duplicate
    ])
    r = stage(tmp_path, "medical_insurance")
    assert_invariant(r)
    assert r.rows_in == 7 and r.duplicates == 3 and r.accepted.height == 3 and r.quarantine.height == 1
    assert r.accepted["_row_number"].to_list() == [2, 5, 6]  # first row of each group
    assert json.loads(r.accepted["_raw"][0])["备注"] == "a"


def test_copies_of_a_bad_row_are_duplicates_not_quarantine_rows(tmp_path):
    """extracts.md: the extra copies of a row "count as accepted (and in load_log's duplicate count),
    never as quarantine rows" — a bad row too, like a bad check digit that linking cannot resolve
    (which stays in the staged file and is de-duplicated with it): the first copy is quarantined."""
    write_csv(tmp_path, "hr", [
        "公民身份号码,姓名,就业状态,月工资",
        f"{A},张三,就业,-300",
        f"{A},张 三,就业,-300.00",  # the same negative amount after normalization: a copy
        f"{B},李四,就业,abc",
        f"{B},李四,就业,abc",      # a copy
        f"{B},李四,就业,xyz",      # another cell as written: another row
        f"{C},王五,就业,-5",
    ])
    r = stage(tmp_path, "hr")
    assert_invariant(r)
    assert qmap(r) == {2: "negative_amount", 4: "invalid_value", 6: "invalid_value", 7: "negative_amount"}
    assert r.rows_in == 6 and r.duplicates == 2 and r.accepted.height == 0
    assert r.quarantine.filter(pl.col("row_number") == 6)["reason"].item().endswith("xyz")


def test_rural_revitalization_household_columns_left_as_given(tmp_path):
    write_csv(tmp_path, "rural_revitalization", [
        "户编号,行政区划代码,公民身份号码,姓名,与户主关系,监测类别,风险已消除,家庭年人均纯收入,家庭其他月收入",
        f"R01,370322100201,{A},张三,户主,脱贫户,否,8000,",
        f"R01,370322100202,{B},李四,配偶,边缘易致贫户,是,9000,300",
    ])
    r = stage(tmp_path, "rural_revitalization")
    assert_invariant(r)
    assert r.quarantine.height == 0
    assert r.accepted["category"].to_list() == ["脱贫户", "边缘易致贫户"]
    assert r.accepted["other_income"].to_list() == [None, 300.0]


# --------------------------------------------------------------------------- XLSX and Parquet
def test_emergency_xlsx(tmp_path):
    d = tmp_path / MONTH
    d.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["户主身份证号", "户主姓名", "灾种", "受灾日期", "房屋受损情况", "直接经济损失（元）", "已发救助", "备注"])
    ws.append([A, "张 三", "洪涝", dt.date(2026, 9, 3), "一般损坏", 12000.5, 2000, None])
    ws.append([B, "李四", "洪涝", 46268, "无", "3,000", "0", "serial date"])
    ws.append([370322199001011238, "王五", "地震", dt.datetime(2026, 9, 4, 15, 0), "倒塌", 50000, 8000, "numeric ID"])
    ws.append([int(A[:6] + A[8:17]), "张三", "火灾", "2026年9月5日", "倒塌", 1, 1, "15-digit number"])
    ws.append([None] * 8)
    ws.append([C, "赵六", "洪涝", dt.date(2026, 10, 1), "无", 0, 0, None])
    ws["D2"].number_format = "yyyy/m/d"
    wb.save(d / "emergency.xlsx")
    r = stage(tmp_path, "emergency")
    assert_invariant(r)
    assert r.blank_rows == 1 and r.rows_in == 5
    acc = by_row(r)
    assert acc[2]["disaster_date"] == dt.date(2026, 9, 3) and acc[2]["name"] == "张三" and acc[2]["direct_loss"] == 12000.5
    assert acc[3]["disaster_date"] == dt.date(2026, 9, 3) and acc[3]["direct_loss"] == 3000.0
    assert acc[5]["id_number"] == A and acc[5]["_id_status"] == "upgraded_15"
    assert qmap(r) == {4: "invalid_id", 7: "date_outside_month"}


def test_xlsx_other_sheets_are_named_in_the_message(tmp_path):
    """Only the first sheet is read; a workbook with data on other sheets (one per town, or the data
    after an instructions sheet) says so in load_log's message instead of losing them unseen."""
    d = tmp_path / MONTH
    d.mkdir()
    wb = openpyxl.Workbook()
    wb.active.title = "田镇街道"
    wb.active.append(["公民身份号码", "姓名", "就业状态"])
    wb.active.append([A, "张三", "就业"])
    other = wb.create_sheet("芦湖街道")
    other.append(["公民身份号码", "姓名", "就业状态"])
    other.append([B, "李四", "就业"])
    wb.create_sheet("空表")
    wb.save(d / "hr.xlsx")
    r = stage(tmp_path, "hr")
    assert r.status == "accepted" and r.rows_in == 1
    assert r.message == "文件 2026-09/hr.xlsx：工作簿另有非空工作表未读取：芦湖街道（只读取第一个工作表 田镇街道）"

    wb = openpyxl.Workbook()
    wb.active.title = "填报说明"
    wb.active.append(["请在第二个工作表填写"])
    data = wb.create_sheet("数据")
    data.append(["公民身份号码", "姓名", "就业状态"])
    wb.save(d / "hr.xlsx")
    r = stage(tmp_path, "hr")
    assert r.status == "missing_column" and "数据（只读取第一个工作表 填报说明）" in r.message


def test_housing_parquet(tmp_path):
    d = tmp_path / MONTH
    d.mkdir()
    pl.DataFrame(
        {
            "身份证号码": [A, B, None],
            "姓名": ["张三", "李四", "王五"],
            "房产套数": [1, 0, 2],
            "公积金月缴存额": [512.345, None, 1.0],
            "公租房": ["否", "是", "否"],
            "危房等级": [None, "B", None],
        }
    ).write_parquet(d / "housing.parquet")
    r = stage(tmp_path, "housing")
    assert_invariant(r)
    assert r.file == f"{MONTH}/housing.parquet"
    acc = by_row(r)
    assert acc[2]["provident_fund_monthly"] == 512.35 and acc[2]["property_count"] == 1
    assert acc[3]["dangerous_house_grade"] == "B"
    assert qmap(r) == {4: "missing_required"}


def test_large_csv_invariant(tmp_path):
    n = 20_000
    lines = [HR_HEADER]
    for i in range(n):
        body = f"370322199{i % 10}{(i % 12) + 1:02d}{(i % 28) + 1:02d}{i % 1000:03d}"[:17]
        idn = mk(body) if i % 50 else bad_check(mk(body))
        wage = "-5" if i % 997 == 0 else f"{i % 5000}.5"
        lines.append(f"{idn},人{i},就业,{wage},,,")
    write_csv(tmp_path, "hr", lines)
    r = stage(tmp_path, "hr")
    assert_invariant(r)
    assert r.rows_in == n
    assert set(qmap(r).values()) == {"negative_amount"}
    assert r.accepted.filter(pl.col("_id_status") == "bad_checksum").height > 0
