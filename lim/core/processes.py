"""The worker processes' common start: one `forkserver` per pipeline process, which imports Great
Expectations, pandas, polars and the readers once (lim/quality/gx_warm.py); the GX worker
(lim/quality/worker.py) and the bounded read workers (lim/ingest/read_worker.py) are forked from it."""
from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

PRELOAD = ["lim.quality.gx_warm"]  # a module name: imported by the forkserver, not here
# A process without the GX worker (a step of the multiprocess or Celery executor: assets.ingest
# passes gx=False) preloads only the readers (~0.5 s, not GX's ~5 s in every ingest step).
PRELOAD_READERS = ["lim.ingest.staging"]


def context(gx: bool = True):
    """The forkserver context; its preload is fixed by the first call that starts it."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD if gx else PRELOAD_READERS)
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
