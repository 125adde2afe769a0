"""`lossbench.trial.losses.cross_entropy`: the cross-entropies by hand, weighted and with void pixels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lossbench.trial.losses.cross_entropy import (
    binary_crossentropy,
    categorical_crossentropy,
    categorical_focal,
    sparse_categorical_crossentropy,
)

Y = np.array([[[[1.0, 0.0], [0.0, 1.0]]]], np.float32)
P = np.array([[[[0.8, 0.2], [0.5, 0.5]]]], np.float32)


def test_categorical_and_sparse_agree_by_hand():
    per_pixel = np.asarray(categorical_crossentropy(Y, P))
    np.testing.assert_allclose(per_pixel, [[[-math.log(0.8), math.log(2)]]], rtol=1e-5)
    np.testing.assert_allclose(
        np.asarray(sparse_categorical_crossentropy(np.array([[[0, 1]]]), P)), per_pixel, rtol=1e-5
    )


def test_class_weights_scale_each_pixel_by_its_class():
    weighted = np.asarray(categorical_crossentropy(Y, P, class_weights=[1.0, 3.0]))
    np.testing.assert_allclose(weighted, [[[-math.log(0.8), 3 * math.log(2)]]], rtol=1e-5)


def test_binary_is_the_mean_over_channels():
    value = np.asarray(binary_crossentropy(Y, P))
    expected = (-math.log(0.8) - math.log(0.8)) / 2
    assert value[0, 0, 0] == pytest.approx(expected, rel=1e-4)


def test_focal_with_gamma_zero_is_the_cross_entropy():
    np.testing.assert_allclose(
        np.asarray(categorical_focal(Y, P, gamma=0.0)), np.asarray(categorical_crossentropy(Y, P)), rtol=1e-5
    )
