"""Would training several trials in one compiled program pay on this CPU? Three ways to train K cmr U-Nets.

    python benchmarks/bench_packing.py [--epochs 2] [--ks 1 2 4]       # ~4 min, one core, one thread

For K = 1, 2, 4 the same K independent U-Nets (48x48, base 8, batch 4, Adam, categorical CE +
softmax, 200 slices), each with its own weights, loss and input stream:

- ``separate``: K models trained one after another (what K sweep trials do today);
- ``stacked``: one Keras model holding the K networks side by side, one input and one output (own
  softmax after its own logits) per member, one ``fit``: one compiled step runs K networks;
- ``grouped``: one network whose convolutions are grouped (``groups=K``), each member a slice of
  the channels: one convolution per layer for all K members (K = 2 only, and 1 epoch: slow here).

It prints seconds per epoch for each; packing pays where ``stacked`` or ``grouped`` beats ``separate``.
``XLA`` is ``separate`` at K = 1 with ``jit_compile=True`` (what ``trainer.jit_compile=true`` does).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
N, SIZE, BATCH, C = 200, 48, 4, 4


def data(k: int):
    import numpy as np

    rng = np.random.default_rng(0)
    x = [rng.random((N, SIZE, SIZE, 1), dtype=np.float32) for _ in range(k)]
    y = [np.eye(C, dtype=np.float32)[rng.integers(0, C, (N, SIZE, SIZE))] for _ in range(k)]
    return x, y


def member(seed: int, name: str):
    import keras

    from lossbench.trial.model import unet

    keras.utils.set_random_seed(seed)
    net = unet((SIZE, SIZE, 1), C, base=8)
    net.name = name
    return net


def separate(k: int, epochs: int, jit: bool = False) -> float:
    import keras

    from lossbench.trial.passes import batches

    x, y = data(k)
    started = time.perf_counter()
    for i in range(k):
        net = member(i, f"m{i}")
        model = keras.Model(net.input, keras.layers.Softmax()(net.output))
        model.compile(optimizer="adam", loss="categorical_crossentropy", jit_compile=jit)
        model.optimizer.build(model.trainable_variables)  # as run_trial trains (FACTS #19, #21)
        model.fit(**batches(x[i], y[i], BATCH, shuffle=True), epochs=epochs, verbose=0)
    return (time.perf_counter() - started) / epochs


def stacked(k: int, epochs: int) -> float:
    import keras

    from lossbench.trial.passes import batches

    x, y = data(k)
    started = time.perf_counter()
    inputs = [keras.Input((SIZE, SIZE, 1)) for _ in range(k)]
    outputs = [keras.layers.Softmax(name=f"out{i}")(member(i, f"m{i}")(inputs[i])) for i in range(k)]
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=["categorical_crossentropy"] * k)
    model.optimizer.build(model.trainable_variables)
    model.fit(**batches(x, y, BATCH, shuffle=True), epochs=epochs, verbose=0)
    return (time.perf_counter() - started) / epochs


def grouped(k: int, epochs: int) -> float:
    import keras
    import numpy as np

    from lossbench.trial.passes import batches

    def double(t, filters):
        for _ in range(2):
            t = keras.layers.Conv2D(filters * k, 3, padding="same", activation="relu", groups=k)(t)
        return t

    def concat(a, b):  # per member: [a_k, b_k], keeping each member's channels together
        h, w = a.shape[1], a.shape[2]
        a = keras.layers.Reshape((h, w, k, a.shape[-1] // k))(a)
        b = keras.layers.Reshape((h, w, k, b.shape[-1] // k))(b)
        return keras.layers.Reshape((h, w, -1))(keras.layers.Concatenate()([a, b]))

    x, y = data(k)
    started = time.perf_counter()
    inp = keras.Input((SIZE, SIZE, k))
    t, skips = inp, []
    for level in range(4):
        t = double(t, 8 * 2**level)
        skips.append(t)
        t = keras.layers.MaxPooling2D(2)(t)
    t = double(t, 8 * 16)
    for level in reversed(range(4)):
        t = concat(keras.layers.UpSampling2D(2)(t), skips[level])
        t = double(t, 8 * 2**level)
    logits = keras.layers.Conv2D(C * k, 1, groups=k)(t)
    outs = [
        keras.layers.Softmax()(keras.layers.Lambda(lambda z, i=i: z[..., i * C : (i + 1) * C])(logits))
        for i in range(k)
    ]
    model = keras.Model(inp, outs)
    model.compile(optimizer="adam", loss=["categorical_crossentropy"] * k)
    model.optimizer.build(model.trainable_variables)
    model.fit(**batches(np.concatenate(x, axis=-1), y, BATCH, shuffle=True), epochs=epochs, verbose=0)
    return (time.perf_counter() - started) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--cpu", type=int, default=1)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    from lossbench.runtime import configure, machine

    configure(threads=1)
    print(f"{machine()['cpu']}, core {args.cpu}, 1 TensorFlow thread; seconds per epoch (build and trace included)")
    print(f"{'K':>2} {'separate':>9} {'stacked':>9} {'grouped':>9} {'XLA':>9}")
    for k in args.ks:
        sep, stk = separate(k, args.epochs), stacked(k, args.epochs)
        grp = f"{grouped(k, 1):9.1f}" if k == 2 else f"{'-':>9}"
        xla = f"{separate(k, args.epochs, jit=True):9.1f}" if k == 1 else f"{'-':>9}"
        print(f"{k:>2} {sep:9.1f} {stk:9.1f} {grp} {xla}", flush=True)


if __name__ == "__main__":
    main()
