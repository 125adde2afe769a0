"""Every lossbench loss against a value worked out by hand on a 2x2 image with two classes.

The case (one image, four pixels, classes 0 and 1)::

    truth      [[0, 1],        probabilities of class 1   [[0.2, 0.6],
                [0, 0]]                                    [0.4, 0.1]]

so the probability of the true class is 0.8, 0.6, 0.6, 0.9. The losses are
called eagerly on NumPy arrays: no Keras layer is involved, so no logits can
be substituted (that is `test_audit.py`'s subject).

Further down: a 4-class case with extreme logits, where every loss's value and
gradient are checked against a NumPy float64 reference, hand values for the
per-class Dice weights and the generalized Dice, Keras's Tversky (alpha and
beta swapped), and Lovasz-softmax against a NumPy copy of the authors'
``lovasz_softmax_flat``.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from lossbench.errors import InvalidPairing
from lossbench.trial.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocal,
    DiceCE,
    DiceFocal,
    FocalTversky,
    GeneralizedDice,
    Jaccard,
    KerasPooledDice,
    LogCoshDice,
    LovaszSoftmax,
    SoftDice,
    SparseCategoricalCrossentropy,
    Tversky,
)
from lossbench.trial.losses.compound import dice_focal
from lossbench.trial.losses.cross_entropy import (
    categorical_crossentropy,
    categorical_focal,
    sparse_categorical_crossentropy,
)
from lossbench.trial.losses.dice import generalized_dice, soft_dice
from lossbench.trial.losses.overlap import focal_tversky, jaccard, log_cosh_dice, lovasz_softmax, tversky

LABELS = np.array([[[0, 1], [0, 0]]])  # (1, 2, 2)
Y = np.eye(2, dtype=np.float32)[LABELS]  # (1, 2, 2, 2) one-hot
P = np.array([[[[0.8, 0.2], [0.4, 0.6]], [[0.6, 0.4], [0.9, 0.1]]]], np.float32)
P_TRUE = [0.8, 0.6, 0.6, 0.9]  # probability of the true class
# independent per-channel probabilities for binary CE (rows do not sum to 1)
P_BIN = np.array([[[[0.7, 0.2], [0.1, 0.6]], [[0.6, 0.3], [0.9, 0.4]]]], np.float32)
WEIGHTS = [1.0, 3.0]  # pixel (0, 1) is the class-1 pixel
PIXEL_W = [1.0, 3.0, 1.0, 1.0]
LOGITS = np.array([[[[2.0, -1.0], [0.5, 1.5]], [[-0.3, 0.2], [3.0, -2.0]]]], np.float32)

OVERLAP_LOSSES = [Tversky, FocalTversky, Jaccard, LogCoshDice, LovaszSoftmax]
ONE_HOT_LOSSES = [
    CategoricalCrossentropy,
    BinaryCrossentropy,
    SoftDice,
    DiceCE,
    CategoricalFocal,
    KerasPooledDice,
    GeneralizedDice,
    DiceFocal,
] + OVERLAP_LOSSES
ALL_LOSSES = ONE_HOT_LOSSES + [SparseCategoricalCrossentropy]


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
# Dice weights act per class, rescaled to average 1 over the classes in the mean: foreground
# only -> [3] becomes [1] (no change); with background [1, 3] becomes [0.5, 1.5]
DICE_ALL_W = (0.5 * (1 - DICE_BG) + 1.5 * (1 - DICE_FG)) / 2
FOCAL = -(0.2**2 * math.log(0.8) + 2 * 0.4**2 * math.log(0.6) + 0.1**2 * math.log(0.9)) / 4
FOCAL_W = -(0.2**2 * math.log(0.8) + 4 * 0.4**2 * math.log(0.6) + 0.1**2 * math.log(0.9)) / 4
POOLED_DICE = 1 - 2 * (0.8 + 0.6 + 0.6 + 0.9) / (4 + 4)  # every class and pixel in one Dice
# Tversky, alpha .3 on fp, beta .7 on fn: class 1 .6 / (.6 + .3 * .7 + .7 * .4), class 0 2.3 / (2.3 + .3 * .4 + .7 * .7)
TVERSKY_FG, TVERSKY_BG = 0.6 / 1.09, 2.3 / 2.91
TVERSKY = 1 - TVERSKY_FG
FOCAL_TVERSKY = TVERSKY**0.75  # exponent 1/gamma, gamma 4/3
JACCARD = 1 - 0.6 / (0.6 + 0.7 + 0.4)  # class 1 tp / (tp + fp + fn)
LOG_COSH_DICE = math.log(math.cosh(1 - DICE_FG))
DICE_FOCAL = FOCAL + (1 - DICE_FG)
# Lovasz, class 1: errors |g - p| = [.2, .4, .4, .1] (the class-1 pixel is one of the .4s). In
# decreasing order with the class-1 pixel first the Jaccard losses are [1, 1, 1, 1], steps
# [1, 0, 0, 0]: .4 (the other order: J [.5, 1, 1, 1], steps [.5, .5, 0, 0], again .4).
# Class 0: errors [.2, .4, .4, .1], the .4 at (0, 1) is not class 0; order (0,1), (1,0), (0,0), (1,1):
# g [0, 1, 1, 1], intersection [3, 2, 1, 0], union [4, 4, 4, 4], J [.25, .5, .75, 1], steps .25 each
LOVASZ_FG, LOVASZ_BG = 0.4, 0.25 * (0.4 + 0.4 + 0.2 + 0.1)


def bce_pixels():
    """Per-pixel binary CE of P_BIN, each the mean of its two channels."""
    rows = [(1, 0, 0.7, 0.2), (0, 1, 0.1, 0.6), (1, 0, 0.6, 0.3), (1, 0, 0.9, 0.4)]
    return [
        -(a * math.log(p) + (1 - a) * math.log(1 - p) + b * math.log(q) + (1 - b) * math.log(1 - q)) / 2
        for a, b, p, q in rows
    ]


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
    assert value(SoftDice(include_background=True), Y, P) == pytest.approx(1 - (DICE_FG + DICE_BG) / 2, rel=1e-5)
    # background is well predicted here, so counting it lowers the loss
    assert value(SoftDice(include_background=True), Y, P) < value(SoftDice(), Y, P) - 0.1


def test_dice_ce_is_the_weighted_sum_of_its_parts():
    assert value(DiceCE(), Y, P) == pytest.approx(CE + (1 - DICE_FG), rel=1e-5)
    assert value(DiceCE(dice_weight=0.5, ce_weight=2.0), Y, P) == pytest.approx(
        2.0 * CE + 0.5 * (1 - DICE_FG), rel=1e-5
    )
    assert value(DiceCE(include_background=True), Y, P) == pytest.approx(CE + 1 - (DICE_FG + DICE_BG) / 2, rel=1e-5)


def test_focal_by_hand_and_gamma_zero_is_categorical_ce():
    assert value(CategoricalFocal(), Y, P) == pytest.approx(FOCAL, rel=1e-5)
    assert value(CategoricalFocal(gamma=0.0), Y, P) == pytest.approx(CE, rel=1e-5)


def test_tversky_by_hand_alpha_weights_false_positives():
    assert TVERSKY == pytest.approx(0.449541, abs=1e-6)
    assert value(Tversky(), Y, P) == pytest.approx(TVERSKY, rel=1e-5)
    assert value(Tversky(include_background=True), Y, P) == pytest.approx(1 - (TVERSKY_FG + TVERSKY_BG) / 2, rel=1e-5)
    # swapping alpha and beta: class 1 .6 / (.6 + .7 * .7 + .3 * .4)
    assert value(Tversky(alpha=0.7, beta=0.3), Y, P) == pytest.approx(1 - 0.6 / 1.21, rel=1e-5)
    # alpha = beta = 1 is Jaccard; .5 / .5 is soft Dice up to the smoothing
    assert value(Tversky(alpha=1.0, beta=1.0), Y, P) == pytest.approx(JACCARD, rel=1e-5)
    assert value(Tversky(alpha=0.5, beta=0.5), Y, P) == pytest.approx(1 - DICE_FG, rel=1e-4)


def test_keras_tversky_swaps_alpha_and_beta():
    # keras.losses.Tversky(axis=(0, 1, 2), reduction=None) gives one 1 - TI per class, background first
    ours = [1 - TVERSKY_BG, 1 - TVERSKY_FG]  # alpha .3 on fp, beta .7 on fn
    np.testing.assert_allclose(tversky(Y, P, include_background=True), np.mean(ours), rtol=1e-5)
    swapped = keras.losses.Tversky(alpha=0.7, beta=0.3, axis=(0, 1, 2), reduction=None)
    np.testing.assert_allclose(np.asarray(swapped(Y, P)), ours, rtol=1e-5)
    # Keras with the same alpha, beta puts .3 on the false negatives (.4) and .7 on the false positives (.7)
    same = keras.losses.Tversky(alpha=0.3, beta=0.7, axis=(0, 1, 2), reduction=None)
    keras_fg = float(np.asarray(same(Y, P))[1])
    assert keras_fg == pytest.approx(1 - 0.6 / (0.6 + 0.3 * 0.4 + 0.7 * 0.7), rel=1e-5)  # 0.504132
    assert keras_fg == pytest.approx(0.504132, abs=1e-6) and abs(keras_fg - TVERSKY) > 0.05
    # and by default Keras pools every class and pixel, background included, into one index
    pooled = float(keras.losses.Tversky(alpha=0.7, beta=0.3)(Y, P))
    assert pooled == pytest.approx(1 - 2.9 / (2.9 + 0.7 * 1.1 + 0.3 * 1.1), rel=1e-5)


def test_focal_tversky_by_hand_uses_one_over_gamma():
    assert FOCAL_TVERSKY == pytest.approx(0.549006, abs=1e-6)
    assert value(FocalTversky(), Y, P) == pytest.approx(FOCAL_TVERSKY, rel=1e-5)
    assert value(FocalTversky(gamma=1.0), Y, P) == pytest.approx(TVERSKY, rel=1e-5)
    assert value(FocalTversky(gamma=2.0), Y, P) == pytest.approx(math.sqrt(TVERSKY), rel=1e-5)
    assert value(FocalTversky(include_background=True), Y, P) == pytest.approx(
        ((1 - TVERSKY_FG) ** 0.75 + (1 - TVERSKY_BG) ** 0.75) / 2, rel=1e-5
    )


def test_focal_tversky_of_a_perfect_class_has_a_finite_gradient():
    z = tf.Variable(np.where(Y > 0, 10.0, -10.0).astype(np.float32))  # p = 1 - 2e-9 -> 1.0 in float32
    with tf.GradientTape() as tape:
        loss = focal_tversky(Y, z, from_logits=True)
    assert float(loss) == 0.0 and np.isfinite(tape.gradient(loss, z).numpy()).all()


def test_jaccard_by_hand():
    assert JACCARD == pytest.approx(0.647059, abs=1e-6)
    assert value(Jaccard(), Y, P) == pytest.approx(JACCARD, rel=1e-5)
    assert value(Jaccard(include_background=True), Y, P) == pytest.approx(
        1 - (0.6 / 1.7 + 2.3 / (2.3 + 0.4 + 0.7)) / 2, rel=1e-5
    )


def test_log_cosh_dice_by_hand():
    assert LOG_COSH_DICE == pytest.approx(0.110256, abs=1e-6)
    assert value(LogCoshDice(), Y, P) == pytest.approx(LOG_COSH_DICE, rel=1e-5)
    assert value(LogCoshDice(include_background=True), Y, P) == pytest.approx(
        math.log(math.cosh(1 - (DICE_FG + DICE_BG) / 2)), rel=1e-5
    )


def test_dice_focal_is_the_weighted_sum_of_its_parts():
    assert DICE_FOCAL == pytest.approx(0.521621, abs=1e-6)
    assert value(DiceFocal(), Y, P) == pytest.approx(DICE_FOCAL, rel=1e-5)
    assert value(DiceFocal(dice_weight=0.5, focal_weight=2.0), Y, P) == pytest.approx(
        2.0 * FOCAL + 0.5 * (1 - DICE_FG), rel=1e-5
    )
    assert value(DiceFocal(gamma=0.0), Y, P) == pytest.approx(value(DiceCE(), Y, P), rel=1e-5)
    assert value(DiceFocal(class_weights=WEIGHTS, include_background=True), Y, P) == pytest.approx(
        FOCAL_W + DICE_ALL_W, rel=1e-5
    )


def test_lovasz_softmax_by_hand():
    assert value(LovaszSoftmax(), Y, P) == pytest.approx(LOVASZ_FG, rel=1e-6)
    assert value(LovaszSoftmax(include_background=True), Y, P) == pytest.approx((LOVASZ_FG + LOVASZ_BG) / 2, rel=1e-6)
    # the value does not depend on how equal errors are ordered: move the pixels around
    for order in ([3, 2, 1, 0], [2, 0, 3, 1]):
        y, p = Y.reshape(1, 1, 4, 2)[:, :, order], P.reshape(1, 1, 4, 2)[:, :, order]
        assert value(LovaszSoftmax(include_background=True), y, p) == pytest.approx(
            (LOVASZ_FG + LOVASZ_BG) / 2, rel=1e-6
        )


def test_lovasz_softmax_by_hand_without_ties_value_and_gradient():
    # one 1x3 image, truth [1, 0, 1], p(class 1) [.9, .3, .4]: errors [.1, .3, .6] for both classes
    y = np.eye(2, dtype=np.float32)[np.array([[[1, 0, 1]]])]
    p = tf.Variable(np.array([[[[0.1, 0.9], [0.7, 0.3], [0.6, 0.4]]]], np.float32))
    # class 1, errors in decreasing order .6, .3, .1 with g [1, 0, 1], G = 2: intersection [1, 1, 0],
    # union [2, 3, 3], J [1/2, 2/3, 1], steps [1/2, 1/6, 1/3] -> .3 + .05 + .1/3
    # class 0, g [0, 1, 0] in that order, G = 1: intersection [1, 0, 0], union [2, 2, 3],
    # J [1/2, 1, 1], steps [1/2, 1/2, 0] -> .3 + .15
    fg, bg = 0.6 / 2 + 0.3 / 6 + 0.1 / 3, 0.6 / 2 + 0.3 / 2
    assert fg == pytest.approx(0.383333, abs=1e-6)
    with tf.GradientTape() as tape:
        loss = lovasz_softmax(y, p)
    assert float(loss) == pytest.approx(fg, rel=1e-6)
    # the gradient is the step of each pixel's rank, signed by d|g - p|/dp
    np.testing.assert_allclose(
        tape.gradient(loss, p).numpy()[0, 0], [[0, -1 / 3], [0, 1 / 6], [0, -1 / 2]], rtol=1e-6, atol=1e-7
    )
    assert float(lovasz_softmax(y, p, include_background=True)) == pytest.approx((fg + bg) / 2, rel=1e-6)


def authors_lovasz_softmax_flat(probas, labels, classes="present"):
    """NumPy copy of Berman's PyTorch ``lovasz_softmax_flat`` (probas (P, C), labels (P,))."""
    losses = []
    for c in range(probas.shape[1]) if classes == "present" else classes:
        fg = (labels == c).astype(np.float64)
        if fg.sum() == 0:
            continue
        errors = np.abs(fg - probas[:, c])
        perm = np.argsort(-errors, kind="stable")
        fg_sorted = fg[perm]
        gts = fg_sorted.sum()
        jaccard = 1.0 - (gts - np.cumsum(fg_sorted)) / (gts + np.cumsum(1.0 - fg_sorted))
        jaccard[1:] = jaccard[1:] - jaccard[:-1]  # lovasz_grad
        losses.append(np.dot(errors[perm], jaccard))
    return np.mean(losses) if losses else 0.0


