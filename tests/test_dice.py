"""`lossbench.trial.losses.dice`: soft, generalized and Keras's pooled Dice by hand."""

from __future__ import annotations

import numpy as np
import pytest

from lossbench.trial.losses.dice import generalized_dice, keras_pooled_dice, soft_dice

Y = np.array([[[[1.0, 0.0], [0.0, 1.0]]]], np.float32)
P = np.array([[[[1.0, 0.0], [0.5, 0.5]]]], np.float32)


def test_soft_dice_by_hand_leaves_out_the_background():
    # class 1: 2 * 0.5 / (1 + 0.5) = 2/3, so the loss is 1/3
    assert float(soft_dice(Y, P, smooth=0.0)) == pytest.approx(1 / 3, rel=1e-5)
    assert float(soft_dice(Y, Y)) == pytest.approx(0.0, abs=1e-5)


def test_generalized_dice_of_a_perfect_prediction_is_zero():
    assert float(generalized_dice(Y, Y)) == pytest.approx(0.0, abs=1e-4)
    assert float(generalized_dice(Y, P)) > 0


def test_keras_pooled_dice_pools_every_class():
    # pooled: 2 * (1 + 0.5) / (2 + 2) = 0.75
    assert float(keras_pooled_dice(Y, P)) == pytest.approx(0.25, rel=1e-4)
