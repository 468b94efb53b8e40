"""Great Expectations suites built from the source contracts (checks/contracts/*.yaml).

One source of truth: every expectation below is derived from `lim.core.contracts` — the
columns and their types, the required columns, the allowed sets of enums, the in-month dates,
the amounts, the out-of-pocket identity and the grain's unique key. Nothing is copied by hand.

What is validated, and why there
--------------------------------
GX runs on each source's *raw-normalized* rows as staged by ingestion
(`<staged>/<M>/<source>.parquet`): the values are typed and normalized, but ID numbers are
not yet linked (a check-digit failure is still visible as `_id_status = bad_checksum`) and
duplicate keys are not yet resolved. Rows the normalizer quarantined are not in that file;
they are counted in `load_log` / `quarantine` and judged by the Dagster check
`quarantine_share` (checks/asset_checks.py). So the suites do two jobs:

* **contract, a second time** (severity `error`): columns, types, required values, allowed
  sets, amounts ≥ 0, dates inside the month, the out-of-pocket identity. The normalizer
  already enforces these; an `error` failure here means a value slipped through ingestion —
  a defect to fix before anyone acts on the month.
* **what ingestion does not refuse** (severity `warning`): the share of ID numbers whose check
  digit is valid as delivered (the "ID validity rate", `mostly` configurable) and uniqueness
  where the grain says so (one row per household / member / person).

GX is imported lazily (about 4 s) and runs once per source per month, on a pandas datasource
of an ephemeral context (GX on DuckDB through SQLAlchemy fails: stack-facts.md), in `SuiteRun`:
in the run's background worker (lim/quality/worker.py) or, when that did not validate exactly
the month's files, in `quality_results` itself. Data Docs
are written as static HTML; their run id is fixed per month (run name = the month, run time =
its first day) so that rerunning a month rewrites the same pages at the same paths.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from lim.core.month import MONTH_PATTERN
from lim.ingest.normalize import ID18_PATTERN
from lim.ingest.staging import accepted_schema, empty_accepted
from lim.core.contracts import OOP_TERMS, OOP_TOLERANCE, SOURCES, Contract, load_contract

ERROR, WARNING = "error", "warning"
# who evaluates the expectations (LIM_GX_ENGINE): DuckDB counts rendered by GX (lim/quality/measure.py),
# or GX itself on a pandas frame of the staged rows
ENGINES = ("duckdb", "pandas")  # = lim/core/settings.GX_ENGINES
MEASURE_MEMORY = "1GB"  # the counting DuckDB's memory limit (it spills beside the Data Docs beyond it)
# BASIC with partial_unexpected_count 0: counts only, no sample values (ID numbers, names) in
# results or Data Docs (SUMMARY: the same results and pages on a 50,000-household month, ~1 s slower)
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}

# contract type -> the dtype name GX observes on the pandas frame made from the staged Parquet
_PANDAS_TYPE = {"text": "str", "id": "str", "name": "str", "enum": "str", "region_code": "str",
                "month": "str", "amount": "float64", "integer": "int64", "date": "datetime64"}
# an ID as staged (lim/ingest/normalize.py: ID18_PATTERN, 18 characters), a bad checksum awaiting linking
# included. Every pattern is RE2 syntax with ASCII classes ([0-9], not \d, no look-around): pandas then
# matches it in pyarrow; otherwise it falls back to Python's `re`, one call per row (2.7 s for the
# 1.5 M IDs of a prefecture's register).
_FORMAT_REGEX = {"id": ID18_PATTERN, "region_code": r"^[0-9]{12}$", "month": "^" + MONTH_PATTERN + "$"}
OOP_RESIDUAL = "_oop_residual"
ID_STATUS = "_id_status"
VALID_ID_STATUSES = ["valid", "upgraded_15"]
DEFAULT_ID_VALIDITY = 0.98


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation, as data: GX class name, its kwargs, and how to read a failure."""
    kind: str            # GX expectation class name, e.g. ExpectColumnValuesToBeInSet
    kwargs: dict
    severity: str        # error | warning
    rule: str            # what it checks, in Chinese, for the report

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column") or (",".join(self.kwargs["column_list"]) if "column_list" in self.kwargs else None)


