"""Void pixels (``ignore_index``): every loss equals itself on the labelled pixels alone.

The reference is independent of the masking code: for each loss of
``conf/loss/*.yaml`` (class and options read from the file), the loss with
``ignore_index=255`` on a batch with void pixels is compared with the same
loss with ``ignore_index=None`` on the labelled pixels only, reshaped to one
image of 1 x P pixels: values and `tf.GradientTape` gradients w.r.t. the
output, which must be exactly 0 on void pixels. Void is label 255 in sparse
labels and an all-zero row in one-hot labels.

Further down, Keras's own ``SparseCategoricalCrossentropy(ignore_class=...)``:
the same values as lossbench's on plain tensors, but after a Keras softmax it
loses the logits shortcut of FACTS #2 (FACTS #25); lossbench keeps it.
"""

import importlib
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from omegaconf import OmegaConf

from lossbench.errors import InvalidPairing
from lossbench.trial.losses import KerasPooledDice, SegmentationLoss, SparseCategoricalCrossentropy

ROOT = Path(__file__).resolve().parents[1]
VOID, C = 255, 4
WEIGHTS = [0.2, 1.5, 0.8, 2.0]
RNG = np.random.default_rng(7)
LABELS = RNG.integers(0, C, size=(2, 5, 6))
VALID = RNG.random(LABELS.shape) > 0.3  # about 30 % void
P = int(VALID.sum())
LOGITS = (2.0 * RNG.normal(size=(*LABELS.shape, C))).astype(np.float32)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def catalogue():
    """(name, class, options) of every ``conf/loss/*.yaml``; ``from_logits`` is set by the tests."""
    for path in sorted((ROOT / "conf" / "loss").glob("*.yaml")):
        cfg = OmegaConf.to_container(OmegaConf.load(path))  # not resolved: from_logits is an interpolation
        module, _, cls = cfg.pop("_target_").rpartition(".")
        cfg.pop("from_logits")
        if isinstance(cfg.get("include_background"), str):  # ${no_background:...}: false for the cardiac data
            cfg["include_background"] = False
        yield cfg.pop("name"), getattr(importlib.import_module(module), cls), cfg


LOSSES = list(catalogue())
VOID_LOSSES = [entry for entry in LOSSES if entry[1].supports_void]
CASES = [
    pytest.param(cls, {**options, "name": name}, weights, logits, id=f"{name}-{tag}-{'logits' if logits else 'probs'}")
    for name, cls, options in VOID_LOSSES
    for weights, tag in ((None, "unweighted"), (WEIGHTS, "weighted"))
    if weights is None or cls.supports_class_weights
    for logits in (True, False)
]


def batch(cls, logits: bool, valid=VALID):
    """Labels (255 or all-zero rows where ``valid`` is False) and the output, both float32."""
    labels = np.where(valid, LABELS, VOID).astype(np.float32)
    if not cls.sparse_labels:
        labels = np.eye(C, dtype=np.float32)[LABELS] * valid[..., None]
    if logits:
        return labels, LOGITS
    probs = 1.0 / (1.0 + np.exp(-LOGITS.astype(np.float64))) if cls.per_channel else softmax(LOGITS.astype(np.float64))
    return labels, probs.astype(np.float32)


def labelled_only(array):
    """The labelled pixels of a (N, H, W[, C]) array as one image of 1 x P pixels."""
    return array[VALID].reshape(1, 1, P, *array.shape[3:])


def value_and_gradient(loss, y_true, y_pred):
    y_pred = tf.constant(y_pred)
    with tf.GradientTape() as tape:
        tape.watch(y_pred)
        value = loss(tf.constant(y_true), y_pred)
    return float(value), tape.gradient(value, y_pred).numpy()


