"""A warehouse of an older release (month tables in schema `stage`) opened by this one: converted once
to schema `months` with every published month's rows unchanged, the analysts' views working, and
the next month run and published as it would have been in a warehouse made by this release
(docs/architecture.md "Warehouse schemas"; lim/warehouse/warehouse.py convert_stage_schema)."""
from __future__ import annotations

import json

import duckdb

from lim.core.paths import SAMPLE_LANDING, SAMPLE_POLICY
from tests.old_warehouse import snapshot, to_stage_shape, view_counts
from tests.runs import copy_of, run_months

FIRST, NEXT = "2026-06", "2026-07"


def _policy() -> str:
    generated = SAMPLE_LANDING / "policy.yaml"  # as `lim demo`
    return str(generated if generated.exists() else SAMPLE_POLICY)


def _outputs(root, month) -> dict[str, str]:
    manifest = json.loads((root / "out" / month / "manifest.json").read_text(encoding="utf-8"))
    return {o["path"]: o["sha256"] for o in manifest["outputs"]}


def test_an_old_shape_warehouse_is_converted_and_runs_the_next_month(tmp_path):
    old = run_months(tmp_path / "county", [FIRST], landing=SAMPLE_LANDING, policy=_policy())
    root = tmp_path / "county"
    control = copy_of(root, "lim-months-control-")  # the same county, never in the old shape
    to_stage_shape(old["warehouse"])

    con = duckdb.connect(str(old["warehouse"]))
    before, before_views = snapshot(con, "stage"), view_counts(con)
    assert "months" not in {r[0] for r in con.sql("select schema_name from duckdb_schemas()").fetchall()}
    con.close()
    assert any(t.endswith(f"__{FIRST.replace('-', '_')}") for t in before) and before_views["alerts"][FIRST] > 0

    run_months(root, [NEXT], landing=SAMPLE_LANDING, policy=_policy())  # opens (converts), runs, publishes
    run_months(control, [NEXT], landing=SAMPLE_LANDING, policy=_policy())

    con = duckdb.connect(str(old["warehouse"]), read_only=True)
    try:
        after = snapshot(con, "months")
        for table, (columns, rows, checksum) in before.items():  # every table of the old shape, unchanged
            assert after.get(table) == (columns, rows, checksum), table
        assert not con.sql("select count(*) from duckdb_schemas() where schema_name = 'stage'").fetchall()[0][0]
        assert [r[0] for r in con.sql("select version from schema_version order by 1").fetchall()] == [1, 2]
        views = view_counts(con)
        for table, per_month in before_views.items():
            assert {m: n for m, n in views[table].items() if m != NEXT} == per_month, table
        assert views["alerts"][NEXT] > 0 and views["households_monthly"][NEXT] > 0
        assert con.sql("select status from run_audit where month = ? order by finished_at desc limit 1",
                       params=[NEXT]).fetchall()[0][0] == "success"
    finally:
        con.close()
    control_con = duckdb.connect(str(control / "wh" / "warehouse.duckdb"), read_only=True)
    try:
        assert view_counts(control_con) == views
    finally:
        control_con.close()
    # the staff files of the next month: byte for byte those of the county never in the old shape
    assert _outputs(root, NEXT) == _outputs(control, NEXT)
