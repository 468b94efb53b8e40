"""The whole pipeline on a generated county (issue: synthetic generator) compared with the truth
the generator planted and computed independently (generator/oracle.py never imports the
pipeline): precision and recall 1.0 for every determination and alert type, every planted bad
row quarantined with the right reason, every refused file refused."""
from __future__ import annotations

import duckdb
import pytest

from generator import generate
from tests.pipeline import run_months
from tests.truth import compare, summary_lines

MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated")
    generate(out=root / "landing", households=400, months=len(MONTHS), start=MONTHS[0], seed=11, messy_rate=0.05)
    env = run_months(root, MONTHS, landing=root / "landing", policy=str(root / "landing" / "policy.yaml"))
    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    result = compare(con, root / "landing" / "truth")
    print("\n".join(summary_lines(result)))
    yield result
    con.close()


ALERT_TYPES = ["TEKUN_CANDIDATE", "DIBAO_OMISSION", "MARGINAL_OMISSION", "EXPENDITURE_HARDSHIP", "SINGLE_PERSON_DIBAO",
               "RELAPSE_RISK", "GRADUAL_EXIT_START", "GRADUAL_EXIT_REVERT", "GRADUAL_EXIT_END", "WRONGFUL_INCLUSION",
               "DECEASED_RECIPIENT", "BENEFIT_MISMATCH", "ZERO_EMPLOYMENT", "STUDENT_DROPOUT", "DANGEROUS_HOUSE",
               "DISASTER_AFFECTED", "REVIEW_DUE", "DUPLICATE_ASSISTANCE"]
CATEGORIES = ["OVER_ASSETS", "TEKUN", "DIBAO", "MARGINAL", "EXPENDITURE", "NOT_ELIGIBLE"]


@pytest.mark.parametrize("alert_type", ALERT_TYPES)
def test_alert_precision_recall(generated, alert_type):
    r = generated["alerts"][alert_type]
    assert r["expected"] > 0, f"the generated county must plant {alert_type}"
    assert (r["precision"], r["recall"]) == (1.0, 1.0), r


@pytest.mark.parametrize("category", CATEGORIES)
def test_determination_precision_recall(generated, category):
    r = generated["determinations"][category]
    assert r["expected"] > 0
    assert (r["precision"], r["recall"]) == (1.0, 1.0), r


def test_every_planted_bad_row_quarantined_with_its_reason(generated):
    r = generated["quarantine"]
    assert r["expected"] > 50
    assert (r["precision"], r["recall"]) == (1.0, 1.0), r


def test_refused_files(generated):
    r = generated["refused_files"]
    assert r["expected"] >= 4
    assert (r["precision"], r["recall"]) == (1.0, 1.0), r


def test_audit_sample_draw(generated):
    r = generated["audit_sample"]
    assert r["expected"] > 0
    assert (r["precision"], r["recall"]) == (1.0, 1.0), r


def test_priority_and_status_agree(generated):
    assert generated["priority_status_checked"] > 100
    assert generated["priority_status_mismatch"] == []
