"""The worker processes' common start: one `forkserver` per pipeline process; the bounded read
workers (lim/ingest/read_worker.py), the GX worker (lim/quality/worker.py) and the town-workbook
writers (lim/publish/loop.py) are forked from it.

It is this package's own forkserver, not Python's process-wide one: that one is the multiprocess
executor's (pipelines/executors.py), which preloads the code location for Dagster's step
processes. Sharing it, whichever started first decided the preload of both — a run process that
had read a month before forked its Dagster steps from a server without Dagster (each step then
imported it again), or its read workers from one holding all of Dagster.

What it preloads is decided once per process, by the first `context` call that starts it:

* the readers (polars, lim.ingest.staging; the first fork after ~0.2 s) — the default. The GX
  worker then imports Great Expectations itself (~2.5 s) while the month's sources are read;
* the readers and GX (lim/quality/gx_warm.py; the first fork after ~2.7 s) — asked for by
  `QualityResource.warm_up` for a month whose landing is small (GX_PRELOAD_MAX_BYTES): its reads
  end before GX's import would, so the import is paid once per process rather than by every
  month's GX worker (a process running many small months: the tests, the demo).

bench/PERF.md change 17: with GX always preloaded, a county month's first read waited ~2.6 s.

The children never re-run the parent's main script. Python's forkserver start hands each child
the parent's `__main__` to re-run (to unpickle objects defined there); for a script that imports
the pipeline (the tests' helpers, an operator's own script) that was ~0.9 s of imports in every
read worker — 11 per month — before it read a byte, and a script without an
`if __name__ == "__main__":` guard started its month again in each child (bench/PERF.md change 18;
`lim`'s own entry script imports nothing heavy). The children's targets are functions of lim
modules the forkserver has imported, so `context` returns a forkserver context whose processes
leave `__main__` out of what the child prepares."""
from __future__ import annotations

import io
import os
from multiprocessing import context as mp_context, forkserver, popen_forkserver, reduction, spawn, util
from pathlib import Path

PRELOAD = ["lim.ingest.staging"]       # module names: imported by the forkserver, not here
PRELOAD_WITH_GX = ["lim.quality.gx_warm"]  # imports the readers too
# A month whose landing folder is at most this big preloads GX (its reads take ~1–2 s on 2 cores).
GX_PRELOAD_MAX_BYTES = 8 << 20

_preload: list[str] | None = None  # what this process's forkserver preloads, once decided


# Keys of Python's preparation data (multiprocessing.spawn.get_preparation_data) that make a child
# re-run the parent's main script, by module name or by path.
_MAIN_KEYS = ("init_main_from_name", "init_main_from_path")


_SERVER = forkserver.ForkServer()  # this package's own (module doc)


class _Popen(popen_forkserver.Popen):
    """Python 3.11's forkserver `Popen._launch`, on this package's server and with the main-script
    keys left out of the preparation data (module doc); everything else as the standard library
    does it."""

    def _launch(self, process_obj):
        prep_data = {k: v for k, v in spawn.get_preparation_data(process_obj._name).items() if k not in _MAIN_KEYS}
        buf = io.BytesIO()
        mp_context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            mp_context.set_spawning_popen(None)
        self.sentinel, w = _SERVER.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)  # the child's sentinel of its parent, as in the standard library
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(mp_context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


class _Context(mp_context.ForkServerContext):
    """The forkserver context whose processes (and pools' processes) start as `_Popen` does."""
    Process = _Process

    def set_forkserver_preload(self, module_names):
        _SERVER.set_forkserver_preload(module_names)


_CONTEXT = _Context()


def context(gx: bool = False):
    """The forkserver context; the first call decides the preload (`gx`: GX too), later calls
    get the same forkserver whatever they pass."""
    global _preload
    if _preload is None:
        _preload = PRELOAD_WITH_GX if gx else PRELOAD
        _CONTEXT.set_forkserver_preload(_preload)
    return _CONTEXT


def ensure_running() -> None:
    """Start the forkserver now if it is not running (what `context` decided it preloads)."""
    _SERVER.ensure_running()


def current_umask() -> int:
    """This process's umask, read without changing it (Linux); the owner-only default otherwise."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o077
