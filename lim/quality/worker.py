"""Great Expectations in a worker process that validates each source as soon as it is staged.

Why: GX is pure Python (import ~4 s, ~25 ms per expectation) and the month's DuckDB steps leave
a core free at county size. So while ingestion stages the other sources and DuckDB reconciles
the month, a worker process validates the staged files one by one; `quality_results` then only
collects the results (lim/quality/expectations.py: SuiteRun, the same code as in the pipeline
process; Data Docs do not depend on the order of the validations, tested).

Correctness before speed: `collect` hands back the worker's results only if the worker validated
exactly the files `quality_results` would validate — the same sources, each file unchanged since
it was submitted (path, size, modification time), the same month and ID-validity threshold —
and the worker reported no error. Otherwise the worker is stopped and `quality_results` validates
as before (an error then surfaces in its own step).

Worker processes come from the pipeline's `forkserver` (lim/core/processes.py); each run gets a
fresh worker forked from it, which imports GX itself (~2.5 s) while the month's sources are read,
unless the forkserver preloaded GX (a process whose first month is small).
"""
from __future__ import annotations

import os
import threading
import traceback
from pathlib import Path

from lim.core import processes



def warm_up(preload_gx: bool = False) -> None:
    """Start the forkserver without waiting for it (`preload_gx`: it imports GX too, see
    lim/core/processes.py): called when a run starts and by the month's first ingest step."""
    processes.context(gx=preload_gx)
    threading.Thread(target=processes.ensure_running, daemon=True, name="lim-gx-forkserver").start()


def file_identity(path: str | Path) -> tuple[str, int, int]:
    st = Path(path).stat()
    return str(Path(path).resolve()), st.st_size, st.st_mtime_ns


def _serve(conn) -> None:
    """The worker: `begin` a month, `validate` sources in the order they come, `finish`.
    `ready` (every source of the month is in) builds the Data Docs ahead of `finish`."""
    import signal

    # imported in the worker only (GX, ~2.5 s, while the month's sources are read; quietly:
    # lim/quality/gx_warm.py) unless the forkserver preloaded it
    import lim.quality.gx_warm  # noqa: F401
    from lim.quality.expectations import SuiteRun

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the pipeline's to handle; it stops us
    run, error, docs = None, None, False
    while True:
        try:
            msg = conn.recv()
        except EOFError:  # the pipeline process went away
            return
        kind = msg[0]
        try:
            if kind == "begin":
                _, month, docs_dir, id_validity, umask, engine = msg
                os.umask(umask)  # the forkserver's umask is of whichever run started it: use this run's
                if run is not None:
                    run.close()
                run, error, docs = None, None, False
                # one DuckDB thread: the run's own DuckDB steps have the cores
                run = SuiteRun(month, Path(docs_dir), id_validity, engine=engine, threads=1)
            elif kind == "validate" and run is not None and error is None:
                _, source, path = msg
                docs = False
                run.validate_staged(source, path)
            elif kind == "ready" and run is not None and error is None and not docs:
                run.build_docs()
                docs = True
            elif kind == "finish":
                if run is None or error is not None:
                    conn.send(("error", error or "no month begun"))
                else:
                    if not docs:
                        run.build_docs()
                    conn.send(("ok", run.results()))
                    run.close()
                run = None
            elif kind == "stop":
                if run is not None:
                    run.close()
                return
        except Exception:
            error = traceback.format_exc()
            if kind == "finish":
                conn.send(("error", error))
                run = None


class QualityWorker:
    """The pipeline side: one month's submissions to one worker process."""

    def __init__(self, month: str, docs_dir: Path, id_validity: float, engine: str = "duckdb"):
        ctx = processes.context()
        self.month, self.docs_dir, self.id_validity = month, str(Path(docs_dir).resolve()), id_validity
        self._conn, self._child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(self._child,), daemon=True, name=f"lim-gx-{month}")
        # The first start waits until the forkserver is up: start in a thread; the messages below
        # wait in the pipe until the worker reads them (it imports GX first, ~2.5 s).
        self._starter = threading.Thread(target=self._start, daemon=True, name=f"lim-gx-start-{month}")
        self._starter.start()
        self.submitted: dict[str, tuple[str, int, int]] = {}
        self.rows = 0
        self.broken = ""  # why the worker cannot be used, once a message could not be sent
        self._send(("begin", month, self.docs_dir, id_validity, processes.current_umask(), engine))

    def _send(self, msg) -> None:
        if self.broken:
            return
        try:
            self._conn.send(msg)
        except (OSError, ValueError) as e:  # the worker did not start or is gone
            self.broken = repr(e)

    def _start(self) -> None:
        try:
            self._proc.start()
        finally:  # the worker has its own copy; a worker that did not start makes recv() see EOF
            self._child.close()

    def submit(self, source: str, path: Path, rows: int) -> None:
        self.submitted[source] = identity = file_identity(path)
        self.rows += rows
        self._send(("validate", source, identity[0]))

    def ready(self) -> None:
        """Every source of the month has been staged: the worker may build the Data Docs now."""
        self._send(("ready",))

    def collect(self, month: str, staged: dict[str, Path], docs_dir: Path, id_validity: float):
        """The worker's validations if they are of exactly these files, else None (and why)."""
        if (self.month, self.docs_dir, self.id_validity) != (month, str(Path(docs_dir).resolve()), id_validity):
            return None, "数据质量参数或 Data Docs 目录已变"
        try:
            wanted = {s: file_identity(p) for s, p in staged.items()}
        except OSError as e:
            return None, f"暂存文件不可读：{e}"
        if wanted != self.submitted:
            return None, "后台校验的文件与本步骤要校验的文件不同"
        if self.broken:
            return None, f"后台校验进程不可用：{self.broken}"
        try:
            self._conn.send(("finish",))
            while not self._conn.poll(1.0):  # a worker killed (out of memory) sends nothing
                if not self._starter.is_alive() and not self._proc.is_alive():
                    raise EOFError(f"exit code {self._proc.exitcode}")
            status, payload = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError) as e:
            return None, f"后台校验进程已退出：{e!r}"
        if status != "ok":
            return None, f"后台校验出错：{str(payload).strip().splitlines()[-1] if payload else ''}"
        return payload, ""

    def close(self, wait: bool = True) -> None:
        """Stop the worker (at once if not `wait`: a validation in progress is abandoned)."""
        try:
            self._conn.send(("stop",))
        except (OSError, BrokenPipeError):
            pass
        self._starter.join(timeout=60)
        if self._proc.pid is None:  # never started
            self._conn.close()
            return
        self._proc.join(timeout=5 if wait else 0)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=5)
        self._conn.close()