def test_lovasz_softmax_matches_the_authors_algorithm():
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 3, size=(3, 5, 4))  # four classes, class 3 absent
    logits = rng.normal(scale=2.0, size=(3, 5, 4, 4))
    y = np.eye(4, dtype=np.float32)[labels]
    probas, flat_labels = np_softmax(logits).reshape(-1, 4), labels.ravel()
    expected_all = authors_lovasz_softmax_flat(probas, flat_labels)
    expected_fg = authors_lovasz_softmax_flat(probas, flat_labels, classes=[1, 2, 3])
    assert float(lovasz_softmax(y, np_softmax(logits).astype(np.float32), include_background=True)) == (
        pytest.approx(expected_all, rel=1e-5)
    )
    assert float(lovasz_softmax(y, logits.astype(np.float32), from_logits=True)) == pytest.approx(expected_fg, rel=1e-5)
    assert value(LovaszSoftmax(from_logits=True), y, logits.astype(np.float32)) == pytest.approx(expected_fg, rel=1e-5)
    # only background in the batch: no foreground class present, loss 0
    background = np.eye(4, dtype=np.float32)[np.zeros((1, 2, 3), int)]
    assert float(lovasz_softmax(background, P4)) == 0.0


def test_keras_pooled_dice_by_hand():
    assert value(KerasPooledDice(), Y, P) == pytest.approx(POOLED_DICE, rel=1e-5)
    assert POOLED_DICE == pytest.approx(0.275)


