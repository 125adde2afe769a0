"""One trial's lifecycle in a worker (`lossbench.sweep.job`) on a real journal study, ``tracking=none``; no training."""

from __future__ import annotations

import json

import optuna
from conftest import tiny
from omegaconf import OmegaConf
from tracking_helpers import result

from lossbench.config import compose
from lossbench.errors import InvalidPairing
from lossbench.sweep import job, optuna_store, owners, work
from lossbench.sweep.study import StudyInfo

SPACE = OmegaConf.create({"grid": {"loss": ["dice", "categorical_crossentropy"]}, "seeds": [0]})


def started(tmp_path, loss: str = "dice", begin: bool = True):
    """A job of a one-point journal study (``loss``), begun: its config composed, its record opened."""
    overrides = [*tiny(tmp_path / "results"), "name=tiny", "tracking=none"]
    cfg = compose(overrides)
    info = StudyInfo(
        name="tiny", study_name="tiny", storage=str(tmp_path / "optuna.journal"), folder=str(tmp_path),
        tracking_uri="none", overrides=overrides, experiment_id=str(tmp_path / "records.jsonl"),
    )  # fmt: skip
    optuna.create_study(study_name="tiny", storage=work.storage(info), direction="maximize")
    study = work.load(info)
    work.sync_queue(study, [{"loss": loss, "seed": 0}])
    one = job.Job(work.take_waiting(study), cfg, SPACE, info)
    if begin:
        one.begin()
    return one, study


def test_begin_composes_the_point_and_opens_its_record(tmp_path):
    one, _ = started(tmp_path)
    assert one.trial_cfg.loss.name == "dice" and one.trial_cfg.trainer.seed == 0
    attrs = optuna_store.frozen(one.trial).user_attrs
    assert attrs["worker"] == owners.worker_id() and attrs["choices"]["loss"] == "dice"
    assert attrs["mlflow_run_id"] == one.run.run_id and attrs["mlflow_run_url"] == ""
    assert not one.stalled_rule  # the stalled rule is for cross-entropies only


def test_an_epoch_is_logged_and_reported_and_the_end_tells_optuna_then_closes(tmp_path):
    one, study = started(tmp_path)
    assert one.on_epoch(0, {"val/foreground_dice": 0.6, "val/loss": 0.4}, {}) is False  # in the warm-up
    assert one.end(result(dice=0.7)).state == "complete"
    (done,) = study.get_trials()
    assert done.state == optuna.trial.TrialState.COMPLETE and done.value == 0.7  # the last validation Dice
    assert done.intermediate_values == {0: 0.6}
    assert done.user_attrs["verdict"] == "converged" and done.user_attrs["test_dice"] == 0.7
    assert done.user_attrs["subject_dice"] == {"p1": 0.7} and done.user_attrs["epochs_trained"] == 2
    events = [json.loads(line)["event"] for line in open(one.info.experiment_id)]
    assert events == ["start", "epoch", "result", "end"]


def test_what_ended_a_trial_names_its_state():
    assert job.outcome_of(InvalidPairing("no"))[0].verdict == "invalid"
    assert job.outcome_of(KeyboardInterrupt())[0].state == "killed"
    failed, state = job.outcome_of(RuntimeError("boom\nmore"))
    assert failed.state == "failed" and failed.reason == "RuntimeError: boom" and state.name == "FAIL"
    stopped = result(state="pruned")
    stopped.stopped_by = "stopped_early"
    assert job.outcome_of(stopped)[1].name == "COMPLETE"  # decided, not cut by a ranking
    assert job.outcome_of(result(state="pruned"))[1].name == "PRUNED"


def test_a_job_that_fails_to_begin_ends_at_once_as_failed(tmp_path):
    one, study = started(tmp_path, loss="no_such_loss", begin=False)  # its config cannot be composed
    (ended,) = job.run_jobs([one])
    assert ended.state == "failed" and "no_such_loss" in ended.reason
    (done,) = study.get_trials()
    assert done.state == optuna.trial.TrialState.FAIL and done.user_attrs["state"] == "failed"


def test_optuna_counts_epochs_from_one_as_mlflow_does_in_a_study_begun_so(tmp_path):
    one, study = started(tmp_path)
    one.info.first_step = 1  # what `lossbench.sweep.study.prepare` sets in a new study
    one.on_epoch(0, {"val/foreground_dice": 0.6, "val/loss": 0.4}, {})
    one.on_epoch(1, {"val/foreground_dice": 0.65, "val/loss": 0.35}, {})
    one.end(result(dice=0.7))
    assert study.get_trials()[0].intermediate_values == {1: 0.6, 2: 0.65}  # MLflow's steps 1 and 2


def test_the_pruner_waits_the_same_epochs_whichever_step_the_study_counts_from(tmp_path):
    for kind in ("median", "threshold"):
        info = StudyInfo(name="x", study_name="x", storage="", folder="", tracking_uri="none", pruner=kind)
        before = work.pruner(info)._n_warmup_steps  # noqa: SLF001 (what the pruner waits, in steps)
        info.first_step = 1
        assert work.pruner(info)._n_warmup_steps == before + 1 == info.warmup_epochs  # noqa: SLF001


def test_the_machines_failures_are_retried_not_verdicts():
    import errno

    full = OSError(errno.ENOSPC, "No space left on device")
    found, state = job.outcome_of(full)
    assert found.state == "retry" and found.reason.startswith("the disk is full: ") and state.name == "FAIL"
    assert job.outcome_of(MemoryError())[0].state == "retry"

    from sqlalchemy.exc import OperationalError  # what a SQL store raises when it fails mid-write

    try:
        try:
            raise OperationalError("INSERT INTO metrics", {}, Exception("database disk image is malformed"))
        except OperationalError as cause:
            raise RuntimeError("logging the epoch failed") from cause
    except RuntimeError as wrapped:
        assert job.infrastructure(wrapped) == "a store failed (SQL)"  # found through the cause
    assert job.outcome_of(ValueError("NaN in the loss"))[0].state == "failed"  # the pairing's own: settled
