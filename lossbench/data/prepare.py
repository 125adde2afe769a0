"""Turn raw 2-D slices into network input, the same way for every loader.

Each slice goes through three steps, in this order:

1. ``normalise_slice`` - clip the intensities at the slice's 1st and 99th
   percentile and scale them linearly to 0-1 (a constant slice becomes all 0).
   This removes the scanner- and subject-dependent intensity range of MRI. An
   H x W x C image (C > 1, e.g. RGB) is normalised per channel.
2. ``to_square`` - crop (default) or pad around the centre to a square.
   Cropping to the shorter side keeps the pixel size and adds no artificial
   background; padding to the longer side keeps every pixel (images are padded
   with 0, labels with ``label_fill``: 0, or `VOID` for a data set with void).
   Square mode ``resize`` skips this step and stretches the slice in step 3.
3. ``resize_pair`` - resize with Pillow to ``size`` x ``size``, or to H x W for
   a size ``[H, W]`` (then step 2 is skipped): bilinear for the image, per
   channel (Pillow widens the filter when shrinking, so it does not alias),
   nearest neighbour for the labels (so no label value is invented).

``check_options`` validates the size and square mode, ``check_pair`` one raw
image/label pair (``check_grid`` its shapes and values) and ``assemble`` builds
the `SegmentationData`; all raise `DataError` naming the file and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from lossbench.data import VOID, SegmentationData, Split
from lossbench.errors import DataError

SQUARE_MODES = ("crop", "pad", "resize")


def normalise_slice(image: np.ndarray) -> np.ndarray:
    """Clip ``image`` (H, W) at its 1st/99th percentile and scale it to 0-1, as float32 (H x W x C: per channel)."""
    image = image.astype(np.float32, copy=False)
    if image.ndim == 3 and image.shape[-1] > 1:
        low, high = np.percentile(image, [1, 99], axis=(0, 1))
        span = high - low
        scaled = (np.clip(image, low, high) - low) / np.where(span > 0, span, 1)
        return np.where(span > 0, scaled, 0).astype(np.float32)
    low, high = np.percentile(image, [1, 99])
    if high <= low:
        return np.zeros_like(image)
    return ((np.clip(image, low, high) - low) / (high - low)).astype(np.float32)


def to_square(array: np.ndarray, mode: str = "crop", fill: int = 0) -> np.ndarray:
    """Crop to the shorter side or pad with ``fill`` to the longer side, centred, over the first two axes."""
    if mode == "resize":
        return array
    height, width = array.shape[:2]
    side = min(height, width) if mode == "crop" else max(height, width)
    if mode == "crop":
        top, left = (height - side) // 2, (width - side) // 2
        return array[top : top + side, left : left + side]
    top, left = (side - height) // 2, (side - width) // 2
    padding = [(top, side - height - top), (left, side - width - left)]
    return np.pad(array, padding + [(0, 0)] * (array.ndim - 2), constant_values=fill)


def is_pair(image_size) -> bool:
    """Whether ``image_size`` is a [height, width] pair (a list, tuple or OmegaConf list) rather than one side."""
    return isinstance(image_size, Sequence) and not isinstance(image_size, str)


def size_of(image_size) -> tuple[int, int]:
    """``image_size`` as (height, width): an int S is (S, S), a list [H, W] is (H, W)."""
    if is_pair(image_size):
        return int(image_size[0]), int(image_size[1])
    return int(image_size), int(image_size)


def resize_pair(image: np.ndarray, label: np.ndarray, size) -> tuple[np.ndarray, np.ndarray]:
    """Resize a float image (H, W) or (H, W, C) bilinearly and its uint8 label map by nearest neighbour.

    ``size`` is an int S (S x S) or a pair (H, W).
    """
    height, width = size_of(size)
    if image.shape[:2] == (height, width):
        return image.astype(np.float32), label.astype(np.uint8)
    label_out = Image.fromarray(label.astype(np.uint8)).resize((width, height), Image.NEAREST)
    if image.ndim == 3:
        channels = [resize_image(image[..., c], height, width) for c in range(image.shape[-1])]
        return np.stack(channels, axis=-1), np.asarray(label_out, dtype=np.uint8)
    return resize_image(image, height, width), np.asarray(label_out, dtype=np.uint8)


def resize_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize one (H, W) channel bilinearly to ``height`` x ``width`` as float32."""
    resized = Image.fromarray(image.astype(np.float32)).resize((width, height), Image.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


def prepare_pair(
    image: np.ndarray, label: np.ndarray, size, square: str = "crop", label_fill: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise, square and resize one (H, W) or (H, W, C) slice and its labels.

    ``size`` is an int S (squared by ``square``, then S x S) or [H, W] (resized straight to H x W).
    """
    if is_pair(size):
        square = "resize"  # a rectangular target: no crop or pad
    image = to_square(normalise_slice(image), square)
    return resize_pair(image, to_square(label, square, label_fill), size)


def check_options(image_size, square: str, where: str) -> None:
    """Reject an image size (int >= 8, or [H, W] of two) or square mode that cannot work, before any file is read."""
    if is_pair(image_size):
        sides = list(image_size)
        if len(sides) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 8 for s in sides):
            raise DataError(
                f"{where}: image_size {sides!r} is not [height, width] of two integers >= 8 - set data.image_size"
            )
    elif not isinstance(image_size, int) or image_size < 8:
        raise DataError(f"{where}: image_size {image_size!r} is not an integer >= 8 - set data.image_size")
    if square not in SQUARE_MODES:
        raise DataError(f"{where}: square {square!r} is not one of {SQUARE_MODES} - set data.square")


def check_grid(image: np.ndarray, label: np.ndarray, image_name: str, label_name: str, channels: bool = False) -> None:
    """Raise unless ``label`` matches the image grid (``channels``: the image has a last channel axis) and the
    image is finite and the labels whole numbers."""
    grid = image.shape[:-1] if channels else image.shape
    if grid != label.shape:
        shape = f"{grid} ({image.shape[-1]} channels)" if channels else f"{image.shape}"
        raise DataError(
            f"{label_name}: label shape {label.shape} differs from image shape {shape} "
            f"of {image_name} - export the image and its mask on the same grid"
        )
    if not np.all(np.isfinite(image)):
        raise DataError(f"{image_name}: image contains NaN or infinite values - fix or drop the file")
    if not np.issubdtype(label.dtype, np.integer):
        if not np.all(np.isfinite(label)) or np.any(label != np.round(label)):
            raise DataError(f"{label_name}: label values are not whole numbers - store integer class ids")


def check_pair(image: np.ndarray, label: np.ndarray, num_classes: int, image_name: str, label_name: str) -> np.ndarray:
    """Validate an image and its labels (any matching shape); return the labels as uint8."""
    check_grid(image, label, image_name, label_name)
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
    keys: np.ndarray | None = None,
    background: int | None = 0,
    ignore_index: int | None = None,
) -> SegmentationData:
    """Cut prepared (N, H, W) or (N, H, W, C) arrays into train/val/test and record class shares in ``info``.

    ``assignment`` lists the ``keys`` of every split (default: the subjects); with ``ignore_index`` the
    share of void pixels of every split goes into ``info`` too.
    """
    keys = subjects if keys is None else keys
    images = images[..., None] if images.ndim == 3 else images
    splits = {}
    for name, members in assignment.items():
        keep = np.isin(keys, list(members))
        splits[name] = Split(images[keep], labels[keep], subjects[keep])
    data = SegmentationData(
        splits["train"],
        splits["val"],
        splits["test"],
        list(class_names),
        info,
        background=background,
        ignore_index=ignore_index,
    )
    for name in assignment:
        split = splits[name]
        info[f"{name}_subjects"] = len(set(split.subjects.tolist()))
        info[f"{name}_slices"] = len(split)
        shares = data.class_shares(name) if len(split) else np.zeros(len(class_names))
        info[f"{name}_class_shares"] = {c: round(float(s), 4) for c, s in zip(class_names, shares, strict=True)}
        if ignore_index is not None:
            info[f"{name}_void_share"] = round(float(np.mean(split.labels == VOID)) if len(split) else 0.0, 4)
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
