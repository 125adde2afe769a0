"""Dice, per-subject Dice and the accuracy thread 1 saw, on label maps small enough to count by hand."""

import math

import numpy as np
import pytest

from lossbench.data import VOID
from lossbench.trial.metrics import (
    clipped_share,
    dice_per_class,
    foreground_dice,
    iou_per_class,
    predicted_labels,
    reported_accuracy,
    scored_classes,
    subject_dice,
    summarise,
)


def test_dice_per_class_by_hand():
    truth = np.array([[[0, 1], [1, 2]]])
    pred = np.array([[[0, 1], [2, 2]]])
    dice = dice_per_class(truth, pred, 4)
    # class 0: 2*1/(1+1); class 1: 2*1/(2+1); class 2: 2*1/(1+2); class 3 in neither -> NaN
    np.testing.assert_allclose(dice[:3], [1.0, 2 / 3, 2 / 3])
    assert math.isnan(dice[3])


def test_dice_is_zero_when_a_class_is_missed_or_invented():
    truth = np.array([[[0, 1], [0, 0]]])
    pred = np.array([[[0, 0], [0, 2]]])
    dice = dice_per_class(truth, pred, 3)
    assert dice[1] == 0.0 and dice[2] == 0.0  # missed RV, invented myocardium
    assert dice[0] == pytest.approx(2 * 2 / (3 + 3))


@pytest.fixture
def two_subjects():
    # subject a: perfect; subject b misses its one RV pixel; class 2 only in a, class 3 nowhere
    truth = np.array([[[0, 1], [2, 1]], [[0, 0], [0, 1]]])
    pred = np.array([[[0, 1], [2, 1]], [[0, 0], [0, 0]]])
    return truth, pred, np.array(["a", "b"])


def test_subject_dice_averages_per_subject(two_subjects):
    truth, pred, subjects = two_subjects
    dice = subject_dice(truth, pred, subjects, 4)
    assert dice[0] == pytest.approx((1.0 + 6 / 7) / 2)
    assert dice[1] == pytest.approx((1.0 + 0.0) / 2)  # per subject: 1 and 0
    assert dice[2] == pytest.approx(1.0)  # NaN in b is skipped, not counted as 0
    assert math.isnan(dice[3])
    pooled = dice_per_class(truth, pred, 4)
    assert pooled[1] == pytest.approx(2 * 2 / (3 + 2))  # pooled over both: a different number


def test_foreground_dice_ignores_background_and_nan():
    assert foreground_dice(np.array([1.0, 0.5, np.nan, 0.0])) == pytest.approx(0.25)
    assert foreground_dice(np.array([1.0, np.nan, np.nan])) == 0.0
    assert foreground_dice(np.array([0.0, 0.6, 0.8, 1.0])) == pytest.approx(0.8)


def test_predicted_labels_is_argmax_and_nan_counts_as_background():
    outputs = np.array([[[[0.1, 0.7, 0.2], [np.nan, np.nan, np.nan]]]])
    np.testing.assert_array_equal(predicted_labels(outputs), [[[1, 0]]])
    assert predicted_labels(outputs).dtype == np.uint8


@pytest.fixture
def all_background():
    """4x4 truth with background share b = 12/16 and an all-background prediction at C = 4."""
    truth = np.zeros((1, 4, 4), np.int64)
    truth[0, 0, :2], truth[0, 1, 0], truth[0, 2, 0] = 1, 2, 3
    outputs = np.broadcast_to(np.array([0.7, 0.1, 0.1, 0.1], np.float32), (1, 4, 4, 4)).copy()
    return truth, outputs, 12 / 16


def test_reported_accuracy_of_all_background_with_binary_metric(all_background):
    truth, outputs, b = all_background
    C = 4
    expected = (C - 2) / C + 2 * b / C
    assert expected == pytest.approx(0.875)
    assert reported_accuracy(truth, outputs, binary=True, logits_out=False) == pytest.approx(expected)


def test_reported_accuracy_of_all_background_with_argmax_metric(all_background):
    truth, outputs, b = all_background
    assert reported_accuracy(truth, outputs, binary=False, logits_out=False) == pytest.approx(b)


def test_binary_accuracy_thresholds_logits_at_zero(all_background):
    truth, _, b = all_background
    logits = np.broadcast_to(np.array([0.3, -1.0, -1.0, -1.0], np.float32), (1, 4, 4, 4)).copy()
    # as logits background is on (0.3 > 0): 0.875; read as probabilities it is off (0.3 < 0.5): 3/4
    assert reported_accuracy(truth, logits, binary=True, logits_out=True) == pytest.approx(0.5 + b / 2)
    assert reported_accuracy(truth, logits, binary=True, logits_out=False) == pytest.approx(0.75)


def test_binary_accuracy_of_all_sigmoids_off_is_c_minus_1_over_c():
    truth = np.random.default_rng(0).integers(0, 7, (2, 5, 5))
    outputs = np.full((2, 5, 5, 7), 0.1, np.float32)
    assert reported_accuracy(truth, outputs, binary=True, logits_out=False) == pytest.approx(6 / 7)


