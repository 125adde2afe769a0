"""The last-layer activations: shapes in the U-Net, what sums to 1 over which axis, and overflow."""

import keras
import numpy as np
import pytest

from lossbench.trial.activations import load, options
from lossbench.trial.model import build_model

NORMALISED_OVER_CHANNELS = ["softmax", "softmax_untagged", "depth_softmax_fixed", "permute_reshape_softmax"]
# (3 images, 2x2 pixels, 4 channels) of fixed logits
LOGITS = np.random.default_rng(7).normal(scale=2.0, size=(3, 2, 2, 4)).astype(np.float32)


def outputs(name, logits=LOGITS):
    """``name`` applied to ``logits`` inside a Keras model (Input -> activation), the whole batch at once."""
    inputs = keras.Input(logits.shape[1:])
    model = keras.Model(inputs, load(name)(inputs))
    return np.asarray(model.predict(logits, batch_size=len(logits), verbose=0))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((2, 32, 32, 1)).astype(np.float32)


@pytest.mark.parametrize("name", options())
def test_unet_output_shape_and_channel_sums(name, images):
    keras.utils.set_random_seed(0)
    model = build_model({"base": 2}, 32, 4, name)
    out = np.asarray(model.predict(images, batch_size=2, verbose=0))
    assert out.shape == (2, 32, 32, 4)
    assert np.isfinite(out).all()
    if name in NORMALISED_OVER_CHANNELS:
        np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-5)
    if name.startswith("sigmoid"):
        assert ((out > 0) & (out < 1)).all()


@pytest.mark.parametrize("name", NORMALISED_OVER_CHANNELS)
def test_softmax_family_sums_to_one_over_channels(name):
    out = outputs(name)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-6)
    assert (out > 0).all()


@pytest.mark.parametrize("name", ["softmax_untagged", "depth_softmax_fixed", "permute_reshape_softmax"])
def test_hand_written_softmaxes_equal_keras_softmax(name):
    np.testing.assert_allclose(outputs(name), outputs("softmax"), atol=1e-6)


def test_softmax_by_hand():
    e = np.exp(LOGITS)
    np.testing.assert_allclose(outputs("softmax"), e / e.sum(axis=-1, keepdims=True), rtol=1e-5)


def test_sigmoid_and_untagged_sigmoid_agree_and_stay_in_0_1():
    tagged, untagged = outputs("sigmoid"), outputs("sigmoid_untagged")
    np.testing.assert_allclose(tagged, untagged, atol=1e-6)
    np.testing.assert_allclose(tagged, 1.0 / (1.0 + np.exp(-LOGITS)), rtol=1e-5)
    assert ((tagged > 0) & (tagged < 1)).all()
    assert not np.allclose(tagged.sum(axis=-1), 1.0, atol=1e-2)  # independent channels


def test_linear_is_the_identity():
    np.testing.assert_array_equal(outputs("linear"), LOGITS)


def test_depth_softmax_thread1_normalises_over_the_batch_not_the_channels():
    out = outputs("depth_softmax_thread1")
    np.testing.assert_allclose(out.sum(axis=0), 1.0, atol=1e-6)
    assert not np.allclose(out.sum(axis=-1), 1.0, atol=1e-2)
    sig = 1.0 / (1.0 + np.exp(-LOGITS))
    np.testing.assert_allclose(out, sig / sig.sum(axis=0), rtol=1e-5)


def test_depth_softmax_thread1_output_depends_on_the_rest_of_the_batch():
    alone = outputs("depth_softmax_thread1", LOGITS[:1])
    np.testing.assert_allclose(alone, 1.0, atol=1e-6)  # a batch of one: every channel is 1
    assert not np.allclose(outputs("depth_softmax_thread1")[:1], alone, atol=1e-2)


def test_depth_softmax_fixed_overflows_where_softmax_untagged_does_not():
    big = np.array([[[[100.0, 0.0, 0.0, 0.0]]]], np.float32)  # exp(100) > float32 max
    fixed = outputs("depth_softmax_fixed", big)
    assert np.isnan(fixed[..., 0]).all()
    safe = outputs("softmax_untagged", big)
    assert np.isfinite(safe).all()
    np.testing.assert_allclose(safe[0, 0, 0], [1.0, 0.0, 0.0, 0.0], atol=1e-6)


def test_unknown_activation_is_rejected():
    with pytest.raises(ValueError, match="unknown activation 'no_such'"):
        load("no_such")
