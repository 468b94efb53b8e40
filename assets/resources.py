"""Dagster resources: the warehouse, the landing and staging folders, the outputs, the policy.

All paths are configuration; the defaults are the embedded local setup under ./var.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from lim.core import processes, settings
from lim.core.contracts import SOURCES
from lim.core.paths import DEFAULT_VAR, SAMPLE_LANDING, SAMPLE_POLICY
from lim.core.policy import Policy, load_policy_once
from lim.quality import worker as gx_worker
from lim.quality.build import gx_child_rows
from lim.warehouse import warehouse


# The steps that open the warehouse (every asset but the ingest ones `staged_<source>`, which only
# write Parquet under the staging folder, and every asset check) carry these tags: DuckDB allows one
# writer per file, so whatever the executor at most one of them runs at a time (pipelines/executors.py):
# the multiprocess executor limits the tag `lim/writer` to one step, and the Celery executor sends
# them to the queue `lim_warehouse`, which one worker of concurrency 1 consumes (docs/deploy.md).
WAREHOUSE_QUEUE = "lim_warehouse"
WAREHOUSE_STEP_TAGS = {"lim/writer": "warehouse", "dagster-celery/queue": WAREHOUSE_QUEUE}


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Heavy joins run here; a big month spills to temp_dir."""

    path: str = str(DEFAULT_VAR / "warehouse.duckdb")
    memory_limit: str = "6GB"
    threads: int = 2
    temp_dir: str = ""
    # The LIM_* settings of the run (lim.core.settings.run_environment), given by the runner to a run
    # of the multiprocess or Celery executor: every step requires this resource (assets/guard.py adds
    # it to the ingest assets), so each step process adopts them before its step runs. Empty: the
    # process's own (in-process runs, the UI).
    run_settings: dict[str, str] = {}

    # the connection an in-process run holds from its first step that opens the warehouse to its
    # end; each step gets a cursor of it (lim/warehouse/warehouse.py hold_open_between_steps). Only in
    # a run (set up and torn down by Dagster); the runner's own connections outside it are closed.
    _in_run: bool = PrivateAttr(default=False)
    _held: object = PrivateAttr(default=None)

    def setup_for_execution(self, context) -> None:
        if self.run_settings:
            settings.adopt_environment(self.run_settings)
        self._in_run, self._held = True, None

    def teardown_after_execution(self, context) -> None:
        held, self._held, self._in_run = self._held, None, False
        if held is not None:
            held.close()

    def _open(self):
        return warehouse.connect(self.path, self.memory_limit, self.threads, self.temp_dir or None)

    @contextmanager
    def connect(self):
        if self._in_run and self._held is None and warehouse.hold_open_between_steps(self.path):
            self._held = self._open()
        con = self._held.cursor() if self._held is not None else self._open()
        failed = False
        try:
            yield con
        except BaseException:
            failed = True
            raise
        finally:
            con.close()
            # grown big, or a step failed on it (whatever DuckDB made of the error, a later step
            # opens the file anew, as without the hold)
            if self._held is not None and (failed or not warehouse.hold_open_between_steps(self.path)):
                held, self._held = self._held, None
                held.close()


class LandingResource(dg.ConfigurableResource):
    """Read-only landing area: <root>/<YYYY-MM>/<source>.<csv|xlsx|parquet>."""

    root: str = str(SAMPLE_LANDING)

    def month_dir(self, month: str) -> Path:
        return Path(self.root) / month


class StagingResource(dg.ConfigurableResource):
    """Staged Parquet per source and month, written by ingestion, read by reconciliation."""

    root: str = str(DEFAULT_VAR / "staged")

    def month_dir(self, month: str) -> Path:
        d = Path(self.root) / month
        d.mkdir(parents=True, exist_ok=True)
        return d

    def data_docs_dir(self, month: str) -> Path:
        """Where the month's GX Data Docs are built (the report copies them to <out>/<M>/data_docs)."""
        return self.month_dir(month) / "data_docs"


class OutputResource(dg.ConfigurableResource):
    """Where a month's staff CSVs, report and manifest are published."""

    root: str = str(DEFAULT_VAR / "out")
    full_ids: bool = False  # write ID numbers unmasked in staff CSVs (logged in the manifest)
    requested_by: str = ""  # who asked for this run (run audit)


class PolicyResource(dg.ConfigurableResource):
    """The deployment's policy YAML (parameters per county and period)."""

    path: str = str(SAMPLE_POLICY)

    def load(self) -> Policy:
        """The policy, parsed once per process while the file's content stays the same (the
        runner's preflight, `rules` and `published_month` share it: lim/core/policy.py)."""
        return load_policy_once(self.path)


# Landing bytes per row above which a month is surely over QualityResource's row limit (the
# generator's CSV rows are ~60 bytes; XLSX rows fewer): such a month starts no GX import at all.
BYTES_PER_ROW_SURELY = 100