def test_summarise_reports_every_figure(all_background):
    truth, outputs, b = all_background
    figures = summarise(truth, outputs, 4, binary=True, logits_out=False)
    assert set(figures) == {
        "foreground_dice",
        "mean_iou",
        "per_class_dice",
        "per_class_iou",
        "pixel_accuracy",
        "reported_accuracy",
        "predicted_background_share",
        "clipped_share",
    }
    assert figures["foreground_dice"] == 0.0
    assert figures["pixel_accuracy"] == pytest.approx(b)
    assert figures["reported_accuracy"] == pytest.approx(0.875)
    assert figures["predicted_background_share"] == 1.0
    assert figures["per_class_dice"][0] == pytest.approx(2 * 12 / (12 + 16))


def test_summarise_with_subjects_uses_subject_dice(two_subjects):
    truth, pred, subjects = two_subjects
    outputs = np.eye(4, dtype=np.float32)[pred]
    figures = summarise(truth, outputs, 4, binary=False, logits_out=False, subjects=subjects)
    assert figures["foreground_dice"] == pytest.approx((0.5 + 1.0) / 2)
    assert figures["predicted_background_share"] == pytest.approx(5 / 8)


def test_saturated_sigmoid_outputs_tie_and_argmax_takes_the_lowest_class():
    # why identical training (logits) can still give different Dice for sigmoid outputs (report (d))
    logits = np.array([[[[-5.0, 18.0, 25.0, 3.0]]]], np.float32)
    probs = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    assert probs[0, 0, 0, 1] == probs[0, 0, 0, 2] == 1.0
    assert predicted_labels(logits)[0, 0, 0] == 2 and predicted_labels(probs)[0, 0, 0] == 1


def test_clipped_share_counts_true_class_probabilities_at_kerass_epsilon():
    truth = np.array([[0, 1, 2, 1]])
    probs = np.array([[[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.1, 0.1, 0.8], [0.5, 0.5, 0.0]]], np.float32)
    assert clipped_share(truth, probs, binary=False, logits_out=False) == pytest.approx(0.25)  # pixel 2 only
    logits = np.array([[[30.0, -30.0, 0.0], [30.0, -30.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]])
    assert clipped_share(truth, logits, binary=False, logits_out=True) == pytest.approx(0.25)
    # binary CE: channel entries clipped on the wrong side (label 1 at p = 0, label 0 at p = 1)
    assert clipped_share(truth, probs, binary=True, logits_out=False) == pytest.approx(2 / 12)


def _scene(seed=0, void_share=0.2, classes=5):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, (3, 8, 8)).astype(np.uint8)
    truth[rng.random(truth.shape) < void_share] = VOID
    outputs = rng.random((3, 8, 8, classes)).astype(np.float32)
    return truth, outputs


def test_void_pixels_count_in_no_figure():
    """Every figure with void pixels equals the figure over the labelled pixels alone (flattened)."""
    truth, outputs = _scene()
    kept = truth != VOID
    with_void = summarise(truth, outputs, 5, binary=False, logits_out=False)
    alone = summarise(truth[kept][None, None], outputs[kept][None, None], 5, binary=False, logits_out=False)
    for key in ("foreground_dice", "mean_iou", "pixel_accuracy", "reported_accuracy", "predicted_background_share"):
        assert with_void[key] == pytest.approx(alone[key]), key
    np.testing.assert_allclose(with_void["per_class_iou"], alone["per_class_iou"])
    binary = summarise(truth, outputs, 5, binary=True, logits_out=False)
    assert binary["reported_accuracy"] == pytest.approx(
        summarise(truth[kept][None, None], outputs[kept][None, None], 5, binary=True, logits_out=False)[
            "reported_accuracy"
        ]
    )


def test_iou_matches_keras_mean_iou_with_ignore_class():
    """Keras's own void handling (``ignore_class``) on MeanIoU gives the mean of `iou_per_class` (docs/facts.md)."""
    import keras

    truth, outputs = _scene(seed=1)
    pred = predicted_labels(outputs)
    keras_iou = keras.metrics.MeanIoU(num_classes=5, ignore_class=VOID)
    keras_iou.update_state(truth.astype("int32"), pred.astype("int32"))
    ours = iou_per_class(truth, pred, 5)
    assert float(keras_iou.result()) == pytest.approx(np.nanmean(ours), abs=1e-6)
    assert summarise(truth, outputs, 5, False, False, background=None)["mean_iou"] == pytest.approx(np.nanmean(ours))


def test_without_background_every_class_counts():
    truth, outputs = _scene(seed=2, void_share=0.0)
    pred = predicted_labels(outputs)
    per_class = dice_per_class(truth, pred, 5)
    figures = summarise(truth, outputs, 5, False, False, background=None)
    assert figures["foreground_dice"] == pytest.approx(np.mean(per_class))  # the mean over all 5 classes
    assert "predicted_background_share" not in figures
    with_bg = summarise(truth, outputs, 5, False, False)
    assert with_bg["foreground_dice"] == pytest.approx(np.mean(per_class[1:]))
    assert scored_classes(4) == [1, 2, 3] and scored_classes(4, None) == [0, 1, 2, 3]


def test_iou_by_hand():
    truth, pred = np.array([[0, 0, 1, 1]]), np.array([[0, 1, 1, 1]])
    # class 0: inter 1, union 2; class 1: inter 2, union 3
    np.testing.assert_allclose(iou_per_class(truth, pred, 2), [0.5, 2 / 3])
    np.testing.assert_allclose(dice_per_class(truth, pred, 2), [2 / 3, 0.8])
