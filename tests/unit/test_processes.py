"""The worker processes' start (lim/core/processes.py): a child forked for the pipeline never re-runs
the script that started the pipeline — an operator's script is run once, whatever it imports, and
works without an `if __name__ == "__main__":` guard."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from lim.core.paths import ROOT

SCRIPT = textwrap.dedent("""
    # an operator's script: no __main__ guard, a side effect at import
    import os, sys
    with open(sys.argv[1], "a") as f:
        f.write(f"{os.getpid()}\\n")
    from lim.core import processes
    ctx = processes.context()
    p = ctx.Process(target=os.getpid, daemon=True)
    p.start()
    p.join(30)
    with ctx.Pool(1) as pool:
        child = pool.apply(os.getpid)
    print(p.exitcode, child != os.getpid())
""")


def test_children_do_not_rerun_the_operators_script(tmp_path):
    script, marker = tmp_path / "monthly.py", tmp_path / "ran.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(marker)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", "True"]  # the process and the pool's worker ran and ended well
    assert len(marker.read_text().splitlines()) == 1, "the script was run again in a child process"


def test_every_module_the_executors_forkserver_preloads_exists():
    """The multiprocess executor's forkserver skips a preload name that does not import (another
    Dagster release): the steps would import those modules again, each, without a word."""
    import importlib

    from pipelines.executors import PRELOAD

    for name in PRELOAD:
        importlib.import_module(name)