@pytest.mark.parametrize("cls", ONE_HOT_LOSSES)
def test_perfect_prediction_is_zero(cls):
    assert value(cls(), Y, Y) == pytest.approx(0.0, abs=1e-5)


def test_sparse_perfect_prediction_is_zero():
    assert value(SparseCategoricalCrossentropy(), LABELS, Y) == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("cls", ALL_LOSSES)
def test_config_round_trip(cls):
    loss = cls(from_logits=True, class_weights=WEIGHTS if cls.supports_class_weights else None)
    again = cls.from_config(loss.get_config())
    assert again.get_config() == loss.get_config()
    assert type(again) is cls and again.from_logits is True
    y = LABELS if cls is SparseCategoricalCrossentropy else Y
    assert value(again, y, LOGITS) == pytest.approx(value(loss, y, LOGITS), rel=1e-7)


@pytest.mark.parametrize(
    ("loss", "other"),
    [
        (SoftDice(smooth=0.5, include_background=True), SoftDice()),
        (DiceCE(dice_weight=0.25, ce_weight=3.0, include_background=True), DiceCE()),
        (CategoricalFocal(gamma=0.5), CategoricalFocal()),
        (Tversky(alpha=0.7, beta=0.3, smooth=0.5, include_background=True), Tversky()),
        (FocalTversky(alpha=0.5, beta=0.5, gamma=2.0), FocalTversky()),
        (Jaccard(smooth=0.5, include_background=True), Jaccard()),
        (LogCoshDice(include_background=True), LogCoshDice()),
        (DiceFocal(dice_weight=0.25, focal_weight=3.0, gamma=1.0, include_background=True), DiceFocal()),
        (LovaszSoftmax(include_background=True), LovaszSoftmax()),
    ],
    ids=[
        "dice",
        "dice_ce",
        "focal",
        "tversky",
        "focal_tversky",
        "jaccard",
        "log_cosh_dice",
        "dice_focal",
        "lovasz_softmax",
    ],
)
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


