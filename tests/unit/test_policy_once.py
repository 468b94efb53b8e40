"""The policy is parsed once per process per file content (lim/core/policy.py load_policy_once)."""
import shutil

import pytest

from lim.core import policy as policy_mod
from lim.core.paths import SAMPLE_POLICY
from lim.core.policy import PolicyError, load_policy_once


def test_one_parse_per_file_content(tmp_path, monkeypatch):
    calls = []
    real = policy_mod.load_policy
    monkeypatch.setattr(policy_mod, "load_policy", lambda p: calls.append(p) or real(p))
    p = tmp_path / "policy.yaml"
    shutil.copy(SAMPLE_POLICY, p)
    first = load_policy_once(p)
    assert load_policy_once(str(p)) is first and len(calls) == 1
    p.write_text(p.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load_policy_once(p) is not first and len(calls) == 2  # new content: parsed again
    assert load_policy_once(p).counties == first.counties


def test_a_bad_file_is_refused_every_time(tmp_path):
    p = tmp_path / "policy.yaml"
    p.write_text("counties: []\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(PolicyError):
            load_policy_once(p)
    with pytest.raises(PolicyError, match="不存在"):
        load_policy_once(tmp_path / "missing.yaml")
