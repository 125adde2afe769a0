"""How fast the built-in data sets are made, and how the phantom's class shares compare with real CMR.

    python benchmarks/bench_data.py [path/to/acdc/h5 ...]

Prints slices (images) per second for the phantom as it was (`data=cmr_synthetic`),
the phantom calibrated against real hearts (`data=cmr_realistic`, its realism
knobs) and the shapes scenes at 64 x 64 and 128 x 128, then both phantoms' class
shares next to those of real ACDC volumes (default folders:
../shared/data/acdc-sample/h5 and ../shared/data/acdc-train/h5 beside the
repository, 50 patients). The ACDC part is skipped with a message when no folder
is there.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from lossbench.data import phantom, shapes

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ACDC = [REPO.parent / "shared" / "data" / name / "h5" for name in ("acdc-sample", "acdc-train")]


def realistic() -> dict:
    """The realism knobs of conf/data/cmr_realistic.yaml."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "data" / "cmr_realistic.yaml").loader.realism)


def rate(make, args: tuple, count: int, repeats: int = 3) -> float:
    """Best of ``repeats``: items made per second by ``make(*args)``, which makes ``count`` items."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        make(*args)
        best = min(best, time.perf_counter() - start)
    return count / best


def acdc_shares(folders: list[Path]) -> np.ndarray | None:
    """Pixel shares of labels 0-3 over every h5 volume in ``folders``, or None if there is none."""
    files = sorted(f for folder in folders for f in folder.glob("*.h5"))
    if not files:
        return None
    import h5py

    counts = np.zeros(4)
    for file in files:
        with h5py.File(file, "r") as h5:
            counts += np.bincount(h5["label"][:].ravel(), minlength=4)[:4]
    return counts / counts.sum()


def main() -> None:
    acdc_folders = [Path(a) for a in sys.argv[1:]] or DEFAULT_ACDC
    knobs = realistic()
    print("generation speed (best of 3)")
    for label, realism in (("phantom  ", None), ("realistic", knobs)):
        for size in (64, 128):
            n_subjects, slices = 50, 10
            per_s = rate(phantom.generate, (n_subjects, slices, size, 0, realism), n_subjects * slices)
            print(f"  {label} {size:>3} x {size:<3}: {per_s:8.0f} slices/s")
    for size in (64, 128):
        n = 500
        per_s = rate(shapes.make_scenes, (n, size, np.random.default_rng(0)), n)
        print(f"  shapes    {size:>3} x {size:<3}: {per_s:8.0f} images/s")

    shares = {}
    for label, realism in (("phantom", None), ("realistic", knobs)):
        labels = phantom.generate(100, 10, 64, seed=0, realism=realism)[1]
        shares[label] = np.bincount(labels.ravel(), minlength=4) / labels.size
    real = acdc_shares(acdc_folders)
    print("\nclass shares: both phantoms (100 subjects x 10 slices, 64 x 64) vs ACDC (every h5 volume found)")
    if real is None:
        print(f"  (no ACDC h5 volumes under {[str(f) for f in acdc_folders]}: showing the phantoms only)")
    print(f"  {'class':<12}{'phantom':>10}{'realistic':>10}" + ("" if real is None else f"{'ACDC':>10}"))
    for k, name in enumerate(phantom.CLASS_NAMES):
        tail = "" if real is None else f"{real[k]:>10.2%}"
        print(f"  {name:<12}{shares['phantom'][k]:>10.2%}{shares['realistic'][k]:>10.2%}" + tail)


if __name__ == "__main__":
    main()
