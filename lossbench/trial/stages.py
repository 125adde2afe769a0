"""The stages of a trial, driven alike by a single trial (`lossbench.trial.run`) and a pack (`lossbench.trial.pack`).

A *lane* is one trial as the stages see it: its pairing, targets and network, and the slot of its
output in the model that trains it (a single trial's model has one, a pack's one per member).

- build: `lane` (the pairing and its targets), `network`, `compile_for_fit`;
- audit: `audit_lanes` (what the compiled loss really reads), `start` (first batch, chance and prior);
- fit epoch by epoch and evaluate: `train` (validation after each epoch, `record_epoch`);
- judge: `judge_lanes` (the test split, `judge_test`).

Every stage reads a pass ``fn(x, [y per lane]) -> ([outputs per lane], [loss per lane])``
(`lossbench.trial.passes`), so one code path serves one lane or many.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import NamedTuple

import keras
import numpy as np
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from lossbench.config import objective
from lossbench.data import VOID, SegmentationData
from lossbench.errors import InvalidPairing, UserError
from lossbench.registry import pairing_name
from lossbench.trial.audit import Audit, audit_pairing
from lossbench.trial.figures import judge_test, record_epoch
from lossbench.trial.model import build_model
from lossbench.trial.passes import evaluate_all
from lossbench.trial.targets import as_targets, encode, label_encoding, levels


@dataclass
class TrialResult:
    """Everything one trial measured; ``state`` is complete, pruned, invalid or failed."""

    state: str = "complete"
    audit: Audit | None = None
    curves: dict = field(default_factory=dict)
    final: dict = field(default_factory=dict)
    verdict: str = ""
    reason: str = ""
    class_weights: list | None = None
    seconds: dict = field(default_factory=dict)
    predictions: dict = field(default_factory=dict)
    pruned_at: int = 0  # the epoch after which pruning stopped the trial (0: it ran its budget)
    binary: bool = False  # the loss is per channel (binary CE): its metrics threshold each channel
    pack_size: int = 1  # trials trained together in one compiled program (sweep.pack)
    epochs_trained: int = 0  # epochs of compute spent (a pruned member of a pack trains on with the pack)
    stopped_by: str = ""  # what stopped it early: "stopped_early" (the stalled rule) or "pruner"
    trained_on: str = ""  # where the backend kept the weights ("gpu:0", "cpu:0"): `weights_device`

    objective_key: str = "val/foreground_dice"  # sweep.objective: what Optuna is told

    @property
    def objective(self) -> float:
        values = self.curves.get(self.objective_key, [])
        return float(values[-1]) if values else 0.0


class Pairing(NamedTuple):
    """A trial's fresh result (class weights filled in), its loss, label encoding and class weights."""

    result: TrialResult
    loss: object
    encoding: str
    weights: object


def pairing(cfg: DictConfig, data: SegmentationData) -> Pairing:
    """A fresh `TrialResult` with the trial's class weights, its loss and label encoding.

    Raises `InvalidPairing` when the loss refuses the weighting (e.g. a Dice without class weights).
    """
    result = TrialResult(objective_key=f"val/{objective(cfg)}")
    weights = instantiate(cfg.class_weighting)(data.train.labels, data.num_classes)
    result.class_weights = None if weights is None else [float(w) for w in weights]
    void = {} if data.ignore_index is None else {"ignore_index": VOID}  # the loss leaves void pixels out
    try:
        loss = instantiate(cfg.loss, class_weights=result.class_weights, **void)
    except InstantiationException as error:  # the loss's own one-line refusal (e.g. no class weights, no void)
        if isinstance(error.__cause__, UserError):
            raise InvalidPairing(f"{cfg.loss.name} with {cfg.class_weighting.name}: {error.__cause__}") from None
        raise
    result.binary = bool(getattr(loss, "per_channel", False))
    return Pairing(result, loss, label_encoding(cfg, loss), weights)


@dataclass
class Lane:
    """One trial in the stages: its config, pairing, targets per split, network and output slot."""

    cfg: DictConfig
    result: TrialResult
    loss: object
    encoding: str
    weights: object
    y: dict
    on_epoch: object = None
    index: int = 0  # its place in the caller's list of trials
    slot: int = 0  # its output in the model that trains it
    model: object = None
    loss_key: str = "loss"  # its training loss in the Keras history
    active: bool = True  # still recording: not stopped by pruning or divergence

    def train_loss(self, history: dict) -> float:
        return history.get(self.loss_key, history["loss"])[-1]


def lane(cfg: DictConfig, data: SegmentationData, on_epoch=None, index: int = 0) -> Lane:
    """Build stage: the pairing ``cfg`` describes and its targets (``train``, ``val``, ``test``)."""
    chosen = pairing(cfg, data)
    C = data.num_classes
    y = {split: encode(as_targets(getattr(data, split).labels, cfg), chosen.encoding, C) for split in ("train", "val")}
    y["test"] = encode(data.test.labels, chosen.encoding, C)  # the test figures read the true masks
    return Lane(cfg, *chosen, y=y, on_epoch=on_epoch, index=index, slot=index)


def network(cfg: DictConfig, num_classes: int, input_shape=None):
    """The trial's model under its seed and ``trainer.precision`` (the activation stays float32).

    ``input_shape`` is the data's (H, W, C); without it, a square grey ``data.image_size`` input.
    """
    keras.utils.set_random_seed(int(cfg.trainer.seed))
    keras.mixed_precision.set_global_policy(str(cfg.trainer.get("precision", "float32")))
    shape = input_shape or cfg.data.image_size
    try:
        return build_model(cfg.model, shape, num_classes, instantiate(cfg.activation))
    finally:
        keras.mixed_precision.set_global_policy("float32")


