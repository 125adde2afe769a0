"""lossbench against plain Keras on CamVid: the same U-Net, data, budget, seeds and void label, test mean IoU.

    python benchmarks/bench_camvid.py [--seeds 0 1 2] [--epochs 7]

Both sides get the arrays `lossbench.trial.run.load_data` makes from ``+experiment=camvid`` (RGB 48 x 64,
per-channel z-score, void 11 stored as 255; train.txt to train, the second half of val.txt to test) and
train `lossbench.trial.model.unet` (base 8, depth 4) with Adam 1e-3, batch 8, the experiment's epochs, under
the same ``keras.utils.set_random_seed``:

- **plain Keras**: ``SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)`` on the logits
  (Keras's own void handling), ``model.fit(shuffle=True)``, ``predict`` on the test split, and
  ``keras.metrics.MeanIoU(11, ignore_class=255)`` of the arg-max;
- **lossbench**: ``python -m lossbench.train +experiment=camvid loss=sparse_categorical_crossentropy
  activation=softmax class_weighting=none`` in-process (`lossbench.trial.run.run_trial`: void left out by its
  own masking, FACTS #25), its ``test/mean_iou``.

It prints each seed's test mean IoU over the 11 classes and seconds, the means and their difference
(the goal: within 0.02). Needs ../shared/data/camvid (or LOSSBENCH_CAMVID).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TRIAL = [
    "+experiment=camvid",
    "loss=sparse_categorical_crossentropy",
    "activation=softmax",
    "class_weighting=none",
    "optimizer=adam",
    "tracking=none",
]


def plain_keras(data, seed: int, epochs: int, batch: int, base: int) -> float:
    """Test mean IoU of the U-Net trained by plain Keras with its own ``ignore_class``."""
    import keras

    from lossbench.data import VOID
    from lossbench.trial.model import unet

    keras.utils.set_random_seed(seed)
    model = unet(data.train.images.shape[1:], data.num_classes, base=base, depth=4)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=VOID),
    )
    model.fit(data.train.images, data.train.labels.astype("int32"), batch_size=batch, epochs=epochs, verbose=0)
    pred = np.argmax(model.predict(data.test.images, batch_size=batch, verbose=0), axis=-1)
    iou = keras.metrics.MeanIoU(num_classes=data.num_classes, ignore_class=VOID)
    iou.update_state(data.test.labels.astype("int32"), pred.astype("int32"))
    return float(iou.result())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="default: the camvid experiment's")
    args = parser.parse_args(argv)

    from lossbench.config import compose
    from lossbench.runtime import configure_from
    from lossbench.trial.run import load_data, run_trial

    base_cfg = compose(TRIAL + ([f"trainer.epochs={args.epochs}"] if args.epochs else []))
    configure_from(base_cfg)
    data = load_data(base_cfg)
    epochs, batch = int(base_cfg.trainer.epochs), int(base_cfg.trainer.batch_size)
    print(
        f"CamVid {data.train.images.shape[1:]} | train {len(data.train)} / test {len(data.test)} frames | "
        f"U-Net base {base_cfg.model.base} | Adam 1e-3 | batch {batch} | {epochs} epochs | {os.cpu_count()} cores"
    )
    rows = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        keras_iou = plain_keras(data, seed, epochs, batch, int(base_cfg.model.base))
        t1 = time.perf_counter()
        result = run_trial(compose(TRIAL + [f"trainer.epochs={epochs}", f"trainer.seed={seed}"]), data=data)
        t2 = time.perf_counter()
        rows.append((seed, keras_iou, t1 - t0, float(result.final["test/mean_iou"]), t2 - t1))
        print(
            f"seed {seed}: plain Keras mean IoU {keras_iou:.4f} ({t1 - t0:.1f} s) | "
            f"lossbench {rows[-1][3]:.4f} ({t2 - t1:.1f} s)",
            flush=True,
        )
    keras_mean, lb_mean = np.mean([r[1] for r in rows]), np.mean([r[3] for r in rows])
    print(
        f"mean over {len(rows)} seeds: plain Keras {keras_mean:.4f} ({np.mean([r[2] for r in rows]):.1f} s a trial)"
        f" | lossbench {lb_mean:.4f} ({np.mean([r[4] for r in rows]):.1f} s a trial)"
        f" | difference {lb_mean - keras_mean:+.4f} (goal: within 0.02)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