def month_bounds(month: str) -> tuple[_dt.datetime, _dt.datetime]:
    y, m = int(month[:4]), int(month[5:7])
    first = _dt.datetime(y, m, 1)
    nxt = _dt.datetime(y + (m == 12), m % 12 + 1, 1)
    return first, nxt - _dt.timedelta(days=1)


def validated_columns(contract: Contract) -> list[str]:
    cols = list(contract.canonical_names)
    if contract.id_column:
        cols.append(ID_STATUS)
    if contract.has_oop_identity:
        cols.append(OOP_RESIDUAL)
    return cols


# rules-variants.md B.2's optional roster columns: a file without them (every cell empty) gets
# exactly the suite it had before they existed (issue: with no new parameter or column, nothing changes).
VARIANT_COLUMNS = frozenset({"support_mode", "support_income", "pre_exit_benefit", "care_level",
                             "veteran_disability_grade", "preferential_category", "regular_pension_subsidy"})


def suite_specs(contract: Contract, month: str, id_validity: float = DEFAULT_ID_VALIDITY,
                absent: frozenset[str] = frozenset()) -> list[ExpectationSpec]:
    """The expectation suite of one source for one month, derived from its contract; `absent`: the
    optional variant columns the file did not fill (no expectation of their own)."""
    S = ExpectationSpec
    specs = [S("ExpectTableColumnsToMatchSet", {"column_set": validated_columns(contract), "exact_match": True},
               ERROR, "列与数据契约一致")]
    first, last = month_bounds(month)
    for c in contract.columns:
        if c.canonical in absent:
            continue
        h = c.header
        specs.append(S("ExpectColumnValuesToBeOfType", {"column": c.canonical, "type_": _PANDAS_TYPE[c.type]},
                       ERROR, f"{h}：类型为 {c.type}"))
        if c.required:
            specs.append(S("ExpectColumnValuesToNotBeNull", {"column": c.canonical}, ERROR, f"{h}：必填"))
        if c.allowed is not None:
            specs.append(S("ExpectColumnValuesToBeInSet", {"column": c.canonical, "value_set": list(c.allowed)},
                           ERROR, f"{h}：取值在 {'/'.join(c.allowed)} 内"))
        if c.type in _FORMAT_REGEX:
            specs.append(S("ExpectColumnValuesToMatchRegex", {"column": c.canonical, "regex": _FORMAT_REGEX[c.type]},
                           ERROR, f"{h}：格式正确"))
        if c.type in ("amount", "integer"):
            specs.append(S("ExpectColumnValuesToBeBetween", {"column": c.canonical, "min_value": 0},
                           ERROR, f"{h}：不为负数"))
        if c.in_month:
            specs.append(S("ExpectColumnValuesToBeBetween", {"column": c.canonical, "min_value": first, "max_value": last},
                           ERROR, f"{h}：在数据月份 {month} 内"))
    if contract.id_column:
        specs.append(S("ExpectColumnValuesToBeInSet",
                       {"column": ID_STATUS, "value_set": VALID_ID_STATUSES, "mostly": id_validity},
                       WARNING, f"身份证号校验位有效率 ≥ {id_validity:.0%}"))
    if contract.has_oop_identity:
        specs.append(S("ExpectColumnValuesToBeBetween",
                       {"column": OOP_RESIDUAL, "min_value": -OOP_TOLERANCE - 1e-9, "max_value": OOP_TOLERANCE + 1e-9},
                       ERROR, f"个人自付 = 医疗总费用 − 统筹 − 大病 − 医疗救助（±{OOP_TOLERANCE} 元）"))
    if contract.unique_key:
        key = list(contract.unique_key)
        headers = "+".join(contract.header_of(k) for k in key)
        if len(key) == 1:
            specs.append(S("ExpectColumnValuesToBeUnique", {"column": key[0]}, WARNING, f"{headers} 唯一（{contract.grain}）"))
        else:
            specs.append(S("ExpectCompoundColumnsToBeUnique", {"column_list": key}, WARNING, f"{headers} 唯一（{contract.grain}）"))
    return specs


