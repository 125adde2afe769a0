"""What lossbench costs on top of plain Keras, where a trial's time goes, and how near the CPU's peak it trains.

    python benchmarks/bench_overhead.py [--repeats 3] [--cpu 1]      # make bench, ~5 min

Everything runs pinned to one CPU core (``--cpu``) with one TensorFlow thread, the cmr trial
(48x48 phantom, U-Net base 8, batch 4, 8 epochs, categorical CE + softmax, Adam, no weighting):

1. In one process, alternately: bare Keras (build, compile, ``fit`` with ``validation_data``,
   predict the test split), the same with lossbench's two changes to how Keras trains
   (docs/facts.md #19, #21), and a lossbench trial as the sweep runs it (its MLflow run opened
   first, every epoch's curves logged live, then the result, the plots and the close), on the same
   data, built and compiled from scratch as bare Keras is. Ratio = bare / lossbench (best of
   ``--repeats`` each), and the lossbench trial's split. Then the same pairing's next seed as a
   sweep worker runs it, reusing the compiled model.
2. The sweep's own cost per trial: composing the trial's config, and Optuna's ask, user attributes
   and tell on a journal store, averaged over 12 trials.
3. Whole processes: ``python benchmarks/plain_keras.py`` against ``python -m lossbench.train`` (into
   an MLflow store that already exists, as from the second run on; a fresh store is printed too),
   on one core, then on every core (``lossbench.train`` logs to MLflow from a second process).
4. Roofline: the trial's training FLOPs, counted from the model's convolutions, over the fit time,
   next to the peak of a 1024x1024 float32 matmul on the same core.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIAL = [
    "+experiment=cmr",
    "loss=categorical_crossentropy",
    "activation=softmax",
    "optimizer=adam",
    "class_weighting=none",
    "trainer.threads=1",
]


def bare_keras(cfg, data, tuned: bool = False) -> float:
    """The same trial in plain Keras (`plain_keras.train`) on the same arrays, timed from the build."""
    import numpy as np
    from plain_keras import train

    started = time.perf_counter()
    one_hot = np.eye(data.num_classes, dtype=np.float32)
    x = {"train": data.train.images, "val": data.val.images, "test": data.test.images}
    y = {"train": one_hot[data.train.labels], "val": one_hot[data.val.labels]}
    train(
        x, y, cfg.data.image_size, cfg.model.base, cfg.trainer.batch_size, cfg.trainer.epochs, data.num_classes, tuned
    )
    return time.perf_counter() - started


def lossbench_trial(cfg, data, experiment_id: str, warm: bool = False):
    """A trial as `lossbench.sweep.job` runs it: live MLflow run, run_trial, result and plots, close.

    ``warm``: as the worker's next trial of the same pairing under another seed, which reuses the
    compiled model (`lossbench.trial.run._compiled_model`); else built and compiled from scratch.
    """
    from lossbench.registry import pairing_name
    from lossbench.sweep.tracking import runs as tracking
    from lossbench.trial import run as trial
    from lossbench.trial.run import run_trial

    if warm:
        run_trial(cfg.copy(), data=data)  # the worker's previous trial: seed 0
        cfg = cfg.copy()
        cfg.trainer.seed = 1
    else:
        trial._warm.clear()

    started = time.perf_counter()
    run = tracking.TrialRun(cfg, pairing_name(cfg), experiment_id)
    logging = time.perf_counter() - started

    def on_epoch(epoch, row, levels):
        nonlocal logging
        t0 = time.perf_counter()
        run.log_epoch(epoch, row)
        logging += time.perf_counter() - t0

    result = run_trial(cfg, on_epoch=on_epoch, data=data)
    t0 = time.perf_counter()
    run.log_result(result, cfg.trainer.epochs)
    run.close(result.state)
    total = time.perf_counter() - started
    split = dict(result.seconds) | {"MLflow logging": logging + time.perf_counter() - t0}
    return total, split


def sweep_cost(tmp: Path, n: int = 12) -> dict:
    """Seconds per trial of what the sweep does around a trial: compose, Optuna ask / attributes / tell."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    from lossbench.config import compose

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.perf_counter()
    for seed in range(n):
        compose([*TRIAL, f"trainer.seed={seed}"])
    composing = (time.perf_counter() - t0) / n
    storage = JournalStorage(JournalFileBackend(str(tmp / "bench.journal")))
    study = optuna.create_study(study_name="bench", storage=storage, direction="maximize")
    for seed in range(n):
        study.enqueue_trial({"seed": seed})
    t0 = time.perf_counter()
    for _ in range(n):
        trial = study.ask()
        trial.suggest_categorical("seed", list(range(n)))
        for key in ("worker", "pairing", "choices", "mlflow_run_id", "mlflow_run_url", "state", "verdict", "reason"):
            trial.set_user_attr(key, key)
        for epoch in range(8):
            trial.report(0.5, epoch)
            trial.should_prune()
        study.tell(trial, 0.5)
    return {"compose": composing, "Optuna (ask, 8 reports, attributes, tell)": (time.perf_counter() - t0) / n}


