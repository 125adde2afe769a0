"""The contract of `lossbench.trial.keras_internals`: Keras's private API as lossbench relies on it.

Pinned to the Keras release it was checked against: a new Keras fails here first, naming the module
to revisit, before a trial quietly trains on other batches or a loss loses its dtype policy.
"""

import keras
import numpy as np
import pytest

from lossbench.trial import keras_internals
from lossbench.trial.losses import CategoricalCrossentropy

REVISIT = "revisit lossbench/trial/keras_internals.py (Keras's private API) and tests/test_keras_internals.py"
tensorflow_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the TensorFlow pipeline")


def test_the_installed_keras_is_the_one_checked():
    assert keras.__version__ == keras_internals.KERAS_VERSION, (
        f"Keras {keras.__version__} is installed, the private API was checked on {keras_internals.KERAS_VERSION}: "
        f"{REVISIT}, then update KERAS_VERSION"
    )


@tensorflow_only
def test_array_dataset_batches_arrays_in_order_with_a_partial_last_batch():
    x = np.arange(10, dtype=np.float32)[:, None]
    dataset = keras_internals.array_dataset(x, x * 2, batch_size=4, shuffle=False)
    batches = [(np.asarray(a)[:, 0].tolist(), np.asarray(b)[:, 0].tolist()) for a, b in dataset]
    assert batches == [
        ([0, 1, 2, 3], [0, 2, 4, 6]),
        ([4, 5, 6, 7], [8, 10, 12, 14]),
        ([8, 9], [16, 18]),
    ], REVISIT


@tensorflow_only
def test_array_dataset_shuffles_every_row_once_and_takes_lists():
    keras.utils.set_random_seed(0)
    x = np.arange(12, dtype=np.float32)[:, None]
    dataset = keras_internals.array_dataset([x, x + 100], [x, x], batch_size=5, shuffle=True)
    seen = [np.asarray(xs[0])[:, 0] for xs, _ in dataset]
    rows = np.concatenate(seen)
    assert sorted(rows.tolist()) == list(range(12)) and rows.tolist() != list(range(12)), REVISIT
    assert [len(s) for s in seen] == [5, 5, 2], REVISIT


@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_dtype_policy_name_of_a_loss(policy):
    loss = CategoricalCrossentropy(dtype=policy)
    assert keras_internals.dtype_policy_name(loss) == policy, REVISIT
    assert CategoricalCrossentropy.from_config(loss.get_config()).get_config()["dtype"] == policy, REVISIT
