"""One pairing, end to end: build, audit, fit, evaluate, judge - and return everything measured.

`run_trial(cfg)` is the hub every entry point calls. It never touches a store:
`lossbench.sweep.tracking` logs what it returns. ``on_epoch(epoch, row, levels)`` lets
a caller watch (progress bar, live MLflow curves) or stop (it returns True, or a string naming the
rule, e.g. "stopped_early": the trial is pruned)
after each epoch; the curves measured so far are kept and judged either way.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache

import keras
import numpy as np
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from lossbench.config import objective, pairing_name  # (lossbench.trial.run.pairing_name, as before)
from lossbench.data import VOID, SegmentationData, zscore
from lossbench.errors import DataError, InvalidPairing, UserError
from lossbench.trial import metrics
from lossbench.trial.audit import Audit, audit_pairing
from lossbench.trial.model import build_model
from lossbench.trial.verdict import judge


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

    objective_key: str = "val/foreground_dice"  # sweep.objective: what Optuna is told

    @property
    def objective(self) -> float:
        values = self.curves.get(self.objective_key, [])
        return float(values[-1]) if values else 0.0


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


def build_optimizer(optimizer_cfg):
    """The Keras optimizer of ``conf/optimizer/<name>.yaml`` (its ``label`` is for reports, not for Keras)."""
    return instantiate({k: v for k, v in optimizer_cfg.items() if k != "label"})


def encode(labels: np.ndarray, encoding: str, num_classes: int) -> np.ndarray:
    """Integer label maps as the loss is given them: ``sparse`` (N,H,W) or ``one_hot`` (N,H,W,C).

    Void pixels (`VOID`) stay `VOID` in sparse labels and become an all-zero row in one-hot ones.

    >>> encode(np.array([[0, 1, VOID]]), "one_hot", 2).tolist()
    [[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]
    """
    if encoding == "sparse":
        return labels.astype(np.int32)
    if labels.size and labels.max() >= num_classes:
        return np.eye(num_classes + 1, dtype=np.float32)[np.minimum(labels, num_classes)][..., :num_classes]
    return np.eye(num_classes, dtype=np.float32)[labels]


def as_targets(labels: np.ndarray, cfg: DictConfig) -> np.ndarray:
    """The label maps the loss is trained against.

    ``data.reshape_mismatch=true`` reproduces thread 1's answer 3 pitfall: the
    labels flattened column-major while the outputs are flattened row-major.
    For square images that pairs every output pixel (r, c) with the label of
    pixel (c, r): the net is trained against transposed masks. Metrics are
    always computed against the true masks.
    """
    if cfg.data.get("reshape_mismatch", False):
        n, h, w = labels.shape
        return labels.reshape(n, h * w, order="F").reshape(n, h, w)
    return labels


def label_encoding(cfg: DictConfig, loss) -> str:
    chosen = cfg.data.label_encoding
    if chosen == "auto":
        return "sparse" if getattr(loss, "sparse_labels", False) else "one_hot"
    return chosen


def levels(loss, labels: np.ndarray, shares: np.ndarray, encoding: str, num_classes: int, weights=None) -> dict:
    """Chance level (a uniform guess) and prior level (the training class shares everywhere).

    Both are the trial's own loss (weights included) on the validation labels
    for constant probability maps: 1/C per class (0.5 per channel for binary
    CE), and the training shares (times the class weights, renormalised, for a
    weighted loss: the best constant guess under those weights).
    """
    binary = bool(getattr(loss, "per_channel", False))
    y = encode(labels, encoding, num_classes)  # void pixels: the loss leaves them out (its ignore_index)
    ones = np.ones(labels.shape + (num_classes,), np.float32)
    uniform = ones * (0.5 if binary else 1.0 / num_classes)
    per_pixel = weights is not None and getattr(loss, "family", "cross_entropy") == "cross_entropy"
    best = shares * (np.asarray(weights) if per_pixel else 1.0)  # Dice family: weights scale class terms
    prior = ones * (best / best.sum()).astype(np.float32)
    evaluate = loss.__class__.from_config({**loss.get_config(), "from_logits": False})
    return {"chance_loss": float(evaluate(y, uniform)), "prior_loss": float(evaluate(y, prior))}


def compiled_pass(model, loss):
    """``fn(x, y) -> (outputs, loss)`` for one batch, compiled as Keras's test step is (graph mode; jit on JAX).

    One forward pass gives both what the model outputs and the loss Keras would report for the batch:
    in graph mode a Keras softmax/sigmoid output still carries its logits, so the loss reads them
    exactly as in ``fit`` and ``evaluate`` (FACTS #2). Every evaluation of a trial goes through it (the
    audit, the first batch, each epoch's validation, the test split), so a trial traces it once.
    """
    return compiled_call(model, lambda outputs, y: (outputs, loss(y, outputs)))


def compiled_call(model, head):
    """``fn(x, y) -> head(model(x), y)``, compiled: a ``tf.function`` on TensorFlow, a jitted stateless call on JAX.

    On JAX there is no logits shortcut (results/backends/); the variables are passed in, so the jitted
    function sees the weights as they are now, not as they were traced.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def step(x, y):
            return head(model(x, training=False), y)

        return step

    import jax

    @jax.jit
    def stateless(trainable, non_trainable, x, y):
        outputs, _ = model.stateless_call(trainable, non_trainable, x, training=False)
        return head(outputs, y)

    def step(x, y):
        return stateless(
            [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables], x, y
        )

    return step


def evaluate(fn, x: np.ndarray, y: np.ndarray, batch: int) -> tuple[np.ndarray, float]:
    """All outputs of ``x`` and the loss as Keras's ``evaluate`` averages it (batch losses weighted by size)."""
    outputs, total = [], 0.0
    for start in range(0, len(x), batch):
        out, value = fn(x[start : start + batch], y[start : start + batch])
        outputs.append(np.asarray(out))
        total += float(value) * len(outputs[-1])
    return np.concatenate(outputs), total / len(x)


def batches(x, y, batch: int, shuffle: bool) -> dict:
    """The arguments that make ``model.fit(**batches(...))`` see what ``fit(x, y, batch, shuffle)`` sees, faster.

    On the TensorFlow backend Keras turns arrays into a tf.data pipeline whose parallel map and
    prefetch are autotuned; tearing that pipeline down when an epoch ends takes about 0.45 s on
    one core, against 0.8 s of train steps in a cmr epoch (docs/facts.md #19). This is Keras's own pipeline (the same
    batches in the same order: tests/test_batches.py) with tf.data's autotuning off. Other
    backends get the arrays as they are.
    """
    if keras.backend.backend() != "tensorflow":
        return {"x": x, "y": y, "batch_size": batch, "shuffle": shuffle}
    import tensorflow as tf
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    options = tf.data.Options()
    options.autotune.enabled = False
    steps = math.ceil(len(x[0] if isinstance(x, list | tuple) else x) / batch)
    dataset = ArrayDataAdapter(x, y, batch_size=batch, shuffle=shuffle).get_tf_dataset()
    dataset = dataset.with_options(options).apply(tf.data.experimental.assert_cardinality(steps))
    return {"x": dataset, "shuffle": False}  # it shuffles itself (shuffle=True would only warn)


def record_epoch(result: TrialResult, epoch: int, train_loss: float, val_loss: float, outputs, data, cfg, on_epoch):
    """One epoch of a trial from its validation outputs: the curves, the overlay slices, ``on_epoch``.

    Returns None to go on, ``"diverged"`` when a loss is no longer finite, or the rule that stopped
    the trial (``result`` is then marked pruned after this epoch).
    """
    names, binary = list(data.class_names), bool(getattr(result, "binary", False))
    figures = metrics.summarise(
        data.val.labels, outputs, len(names), binary, bool(cfg.activation.logits_out), background=data.background
    )
    result.predictions = {
        "images": data.val.images[:4],
        "truth": data.val.labels[:4],
        "pred": metrics.predicted_labels(outputs[:4]),
        "class_names": names,
        "background": data.background,
    }
    row = {"train/loss": float(train_loss), "val/loss": float(val_loss)}
    row |= {f"val/{k}": v for k, v in figures.items() if not k.startswith("per_class")}
    row |= per_class_figures("val", figures, names, data.background)
    for key, value in row.items():
        result.curves.setdefault(key, []).append(value)
    stop = on_epoch(epoch, row, result.final) if on_epoch is not None else False
    if stop:
        result.state = "pruned"
        result.stopped_by = stop if isinstance(stop, str) else "pruner"
        result.pruned_at = epoch + 1
        return result.stopped_by
    if not (math.isfinite(row["train/loss"]) and math.isfinite(row["val/loss"])):
        return "diverged"
    return None


class _EpochWatcher(keras.callbacks.Callback):
    """After every epoch: one pass over the validation split (outputs and loss), then `record_epoch`."""

    def __init__(self, result, data, cfg, y_val, fn, batch_size, on_epoch):
        super().__init__()
        self.result, self.data, self.cfg, self.y_val, self.fn = result, data, cfg, y_val, fn
        self.batch_size, self.on_epoch, self.seconds = batch_size, on_epoch, 0.0

    def on_epoch_end(self, epoch, logs=None):
        t0 = time.perf_counter()
        outputs, val_loss = evaluate(self.fn, self.data.val.images, self.y_val, self.batch_size)
        self.seconds += time.perf_counter() - t0
        if record_epoch(self.result, epoch, logs["loss"], val_loss, outputs, self.data, self.cfg, self.on_epoch):
            self.model.stop_training = True


def per_class_figures(prefix: str, figures: dict, names: list, background) -> dict:
    """``{prefix}/dice/<class>`` and ``{prefix}/iou/<class>`` for every scored class (all but the background).

    A class absent from both truth and prediction scores 0.
    """
    row = {}
    scored = metrics.scored_classes(len(names), background)
    for c in scored:
        row[f"{prefix}/dice/{names[c]}"] = float(np.nan_to_num(figures["per_class_dice"][c]))
    for c in scored:
        row[f"{prefix}/iou/{names[c]}"] = float(np.nan_to_num(figures["per_class_iou"][c]))
    return row


def _freeze_imports() -> None:
    """Move what the process holds before its first trial (modules, data) out of the garbage collector's sight.

    ``keras.backend.clear_session`` collects garbage before every trial; with TensorFlow, MLflow and
    their modules tracked that walk takes 0.35 s a trial here. Frozen once, it walks one trial's objects.
    """
    import gc

    if not gc.get_freeze_count():
        gc.collect()
        gc.freeze()


def pairing(cfg: DictConfig, data: SegmentationData):
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
    return result, loss, label_encoding(cfg, loss), weights


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
        warm = _warm[0]
        fresh = network(cfg, C, input_shape)  # the seed's initial weights, drawn as a fresh build draws them
        if len(fresh.variables) == len(warm.model.variables):
            for target, source in zip(warm.model.variables, fresh.variables, strict=True):
                target.assign(source)
            for variable, start in zip(warm.model.optimizer.variables, warm.optimizer_start, strict=True):
                variable.assign(start)
            return warm
    _warm.clear()
    keras.backend.clear_session()  # its garbage collection now walks one trial's objects, not every module's
    model = network(cfg, C, input_shape)
    jit = cfg.trainer.get("jit_compile", "auto")
    model.compile(
        optimizer=build_optimizer(cfg.optimizer),
        loss=loss,
        steps_per_execution=steps_per_execution(cfg, n_train),
        jit_compile=jit if jit == "auto" else bool(jit),
    )
    model.optimizer.build(model.trainable_variables)  # now: built inside fit, the step is traced twice (1.2 s)
    start = [np.array(v.numpy()) for v in model.optimizer.variables]
    _warm.append(_Compiled(key, model, loss, compiled_pass(model, loss), start))
    return _warm[0]


def run_trial(cfg: DictConfig, on_epoch=None, data: SegmentationData | None = None) -> TrialResult:
    """Train and evaluate the pairing ``cfg`` describes. Raises `InvalidPairing` before training."""
    started = time.perf_counter()
    data = data or load_data(cfg)
    C = data.num_classes
    result, loss, encoding, weights = pairing(cfg, data)
    binary = result.binary
    _freeze_imports()
    compiled = _compiled_model(cfg, C, loss, weights, len(data.train.images), data.train.images.shape[1:])
    model, loss, fn = compiled.model, compiled.loss, compiled.fn
    y_train = encode(as_targets(data.train.labels, cfg), encoding, C)
    y_val = encode(as_targets(data.val.labels, cfg), encoding, C)
    batch = int(cfg.trainer.batch_size)
    result.seconds["setup"] = time.perf_counter() - started
    result.audit = audit_pairing(model, loss, data.train.images[:batch], y_train[:batch], fn)
    if result.audit.tag == "invalid":
        raise InvalidPairing(f"{pairing_name(cfg)} with {encoding} labels: {result.audit.reason}")
    first_batch = float(fn(data.train.images[:batch], y_train[:batch])[1])
    result.final |= {
        "first_batch_loss": first_batch,
        **levels(loss, data.val.labels, data.class_shares("train"), encoding, C, weights),
    }
    result.seconds["audit"] = time.perf_counter() - started - result.seconds["setup"]

    watcher = _EpochWatcher(result, data, cfg, y_val, fn, batch, on_epoch)
    fitting = time.perf_counter()
    try:
        model.fit(
            **batches(data.train.images, y_train, batch, shuffle=True),
            epochs=int(cfg.trainer.epochs),
            verbose=0,
            callbacks=[watcher],
        )
    finally:
        result.seconds["validation"] = watcher.seconds
        result.seconds["fit"] = time.perf_counter() - fitting - watcher.seconds
        result.epochs_trained = len(result.curves.get("train/loss", []))
        finish(result, fn, data, cfg, binary, batch, encode(data.test.labels, encoding, C))
    return result


def finish(result: TrialResult, fn, data: SegmentationData, cfg, binary: bool, batch: int, y_test) -> None:
    """Evaluate on the test split (per subject) and give the verdict; runs even when pruned."""
    t0 = time.perf_counter()
    outputs, _ = evaluate(fn, data.test.images, y_test, batch)
    judge_test(result, outputs, data, cfg, binary)
    result.seconds["test"] = time.perf_counter() - t0


def judge_test(result: TrialResult, outputs, data: SegmentationData, cfg, binary: bool) -> None:
    """The test figures (per class, per subject) from the test split's outputs, then the verdict."""
    background = data.background
    figures = metrics.summarise(
        data.test.labels,
        outputs,
        data.num_classes,
        binary,
        bool(cfg.activation.logits_out),
        subjects=data.test.subjects,
        background=background,
    )
    result.final |= {f"test/{k}": v for k, v in figures.items() if not k.startswith("per_class")}
    result.final |= per_class_figures("test", figures, data.class_names, background)
    pred = metrics.predicted_labels(outputs)
    for subject in np.unique(data.test.subjects):
        rows = data.test.subjects == subject
        per_class = metrics.dice_per_class(data.test.labels[rows], pred[rows], data.num_classes)
        result.final[f"test/subject/{subject}/foreground_dice"] = metrics.foreground_dice(per_class, background)
    labelled = data.val.labels[data.val.labels < data.num_classes]
    true_background = None if background is None else float(np.mean(labelled == background))
    result.verdict, result.reason = judge(
        result.curves, result.final["chance_loss"], result.final["prior_loss"], true_background
    )
    if result.pruned_at:
        result.reason += f" (decided by pruning after epoch {result.pruned_at})"