def frame_for_validation(contract: Contract, staged_parquet: Path | None, n_rows: int | None = None):
    """The pandas frame GX validates: the staged accepted rows, canonical columns (no raw text);
    `n_rows=0`: only its columns and dtypes (lim/quality/measure.py)."""
    import polars as pl

    df = (pl.read_parquet(staged_parquet, n_rows=n_rows) if staged_parquet and Path(staged_parquet).exists()
          else empty_accepted(contract))
    keep = [c for c in accepted_schema(contract) if c in contract.canonical_names or c == ID_STATUS]
    df = df.select(keep)
    if contract.has_oop_identity:
        total, fund, crit, assist = (pl.col(t) for t in OOP_TERMS)
        df = df.with_columns((pl.col("out_of_pocket") - (total - fund - crit - assist)).alias(OOP_RESIDUAL))
    return df.to_pandas()


# --------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------
@dataclass
class SourceValidation:
    source: str
    success: bool
    results: list[dict]        # one per expectation
    docs_page: str | None      # relative to the Data Docs folder
    rows: int = 0              # rows validated


_CACHE_BUSTER = re.compile(r"\?d=\d{8}T\d{6}\.\d+Z")
_TIMESTAMP = re.compile(r"\b\d{8}T\d{6}\.\d{6}Z\b")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def stable_page(text: str, run_time: str) -> str:
    """Data Docs as GX writes them change on every build (the clock in a logo URL and in the
    validation time, random ids of collapsible blocks). Make them a function of the data: drop
    the cache buster, show the month's fixed run time, number the ids in order of appearance."""
    text = _CACHE_BUSTER.sub("", text)
    text = _TIMESTAMP.sub(run_time, text)
    ids: dict[str, str] = {}
    return _UUID.sub(lambda m: ids.setdefault(m.group(0), f"00000000-0000-0000-0000-{len(ids) + 1:012d}"), text)


def _expectation(i: int, spec: ExpectationSpec, gxe):
    return getattr(gxe, spec.kind)(**spec.kwargs, meta={"severity": spec.severity, "rule": spec.rule, "spec": i})


def _observed(result: dict):
    v = result.get("observed_value")
    if v is None:
        return None
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)


