"""Keras's `predict` under a large ``steps_per_execution`` (docs/facts.md #22): the cmr U-Net, 80 test slices.

    python benchmarks/spe_predict.py        # one core, one TensorFlow thread, ~1 min

Prints, for ``steps_per_execution`` 1 and 50 (twice each), the time of ``fit`` (8 epochs, with
``validation_data``) and of ``predict`` on the test split at batch 4 (20 steps).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1 if os.cpu_count() > 1 else 0})
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    import numpy as np

    from lossbench.data import zscore
    from lossbench.data.phantom import load
    from lossbench.model import unet
    from lossbench.trial import batches

    data = load(n_subjects={"train": 20, "val": 6, "test": 8}, slices_per_subject=10, image_size=48, seed=2024)
    x = {n: zscore(s.images) for n, s in (("train", data.train), ("val", data.val), ("test", data.test))}
    y = {n: np.eye(4, dtype=np.float32)[s.labels] for n, s in (("train", data.train), ("val", data.val))}
    for steps in (1, 50, 1, 50):
        keras.utils.set_random_seed(0)
        net = unet((48, 48, 1), 4, base=8, depth=4)
        model = keras.Model(net.input, keras.layers.Softmax()(net.output))
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", steps_per_execution=steps)
        model.optimizer.build(model.trainable_variables)
        started = time.perf_counter()
        model.fit(
            **batches(x["train"], y["train"], 4, shuffle=True),
            epochs=8,
            validation_data=(x["val"], y["val"]),
            verbose=0,
        )
        fitted = time.perf_counter()
        model.predict(x["test"], batch_size=4, verbose=0)
        print(
            f"steps_per_execution={steps:<3d} fit {fitted - started:5.2f} s   predict {time.perf_counter() - fitted:5.2f} s"
        )


if __name__ == "__main__":
    main()
