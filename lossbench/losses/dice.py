"""Soft Dice losses: the multi-class soft Dice of the segmentation literature, and Keras's pooled one.

`soft_dice` follows nnU-Net's soft Dice: true positives, false positives and
false negatives are summed per class over the whole batch, each class gets
``(2 tp + s) / (2 tp + fp + fn + s)``, and the loss is one minus the mean over
the foreground classes (background too with ``include_background``).
Keras's ``keras.losses.Dice`` instead pools every class, background included,
into one Dice (FACTS #6): `KerasPooledDice` wraps it to show what that does.
"""

from __future__ import annotations

import keras
from keras import ops

from lossbench.losses.cross_entropy import pixel_weights


def probabilities(y_pred, from_logits: bool):
    """The output as probabilities: softmax over channels when it is logits."""
    return ops.softmax(y_pred, axis=-1) if from_logits else y_pred


def soft_dice(y_true, y_pred, from_logits=False, smooth=1e-5, include_background=False,
              class_weights=None):
    """Multi-class soft Dice loss for one-hot labels (N, H, W, C).

    Formula: ``1 - mean_c (2 tp_c + s) / (2 tp_c + fp_c + fn_c + s)`` over the
    foreground classes; with class weights every pixel's terms are multiplied
    by the weight of its true class.

    >>> y = [[[[1.0, 0.0], [0.0, 1.0]]]]     # 1x1x2 image, classes 0 and 1
    >>> p = [[[[1.0, 0.0], [0.5, 0.5]]]]
    >>> round(float(soft_dice(y, p)), 4)     # fg: tp .5, fp 0, fn .5 -> 1 - 1/1.5
    0.3333
    """
    y_true = ops.cast(y_true, "float32")
    probs = probabilities(ops.convert_to_tensor(y_pred, "float32"), from_logits)
    weights = pixel_weights(y_true, class_weights, sparse=False)
    w = 1.0 if weights is None else ops.expand_dims(weights, -1)
    axes = tuple(range(len(y_true.shape) - 1))
    tp = ops.sum(w * y_true * probs, axis=axes)
    fp = ops.sum(w * (1.0 - y_true) * probs, axis=axes)
    fn = ops.sum(w * y_true * (1.0 - probs), axis=axes)
    dice = (2.0 * tp + smooth) / (2.0 * tp + fp + fn + smooth)
    if not include_background:
        dice = dice[1:]
    return 1.0 - ops.mean(dice)


class SoftDice(keras.losses.Loss):
    """Keras wrapper of `soft_dice` (one value per batch)."""

    sparse_labels = False

    def __init__(self, from_logits=False, smooth=1e-5, include_background=False,
                 class_weights=None, name="dice"):
        super().__init__(name=name)
        self.from_logits, self.smooth = bool(from_logits), float(smooth)
        self.include_background = bool(include_background)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]

    def call(self, y_true, y_pred):
        return soft_dice(y_true, y_pred, self.from_logits, self.smooth,
                         self.include_background, self.class_weights)

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits, "smooth": self.smooth,
                "include_background": self.include_background, "class_weights": self.class_weights}


class KerasPooledDice(keras.losses.Loss):
    """``keras.losses.Dice`` as shipped: every class and pixel pooled, no logits, no weights."""

    sparse_labels = False

    def __init__(self, from_logits=False, class_weights=None, name="keras_dice"):
        super().__init__(name=name)
        self.from_logits = bool(from_logits)
        self.class_weights = class_weights  # cannot be applied: kept to report it
        self._dice = keras.losses.Dice(reduction=None)

    def call(self, y_true, y_pred):
        return self._dice(ops.cast(y_true, "float32"), probabilities(y_pred, self.from_logits))

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits, "class_weights": self.class_weights}
