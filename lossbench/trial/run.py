"""One pairing, end to end: build, audit, fit, evaluate, judge - and return everything measured.

`run_trial(cfg)` is the hub every entry point calls. It never touches a store:
`lossbench.sweep.tracking` logs what it returns. ``on_epoch(epoch, row, levels)`` lets
a caller watch (progress bar, live MLflow curves) or stop (it returns True, or a string naming the
rule, e.g. "stopped_early": the trial is pruned)
after each epoch; the curves measured so far are kept and judged either way. The stages are
`lossbench.trial.stages`, which a pack (`lossbench.trial.pack`) drives too.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

import keras
import numpy as np
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from lossbench.data import SegmentationData, zscore
from lossbench.errors import DataError, UserError
from lossbench.trial.passes import batches, compiled_pass, one_lane
from lossbench.trial.stages import (
    TrialResult,
    audit_lanes,
    compile_for_fit,
    evaluator,
    freeze_imports,
    lane,
    network,
    refusal,
    start,
    train,
    weights_device,
)


@lru_cache(maxsize=2)
def _load_data(loader_yaml: str, normalise: str) -> SegmentationData:
    data = instantiate(OmegaConf.create(loader_yaml))
    if normalise == "zscore":
        for split in (data.train, data.val, data.test):
            split.images = zscore(split.images)
    return data


def load_data(cfg: DictConfig) -> SegmentationData:
    """Instantiate ``cfg.data.loader`` (cached per process: a sweep loads its data once) and check labels."""
    try:
        data = _load_data(OmegaConf.to_yaml(cfg.data.loader, resolve=True), str(cfg.data.get("normalise", "none")))
    except InstantiationException as error:  # Hydra wraps the loader's own one-line error
        if isinstance(error.__cause__, UserError):
            raise error.__cause__ from None
        raise
    if data.ignore_index is None:
        for name in ("train", "val", "test"):
            labels = getattr(data, name).labels
            if labels.size and int(labels.max()) >= data.num_classes:
                raise DataError(
                    f"data {cfg.data.name}: {name} label value {int(labels.max())} >= num_classes "
                    f"{data.num_classes} - set data.num_classes, or data.ignore_index if it marks unlabelled pixels"
                )
    if data.num_classes != cfg.data.num_classes:
        raise DataError(
            f"data {cfg.data.name} has {data.num_classes} classes but data.num_classes="
            f"{cfg.data.num_classes} - set data.num_classes={data.num_classes}"
        )
    return data


@dataclass
class _Compiled:
    """The last trial's compiled model, kept for the next trial that differs from it only in the seed."""

    key: str
    model: object
    loss: object
    fn: object
    optimizer_start: list  # the optimizer's variables as built, before any step


_warm: list[_Compiled] = []  # at most one


def steps_per_execution(cfg: DictConfig, n_train: int) -> int:
    """``trainer.steps_per_execution``: a count, or ``epoch`` = every step of an epoch in one compiled call.

    Fewer calls spend less time in Python between steps (0.4-0.8 s of a cmr trial) and train the same
    weights (docs/facts.md #22; tests/test_batches.py).
    """
    steps = cfg.trainer.get("steps_per_execution", 1)
    return math.ceil(n_train / int(cfg.trainer.batch_size)) if steps == "epoch" else int(steps)


def _reset_warm(cfg: DictConfig, C: int, input_shape) -> _Compiled | None:
    """The last trial's compiled model with this seed's initial weights and a fresh optimizer, if it fits."""
    warm = _warm[0]
    fresh = network(cfg, C, input_shape)  # the seed's initial weights, drawn as a fresh build draws them
    if len(fresh.variables) != len(warm.model.variables):
        return None
    for target, source in zip(warm.model.variables, fresh.variables, strict=True):
        target.assign(source)
    for variable, begin in zip(warm.model.optimizer.variables, warm.optimizer_start, strict=True):
        variable.assign(begin)
    return warm


def _compiled_model(cfg: DictConfig, C: int, loss, weights, n_train: int, input_shape=None) -> _Compiled:
    """The trial's model compiled with ``loss``, ready for ``fit``: built anew, or the last trial's reset.

    A trial that differs from the previous one in this process only in ``trainer.seed`` reuses its
    compiled model and traced functions (1.4 s of a cmr trial): it gets the weights a fresh build
    under its own seed gives, and the optimizer's variables as they were before the first step.
    It trains bit for bit as a fresh build (tests/test_batches.py). TensorFlow backend only: on JAX a model
    reused this way trained differently from a fresh build (other curves after 3 epochs), so each
    JAX trial is built anew.
    """
    settings = OmegaConf.to_container(cfg, resolve=True)
    settings["trainer"].pop("seed", None)
    key = repr((settings, weights if weights is None else [float(w) for w in weights]))
    if _warm and _warm[0].key == key and keras.backend.backend() == "tensorflow":
        warm = _reset_warm(cfg, C, input_shape)
        if warm is not None:
            return warm
    _warm.clear()
    keras.backend.clear_session()  # its garbage collection now walks one trial's objects, not every module's
    model = network(cfg, C, input_shape)
    jit = cfg.trainer.get("jit_compile", "auto")
    compile_for_fit(
        model,
        cfg.optimizer,
        loss,
        steps_per_execution=steps_per_execution(cfg, n_train),
        jit_compile=jit if jit == "auto" else bool(jit),
    )
    start_values = [np.array(v.numpy()) for v in model.optimizer.variables]
    _warm.append(_Compiled(key, model, loss, compiled_pass(model, loss), start_values))
    return _warm[0]


def run_trial(cfg: DictConfig, on_epoch=None, data: SegmentationData | None = None) -> TrialResult:
    """Train and evaluate the pairing ``cfg`` describes. Raises `InvalidPairing` before training."""
    started = time.perf_counter()
    data = data or load_data(cfg)
    freeze_imports()
    trial = lane(cfg, data, on_epoch)  # build
    images = data.train.images
    compiled = _compiled_model(cfg, data.num_classes, trial.loss, trial.weights, len(images), images.shape[1:])
    trial.model, trial.loss, fn = compiled.model, compiled.loss, one_lane(compiled.fn)
    batch, seconds = int(cfg.trainer.batch_size), trial.result.seconds
    seconds["setup"] = time.perf_counter() - started
    if audit_lanes([trial], fn, images[:batch], batch):  # audit
        raise refusal(trial, trial.result.audit)
    start([trial], fn, data, batch)
    seconds["audit"] = time.perf_counter() - started - seconds["setup"]
    seconds |= {"validation": 0.0, "fit": 0.0, "test": 0.0}
    fed = batches(images, trial.y["train"], batch, shuffle=True)

    def fit_epoch(epoch: int) -> dict:
        return compiled.model.fit(**fed, epochs=epoch + 1, initial_epoch=epoch, verbose=0).history

    epochs = int(cfg.trainer.epochs)  # fit epoch by epoch, evaluate, judge
    trial.result.epochs_trained = train([trial], data, epochs, fit_epoch, evaluator(fn, [trial], data, batch), seconds)
    trial.result.trained_on = weights_device(compiled.model)
    return trial.result
