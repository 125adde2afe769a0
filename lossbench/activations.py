"""Last-layer activations, including the ones thread 1's answers wrote by hand.

Keras's own softmax/sigmoid layers tag their output with the pre-activation
logits, and the TensorFlow backend computes every cross-entropy from those
logits whatever the activation (FACTS #2). The ``*_untagged`` variants and the
thread's Lambda layers compute the same kind of maths with ``exp`` so Keras
cannot see it: only they give the *nominal* pairing (the formula applied to the
probabilities). ``ACTIVATIONS`` maps the name in ``conf/activation/`` to a
function ``logits -> output`` over symbolic Keras tensors.
"""

from __future__ import annotations

import keras
from keras import ops


def _softmax_untagged(x):
    e = ops.exp(x - ops.max(x, axis=-1, keepdims=True))
    return e / ops.sum(e, axis=-1, keepdims=True)


def _sigmoid_untagged(x):
    return 1.0 / (1.0 + ops.exp(-x))


def _depth_softmax_thread1(x):
    """Thread 1, answer 1, as written: sigmoid divided by its sum over axis 0 - the batch axis."""
    sigmoided = 1.0 / (1.0 + ops.exp(-x))
    return sigmoided / ops.sum(sigmoided, axis=0)


def _depth_softmax_fixed(x):
    """Thread 1, answer 2, as written: exp(x) / sum over channels (no max subtraction)."""
    e = ops.exp(x)
    return e / ops.expand_dims(ops.sum(e, axis=-1), axis=-1)


def _lambda(fn, name):
    return lambda x: keras.layers.Lambda(fn, name=name)(x)


def _permute_reshape_softmax(x):
    """Thread 1, answer 1's first route: flatten the pixels to (rows*cols, C), softmax, reshape back.

    The thread's Permute moved Theano's channels-first axis last; this model is
    channels-last already, so the Permute is the identity and is left out.
    """
    height, width, channels = x.shape[1:]
    flat = keras.layers.Reshape((height * width, channels), name="flatten_pixels")(x)
    probs = keras.layers.Activation("softmax", name="pixel_softmax")(flat)
    return keras.layers.Reshape((height, width, channels), name="unflatten_pixels")(probs)


ACTIVATIONS = {
    "softmax": lambda x: keras.layers.Activation("softmax", name="softmax")(x),
    "sigmoid": lambda x: keras.layers.Activation("sigmoid", name="sigmoid")(x),
    "linear": lambda x: x,
    "softmax_untagged": _lambda(_softmax_untagged, "softmax_untagged"),
    "sigmoid_untagged": _lambda(_sigmoid_untagged, "sigmoid_untagged"),
    "depth_softmax_thread1": _lambda(_depth_softmax_thread1, "depth_softmax_thread1"),
    "depth_softmax_fixed": _lambda(_depth_softmax_fixed, "depth_softmax_fixed"),
    "permute_reshape_softmax": _permute_reshape_softmax,
}


def apply_activation(name: str, logits):
    """Apply the activation called ``name`` (a file in ``conf/activation/``) to ``logits``."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known: {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name](logits)
