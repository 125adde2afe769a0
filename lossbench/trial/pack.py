"""Several trials in one compiled program (``sweep.pack=K``): K pairings trained side by side.

The members of a pack share the data, the model, the image size, batch size, epochs and the
optimizer's settings (`pack_key`); each keeps its own weights (built under its own seed, as alone),
loss, activation (applied to its own logits, so Keras's logits shortcut fires as it would alone),
class weights, label encoding and shuffling (its own permutation of the training slices every
epoch). One Keras model holds the K networks side by side, one input and one output each, and is
compiled with the K losses: its loss is their sum, so each member's gradient is its own loss's;
one optimizer steps all of them, and Adam's and momentum's state is per weight, so each member
keeps its own. A training step runs the K networks in one compiled call.

Each member is audited on the packed model (its output and loss come from the packed graph), and
every evaluation (first batch, each epoch's validation, test) is one pass of the packed model for
all members. A member that pruning stops keeps its curves, verdict and test figures as of that
epoch, but its weights go on training with the pack until every member has stopped: pruning inside
a pack saves epochs only when it stops the whole pack: each member's ``epochs_trained`` is the pack's.
``benchmarks/bench_packing.py`` measures whether it pays (on a one-thread CPU it barely does).
"""

from __future__ import annotations

import json
import time

import keras
import numpy as np
from omegaconf import OmegaConf

from lossbench.errors import InvalidPairing
from lossbench.registry import PACK_FREE
from lossbench.trial.audit import audit_pairing
from lossbench.trial.run import (
    _freeze_imports,
    as_targets,
    batches,
    build_optimizer,
    compiled_call,
    compiled_pass,
    encode,
    judge_test,
    levels,
    load_data,
    network,
    pairing,
    pairing_name,
    record_epoch,
)


def pack_key(cfg) -> str:
    """What members of one pack must share: everything but `lossbench.registry.PACK_FREE` and the seed."""
    resolved = OmegaConf.to_container(cfg, resolve=True)
    for key in (*PACK_FREE, "trainer.seed", "name"):
        *parents, leaf = key.split(".")
        node = resolved
        for parent in parents:
            node = node.get(parent, {})
        node.pop(leaf, None)
    return json.dumps(resolved, sort_keys=True, default=str)


def packed_pass(model, losses):
    """``fn(xs, ys) -> (outputs, losses)`` of every member in one compiled call of the packed model."""

    def head(outputs, ys):
        outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]  # a pack of one
        return outputs, [loss(y, out) for loss, y, out in zip(losses, ys, outputs, strict=True)]

    return compiled_call(model, head)


def evaluate_all(fn, x: np.ndarray, ys: list[np.ndarray], batch: int):
    """Every member's outputs on ``x`` and its loss averaged over batches as Keras's ``evaluate`` does."""
    outputs, totals = [[] for _ in ys], np.zeros(len(ys))
    for start in range(0, len(x), batch):
        xb = x[start : start + batch]
        outs, values = fn([xb] * len(ys), [y[start : start + batch] for y in ys])
        for k, (out, value) in enumerate(zip(outs, values, strict=True)):
            outputs[k].append(np.asarray(out))
            totals[k] += float(value) * len(xb)
    return [np.concatenate(o) for o in outputs], list(totals / len(x))


class _Member:
    """One trial of the pack: its config, result, loss, encoding, targets and network."""

    def __init__(self, index: int, cfg, data):
        self.index, self.cfg = index, cfg
        self.result, self.loss, self.encoding, self.weights = pairing(cfg, data)
        C = data.num_classes
        self.y = {
            split: encode(as_targets(getattr(data, split).labels, cfg), self.encoding, C) for split in ("train", "val")
        }
        self.y["test"] = encode(data.test.labels, self.encoding, C)
        self.model = network(cfg, C, data.train.images.shape[1:])
        for layer in self.model.layers:  # unique names in the packed model
            layer.name = f"m{index}_{layer.name}"
        self.model.logits_name = f"m{index}_{self.model.logits_name}"
        self.rng = np.random.default_rng(int(cfg.trainer.seed))
        self.active = True


