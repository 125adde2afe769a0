"""FACTS #1-#7 pinned for the installed Keras/TensorFlow, on the compiled path where the fact says so.

The model is ``Input -> Conv2D(1x1, identity kernel, no bias) -> activation``:
its pre-activation logits are exactly the input, so every value Keras reports
can be checked against NumPy. Should an upgrade change one of these, the test
says which fact in ``docs/facts.md`` (and the audit built on it) needs a new look.
"""

import warnings

import keras
import numpy as np
import pytest

from lossbench.trial.activations import load as load_activation

C = 4
RNG = np.random.default_rng(0)
LOGITS = (2.0 * RNG.normal(size=(2, 2, 2, C))).astype(np.float32)
LABELS = RNG.integers(0, C, size=(2, 2, 2))
ONE_HOT = np.eye(C, dtype=np.float32)[LABELS]
EPS = 1e-7


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def cce(y, p):
    p = np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS)
    return float(np.mean(-np.sum(y * np.log(p), axis=-1)))


def identity_model(activation: str, channels: int = C) -> keras.Model:
    """2x2xC Input -> 1x1 convolution with an identity kernel -> ``activation`` (an option of conf/activation/)."""
    inputs = keras.Input((2, 2, channels))  # static: the Reshape route needs it
    kernel = keras.initializers.Constant(np.eye(channels, dtype=np.float32).reshape(1, 1, channels, channels))
    logits = keras.layers.Conv2D(channels, 1, use_bias=False, kernel_initializer=kernel, name="logits")(inputs)
    return keras.Model(inputs, load_activation(activation)(logits))


def evaluate(activation, loss, x=LOGITS, y=ONE_HOT, **compile_kwargs):
    model = identity_model(activation, x.shape[-1])
    model.compile(loss=loss, **compile_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FACTS #3's "from_logits=True ... Was this intended?"
        return model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)


def test_the_probe_model_outputs_softmax_of_its_input():
    model = identity_model("softmax")
    np.testing.assert_allclose(model.predict(LOGITS, verbose=0), softmax(LOGITS), rtol=1e-5)


# --- #1 --------------------------------------------------------------------------------------


def test_fact1_accuracy_is_chosen_by_output_shape_not_by_loss():
    """All-background logits on 6 of 8 background pixels: arg-max 0.75, Keras-2 binary 0.875."""
    labels = np.zeros((2, 2, 2), np.int64)
    labels[0, 0, 0], labels[1, 1, 1] = 1, 3
    y = np.eye(C, dtype=np.float32)[labels]
    x = np.broadcast_to(np.array([3.0, -3.0, -3.0, -3.0], np.float32), (2, 2, 2, C)).copy()
    b = 6 / 8
    logs = evaluate("softmax", "binary_crossentropy", x, y, metrics=["accuracy"])
    assert logs["accuracy"] == pytest.approx(b)  # categorical
    assert logs["accuracy"] != pytest.approx((C - 2) / C + 2 * b / C)  # not binary (0.875)
    binary = evaluate("softmax", "binary_crossentropy", x, y, metrics=[keras.metrics.BinaryAccuracy()])
    assert binary["binary_accuracy"] == pytest.approx((C - 2) / C + 2 * b / C)


# --- #2 --------------------------------------------------------------------------------------


def test_fact2_binary_ce_on_a_softmax_output_is_sigmoid_ce_of_the_logits():
    keras_value = evaluate("softmax", "binary_crossentropy")["loss"]
    assert keras_value == pytest.approx(bce(ONE_HOT, sigmoid(LOGITS)), rel=1e-5)
    assert keras_value != pytest.approx(bce(ONE_HOT, softmax(LOGITS)), rel=1e-2)


def test_fact2_categorical_ce_on_a_sigmoid_output_is_softmax_ce_of_the_logits():
    keras_value = evaluate("sigmoid", "categorical_crossentropy")["loss"]
    assert keras_value == pytest.approx(cce(ONE_HOT, softmax(LOGITS)), rel=1e-5)
    assert keras_value != pytest.approx(cce(ONE_HOT, sigmoid(LOGITS)), rel=1e-2)


