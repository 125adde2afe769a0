"""``sweep.pack``: several trials in one compiled program train as they would alone.

A pack builds each member under its own seed, so its initial weights (and first-batch loss) are the
ones it has alone; its loss sees its own logits (the audit, run on the packed model, agrees with the
audit alone); only the shuffling differs (each member draws its own permutation, not Keras's), so
after 2 epochs the curves agree within a tolerance, not bit for bit (FACTS #15).
"""

from __future__ import annotations

import math

import pytest
from conftest import tiny

PAIRINGS = [
    ["loss=categorical_crossentropy", "activation=softmax", "trainer.seed=0"],
    ["loss=binary_crossentropy", "activation=softmax", "trainer.seed=1"],  # logits_substituted
    ["loss=sparse_categorical_crossentropy", "activation=sigmoid", "trainer.seed=2"],
]


@pytest.mark.slow
def test_a_pack_trains_each_member_as_it_trains_alone(compose_cfg, tmp_path):
    from lossbench.runtime import configure
    from lossbench.trial.pack import pack_key, run_pack
    from lossbench.trial.run import run_trial

    configure(1)
    cfgs = [compose_cfg([*tiny(tmp_path), "trainer.epochs=2", "optimizer=adam", *o]) for o in PAIRINGS]
    assert len({pack_key(c) for c in cfgs}) == 1
    packed = run_pack(cfgs, [None] * len(cfgs))
    alone = [run_trial(c) for c in cfgs]
    for p, a in zip(packed, alone, strict=True):
        assert p.audit.tag == a.audit.tag  # the logits shortcut fires (or not) as it does alone
        assert math.isclose(p.final["first_batch_loss"], a.final["first_batch_loss"], rel_tol=1e-4)  # same start
        assert p.final["chance_loss"] == pytest.approx(a.final["chance_loss"])
        assert p.verdict == a.verdict
        for key in ("train/loss", "val/loss"):  # another shuffling: close, not equal
            assert p.curves[key][-1] == pytest.approx(a.curves[key][-1], rel=0.3), key
        assert p.pack_size == 3 and p.epochs_trained == 2
    assert [p.audit.tag for p in packed] == ["nominal", "logits_substituted", "logits_substituted"]


@pytest.mark.slow
def test_an_invalid_member_leaves_the_pack_and_the_rest_train(compose_cfg, tmp_path):
    from lossbench.errors import InvalidPairing
    from lossbench.runtime import configure
    from lossbench.trial.pack import run_pack

    configure(1)
    bad = ["loss=sparse_categorical_crossentropy", "activation=softmax", "data.label_encoding=one_hot"]
    cfgs = [compose_cfg([*tiny(tmp_path), "optimizer=adam", *o]) for o in (PAIRINGS[0], bad)]
    good, invalid = run_pack(cfgs, [None, None])
    assert isinstance(invalid, InvalidPairing) and "rank" in str(invalid)
    assert good.verdict and good.pack_size == 1


def test_the_pack_key_ignores_only_what_members_may_differ_in(compose_cfg):
    from lossbench.trial.pack import pack_key

    base = compose_cfg(["+experiment=cmr"])
    same = compose_cfg(["+experiment=cmr", "loss=dice", "activation=sigmoid", "class_weighting=median_frequency"])
    assert pack_key(base) == pack_key(same) == pack_key(compose_cfg(["+experiment=cmr", "trainer.seed=4"]))
    assert pack_key(base) != pack_key(compose_cfg(["+experiment=cmr", "optimizer=sgd_seed"]))
    assert pack_key(base) != pack_key(compose_cfg(["+experiment=cmr", "trainer.batch_size=8"]))


@pytest.mark.slow
def test_a_packed_sweep_records_every_trial_as_an_unpacked_one_does(tmp_path):
    """``sweep.pack=2`` with one worker: the four trials train as two packs (one per optimizer), each
    trial with its own MLflow run, verdict and Optuna state; the sweep reports pruning's savings."""
    from test_sweep import child_runs, study_of, sweep

    grid = "grid:\n  loss: [categorical_crossentropy, binary_crossentropy]\n  optimizer: [adam, sgd_seed]\nseeds: [0]\n"
    done = sweep(tmp_path, grid, "sweep.pack=2", "sweep.n_workers=1", "sweep.max_seeds=0", "trainer.epochs=2")
    assert done.returncode == 0, done.stderr[-3000:]
    trials = study_of(tmp_path).trials
    assert len(trials) == 4 and all(t.user_attrs["state"] in ("complete", "pruned") for t in trials)
    assert [t.user_attrs.get("pack_size") for t in trials] == [2, 2, 2, 2]
    assert "pruning avoided 0 of 8 trial-epochs" in done.stdout
    _, children = child_runs(tmp_path)
    assert len(children) == 4 and all(r.info.status == "FINISHED" for r in children)