def test_class_weights_scale_whole_dice_terms():
    # one foreground class: its rescaled weight is 1, so foreground-only Dice is unchanged
    assert value(SoftDice(class_weights=WEIGHTS), Y, P) == pytest.approx(1 - DICE_FG, rel=1e-5)
    assert value(SoftDice(class_weights=WEIGHTS, include_background=True), Y, P) == pytest.approx(DICE_ALL_W, rel=1e-5)
    # Dice + CE: per-pixel weights in the CE part, per-class weights in the Dice part
    assert value(DiceCE(class_weights=WEIGHTS), Y, P) == pytest.approx(CE_W + 1 - DICE_FG, rel=1e-5)
    assert value(DiceCE(class_weights=WEIGHTS, include_background=True), Y, P) == pytest.approx(
        CE_W + DICE_ALL_W, rel=1e-5
    )
    # the overlap losses the same way: [1, 3] -> [0.5, 1.5] with background
    assert value(Tversky(class_weights=WEIGHTS), Y, P) == pytest.approx(TVERSKY, rel=1e-5)
    assert value(Tversky(class_weights=WEIGHTS, include_background=True), Y, P) == pytest.approx(
        (0.5 * (1 - TVERSKY_BG) + 1.5 * (1 - TVERSKY_FG)) / 2, rel=1e-5
    )
    assert value(LogCoshDice(class_weights=WEIGHTS, include_background=True), Y, P) == pytest.approx(
        math.log(math.cosh(DICE_ALL_W)), rel=1e-5
    )


