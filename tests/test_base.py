"""`lossbench.trial.losses.base`: what every lossbench loss shares (options, refusals, config, void pixels)."""

from __future__ import annotations

import numpy as np
import pytest

from lossbench.errors import InvalidPairing
from lossbench.trial.losses import CategoricalCrossentropy, SoftDice
from lossbench.trial.losses.base import SegmentationLoss, valid_pixels
from lossbench.trial.losses.dice import KerasPooledDice


def test_valid_pixels_mark_the_labelled_ones():
    np.testing.assert_array_equal(np.asarray(valid_pixels([[3, 255, 0]], 255, sparse=True)), [[1.0, 0.0, 1.0]])
    assert valid_pixels([[0, 1]], None) is None


def test_an_unknown_option_names_the_known_ones():
    with pytest.raises(TypeError, match="SoftDice takes no option 'gama'; its options: "):
        SoftDice(gama=2)


def test_a_loss_without_class_weights_or_void_refuses_them_in_one_line():
    with pytest.raises(InvalidPairing) as error:
        KerasPooledDice(class_weights=[1.0, 2.0])
    assert "\n" not in str(error.value) and " - " in str(error.value)
    with pytest.raises(InvalidPairing):
        KerasPooledDice(ignore_index=255)


def test_options_read_as_attributes_and_the_config_round_trips():
    loss = SoftDice(smooth=0.5, class_weights=[1.0, 2.0, 3.0], ignore_index=255)
    assert loss.smooth == 0.5 and isinstance(loss, SegmentationLoss)
    again = SoftDice.from_config(loss.get_config())
    assert again.get_config() == loss.get_config() and again.get_config()["dtype"] == "float32"
    assert CategoricalCrossentropy().default_name() == "categorical_crossentropy"
