"""Last-layer activations, including the ones thread 1's answers wrote by hand.

Keras's own softmax/sigmoid layers tag their output with the pre-activation
logits, and the TensorFlow backend computes every cross-entropy from those
logits whatever the activation (FACTS #2). The ``*Untagged`` variants and the
thread's Lambda layers compute the same kind of maths with ``exp`` so Keras
cannot see it: only they give the *nominal* pairing (the formula applied to the
probabilities).

Each option in ``conf/activation/`` instantiates one of these classes
(``_target_``), as the losses do: ``Softmax(name="softmax", logits_out=False)``.
An instance is called on the symbolic logits and returns the model's output.
``logits_out`` says whether that output is still logits (only `Linear`); the
loss configs read it as their ``from_logits``.
"""

from __future__ import annotations

import keras
from keras import ops


class Activation:
    """Base class: ``name`` (the config option, also the layer name) and ``logits_out``."""

    def __init__(self, name: str, logits_out: bool = False):
        self.name, self.logits_out = str(name), bool(logits_out)

    def __call__(self, logits):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, logits_out={self.logits_out})"


class Softmax(Activation):
    """Keras's softmax layer: its output carries the logits (FACTS #2)."""

    def __call__(self, logits):
        return keras.layers.Activation("softmax", name=self.name)(logits)


class Sigmoid(Activation):
    """Keras's sigmoid layer: its output carries the logits (FACTS #2)."""

    def __call__(self, logits):
        return keras.layers.Activation("sigmoid", name=self.name)(logits)


class Linear(Activation):
    """No activation: the model outputs its logits (``logits_out: true``)."""

    def __call__(self, logits):
        return logits


class _LambdaActivation(Activation):
    """The maths in a Lambda layer, where Keras cannot find the logits."""

    @staticmethod
    def fn(x):
        raise NotImplementedError

    def __call__(self, logits):
        return keras.layers.Lambda(type(self).fn, name=self.name)(logits)


class SoftmaxUntagged(_LambdaActivation):
    """``exp(x - max) / sum exp(x - max)`` over channels, untagged: CE sees probabilities."""

    @staticmethod
    def fn(x):
        e = ops.exp(x - ops.max(x, axis=-1, keepdims=True))
        return e / ops.sum(e, axis=-1, keepdims=True)


class SigmoidUntagged(_LambdaActivation):
    """``1 / (1 + exp(-x))``, untagged: CE sees probabilities."""

    @staticmethod
    def fn(x):
        return 1.0 / (1.0 + ops.exp(-x))


class DepthSoftmaxThread1(_LambdaActivation):
    """Thread 1, answer 1, as written: sigmoid divided by its sum over axis 0 - the batch axis."""

    @staticmethod
    def fn(x):
        sigmoided = 1.0 / (1.0 + ops.exp(-x))
        return sigmoided / ops.sum(sigmoided, axis=0)


class DepthSoftmaxFixed(_LambdaActivation):
    """Thread 1, answer 2, as written: exp(x) / sum over channels (no max subtraction)."""

    @staticmethod
    def fn(x):
        e = ops.exp(x)
        return e / ops.expand_dims(ops.sum(e, axis=-1), axis=-1)


class PermuteReshapeSoftmax(Activation):
    """Thread 1, answer 1's first route: flatten the pixels to (rows*cols, C), softmax, reshape back.

    The thread's Permute moved Theano's channels-first axis last; this model is
    channels-last already, so the Permute is the identity and is left out.
    """

    def __call__(self, logits):
        height, width, channels = logits.shape[1:]
        flat = keras.layers.Reshape((height * width, channels), name="flatten_pixels")(logits)
        probs = keras.layers.Activation("softmax", name="pixel_softmax")(flat)
        return keras.layers.Reshape((height, width, channels), name="unflatten_pixels")(probs)


def options() -> list[str]:
    """The activation options: the files of ``conf/activation/``."""
    from lossbench.registry import options as group_options

    return group_options("activation")


def load(name: str) -> Activation:
    """The activation of ``conf/activation/<name>.yaml``, instantiated (for code outside a composed config)."""
    from lossbench.registry import load_option

    return load_option("activation", name)