@pytest.mark.parametrize(("cls", "options", "weights", "logits"), CASES)
def test_void_pixels_are_left_out_of_value_and_gradient(cls, options, weights, logits):
    labels, output = batch(cls, logits)
    masked = cls(from_logits=logits, class_weights=weights, ignore_index=VOID, **options)
    plain = cls(from_logits=logits, class_weights=weights, **options)
    value, gradient = value_and_gradient(masked, labels, output)
    expected, expected_gradient = value_and_gradient(plain, labelled_only(labels), labelled_only(output))
    assert value == pytest.approx(expected, rel=1e-6)
    scale = np.abs(expected_gradient).max()
    np.testing.assert_allclose(gradient[VALID], expected_gradient.reshape(P, C), rtol=1e-5, atol=1e-6 * scale)
    assert np.all(gradient[~VALID] == 0.0)


@pytest.mark.parametrize(("cls", "options", "weights", "logits"), CASES)
def test_without_void_pixels_ignore_index_changes_nothing(cls, options, weights, logits):
    labels, output = batch(cls, logits, valid=np.ones_like(VALID))
    masked = cls(from_logits=logits, class_weights=weights, ignore_index=VOID, **options)
    plain = cls(from_logits=logits, class_weights=weights, **options)
    value, gradient = value_and_gradient(masked, labels, output)
    expected, expected_gradient = value_and_gradient(plain, labels, output)
    assert value == expected  # bit for bit: the factor is exactly 1
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)  # TF may add the parts in another order


@pytest.mark.parametrize(("cls", "options", "weights", "logits"), CASES)
def test_an_all_void_batch_gives_zero_and_no_nan(cls, options, weights, logits):
    labels, output = batch(cls, logits, valid=np.zeros_like(VALID))
    loss = cls(from_logits=logits, class_weights=weights, ignore_index=VOID, **options)
    value, gradient = value_and_gradient(loss, labels, output)
    assert value == 0.0
    assert np.all(gradient == 0.0)


@pytest.mark.parametrize(("name", "cls", "options"), VOID_LOSSES, ids=[name for name, _, _ in VOID_LOSSES])
def test_void_masking_traces_with_unknown_shapes(name, cls, options):
    """As in ``fit``: a tf.function over batches of any size and shape gives the eager value."""
    labels, output = batch(cls, logits=True)
    loss = cls(from_logits=True, ignore_index=VOID, **options)
    label_spec = tf.TensorSpec([None, None, None] + ([] if cls.sparse_labels else [C]), tf.float32)
    compiled = tf.function(loss.__call__, input_signature=[label_spec, tf.TensorSpec([None, None, None, C])])
    assert float(compiled(labels, output)) == pytest.approx(float(loss(labels, output)), rel=1e-6)


def test_the_batch_has_void_pixels_and_every_class_labelled():
    assert 0 < P < VALID.size and set(LABELS[VALID].tolist()) == set(range(C))
    assert {name for name, _, _ in LOSSES} - {name for name, _, _ in VOID_LOSSES} == {"keras_dice"}


@pytest.mark.parametrize(("name", "cls", "options"), VOID_LOSSES, ids=[name for name, _, _ in VOID_LOSSES])
def test_ignore_index_round_trips_through_the_config(name, cls, options):
    loss = cls(ignore_index=VOID, **options)
    assert loss.ignore_index == VOID and loss.get_config()["ignore_index"] == VOID
    again = cls.from_config(loss.get_config())
    assert again.ignore_index == VOID and again.get_config() == loss.get_config()
    assert cls(**options).get_config()["ignore_index"] is None


def test_supports_void_is_a_trait_false_only_for_keras_pooled_dice():
    assert SegmentationLoss.supports_void is True
    assert [cls for _, cls, _ in LOSSES if not cls.supports_void] == [KerasPooledDice]


def test_keras_pooled_dice_refuses_void_in_one_line():
    with pytest.raises(InvalidPairing) as caught:
        KerasPooledDice(ignore_index=VOID)
    message = str(caught.value)
    assert message == "keras_dice (keras.losses.Dice as shipped) cannot leave void pixels out - use loss=dice"
    assert KerasPooledDice(ignore_index=None).ignore_index is None  # Hydra passes None: fine


# --- Keras's own ignore_class ---------------------------------------------------------------


