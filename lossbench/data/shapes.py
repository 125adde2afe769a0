"""Built-in synthetic seven-class scenes: thread 1's case without its private data.

Each image shows a few non-overlapping shapes (disc, square, triangle, ring,
cross, bar) on a smoothly textured background. Background covers most pixels
(about 91 % at 64 x 64) and the classes are unequally common (discs often, bars
rarely, and bars are thin), so the imbalance is strong. Every shape's brightness
is drawn around a class mean that overlaps the others' and the background's
brighter texture, so the network must use shape, not intensity alone.

Images are in 0-1 (texture + shapes + Gaussian noise, clipped); no further
normalisation. Each image is its own subject (``scene0000``...) unless
``images_per_subject`` groups them. Thread 1 kept
its labels channels-first one-hot, (7, rows, cols);
`to_channels_first_one_hot` and `from_channels_first_one_hot` convert between
that form and the integer maps the loaders return.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lossbench.data import SegmentationData, Split
from lossbench.errors import DataError

CLASS_NAMES = ["background", "disc", "square", "triangle", "ring", "cross", "bar"]
CLASS_ODDS = np.array([0.32, 0.22, 0.16, 0.12, 0.11, 0.07])  # how often each shape class is drawn
CLASS_BRIGHTNESS = np.array([0.72, 0.62, 0.8, 0.68, 0.76, 0.66])  # mean intensity of each shape class
RADIUS = (0.07, 0.14)  # outer radius of a shape, as a share of the image size


def _shape_mask(kind: int, u: np.ndarray, v: np.ndarray, r: float) -> np.ndarray:
    """Mask of shape class ``kind`` (1-6) in its own rotated frame (u, v), outer radius ``r`` pixels."""
    if kind == 1:  # disc
        return u * u + v * v < r * r
    if kind == 2:  # square
        return np.maximum(np.abs(u), np.abs(v)) < 0.75 * r
    if kind == 3:  # equilateral triangle: inside three half-planes
        inside = np.ones(np.broadcast(u, v).shape, dtype=bool)
        for a in (np.pi / 2, np.pi / 2 + 2 * np.pi / 3, np.pi / 2 + 4 * np.pi / 3):
            inside &= u * np.cos(a) + v * np.sin(a) < 0.5 * r
        return inside
    if kind == 4:  # ring
        d2 = u * u + v * v
        return (d2 < r * r) & (d2 > (0.55 * r) ** 2)
    if kind == 5:  # cross
        au, av = np.abs(u), np.abs(v)
        return ((au < 0.3 * r) & (av < r)) | ((av < 0.3 * r) & (au < r))
    if kind == 6:  # thin bar
        return (np.abs(u) < r) & (np.abs(v) < 0.22 * r)
    raise ValueError(f"unknown shape class {kind}")


def _texture(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Smooth background texture (n, size, size): a mean level plus a few random plane waves."""
    coords = np.arange(size, dtype=np.float32) / size
    y, x = coords[None, :, None], coords[None, None, :]
    out = np.broadcast_to(rng.uniform(0.3, 0.45, size=(n, 1, 1)), (n, size, size)).astype(np.float32)
    for _ in range(4):
        fx, fy = (rng.uniform(-6, 6, size=(2, n, 1, 1)) * np.pi).astype(np.float32)
        phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1)).astype(np.float32)
        out = out + 0.06 * np.cos(fx * x + fy * y + phase)
    return out


