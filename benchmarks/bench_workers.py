"""Trials per hour of the cmr sweep's settings: 1 and 2 worker processes, and trials packed per program.

    python benchmarks/bench_workers.py                          # 1 and 2 workers, each trial alone
    python benchmarks/bench_workers.py --workers 2 --pack 1 2 4 8   # 2 workers, sweep.pack = 1, 2, 4, 8

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
  optimizer: [sgd_thread2, adam]
seeds: [0, 1]
"""


def run(workers: int, pack: int = 1) -> float:
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
                f"sweep.pack={pack}",
                "sweep.max_seeds=0",
                "sweep.report=false",
                "tracking.plots=true",
            ],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pack", type=int, nargs="+", default=[1])
    args = parser.parse_args()
    points = 12
    for workers in args.workers:
        for pack in args.pack:
            seconds = run(workers, pack)
            print(
                f"{workers} worker(s), pack {pack}: {points} trials in {seconds:.0f} s = "
                f"{points * 3600 / seconds:.0f} trials/hour",
                flush=True,
            )
