"""`lossbench.trial.losses.overlap`: Tversky, focal Tversky, Jaccard, log-cosh Dice, Lovasz by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lossbench.trial.losses.overlap import focal_tversky, jaccard, log_cosh_dice, lovasz_softmax, tversky

Y = np.array([[[[1.0, 0.0], [0.0, 1.0]]]], np.float32)
P = np.array([[[[1.0, 0.0], [0.5, 0.5]]]], np.float32)


def test_a_perfect_prediction_costs_nothing():
    for fn in (tversky, focal_tversky, jaccard, log_cosh_dice, lovasz_softmax):
        assert float(fn(Y, Y)) == pytest.approx(0.0, abs=1e-4), fn.__name__


def test_jaccard_and_tversky_by_hand_on_the_foreground():
    # class 1: TP 0.5, FP 0, FN 0.5 -> IoU 0.5/1.0
    assert float(jaccard(Y, P, smooth=0.0)) == pytest.approx(0.5, rel=1e-4)
    # alpha weights false positives: 0 here, so the index is 0.5 / (0.5 + beta * 0.5)
    assert float(tversky(Y, P, alpha=0.3, beta=0.7, smooth=0.0)) == pytest.approx(1 - 0.5 / 0.85, rel=1e-4)


def test_log_cosh_dice_is_log_cosh_of_the_dice_loss():
    assert float(log_cosh_dice(Y, P, smooth=0.0)) == pytest.approx(math.log(math.cosh(1 / 3)), rel=1e-4)
