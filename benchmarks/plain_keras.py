"""The cmr trial as a user would write it in plain Keras: the yardstick of `bench_overhead.py`.

    python benchmarks/plain_keras.py [THREADS]

Same data (the built-in phantom, z-scored), same U-Net, same loss, optimizer, batch size, epochs
and validation split as ``python -m lossbench.train +experiment=cmr loss=categorical_crossentropy
activation=softmax optimizer=adam class_weighting=none``; it trains, validates every epoch and
predicts the test split. Nothing is logged, audited or plotted.
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def train(
    x: dict, y: dict, size: int = 48, base: int = 8, batch: int = 4, epochs: int = 8, classes: int = 4, tuned=False
) -> None:
    """Build, compile, fit with ``validation_data``, predict the test split: the trial in plain Keras.

    ``tuned``: with the two changes lossbench makes to how Keras trains (docs/facts.md #19, #21): the
    optimizer built before ``fit`` and the training arrays fed without tf.data autotuning.
    """
    import keras

    from lossbench.trial.model import unet

    keras.utils.set_random_seed(0)
    net = unet((size, size, 1), classes, base=base, depth=4)
    model = keras.Model(net.input, keras.layers.Softmax()(net.output))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.CategoricalCrossentropy())
    if tuned:
        from lossbench.trial.passes import batches

        model.optimizer.build(model.trainable_variables)
        fed = batches(x["train"], y["train"], batch, shuffle=True)
    else:
        fed = {"x": x["train"], "y": y["train"], "batch_size": batch}
    model.fit(**fed, epochs=epochs, validation_data=(x["val"], y["val"]), verbose=0)
    model.predict(x["test"], batch_size=batch, verbose=0)


def main(threads: int = 1) -> float:
    started = time.perf_counter()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    import numpy as np

    from lossbench.data import zscore
    from lossbench.data.phantom import load

    data = load(n_subjects={"train": 20, "val": 6, "test": 8}, slices_per_subject=10, image_size=48, seed=2024)
    x = {name: zscore(split.images) for name, split in (("train", data.train), ("val", data.val), ("test", data.test))}
    y = {name: np.eye(4, dtype=np.float32)[split.labels] for name, split in (("train", data.train), ("val", data.val))}
    train(x, y)
    return time.perf_counter() - started


if __name__ == "__main__":
    seconds = main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    print(f"plain Keras: {seconds:.2f} s after the interpreter started")