def build_optimizer(optimizer_cfg):
    """The Keras optimizer of ``conf/optimizer/<name>.yaml`` (its ``label`` is for reports, not for Keras)."""
    return instantiate({k: v for k, v in optimizer_cfg.items() if k != "label"})


def compile_for_fit(model, optimizer_cfg, loss, **options) -> None:
    """Compile ``model`` with ``loss`` (one, or one per output) and build its optimizer now.

    Built inside ``fit`` instead, the training step is traced twice (1.2 s of a cmr trial).
    """
    model.compile(optimizer=build_optimizer(optimizer_cfg), loss=loss, **options)
    model.optimizer.build(model.trainable_variables)


def freeze_imports() -> None:
    """Move what the process holds before its first trial (modules, data) out of the garbage collector's sight.

    ``keras.backend.clear_session`` collects garbage before every trial; with TensorFlow, MLflow and
    their modules tracked that walk takes 0.35 s a trial here. Frozen once, it walks one trial's objects.
    """
    import gc

    if not gc.get_freeze_count():
        gc.collect()
        gc.freeze()


def audit_lanes(lanes: list[Lane], fn, x0: np.ndarray, batch: int) -> list[Lane]:
    """Audit stage: each lane's loss checked on its output of ``fn`` for the first batch; the invalid lanes."""
    firsts = [each.y["train"][:batch] for each in lanes]
    for each in lanes:

        def lane_pass(x, y, slot=each.slot):
            outputs, losses = fn(x, firsts[:slot] + [y] + firsts[slot + 1 :])
            return outputs[slot], losses[slot]

        each.result.audit = audit_pairing(each.model, each.loss, x0, firsts[each.slot], lane_pass)
    return [each for each in lanes if each.result.audit.tag == "invalid"]


def refusal(each: Lane, audit: Audit) -> InvalidPairing:
    """The one-line `InvalidPairing` of a lane whose audit found its loss cannot be computed."""
    cfg = each.cfg
    return InvalidPairing(
        f"{pairing_name(cfg)} (loss={cfg.loss.name} activation={cfg.activation.name}) with {each.encoding} "
        f"labels: {audit.reason}"
    )


def start(lanes: list[Lane], fn, data: SegmentationData, batch: int) -> None:
    """The first batch's loss of every lane (its start), and its chance and prior levels."""
    x0 = data.train.images[:batch]
    _, values = fn(x0, [each.y["train"][:batch] for each in lanes])
    shares = data.class_shares("train")
    for each in lanes:
        each.result.final |= {"first_batch_loss": float(values[each.slot])}
        each.result.final |= levels(each.loss, data.val.labels, shares, each.encoding, data.num_classes, each.weights)


def evaluator(fn, lanes: list[Lane], data: SegmentationData, batch: int):
    """``evaluate(split) -> ([outputs per lane], [loss per lane])`` on ``data.<split>`` in one pass of ``fn``."""

    def evaluate(split: str):
        return evaluate_all(fn, getattr(data, split).images, [each.y[split] for each in lanes], batch)

    return evaluate


def train(lanes: list[Lane], data: SegmentationData, epochs: int, fit_epoch, evaluate, seconds: dict) -> int:
    """Fit epoch by epoch; after each, validate every lane, record its curves and ask its ``on_epoch``.

    ``fit_epoch(epoch)`` trains one epoch and returns the Keras history; ``evaluate`` is `evaluator`'s.
    A lane that stops (pruned, or diverged) is judged on the test split at once; the loop ends when
    every lane has stopped, and the lanes still going are judged after it. Returns the epochs run.
    """
    epoch = -1
    for epoch in range(epochs):
        t0 = time.perf_counter()
        history = fit_epoch(epoch)
        t1 = time.perf_counter()
        outputs, losses = evaluate("val")
        seconds["fit"] += t1 - t0
        seconds["validation"] += time.perf_counter() - t1
        stopping = [
            each
            for each in lanes
            if each.active
            and record_epoch(
                each.result,
                epoch,
                each.train_loss(history),
                losses[each.slot],
                outputs[each.slot],
                data,
                each.cfg,
                each.on_epoch,
            )
        ]
        if stopping:  # their test figures as of now (in a pack their weights train on with the others)
            judge_lanes(stopping, data, evaluate, seconds)
        if not any(each.active for each in lanes):
            break
    judge_lanes([each for each in lanes if each.active], data, evaluate, seconds)
    return epoch + 1


def judge_lanes(lanes: list[Lane], data: SegmentationData, evaluate, seconds: dict) -> None:
    """Judge stage: the test figures and verdict of ``lanes``, which then stop recording."""
    if not lanes:
        return
    t0 = time.perf_counter()
    outputs, _ = evaluate("test")
    for each in lanes:
        judge_test(each.result, outputs[each.slot], data, each.cfg, each.result.binary)
        each.active = False
    seconds["test"] += time.perf_counter() - t0


def weights_device(model) -> str:
    """The device the backend keeps ``model``'s first weight on, as ``kind:index`` ("gpu:0", "cpu:0").

    What a trial really ran on, asked of the arrays themselves: a worker pinned to a GPU that its
    framework cannot use (no CUDA build, a driver mismatch) trains on the CPU whatever ``nvidia-smi`` lists.
    """
    value = model.weights[0].value
    if callable(getattr(value, "devices", None)):  # a JAX array
        device = next(iter(value.devices()))
        return f"{device.platform}:{device.id}"
    name = str(getattr(value, "device", ""))  # TensorFlow: /job:localhost/replica:0/task:0/device:GPU:0
    kind, _, index = name.rpartition("device:")[2].partition(":")
    return f"{kind.lower()}:{index}" if name and index else "unknown"
