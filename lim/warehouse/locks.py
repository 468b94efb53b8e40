"""One run per month at a time: an exclusive `fcntl.flock` on a lock file beside the warehouse.

    with month_lock(warehouse_path, "2026-06"):
        ...   # the whole run of 2026-06

`<warehouse dir>/locks/<YYYY-MM>.lock` is held for the whole run. The kernel drops a flock when
the holding process ends, however it ends (exception, Ctrl-C, SIGKILL, power cut), so a killed run
never leaves a stale lock behind: the file may stay, the lock does not. The holder writes who it
is (user, host, pid, start time) into the file so that a refused second run can say who holds it.

A second run of the same month, from another process or from this one, is refused at once with
`MonthLocked`, a one-line Chinese message naming the month and the holder. Runs of different
months take turns on `<warehouse dir>/locks/warehouse.lock` (DuckDB admits one writer process): the
second says once, in one line, whose run it waits for, and waits. Since every `lim` run holds that
lock while it runs, a run the Dagster instance still shows as started while the lock is free is
dead (killed, out of memory): the next run marks it failed (pipelines/runner.py).
"""
from __future__ import annotations

import errno
import fcntl
import getpass
import json
import os
import socket
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

_held: set[str] = set()  # lock files held by this process (a flock is per open file, not per process)
_guard = threading.Lock()


class MonthLocked(RuntimeError):
    """Another run of the same month holds the lock."""


def lock_path(warehouse_path: str | os.PathLike, month: str) -> Path:
    return Path(os.path.abspath(warehouse_path)).parent / "locks" / f"{month}.lock"


WAREHOUSE_LOCK = "warehouse"  # the lock every run of any month holds: DuckDB has one writer


def lock_is_free(warehouse_path: str | os.PathLike, name: str) -> bool:
    """Whether nobody holds the lock `name` (a month, or WAREHOUSE_LOCK) now: a run whose lock is free
    is not running, whatever the Dagster instance still says about it."""
    path = lock_path(warehouse_path, name)
    if str(path) in _held:
        return False
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # releases the probe
    return True


@contextmanager
def warehouse_lock(warehouse_path: str | os.PathLike, month: str, on_wait=None):
    """Hold the warehouse's lock for a run; if another month's run holds it, call `on_wait(holder)`
    once (one line for the operator) and wait for it: two months never write at once."""
    path = lock_path(warehouse_path, WAREHOUSE_LOCK)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            if on_wait is not None:
                on_wait(describe_holder(path))
            fcntl.flock(fd, fcntl.LOCK_EX)
        _held.add(str(path))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({**_whoami(), "month": month}, ensure_ascii=False).encode("utf-8"), 0)
        yield path
    finally:
        _held.discard(str(path))
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)


def _whoami() -> dict:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        user = str(os.getuid())
    return {"user": user, "host": socket.gethostname(), "pid": os.getpid(),
            "started": datetime.now().astimezone().isoformat(timespec="seconds")}


def describe_holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "另一个进程"
    month = f"{info['month']} 月的运行，" if info.get("month") else ""
    return f"{month}{info.get('user', '?')}@{info.get('host', '?')}（进程 {info.get('pid', '?')}，开始于 {info.get('started', '?')}）"


@contextmanager
def month_lock(warehouse_path: str | os.PathLike, month: str):
    """Hold the month's lock for the duration of the block; MonthLocked if someone else holds it."""
    path = lock_path(warehouse_path, month)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path)
    with _guard:
        if key in _held:
            raise MonthLocked(f"{month} 月正在由本进程运行，拒绝同时再运行一次")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise MonthLocked(f"{month} 月正在由 {describe_holder(path)} 运行，拒绝同时再运行一次；"
                                  f"请等待其结束（锁文件 {path}）") from None
            raise
        _held.add(key)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({**_whoami(), "month": month}, ensure_ascii=False).encode("utf-8"), 0)
        os.fsync(fd)
        yield path
    finally:
        with _guard:
            _held.discard(key)
            try:
                os.ftruncate(fd, 0)  # no holder any more; the file itself may stay
            finally:
                os.close(fd)  # closing the descriptor releases the flock
