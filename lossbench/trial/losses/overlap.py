"""Overlap losses beyond Dice: Tversky, focal Tversky, Jaccard, log-cosh Dice, Lovasz-softmax.

They follow `lossbench.trial.losses.dice`'s conventions: one-hot labels (N, H, W, C);
``from_logits`` applies a softmax over channels first; soft true positives,
false positives and false negatives per class summed over the whole batch
(``tp_c = sum g p``, ``fp_c = sum (1 - g) p``, ``fn_c = sum g (1 - p)``);
the mean over the foreground classes (all C with ``include_background``);
``smooth`` added to numerator and denominator. Class weights scale whole class
terms, ``sum_c w_c (term_c) / n``, with the weights of the n classes in the
mean rescaled to average 1 (see `lossbench.trial.losses.dice`).

`lovasz_softmax` sorts pixel errors instead of summing them and takes no class
weights (it refuses them, as `GeneralizedDice` does).

With ``ignore_index``, one-hot rows that are all zeros are void: as in
`lossbench.trial.losses.dice`, the counts run over the labelled pixels only; for
`lovasz_softmax` a void pixel has error 0 and joins no class's union.
"""

from __future__ import annotations

from keras import ops

from lossbench.trial.losses.base import SegmentationLoss, valid_pixels
from lossbench.trial.losses.dice import (
    _class_mean,
    _soft_counts,
    soft_dice,
    valid_probabilities,
)


def _tversky_index(y_true, y_pred, from_logits, alpha, beta, smooth, ignore_index=None):
    tp, fp, fn = _soft_counts(y_true, y_pred, from_logits, valid_pixels(y_true, ignore_index))
    return (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)


def tversky(
    y_true,
    y_pred,
    from_logits=False,
    alpha=0.3,
    beta=0.7,
    smooth=1e-5,
    include_background=False,
    class_weights=None,
    ignore_index=None,
):
    """Multi-class Tversky loss (Salehi et al. 2017) for one-hot labels (N, H, W, C).

    Formula: ``sum_c w_c (1 - TI_c) / n`` with
    ``TI_c = (tp_c + s) / (tp_c + alpha fp_c + beta fn_c + s)``, tp/fp/fn
    summed over the whole batch, over the n foreground classes (all C with
    ``include_background``); ``w_c = 1`` unweighted, else rescaled as in
    `soft_dice`. ``alpha`` weights false positives, ``beta`` false negatives,
    as in the paper; the defaults 0.3 / 0.7 are Salehi's recommendation
    (missing a structure costs more than over-segmenting it). At
    ``alpha = beta = 1`` it is `jaccard`; at 0.5 / 0.5 it is soft Dice up to
    the smoothing. Matches MONAI ``TverskyLoss(softmax=True,
    include_background=False, batch=True, alpha=alpha, beta=beta)`` with
    ``smooth_nr = smooth_dr = s`` (MONAI's alpha also weights false positives;
    its TverskyLoss takes no class weights).

    Keras's own ``keras.losses.Tversky`` / ``keras.losses.tversky`` swaps the
    roles despite its docstring: it computes ``fp = sum((1 - y_pred) y_true)``
    (which is the false negatives) and ``fn = sum(y_pred (1 - y_true))`` (the
    false positives), so its ``alpha`` weights false negatives and its ``beta``
    false positives. It also pools every class and pixel into one index by
    default (``axis=None``, background included) and has no smoothing in the
    numerator (``1e-7`` in the denominator). Per class, this ``tversky(alpha=a,
    beta=b)`` equals Keras's ``Tversky(alpha=b, beta=a)`` up to the smoothing.

    >>> y = [[[[1.0, 0.0], [0.0, 1.0]]]]     # 1x1x2 image, classes 0 and 1
    >>> p = [[[[1.0, 0.0], [0.5, 0.5]]]]
    >>> round(float(tversky(y, p)), 4)       # fg: tp .5, fp 0, fn .5 -> 1 - .5 / (.5 + .7 * .5)
    0.4118
    """
    index = _tversky_index(y_true, y_pred, from_logits, alpha, beta, smooth, ignore_index)
    return _class_mean(1.0 - index, include_background, class_weights)


