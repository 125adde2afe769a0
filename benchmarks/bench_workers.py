"""Trials per hour of the cmr sweep's settings with 1 and 2 worker processes on this machine.

    python benchmarks/bench_workers.py            # prints one line per worker count

Runs the same 12-point slice of the cmr grid (categorical CE, binary CE, Dice x
SGD-seed, Adam x seeds 0, 1; the stalled-trial pruning as in the sweep) into a
fresh temporary results folder per worker count and times the whole command.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = """grid:
  loss: [categorical_crossentropy, binary_crossentropy, dice]
  optimizer: [sgd_seed, adam]
seeds: [0, 1]
"""


def run(workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        space = Path(tmp) / "bench.yaml"
        space.write_text(GRID)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "lossbench.sweep",
                "+experiment=cmr",
                f"sweep.space={space}",
                f"paths.results={tmp}/results",
                f"sweep.n_workers={workers}",
                "sweep.report=false",
                "tracking.plots=true",
            ],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started


if __name__ == "__main__":
    points = GRID.count("\n") and 12
    for workers in (1, 2):
        seconds = run(workers)
        print(f"{workers} worker(s): {points} trials in {seconds:.0f} s = {points * 3600 / seconds:.0f} trials/hour")
