"""Every lossbench loss against a value worked out by hand on a 2x2 image with two classes.

The case (one image, four pixels, classes 0 and 1)::

    truth      [[0, 1],        probabilities of class 1   [[0.2, 0.6],
                [0, 0]]                                    [0.4, 0.1]]

so the probability of the true class is 0.8, 0.6, 0.6, 0.9. The losses are
called eagerly on NumPy arrays: no Keras layer is involved, so no logits can
be substituted (that is `test_audit.py`'s subject).
"""

import math

import keras
import numpy as np
import pytest

from lossbench.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocal,
    DiceCE,
    KerasPooledDice,
    SoftDice,
    SparseCategoricalCrossentropy,
)
from lossbench.losses.cross_entropy import categorical_crossentropy, sparse_categorical_crossentropy

LABELS = np.array([[[0, 1], [0, 0]]])                               # (1, 2, 2)
Y = np.eye(2, dtype=np.float32)[LABELS]                              # (1, 2, 2, 2) one-hot
P = np.array([[[[0.8, 0.2], [0.4, 0.6]], [[0.6, 0.4], [0.9, 0.1]]]], np.float32)
P_TRUE = [0.8, 0.6, 0.6, 0.9]                                        # probability of the true class
# independent per-channel probabilities for binary CE (rows do not sum to 1)
P_BIN = np.array([[[[0.7, 0.2], [0.1, 0.6]], [[0.6, 0.3], [0.9, 0.4]]]], np.float32)
WEIGHTS = [1.0, 3.0]                                                 # pixel (0, 1) is the class-1 pixel
PIXEL_W = [1.0, 3.0, 1.0, 1.0]
LOGITS = np.array([[[[2.0, -1.0], [0.5, 1.5]], [[-0.3, 0.2], [3.0, -2.0]]]], np.float32)

ONE_HOT_LOSSES = [CategoricalCrossentropy, BinaryCrossentropy, SoftDice, DiceCE, CategoricalFocal,
                  KerasPooledDice]


def value(loss, y_true, y_pred):
    return float(np.asarray(loss(y_true, y_pred)))


def np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --- hand values -------------------------------------------------------------------------

CE = -(math.log(0.8) + 2 * math.log(0.6) + math.log(0.9)) / 4
CE_W = -(math.log(0.8) + 3 * math.log(0.6) + math.log(0.6) + math.log(0.9)) / 4
# class 1: tp .6, fp .2 + .4 + .1 = .7, fn .4;  class 0: tp 2.3, fp .4, fn .7
DICE_FG = 1.2 / (1.2 + 0.7 + 0.4)
DICE_BG = 4.6 / (4.6 + 0.4 + 0.7)
# with weights [1, 3] the class-1 pixel's terms triple: tp 1.8, fn 1.2; fp unchanged
DICE_FG_W = 3.6 / (3.6 + 0.7 + 1.2)
FOCAL = -(0.2**2 * math.log(0.8) + 2 * 0.4**2 * math.log(0.6) + 0.1**2 * math.log(0.9)) / 4
FOCAL_W = -(0.2**2 * math.log(0.8) + 4 * 0.4**2 * math.log(0.6) + 0.1**2 * math.log(0.9)) / 4
POOLED_DICE = 1 - 2 * (0.8 + 0.6 + 0.6 + 0.9) / (4 + 4)     # every class and pixel in one Dice


def bce_pixels():
    """Per-pixel binary CE of P_BIN, each the mean of its two channels."""
    rows = [(1, 0, 0.7, 0.2), (0, 1, 0.1, 0.6), (1, 0, 0.6, 0.3), (1, 0, 0.9, 0.4)]
    return [-(a * math.log(p) + (1 - a) * math.log(1 - p) + b * math.log(q) + (1 - b) * math.log(1 - q)) / 2
            for a, b, p, q in rows]


def test_categorical_crossentropy_by_hand():
    assert value(CategoricalCrossentropy(), Y, P) == pytest.approx(CE, rel=1e-6)
    assert CE == pytest.approx(0.33753883, rel=1e-6)


def test_sparse_categorical_crossentropy_by_hand():
    assert value(SparseCategoricalCrossentropy(), LABELS, P) == pytest.approx(CE, rel=1e-6)


def test_binary_crossentropy_by_hand_is_mean_over_channels():
    expected = float(np.mean(bce_pixels()))
    assert value(BinaryCrossentropy(), Y, P_BIN) == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(0.334961, rel=1e-5)


def test_soft_dice_by_hand_excludes_background_by_default():
    assert value(SoftDice(), Y, P) == pytest.approx(1 - DICE_FG, rel=1e-5)
    assert value(SoftDice(include_background=True), Y, P) == pytest.approx(
        1 - (DICE_FG + DICE_BG) / 2, rel=1e-5)
    # background is well predicted here, so counting it lowers the loss
    assert value(SoftDice(include_background=True), Y, P) < value(SoftDice(), Y, P) - 0.1


def test_dice_ce_is_the_weighted_sum_of_its_parts():
    assert value(DiceCE(), Y, P) == pytest.approx(CE + (1 - DICE_FG), rel=1e-5)
    assert value(DiceCE(dice_weight=0.5, ce_weight=2.0), Y, P) == pytest.approx(
        2.0 * CE + 0.5 * (1 - DICE_FG), rel=1e-5)
    assert value(DiceCE(include_background=True), Y, P) == pytest.approx(
        CE + 1 - (DICE_FG + DICE_BG) / 2, rel=1e-5)


