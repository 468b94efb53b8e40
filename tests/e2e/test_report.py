"""report.html (issue #6): self-contained, stable on a rerun, and its charts really render in a
browser — headless Chromium opens it from disk and screenshots it (tests/artifacts/)."""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import duckdb
import pytest

from tests import scenario
from tests.pipeline.test_quality_county import county

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHART_BLUE = (0x1F, 0x77, 0xB4)   # first colour of lim/publish/report.py PALETTE: bars and first series
VERDICT_GREEN = (0x1E, 0x7B, 0x34)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium; installed here when missing (apt-get, as root), else the test is skipped."""
    path = _find_chromium()
    if path is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"], env=env, capture_output=True, timeout=900)
        path = _find_chromium()
    if path is None:
        pytest.skip("chromium is not installed and cannot be installed here (needs apt-get as root and a package mirror)")
    return path


def run_chromium(binary: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def read_png(path: Path) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows of raw pixel bytes, bytes per pixel) of an 8-bit RGB/RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def count_colour(path: Path, rgb: tuple[int, int, int], tolerance: int = 12) -> int:
    width, _, rows, bpp = read_png(path)
    n = 0
    for row in rows:
        for x in range(0, width * bpp, bpp):
            if abs(row[x] - rgb[0]) <= tolerance and abs(row[x + 1] - rgb[1]) <= tolerance and abs(row[x + 2] - rgb[2]) <= tolerance:
                n += 1
    return n


@pytest.fixture(scope="module")
def report() -> Path:
    return Path(county()["out"]) / scenario.M / "report.html"


def test_report_is_self_contained(report):
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", text), "no network resource"
    assert "<script" not in text and "<link" not in text and "@import" not in text and "url(" not in text
    assert "<meta name='viewport'" in text                     # phone layout
    for section in ("checks", "alerts", "towns", "roster", "targeting", "sources", "quality"):
        assert f"<section id='{section}'>" in text
    for href in re.findall(r"href='([^'#][^']*)'", text):    # every relative link (Data Docs) resolves
        assert (report.parent / href).is_file(), href


def test_report_is_byte_identical_on_a_rerun():
    env = county()
    assert env["report_first_run"] == env["report_rerun"]


def test_report_numbers_match_the_warehouse(report):
    text = report.read_text(encoding="utf-8")
    con = duckdb.connect(str(county()["warehouse"]), read_only=True)
    try:
        for code, n in con.sql("SELECT alert_type, count(*) FROM alerts WHERE month = ? GROUP BY 1", params=[scenario.M]).fetchall():
            assert re.search(rf"<code>{code}</code></td><td class='n'>{n}</td>", text), code
        assert "数据可信" in text or "可以使用" in text
        for source, rows_in in con.sql("SELECT source, rows_in FROM load_log WHERE month = ? AND status = 'accepted'",
                                       params=[scenario.M]).fetchall():
            assert f"{rows_in:,}" in text
        # trends cover both months run so far
        assert f"各类预警趋势（{scenario.M_PREV} 至 {scenario.M}）" in text
    finally:
        con.close()


@pytest.mark.parametrize("device,size", [("laptop", "1280,4000"), ("phone", "390,6000")])
def test_report_charts_render_in_chromium(chromium, report, tmp_path, device, size):
    dom = run_chromium(chromium, tmp_path, "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") >= 10 and "class=\"series\"" in dom.stdout and "class=\"bar\"" in dom.stdout
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report_{device}.png"
    shot.unlink(missing_ok=True)
    res = run_chromium(chromium, tmp_path, f"--window-size={size}", f"--screenshot={shot}", report.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, res.stderr[-2000:]
    assert count_colour(shot, CHART_BLUE) > 2_000, "bars and trend lines are painted"
    assert count_colour(shot, VERDICT_GREEN) > 5_000, "the verdict banner is painted"
