"""`lossbench.trial.run`: the data a trial loads, its compiled model, and one trial end to end."""

from __future__ import annotations

import pytest
from conftest import tiny

from lossbench.errors import DataError, InvalidPairing
from lossbench.trial import run


def test_steps_per_execution_is_a_count_or_every_step_of_an_epoch(compose_cfg):
    cfg = compose_cfg(["trainer.batch_size=8", "trainer.steps_per_execution=epoch"])
    assert run.steps_per_execution(cfg, 20) == 3  # 8 + 8 + 4
    cfg.trainer.steps_per_execution = 2
    assert run.steps_per_execution(cfg, 20) == 2


def test_load_data_is_cached_and_checks_the_class_count(compose_cfg, tmp_path):
    cfg = compose_cfg(tiny(tmp_path))
    assert run.load_data(cfg) is run.load_data(cfg)  # a sweep loads its data once
    cfg.data.num_classes = 5
    with pytest.raises(DataError, match="has 4 classes but data.num_classes=5 - set data.num_classes=4") as error:
        run.load_data(cfg)
    assert "\n" not in str(error.value)


@pytest.mark.slow
def test_a_trial_runs_end_to_end_and_reuses_its_compiled_model_for_another_seed(compose_cfg, tmp_path):
    cfg = compose_cfg([*tiny(tmp_path), "loss=dice_ce", "class_weighting=median_frequency"])
    result = run.run_trial(cfg)
    assert result.state == "complete" and result.epochs_trained == 1 and result.audit.tag == "nominal"
    assert list(result.seconds) == ["setup", "audit", "validation", "fit", "test"]  # as the summary prints them
    assert len(result.curves["val/loss"]) == 1 and result.verdict and "test/foreground_dice" in result.final
    assert result.class_weights and result.objective == result.curves["val/foreground_dice"][-1]
    model = run._warm[0].model
    cfg.trainer.seed = 1
    assert run.run_trial(cfg).state == "complete" and run._warm[0].model is model


def test_a_loss_that_cannot_read_its_labels_is_refused_before_training(compose_cfg, tmp_path):
    bad = ["loss=sparse_categorical_crossentropy", "data.label_encoding=one_hot"]
    with pytest.raises(InvalidPairing, match="with one_hot labels: ") as error:
        run.run_trial(compose_cfg([*tiny(tmp_path), *bad]))
    assert "\n" not in str(error.value)
