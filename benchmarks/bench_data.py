"""How fast the built-in data sets are made, and how the phantom's class shares compare with real CMR.

    python benchmarks/bench_data.py [path/to/acdc-sample/h5]

Prints slices (images) per second for the phantom and the shapes scenes at
64 x 64 and 128 x 128, then the phantom's class shares at the defaults next to
those of the ACDC sample (default folder: ../shared/data/acdc-sample/h5 from
the repository root). The ACDC part is skipped with a message when the folder
is absent.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from lossbench.data import phantom, shapes

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ACDC = REPO.parent / "shared" / "data" / "acdc-sample" / "h5"


def rate(make, args: tuple, count: int, repeats: int = 3) -> float:
    """Best of ``repeats``: items made per second by ``make(*args)``, which makes ``count`` items."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        make(*args)
        best = min(best, time.perf_counter() - start)
    return count / best


def acdc_shares(folder: Path) -> np.ndarray | None:
    """Pixel shares of labels 0-3 over every h5 volume in ``folder``, or None if there is none."""
    files = sorted(folder.glob("*.h5"))
    if not files:
        return None
    import h5py

    counts = np.zeros(4)
    for file in files:
        with h5py.File(file, "r") as h5:
            counts += np.bincount(h5["label"][:].ravel(), minlength=4)[:4]
    return counts / counts.sum()


def main() -> None:
    acdc_folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ACDC
    print("generation speed (best of 3)")
    for size in (64, 128):
        n_subjects, slices = 50, 10
        per_s = rate(phantom.generate, (n_subjects, slices, size, 0), n_subjects * slices)
        print(f"  phantom {size:>3} x {size:<3}: {per_s:8.0f} slices/s")
    for size in (64, 128):
        n = 500
        per_s = rate(shapes.make_scenes, (n, size, np.random.default_rng(0)), n)
        print(f"  shapes  {size:>3} x {size:<3}: {per_s:8.0f} images/s")

    _, labels, _ = phantom.generate(100, 10, 64, seed=0)
    ours = np.bincount(labels.ravel(), minlength=4) / labels.size
    real = acdc_shares(acdc_folder)
    print("\nclass shares: phantom (100 subjects x 10 slices, 64 x 64) vs ACDC sample")
    if real is None:
        print(f"  (ACDC sample not found at {acdc_folder}: showing the phantom only)")
    print(f"  {'class':<12}{'phantom':>10}{'ACDC':>10}{'ratio':>8}")
    for k, name in enumerate(phantom.CLASS_NAMES):
        if real is None:
            print(f"  {name:<12}{ours[k]:>10.2%}")
        else:
            print(f"  {name:<12}{ours[k]:>10.2%}{real[k]:>10.2%}{ours[k] / real[k]:>8.2f}")


if __name__ == "__main__":
    main()
