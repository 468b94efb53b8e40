"""stage_source on real files written to tmp_path."""
from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from assets.normalize import id_check_char
from assets.staging import stage_source

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
