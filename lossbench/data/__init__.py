"""Segmentation data sets: every loader returns a `SegmentationData`.

A loader is a plain function named in `conf/data/<name>.yaml` under
``loader._target_``; Hydra instantiates it. It returns images scaled per slice,
integer label maps and the subject of every slice, already split by subject
(never by slice) into train, validation and test.

Two conventions every part of lossbench shares:

- **Void pixels** ("no label here", a data set's ``ignore_index``) are stored as
  `VOID` (255) in the uint8 label maps, whatever value the data set used; a
  loader that reads an ``ignore_index`` maps it to `VOID`. They count in no
  loss, metric, class share or verdict; one-hot labels mark them with an
  all-zero row (`lossbench.trial.targets.encode`).
- **Background**: ``SegmentationData.background`` is the class index of the
  background (0 for the cardiac data) or ``None`` for a data set where every
  class counts (street scenes); the summary metric is then the mean over all
  classes and the verdicts that speak of background do not apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

VOID = 255  # the label value of void pixels inside lossbench (loaders map the data set's ignore_index to it)


@dataclass
class Split:
    """One split: ``images`` (N, H, W, C) float32 (C = 1 grey, 3 RGB), ``labels`` (N, H, W) uint8, ``subjects`` (N,)."""

    images: np.ndarray
    labels: np.ndarray
    subjects: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class SegmentationData:
    """Train / validation / test splits plus the class names (index = label value)."""

    train: Split
    val: Split
    test: Split
    class_names: list[str]
    info: dict = field(default_factory=dict)
    background: int | None = 0  # the background class, or None when every class counts
    ignore_index: int | None = None  # the data set's void label (stored as VOID), or None: no void pixels

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return int(self.train.images.shape[-1])

    def describe(self) -> str:
        """One line per split: slices, subjects and class shares."""
        lines = []
        for name in ("train", "val", "test"):
            part = getattr(self, name)
            shares = ", ".join(f"{c} {v:.2%}" for c, v in zip(self.class_names, self.class_shares(name), strict=True))
            lines.append(f"data {name:5s}: {len(part):4d} slices of {len(set(part.subjects)):3d} subjects; {shares}")
        return "\n".join(lines)

    def class_shares(self, split: str = "train") -> np.ndarray:
        """Fraction of the labelled (non-void) pixels of ``split`` that carry each class."""
        labels = getattr(self, split).labels
        counts = np.bincount(labels.ravel(), minlength=self.num_classes)[: self.num_classes]
        return counts / counts.sum()


def zscore(images: np.ndarray) -> np.ndarray:
    """Per-slice, per-channel z-score (zero mean, unit standard deviation), as nnU-Net normalises MRI."""
    axes = (1, 2, 3) if images.shape[-1] == 1 else (1, 2)  # one channel: the reduction as it always was
    mean = images.mean(axis=axes, keepdims=True)
    std = images.std(axis=axes, keepdims=True)
    return ((images - mean) / np.maximum(std, 1e-6)).astype(np.float32)


def split_by_subject(
    subjects: list[str], fractions: tuple[float, float, float], seed: int
) -> tuple[list[str], list[str], list[str]]:
    """Shuffle the unique subjects with ``seed`` and cut them into train/val/test lists.

    Every split gets at least one subject when there are at least three.
    """
    unique = sorted(set(subjects))
    order = np.random.default_rng(seed).permutation(len(unique))
    shuffled = [unique[i] for i in order]
    n = len(shuffled)
    n_val = max(1, round(fractions[1] * n)) if n >= 3 else 0
    n_test = max(1, round(fractions[2] * n)) if n >= 3 else 0
    n_train = n - n_val - n_test
    return shuffled[:n_train], shuffled[n_train : n_train + n_val], shuffled[n_train + n_val :]
