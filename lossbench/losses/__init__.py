"""Segmentation losses: a pure function plus a thin Keras ``Loss`` class each.

Every class takes ``class_weights`` (one weight per class, or ``None``) and
applies them inside the loss (``fit(class_weight=...)`` cannot, FACTS #5):
the cross-entropies per pixel (each pixel's loss times the weight of its true
class; the mean weight per training pixel is 1), the Dice family per class
(whole class terms, the weights of the classes in the mean rescaled to
average 1). A class that cannot use weights raises `InvalidPairing` when
given some.

Every class states its traits as class attributes, readable before building one:

- ``sparse_labels``: wants integer label maps (N, H, W); otherwise one-hot
  maps (N, H, W, C). True only for sparse categorical CE.
- ``per_channel``: treats each channel as its own yes/no problem (sigmoid
  outputs, chance level 0.5 per channel). True only for binary CE.
- ``supports_class_weights``: accepts ``class_weights``. False for
  `GeneralizedDice` (it weights classes itself) and `KerasPooledDice`.
- ``family``: ``"cross_entropy"`` (categorical, sparse, binary CE, focal) or
  ``"dice"`` (soft Dice, generalized Dice, Keras pooled Dice, Dice + CE).
"""

from lossbench.losses.compound import DiceCE
from lossbench.losses.cross_entropy import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocal,
    SparseCategoricalCrossentropy,
)
from lossbench.losses.dice import GeneralizedDice, KerasPooledDice, SoftDice

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocal",
    "DiceCE",
    "GeneralizedDice",
    "KerasPooledDice",
    "SoftDice",
    "SparseCategoricalCrossentropy",
]
