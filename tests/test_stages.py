"""The stages a single trial and a pack share: build, audit, start, fit epoch by epoch, judge."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from conftest import tiny

from lossbench.errors import InvalidPairing
from lossbench.trial import stages
from lossbench.trial.passes import compiled_pass, one_lane


@pytest.fixture
def cfg(compose_cfg, tmp_path):
    return compose_cfg([*tiny(tmp_path), "loss=categorical_crossentropy", "activation=softmax", "optimizer=adam"])


def test_pairing_is_a_named_tuple_that_still_unpacks(cfg):
    from lossbench.trial.run import load_data

    chosen = stages.pairing(cfg, load_data(cfg))
    result, loss, encoding, weights = chosen
    assert chosen.result is result and chosen.loss is loss and chosen.encoding == encoding == "one_hot"
    assert weights is None and result.class_weights is None and result.objective_key == "val/foreground_dice"


def test_a_loss_that_refuses_the_weighting_is_an_invalid_pairing(compose_cfg, tmp_path):
    from lossbench.trial.run import load_data

    cfg = compose_cfg([*tiny(tmp_path), "loss=generalized_dice", "class_weighting=median_frequency"])
    with pytest.raises(InvalidPairing, match="generalized_dice with median_frequency: ") as error:
        stages.pairing(cfg, load_data(cfg))
    assert "\n" not in str(error.value)


def test_a_lane_holds_the_targets_of_every_split(cfg):
    from lossbench.trial.run import load_data

    data = load_data(cfg)
    lane = stages.lane(cfg, data, index=2)
    assert (lane.index, lane.slot, lane.active, lane.loss_key) == (2, 2, True, "loss")
    for split in ("train", "val", "test"):
        assert lane.y[split].shape == getattr(data, split).labels.shape + (4,)
    assert lane.train_loss({"loss": [3.0, 2.0]}) == 2.0
    lane.loss_key = "m2_loss"
    assert lane.train_loss({"loss": [3.0], "m2_loss": [1.0]}) == 1.0


def test_freeze_imports_freezes_once():
    stages.freeze_imports()
    frozen = gc.get_freeze_count()
    stages.freeze_imports()
    assert frozen > 0 and gc.get_freeze_count() == frozen


@pytest.mark.slow
def test_the_stages_drive_one_lane_through_an_epoch_and_a_stop(cfg):
    """Build, audit, start, one epoch of fit, validation, a stop from ``on_epoch``, the judgement."""
    from lossbench.trial.run import load_data

    data, batch = load_data(cfg), int(cfg.trainer.batch_size)
    calls = []
    lane = stages.lane(cfg, data, on_epoch=lambda epoch, row, levels: calls.append(epoch) or "stopped_early")
    lane.model = stages.network(cfg, data.num_classes, data.train.images.shape[1:])
    stages.compile_for_fit(lane.model, cfg.optimizer, lane.loss)
    assert lane.model.optimizer.built
    fn = one_lane(compiled_pass(lane.model, lane.loss))
    assert stages.audit_lanes([lane], fn, data.train.images[:batch], batch) == []
    stages.start([lane], fn, data, batch)
    assert {"first_batch_loss", "chance_loss", "prior_loss"} <= set(lane.result.final)
    seconds = {"fit": 0.0, "validation": 0.0, "test": 0.0}

    def fit_epoch(epoch):
        return lane.model.fit(
            data.train.images, lane.y["train"], batch_size=batch, epochs=epoch + 1, initial_epoch=epoch, verbose=0
        ).history

    epochs = stages.train([lane], data, 3, fit_epoch, stages.evaluator(fn, [lane], data, batch), seconds)
    assert epochs == 1 and calls == [0] and not lane.active
    result = lane.result
    assert result.state == "pruned" and result.stopped_by == "stopped_early" and result.pruned_at == 1
    assert len(result.curves["train/loss"]) == 1 and "test/foreground_dice" in result.final
    assert result.verdict and result.reason.endswith("(decided by pruning after epoch 1)")
    assert all(value > 0 for value in seconds.values())


def test_refusal_names_the_pairing_and_the_encoding(cfg):
    from lossbench.trial.audit import Audit
    from lossbench.trial.run import load_data

    lane = stages.lane(cfg, load_data(cfg))
    error = stages.refusal(lane, Audit("invalid", np.nan, np.nan, "ValueError: rank"))
    assert str(error) == (
        "CE · softmax · unweighted · Adam 1e-3 · seed 0 (loss=categorical_crossentropy activation=softmax) "
        "with one_hot labels: ValueError: rank"
    )


def test_weights_device_asks_the_arrays_where_they_live():
    """The device a trial trained on comes from its weights, on either backend: here the CPU; a GPU's
    names (TensorFlow's device string, a JAX device) read as ``gpu:N``."""
    import subprocess
    import sys
    from types import SimpleNamespace as Obj

    import keras

    assert stages.weights_device(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])) == "cpu:0"
    code = (  # JAX in a process of its own (a process has one backend)
        "import keras; from lossbench.trial.stages import weights_device;"
        "print(weights_device(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])))"
    )
    env = {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split()[-1] == "cpu:0"

    def model(value):
        return Obj(weights=[Obj(value=value)])

    assert stages.weights_device(model(Obj(device="/job:localhost/replica:0/task:0/device:GPU:1"))) == "gpu:1"
    gpu = Obj(platform="gpu", id=0)
    assert stages.weights_device(model(Obj(devices=lambda: [gpu]))) == "gpu:0"
    assert stages.weights_device(model(Obj(device=""))) == "unknown"
