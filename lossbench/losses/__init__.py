"""Segmentation losses: a pure function plus a thin Keras ``Loss`` class each.

Every class takes ``class_weights`` (one weight per class, or ``None``) and
applies them per pixel inside the loss (``fit(class_weight=...)`` cannot,
FACTS #5). A class whose ``sparse_labels`` is true wants integer label maps
(N, H, W); the others want one-hot maps (N, H, W, C).
"""

from lossbench.losses.compound import DiceCE
from lossbench.losses.cross_entropy import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocal,
    SparseCategoricalCrossentropy,
)
from lossbench.losses.dice import KerasPooledDice, SoftDice

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocal",
    "DiceCE",
    "KerasPooledDice",
    "SoftDice",
    "SparseCategoricalCrossentropy",
]
