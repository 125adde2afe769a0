"""The labels as the loss sees them: targets (reshape pitfall), encodings, chance/prior levels."""

from __future__ import annotations

import math

import numpy as np
from omegaconf import OmegaConf

from lossbench.trial.losses import BinaryCrossentropy, CategoricalCrossentropy
from lossbench.trial.targets import as_targets, encode, label_encoding, levels


def test_reshape_mismatch_trains_against_transposed_masks():
    labels = np.arange(2 * 3 * 3).reshape(2, 3, 3) % 4
    cfg = OmegaConf.create({"data": {"reshape_mismatch": True}})
    np.testing.assert_array_equal(as_targets(labels, cfg), labels.transpose(0, 2, 1))
    cfg.data.reshape_mismatch = False
    np.testing.assert_array_equal(as_targets(labels, cfg), labels)


def test_levels_for_categorical_and_binary_ce():
    labels = np.zeros((2, 4, 4), np.uint8)
    labels[:, 0, :2] = 1  # 4 of 32 pixels are class 1
    shares = np.bincount(labels.ravel(), minlength=4) / labels.size
    cce = levels(CategoricalCrossentropy(), labels, shares, "one_hot", 4)
    assert math.isclose(cce["chance_loss"], math.log(4), rel_tol=1e-5)
    # prior: -(7/8) ln(7/8) - (1/8) ln(1/8), the entropy of the class shares (classes 2, 3 absent)
    expected = -(7 / 8) * math.log(7 / 8) - (1 / 8) * math.log(1 / 8)
    assert math.isclose(cce["prior_loss"], expected, rel_tol=1e-4)
    bce = levels(BinaryCrossentropy(), labels, shares, "one_hot", 4)
    assert math.isclose(bce["chance_loss"], math.log(2), rel_tol=1e-5)


def test_weighted_prior_is_the_best_constant_guess_and_below_chance():
    rng = np.random.default_rng(0)
    labels = (rng.random((4, 8, 8)) < 0.1).astype(np.uint8) * rng.integers(1, 4, (4, 8, 8)).astype(np.uint8)
    shares = np.bincount(labels.ravel(), minlength=4) / labels.size
    weights = 1.0 / shares
    weights = weights / np.sum(shares * weights)
    out = levels(CategoricalCrossentropy(class_weights=weights), labels, shares, "one_hot", 4, weights)
    assert out["prior_loss"] <= out["chance_loss"] + 1e-6
    # any other constant guess does no better than the weighted prior
    y = encode(labels, "one_hot", 4)
    loss = CategoricalCrossentropy(class_weights=weights)
    for guess in ([0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25], list(shares)):
        value = float(loss(y, np.ones(y.shape, np.float32) * np.array(guess, np.float32)))
        assert out["prior_loss"] <= value + 1e-5


def test_encode_keeps_void_out_of_one_hot_and_in_sparse():
    labels = np.array([[0, 2, 255]])
    assert encode(labels, "sparse", 3).tolist() == [[0, 2, 255]] and encode(labels, "sparse", 3).dtype == np.int32
    assert encode(labels, "one_hot", 3).tolist() == [[[1, 0, 0], [0, 0, 1], [0, 0, 0]]]


def test_auto_label_encoding_follows_the_loss():
    from lossbench.trial.losses import SparseCategoricalCrossentropy

    cfg = OmegaConf.create({"data": {"label_encoding": "auto"}})
    assert label_encoding(cfg, SparseCategoricalCrossentropy()) == "sparse"
    assert label_encoding(cfg, CategoricalCrossentropy()) == "one_hot"
    cfg.data.label_encoding = "sparse"
    assert label_encoding(cfg, CategoricalCrossentropy()) == "sparse"