class SuiteRun:
    """One month's validations in one ephemeral GX context: `validate` each source's frame (in
    any order), then `finish` builds the Data Docs and returns the results in SOURCES order.

    `run_suites` uses it in the calling process; lim/quality/worker.py uses it in a worker
    process that validates each source as soon as ingestion has staged it."""

    def __init__(self, month: str, docs_dir: Path, id_validity: float = DEFAULT_ID_VALIDITY,
                 engine: str = "duckdb", threads: int | None = None):
        import logging
        import warnings

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import great_expectations as gx
            import great_expectations.expectations as gxe
            from great_expectations.core.run_identifier import RunIdentifier
            from great_expectations.data_context.types.base import ProgressBarsConfig
            from great_expectations.execution_engine import pandas_execution_engine

        # GX fingerprints every in-memory batch under 1 GB with an MD5 over pandas' hash of each row
        # (batch marker `pandas_data_fingerprint`): 4.9 s of the 10.8 s a prefecture's register takes
        # to validate, for a marker nothing here reads — the staged file is identified by its size,
        # modification time and load record (assets/quality.py). GX 1.24 has no option for it; its
        # threshold is a module constant, set to 0 in the process that validates.
        pandas_execution_engine.HASH_THRESHOLD = 0

        self.month, self.id_validity, self._gx, self._gxe = month, id_validity, gx, gxe
        self.docs_dir = docs_dir = Path(docs_dir)
        shutil.rmtree(docs_dir, ignore_errors=True)
        docs_dir.mkdir(parents=True)
        ctx = self._ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        for site in list(ctx.get_site_names()):  # the default site of an ephemeral context is a temp folder
            ctx.delete_data_docs_site(site)
        ctx.add_data_docs_site(site_name="lim", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
        self._datasource = ctx.data_sources.add_pandas("staged")
        self._first, _ = month_bounds(month)
        self._run_id = RunIdentifier(run_name=month, run_time=self._first.replace(tzinfo=_dt.timezone.utc))
        self.validated: dict[str, SourceValidation] = {}
        if engine not in ENGINES:
            raise ValueError(f"GX engine {engine!r}: one of {', '.join(ENGINES)}")
        self.engine, self._threads, self._con = engine, threads, None
        self.counted: set[str] = set()  # the sources whose rows DuckDB counted
        self._scratch = docs_dir.with_name(docs_dir.name + ".measure.tmp")

    def validate_staged(self, source: str, path: str | Path | None) -> SourceValidation:
        """Run `source`'s suite on its staged file: counted by DuckDB (engine `duckdb`,
        lim/quality/measure.py) or on the pandas frame (engine `pandas`, or a frame the counts
        cannot stand for). The same results and Data Docs either way."""
        contract = load_contract(source)
        path = Path(path) if path else None
        if self.engine == "duckdb":
            shape_and_counts = self._measure(contract, path)
            if shape_and_counts is not None:
                self.counted.add(source)
                return self.validate(source, *shape_and_counts)
        return self.validate(source, frame_for_validation(contract, path))

    def _measure(self, contract: Contract, path: Path | None):
        from lim.quality import measure

        if path is None or not path.exists():
            return None  # no file: GX validates the empty frame itself
        shape = frame_for_validation(contract, path, n_rows=0)  # the columns and dtypes of the full frame
        if any(dtype == object for dtype in shape.dtypes):
            return None  # GX checks an object column's type value by value
        if self._con is None:
            import duckdb

            self._scratch.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(config={"memory_limit": MEASURE_MEMORY, "temp_directory": str(self._scratch),
                                               **({"threads": self._threads} if self._threads else {})})
        specs = suite_specs(contract, self.month, self.id_validity)  # every variant column: a superset
        counted = measure.measure(self._con, contract, path, specs, list(shape.columns))
        if counted is None:
            return None
        for c in shape.columns:  # polars hands an integer column with a missing value to pandas as float64
            if str(shape[c].dtype) == "int64" and counted.nonnull[c] < counted.rows:
                shape[c] = shape[c].astype("float64")
        return shape, counted

    def close(self) -> None:
        """Close the counting DuckDB and remove what it spilled."""
        if self._con is not None:
            self._con.close()
            self._con = None
        shutil.rmtree(self._scratch, ignore_errors=True)

    def validate(self, source: str, frame, counted=None) -> SourceValidation:
        """Run `source`'s suite on `frame` (a pandas DataFrame, or a callable that makes it); with
        `counted` (lim/quality/measure.Measured) `frame` is the 0-row shape and the row-level
        results are made from the counts."""
        import warnings

        gx, ctx = self._gx, self._ctx
        contract = load_contract(source)
        frame = frame() if callable(frame) else frame
        if counted is None:
            absent = frozenset(c for c in VARIANT_COLUMNS if c in frame.columns and frame[c].isna().all())
        else:
            absent = frozenset(c for c in VARIANT_COLUMNS if c in frame.columns and counted.nonnull.get(c, 0) == 0)
        specs = suite_specs(contract, self.month, self.id_validity, absent)
        suite = ctx.suites.add(gx.ExpectationSuite(name=source, expectations=[_expectation(i, s, self._gxe) for i, s in enumerate(specs)]))
        batch = self._datasource.add_dataframe_asset(source).add_batch_definition_whole_dataframe(source)
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=source, data=batch, suite=suite))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            n_rows = len(frame) if counted is None else counted.rows
            vr = vd.run(batch_parameters={"dataframe": frame}, run_id=self._run_id, result_format=RESULT_FORMAT)
            del frame
            if counted is not None:
                self._apply_counts(source, vr, specs, counted)
        results = []
        # GX does not keep the suite's order in its results: map each back through meta.spec
        ordered = sorted(vr.results, key=lambda r: r.expectation_config.meta["spec"])
        assert len(ordered) == len(specs)
        for spec, r in zip(specs, ordered):
            res = r.result or {}
            raised = bool((r.exception_info or {}).get("raised_exception"))
            results.append({
                "expectation": spec.kind, "column": spec.column, "severity": spec.severity, "rule": spec.rule,
                "kwargs": json.dumps(spec.kwargs, ensure_ascii=False, default=str, sort_keys=True),
                "success": bool(r.success) and not raised,
                "element_count": res.get("element_count"), "unexpected_count": res.get("unexpected_count"),
                "unexpected_percent": res.get("unexpected_percent"), "observed_value": _observed(res),
                "exception": ((r.exception_info or {}).get("exception_message") or None) if raised else None})
        v = self.validated[source] = SourceValidation(source, all(x["success"] for x in results), results, None, n_rows)
        return v

    def _apply_counts(self, source: str, vr, specs: list[ExpectationSpec], counted) -> None:
        """Each row-level result of the 0-row validation `vr` made again by its expectation's own
        GX code from the counts; the suite's statistics recomputed; the result stored again under
        its key (the Data Docs are built from the store)."""
        from great_expectations.validator.validation_statistics import calc_validation_statistics

        from lim.quality import measure

        for r in vr.results:
            spec = specs[r.expectation_config.meta["spec"]]
            if spec.kind in measure.SHAPE_ONLY:
                continue
            out = r.expectation_config.to_domain_obj()._validate(
                counted.metrics[measure.spec_key(spec)], runtime_configuration={"result_format": RESULT_FORMAT})
            r.success, r.result = out["success"], out.get("result", {})
        stats = calc_validation_statistics(vr.results)
        vr.success = stats.success
        vr.statistics.update({"evaluated_expectations": stats.evaluated_expectations,
                              "successful_expectations": stats.successful_expectations,
                              "unsuccessful_expectations": stats.unsuccessful_expectations,
                              "success_percent": stats.success_percent})
        store = self._ctx.validation_results_store
        keys = [k for k in store.list_keys() if k.expectation_suite_identifier.name == source]
        assert len(keys) == 1, keys
        store.set(keys[0], vr)

    def finish(self) -> dict[str, SourceValidation]:
        """Build the Data Docs (pages made a function of the data) and return the validations."""
        self.close()
        self.build_docs()
        return self.results()

    def build_docs(self) -> None:
        """The Data Docs of every validation so far, each page a function of the data."""
        import warnings

        docs_dir = self.docs_dir
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._ctx.build_data_docs(site_names=["lim"])
        stamp = self._first.strftime("%Y%m%dT%H%M%S.000000Z")
        for page in sorted(docs_dir.rglob("*.html")):  # same data → same bytes (a rerun changes nothing)
            text = page.read_text(encoding="utf-8")
            clean = stable_page(text, stamp)
            if clean != text:
                page.write_text(clean, encoding="utf-8")

    def results(self) -> dict[str, SourceValidation]:
        """The validations in SOURCES order, each with its page of the Data Docs built last."""
        docs_dir = self.docs_dir
        out = {s: self.validated[s] for s in SOURCES if s in self.validated}
        for source, v in out.items():
            pages = sorted((docs_dir / "validations" / source).rglob("*.html"))
            v.docs_page = pages[0].relative_to(docs_dir).as_posix() if pages else None
        return out


