"""The worker processes' common start: one `forkserver` per pipeline process, which imports polars
and the readers once (lim.ingest.staging, ~0.2 s); the bounded read workers
(lim/ingest/read_worker.py), the GX worker (lim/quality/worker.py) and the town-workbook writers
(lim/publish/loop.py) are forked from it.

Great Expectations is not preloaded: the GX worker imports it itself (lim/quality/gx_warm.py,
~2.5 s) while the month's first sources are read. Preloaded, it made the month's first read wait
for GX's import (2.6 s of a county month's 20 s, bench/PERF.md change 17)."""
from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

PRELOAD = ["lim.ingest.staging"]  # a module name: imported by the forkserver, not here


def context():
    """The forkserver context (its preload set before it starts)."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def current_umask() -> int:
    """This process's umask, read without changing it (Linux); the owner-only default otherwise."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o077