class QualityResource(dg.ConfigurableResource):
    """Great Expectations validation of the staged sources, in the background (lim/quality/worker.py).

    Each ingest asset reports the file it `staged`; a worker process validates it while the run
    goes on; `quality_results` `collect`s the results, or validates itself when the worker did
    not validate exactly its files. A month of more than `max_rows` rows (default
    LIM_GX_CHILD_ROWS) is not validated in the background: its pandas frames would sit beside
    DuckDB's memory; `quality_results` runs it in a child process of its own instead. Whether a
    month is that big is judged from its landing folder: by its size alone before anything is
    read (`warm_up`), then from the first staged file's rows per byte (`month_rows_estimate`).
    """

    background: bool = True
    max_rows: int = -1  # -1: LIM_GX_CHILD_ROWS / assets.quality.GX_CHILD_ROWS
    landing_root: str = ""  # the landing area (LandingResource.root), for the size of a month's folder

    _workers: dict = PrivateAttr(default_factory=dict)   # month -> QualityWorker (None: given up)
    _reported: dict = PrivateAttr(default_factory=dict)  # month -> sources staged (submitted or not)
    _bytes: dict = PrivateAttr(default_factory=dict)     # month -> bytes of its landing folder
    _warm: set = PrivateAttr(default_factory=set)        # months warm_up was called for

    def setup_for_execution(self, context) -> None:
        self._workers, self._reported, self._bytes, self._warm = {}, {}, {}, set()

    def teardown_after_execution(self, context) -> None:
        for worker in self._workers.values():
            if worker is not None:
                worker.close(wait=False)
        self._workers = {}

    def _limit(self) -> int:
        if self.max_rows >= 0:
            return self.max_rows
        return gx_child_rows()

    def _month_bytes(self, month: str) -> int:
        """Bytes of every file in `month`'s landing folder (0 if unknown), read once per run."""
        if month not in self._bytes:
            try:
                folder = Path(self.landing_root) / month
                self._bytes[month] = sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) if self.landing_root else 0
            except OSError:
                self._bytes[month] = 0
        return self._bytes[month]

    def month_rows_estimate(self, month: str, load: dict) -> int:
        """The month's landing rows, from this file's rows per byte and the size of the month's
        folder (known before the big files are read)."""
        try:
            file_bytes = (Path(self.landing_root) / load["file"]).stat().st_size if self.landing_root else 0
        except (OSError, TypeError):
            return 0
        return int(self._month_bytes(month) * (load.get("rows_in") or 0) / file_bytes) if file_bytes else 0

    def warm_up(self, month: str | None = None) -> None:
        """Start the pipeline's forkserver now (the read workers and the GX worker are forked from it;
        for a small month it preloads GX, lim/core/processes.py), unless `month`'s landing folder
        is so big that it will not be validated in the background.
        Each ingest asset calls it with its partition's Month before it reads (once per month counts)."""
        if not self.background or (month is not None and month in self._warm):
            return
        if month is not None:
            self._warm.add(month)
        if month and self._month_bytes(month) > BYTES_PER_ROW_SURELY * self._limit():
            return
        gx_worker.warm_up(preload_gx=bool(month) and self._month_bytes(month) <= processes.GX_PRELOAD_MAX_BYTES)

    def staged(self, month: str, source: str, load: dict, accepted: Path, docs_dir: Path, id_validity: float) -> bool:
        """`source` of `month` is staged (`load` as ingestion wrote it): validate its accepted rows
        in the background if the month allows it; once every source is in, the worker builds its
        Data Docs. True if the file was handed to the worker."""
        submitted = load["status"] == "accepted" and accepted.exists() and self._submit(
            month, source, accepted, load.get("accepted") or 0, docs_dir, id_validity,
            self.month_rows_estimate(month, load))
        done = self._reported.setdefault(month, set())
        done.add(source)
        worker = self._workers.get(month)
        if worker is not None and done >= set(SOURCES):
            worker.ready()
        return submitted

    def _submit(self, month: str, source: str, accepted: Path, rows: int, docs_dir: Path, id_validity: float,
                month_rows: int) -> bool:
        if not self.background or self._workers.get(month, 0) is None:
            return False
        worker = self._workers.get(month)
        if worker is not None and source in worker.submitted:  # staged again in this run
            self.discard(month)
            return False
        if max(month_rows, (worker.rows if worker else 0) + rows) > self._limit():  # too big beside DuckDB
            self.discard(month)
            return False
        try:  # an optimization only: whatever goes wrong here, quality_results validates itself
            if worker is None:
                worker = self._workers[month] = gx_worker.QualityWorker(month, docs_dir, id_validity,
                                                                        settings.current().gx_engine)
            worker.submit(source, accepted, rows)
        except Exception:
            self.discard(month)
            return False
        return True

    def collect(self, month: str, staged: dict, docs_dir: Path, id_validity: float):
        """(validations, "") from the background, or (None, why not) — the caller validates."""
        worker = self._workers.get(month)
        if worker is None:
            return None, ""
        try:
            return worker.collect(month, staged, docs_dir, id_validity)
        finally:
            self.discard(month, wait=True)

    def discard(self, month: str, wait: bool = False) -> None:
        """Stop `month`'s worker; nothing more of that month is validated in the background."""
        worker = self._workers.get(month)
        self._workers[month] = None
        if worker is not None:
            worker.close(wait=wait)
