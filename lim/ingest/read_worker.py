"""Stage one source in a worker process of its own, bounded in memory and time.

The readers bound what they can see coming (lim/core/limits.py: columns, cell length, XLSX size,
Parquet schema); whatever else a hostile or broken file makes a parser do — allocate without end,
crash in native code (a segmentation fault, an abort), loop — happens in a child process:

* the child is forked from the pipeline's `forkserver` (lim/core/processes.py, the one the GX
  worker comes from: polars and the staging modules are imported there already), with the
  pipeline's ``LIM_*`` environment and umask;
* it limits its own address space (``RLIMIT_AS``) to what it has at start plus
  ``LIM_READ_MEMORY_MB``, then stages the source as the pipeline process would
  (:func:`stage_files`: the staged Parquet files and ``<source>.load.json``) and sends back the
  load record;
* the pipeline process waits at most ``LIM_READ_TIMEOUT_S``. A child that runs out of memory
  (``MemoryError``, or killed by the allocator's abort), dies of a signal, fails, or takes too
  long has its file refused — ``unreadable``, one line naming the file and what happened — and
  whatever it left in the staged folder removed; the month goes on with the other sources.

An ``OSError`` of the child (the staged folder full or not writable) is no fault of the file: it
fails the step, as it did in the pipeline process.

``LIM_READ_ISOLATE=0`` stages in the pipeline process (no memory or time bound); so does a machine
where the worker cannot be started (the ingest step logs it).

For drills and tests only: ``LIM_FAIL_AT=read_crash:<source>`` makes the child of that source kill
itself with SIGSEGV, ``read_oom:<source>`` makes it allocate until its memory bound stops it,
``read_hang:<source>`` makes it sleep past its time bound, ``read_thread_panic:<source>`` prints a
parser thread's panic (a thread the memory bound did not let start) and then waits as the reading
would: the child's watch of its stderr ends it (``PANIC_GRACE_S``).
"""
from __future__ import annotations

import errno
import json
import os
import re
import select
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from lim.core import limits, processes, settings
from lim.core.hashing import sha256_file
from lim.ingest.staging import _rel, find_source_file, stage_source
from lim.ingest.streaming import stage_streamed

LOAD_KEYS = ("source", "month", "file", "sha256", "status", "message", "rows_in", "duplicates", "accepted",
             "quarantined", "ignored_files")


def staged_paths(month_dir: Path, source: str) -> dict[str, Path]:
    return {"accepted": month_dir / f"{source}.parquet",
            "quarantine": month_dir / f"{source}.quarantine.parquet",
            "load": month_dir / f"{source}.load.json"}


def _write_parquet(df, path: Path) -> None:
    tmp = path.with_suffix(".parquet.tmp")
    df.write_parquet(tmp)
    os.replace(tmp, path)


