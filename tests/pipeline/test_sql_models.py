"""The SQL as models (sql/README.md): every model says what it reads, the run order agrees with
what it reads, every alert family is one model unioned in one place, each model runs alone on its
declared inputs (on the scenario county), and an alert type of the catalogue forgotten in any
place fails here — its SQL model, its scenario test, its evidence fingerprint, the generator's
oracle, docs/alerts.md."""
from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from lim.core.catalogue import alert_catalogue
from lim.warehouse import warehouse as wh
from lim.core.paths import SQL_DIR

ROOT = SQL_DIR.parent
ALERT_MODELS = SQL_DIR / "rules" / "35_alerts"
UNION_MODEL = SQL_DIR / "rules" / "37_alert_hits.sql"
# Made by Python before the rules run (assets/rules.py published_history), not by a model.
EXTERNAL = {"published_determinations"}
HIT_COLUMNS = ["household_source", "household_id", "alert_type", "member_id_number", "member_name",
               "reasons", "reason_text", "evidence", "priority_raised"]


def run_order() -> list[Path]:
    """Every model in the order a month runs them: sql/shared/, then sql/rules/ (assets/rules.py)."""
    return wh.sql_models(SQL_DIR / "shared") + wh.sql_models(SQL_DIR / "rules")


def reads(path: Path) -> set[str]:
    """The relations of the model's header `-- reads: a, b, months.c` (continued on lines `--  …`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("-- reads:"), f"{path.relative_to(ROOT)}: the first line must be `-- reads: …`"
    text = lines[0][len("-- reads:"):]
    for line in lines[1:]:
        if not re.match(r"--\s{2,}\S", line):
            break
        text += "," + line[2:]
    return {r.strip() for r in text.split(",") if r.strip() and r.strip() != "(nothing)"}


def code(path: Path) -> str:
    """The model's SQL without comments and string literals."""
    return re.sub(r"'(?:[^']|'')*'|--[^\n]*", lambda m: "''" if m[0].startswith("'") else "",
                  path.read_text(encoding="utf-8"))


def creates(path: Path) -> set[str]:
    return set(re.findall(r"CREATE\s+OR\s+REPLACE\s+(?:TEMP\s+|TEMPORARY\s+)?(?:TABLE|VIEW)\s+([\w.]+)", code(path), re.I))


def temp_names() -> set[str]:
    return {n for p in run_order() for n in creates(p) if "." not in n} | EXTERNAL


def referenced(path: Path) -> set[str]:
    """Temp relations of other models and warehouse tables (months.x, main.x) the model's SQL reads
    (a table it only writes into, INSERT INTO / UPDATE, is not read)."""
    sql = re.sub(r"\b(?:INSERT\s+INTO|UPDATE)\s+[\w.]+", "", code(path), flags=re.I)
    temps = {n for n in temp_names() if re.search(rf"(?<![\w.]){n}(?!\w)", sql)}
    tables = set(re.findall(r"\b((?:months|main)\.\w+)", sql))
    return (temps | tables) - creates(path)