def test_fact2_hidden_softmax_gives_the_nominal_pairing():
    for hidden in ("softmax_untagged", "permute_reshape_softmax"):
        keras_value = evaluate(hidden, "binary_crossentropy")["loss"]
        assert keras_value == pytest.approx(bce(ONE_HOT, softmax(LOGITS)), rel=1e-5), hidden


# --- #3 --------------------------------------------------------------------------------------


def test_fact3_from_logits_after_a_keras_softmax_is_a_single_softmax():
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    keras_value = evaluate("softmax", loss)["loss"]
    assert keras_value == pytest.approx(cce(ONE_HOT, softmax(LOGITS)), rel=1e-5)
    assert keras_value != pytest.approx(cce(ONE_HOT, softmax(softmax(LOGITS))), rel=1e-2)


def test_fact3_from_logits_after_a_hidden_softmax_is_the_double_softmax():
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    keras_value = evaluate("softmax_untagged", loss)["loss"]
    assert keras_value == pytest.approx(cce(ONE_HOT, softmax(softmax(LOGITS))), rel=1e-5)


def test_fact3_keras_warns_about_from_logits_after_softmax():
    model = identity_model("softmax")
    model.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    with pytest.warns(UserWarning, match="from_logits=True.*Softmax"):
        model.evaluate(LOGITS, ONE_HOT, verbose=0)


# --- #4 --------------------------------------------------------------------------------------


def test_fact4_sparse_ce_with_one_hot_labels_raises_on_the_compiled_path():
    with pytest.raises(ValueError, match=r"must have rank \(ndim\) `target.ndim - 1`"):
        evaluate("softmax", "sparse_categorical_crossentropy")


def test_fact4_sparse_ce_with_integer_labels_runs():
    logs = evaluate("softmax", "sparse_categorical_crossentropy", y=LABELS)
    assert logs["loss"] == pytest.approx(cce(ONE_HOT, softmax(LOGITS)), rel=1e-5)


# --- #5 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["sparse", "one_hot"])
def test_fact5_fit_class_weight_fails_for_segmentation_targets(encoding):
    y, loss = (
        (LABELS, "sparse_categorical_crossentropy") if encoding == "sparse" else (ONE_HOT, "categorical_crossentropy")
    )
    model = identity_model("softmax")
    model.compile(optimizer="sgd", loss=loss)
    with pytest.raises(TypeError, match="only 0-dimensional arrays can be converted to Python scalars"):
        model.fit(LOGITS, y, class_weight={0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}, epochs=1, verbose=0)


# --- #6 --------------------------------------------------------------------------------------


def test_fact6_keras_dice_pools_every_class_including_background():
    y = np.zeros((1, 4, 4, 2), np.float32)
    y[..., 0] = 1.0
    y[0, 3, 3] = [0.0, 1.0]  # 15 background pixels, 1 foreground
    all_background = np.zeros_like(y)
    all_background[..., 0] = 1.0
    value = float(keras.losses.Dice()(y, all_background))
    assert value == pytest.approx(0.0625, abs=1e-6)  # 1 - 2*15/(16+16): the missed class barely counts
    assert value == pytest.approx(1 - 2 * 15 / 32, abs=1e-6)


# --- #7 --------------------------------------------------------------------------------------


def test_fact7_keras_tversky_alpha_weights_false_negatives():
    y = np.array([[1.0, 1.0, 0.0, 0.0, 0.0]], np.float32)
    p = np.array([[1.0, 0.0, 1.0, 1.0, 0.0]], np.float32)  # TP 1, FN 1, FP 2
    value = float(keras.losses.Tversky(alpha=0.7, beta=0.3)(y, p))
    assert value == pytest.approx(1 - 1 / (1 + 0.7 * 1 + 0.3 * 2), abs=1e-4)
    assert value == pytest.approx(0.5652, abs=1e-4)
    # Salehi et al.'s alpha weights false positives: that would be 1 - 1/(1 + 0.7*2 + 0.3*1) = 0.6296
    assert value != pytest.approx(1 - 1 / (1 + 0.7 * 2 + 0.3 * 1), abs=1e-3)