def run_pack(cfgs: list, on_epochs: list, data=None) -> list:
    """Train the pairings ``cfgs`` (one `pack_key`) as one pack; one `TrialResult` or `InvalidPairing` each."""
    started = time.perf_counter()
    data = data or load_data(cfgs[0])
    if len({pack_key(c) for c in cfgs}) > 1:
        raise ValueError("the members of a pack must share everything but loss, activation, weighting and seed")
    _freeze_imports()
    keras.backend.clear_session()
    out: list = [None] * len(cfgs)
    members = []
    for k, cfg in enumerate(cfgs):
        try:
            members.append(_Member(k, cfg, data))
        except InvalidPairing as error:
            out[k] = error
    if not members:
        return out
    cfg0, batch, C = cfgs[0], int(cfgs[0].trainer.batch_size), data.num_classes
    packed = keras.Model([m.model.inputs[0] for m in members], [m.model.outputs[0] for m in members])
    packed.compile(optimizer=build_optimizer(cfg0.optimizer), loss=[m.loss for m in members])
    packed.optimizer.build(packed.trainable_variables)  # as in run_trial: the step traced once, not twice
    fn = packed_pass(packed, [m.loss for m in members])
    setup = time.perf_counter() - started

    x0 = data.train.images[:batch]
    first = [m.y["train"][:batch] for m in members]
    for i, m in enumerate(members):  # each audited on the packed model: its output and loss from the packed graph

        def member_pass(x, y, i=i):
            outputs, losses = fn([x] * len(members), first[:i] + [y] + first[i + 1 :])
            return outputs[i], losses[i]

        m.result.audit = audit_pairing(m.model, m.loss, x0, first[i], member_pass)
    if any(m.result.audit.tag == "invalid" for m in members):
        # one member's loss cannot be computed, so the packed pass fails for all: find it on its own network
        for m in members:
            alone = audit_pairing(m.model, m.loss, x0, m.y["train"][:batch], compiled_pass(m.model, m.loss))
            if alone.tag == "invalid":
                out[m.index] = InvalidPairing(f"{pairing_name(m.cfg)} with {m.encoding} labels: {alone.reason}")
        rest = [k for k in range(len(cfgs)) if out[k] is None]
        if len(rest) == len(cfgs):
            reason = next(m.result.audit.reason for m in members if m.result.audit.tag == "invalid")
            raise RuntimeError(f"the packed audit failed ({reason}) but every member passes alone - use sweep.pack=1")
        if rest:
            for k, value in zip(
                rest, run_pack([cfgs[k] for k in rest], [on_epochs[k] for k in rest], data), strict=True
            ):
                out[k] = value
        return out
    _, first_losses = fn([x0] * len(members), first)
    for m, value in zip(members, first_losses, strict=True):
        m.result.final |= {"first_batch_loss": float(value)}
        m.result.final |= levels(m.loss, data.val.labels, data.class_shares("train"), m.encoding, C, m.weights)
    audit = time.perf_counter() - started - setup
    epochs = int(cfg0.trainer.epochs)

    fit = validation = 0.0
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = [m.rng.permutation(len(data.train)) for m in members]  # each member shuffles its own way
        logs = packed.fit(
            **batches(
                [data.train.images[o] for o in order],
                [m.y["train"][o] for m, o in zip(members, order, strict=True)],
                batch,
                shuffle=False,
            ),
            epochs=epoch + 1,
            initial_epoch=epoch,
            verbose=0,
        ).history
        t1 = time.perf_counter()
        fit += t1 - t0
        outputs, val_losses = evaluate_all(fn, data.val.images, [m.y["val"] for m in members], batch)
        validation += time.perf_counter() - t1
        stopping = []
        for i, m in enumerate(members):
            if not m.active:
                continue
            train_loss = logs.get(f"{packed.output_names[i]}_loss", logs["loss"])[-1]  # one member: "loss"
            if record_epoch(m.result, epoch, train_loss, val_losses[i], outputs[i], data, m.cfg, on_epochs[m.index]):
                stopping.append(m)
        if stopping:  # their test figures as of now; their weights train on with the pack
            test_outputs, _ = evaluate_all(fn, data.test.images, [m.y["test"] for m in members], batch)
            for m in stopping:
                judge_test(m.result, test_outputs[members.index(m)], data, m.cfg, m.result.binary)
                m.active = False
        if not any(m.active for m in members):
            break
    epochs_run = epoch + 1
    t0 = time.perf_counter()
    if any(m.active for m in members):
        test_outputs, _ = evaluate_all(fn, data.test.images, [m.y["test"] for m in members], batch)
        for i, m in enumerate(members):
            if m.active:
                judge_test(m.result, test_outputs[i], data, m.cfg, m.result.binary)
    test = time.perf_counter() - t0
    seconds = {"setup": setup, "audit": audit, "fit": fit, "validation": validation, "test": test}
    for m in members:  # the pack's time, shared equally; every member trained as long as the pack did
        m.result.seconds = {k: v / len(members) for k, v in seconds.items()}
        m.result.pack_size, m.result.epochs_trained = len(members), epochs_run
        out[m.index] = m.result
    return out