def test_focal_by_hand_and_gamma_zero_is_categorical_ce():
    assert value(CategoricalFocal(), Y, P) == pytest.approx(FOCAL, rel=1e-5)
    assert value(CategoricalFocal(gamma=0.0), Y, P) == pytest.approx(CE, rel=1e-5)


def test_keras_pooled_dice_by_hand():
    assert value(KerasPooledDice(), Y, P) == pytest.approx(POOLED_DICE, rel=1e-5)
    assert POOLED_DICE == pytest.approx(0.275)


@pytest.mark.parametrize("cls", ONE_HOT_LOSSES)
def test_perfect_prediction_is_zero(cls):
    assert value(cls(), Y, Y) == pytest.approx(0.0, abs=1e-5)


def test_sparse_perfect_prediction_is_zero():
    assert value(SparseCategoricalCrossentropy(), LABELS, Y) == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("cls", ONE_HOT_LOSSES + [SparseCategoricalCrossentropy])
def test_config_round_trip(cls):
    loss = cls(from_logits=True, class_weights=WEIGHTS)
    again = cls.from_config(loss.get_config())
    assert again.get_config() == loss.get_config()
    assert type(again) is cls and again.from_logits is True
    y = LABELS if cls is SparseCategoricalCrossentropy else Y
    assert value(again, y, LOGITS) == pytest.approx(value(loss, y, LOGITS), rel=1e-7)


@pytest.mark.parametrize(("loss", "other"), [
    (SoftDice(smooth=0.5, include_background=True), SoftDice()),
    (DiceCE(dice_weight=0.25, ce_weight=3.0, include_background=True), DiceCE()),
    (CategoricalFocal(gamma=0.5), CategoricalFocal()),
], ids=["dice", "dice_ce", "focal"])
def test_config_round_trip_keeps_the_options(loss, other):
    again = type(loss).from_config(loss.get_config())
    assert value(again, Y, P) == pytest.approx(value(loss, Y, P), rel=1e-7)
    assert value(again, Y, P) != pytest.approx(value(other, Y, P), rel=1e-3)  # the options matter


def test_class_weights_multiply_cross_entropy_per_pixel():
    assert value(CategoricalCrossentropy(class_weights=WEIGHTS), Y, P) == pytest.approx(CE_W, rel=1e-6)
    assert value(SparseCategoricalCrossentropy(class_weights=WEIGHTS), LABELS, P) == pytest.approx(CE_W, rel=1e-6)
    expected = float(np.mean(np.multiply(bce_pixels(), PIXEL_W)))
    assert value(BinaryCrossentropy(class_weights=WEIGHTS), Y, P_BIN) == pytest.approx(expected, rel=1e-6)
    assert value(CategoricalFocal(class_weights=WEIGHTS), Y, P) == pytest.approx(FOCAL_W, rel=1e-5)


def test_class_weights_multiply_dice_terms_per_pixel():
    assert value(SoftDice(class_weights=WEIGHTS), Y, P) == pytest.approx(1 - DICE_FG_W, rel=1e-5)
    assert value(DiceCE(class_weights=WEIGHTS), Y, P) == pytest.approx(CE_W + 1 - DICE_FG_W, rel=1e-5)


def test_uniform_class_weights_change_nothing():
    for cls in (CategoricalCrossentropy, SoftDice, CategoricalFocal):
        assert value(cls(class_weights=[1.0, 1.0]), Y, P) == pytest.approx(value(cls(), Y, P), rel=1e-6)


@pytest.mark.parametrize("cls", [CategoricalCrossentropy, SoftDice, DiceCE, CategoricalFocal, KerasPooledDice])
def test_from_logits_equals_softmax_first(cls):
    with_logits = value(cls(from_logits=True), Y, LOGITS)
    assert with_logits == pytest.approx(value(cls(), Y, np_softmax(LOGITS)), rel=1e-5)
    assert with_logits != pytest.approx(value(cls(), Y, np_softmax(np_softmax(LOGITS))), rel=1e-3)


def test_sparse_from_logits_equals_softmax_first():
    with_logits = value(SparseCategoricalCrossentropy(from_logits=True), LABELS, LOGITS)
    assert with_logits == pytest.approx(value(SparseCategoricalCrossentropy(), LABELS, np_softmax(LOGITS)), rel=1e-5)


def test_binary_from_logits_equals_sigmoid_first():
    with_logits = value(BinaryCrossentropy(from_logits=True), Y, LOGITS)
    assert with_logits == pytest.approx(value(BinaryCrossentropy(), Y, np_sigmoid(LOGITS)), rel=1e-5)
    assert with_logits != pytest.approx(value(BinaryCrossentropy(), Y, np_softmax(LOGITS)), rel=1e-3)


def test_sparse_with_one_hot_labels_raises_rank_error():
    with pytest.raises(ValueError, match="rank"):
        SparseCategoricalCrossentropy()(Y, P)


def test_pixel_functions_return_one_loss_per_pixel():
    per_pixel = np.asarray(categorical_crossentropy(Y, P))
    assert per_pixel.shape == (1, 2, 2)
    np.testing.assert_allclose(per_pixel.ravel(), -np.log(P_TRUE), rtol=1e-6)
    sparse = np.asarray(sparse_categorical_crossentropy(LABELS, P, class_weights=WEIGHTS))
    np.testing.assert_allclose(sparse.ravel(), -np.log(P_TRUE) * PIXEL_W, rtol=1e-6)


def test_losses_are_keras_losses():
    for cls in ONE_HOT_LOSSES + [SparseCategoricalCrossentropy]:
        assert isinstance(cls(), keras.losses.Loss)
    assert SparseCategoricalCrossentropy.sparse_labels is True
    assert not any(cls.sparse_labels for cls in ONE_HOT_LOSSES)