def seeds_read(path: Path) -> set[str]:
    return {f"seeds/{f}" for f in re.findall(r"'/([\w.]+\.csv)'", path.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("path", run_order(), ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_each_model_declares_what_it_reads(path):
    """`-- reads:` names exactly the relations of other models, the warehouse tables and the seeds
    the model's SQL reads — no more, no fewer."""
    assert reads(path) == referenced(path) | seeds_read(path)


def test_the_run_order_agrees_with_what_each_model_reads():
    made: set[str] = set(EXTERNAL)
    for path in run_order():
        for r in reads(path):
            if "." in r or r.startswith("seeds/"):
                continue  # a warehouse table (written earlier by this run or a published month) or a seed
            assert r in made, f"{path.relative_to(SQL_DIR)} reads {r}, which no earlier model makes"
        made |= creates(path)


def test_metrics_read_the_rules_parameter_table():
    for path in wh.sql_models(SQL_DIR / "metrics"):
        assert reads(path) == referenced(path)
        assert "months.month_parameters" not in reads(path), "the metrics read params (sql/shared/10_parameters.sql)"
    assert "params" in reads(SQL_DIR / "metrics" / "10_targeting.sql")


# --- one model per alert family, unioned in one place ----------------------------------------------

def family_models() -> dict[str, Path]:
    return {p.stem: p for p in sorted(ALERT_MODELS.glob("*.sql"))}


def codes_of(path: Path) -> set[str]:
    """The alert codes a family model produces: each of its SELECTs names one `'CODE' AS alert_type`."""
    return set(re.findall(r"'([A-Z_]+)' AS alert_type", path.read_text(encoding="utf-8")))


def test_every_family_model_is_one_view_named_after_its_family():
    for family, path in family_models().items():
        assert creates(path) == {f"alert_hits_{family}"}, path.name
        assert len(re.findall(r"\bCREATE\b", code(path))) == 1, f"{path.name}: one model, one statement"


def test_the_families_of_the_catalogue_are_the_family_models_and_the_union():
    catalogue = {a.family for a in alert_catalogue()}
    assert set(family_models()) == catalogue
    assert {r for r in reads(UNION_MODEL) if r.startswith("alert_hits_")} == {f"alert_hits_{f}" for f in catalogue}
    assert set(re.findall(r"\bFROM (alert_hits_\w+)", code(UNION_MODEL))) == {f"alert_hits_{f}" for f in catalogue}


def test_every_catalogue_code_has_exactly_one_model_and_every_model_code_is_in_the_catalogue():
    made = {}
    for family, path in family_models().items():
        for c in codes_of(path):
            assert c not in made, f"{c} is produced by {made.get(c)} and {family}"
            made[c] = family
    assert made == {a.alert_type: a.family for a in alert_catalogue()}
    # and nowhere else in the rules does a hit get made
    others = [p for p in run_order() if p.parent != ALERT_MODELS and re.search(r"INSERT INTO alert_hits|VIEW alert_hits_", code(p))]
    assert others == []


# --- each model alone, on the scenario county ------------------------------------------------

@pytest.fixture(scope="module")
def full_run(county, tmp_path_factory):
    """Month M of the scenario county (tests/scenario.py) run once more through the rules on a copy
    of its published warehouse — M's scratch tables (months.x) made again from the published month,
    the ones the rules' headers say they read — and every relation a family model reads saved into
    a fixture database."""
    from lim.rules.build import build_rules
    from lim.core.policy import load_policy
    from tests import scenario
    from tests.conftest import TEST_POLICY

    root = tmp_path_factory.mktemp("models")
    shutil.copy(county["warehouse"], root / "warehouse.duckdb")
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    made = set().union(*(creates(p) for p in run_order())) | {"months.alerts", "months.month_parameters"}  # (assets/rules.py)
    for table in sorted({r for p in run_order() for r in reads(p) if r.startswith("months.")} - made):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM main.{table.split('.')[1]} WHERE month = ?", [scenario.M])
    build_rules(con, scenario.M, load_policy(TEST_POLICY))
    by_type = "SELECT alert_type, count(*) FROM {} WHERE month = ? GROUP BY 1 ORDER BY 1"
    assert (con.sql(by_type.format("months.alerts"), params=[scenario.M]).fetchall()
            == con.sql(by_type.format("main.alerts"), params=[scenario.M]).fetchall()), "the rerun gives the published alerts"
    needed = set().union(*(reads(p) | creates(p) for p in standalone_models())) | {"alert_hits"}
    con.execute(f"ATTACH '{root / 'fixture.duckdb'}' AS fx")
    for name in sorted(n for n in needed if not n.startswith("seeds/")):
        con.execute(f'CREATE TABLE fx."{name}" AS SELECT * FROM {name}')
    variables = con.sql("SELECT name, value, type FROM duckdb_variables()").fetchall()
    con.execute("DETACH fx")
    con.close()
    return {"fixture": root / "fixture.duckdb", "variables": variables}


def standalone_models() -> list[Path]:
    """The rules' models that make relations from what they read (not 90_alerts_finish.sql and
    92_loop.sql, which add to and update months.alerts), and the parameter table."""
    return [p for p in run_order() if reads(p)
            and not re.search(r"\b(?:INSERT\s+INTO|UPDATE)\b", code(p), re.I)]


def run_alone(full_run, path: Path):
    """A fresh database with only the model's declared inputs (copied from the full run), the
    variables of the full run and the shared macros; the model run in it."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{full_run['fixture']}' AS fx (READ_ONLY)")
    for name, value, typ in full_run["variables"]:
        con.execute(f"SET VARIABLE {name} = CAST(? AS {typ})", [value])
    con.execute("CREATE SCHEMA IF NOT EXISTS months")
    for name in reads(path) - {r for r in reads(path) if r.startswith("seeds/")}:
        con.execute(f'CREATE {"TABLE" if "." in name else "TEMP TABLE"} {name} AS SELECT * FROM fx."{name}"')
    for macros in wh.sql_models(SQL_DIR / "shared"):
        if not reads(macros):  # the macros (the parameter table is an input like any other)
            wh.run_sql(con, macros)
    wh.run_sql(con, path)
    return con


@pytest.mark.parametrize("path", standalone_models(), ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_model_runs_alone_on_its_declared_inputs(full_run, path):
    """Every relation the model makes, made alone, holds the rows the whole run gave."""
    con = run_alone(full_run, path)
    for name in sorted(creates(path)):
        got = sorted(con.sql(f"SELECT * FROM {name}").fetchall(), key=repr)
        assert got == sorted(con.sql(f'SELECT * FROM fx."{name}"').fetchall(), key=repr), name
    con.close()


@pytest.mark.parametrize("family", sorted(family_models()))
def test_family_model_gives_the_union_its_rows(full_run, family):
    """The family model, alone, gives the rows the full run gave, with the union's columns, its
    catalogue codes, a member exactly for the member-level types; the union keeps them all."""
    path = family_models()[family]
    con = run_alone(full_run, path)

    view = f"alert_hits_{family}"
    assert [c[0] for c in con.sql(f"SELECT * FROM {view}").description] == HIT_COLUMNS
    alone = sorted(con.sql(f"SELECT * FROM {view}").fetchall(), key=repr)
    full = sorted(con.sql(f'SELECT * FROM fx."{view}"').fetchall(), key=repr)
    assert alone == full
    assert {r[2] for r in alone} == codes_of(path), "the scenario county raises every type of the family"
    member_level = {a.alert_type: a.member_level for a in alert_catalogue()}
    assert all((r[3] is not None) == member_level[r[2]] for r in alone)
    raisable = {r["alert_type"] for r in csv.DictReader(open(SQL_DIR / "seeds" / "alert_catalogue.csv", encoding="utf-8"))
                if r["raised_priority"]}
    assert all(r[8] is False or r[2] in raisable for r in alone), "priority_raised only for a type with a raised_priority"
    # the union keeps every row of the family (nothing withheld in the scenario's complete month M)
    unioned = con.sql(f"SELECT count(*) FROM fx.alert_hits WHERE alert_type IN (SELECT alert_type FROM {view})").fetchall()[0][0]
    assert unioned == len(alone)
    con.close()


# --- an alert type forgotten in any place fails ----------------------------------------------------

CODES = [a.alert_type for a in alert_catalogue()]


def test_the_catalogue_codes_are_unique_and_ordered():
    assert len(CODES) == len(set(CODES))
    assert [a.ord for a in alert_catalogue()] == list(range(1, len(CODES) + 1))


def test_every_type_has_a_scenario_test():
    """A household of tests/scenario.py or tests/scenario_variants.py must get each type
    (tests/pipeline/test_rules_scenarios.py, tests/pipeline/test_rules_variants.py run them)."""
    from tests import scenario, scenario_variants

    expected = {t for h in scenario.households() for t in h.expect_alerts}
    expected |= {t for h in scenario_variants.households() for county in scenario_variants.COUNTIES
                 for t in h.expected(county)}
    assert [c for c in CODES if c not in {t.split("@")[0] for t in expected}] == []


def test_every_type_is_in_the_generators_oracle():
    """generator/oracle.py raises each type (its list and its priority agree with the catalogue), so
    that the truth tests (tests/pipeline/test_truth.py, one per catalogue type) can plant and check it."""
    from generator import oracle

    assert sorted(oracle.ALERT_TYPES) == sorted(CODES)
    text = (ROOT / "generator" / "oracle.py").read_text(encoding="utf-8")
    assert [c for c in CODES if not re.search(rf'alert\([^)]*"{c}"', text)] == []
    base = {a.alert_type: a.base_priority for a in alert_catalogue()}
    assert {t: p for t, p in oracle.PRIORITY.items()} == {t: p for t, p in base.items() if t in oracle.PRIORITY}


def test_every_type_has_its_evidence_fingerprint():
    """sql/rules/92_loop.sql names the facts each type's evidence fingerprint rests on (interface.md
    "Closing the loop"): a type left out would fall back to the household's income alone."""
    text = (SQL_DIR / "rules" / "92_loop.sql").read_text(encoding="utf-8")
    start = text.index("CREATE OR REPLACE TEMP TABLE loop_fingerprints")
    block = text[start:text.index("AS evidence_values", start)]
    named = {c for when in re.findall(r"WHEN a\.alert_type (?:=|IN) ([^\n]+?) THEN", block)
             for c in re.findall(r"'([A-Z_]+)'", when)}
    assert [c for c in CODES if c not in named] == []


def test_every_type_is_in_docs_alerts():
    """docs/alerts.md's catalogue has a row per type, with its 中文 and base priority."""
    rows = {}
    for line in (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) >= 4 and re.fullmatch(r"`[A-Z_]+`", cells[0]):
            rows[cells[0].strip("`")] = cells
    for a in alert_catalogue():
        assert a.alert_type in rows, f"docs/alerts.md: no row for {a.alert_type}"
        assert rows[a.alert_type][1] == a.alert_name
        assert a.base_priority in rows[a.alert_type][3]