def test_uniform_class_weights_change_nothing():
    for cls in (
        CategoricalCrossentropy,
        SoftDice,
        CategoricalFocal,
        Tversky,
        FocalTversky,
        Jaccard,
        LogCoshDice,
        DiceFocal,
    ):
        assert value(cls(class_weights=[1.0, 1.0]), Y, P) == pytest.approx(value(cls(), Y, P), rel=1e-6)


@pytest.mark.parametrize(
    "cls",
    [CategoricalCrossentropy, SoftDice, DiceCE, CategoricalFocal, KerasPooledDice, GeneralizedDice, DiceFocal]
    + OVERLAP_LOSSES,
)
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
    for cls in ALL_LOSSES:
        assert isinstance(cls(), keras.losses.Loss)
    assert SparseCategoricalCrossentropy.sparse_labels is True
    assert not any(cls.sparse_labels for cls in ONE_HOT_LOSSES)


def test_loss_traits():
    assert {cls for cls in ALL_LOSSES if cls.per_channel} == {BinaryCrossentropy}
    assert {cls for cls in ALL_LOSSES if not cls.supports_class_weights} == {
        GeneralizedDice,
        KerasPooledDice,
        LovaszSoftmax,
    }
    assert {cls for cls in ALL_LOSSES if cls.family == "cross_entropy"} == {
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
        BinaryCrossentropy,
        CategoricalFocal,
    }
    assert {cls for cls in ALL_LOSSES if cls.family == "dice"} == {
        SoftDice,
        GeneralizedDice,
        KerasPooledDice,
        DiceCE,
        DiceFocal,
        Tversky,
        FocalTversky,
        Jaccard,
        LogCoshDice,
        LovaszSoftmax,
    }
    for cls in ALL_LOSSES:  # the instances agree with the classes
        loss = cls()
        assert (loss.sparse_labels, loss.per_channel, loss.supports_class_weights, loss.family) == (
            cls.sparse_labels,
            cls.per_channel,
            cls.supports_class_weights,
            cls.family,
        )


@pytest.mark.parametrize(
    ("cls", "fix"),
    [
        (GeneralizedDice, "use class_weighting=none"),
        (KerasPooledDice, "use class_weighting=none or loss=dice"),
        (LovaszSoftmax, "use class_weighting=none"),
    ],
)
def test_losses_without_class_weights_refuse_them(cls, fix):
    with pytest.raises(InvalidPairing) as caught:
        cls(class_weights=[0.5, 1.0, 2.0, 4.0])
    message = str(caught.value)
    assert "\n" not in message and "takes no class weights" in message and message.endswith(fix)
    assert cls(class_weights=None).class_weights is None  # Hydra passes None: fine


# --- hand values: per-class Dice weights, generalized Dice, focal from logits ---------------

# one 1x2x3 image, four classes; class 3 is absent
LABELS4 = np.array([[[0, 0, 1], [1, 1, 2]]])
Y4 = np.eye(4, dtype=np.float32)[LABELS4]
P4 = np.array(
    [
        [
            [[0.7, 0.1, 0.1, 0.1], [0.4, 0.2, 0.2, 0.2], [0.1, 0.6, 0.2, 0.1]],
            [[0.2, 0.5, 0.1, 0.2], [0.1, 0.8, 0.1, 0.0], [0.1, 0.1, 0.5, 0.3]],
        ]
    ],
    np.float32,
)
S = 1e-5
# per class: tp = sum of the true-class probabilities, predicted sum P, label count G
TP4, P4_SUM, G4 = [1.1, 1.9, 0.5, 0.0], [1.6, 2.3, 1.2, 0.9], [2, 3, 1, 0]
D4 = [(2 * tp + S) / (p + g + S) for tp, p, g in zip(TP4, P4_SUM, G4, strict=True)]  # 2tp+fp+fn = P + G
W4 = [0.3, 2.0, 1.5, 4.0]  # foreground mean 2.5 -> rescaled [0.8, 0.6, 1.6]


def test_hand_sums_of_the_four_class_case():
    axes = (0, 1, 2)
    np.testing.assert_allclose(np.sum(Y4 * P4, axis=axes), TP4, atol=1e-6)
    np.testing.assert_allclose(np.sum(P4, axis=axes), P4_SUM, atol=1e-6)
    np.testing.assert_allclose(np.sum(Y4, axis=axes), G4)