def focal_tversky(
    y_true,
    y_pred,
    from_logits=False,
    alpha=0.3,
    beta=0.7,
    gamma=4.0 / 3.0,
    smooth=1e-5,
    include_background=False,
    class_weights=None,
    ignore_index=None,
):
    """Focal Tversky loss (Abraham & Khan 2019) for one-hot labels (N, H, W, C).

    Formula: ``sum_c w_c (1 - TI_c)^(1/gamma) / n`` with `tversky`'s ``TI_c``
    (``alpha`` on false positives, ``beta`` on false negatives) and weights.
    The exponent is ``1/gamma``, the paper's convention: gamma in [1, 3],
    gamma = 4/3 (exponent 0.75) by default, as in the paper's experiments;
    gamma = 1 is `tversky`. With ``1/gamma < 1`` a class that is already well
    segmented (small ``1 - TI_c``) keeps a larger loss and gradient than under
    plain Tversky. Beware of implementations that put gamma itself in the
    exponent: the authors' own code writes ``gamma = 0.75`` as the exponent,
    which is this gamma = 4/3. Their code weights false negatives 0.7 and
    false positives 0.3, the defaults here. The paper sums over classes; here
    it is the mean, as for every loss of the Dice family.

    >>> y = [[[[1.0, 0.0], [0.0, 1.0]]]]
    >>> p = [[[[1.0, 0.0], [0.5, 0.5]]]]
    >>> round(float(focal_tversky(y, p)), 4)  # (1 - .5 / .85) ** .75
    0.514
    """
    index = _tversky_index(y_true, y_pred, from_logits, alpha, beta, smooth, ignore_index)
    gap = 1.0 - index
    # x^(1/gamma) has an infinite slope at 0 when 1/gamma < 1: where a term is exactly 0 the
    # value stays 0 and the gradient is 0 (the double where keeps NaN out of the backward pass)
    safe = ops.where(gap > 0.0, gap, 1.0)
    terms = ops.where(gap > 0.0, ops.power(safe, 1.0 / gamma), 0.0)
    return _class_mean(terms, include_background, class_weights)


def jaccard(
    y_true, y_pred, from_logits=False, smooth=1e-5, include_background=False, class_weights=None, ignore_index=None
):
    """Multi-class soft Jaccard (IoU) loss for one-hot labels (N, H, W, C).

    Formula: ``sum_c w_c (1 - J_c) / n`` with
    ``J_c = (tp_c + s) / (tp_c + fp_c + fn_c + s)`` (tp/fp/fn summed over
    the whole batch), over the foreground classes; weights as in `soft_dice`.
    It is `tversky` with ``alpha = beta = 1``. Matches MONAI
    ``DiceLoss(jaccard=True, softmax=True, include_background=False,
    batch=True)`` with ``smooth_nr = smooth_dr = 2 s`` (MONAI computes
    ``1 - (2 tp + s_nr) / (2 (tp + fp + fn) + s_dr)``).

    >>> y = [[[[1.0, 0.0], [0.0, 1.0]]]]
    >>> p = [[[[1.0, 0.0], [0.5, 0.5]]]]
    >>> round(float(jaccard(y, p)), 4)       # fg: 1 - .5 / (.5 + 0 + .5)
    0.5
    """
    tp, fp, fn = _soft_counts(y_true, y_pred, from_logits, valid_pixels(y_true, ignore_index))
    index = (tp + smooth) / (tp + fp + fn + smooth)
    return _class_mean(1.0 - index, include_background, class_weights)


def log_cosh_dice(
    y_true, y_pred, from_logits=False, smooth=1e-5, include_background=False, class_weights=None, ignore_index=None
):
    """Log-cosh Dice loss (Jadon 2020) for one-hot labels (N, H, W, C): ``log(cosh(L))``.

    ``L`` is the multi-class `soft_dice` loss (weighted mean over the
    classes, same options), so the log-cosh wraps the mean, as Jadon's
    ``log(cosh(dice_loss))`` wraps the whole Dice loss. ``log cosh x`` is
    about ``x^2 / 2`` near 0 and its slope is ``tanh x``: in [0, 1] it
    ranges over [0, 0.4338] and the gradient is the soft Dice gradient times
    ``tanh(L)`` < 0.77, vanishing as the Dice loss does.

    >>> y = [[[[1.0, 0.0], [0.0, 1.0]]]]
    >>> p = [[[[1.0, 0.0], [0.5, 0.5]]]]
    >>> round(float(log_cosh_dice(y, p)), 4)  # log(cosh(1/3))
    0.0546
    """
    dice = soft_dice(y_true, y_pred, from_logits, smooth, include_background, class_weights, ignore_index)
    return ops.log(ops.cosh(dice))


