"""Data quality and targeting accuracy for month M.

* `quality_results` — the Great Expectations suites of lim/quality/expectations.py, run once per
  source on its staged (raw-normalized) rows; results into months.quality_results, Data Docs
  (static HTML) into <staged>/<M>/data_docs/. The report copies them to <out>/<M>/data_docs/.
  The validation itself usually happens earlier, beside the DuckDB steps: each ingest asset
  submits its staged file to the run's GX worker (QualityResource, lim/quality/worker.py);
  this asset runs at the lowest priority and takes the worker's results when they are of exactly
  its files, else validates here (in a child process for a big month).
* `targeting_metrics` — exclusion error, inclusion error and take-up per town
  (sql/metrics/*.sql) into months.targeting_metrics, with the counts behind each figure.

Both are upstream of `published_month`, so their month is swapped into main with the rest.
"""

import json
import time

from lim.core import settings
from lim.core.contracts import SOURCES
from lim.core.month import month_variables
from lim.core.paths import SQL_DIR
from lim.ingest.read_worker import staged_paths
from lim.quality.judges import QualityConfig
from lim.warehouse import warehouse as wh

QUALITY_COLUMNS = """month VARCHAR NOT NULL, source VARCHAR NOT NULL, expectation VARCHAR, column_name VARCHAR,
    rule VARCHAR, severity VARCHAR, success BOOLEAN, element_count BIGINT, unexpected_count BIGINT,
    unexpected_percent DOUBLE, observed_value VARCHAR, kwargs VARCHAR, exception VARCHAR,
    load_status VARCHAR, rows_in BIGINT, rows_validated BIGINT, data_docs_page VARCHAR, docs_built_in VARCHAR"""


GX_CHILD_ROWS = 8_000_000  # accepted rows of a month above which GX runs in a child process (~1 M households)


def gx_child_rows() -> int:
    """LIM_GX_CHILD_ROWS overrides GX_CHILD_ROWS (0: always in a child)."""
    return settings.current().gx_child_rows


def submit_for_validation(quality, staging, month: str, source: str, load: dict) -> bool:
    """Tell the run's GX worker (QualityResource) that `source` is staged (build_quality_results
    collects the results)."""
    return quality.staged(month, source, load, staged_paths(staging.month_dir(month), source)["accepted"],
                          staging.data_docs_dir(month), QualityConfig.from_env().id_validity_min)


def build_quality_results(con, month: str, staging, quality=None, log=None) -> dict:
    """Run the suites of every delivered source and write months.quality_results for M (or take
    the results the background worker made of exactly these files, see QualityResource)."""
    # Great Expectations is imported here, not at start-up (~4 s): a run whose worker validated does not need it
    from lim.quality.expectations import run_suites_from_files, run_suites_in_child

    cfg = QualityConfig.from_env()
    month_dir = staging.month_dir(month)
    loads, staged = {}, {}
    for source in SOURCES:
        paths = staged_paths(month_dir, source)
        load = json.loads(paths["load"].read_text(encoding="utf-8")) if paths["load"].exists() else {"status": "missing", "rows_in": 0}
        loads[source] = load
        if load["status"] == "accepted":
            staged[source] = paths["accepted"]
    docs_dir = staging.data_docs_dir(month)
    started = time.perf_counter()
    n_rows = sum(loads[s].get("accepted") or 0 for s in staged)
    validations, why = quality.collect(month, staged, docs_dir, cfg.id_validity_min) if quality else (None, "")
    background = validations is not None
    if why and log:
        log.info(f"后台数据质量校验不可用（{why}），本步骤重新校验")
    if validations is None:
        # DuckDB counts (LIM_GX_ENGINE=duckdb, lim/quality/measure.py) in this process; GX's own pandas
        # frames of a big month live and die in a child process
        engine = settings.current().gx_engine
        run = run_suites_in_child if engine == "pandas" and n_rows > gx_child_rows() else run_suites_from_files
        validations = run(month, staged, docs_dir, id_validity=cfg.id_validity_min, engine=engine) if staged else {}
    seconds = time.perf_counter() - started

    con.execute(f"CREATE TABLE IF NOT EXISTS months.quality_results ({QUALITY_COLUMNS})")
    wh.replace_stage_month(con, "quality_results", month)
    rows = []
    for source, v in validations.items():
        load = loads[source]
        page = f"data_docs/{v.docs_page}" if v.docs_page else None
        for r in v.results:
            rows.append((month, source, r["expectation"], r["column"], r["rule"], r["severity"], r["success"],
                         r["element_count"], r["unexpected_count"], r["unexpected_percent"], r["observed_value"],
                         r["kwargs"], r["exception"], load["status"], load.get("rows_in"), v.rows,
                         page, str(docs_dir)))
    if rows:  # one INSERT from an Arrow table (executemany is slow for a few hundred rows)
        import pyarrow as pa

        names = [c.split()[0] for c in QUALITY_COLUMNS.replace("\n", " ").split(", ")]
        batch = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
        con.register("quality_batch", batch)
        con.execute("INSERT INTO months.quality_results BY NAME SELECT * FROM quality_batch")
        con.unregister("quality_batch")
    failed = {s: sorted({r["severity"] for r in v.results if not r["success"]}) for s, v in validations.items() if not v.success}
    return {"validated": sorted(validations), "not_validated": sorted(set(SOURCES) - set(validations)),
            "failed": failed, "expectations": len(rows), "seconds": round(seconds, 2),
            "background": background}


def build_targeting_metrics(con, month: str) -> list[tuple]:
    wh.run_sql_dir(con, SQL_DIR / "metrics", shared=True, **month_variables(month))
    return con.sql("""SELECT sum(eligible), sum(eligible_not_in_roster), sum(roster_assessed), sum(roster_failing)
                      FROM months.targeting_metrics WHERE month = ?""", params=[month]).fetchall()
