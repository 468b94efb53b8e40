"""Batch staging of big CSVs (lim/ingest/streaming.py) gives exactly what the whole-file path gives."""
from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from lim.ingest import streaming
from lim.ingest.sources import stage_one, staged_paths
from lim.ingest.normalize import id_check_char
from lim.core.contracts import SOURCES
from assets.resources import LandingResource, StagingResource

MONTH = "2026-09"


def mk(body17: str) -> str:
    return body17 + id_check_char(body17)


A, B, C = mk("37032219900101123"), mk("37032219850505001"), mk("37032220010101002")
BAD_B = B[:-1] + ("0" if B[-1] != "0" else "1")


def _both(tmp_path: Path, landing: Path, month: str, source: str, monkeypatch, batch_rows: int):
    out = {"streamed": []}
    original = streaming._stream

    def spy(*a, **k):
        r = original(*a, **k)
        out["streamed"].append(r is not None)
        return r

    monkeypatch.setattr(streaming, "_stream", spy)
    for mode in ("whole", "stream"):
        monkeypatch.setattr(streaming, "STREAM_MIN_BYTES", 0 if mode == "stream" else 1 << 62)
        monkeypatch.setattr(streaming, "BATCH_ROWS", batch_rows)
        st = StagingResource(root=str(tmp_path / f"staged-{mode}"))
        load = stage_one(source, month, LandingResource(root=str(landing)), st)
        paths = staged_paths(st.month_dir(month), source)
        frames = {k: pl.read_parquet(paths[k]) if paths[k].exists() else None for k in ("accepted", "quarantine")}
        out[mode] = (load, frames, json.loads(paths["load"].read_text(encoding="utf-8")))
    return out


def _assert_same(out):
    (lw, fw, jw), (ls, fs, js) = out["whole"], out["stream"]
    assert ls == lw and js == jw
    for k in ("accepted", "quarantine"):
        if fw[k] is None:
            assert fs[k] is None
        else:
            assert fs[k].schema == fw[k].schema, k
            assert fs[k].equals(fw[k]), k


HR = "身份证号,姓名,就业状态,月工资（元）,月养老金,月失业保险金,备注"


@pytest.mark.parametrize("batch_rows", [1, 3, 1000])
def test_hr_with_duplicates_blank_lines_quarantine(tmp_path, monkeypatch, batch_rows):
    lines = [HR, f'{A},张 三,就业,"1,234.50",,,x', f"{A},张三,就业,1234.5,,,y", "", f"{BAD_B},李四,退休,,2000,,",
             "3.70322E+17,王五,就业,100,,,", ",,,,,,", f"{C},赵六,上学,,,,", f'{C},"赵六",上学,,,,"多行\n备注"',
             f"{A},张三,就业,-5,,,", f"{B},李四,退休,,2000,,", f"{B},李四,退休,,2000,,z",
             f"{A},张三,就业,-5.00,,,w", f"{C},赵六,上学,abc,,,", f"{C},赵六,上学,abc,,,"]
    d = tmp_path / "landing" / MONTH
    d.mkdir(parents=True)
    (d / "hr.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = _both(tmp_path, tmp_path / "landing", MONTH, "hr", monkeypatch, batch_rows)
    assert out["streamed"] == [True]
    assert out["whole"][0]["duplicates"] >= 4 and out["whole"][0]["quarantined"] >= 3
    _assert_same(out)


def test_wrong_month_and_gbk_fall_back(tmp_path, monkeypatch):
    d = tmp_path / "landing" / MONTH
    d.mkdir(parents=True)
    (d / "health.csv").write_text(f"身份证号,姓名,事件类型,诊断,事件日期\n{A},张三,重大疾病,癌,2026-01-05\n", encoding="utf-8")
    (d / "hr.csv").write_text(f"{HR}\n{A},张三,就业,100,,,\n", encoding="gbk")
    for s in ("health", "hr"):
        _assert_same(_both(tmp_path, tmp_path / "landing", MONTH, s, monkeypatch, 1))


@pytest.mark.parametrize("dates", [["", "2026-02-30"], ["", "2026-01-05"], ["2026-09-03", ""]])
def test_dated_file_without_a_readable_date_in_batches(tmp_path, monkeypatch, dates):
    """No readable date → rows quarantined; a readable one of another month → refused (both paths)."""
    d = tmp_path / "landing" / MONTH
    d.mkdir(parents=True)
    rows = "".join(f"{i},张三,慢性病,,{x}\n" for i, x in zip((A, B), dates))
    (d / "health.csv").write_text(f"身份证号,姓名,事件类型,诊断,事件日期\n{rows}", encoding="utf-8")
    out = _both(tmp_path, tmp_path / "landing", MONTH, "health", monkeypatch, 1)
    _assert_same(out)
    assert out["whole"][0]["status"] == ("wrong_month" if dates[1] == "2026-01-05" else "accepted")


def test_generated_messy_county(tmp_path, monkeypatch):
    from generator import generate

    generate(tmp_path / "landing", households=300, months=2, start="2026-06", seed=5, messy_rate=0.05, truth=False)
    streamed = 0
    for month in ("2026-06", "2026-07"):
        for s in SOURCES:
            out = _both(tmp_path / month / s, tmp_path / "landing", month, s, monkeypatch, 97)
            streamed += sum(out["streamed"])
            _assert_same(out)
    assert streamed >= 6  # the UTF-8 files without BOM; the others take the whole-file path
