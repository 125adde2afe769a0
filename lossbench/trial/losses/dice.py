"""The Dice family: multi-class soft Dice, generalized Dice, and Keras's pooled Dice.

`soft_dice` follows nnU-Net's soft Dice: true positives, false positives and
false negatives are summed per class over the whole batch, each class gets
``d_c = (2 tp_c + s) / (2 tp_c + fp_c + fn_c + s)``, and the loss is the mean
of ``1 - d_c`` over the foreground classes (background too with
``include_background``).

Class weights act per class, not per pixel (unlike the cross-entropies, where
each pixel's loss is multiplied by the weight of its true class): the terms
``d_c`` are computed unweighted and the weights scale whole class terms,
``sum_c w_c (1 - d_c) / n``. Per-pixel weights would make false positives on
background pixels almost free (background's weight is tiny), so labelling all
background as one foreground class would become cheap.

`generalized_dice` (Sudre et al. 2017) weights classes itself, by
``1 / (pixel count)^2``, and takes no class weights. Keras's
``keras.losses.Dice`` pools every class, background included, into one Dice
(FACTS #6): `KerasPooledDice` wraps it to show what that does; it takes no
class weights either.

With ``ignore_index``, one-hot rows that are all zeros are void
(`lossbench.trial.losses.base.valid_pixels`): the probabilities are multiplied by
the valid mask before the counts, so tp, fp and fn are sums over the labelled
pixels only (a prediction on a void pixel is no false positive) and void
pixels get gradient 0. `KerasPooledDice` cannot do that and refuses
``ignore_index``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from lossbench.trial.losses.base import SegmentationLoss, valid_pixels


def probabilities(y_pred, from_logits: bool):
    """The output as probabilities: softmax over channels when it is logits."""
    return ops.softmax(y_pred, axis=-1) if from_logits else y_pred


def valid_probabilities(y_pred, from_logits: bool, valid=None):
    """The output as float32 probabilities, times the valid mask (N, H, W) when there is one.

    >>> ops.convert_to_numpy(valid_probabilities([[0.75, 0.25], [0.5, 0.5]], False, ops.array([1.0, 0.0]))).tolist()
    [[0.75, 0.25], [0.0, 0.0]]
    """
    probs = probabilities(ops.convert_to_tensor(y_pred, "float32"), from_logits)
    return probs if valid is None else probs * ops.expand_dims(valid, -1)


def _rescaled(class_weights, first: int):
    """The weights of the classes in the mean (from ``first`` on), scaled to average 1."""
    weights = np.asarray(class_weights, dtype=np.float64)[first:]
    if not weights.mean() > 0:
        raise ValueError(f"class weights {list(class_weights)} are all zero for the classes in the Dice mean")
    return (weights / weights.mean()).astype(np.float32)


def _soft_counts(y_true, y_pred, from_logits, valid=None):
    """Per-class soft tp, fp, fn summed over every axis but the last (the whole batch); over the
    pixels where ``valid`` is 1 when a mask is given."""
    y_true = ops.cast(y_true, "float32")
    probs = valid_probabilities(y_pred, from_logits, valid)
    axes = tuple(range(len(y_true.shape) - 1))
    tp = ops.sum(y_true * probs, axis=axes)
    fp = ops.sum((1.0 - y_true) * probs, axis=axes)
    fn = ops.sum(y_true * (1.0 - probs), axis=axes)
    return tp, fp, fn


def _class_mean(terms, include_background, class_weights):
    """``sum_c w_c terms_c / n`` over the classes in the mean, weights rescaled to average 1."""
    first = 0 if include_background else 1
    if class_weights is None:
        return ops.mean(terms[first:])
    return ops.mean(_rescaled(class_weights, first) * terms[first:])


def soft_dice(
    y_true, y_pred, from_logits=False, smooth=1e-5, include_background=False, class_weights=None, ignore_index=None
):
    """Multi-class soft Dice loss for one-hot labels (N, H, W, C).

    Formula: ``sum_c w_c (1 - d_c) / n`` with
    ``d_c = (2 tp_c + s) / (2 tp_c + fp_c + fn_c + s)``, tp/fp/fn summed over
    the whole batch, over the n foreground classes (all C with
    ``include_background``). Unweighted, ``w_c = 1``. Class weights are
    rescaled so that the weights of the classes in the mean average 1: by
    default the foreground weights average 1, so weighting only rebalances RV,
    myocardium and LV (background's weight is not used). Matches MONAI
    ``DiceLoss(softmax=True, include_background=False, batch=True,
    weight=rescaled foreground weights)`` with ``smooth_nr = smooth_dr = s``.
    With ``ignore_index``, tp/fp/fn are summed over the labelled pixels only.

    >>> y = [[[[1.0, 0.0], [0.0, 1.0]]]]     # 1x1x2 image, classes 0 and 1
    >>> p = [[[[1.0, 0.0], [0.5, 0.5]]]]
    >>> round(float(soft_dice(y, p)), 4)     # fg: tp .5, fp 0, fn .5 -> 1 - 1/1.5
    0.3333
    >>> y_void = [[[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]]  # a third pixel, void, predicted as class 1
    >>> round(float(soft_dice(y_void, [[[[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]]], ignore_index=255)), 4)
    0.3333
    """
    tp, fp, fn = _soft_counts(y_true, y_pred, from_logits, valid_pixels(y_true, ignore_index))
    return _class_mean(1.0 - (2.0 * tp + smooth) / (2.0 * tp + fp + fn + smooth), include_background, class_weights)


def generalized_dice(y_true, y_pred, from_logits=False, smooth=1e-5, include_background=False, ignore_index=None):
    """Generalized Dice loss (Sudre et al. 2017) for one-hot labels (N, H, W, C).

    Formula: ``1 - (2 sum_c w_c sum(g_c p_c) + s) / (sum_c w_c sum(g_c + p_c) + s)``
    with sums over the whole batch and ``w_c = 1 / (sum g_c)^2`` computed per
    batch, over the foreground classes (all with ``include_background``). A
    class absent from the batch (``sum g_c = 0``) gets the largest weight of
    the present classes (MONAI's rule: infinite weights are replaced by the
    max finite one); a batch where none is present has all weights 0 and loss
    0. Matches MONAI ``GeneralizedDiceLoss(softmax=True,
    include_background=False, batch=True, w_type="square")`` with
    ``smooth_nr = smooth_dr = s`` (MONAI's ``include_background`` default is
    true; here it is false, as for `soft_dice`). With ``ignore_index``, the
    sums (and so the weights) are over the labelled pixels only.

    >>> y = [[[[1.0, 0.0], [0.0, 1.0]]]]     # both classes: one pixel each, w = 1
    >>> p = [[[[1.0, 0.0], [0.5, 0.5]]]]
    >>> round(float(generalized_dice(y, p, include_background=True)), 4)  # 1 - 2 (1 + .5) / (2.5 + 1.5)
    0.25
    """
    y_true = ops.cast(y_true, "float32")
    probs = valid_probabilities(y_pred, from_logits, valid_pixels(y_true, ignore_index))
    axes = tuple(range(len(y_true.shape) - 1))
    first = 0 if include_background else 1
    counts = ops.sum(y_true, axis=axes)[first:]
    tp = ops.sum(y_true * probs, axis=axes)[first:]
    total = counts + ops.sum(probs, axis=axes)[first:]
    present = counts > 0
    weights = ops.where(present, 1.0 / ops.square(ops.maximum(counts, 1.0)), 0.0)
    weights = ops.where(present, weights, ops.max(weights))
    return 1.0 - (2.0 * ops.sum(weights * tp) + smooth) / (ops.sum(weights * total) + smooth)


def keras_pooled_dice(y_true, y_pred, from_logits=False):
    """``keras.losses.dice`` as shipped: ``1 - 2 sum(g p) / (sum g + sum p + 1e-7)`` over every pixel and
    class of the batch at once, background included (FACTS #6); a softmax first when ``from_logits``.

    >>> round(float(keras_pooled_dice([[[[1.0, 0.0], [0.0, 1.0]]]], [[[[1.0, 0.0], [0.5, 0.5]]]])), 4)
    0.25
    """
    return keras.losses.dice(ops.cast(y_true, "float32"), probabilities(y_pred, from_logits))


class SoftDice(SegmentationLoss):
    """`soft_dice` as a Keras loss (one value per batch)."""

    fn = staticmethod(soft_dice)
    family = "dice"
    options = {"smooth": 1e-5, "include_background": False}

    @classmethod
    def default_name(cls) -> str:
        return "dice"


class GeneralizedDice(SegmentationLoss):
    """`generalized_dice` as a Keras loss; weights classes itself, so takes no class weights."""

    fn = staticmethod(generalized_dice)
    family, supports_class_weights = "dice", False
    options = {"smooth": 1e-5, "include_background": False}
    no_weights_reason = "weights classes by 1/(pixel count)^2 itself and takes no class weights"


class KerasPooledDice(SegmentationLoss):
    """`keras_pooled_dice` (``keras.losses.Dice`` as shipped): no class weights, no void pixels."""

    fn = staticmethod(keras_pooled_dice)
    family, supports_class_weights, supports_void = "dice", False, False
    no_weights_reason = "(keras.losses.Dice as shipped) takes no class weights"
    no_weights_fix = "use class_weighting=none or loss=dice"
    no_void_reason, no_void_fix = "(keras.losses.Dice as shipped) cannot leave void pixels out", "use loss=dice"

    @classmethod
    def default_name(cls) -> str:
        return "keras_dice"
