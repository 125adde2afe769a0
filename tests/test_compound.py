"""`lossbench.trial.losses.compound`: Dice + CE and Dice + focal as weighted sums of their parts."""

from __future__ import annotations

import numpy as np
import pytest

from lossbench.trial.losses.compound import dice_ce, dice_focal
from lossbench.trial.losses.cross_entropy import categorical_crossentropy, categorical_focal
from lossbench.trial.losses.dice import soft_dice

Y = np.array([[[[1.0, 0.0], [0.0, 1.0]]]], np.float32)
P = np.array([[[[0.9, 0.1], [0.4, 0.6]]]], np.float32)


def test_dice_ce_is_the_weighted_sum_of_its_parts():
    ce, dice = float(np.mean(categorical_crossentropy(Y, P))), float(soft_dice(Y, P))
    assert float(dice_ce(Y, P, dice_weight=2.0, ce_weight=0.5)) == pytest.approx(0.5 * ce + 2.0 * dice, rel=1e-5)


def test_dice_focal_is_the_weighted_sum_of_its_parts():
    focal, dice = float(np.mean(categorical_focal(Y, P))), float(soft_dice(Y, P))
    assert float(dice_focal(Y, P)) == pytest.approx(focal + dice, rel=1e-4)
