"""Benchmark: the quick start's first run (numba compiles the kernels) against a later one (they load).

Runs ``pingan run`` twice in fresh processes with one fresh numba cache folder (``NUMBA_CACHE_DIR``):
the first compiles the hourly kernels, as on a fresh clone or install, the second loads them from
the cache. Prints the wall time and the CPU time (the command and its worker processes) of each,
and the machine's load average, since other jobs on the machine lengthen wall times. Usage::

    python benchmarks/first_run.py                      # the README's quick start: pingan run
    python benchmarks/first_run.py --args "--scale 0.05 -r 1 -j 1"   # one process: compile CPU alone

Results go to a temporary folder; nothing is kept.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the process and the children it waited for) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--args", default="", help="options of pingan run (default: none, as the quick start)")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pingan-first-run-") as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba"), "MPLBACKEND": "Agg"}
        for label in ("first run (kernels compiled)", "later run (kernels from the cache)"):
            load = os.getloadavg()[0]
            argv = [sys.executable, "-m", "sim", "run", *shlex.split(opts.args), "-q", "--out", str(Path(tmp) / "out")]
            wall, cpu = timed(argv, env)
            print(f"{label:36s} {wall:7.1f} s wall, {cpu:7.1f} s CPU   (load average before: {load:.1f})", flush=True)


if __name__ == "__main__":
    main()