def training_flops(model, images: int, epochs: int) -> float:
    """Multiply-adds x 2 of every convolution, x 3 for a training step (forward, input and weight gradients)."""
    import keras

    forward = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            c_in = layer.input.shape[-1]
            forward += 2 * h * w * kh * kw * c_in * c_out
    return 3.0 * forward * images * epochs


def matmul_peak(n: int = 1024, repeats: int = 20) -> float:
    """FLOP/s of an n x n float32 matmul on this thread (best of ``repeats``)."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    tf.linalg.matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def whole_process(cmd: list[str], cpus: str, env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(["taskset", "-c", cpus, *cmd], check=True, capture_output=True, cwd=ROOT, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side; the best counts")
    parser.add_argument("--cpu", type=int, default=1, help="the core everything is pinned to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    from lossbench.runtime import configure, machine

    configure(threads=1)
    from lossbench.config import compose
    from lossbench.sweep.tracking import runs as tracking
    from lossbench.trial.model import build_model
    from lossbench.trial.run import load_data

    tmp = Path(tempfile.mkdtemp(prefix="lossbench-bench-"))
    cfg = compose([*TRIAL, f"paths.results={tmp}/results"])
    data = load_data(cfg)
    experiment_id = tracking.setup(cfg, "bench")
    info = machine()
    print(
        f"machine: {info.get('cpu', '?')}, core {args.cpu}, 1 TensorFlow thread; cmr trial, {cfg.trainer.epochs} epochs"
    )

    bare_keras(cfg.copy(), data)  # warm-up: TensorFlow's first graphs and kernels, not counted
    bare, tuned, ours, warm, split, warm_split = [], [], [], [], None, None
    for _ in range(args.repeats):
        bare.append(bare_keras(cfg, data))
        tuned.append(bare_keras(cfg, data, tuned=True))
        seconds, parts = lossbench_trial(cfg, data, experiment_id)
        if not ours or seconds < min(ours):
            split = parts
        ours.append(seconds)
        seconds, parts = lossbench_trial(cfg, data, experiment_id, warm=True)
        if not warm or seconds < min(warm):
            warm_split = parts
        warm.append(seconds)
    print(f"\n1. in one process (best of {args.repeats})")
    print(f"   bare Keras       {min(bare):6.2f} s   (all: {', '.join(f'{s:.2f}' for s in bare)})")
    print(
        f"   bare Keras, tuned{min(tuned):6.2f} s   (all: {', '.join(f'{s:.2f}' for s in tuned)})"
        "   optimizer built before fit, no tf.data autotuning (docs/facts.md #19, #21)"
    )
    print(f"   lossbench trial  {min(ours):6.2f} s   (all: {', '.join(f'{s:.2f}' for s in ours)})")
    for name, value in split.items():
        print(f"     {name:<16} {value:6.2f} s")
    print(
        f"   the next seed    {min(warm):6.2f} s   (all: {', '.join(f'{s:.2f}' for s in warm)})"
        "   the same pairing under another seed, reusing the compiled model"
    )
    print("     " + " / ".join(f"{name} {value:.2f}" for name, value in warm_split.items()))
    print(f"   in-process ratio bare / lossbench = {min(bare) / min(ours):.3f}   (goal >= 0.95)")
    print(f"   tuned bare / lossbench = {min(tuned) / min(ours):.3f}   (what the trial adds beyond those two changes)")

    print("\n2. the sweep's own cost per trial")
    for name, value in sweep_cost(tmp).items():
        print(f"   {name:<42} {value * 1000:7.1f} ms")

    print(f"\n3. whole processes (best of {args.repeats}), one TensorFlow thread each")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    train = [sys.executable, "-m", "lossbench.train", *TRIAL, f"paths.results={tmp}/train"]
    everything = f"0-{os.cpu_count() - 1}"
    for cpus, label in ((str(args.cpu), "1 core"), (everything, f"{os.cpu_count()} cores")):
        fresh = whole_process([*train[:-1], f"paths.results={tmp}/fresh-{label[0]}"], cpus, env)
        plain, full = [], []
        for _ in range(args.repeats):
            plain.append(whole_process([sys.executable, "benchmarks/plain_keras.py"], cpus, env))
            full.append(whole_process(train, cpus, env))
        print(f"   {label}: python benchmarks/plain_keras.py  {min(plain):6.2f} s")
        print(f"   {label}: python -m lossbench.train ...     {min(full):6.2f} s   (fresh MLflow store: {fresh:.2f} s)")
        print(f"   {label}: whole-process ratio = {min(plain) / min(full):.3f}   (goal >= 0.90)")

    print("\n4. roofline")
    model = build_model(cfg.model, cfg.data.image_size, data.num_classes, "softmax")
    flops = training_flops(model, len(data.train), cfg.trainer.epochs)
    achieved = flops / split["fit"]
    peak = matmul_peak()
    print(
        f"   training FLOPs of the trial      {flops / 1e9:8.1f} GFLOP ({len(data.train)} images x {cfg.trainer.epochs} epochs)"
    )
    print(f"   achieved in fit                  {achieved / 1e9:8.2f} GFLOP/s")
    print(f"   matmul peak, 1 thread            {peak / 1e9:8.2f} GFLOP/s")
    print(f"   fraction of peak                 {achieved / peak:8.1%}")


if __name__ == "__main__":
    main()
