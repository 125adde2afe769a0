"""Read one ACDC frame from its files: a NIfTI image and label, or an h5 volume holding both.

`read_frame` returns the frame's image (slices, H, W) float32 and labels (slices, H, W), checked by
`lossbench.data.prepare.check_pair`; any problem is a one-line `DataError` naming the file and the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lossbench.data import prepare
from lossbench.errors import DataError


def read_frame(frame, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Read and check one frame; return image (slices, H, W) float32 and labels (slices, H, W) uint8."""
    if frame.label is None:
        image, label = read_h5(frame.image)
        label = prepare.check_pair(image, label, num_classes, str(frame.image), str(frame.image))
    else:  # checked in file order (H x W x slices), so shapes in messages match the files
        image, label = read_nifti(frame.image), read_nifti(frame.label)
        label = prepare.check_pair(image, label, num_classes, str(frame.image), str(frame.label))
        image, label = np.transpose(image, (2, 0, 1)), np.transpose(label, (2, 0, 1))
    return image.astype(np.float32), label


def read_nifti(path: Path) -> np.ndarray:
    """Read an H x W x slices NIfTI volume (a single slice H x W gets a slice axis)."""
    import nibabel

    try:
        data = np.asarray(nibabel.load(str(path)).dataobj)
    except Exception as error:
        raise DataError(f"{path}: cannot read NIfTI ({one_line(error)}) - re-download or re-export the file") from error
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim == 2:
        data = data[..., None]
    if data.ndim != 3:
        raise DataError(
            f"{path}: array is {data.ndim}-D {data.shape}, expected H x W x slices - use the frame files, not _4d"
        )
    return data


def read_h5(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the ``image`` and ``label`` datasets (slices x H x W) of a preprocessed ACDC volume."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            missing = [name for name in ("image", "label") if name not in handle]
            arrays = None if missing else (handle["image"][()], handle["label"][()])
    except Exception as error:
        raise DataError(f"{path}: cannot read h5 ({one_line(error)}) - re-download or re-export the file") from error
    if missing:
        raise DataError(f"{path}: no '{missing[0]}' dataset - store the volume as datasets 'image' and 'label'")
    image, label = (a[None] if a.ndim == 2 else a for a in arrays)
    if image.ndim != 3:
        raise DataError(f"{path}: image is {image.ndim}-D {image.shape}, expected slices x H x W - re-export the file")
    return image, label


def one_line(error: Exception) -> str:
    """An error as one short line: its type and message."""
    return " ".join(f"{type(error).__name__}: {error}".split())[:200]
