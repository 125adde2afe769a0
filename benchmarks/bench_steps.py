"""One compiled call per step or per epoch (``steps_per_execution``, docs/facts.md #22), on the cmr trial.

    python benchmarks/bench_steps.py        # one core, one TensorFlow thread, ~3 min

1. lossbench trials (categorical CE + softmax, Adam) under ``trainer.steps_per_execution=1`` and
   ``=epoch``: seeds 0, 1, 2 in one process, as a sweep worker runs them (seed 0 builds and
   compiles the model, seeds 1 and 2 reuse it); each trial's time and test foreground Dice (equal
   under both settings).
2. Plain Keras: ``fit`` (8 epochs, ``validation_data``) and ``predict`` on the 80 test slices at
   batch 4 (20 steps), under ``steps_per_execution`` 1 and 50, twice each.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def trials() -> None:
    from lossbench.config import compose
    from lossbench.trial import run as trial

    base = ["+experiment=cmr", "loss=categorical_crossentropy", "activation=softmax", "optimizer=adam"]
    base += ["class_weighting=none", "trainer.threads=1"]
    print("1. lossbench trials, seeds 0 (built) / 1 / 2 (reusing it): seconds, test foreground Dice")
    for steps in ("1", "epoch", "1", "epoch"):
        trial._warm.clear()
        rows = []
        for seed in (0, 1, 2):
            cfg = compose([*base, f"trainer.steps_per_execution={steps}", f"trainer.seed={seed}"])
            started = time.perf_counter()
            result = trial.run_trial(cfg)
            rows.append(f"{time.perf_counter() - started:5.2f} s {result.final['test/foreground_dice']:.6f}")
        print(f"   steps_per_execution={steps:<6s} " + "   ".join(rows))


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1 if os.cpu_count() > 1 else 0})
    from lossbench.runtime import configure

    configure(1)
    trials()
    import keras
    import numpy as np

    from lossbench.data import zscore
    from lossbench.data.phantom import load
    from lossbench.trial.model import unet
    from lossbench.trial.passes import batches

    data = load(n_subjects={"train": 20, "val": 6, "test": 8}, slices_per_subject=10, image_size=48, seed=2024)
    x = {n: zscore(s.images) for n, s in (("train", data.train), ("val", data.val), ("test", data.test))}
    y = {n: np.eye(4, dtype=np.float32)[s.labels] for n, s in (("train", data.train), ("val", data.val))}
    print("2. plain Keras, fit with validation_data and predict on the test split")
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
            f"   steps_per_execution={steps:<3d} fit {fitted - started:5.2f} s   predict {time.perf_counter() - fitted:5.2f} s"
        )


if __name__ == "__main__":
    main()
