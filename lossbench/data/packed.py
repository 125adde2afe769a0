"""Prepared ACDC slices in one compressed file: the data for a machine with neither the h5 files nor h5py.

`write` keeps what the ACDC loader prepared (every slice of every patient, before any split): the images
(0-1 after the loader's clipping and scaling) as 16-bit fractions of that range, at most half of 1/65535
off, the labels and the patients exactly, and the loader's info; `numpy.savez_compressed`, written aside
and moved in place. `load` reads it back as `SegmentationData` and cuts it by patient exactly as
`lossbench.data.acdc.load` does (an explicit ``split`` or seeded ``fractions``), so the same experiment
config trains on the same slices either way (`tests/test_packed.py` compares the two on the 50 patients).

    python -m tools.pack_acdc --size 128 --out .gpu-data/acdc50-128.npz   # 942 slices, 27.6 MB
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from lossbench.data import SegmentationData, acdc, prepare
from lossbench.data.volumes import one_line
from lossbench.errors import DataError

SCALE = 65535  # an image value v in 0-1 is stored as round(v * SCALE) in uint16
FORMAT = 1
PACK = "python -m tools.pack_acdc"


def pack(roots: list[str], image_size: int, frames: str = "all", num_classes: int = 4) -> tuple:
    """Every labelled slice under ``roots``, prepared as the ACDC loader prepares it: images, labels,
    patients and the info `write` stores."""
    layout, found, unlabelled = acdc.gather_frames([str(r) for r in roots])
    chosen = acdc.select_frames(found, frames, " + ".join(map(str, roots)))
    images, labels, subjects = acdc.prepare_frames(chosen, num_classes, image_size, "crop")
    info = {
        "dataset": "acdc",
        "layout": layout,
        "root": [str(r) for r in roots],
        "frames": frames,
        "patients": len(set(subjects.tolist())),
        "frame_files": len(chosen),
        "slices": len(labels),
        "unlabelled_frames": unlabelled,
        "image_size": image_size,
        "square": "crop",
        "normalisation": "per slice: clip 1st-99th percentile, scale to 0-1",
        "class_names": acdc.CLASS_NAMES[:num_classes] + [f"class_{i}" for i in range(4, num_classes)],
    }
    return images, labels, subjects, info


def write(path: str | Path, images: np.ndarray, labels: np.ndarray, subjects: np.ndarray, info: dict) -> Path:
    """Store prepared slices in ``path`` (images must lie in 0-1)."""
    path = Path(path)
    if images.size and (float(images.min()) < 0.0 or float(images.max()) > 1.0):
        raise DataError(f"{path}: images outside 0-1 cannot be packed - pack what the ACDC loader prepares")
    stored = np.round(images * SCALE).astype(np.uint16)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(partial, "wb") as handle:
        np.savez_compressed(
            handle,
            images=stored,
            labels=labels.astype(np.uint8),
            subjects=np.asarray(subjects).astype(str),
            info=json.dumps(info | {"format": FORMAT, "image_scale": SCALE}),
        )
    os.replace(partial, path)
    return path


def read(file: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """The slices in ``file``: images float32 in 0-1, labels, patients, info; a one-line `DataError` otherwise."""
    path = Path(file)
    if not path.is_file():
        raise DataError(f"{file}: packed data file not found - write it with `{PACK} --out {file}`")
    try:
        with np.load(path, allow_pickle=False) as stored:
            info = json.loads(str(stored["info"]))
            images = stored["images"].astype(np.float32) / np.float32(info["image_scale"])
            labels, subjects = stored["labels"], stored["subjects"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise DataError(f"{file}: not a packed data file ({one_line(error)}) - write it again with `{PACK}`") from error
    return images, labels, subjects, info


def load(
    file: str,
    image_size: int,
    split: dict | None = None,
    fractions=(0.7, 0.15, 0.15),
    seed: int = 0,
    num_classes: int = 4,
) -> SegmentationData:
    """``file`` (written by `write`) as the ACDC loader's `SegmentationData`, cut by ``split`` or ``fractions``."""
    images, labels, subjects, info = read(file)
    held = tuple(images.shape[1:3])
    if held != prepare.size_of(image_size):
        raise DataError(
            f"{file}: holds {held[0]}x{held[1]} slices, data.image_size is {image_size} - "
            f"set data.image_size={held[0]} or pack again with `{PACK} --size {image_size}`"
        )
    if len(info["class_names"]) != num_classes:
        raise DataError(
            f"{file}: holds {len(info['class_names'])} classes, data.num_classes is {num_classes} - "
            f"set data.num_classes={len(info['class_names'])}"
        )
    assignment = acdc.assign_patients(sorted(set(subjects.tolist())), split, fractions, seed, str(file))
    info = info | {"packed": str(file), "assignment": assignment, "cached": False}
    return prepare.assemble(images, labels, subjects, assignment, info["class_names"], info)