def make_scenes(
    n: int, image_size: int, rng: np.random.Generator, brightness=CLASS_BRIGHTNESS, radius=RADIUS
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` scenes: images (n, H, W) float32 in 0-1 and labels (n, H, W) uint8 with values 0-6.

    ``brightness``: mean intensity of each shape class; ``radius``: (low, high) outer radius as a
    share of the image size. Spread-out brightness and bigger shapes make the scene easier.
    """
    brightness = np.asarray(brightness, dtype=float)
    images = _texture(rng, n, image_size)
    labels = np.zeros((n, image_size, image_size), dtype=np.uint8)
    grid = np.arange(image_size, dtype=np.float32)
    for i in range(n):
        placed: list[tuple[float, float, float]] = []
        for _ in range(rng.integers(2, 6)):
            kind = int(rng.choice(6, p=CLASS_ODDS)) + 1
            r = rng.uniform(*radius) * image_size
            for _attempt in range(20):  # rejection sampling keeps the shapes apart
                cx, cy = rng.uniform(r + 1, image_size - r - 1, size=2)
                if all((cx - px) ** 2 + (cy - py) ** 2 > (r + pr + 2) ** 2 for px, py, pr in placed):
                    break
            else:
                continue
            placed.append((cx, cy, r))
            angle = rng.uniform(0, 2 * np.pi)
            dx, dy = grid[None, :] - cx, grid[:, None] - cy
            u = dx * np.cos(angle) + dy * np.sin(angle)
            v = -dx * np.sin(angle) + dy * np.cos(angle)
            mask = _shape_mask(kind, u, v, r)
            labels[i][mask] = kind
            images[i][mask] = brightness[kind - 1] + rng.normal(0.0, 0.06)
    images += rng.normal(0.0, 0.05, size=images.shape).astype(np.float32)
    return np.clip(images, 0.0, 1.0).astype(np.float32), labels


def to_channels_first_one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Integer maps (N, H, W) -> one-hot (N, C, H, W) float32, thread 1's label layout."""
    labels = np.asarray(labels)
    if labels.ndim != 3:
        raise DataError(f"labels must be (N, H, W), got shape {labels.shape} - pass integer label maps")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(f"labels outside 0..{num_classes - 1} - check num_classes")
    onehot = np.eye(num_classes, dtype=np.float32)[labels]  # (N, H, W, C)
    return np.ascontiguousarray(onehot.transpose(0, 3, 1, 2))


def from_channels_first_one_hot(onehot: np.ndarray) -> np.ndarray:
    """One-hot (N, C, H, W) -> integer maps (N, H, W) uint8 (argmax over the channel axis)."""
    onehot = np.asarray(onehot)
    if onehot.ndim != 4:
        raise DataError(f"one-hot labels must be (N, C, H, W), got shape {onehot.shape} - channels first")
    return onehot.argmax(axis=1).astype(np.uint8)


def load(
    n_images: Mapping,
    image_size: int,
    seed: int,
    label_storage: str = "integer",
    class_brightness=tuple(CLASS_BRIGHTNESS),
    radius=RADIUS,
    images_per_subject: int = 1,
) -> SegmentationData:
    """Shapes scenes as train/val/test; ``n_images`` is ``{"train": n, "val": n, "test": n}``.

    ``images_per_subject`` groups consecutive images into one subject (``scene0000`` holds images
    0..k-1): test Dice is computed per subject, and a scene of 2-5 shapes lacks most classes, so
    with one image a subject every stray pixel of an absent class scores that class 0.

    ``label_storage="channels_first_one_hot"`` keeps the labels as thread 1 did,
    (N, 7, rows, cols), and converts them explicitly to integer maps here.
    """
    missing = {"train", "val", "test"} - set(n_images)
    if missing:
        raise DataError(f"shapes n_images lacks {sorted(missing)} - give train, val and test counts")
    counts = [int(n_images[k]) for k in ("train", "val", "test")]
    if min(counts) < 1 or image_size < 16:
        raise DataError(f"shapes n_images={counts}, image_size={image_size} - use >= 1 per split and >= 16")

    brightness, radius = [float(b) for b in class_brightness], [float(r) for r in radius]
    if len(brightness) != len(CLASS_NAMES) - 1 or len(radius) != 2 or not 0 < radius[0] <= radius[1] < 0.5:
        raise DataError(
            f"shapes class_brightness {brightness} / radius {radius} - give 6 brightnesses and 0 < low <= high < 0.5"
        )
    images, labels = make_scenes(sum(counts), image_size, np.random.default_rng(seed), brightness, radius)
    if label_storage == "channels_first_one_hot":
        stored = to_channels_first_one_hot(labels, len(CLASS_NAMES))  # thread 1: (N, 7, rows, cols)
        labels = from_channels_first_one_hot(stored)
    elif label_storage != "integer":
        raise DataError(f"label_storage={label_storage!r} - use integer or channels_first_one_hot")
    if int(images_per_subject) < 1:
        raise DataError(f"shapes images_per_subject={images_per_subject} - use 1 or more")
    subjects = np.array([f"scene{i // int(images_per_subject):04d}" for i in range(sum(counts))])
    edges = np.cumsum([0] + counts)
    splits = [
        Split(images[a:b, ..., None], labels[a:b], subjects[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    info = {
        "source": "shapes",
        "seed": seed,
        "image_size": image_size,
        "normalisation": "none: images in 0-1",
        "label_storage": label_storage,
        "class_brightness": brightness,
        "radius": radius,
        "images_per_subject": int(images_per_subject),
    }
    return SegmentationData(*splits, class_names=list(CLASS_NAMES), info=info)
