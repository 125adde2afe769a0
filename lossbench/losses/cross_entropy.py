"""Cross-entropy losses for segmentation, computed with Keras's own backend ops.

They call ``keras.ops.*_crossentropy`` on the model output unchanged, so they
behave exactly as Keras's built-in losses do: with a Keras softmax/sigmoid
layer the backend swaps in the pre-activation logits (FACTS #2, #3). Whether
that happened is what `lossbench.audit` measures.

Class weights act per pixel: each pixel's loss is multiplied by the weight of
its true class, and the mean is over all pixels of the batch. The weighting
schemes (`lossbench.weighting`) make the mean weight per training pixel 1, so
weighting rebalances classes without changing the loss scale. (The Dice family
weights whole class terms instead, see `lossbench.losses.dice`.)
"""

from __future__ import annotations

import keras
from keras import ops

from lossbench.losses.base import SegmentationLoss


def pixel_weights(y_true, class_weights, sparse: bool):
    """Weight of every pixel: the weight of its true class. ``None`` when unweighted."""
    if class_weights is None:
        return None
    weights = ops.convert_to_tensor(class_weights, dtype="float32")
    if sparse:
        return ops.take(weights, ops.cast(y_true, "int32"))
    return ops.sum(ops.cast(y_true, "float32") * weights, axis=-1)


def _weighted(per_pixel, y_true, class_weights, sparse=False):
    weights = pixel_weights(y_true, class_weights, sparse)
    return per_pixel if weights is None else per_pixel * weights


def categorical_crossentropy(y_true, y_pred, from_logits=False, class_weights=None):
    """Per-pixel categorical CE: ``-sum_c y_c log p_c`` with ``p`` normalised over channels.

    Args:
        y_true: one-hot labels (N, H, W, C).
        y_pred: probabilities (or logits when ``from_logits``), (N, H, W, C).
    Returns:
        (N, H, W) losses.

    >>> round(float(categorical_crossentropy([[1.0, 0.0]], [[0.8, 0.2]])[0]), 6)  # -ln 0.8
    0.223144
    """
    loss = ops.categorical_crossentropy(ops.cast(y_true, "float32"), y_pred, from_logits=from_logits)
    return _weighted(loss, y_true, class_weights)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, class_weights=None):
    """Per-pixel sparse categorical CE: ``-log p_y`` for integer labels (N, H, W).

    One-hot labels fail inside Keras: "Argument `output` must have rank (ndim)
    `target.ndim - 1`" (FACTS #4), thread 2's mistake.

    >>> round(float(sparse_categorical_crossentropy([1], [[0.25, 0.75]])[0]), 6)  # -ln 0.75
    0.287682
    """
    loss = ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)
    return _weighted(loss, y_true, class_weights, sparse=True)


def binary_crossentropy(y_true, y_pred, from_logits=False, class_weights=None):
    """Per-pixel binary CE averaged over the C channels, as Keras's ``binary_crossentropy``.

    Each channel is an independent yes/no question, so the value is the mean of
    C binary losses - not comparable with categorical CE (thread 1's loss scale).

    >>> round(float(binary_crossentropy([[1.0, 0.0]], [[0.8, 0.2]])[0]), 6)  # -ln 0.8
    0.223144
    """
    y_true = ops.cast(y_true, "float32")
    loss = ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=-1)
    return _weighted(loss, y_true, class_weights)


def categorical_focal(y_true, y_pred, from_logits=False, gamma=2.0, class_weights=None):
    """Per-pixel focal loss (Lin et al. 2017): ``-sum_c y_c (1 - p_c)^gamma log p_c``.

    From logits, ``log p`` is ``log_softmax`` (no clipping, so the value and
    gradient stay exact for confident wrong pixels); from probabilities, ``p``
    is clipped to ``[eps, 1 - eps]`` before the log, as Keras's CE does. At
    gamma 0 it is categorical CE.

    >>> round(float(categorical_focal([[1.0, 0.0]], [[0.5, 0.5]], gamma=2.0)[0]), 6)  # 0.25 ln 2
    0.173287
    >>> round(float(categorical_focal([[0.0, 1.0]], [[20.0, 0.0]], from_logits=True)[0]), 4)
    20.0
    """
    y_true, y_pred = ops.cast(y_true, "float32"), ops.convert_to_tensor(y_pred, "float32")
    eps = keras.config.epsilon()
    if from_logits:
        log_probs = ops.log_softmax(y_pred, axis=-1)
        probs = ops.exp(log_probs)
    else:
        probs = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        probs = ops.clip(probs, eps, 1.0 - eps)
        log_probs = ops.log(probs)
    # the floor keeps the gradient of x^gamma finite at x = 0 (gamma < 1); it moves the loss < eps^(1+gamma)
    focus = ops.power(ops.maximum(1.0 - probs, eps), gamma)
    loss = -ops.sum(y_true * focus * log_probs, axis=-1)
    return _weighted(loss, y_true, class_weights)


class CategoricalCrossentropy(SegmentationLoss):
    """`categorical_crossentropy` as a Keras loss (mean over pixels)."""

    fn = staticmethod(categorical_crossentropy)


class SparseCategoricalCrossentropy(SegmentationLoss):
    """`sparse_categorical_crossentropy` as a Keras loss; integer labels."""

    fn = staticmethod(sparse_categorical_crossentropy)
    sparse_labels = True


class BinaryCrossentropy(SegmentationLoss):
    """`binary_crossentropy` as a Keras loss; every channel a yes/no problem."""

    fn = staticmethod(binary_crossentropy)
    per_channel = True


class CategoricalFocal(SegmentationLoss):
    """`categorical_focal` as a Keras loss."""

    fn = staticmethod(categorical_focal)
    options = {"gamma": 2.0}