@pytest.mark.parametrize("logits", [False, True], ids=["probs", "logits"])
def test_sparse_ce_equals_keras_ignore_class_on_plain_tensors(logits):
    labels, output = batch(SparseCategoricalCrossentropy, logits)
    ours = SparseCategoricalCrossentropy(from_logits=logits, ignore_index=VOID)(labels, output)
    keras_value = keras.losses.SparseCategoricalCrossentropy(from_logits=logits, ignore_class=VOID)(labels, output)
    assert float(ours) == pytest.approx(float(keras_value), rel=1e-6)


# three labelled pixels, each wrong by 20 logits (true-class probability e^-20 < 1e-7), one void
SHORTCUT_X = np.zeros((1, 2, 2, C), np.float32)
SHORTCUT_Y = np.array([[[0, 1], [VOID, 3]]])
for _pixel, _label in np.ndenumerate(SHORTCUT_Y):
    SHORTCUT_X[(*_pixel, (_label + 1) % C)] = 20.0
LOGITS_CE = float(np.log(3.0 + np.exp(20.0)))  # -log softmax of the true class: 20.0
NOMINAL_CE = float(-np.log(1e-7 / (1.0 + 2e-7)))  # the clipped probabilities: 16.118


def softmax_model(head: str) -> keras.Model:
    """Input -> Conv2D(1x1, identity kernel) -> softmax (a Softmax layer, or the Conv2D's activation)."""
    inputs = keras.Input((2, 2, C))
    kernel = keras.initializers.Constant(np.eye(C, dtype=np.float32).reshape(1, 1, C, C))
    activation = "softmax" if head == "activation" else None
    outputs = keras.layers.Conv2D(C, 1, use_bias=False, kernel_initializer=kernel, activation=activation)(inputs)
    return keras.Model(inputs, keras.layers.Softmax()(outputs) if head == "layer" else outputs)


def compiled_value_and_gradient(model, loss):
    """The loss and its gradient w.r.t. the input (= the logits) inside a tf.function (graph mode)."""

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss(y, model(x))
        return value, tape.gradient(value, x)

    value, gradient = step(tf.constant(SHORTCUT_X), tf.constant(SHORTCUT_Y, tf.float32))
    return float(value), float(tf.reduce_sum(tf.abs(gradient)))


@pytest.mark.parametrize("head", ["layer", "activation"])
def test_fact25_keras_ignore_class_loses_the_logits_shortcut(head):
    """Keras's ``where(valid, y_pred, 0)`` hides the softmax: CE on clipped probabilities, no gradient."""
    model = softmax_model(head)
    keras_loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=VOID)
    assert float(keras_loss(SHORTCUT_Y, model(SHORTCUT_X))) == pytest.approx(NOMINAL_CE, rel=1e-5)  # eager
    assert compiled_value_and_gradient(model, keras_loss) == (pytest.approx(NOMINAL_CE, rel=1e-5), 0.0)
    model.compile(loss=keras_loss)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert model.evaluate(SHORTCUT_X, SHORTCUT_Y, verbose=0) == pytest.approx(NOMINAL_CE, rel=1e-5)


@pytest.mark.parametrize("head", ["layer", "activation"])
def test_fact25_lossbench_ignore_index_keeps_the_logits_shortcut(head):
    model = softmax_model(head)
    ours = SparseCategoricalCrossentropy(ignore_index=VOID)
    assert float(ours(SHORTCUT_Y, model(SHORTCUT_X))) == pytest.approx(LOGITS_CE, rel=1e-5)  # eager
    value, gradient = compiled_value_and_gradient(model, ours)
    assert value == pytest.approx(LOGITS_CE, rel=1e-5) and LOGITS_CE == pytest.approx(20.0, abs=1e-6)
    assert gradient == pytest.approx(2.0, rel=1e-5)  # |softmax - one-hot| sums to 2 per pixel, mean over 3
    model.compile(loss=ours)
    assert model.evaluate(SHORTCUT_X, SHORTCUT_Y, verbose=0) == pytest.approx(LOGITS_CE, rel=1e-5)
