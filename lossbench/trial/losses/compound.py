"""Compound losses built from two parts with explicit weights, as nnU-Net's ``DC_and_CE_loss``.

`dice_ce` is soft Dice + categorical CE, `dice_focal` soft Dice + categorical
focal. Class weights enter each part the way that part's family takes them:
the CE (or focal) part per pixel (each pixel's loss times the weight of its
true class; the schemes make the mean weight per training pixel 1), the Dice
part per class (whole class terms ``w_c (1 - d_c)``, the foreground weights
rescaled to average 1; see `lossbench.trial.losses.dice`).

With ``ignore_index`` (all-zero one-hot rows are void) the CE or focal part
is the mean over the labelled pixels and the Dice part counts them only.
"""

from __future__ import annotations

import keras

from lossbench.trial.losses.base import SegmentationLoss
from lossbench.trial.losses.cross_entropy import categorical_crossentropy, categorical_focal
from lossbench.trial.losses.dice import soft_dice


def dice_ce(
    y_true,
    y_pred,
    from_logits=False,
    dice_weight=1.0,
    ce_weight=1.0,
    smooth=1e-5,
    include_background=False,
    class_weights=None,
    ignore_index=None,
):
    """``ce_weight * mean categorical CE + dice_weight * soft Dice loss`` for one-hot labels.

    The CE part is Keras's (it sees a Keras softmax's logits, FACTS #2) with
    per-pixel class weights; the Dice part is `soft_dice` on probabilities
    with per-class weights. Unweighted, matches MONAI ``DiceCELoss(softmax=True,
    include_background=False, batch=True)`` up to the smoothing. With
    ``ignore_index``, both parts leave the void (all-zero) rows out.

    >>> y = [[[[1.0, 0.0], [0.0, 1.0]]]]
    >>> p = [[[[1.0, 0.0], [0.5, 0.5]]]]
    >>> round(float(dice_ce(y, p)), 4)       # CE (0 + ln 2)/2 + Dice 1/3
    0.6799
    >>> y_void, p_void = [[[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]], [[[[1.0, 0.0], [0.5, 0.5], [0.1, 0.9]]]]
    >>> round(float(dice_ce(y_void, p_void, ignore_index=255)), 4)  # the same two pixels count
    0.6799
    """
    ce = keras.ops.mean(categorical_crossentropy(y_true, y_pred, from_logits, class_weights, ignore_index))
    dice = soft_dice(y_true, y_pred, from_logits, smooth, include_background, class_weights, ignore_index)
    return ce_weight * ce + dice_weight * dice


class DiceCE(SegmentationLoss):
    """`dice_ce` as a Keras loss."""

    fn = staticmethod(dice_ce)
    family = "dice"
    options = {"dice_weight": 1.0, "ce_weight": 1.0, "smooth": 1e-5, "include_background": False}


def dice_focal(
    y_true,
    y_pred,
    from_logits=False,
    dice_weight=1.0,
    focal_weight=1.0,
    gamma=2.0,
    smooth=1e-5,
    include_background=False,
    class_weights=None,
    ignore_index=None,
):
    """``focal_weight * mean categorical focal + dice_weight * soft Dice loss`` for one-hot labels.

    The focal part is `categorical_focal` (Lin et al. 2017,
    ``-sum_c y_c (1 - p_c)^gamma log p_c`` per pixel, averaged over every
    pixel of the batch, log-softmax from logits) with per-pixel class weights;
    the Dice part is `soft_dice` with per-class weights, as in `dice_ce`. The
    defaults (both weights 1, gamma 2) are MONAI ``DiceFocalLoss``'s
    (``lambda_dice = lambda_focal = 1``, ``gamma = 2``), but MONAI's focal part
    is normalised differently: ``FocalLoss`` averages over the channels as
    well as the pixels, and with ``include_background=False`` it drops the
    background channel before its softmax; here the focal part covers every
    class, like `dice_ce`'s CE part. So the values are not MONAI's.

    >>> y = [[[[1.0, 0.0], [0.0, 1.0]]]]
    >>> p = [[[[1.0, 0.0], [0.5, 0.5]]]]
    >>> round(float(dice_focal(y, p)), 4)    # focal (0 + .25 ln 2)/2 + Dice 1/3
    0.42
    """
    focal = keras.ops.mean(categorical_focal(y_true, y_pred, from_logits, gamma, class_weights, ignore_index))
    dice = soft_dice(y_true, y_pred, from_logits, smooth, include_background, class_weights, ignore_index)
    return focal_weight * focal + dice_weight * dice


class DiceFocal(SegmentationLoss):
    """`dice_focal` as a Keras loss."""

    fn = staticmethod(dice_focal)
    family = "dice"
    options = {"dice_weight": 1.0, "focal_weight": 1.0, "gamma": 2.0, "smooth": 1e-5, "include_background": False}