def test_weighted_soft_dice_is_the_weighted_mean_of_class_terms():
    expected = (0.8 * (1 - D4[1]) + 0.6 * (1 - D4[2]) + 1.6 * (1 - D4[3])) / 3
    assert float(soft_dice(Y4, P4, class_weights=W4)) == pytest.approx(expected, rel=1e-5)
    assert float(soft_dice(Y4, P4)) == pytest.approx(sum(1 - d for d in D4[1:]) / 3, rel=1e-5)
    # with background the four weights average 1: [0.3, 2, 1.5, 4] / 1.95
    expected_all = sum(w / 1.95 * (1 - d) for w, d in zip(W4, D4, strict=True)) / 4
    assert float(soft_dice(Y4, P4, include_background=True, class_weights=W4)) == pytest.approx(expected_all, rel=1e-5)
    # only the ratios matter
    assert float(soft_dice(Y4, P4, class_weights=np.multiply(W4, 7.0))) == pytest.approx(expected, rel=1e-5)


def test_weighted_overlap_losses_are_weighted_means_of_class_terms():
    fg_w = [0.8, 0.6, 1.6]  # W4's foreground weights, rescaled
    FP4 = [p - tp for p, tp in zip(P4_SUM, TP4, strict=True)]
    FN4 = [g - tp for g, tp in zip(G4, TP4, strict=True)]
    ti = [(tp + S) / (tp + 0.3 * fp + 0.7 * fn + S) for tp, fp, fn in zip(TP4, FP4, FN4, strict=True)]
    ji = [(tp + S) / (tp + fp + fn + S) for tp, fp, fn in zip(TP4, FP4, FN4, strict=True)]

    def weighted(terms):
        return sum(w * t for w, t in zip(fg_w, terms[1:], strict=True)) / 3

    assert float(tversky(Y4, P4, class_weights=W4)) == pytest.approx(weighted([1 - t for t in ti]), rel=1e-5)
    assert float(focal_tversky(Y4, P4, class_weights=W4)) == pytest.approx(
        weighted([(1 - t) ** 0.75 for t in ti]), rel=1e-5
    )
    assert float(jaccard(Y4, P4, class_weights=W4)) == pytest.approx(weighted([1 - j for j in ji]), rel=1e-5)
    assert float(log_cosh_dice(Y4, P4, class_weights=W4)) == pytest.approx(
        math.log(math.cosh(weighted([1 - d for d in D4]))), rel=1e-5
    )
    focal_w = float(np.mean(categorical_focal(Y4, P4, class_weights=W4)))
    assert float(dice_focal(Y4, P4, class_weights=W4)) == pytest.approx(
        focal_w + weighted([1 - d for d in D4]), rel=1e-5
    )
    # with background the four weights average 1: [0.3, 2, 1.5, 4] / 1.95
    assert float(tversky(Y4, P4, include_background=True, class_weights=W4)) == pytest.approx(
        sum(w / 1.95 * (1 - t) for w, t in zip(W4, ti, strict=True)) / 4, rel=1e-5
    )
    # the absent class 3 (tp 0, fp .9): Tversky index s / (.27 + s), Jaccard s / (.9 + s), both ~0
    assert ti[3] < 1e-4 and ji[3] < 1e-4


def test_generalized_dice_by_hand_caps_the_weight_of_an_absent_class():
    # foreground weights 1/G^2: RV 1/9, myocardium 1, LV absent -> the largest present weight, 1
    num = 2 * (1.9 / 9 + 0.5 * 1 + 0.0 * 1)
    den = (3 + 2.3) / 9 + (1 + 1.2) * 1 + (0 + 0.9) * 1
    expected = 1 - (num + S) / (den + S)
    assert expected == pytest.approx(0.614456, abs=1e-6)
    assert float(generalized_dice(Y4, P4)) == pytest.approx(expected, rel=1e-5)
    assert value(GeneralizedDice(), Y4, P4) == pytest.approx(expected, rel=1e-5)
    # weight 0 for the absent class instead would ignore its false positives
    assert expected != pytest.approx(1 - (num + S) / (den - 0.9 + S), abs=0.05)
    # with background (G 2 -> 1/4); the cap is still the largest present weight, 1
    num_all = 2 * (1.1 / 4 + 1.9 / 9 + 0.5)
    den_all = (2 + 1.6) / 4 + (3 + 2.3) / 9 + (1 + 1.2) + 0.9
    assert float(generalized_dice(Y4, P4, include_background=True)) == pytest.approx(
        1 - (num_all + S) / (den_all + S), rel=1e-5
    )


def test_generalized_dice_without_any_foreground_is_zero():
    background = np.eye(4, dtype=np.float32)[np.zeros((1, 2, 3), int)]
    assert float(generalized_dice(background, P4)) == pytest.approx(0.0, abs=1e-6)


def test_focal_from_logits_uses_log_softmax():
    z = tf.Variable([[20.0, 0.0]])
    with tf.GradientTape() as tape:
        loss = categorical_focal([[0.0, 1.0]], z, from_logits=True, gamma=2.0)[0]
    assert float(loss) == pytest.approx(20.0, rel=1e-6)  # -log_softmax = 20.000000002, (1 - p)^2 ~ 1
    np.testing.assert_allclose(tape.gradient(loss, z).numpy(), [[1.0, -1.0]], rtol=1e-5)


