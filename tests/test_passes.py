"""`lossbench.trial.passes`: compiled passes, evaluation as Keras averages it, training batches."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lossbench.trial.losses import CategoricalCrossentropy
from lossbench.trial.passes import batches, compiled_pass, evaluate, evaluate_all, one_lane, packed_pass


def dense(seed: int, name: str):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((3,), name=f"{name}_in")
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name=f"{name}_out")(inputs))


X = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
Y = np.eye(2, dtype=np.float32)[np.random.default_rng(1).integers(0, 2, 10)]


def test_evaluate_weights_each_batch_by_its_size():
    model, loss = dense(0, "a"), CategoricalCrossentropy()
    outputs, value = evaluate(compiled_pass(model, loss), X, Y, batch=4)  # batches of 4, 4 and 2
    np.testing.assert_allclose(outputs, model.predict(X, verbose=0), rtol=1e-6)
    each = [float(loss(Y[i : i + 4], outputs[i : i + 4])) * len(Y[i : i + 4]) for i in (0, 4, 8)]
    assert value == pytest.approx(sum(each) / 10, rel=1e-6)


def test_one_lane_makes_a_single_pass_a_lane_pass():
    fn = compiled_pass(dense(0, "a"), CategoricalCrossentropy())
    outs, values = one_lane(fn)(X, [Y])
    out, value = fn(X, Y)
    np.testing.assert_array_equal(outs[0], out) and float(values[0]) == float(value)


def test_a_packed_pass_gives_each_member_its_own_output_and_loss():
    a, b = dense(0, "a"), dense(1, "b")
    packed = keras.Model([a.inputs[0], b.inputs[0]], [a.outputs[0], b.outputs[0]])
    losses = [CategoricalCrossentropy(), CategoricalCrossentropy()]
    fn = packed_pass(packed, losses)
    outputs, values = evaluate_all(lambda x, ys: fn([x] * len(ys), ys), X, [Y, Y], batch=4)
    for model, out, value in zip((a, b), outputs, values, strict=True):
        alone, alone_value = evaluate(compiled_pass(model, losses[0]), X, Y, batch=4)
        np.testing.assert_allclose(out, alone, rtol=1e-6)
        assert value == pytest.approx(alone_value, rel=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the TensorFlow pipeline")
def test_batches_feed_fit_a_dataset_of_the_right_length():
    fed = batches(X, Y, 4, shuffle=False)
    assert fed["shuffle"] is False and len(list(fed["x"])) == 3
    first_x, first_y = next(iter(fed["x"]))
    np.testing.assert_array_equal(first_x, X[:4]) and np.testing.assert_array_equal(first_y, Y[:4])
