"""Pack the 50 ACDC patients, prepared at one size, into one compressed file (`lossbench.data.packed`).

    python -m tools.pack_acdc --size 128 --out .gpu-data/acdc50-128.npz

It is what travels to a GPU machine (which has neither ``../shared/data`` nor h5py); ``data=acdc_packed``
(and ``+experiment=acdc50_gpu``) reads it with the same patient split as the h5 loader.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOTS = ["../shared/data/acdc-sample/h5", "../shared/data/acdc-train/h5"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", action="append", help=f"an ACDC folder (repeatable; default {' and '.join(ROOTS)})")
    parser.add_argument("--size", type=int, default=128, help="slice side in pixels (default 128)")
    parser.add_argument("--frames", default="all", choices=("all", "ed", "es"))
    parser.add_argument("--out", default=None, help="the file (default .gpu-data/acdc50-<size>.npz)")
    args = parser.parse_args(argv)
    from lossbench.data import packed
    from lossbench.errors import DataError

    out = Path(args.out or f".gpu-data/acdc50-{args.size}.npz")
    started = time.perf_counter()
    try:
        images, labels, subjects, info = packed.pack(args.root or ROOTS, args.size, args.frames)
        packed.write(out, images, labels, subjects, info)
    except DataError as error:
        print(f"pack_acdc: {error}", file=sys.stderr)
        return 2
    print(
        f"{out}: {info['patients']} patients, {info['slices']} slices of {args.size}x{args.size}, "
        f"{out.stat().st_size / 2**20:.1f} MiB, {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
