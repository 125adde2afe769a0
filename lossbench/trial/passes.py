"""How a trial's model is fed and read: compiled forward passes, batched evaluation, training batches.

`compiled_pass` (one model) and `packed_pass` (a pack's model) give outputs and losses in one
compiled call; `evaluate` and `evaluate_all` run one over a split as Keras's ``evaluate`` averages;
`batches` feeds ``fit`` the batches Keras would make of arrays, faster.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from lossbench.trial import keras_internals


def compiled_pass(model, loss):
    """``fn(x, y) -> (outputs, loss)`` for one batch, compiled as Keras's test step is (graph mode; jit on JAX).

    One forward pass gives both what the model outputs and the loss Keras would report for the batch:
    in graph mode a Keras softmax/sigmoid output still carries its logits, so the loss reads them
    exactly as in ``fit`` and ``evaluate`` (FACTS #2). Every evaluation of a trial goes through it (the
    audit, the first batch, each epoch's validation, the test split), so a trial traces it once.
    """
    return compiled_call(model, lambda outputs, y: (outputs, loss(y, outputs)))


def packed_pass(model, losses):
    """``fn(xs, ys) -> (outputs, losses)`` of every member in one compiled call of the packed model."""

    def head(outputs, ys):
        outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]  # a pack of one
        return outputs, [loss(y, out) for loss, y, out in zip(losses, ys, outputs, strict=True)]

    return compiled_call(model, head)


def compiled_call(model, head):
    """``fn(x, y) -> head(model(x), y)``, compiled: a ``tf.function`` on TensorFlow, a jitted stateless call on JAX.

    On JAX there is no logits shortcut (results/backends/); the variables are passed in, so the jitted
    function sees the weights as they are now, not as they were traced.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def step(x, y):
            return head(model(x, training=False), y)

        return step

    import jax

    @jax.jit
    def stateless(trainable, non_trainable, x, y):
        outputs, _ = model.stateless_call(trainable, non_trainable, x, training=False)
        return head(outputs, y)

    def step(x, y):
        return stateless(
            [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables], x, y
        )

    return step


def evaluate_all(fn, x: np.ndarray, ys: list[np.ndarray], batch: int):
    """Every lane's outputs on ``x`` and its loss averaged over batches as Keras's ``evaluate`` does.

    ``fn(x_batch, [y_batch per lane]) -> ([outputs per lane], [loss per lane])``.
    """
    outputs, totals = [[] for _ in ys], np.zeros(len(ys))
    for start in range(0, len(x), batch):
        xb = x[start : start + batch]
        outs, values = fn(xb, [y[start : start + batch] for y in ys])
        for k, (out, value) in enumerate(zip(outs, values, strict=True)):
            outputs[k].append(np.asarray(out))
            totals[k] += float(value) * len(xb)
    return [np.concatenate(o) for o in outputs], list(totals / len(x))


def one_lane(fn):
    """A one-model pass ``fn(x, y) -> (outputs, loss)`` as `evaluate_all` calls a lane's pass."""

    def each(x, ys):
        out, value = fn(x, ys[0])
        return [out], [value]

    return each


def evaluate(fn, x: np.ndarray, y: np.ndarray, batch: int) -> tuple[np.ndarray, float]:
    """All outputs of ``x`` and the loss as Keras's ``evaluate`` averages it (batch losses weighted by size)."""
    outputs, values = evaluate_all(one_lane(fn), x, [y], batch)
    return outputs[0], float(values[0])


def batches(x, y, batch: int, shuffle: bool) -> dict:
    """The arguments that make ``model.fit(**batches(...))`` see what ``fit(x, y, batch, shuffle)`` sees, faster.

    On the TensorFlow backend Keras turns arrays into a tf.data pipeline whose parallel map and
    prefetch are autotuned; tearing that pipeline down when an epoch ends takes about 0.45 s on
    one core, against 0.8 s of train steps in a cmr epoch (docs/facts.md #19). This is Keras's own pipeline (the same
    batches in the same order: tests/test_batches.py) with tf.data's autotuning off. Other
    backends get the arrays as they are.
    """
    if keras.backend.backend() != "tensorflow":
        return {"x": x, "y": y, "batch_size": batch, "shuffle": shuffle}
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    steps = math.ceil(len(x[0] if isinstance(x, list | tuple) else x) / batch)
    dataset = keras_internals.array_dataset(x, y, batch, shuffle)
    dataset = dataset.with_options(options).apply(tf.data.experimental.assert_cardinality(steps))
    return {"x": dataset, "shuffle": False}  # it shuffles itself (shuffle=True would only warn)
