"""Segmentation losses: a pure function plus a thin Keras ``Loss`` class each.

The catalogue: categorical, sparse categorical and binary CE and categorical
focal (`lossbench.trial.losses.cross_entropy`); soft Dice, generalized Dice and
Keras's pooled Dice (`lossbench.trial.losses.dice`); Tversky, focal Tversky,
Jaccard (soft IoU), log-cosh Dice and Lovasz-softmax
(`lossbench.trial.losses.overlap`); Dice + CE and Dice + focal
(`lossbench.trial.losses.compound`).

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
  `GeneralizedDice` (it weights classes itself), `KerasPooledDice` and
  `LovaszSoftmax`.
- ``family``: ``"cross_entropy"`` (categorical, sparse, binary CE, focal) or
  ``"dice"`` (soft Dice, generalized Dice, Keras pooled Dice, Tversky, focal
  Tversky, Jaccard, log-cosh Dice, Lovasz-softmax, Dice + CE, Dice + focal).
- ``supports_void``: accepts ``ignore_index`` (void pixels left out). False
  only for `KerasPooledDice`, which refuses it with `InvalidPairing`.

Every class but `KerasPooledDice` takes ``ignore_index`` (default ``None``:
no pixel is void, and the loss runs exactly the ops it runs without the
option). Not ``None``, it marks void pixels: in sparse labels (N, H, W) those
labelled ``ignore_index`` (lossbench uses 255), in one-hot labels (N, H, W, C)
those whose row is all zeros. The loss then equals itself on the labelled
pixels alone, value and gradient (void pixels get gradient 0): the
cross-entropies average over the labelled pixels, the Dice family counts tp,
fp and fn over them only, Lovasz-softmax gives void pixels error 0.
"""

from lossbench.trial.losses.base import SegmentationLoss
from lossbench.trial.losses.compound import DiceCE, DiceFocal
from lossbench.trial.losses.cross_entropy import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocal,
    SparseCategoricalCrossentropy,
)
from lossbench.trial.losses.dice import GeneralizedDice, KerasPooledDice, SoftDice
from lossbench.trial.losses.overlap import FocalTversky, Jaccard, LogCoshDice, LovaszSoftmax, Tversky

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocal",
    "DiceCE",
    "DiceFocal",
    "FocalTversky",
    "GeneralizedDice",
    "Jaccard",
    "KerasPooledDice",
    "LogCoshDice",
    "LovaszSoftmax",
    "SegmentationLoss",
    "SoftDice",
    "SparseCategoricalCrossentropy",
    "Tversky",
]