def write_load(load: dict, path: Path) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(load, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def stage_files(source: str, month: str, landing_month_dir: Path, landing_root: Path, staged_month_dir: Path) -> dict:
    """Stage <landing_month_dir>/<source>.* into <staged_month_dir> (accepted rows, quarantine,
    load record) and return the load record. In the calling process."""
    paths = staged_paths(Path(staged_month_dir), source)
    for p in paths.values():  # a rerun replaces the month as a whole: no stale file survives
        p.unlink(missing_ok=True)
    load = stage_streamed(source, month, Path(landing_month_dir), Path(landing_root), paths)
    if load is not None:  # a big UTF-8 CSV, staged in batches (lim/ingest/streaming.py)
        write_load(load, paths["load"])
        return load
    result = stage_source(source, month, Path(landing_month_dir), Path(landing_root))
    if result.status == "accepted":
        _write_parquet(result.accepted, paths["accepted"])
        _write_parquet(result.quarantine, paths["quarantine"])
    load = {"source": source, "month": month, "file": result.file, "sha256": result.sha256,
            "status": result.status, "message": result.message, "rows_in": result.rows_in,
            "duplicates": result.duplicates,
            "accepted": result.accepted.height if result.status == "accepted" else 0,
            "quarantined": result.quarantine.height if result.status == "accepted" else 0,
            "ignored_files": result.ignored_files}
    write_load(load, paths["load"])
    return load


# ---------------------------------------------------------------------------------------------
# the worker
# ---------------------------------------------------------------------------------------------
def _vm_size() -> int:
    """This process's address space in bytes (0 if unknown)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _limit_memory(budget_mb: int) -> None:
    import resource

    if not budget_mb:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = _vm_size() + (budget_mb << 20)
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or want < soft:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _drill(source: str) -> None:
    targets = settings.current().fail_at
    if f"read_crash:{source}" in targets:
        os.kill(os.getpid(), signal.SIGSEGV)
    if f"read_hang:{source}" in targets:
        time.sleep(3600)
    if f"read_thread_panic:{source}" in targets:
        os.write(2, b"thread '<unnamed>' (1) panicked at crates/polars-async/src/executor/mod.rs:435:26:\n"
                    b"called `Result::unwrap()` on an `Err` value: Os { code: 11, kind: WouldBlock, "
                    b"message: \"Resource temporarily unavailable\" }\n")
        time.sleep(3600)
    if f"read_oom:{source}" in targets:
        hog = []
        while True:
            hog.append(bytearray(64 << 20))


# A Rust panic in one of the parser's own threads — typically a thread it could not start under the
# memory bound, "Os { code: 11, kind: WouldBlock }" — is printed on stderr but may never reach
# Python: the batch the reading waits for never comes, and the file would be refused only at
# LIM_READ_TIMEOUT_S (an hour by default). The child watches its own stderr: a panic the reading
# has not turned into an exception within PANIC_GRACE_S ends the child with the panic's message.
PANIC_GRACE_S = 2.0
_PANIC = b"panicked at"
_PANIC_OF_MEMORY = re.compile(r"Os \{ code: (11|12)\b|memory allocation|capacity overflow|Cannot allocate memory")


class _Reply:
    """The child's one message to the pipeline, sent by whichever comes first: the reading, or the
    watch of its stderr."""

    def __init__(self, conn):
        self.conn, self.lock, self.sent = conn, threading.Lock(), False

    def send(self, msg) -> bool:
        with self.lock:
            if self.sent:
                return False
            self.sent = True
            try:
                self.conn.send(msg)
            except Exception:  # noqa: BLE001 - out of memory even for that: the parent sees the exit
                pass
            return True


def _out_of_memory(exc: BaseException, bounded: bool) -> bool:
    """What the reading raised says the memory bound stopped it: MemoryError; ENOMEM, which polars
    reports as an OSError "Cannot allocate memory (os error 12)", often without its errno; or,
    under a bound, a parser's panic over an allocation or a thread it could not start."""
    if isinstance(exc, MemoryError):
        return True
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOMEM or f"(os error {errno.ENOMEM})" in str(exc)
    return type(exc).__name__ == "PanicException" and bounded and bool(_PANIC_OF_MEMORY.search(str(exc)))


def panic_message(text: bytes, bounded: bool) -> tuple:
    """The message for a panic printed on stderr (`text` holds it): out of memory when the panic says
    an allocation or a thread's start was refused and a memory bound is in place."""
    after = text[text.rindex(_PANIC):].decode("utf-8", "replace").splitlines()
    said = next((line.strip() for line in after[1:] if line.strip()), after[0])[:200]
    if bounded and _PANIC_OF_MEMORY.search(said):
        return ("memory", "")
    return ("error", f"解析线程异常终止：{said}", "")


def _watch_stderr(reply: _Reply, read_fd: int, out_fd: int, bounded: bool) -> None:
    """Forward the child's stderr (the pipe `read_fd`) to the pipeline's (`out_fd`); after a panic,
    wait PANIC_GRACE_S for the reading, then report the panic and end the child (module doc)."""
    text, deadline = b"", None
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if select.select([read_fd], [], [], wait)[0]:
                chunk = os.read(read_fd, 65536)
                if not chunk:  # stderr given back: the reading has ended
                    return
                try:
                    os.write(out_fd, chunk)
                except OSError:
                    pass
                text = (text + chunk)[-16384:]
                if deadline is None and _PANIC in text:
                    deadline = time.monotonic() + PANIC_GRACE_S
            elif deadline is not None:
                if reply.send(panic_message(text, bounded)):
                    os._exit(1)
                return
    finally:  # whatever ends the watch, stderr is given back: nobody would read the pipe any more
        os.dup2(out_fd, 2)


def _child(conn, env: dict[str, str], umask: int, args: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the pipeline's to handle; it stops us
    os.umask(umask)  # the forkserver's umask is of whichever process started it: use the pipeline's
    # The child must inherit the pipeline's LIM_* variables as they are now (a forkserver child
    # has those of whoever started the forkserver): its settings.current() is built from them.
    for k in [k for k in os.environ if k.startswith("LIM_") and k not in env]:
        del os.environ[k]
    os.environ.update(env)
    reply = _Reply(conn)
    # the watch starts before the memory bound (a thread's stack counts in it)
    stderr_fd = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    bounded = bool(limits.current().memory_mb)
    watch = threading.Thread(target=_watch_stderr, args=(reply, read_fd, stderr_fd, bounded),
                             daemon=True, name="lim-read-stderr")
    watch.start()
    try:
        _limit_memory(limits.current().memory_mb)
        _drill(args[0])
        load = stage_files(*args)
        msg = ("ok", load)
    except BaseException as exc:  # noqa: BLE001 - a parser's panic is the file's problem
        if _out_of_memory(exc, bounded):
            msg = ("memory", "")
        elif isinstance(exc, OSError):  # the staged folder's (full, not writable): fails the step
            msg = ("oserror", f"{type(exc).__name__}: {exc}")
        else:
            msg = ("error", _first_line(exc), traceback.format_exc(limit=-3))
    reply.send(msg)
    conn.close()
    sys.stderr.flush()
    os.dup2(stderr_fd, 2)  # the pipe's last writer closed: the watch forwards what is left and ends
    watch.join(5)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:200]}" if text else type(exc).__name__


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"信号 {-code}"