def run_suites(month: str, frames: dict[str, object], docs_dir: Path,
               id_validity: float = DEFAULT_ID_VALIDITY) -> dict[str, SourceValidation]:
    """Validate each source's frame with its suite; write Data Docs under `docs_dir`.

    `frames` maps source -> pandas DataFrame, or a callable that makes it (sources not delivered
    are simply absent). A callable's frame is made when its source's turn comes and dropped after
    it, so only one source's rows are held in memory at a time.
    """
    run = SuiteRun(month, docs_dir, id_validity)
    for source in SOURCES:
        if source in frames:
            run.validate(source, frames[source])
    return run.finish()


def run_suites_from_files(month: str, staged: dict[str, str | Path | None], docs_dir: str | Path,
                          id_validity: float = DEFAULT_ID_VALIDITY, engine: str = "duckdb") -> dict[str, SourceValidation]:
    """Each source's suite on its staged Parquet (source -> path), in SOURCES order: counted by
    DuckDB, or (`engine` pandas) on a frame made when its source's turn comes."""
    run = SuiteRun(month, Path(docs_dir), id_validity, engine=engine)
    try:
        for source in SOURCES:
            if source in staged:
                run.validate_staged(source, staged[source])
        return run.finish()
    finally:
        run.close()


def run_suites_in_child(month: str, staged: dict[str, Path | None], docs_dir: Path,
                        id_validity: float = DEFAULT_ID_VALIDITY, engine: str = "pandas") -> dict[str, SourceValidation]:
    """run_suites_from_files in a fresh process: the pandas frames of a big month (the register of
    a province: 15 M rows) are freed with the process instead of staying in the pipeline process's
    heap. Same results, same Data Docs."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(run_suites_from_files,
                          (month, {s: str(p) if p else None for s, p in staged.items()}, str(docs_dir), id_validity, engine))
