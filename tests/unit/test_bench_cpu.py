"""The benchmark's CPU figure for processes forked from a forkserver (bench/run.py ForkserverCPU):
each forked process counted once. A forked child carries its forkserver's command line and, once
reaped, its CPU is in the forkserver's cutime as well: summed per pid, it was counted twice."""
from __future__ import annotations

import sys
import textwrap

from bench.run import run_measured

# Two children forked from a (preload-free) forkserver, one after the other, each busy for about
# BUSY CPU seconds as it measures them itself; the parent only waits.
BUSY = 0.6
SCRIPT = textwrap.dedent(f"""
    import multiprocessing as mp, sys, time

    def busy(q):
        t = time.process_time()
        while time.process_time() - t < {BUSY}:
            pass
        q.put(time.process_time())

    if __name__ == "__main__":
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([])
        q = ctx.Queue()
        used = 0.0
        for _ in range(2):
            p = ctx.Process(target=busy, args=(q,))
            p.start()
            used += q.get()
            p.join()
        time.sleep(0.5)  # a sample after both were reaped
        print(used)
""")


def test_forked_children_counted_once(tmp_path):
    script, log = tmp_path / "forks.py", tmp_path / "out.txt"  # a file: the children import its `busy`
    script.write_text(SCRIPT, encoding="utf-8")
    m = run_measured([sys.executable, str(script)], log=log)
    assert m["returncode"] == 0, log.read_text()
    used = float(log.read_text().split()[-1])  # what the children measured themselves
    assert used >= 2 * BUSY
    # the forkserver's own start (an interpreter, ~0.05 s) and sampling granularity aside
    assert used * 0.9 <= m["forkserver_cpu_s"] <= used + 0.5, (m, used)