# --- extreme logits: value and gradient against NumPy float64 -------------------------------

LABELS_X = np.array([[[0, 1], [2, 3]], [[0, 0], [1, 2]]])  # (2, 2, 2), four classes, counts 3 2 2 1
Y_X = np.eye(4)[LABELS_X]
# image 0: true class +30, others -30 (confidently right); image 1: true -20, others +20 (wrong)
Z_X = np.where(Y_X > 0, 30.0, -30.0)
Z_X[1] = np.where(Y_X[1] > 0, -20.0, 20.0)
N_PIX = LABELS_X.size


def log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def through_softmax(p, grad_p):
    """dL/dz from dL/dp for p = softmax(z)."""
    return p * (grad_p - np.sum(p * grad_p, axis=-1, keepdims=True))


def pixel_w(y, weights):
    return np.ones(y.shape[:-1]) if weights is None else y @ np.asarray(weights, np.float64)


def ref_ce(y, z, class_weights=None):
    logp, w = log_softmax(z), pixel_w(y, class_weights)
    return np.mean(-w * np.sum(y * logp, -1)), w[..., None] * (np.exp(logp) - y) / w.size


def ref_bce(y, z, class_weights=None):
    w = pixel_w(y, class_weights)[..., None]
    per = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return np.mean(w * per), w * (1 / (1 + np.exp(-z)) - y) / per.size


def ref_focal(y, z, class_weights=None, gamma=2.0):
    logp, w = log_softmax(z), pixel_w(y, class_weights)
    logpt = np.sum(y * logp, -1)
    pt, rest = np.exp(logpt), -np.expm1(logpt)  # rest = 1 - pt, accurately
    value = np.mean(-w * rest**gamma * logpt)
    slope = gamma * rest ** max(gamma - 1, 0) * pt * logpt * (gamma > 0) - rest**gamma
    return value, (w * slope / w.size)[..., None] * (y - np.exp(logp))


def ref_dice(y, z, class_weights=None, include_background=False, smooth=1e-5):
    p = np.exp(log_softmax(z))
    axes = (0, 1, 2)
    num, den = 2 * np.sum(y * p, axes) + smooth, np.sum(p + y, axes) + smooth
    keep = np.arange(4) >= (0 if include_background else 1)
    w = np.ones(4) if class_weights is None else np.asarray(class_weights, np.float64)
    w = np.where(keep, w / w[keep].mean(), 0.0) / keep.sum()
    return np.sum(w * (1 - num / den)), through_softmax(p, -w * (2 * y / den - num / den**2))


def ref_generalized_dice(y, z, include_background=False, smooth=1e-5):
    p = np.exp(log_softmax(z))
    axes = (0, 1, 2)
    g = np.sum(y, axes)
    w = np.where(g > 0, 1 / np.maximum(g, 1) ** 2, 0.0)
    w = np.where(g > 0, w, w.max()) * (np.arange(4) >= (0 if include_background else 1))
    num = 2 * np.sum(w * np.sum(y * p, axes)) + smooth
    den = np.sum(w * np.sum(p + y, axes)) + smooth
    return 1 - num / den, through_softmax(p, -w * (2 * y / den - num / den**2))


def ref_keras_dice(y, z):
    p = np.exp(log_softmax(z))
    inter, total = np.sum(y * p), np.sum(y) + np.sum(p) + 1e-7
    return 1 - 2 * inter / total, through_softmax(p, -(2 * y / total - 2 * inter / total**2))


def ref_dice_ce(y, z, class_weights=None):
    (ce, d_ce), (dice, d_dice) = ref_ce(y, z, class_weights), ref_dice(y, z, class_weights)
    return ce + dice, d_ce + d_dice


def ref_tversky(y, z, class_weights=None, include_background=False, alpha=0.3, beta=0.7, power=1.0, smooth=1e-5):
    """sum_c w_c (1 - TI_c)^power / n and its gradient (power 1: Tversky, 1/gamma: focal Tversky)."""
    p = np.exp(log_softmax(z))
    axes = (0, 1, 2)
    tp, fp, fn = np.sum(y * p, axes), np.sum((1 - y) * p, axes), np.sum(y * (1 - p), axes)
    num, den = tp + smooth, tp + alpha * fp + beta * fn + smooth
    keep = np.arange(4) >= (0 if include_background else 1)
    w = np.ones(4) if class_weights is None else np.asarray(class_weights, np.float64)
    w = np.where(keep, w / w[keep].mean(), 0.0) / keep.sum()
    gap = 1 - num / den
    d_index = y / den - num / den**2 * (y * (1 - beta) + alpha * (1 - y))  # dTI_c / dp
    return np.sum(w * gap**power), through_softmax(p, -w * power * gap ** (power - 1) * d_index)


def ref_log_cosh_dice(y, z, class_weights=None):
    dice, d_dice = ref_dice(y, z, class_weights)
    return np.log(np.cosh(dice)), np.tanh(dice) * d_dice


def ref_dice_focal(y, z, class_weights=None):
    (focal, d_focal), (dice, d_dice) = ref_focal(y, z, class_weights), ref_dice(y, z, class_weights)
    return focal + dice, d_focal + d_dice


