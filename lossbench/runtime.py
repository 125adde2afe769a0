"""Process set-up that must happen before TensorFlow runs its first op."""

from __future__ import annotations

import os
import warnings

# Keras repeats "from_logits=True but the output was produced by a Softmax" once per trace; the
# audit records what Keras really computed for every trial, so the console need not.
warnings.filterwarnings("ignore", category=UserWarning, module=r"keras\..*")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported anywhere


def configure_threads(threads: int) -> None:
    """Give TensorFlow ``threads`` intra- and inter-op threads (0 keeps its default)."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # retracing notices are about Keras internals, not the user
    if threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