class WorkerUnavailable(RuntimeError):
    """The worker process could not be started (the caller stages in its own process)."""


def stage_isolated(source: str, month: str, landing_month_dir: Path, landing_root: Path,
                   staged_month_dir: Path) -> dict:
    """:func:`stage_files` in a bounded worker process (module doc). Returns the load record (also
    written to ``<source>.load.json``); a file the worker could not stage is refused ``unreadable``.
    Raises WorkerUnavailable when no worker can be started, OSError for the child's OSError."""
    lim = limits.current()
    args = (source, month, str(landing_month_dir), str(landing_root), str(staged_month_dir))
    env = settings.child_environment()  # the child rebuilds the same Settings from them
    recv = send = None
    try:
        ctx = processes.context()  # the pipeline's forkserver (it has imported the readers)
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(send, env, processes.current_umask(), args), daemon=True,
                           name=f"lim-read-{source}")
        proc.start()
    except Exception as exc:  # noqa: BLE001
        for c in (recv, send):
            if c is not None:
                c.close()
        raise WorkerUnavailable(f"{type(exc).__name__}: {exc}") from exc
    send.close()
    deadline = time.monotonic() + lim.timeout_s if lim.timeout_s else None
    msg = None
    try:
        while True:
            if recv.poll(0.2):
                try:
                    msg = recv.recv()
                except (EOFError, OSError):
                    msg = None
                break
            if not proc.is_alive():
                if recv.poll(0):
                    continue
                break
            if deadline is not None and time.monotonic() > deadline:
                msg = ("timeout",)
                proc.kill()
                break
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join()
        recv.close()
    if msg is not None and msg[0] == "ok":
        return msg[1]
    if msg is not None and msg[0] == "oserror":
        raise OSError(f"暂存 {source} 时出错：{msg[1]}")
    if msg is None:
        if proc.exitcode is not None and proc.exitcode < 0:
            what = (f"读取进程异常终止（{_signal_name(proc.exitcode)}），可能是文件结构异常，或读取所需内存超过上限 "
                    f"{lim.memory_mb} MiB（{lim.var('memory_mb')}）")
        else:
            what = f"读取进程异常退出（退出码 {proc.exitcode}）"
    elif msg[0] == "memory":
        what = f"读取所需内存超过上限 {lim.memory_mb} MiB（{lim.var('memory_mb')}）"
    elif msg[0] == "timeout":
        what = f"读取超过 {lim.timeout_s} 秒仍未完成（{lim.var('timeout_s')}）"
    else:
        what = f"读取时出错：{msg[1]}"
    return refuse(source, month, Path(landing_month_dir), Path(landing_root), Path(staged_month_dir), what)


def refuse(source: str, month: str, landing_month_dir: Path, landing_root: Path, staged_month_dir: Path,
           what: str) -> dict:
    """Refuse `source`'s file (``unreadable``, ``what`` happened while reading it): remove what the
    worker left in the staged folder, write and return the load record."""
    paths = staged_paths(staged_month_dir, source)
    for p in paths.values():
        p.unlink(missing_ok=True)
    for pattern in (f"{source}.*.tmp", f"{source}.stream.parquet", f"{source}.quarantine.stream.parquet",
                    f"{source}.stream.dedup.parquet"):
        for p in staged_month_dir.glob(pattern):
            p.unlink(missing_ok=True)
    chosen, others = find_source_file(landing_month_dir, source)
    rel = _rel(chosen, landing_root) if chosen is not None else None
    try:
        sha = sha256_file(chosen) if chosen is not None else None
    except OSError:
        sha = None
    load = {"source": source, "month": month, "file": rel, "sha256": sha, "status": "unreadable",
            "message": f"文件 {rel} 无法读取：{what}", "rows_in": 0, "duplicates": 0, "accepted": 0,
            "quarantined": 0, "ignored_files": [_rel(p, landing_root) for p in others]}
    write_load(load, paths["load"])
    return load
