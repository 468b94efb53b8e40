"""Careless and hostile policy files (lim/core/policy.py): each is refused quickly with one line
naming the county, the period and the key where they apply, and `lim run` exits with status 2
before anything runs."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lim.core.policy import MAX_NAME_CHARS, PolicyError, load_policy
from tests.conftest import TEST_POLICY
from tests.landing import make_id, write_month

LIM = str(Path(sys.executable).parent / "lim")
BASE = Path(TEST_POLICY).read_text(encoding="utf-8")
FIRST_PERIOD = '      - effective_from: "2025-07"\n'


def _replace(old: str, new: str, count: int = 1) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, count)


def alias_bomb() -> str:
    """A 2.4 KB merge-key bomb: 9 levels, each merging the level below 9 times (`<<: [*l0, ...]`);
    PyYAML's flattening of merge keys copies 9^10 pairs (an unbounded run under plain safe_load)."""
    lines = ["l0: &l0 {" + ", ".join(f"key_{i}_padding_padding_padding_padding_padding_padding_padding: {i}"
                                     for i in range(9)) + "}"]
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} {{<<: [" + ", ".join([f"*l{i - 1}"] * 9) + "]}")
    text = "\n".join(lines) + "\ncounties: {'370322': {name: 高青县, towns: *l9, periods: []}}\n"
    return text + "#" * (2400 - len(text.encode())) + "\n"


def list_bomb() -> str:
    """The classic "billion laughs": 9 levels of 9 aliases of lists."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\ncounties: {'370322': {name: 高青县, towns: {'370322001': *l9}, periods: []}}\n"


# kind -> (file text, words the one line must hold)
CASES = {
    "too_big": (BASE + "# " + "x" * (1 << 20) + "\n", ["过大", "字节"]),
    "alias_bomb": (alias_bomb(), ["别名"]),
    "alias_bomb_lists": (list_bomb(), ["别名"]),
    "too_many_values": ("counties:\n  '370322': [" + ",".join(["1"] * 400_000) + "]\n", ["个值"]),
    "deep_nesting": ("counties: " + "[" * 5000 + "]" * 5000 + "\n", ["嵌套"]),
    "duplicate_key": (_replace("        dibao_standard_rural: 800\n",
                               "        dibao_standard_rural: 800\n        dibao_standard_rural: 8000\n"),
                      ["370322", "2025-07", "dibao_standard_rural", "重复"]),
    "duplicate_county": (BASE + BASE[BASE.index('  "370322":'):].replace('  "370322":', "  370322:", 1),
                         ["370322", "重复"]),
    "duplicate_town_code": (_replace('      "370322002": 芦湖街道\n', '      "370322002": 芦湖街道\n      370322002: 另一街道\n'),
                            ["370322", "370322002", "重复"]),
    "inf": (_replace("        dibao_standard_rural: 800\n", "        dibao_standard_rural: .inf\n"),
            ["370322", "2025-07", "dibao_standard_rural", "有限"]),
    "nan": (_replace("        marginal_multiplier: 1.5\n", "        marginal_multiplier: .nan\n"),
            ["370322", "2025-07", "marginal_multiplier", "有限"]),
    "1e300": (_replace("        medical_shock_12m: 20000\n", "        medical_shock_12m: 1.0e+300\n"),
              ["370322", "2025-07", "medical_shock_12m", "合理范围"]),
    "1e300_plain": (_replace("        medical_shock_12m: 20000\n", "        medical_shock_12m: 1e300\n"),
                    ["370322", "2025-07", "medical_shock_12m", "数值"]),
    "huge_integer": (_replace("        asset_months: 24\n", "        asset_months: " + "9" * 5000 + "\n"),
                     ["370322", "2025-07", "asset_months", "过长"]),
    "towns_not_a_mapping": (BASE[:BASE.index("    towns:\n")] + "    towns: [田镇街道, 芦湖街道]\n"
                            + BASE[BASE.index("    villages:\n"):], ["370322", "towns", "映射"]),
    "town_null": (_replace('      "370322002": 芦湖街道\n', '      "370322002": null\n'), ["370322", "370322002", "文字"]),
    "towns_null": (BASE[:BASE.index("    towns:\n")] + "    towns: null\n" + BASE[BASE.index("    villages:\n"):],
                   ["370322", "towns", "映射"]),
    "town_empty_name": (_replace('      "370322002": 芦湖街道\n', '      "370322002": "  "\n'), ["370322", "370322002", "为空"]),
    "town_name_with_newline": (_replace('      "370322002": 芦湖街道\n', '      "370322002": "芦湖\\n街道"\n'),
                               ["370322", "370322002", "\\n"]),
    "town_name_with_nul": (_replace('      "370322002": 芦湖街道\n', '      "370322002": "芦湖\\0街道"\n'),
                           ["370322", "370322002", "\\x00"]),
    "town_name_with_slash": (_replace('      "370322002": 芦湖街道\n', '      "370322002": "../../etc/街道"\n'),
                             ["370322", "370322002", "斜杠"]),
    "town_name_too_long": (_replace('      "370322002": 芦湖街道\n', '      "370322002": ' + "长" * (MAX_NAME_CHARS + 1) + "\n"),
                           ["370322", "370322002", "过长"]),
    "town_name_a_number": (_replace('      "370322002": 芦湖街道\n', '      "370322002": 12345\n'), ["370322002", "文字"]),
    "village_name_with_slash": (_replace("      \"370322101201\": 青城村\n", "      \"370322101201\": 青城/村\n"),
                                ["370322", "370322101201", "斜杠"]),
    "village_name_null": (_replace("      \"370322101201\": 青城村\n", "      \"370322101201\":\n"),
                          ["370322", "370322101201", "文字"]),
    "county_name_empty": (_replace("    name: 高青县\n", '    name: ""\n'), ["370322", "name", "为空"]),
    "python_tag": (_replace("    name: 高青县\n", "    name: !!python/object/apply:os.system [echo hi]\n"), ["YAML"]),
    "bad_date": (_replace(FIRST_PERIOD, "      - effective_from: 2025-13-45\n"), ["2025-13-45", "第 20 行"]),
    "not_utf8": (BASE.replace("高青县", "\udcff"), ["UTF-8"]),  # written with surrogateescape: a lone 0xFF byte
}


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    return p


@pytest.mark.parametrize("kind", list(CASES))
def test_refused_with_one_line(tmp_path, kind):
    text, words = CASES[kind]
    p = _write(tmp_path, text)
    t0 = time.monotonic()
    with pytest.raises(PolicyError) as e:
        load_policy(p)
    assert time.monotonic() - t0 < 120, kind  # bounded, not a speed goal: a bomb without limits runs for minutes and GBs
    msg = str(e.value)
    assert "\n" not in msg and "\r" not in msg and len(msg) < 600, msg
    for w in words:
        assert w in msg, (kind, msg)


def test_the_test_policy_still_loads_and_aliases_are_allowed(tmp_path):
    """Anchors and merge keys of a careful file (a later period repeating the earlier one) still work."""
    text = BASE.replace(FIRST_PERIOD, '      - &p2025 \n        effective_from: "2025-07"\n', 1)
    text = text.replace('      - effective_from: "2026-07"\n', '      - <<: *p2025\n        effective_from: "2026-07"\n', 1)
    pol = load_policy(_write(tmp_path, text))
    assert pol.period_for("370322", "2026-08")["dibao_standard_rural"] == 850
    assert pol.counties["370322"].towns["370322002"] == "芦湖街道"


def test_a_name_starting_with_a_formula_is_not_refused(tmp_path):
    """Names starting with = or + are refused nowhere: the CSV writer neutralizes them (test_hardening)."""
    pol = load_policy(_write(tmp_path, _replace("田镇街道", "=1+2镇")))
    assert pol.counties["370322"].towns["370322001"] == "=1+2镇"


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("policy_landing")
    pid = make_id("19800101", 7)
    write_month(root / "landing", "2026-06", {
        "hr": [dict(id_number=pid, name="张三", employment_status="就业", monthly_wage=900)]})
    return root / "landing"


@pytest.mark.parametrize("kind", list(CASES))
def test_lim_run_exits_2_with_one_line(tmp_path, landing, kind, monkeypatch, capsys):
    from pipelines.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    p = _write(tmp_path, CASES[kind][0])
    rc = main(["run", "--month", "2026-06", "--landing", str(landing), "--warehouse", str(tmp_path / "w.duckdb"),
               "--out", str(tmp_path / "out"), "--policy", str(p)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("错误：政策文件"), err
    assert not (tmp_path / "out").exists() and not (tmp_path / "w.duckdb").exists()


@pytest.mark.parametrize("kind", ["alias_bomb", "deep_nesting"])
def test_lim_command_refuses_bombs_quickly_without_traceback_or_memory(tmp_path, landing, kind):
    p = _write(tmp_path, CASES[kind][0])
    t0 = time.monotonic()
    r = subprocess.run([LIM, "run", "--month", "2026-06", "--landing", str(landing), "--warehouse", str(tmp_path / "w.duckdb"),
                        "--out", str(tmp_path / "out"), "--policy", str(p)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "DAGSTER_HOME": str(tmp_path / "dh")},
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30)))
    assert r.returncode == 2, r.stderr[-2000:]
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr and CASES[kind][1][0] in lines[0], r.stderr[-2000:]
    assert time.monotonic() - t0 < 120