def ref_lovasz(y, z, include_background=False):
    """The authors' algorithm per present class; the gradient puts each sorted step on its pixel."""
    p = np.exp(log_softmax(z)).reshape(-1, 4)
    g = y.reshape(-1, 4)
    value, grad_p, present = 0.0, np.zeros_like(p), 0
    for c in range(0 if include_background else 1, 4):
        if g[:, c].sum() == 0:
            continue
        present += 1
        errors = np.abs(g[:, c] - p[:, c])
        perm = np.argsort(-errors, kind="stable")  # equal errors in pixel order
        g_sorted = g[perm, c]
        jaccard = 1 - (g_sorted.sum() - np.cumsum(g_sorted)) / (g_sorted.sum() + np.cumsum(1 - g_sorted))
        steps = np.diff(jaccard, prepend=0.0)
        value += np.dot(errors[perm], steps)
        grad_p[perm, c] = steps * np.sign(p[perm, c] - g_sorted)
    return value / present, through_softmax(p, grad_p / present).reshape(y.shape)


EXTREME_CASES = [
    (CategoricalCrossentropy, {}, ref_ce),
    (CategoricalCrossentropy, {"class_weights": W4}, ref_ce),
    (SparseCategoricalCrossentropy, {}, ref_ce),
    (SparseCategoricalCrossentropy, {"class_weights": W4}, ref_ce),
    (BinaryCrossentropy, {}, ref_bce),
    (BinaryCrossentropy, {"class_weights": W4}, ref_bce),
    (CategoricalFocal, {}, ref_focal),
    (CategoricalFocal, {"class_weights": W4}, ref_focal),
    (CategoricalFocal, {"gamma": 0.0}, ref_ce),  # gamma 0 is categorical CE
    (CategoricalFocal, {"gamma": 0.5}, lambda y, z: ref_focal(y, z, gamma=0.5)),
    (SoftDice, {}, ref_dice),
    (SoftDice, {"class_weights": W4}, ref_dice),
    (
        SoftDice,
        {"class_weights": W4, "include_background": True},
        lambda y, z, **k: ref_dice(y, z, include_background=True, **k),
    ),
    (GeneralizedDice, {}, ref_generalized_dice),
    (GeneralizedDice, {"include_background": True}, lambda y, z: ref_generalized_dice(y, z, include_background=True)),
    (KerasPooledDice, {}, ref_keras_dice),
    (DiceCE, {}, ref_dice_ce),
    (DiceCE, {"class_weights": W4}, ref_dice_ce),
    (Tversky, {}, ref_tversky),
    (Tversky, {"class_weights": W4}, ref_tversky),
    (
        Tversky,
        {"alpha": 0.7, "beta": 0.3, "include_background": True},
        lambda y, z: ref_tversky(y, z, include_background=True, alpha=0.7, beta=0.3),
    ),
    (FocalTversky, {}, lambda y, z, **k: ref_tversky(y, z, power=0.75, **k)),
    (FocalTversky, {"class_weights": W4}, lambda y, z, **k: ref_tversky(y, z, power=0.75, **k)),
    (
        FocalTversky,
        {"gamma": 0.5, "include_background": True},
        lambda y, z: ref_tversky(y, z, include_background=True, power=2.0),
    ),
    (Jaccard, {}, lambda y, z, **k: ref_tversky(y, z, alpha=1.0, beta=1.0, **k)),
    (Jaccard, {"class_weights": W4}, lambda y, z, **k: ref_tversky(y, z, alpha=1.0, beta=1.0, **k)),
    (LogCoshDice, {}, ref_log_cosh_dice),
    (LogCoshDice, {"class_weights": W4}, ref_log_cosh_dice),
    (DiceFocal, {}, ref_dice_focal),
    (DiceFocal, {"class_weights": W4}, ref_dice_focal),
    (LovaszSoftmax, {}, ref_lovasz),
    (LovaszSoftmax, {"include_background": True}, lambda y, z: ref_lovasz(y, z, include_background=True)),
]


@pytest.mark.parametrize(
    ("cls", "options", "reference"), EXTREME_CASES, ids=lambda c: c.__name__ if isinstance(c, type) else ""
)
def test_extreme_logits_value_and_gradient_match_float64(cls, options, reference):
    assert all(cls in {case[0] for case in EXTREME_CASES} for cls in ALL_LOSSES)
    loss = cls(from_logits=True, **options)
    y = LABELS_X if cls.sparse_labels else Y_X.astype(np.float32)
    z = tf.Variable(Z_X.astype(np.float32))
    with tf.GradientTape() as tape:
        got = loss(y, z)
    grad = tape.gradient(got, z).numpy()
    weights = {"class_weights": options["class_weights"]} if "class_weights" in options else {}
    expected, expected_grad = reference(Y_X, Z_X, **weights)
    assert np.isfinite(float(got)) and np.isfinite(grad).all()
    assert float(got) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    # atol: float32 rounding of O(1) terms (Keras's pooled Dice has almost no gradient here at all:
    # it pushes the three wrong classes equally, and softmax cancels an equal push)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-4, atol=1e-7)