def lovasz_softmax(y_true, y_pred, from_logits=False, include_background=False, ignore_index=None):
    """Lovasz-softmax loss (Berman et al. 2018) for one-hot labels (N, H, W, C).

    The Lovasz extension of the Jaccard loss, on the softmax probabilities of
    the whole batch flattened into P pixels. Per class c: the errors
    ``e_i = |g_ic - p_ic|`` sorted in decreasing order, with the labels in
    that order ``g_(1..P)``, and ``J_k = 1 - (G - cumsum_k g) / (G + cumsum_k
    (1 - g))`` (``G`` the class's pixel count); the class loss is
    ``sum_k e_(k) (J_k - J_(k-1))`` (``J_0 = 0``). The loss is the mean over
    the classes present in the batch (foreground only by default;
    ``include_background=True`` counts background too), 0 when none is.
    Equals the authors' PyTorch ``lovasz_softmax(probas, labels,
    classes='present', per_image=False)`` (``lovasz_softmax_flat``) with
    ``include_background=True``; the authors do not exclude background.
    Ties among the errors do not change the value (the Lovasz extension is
    well defined); they pick one subgradient: pixels of equal error are taken
    in pixel order. Takes no class weights. With ``ignore_index``, a void
    pixel (all-zero label row) has error 0 and joins no union: the loss is
    that of the labelled pixels alone.

    >>> y = [[[[1.0, 0.0], [0.0, 1.0]]]]
    >>> p = [[[[1.0, 0.0], [0.5, 0.5]]]]
    >>> round(float(lovasz_softmax(y, p)), 4)  # fg errors [0, .5]: the one pixel of class 1 first
    0.5
    >>> y_void, p_void = [[[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]], [[[[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]]]
    >>> round(float(lovasz_softmax(y_void, p_void, ignore_index=255)), 4)  # the void pixel changes nothing
    0.5
    """
    y_true = ops.cast(y_true, "float32")
    valid = valid_pixels(y_true, ignore_index)
    probs = valid_probabilities(y_pred, from_logits, valid)
    n_classes = y_true.shape[-1]
    first = 0 if include_background else 1
    fg = ops.transpose(ops.reshape(y_true, (-1, n_classes)))[first:]  # (classes, P)
    errors = ops.abs(fg - ops.transpose(ops.reshape(probs, (-1, n_classes)))[first:])
    order = ops.argsort(-errors, axis=-1)  # decreasing errors; equal errors in pixel order
    errors_sorted = ops.take_along_axis(errors, order, axis=-1)
    fg_sorted = ops.take_along_axis(fg, order, axis=-1)
    count = ops.sum(fg, axis=-1, keepdims=True)
    intersection = count - ops.cumsum(fg_sorted, axis=-1)
    outside = 1.0 - fg_sorted  # what each pixel adds to the union
    if valid is not None:  # a void pixel adds nothing
        outside = outside * ops.take_along_axis(ops.zeros_like(errors) + ops.reshape(valid, (1, -1)), order, axis=-1)
    union = count + ops.cumsum(outside, axis=-1)  # >= 1 from the first pixel on
    if valid is not None:  # not for an absent class before its first labelled pixel (where intersection is 0)
        union = ops.maximum(union, 1.0)
    jaccard_loss = 1.0 - intersection / union
    steps = ops.concatenate([jaccard_loss[:, :1], jaccard_loss[:, 1:] - jaccard_loss[:, :-1]], axis=-1)
    per_class = ops.sum(errors_sorted * ops.stop_gradient(steps), axis=-1)
    present = ops.cast(count[:, 0] > 0, "float32")
    return ops.sum(present * per_class) / ops.maximum(ops.sum(present), 1.0)


OVERLAP = {"smooth": 1e-5, "include_background": False}


class Tversky(SegmentationLoss):
    """`tversky` as a Keras loss (alpha weights false positives, beta false negatives)."""

    fn = staticmethod(tversky)
    family = "dice"
    options = {"alpha": 0.3, "beta": 0.7, **OVERLAP}


class FocalTversky(SegmentationLoss):
    """`focal_tversky` as a Keras loss (exponent 1/gamma, gamma = 4/3 by default)."""

    fn = staticmethod(focal_tversky)
    family = "dice"
    options = {"alpha": 0.3, "beta": 0.7, "gamma": 4.0 / 3.0, **OVERLAP}


class Jaccard(SegmentationLoss):
    """`jaccard` (soft IoU) as a Keras loss."""

    fn = staticmethod(jaccard)
    family = "dice"
    options = dict(OVERLAP)


class LogCoshDice(SegmentationLoss):
    """`log_cosh_dice` as a Keras loss."""

    fn = staticmethod(log_cosh_dice)
    family = "dice"
    options = dict(OVERLAP)


class LovaszSoftmax(SegmentationLoss):
    """`lovasz_softmax` as a Keras loss; averages the classes present, so takes no class weights."""

    fn = staticmethod(lovasz_softmax)
    family, supports_class_weights = "dice", False
    options = {"include_background": False}
    no_weights_reason = "averages the classes present in the batch and takes no class weights"
