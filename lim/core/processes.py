"""The worker processes' common start: one `forkserver` per pipeline process; the bounded read
workers (lim/ingest/read_worker.py), the GX worker (lim/quality/worker.py) and the town-workbook
writers (lim/publish/loop.py) are forked from it.

What it preloads is decided once per process, by the first `context` call that starts it:

* the readers (polars, lim.ingest.staging; the first fork after ~0.2 s) — the default. The GX
  worker then imports Great Expectations itself (~2.5 s) while the month's sources are read;
* the readers and GX (lim/quality/gx_warm.py; the first fork after ~2.7 s) — asked for by
  `QualityResource.warm_up` for a month whose landing is small (GX_PRELOAD_MAX_BYTES): its reads
  end before GX's import would, so the import is paid once per process rather than by every
  month's GX worker (a process running many small months: the tests, the demo).

bench/PERF.md change 17: with GX always preloaded, a county month's first read waited ~2.6 s."""
from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

PRELOAD = ["lim.ingest.staging"]       # module names: imported by the forkserver, not here
PRELOAD_WITH_GX = ["lim.quality.gx_warm"]  # imports the readers too
# A month whose landing folder is at most this big preloads GX (its reads take ~1–2 s on 2 cores).
GX_PRELOAD_MAX_BYTES = 8 << 20

_preload: list[str] | None = None  # what this process's forkserver preloads, once decided


def context(gx: bool = False):
    """The forkserver context; the first call decides the preload (`gx`: GX too), later calls
    get the same forkserver whatever they pass."""
    global _preload
    ctx = mp.get_context("forkserver")
    if _preload is None:
        _preload = PRELOAD_WITH_GX if gx else PRELOAD
        ctx.set_forkserver_preload(_preload)
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
