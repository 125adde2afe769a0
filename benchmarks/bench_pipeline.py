"""Where an epoch of `fit` goes: the steps, and the wait before the next epoch's first batch (FACTS #19).

    python benchmarks/bench_pipeline.py [--epochs 4] [--cpu 1]      # about 30 s

The cmr U-Net (48x48, base 8, batch 4, categorical CE + softmax, Adam) on the phantom's 200
training slices, pinned to one core with one TensorFlow thread, trained twice: ``fit`` on the NumPy
arrays (Keras's autotuned tf.data pipeline) and ``fit(**lossbench.trial.run.batches(...))`` (the same
pipeline, autotuning off). Per epoch after the first (which traces), it prints the seconds spent in
train steps and the seconds between one epoch's end and the next epoch's first step.
"""

from __future__ import annotations

import argparse
import os
import time


def epochs(fast: bool, x, y, n: int) -> list[tuple[float, float]]:
    """(seconds in steps, seconds before the first step) for each epoch."""
    import keras

    from lossbench.trial.model import unet
    from lossbench.trial.passes import batches

    keras.utils.set_random_seed(0)
    net = unet((48, 48, 1), 4, base=8, depth=4)
    model = keras.Model(net.input, keras.layers.Softmax()(net.output))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)  # one trace in both runs (FACTS #21)
    marks: list[tuple[str, float]] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            marks.append(("end", time.perf_counter()))

        def on_train_batch_begin(self, batch, logs=None):
            marks.append(("begin", time.perf_counter()))

        def on_train_batch_end(self, batch, logs=None):
            marks.append(("step", time.perf_counter()))

    fed = batches(x, y, 4, shuffle=True) if fast else {"x": x, "y": y, "batch_size": 4, "shuffle": True}
    model.fit(**fed, epochs=n, verbose=0, callbacks=[Clock()])
    out, steps, wait, last = [], 0.0, 0.0, None
    for kind, t in marks:
        if kind == "begin":
            if last is not None and last[0] == "end":
                wait = t - last[1]
            began = t
        elif kind == "step":
            steps += t - began
        else:
            out.append((steps, wait))
            steps, wait = 0.0, 0.0
        last = (kind, t)
    return out[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--cpu", type=int, default=1, help="the core everything is pinned to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    from lossbench.runtime import configure

    configure(threads=1)
    import numpy as np

    from lossbench.data import zscore
    from lossbench.data.phantom import load

    data = load(n_subjects={"train": 20, "val": 6, "test": 8}, slices_per_subject=10, image_size=48, seed=2024)
    x, y = zscore(data.train.images), np.eye(4, dtype=np.float32)[data.train.labels]
    print(f"cmr U-Net, {len(x)} slices at batch 4, core {args.cpu}, 1 TensorFlow thread; epochs 2-{args.epochs}")
    for fast, label in (
        (False, "fit(x, y): Keras's pipeline, autotuned"),
        (True, "fit(**batches(...)): autotuning off"),
    ):
        rows = epochs(fast, x, y, args.epochs)
        steps = " ".join(f"{s:.2f}" for s, _ in rows)
        waits = " ".join(f"{w:.3f}" for _, w in rows)
        print(f"  {label:42s} steps {steps} s | wait before the epoch's first step {waits} s")


if __name__ == "__main__":
    main()
