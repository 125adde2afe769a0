"""`audit_pairing` on a tiny compiled U-Net: which pairing Keras really trains (FACTS #2-#4).

A freshly initialised U-Net outputs logits near 0 (|z| ~ 0.01 on images in
0-1), where a softmax and a double softmax give the same loss to 1e-4. So the
probe scales the kernel of the final 1x1 convolution until the logits are
O(1), as they are after some training; only then can a value tell the two
formulas apart.
"""

import warnings

import keras
import numpy as np
import pytest

from lossbench.trial.audit import Audit, audit_pairing, first_line
from lossbench.trial.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    DiceCE,
    KerasPooledDice,
    SoftDice,
    SparseCategoricalCrossentropy,
)
from lossbench.trial.model import build_model
from lossbench.trial.passes import compiled_pass, evaluate

RNG = np.random.default_rng(0)
X = RNG.random((2, 32, 32, 1)).astype(np.float32)
LABELS = RNG.integers(0, 4, (2, 32, 32)).astype(np.int32)
Y = np.eye(4, dtype=np.float32)[LABELS]
LOGIT_SCALE = 100.0


def probe(activation, scale=LOGIT_SCALE):
    keras.utils.set_random_seed(0)
    model = build_model({"base": 2}, 32, 4, activation)
    kernel = model.get_layer("logits").kernel
    kernel.assign(kernel * scale)
    return model


def logits_of(model):
    return np.asarray(keras.Model(model.input, model.get_layer("logits").output).predict(X, verbose=0))


def audit(activation, loss, y=Y, scale=LOGIT_SCALE, model=None):
    """The audit on the trial's compiled pass, checked against the audit on ``model.evaluate``."""
    model = model or probe(activation, scale)
    model.compile(loss=loss)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras's "from_logits=True ... Was this intended?"
        on_evaluate = audit_pairing(model, loss, X, y)
        on_pass = audit_pairing(model, loss, X, y, compiled_pass(model, loss))
    assert on_pass.tag == on_evaluate.tag
    assert np.allclose(on_pass.keras_loss, on_evaluate.keras_loss, rtol=1e-5, atol=1e-7, equal_nan=True)
    return on_pass


@pytest.mark.parametrize(
    "loss, activation",
    [(CategoricalCrossentropy(), "softmax"), (BinaryCrossentropy(), "softmax"), (SoftDice(), "softmax")],
)
def test_one_pass_gives_the_outputs_and_the_loss_evaluate_and_predict_give(loss, activation):
    """A trial's validation is one pass: its loss averages batches as ``evaluate`` does (a short last batch too)."""
    model = probe(activation)
    model.compile(loss=loss)
    x = RNG.random((5, 32, 32, 1)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[RNG.integers(0, 4, (5, 32, 32))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outputs, value = evaluate(compiled_pass(model, loss), x, y, batch=2)
        expected = float(model.evaluate(x, y, batch_size=2, verbose=0))
        predicted = model.predict(x, batch_size=2, verbose=0)
    assert np.isclose(value, expected, rtol=1e-5)
    assert np.allclose(outputs, predicted, atol=1e-6)


def bce(y, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_the_probe_has_logits_of_order_one():
    assert 0.3 < float(np.std(logits_of(probe("linear")))) < 10.0


def test_binary_ce_on_softmax_is_logits_substituted():
    model = probe("softmax")
    z = logits_of(model)
    result = audit("softmax", BinaryCrossentropy(), model=model)
    assert result.tag == "logits_substituted"
    assert result.keras_loss == pytest.approx(bce(Y, 1 / (1 + np.exp(-z))), rel=1e-4)  # four sigmoids
    assert result.nominal_loss == pytest.approx(bce(Y, softmax(z)), rel=1e-4)  # BCE of the softmax


def test_binary_ce_on_hidden_softmax_is_nominal():
    result = audit("softmax_untagged", BinaryCrossentropy())
    assert result.tag == "nominal"
    assert result.keras_loss == pytest.approx(result.nominal_loss, rel=1e-4)


def test_binary_ce_after_a_reshape_is_nominal():
    assert audit("permute_reshape_softmax", BinaryCrossentropy()).tag == "nominal"


def test_categorical_ce_on_softmax_is_nominal_same_maths():
    result = audit("softmax", CategoricalCrossentropy())
    assert result.tag == "nominal"
    assert result.reason == "Keras computes the loss on the output as given"


def test_categorical_ce_on_sigmoid_is_logits_substituted():
    assert audit("sigmoid", CategoricalCrossentropy()).tag == "logits_substituted"


def test_from_logits_after_keras_softmax_is_logits_substituted():
    # Keras uses one softmax; the nominal formula (from_logits on the probabilities) is a double softmax
    result = audit("softmax", CategoricalCrossentropy(from_logits=True))
    assert result.tag == "logits_substituted"
    assert result.nominal_loss < result.keras_loss  # a double softmax flattens towards ln 4


def test_from_logits_after_hidden_softmax_is_nominal_double_softmax():
    assert audit("softmax_untagged", CategoricalCrossentropy(from_logits=True)).tag == "nominal"


def test_linear_with_from_logits_is_nominal():
    assert audit("linear", CategoricalCrossentropy(from_logits=True)).tag == "nominal"


@pytest.mark.parametrize("loss", [SoftDice(), KerasPooledDice()], ids=["dice", "keras_dice"])
def test_dice_on_softmax_is_nominal(loss):
    assert audit("softmax", loss).tag == "nominal"


def test_dice_ce_on_sigmoid_is_logits_substituted():
    assert audit("sigmoid", DiceCE()).tag == "logits_substituted"


def test_sparse_ce_with_one_hot_labels_is_invalid_with_the_rank_reason():
    result = audit("softmax", SparseCategoricalCrossentropy(), y=Y)
    assert result.tag == "invalid"
    assert result.reason.startswith("ValueError: ")
    assert "rank" in result.reason and "\n" not in result.reason
    assert np.isnan(result.keras_loss) and np.isnan(result.nominal_loss)


def test_sparse_ce_with_integer_labels_is_nominal():
    assert audit("softmax", SparseCategoricalCrossentropy(), y=LABELS).tag == "nominal"


def test_from_logits_after_keras_softmax_is_detected_at_initialisation():
    assert audit("softmax", CategoricalCrossentropy(from_logits=True), scale=1.0).tag == "logits_substituted"


def test_audit_tags_and_first_line():
    tags = Audit("nominal", 1.2345678, 1.2345679, "same").as_tags()
    assert tags == {
        "audit": "nominal",
        "audit_keras_loss": "1.23",
        "audit_nominal_loss": "1.23",
        "audit_reason": "same",
    }
    assert first_line(ValueError("\n  first line  \nsecond")) == "ValueError: first line"
