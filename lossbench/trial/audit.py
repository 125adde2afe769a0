"""What Keras really computes for a pairing (FACTS #2-#4), measured on the compiled path.

On one batch, the loss Keras computes inside ``model.evaluate`` (graph mode, as
in ``fit``) is compared with the same loss function applied eagerly to the
model's output as plain numbers, i.e. the loss's nominal formula on the
probabilities the model returns. Three outcomes:

- ``nominal``: they agree - the pairing trains what it says;
- ``logits_substituted``: they differ - Keras read the logits behind a Keras
  softmax/sigmoid layer, so e.g. binary CE on a softmax trains four sigmoids;
- ``invalid``: Keras cannot compute the loss at all (sparse CE with one-hot
  labels); the reason is Keras's own message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REL_TOL, ABS_TOL = 1e-3, 1e-5


@dataclass
class Audit:
    tag: str
    keras_loss: float
    nominal_loss: float
    reason: str = ""

    def as_tags(self) -> dict:
        return {
            "audit": self.tag,
            "audit_keras_loss": f"{self.keras_loss:.3g}",
            "audit_nominal_loss": f"{self.nominal_loss:.3g}",
            "audit_reason": self.reason,
        }


def first_line(error: Exception) -> str:
    """The first non-empty line of an exception's message, without Keras's decorations.

    An error raised while tracing a ``tf.function`` reads "in user code:", a traceback, then the
    original error: that last line is the one that says what went wrong.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if lines and lines[0] == "in user code:":
        last = lines[-1]
        name, sep, rest = last.partition(": ")
        if sep and name.isidentifier():
            return last
        lines = lines[-1:]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def _logits_scale(model, x) -> float:
    """Factor that gives the last layer's logits a unit spread on ``x``.

    A fresh net's logits are ~0.01, where e.g. one and two softmaxes give
    losses 1e-4 apart: too close to tell which one Keras computed.
    """
    import keras

    from lossbench.trial.model import logits_layer

    logits = keras.Model(model.input, logits_layer(model).output)(x, training=False)
    spread = float(np.std(np.asarray(logits)))
    return float(np.clip(1.0 / max(spread, 1e-6), 1.0, 1000.0))


def audit_pairing(model, loss, x: np.ndarray, y: np.ndarray, compiled=None) -> Audit:
    """Compare the compiled loss of ``model`` (already compiled with ``loss``) with the nominal one.

    ``x``/``y`` is one batch in the encoding the loss is given. ``compiled`` is the trial's
    `lossbench.trial.passes.compiled_pass` (outputs and loss in one graph-mode call, as in ``fit``); without
    it, ``model.evaluate`` and ``model.predict``. The last
    layer's weights are scaled for the comparison (see `_logits_scale`) and
    restored afterwards.
    """
    from lossbench.trial.model import logits_layer

    layer = logits_layer(model)
    saved = layer.get_weights()
    scale = _logits_scale(model, x)
    layer.set_weights([w * scale for w in saved])
    try:
        if compiled is None:
            keras_value = float(model.evaluate(x, y, batch_size=len(x), verbose=0))
            outputs = np.asarray(model.predict(x, batch_size=len(x), verbose=0))
        else:
            outputs, value = compiled(x, y)
            keras_value, outputs = float(value), np.asarray(outputs)
    except (ValueError, TypeError) as error:  # Keras rejects the shapes: an invalid pairing
        layer.set_weights(saved)
        return Audit("invalid", float("nan"), float("nan"), first_line(error))
    layer.set_weights(saved)
    nominal = float(np.asarray(loss(y, outputs)))  # eager, on plain numbers: no logits to find
    if not (np.isfinite(keras_value) and np.isfinite(nominal)):
        agree = np.isnan(keras_value) == np.isnan(nominal)
    else:
        agree = abs(keras_value - nominal) <= REL_TOL * abs(nominal) + ABS_TOL
    if agree:
        return Audit("nominal", keras_value, nominal, "Keras computes the loss on the output as given")
    return Audit(
        "logits_substituted",
        keras_value,
        nominal,
        "Keras computed the loss from the pre-activation logits, not from the output",
    )
