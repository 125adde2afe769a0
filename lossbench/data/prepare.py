"""Turn raw 2-D slices into network input, the same way for every loader.

Each slice goes through three steps, in this order:

1. ``normalise_slice`` - clip the intensities at the slice's 1st and 99th
   percentile and scale them linearly to 0-1 (a constant slice becomes all 0).
   This removes the scanner- and subject-dependent intensity range of MRI.
2. ``to_square`` - crop (default) or zero-pad around the centre to a square.
   Cropping to the shorter side keeps the pixel size and adds no artificial
   background; padding to the longer side keeps every pixel.
3. ``resize_pair`` - resize with Pillow to ``size`` x ``size``: bilinear for
   the image (Pillow widens the filter when shrinking, so it does not alias),
   nearest neighbour for the labels (so no label value is invented).

``check_pair`` validates one raw image/label pair and ``assemble`` builds the
`SegmentationData`; both raise `DataError` naming the file and the fix.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from lossbench.data import SegmentationData, Split
from lossbench.errors import DataError

SQUARE_MODES = ("crop", "pad")


def normalise_slice(image: np.ndarray) -> np.ndarray:
    """Clip ``image`` (H, W) at its 1st/99th percentile and scale it to 0-1, as float32."""
    image = image.astype(np.float32, copy=False)
    low, high = np.percentile(image, [1, 99])
    if high <= low:
        return np.zeros_like(image)
    return ((np.clip(image, low, high) - low) / (high - low)).astype(np.float32)


def to_square(array: np.ndarray, mode: str = "crop") -> np.ndarray:
    """Crop to the shorter side or zero-pad to the longer side, centred, over the first two axes."""
    height, width = array.shape[:2]
    side = min(height, width) if mode == "crop" else max(height, width)
    if mode == "crop":
        top, left = (height - side) // 2, (width - side) // 2
        return array[top : top + side, left : left + side]
    top, left = (side - height) // 2, (side - width) // 2
    padding = [(top, side - height - top), (left, side - width - left)]
    return np.pad(array, padding + [(0, 0)] * (array.ndim - 2))


def resize_pair(image: np.ndarray, label: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Resize a square float image bilinearly and its uint8 label map by nearest neighbour."""
    if image.shape[:2] == (size, size):
        return image.astype(np.float32), label.astype(np.uint8)
    image_out = Image.fromarray(image.astype(np.float32)).resize((size, size), Image.BILINEAR)
    label_out = Image.fromarray(label.astype(np.uint8)).resize((size, size), Image.NEAREST)
    return np.asarray(image_out, dtype=np.float32), np.asarray(label_out, dtype=np.uint8)


def prepare_pair(
    image: np.ndarray, label: np.ndarray, size: int, square: str = "crop"
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise, square and resize one (H, W) slice and its labels."""
    image = to_square(normalise_slice(image), square)
    return resize_pair(image, to_square(label, square), size)


def check_options(image_size: int, square: str, where: str) -> None:
    """Reject an image size or square mode that cannot work, before any file is read."""
    if not isinstance(image_size, int) or image_size < 8:
        raise DataError(f"{where}: image_size {image_size!r} is not an integer >= 8 - set data.image_size")
    if square not in SQUARE_MODES:
        raise DataError(f"{where}: square {square!r} is not one of {SQUARE_MODES} - set data.square")


def check_pair(image: np.ndarray, label: np.ndarray, num_classes: int, image_name: str, label_name: str) -> np.ndarray:
    """Validate an image and its labels (any matching shape); return the labels as uint8."""
    if image.shape != label.shape:
        raise DataError(
            f"{label_name}: label shape {label.shape} differs from image shape {image.shape} "
            f"of {image_name} - export the image and its mask on the same grid"
        )
    if not np.all(np.isfinite(image)):
        raise DataError(f"{image_name}: image contains NaN or infinite values - fix or drop the file")
    if not np.issubdtype(label.dtype, np.integer):
        if not np.all(np.isfinite(label)) or np.any(label != np.round(label)):
            raise DataError(f"{label_name}: label values are not whole numbers - store integer class ids")
    if label.size and label.min() < 0:
        raise DataError(f"{label_name}: negative label value {int(label.min())} - store class ids 0..{num_classes - 1}")
    if label.size and label.max() >= num_classes:
        raise DataError(
            f"{label_name}: label value {int(label.max())} >= num_classes {num_classes} "
            f"- set data.num_classes or fix the mask"
        )
    return label.astype(np.uint8)


def assemble(
    images: np.ndarray,
    labels: np.ndarray,
    subjects: np.ndarray,
    assignment: dict[str, list[str]],
    class_names: list[str],
    info: dict,
) -> SegmentationData:
    """Cut prepared (N, S, S) arrays into train/val/test by subject and record class shares in ``info``."""
    splits = {}
    for name, members in assignment.items():
        keep = np.isin(subjects, list(members))
        splits[name] = Split(images[keep][..., None], labels[keep], subjects[keep])
    data = SegmentationData(splits["train"], splits["val"], splits["test"], list(class_names), info)
    for name in assignment:
        split = splits[name]
        info[f"{name}_subjects"] = len(set(split.subjects.tolist()))
        info[f"{name}_slices"] = len(split)
        shares = data.class_shares(name) if len(split) else np.zeros(len(class_names))
        info[f"{name}_class_shares"] = {c: round(float(s), 4) for c, s in zip(class_names, shares, strict=True)}
    return data


def check_assignment(assignment: dict[str, list[str]], where: str, fix: str) -> None:
    """Raise if a split has no subjects or a subject sits in two splits."""
    for name, members in assignment.items():
        if not members:
            raise DataError(f"{where}: the {name} split has no subjects - {fix}")
    seen: dict[str, str] = {}
    for name, members in assignment.items():
        for subject in members:
            if subject in seen:
                raise DataError(
                    f"{where}: subject {subject} is in both {seen[subject]} and {name} - list each subject once"
                )
            seen[subject] = name
