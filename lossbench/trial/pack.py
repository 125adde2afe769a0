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
from lossbench.trial.passes import batches, compiled_pass, packed_pass
from lossbench.trial.run import load_data
from lossbench.trial.stages import (
    Lane,
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


def member(index: int, slot: int, cfg, data, on_epoch) -> Lane:
    """One trial of the pack: its lane, with its own network (layers renamed to stay unique in the pack)."""
    each = lane(cfg, data, on_epoch, index)
    each.slot = slot
    each.model = network(cfg, data.num_classes, data.train.images.shape[1:])
    for layer in each.model.layers:  # unique names in the packed model
        layer.name = f"m{index}_{layer.name}"
    each.model.logits_name = f"m{index}_{each.model.logits_name}"
    return each


def lanes_pass(fn):
    """The packed pass ``fn(xs, ys)`` as the stages call it: ``(x, ys)``, one input per member."""
    return lambda x, ys: fn([x] * len(ys), ys)


def run_pack(cfgs: list, on_epochs: list, data=None) -> list:
    """Train the pairings ``cfgs`` (one `pack_key`) as one pack; one `TrialResult` or `InvalidPairing` each."""
    started = time.perf_counter()
    data = data or load_data(cfgs[0])
    if len({pack_key(c) for c in cfgs}) > 1:
        raise ValueError("the members of a pack must share everything but loss, activation, weighting and seed")
    freeze_imports()
    keras.backend.clear_session()
    out: list = [None] * len(cfgs)
    lanes = []
    for k, cfg in enumerate(cfgs):  # build
        try:
            lanes.append(member(k, len(lanes), cfg, data, on_epochs[k]))
        except InvalidPairing as error:
            out[k] = error
    if not lanes:
        return out
    cfg0, batch = cfgs[0], int(cfgs[0].trainer.batch_size)
    packed = keras.Model([m.model.inputs[0] for m in lanes], [m.model.outputs[0] for m in lanes])
    compile_for_fit(packed, cfg0.optimizer, [m.loss for m in lanes])
    fn = lanes_pass(packed_pass(packed, [m.loss for m in lanes]))
    seconds = {"setup": time.perf_counter() - started}
    if audit_lanes(lanes, fn, data.train.images[:batch], batch):  # each audited on the packed model
        return without_invalid(cfgs, on_epochs, data, lanes, out)
    start(lanes, fn, data, batch)
    seconds["audit"] = time.perf_counter() - started - seconds["setup"]
    seconds |= {"fit": 0.0, "validation": 0.0, "test": 0.0}
    rngs = [np.random.default_rng(int(m.cfg.trainer.seed)) for m in lanes]
    for m in lanes:
        m.loss_key = f"{packed.output_names[m.slot]}_loss"  # a pack of one: "loss"

    def fit_epoch(epoch: int) -> dict:
        order = [rng.permutation(len(data.train)) for rng in rngs]  # each member shuffles its own way
        x = [data.train.images[o] for o in order]
        y = [m.y["train"][o] for m, o in zip(lanes, order, strict=True)]
        return packed.fit(
            **batches(x, y, batch, shuffle=False), epochs=epoch + 1, initial_epoch=epoch, verbose=0
        ).history

    epochs = train(lanes, data, int(cfg0.trainer.epochs), fit_epoch, evaluator(fn, lanes, data, batch), seconds)
    for m in lanes:  # the pack's time, shared equally; every member trained as long as the pack did
        m.result.seconds = {k: v / len(lanes) for k, v in seconds.items()}
        m.result.pack_size, m.result.epochs_trained = len(lanes), epochs
        m.result.trained_on = weights_device(packed)
        out[m.index] = m.result
    return out


def without_invalid(cfgs: list, on_epochs: list, data, lanes: list[Lane], out: list) -> list:
    """A packed audit failed: one member's loss cannot be computed, so the packed pass fails for all.

    Each member is audited again on its own network; the invalid ones are refused and the rest
    trained as a pack of their own.
    """
    batch = int(cfgs[0].trainer.batch_size)
    x0, refused = data.train.images[:batch], 0
    for m in lanes:
        alone = audit_pairing(m.model, m.loss, x0, m.y["train"][:batch], compiled_pass(m.model, m.loss))
        if alone.tag == "invalid":
            out[m.index], refused = refusal(m, alone), refused + 1
    if not refused:
        reason = next(m.result.audit.reason for m in lanes if m.result.audit.tag == "invalid")
        raise RuntimeError(f"the packed audit failed ({reason}) but every member passes alone - use sweep.pack=1")
    rest = [k for k in range(len(cfgs)) if out[k] is None]
    if rest:
        trained = run_pack([cfgs[k] for k in rest], [on_epochs[k] for k in rest], data)
        for k, value in zip(rest, trained, strict=True):
            out[k] = value
    return out
