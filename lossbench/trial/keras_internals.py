"""Every use of Keras's private API in lossbench, behind one wall.

Keras 3 keeps these outside its public API, so a Keras release may move or change them without
notice. ``tests/test_keras_internals.py`` exercises each one against the installed Keras and names
this module when they no longer behave as lossbench relies on; fix them here and nowhere else.

- `array_dataset`: Keras's own array pipeline (``ArrayDataAdapter``) as a ``tf.data.Dataset``, the
  batches ``fit`` makes of arrays, in the same order (`lossbench.trial.passes.batches`).
- `dtype_policy_name`: the name of a loss's dtype policy (``Loss._dtype_policy``), which the
  config of a lossbench loss carries so that ``from_config`` rebuilds it under the same policy.
"""

from __future__ import annotations

KERAS_VERSION = "3.15.1"  # the release these were last checked against (tests/test_keras_internals.py)


def array_dataset(x, y, batch_size: int, shuffle: bool):
    """The ``tf.data.Dataset`` Keras's ``fit(x, y, batch_size, shuffle)`` feeds itself (TensorFlow backend)."""
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    return ArrayDataAdapter(x, y, batch_size=batch_size, shuffle=shuffle).get_tf_dataset()


def dtype_policy_name(loss) -> str:
    """The name of the dtype policy a Keras ``Loss`` was built under, e.g. ``float32`` or ``mixed_float16``."""
    return loss._dtype_policy.name
