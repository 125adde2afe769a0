"""The exactly-once queue (`lossbench.sweep.work`) on Optuna's in-memory storage: enqueue once, claim once, retry the killed, not the settled."""

import os
import socket
import subprocess
import sys

import optuna
import pytest

from lossbench.sweep import optuna_store, owners, space, work
from lossbench.sweep.study import StudyInfo

POINTS = [{"loss": loss, "seed": seed} for loss in ("dice", "categorical_crossentropy") for seed in (0, 1)]


@pytest.fixture
def study():
    return optuna.create_study(storage=optuna.storages.InMemoryStorage(), direction="maximize")


def waiting(study):
    return [work.params(t) for t in study.get_trials(deepcopy=False, states=(work.TrialState.WAITING,))]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def claim(study, worker: str):
    trial = work.take_waiting(study)
    trial.set_user_attr("worker", worker)
    return trial


def test_every_point_is_enqueued_once_and_a_rerun_adds_nothing(study):
    assert work.sync_queue(study, POINTS) == 4
    assert work.sync_queue(study, POINTS) == 0
    assert work.sync_queue(study, POINTS + POINTS[:1]) == 0
    assert sorted(space.point_key(p) for p in waiting(study)) == sorted(space.point_key(p) for p in POINTS)


def test_a_repeated_point_in_one_call_is_enqueued_once(study):
    assert work.sync_queue(study, [POINTS[0], dict(reversed(POINTS[0].items()))]) == 1


def test_each_waiting_trial_is_claimed_by_one_worker(study):
    work.sync_queue(study, POINTS)
    claimed = [work.take_waiting(study) for _ in range(4)]
    assert len({t.number for t in claimed}) == 4
    assert work.take_waiting(study) is None  # empty queue, no new trial wanted
    assert work.take_waiting(study, allow_new=True) is not None  # a `sample:` space asks for one


def test_a_worker_keeps_to_its_pairing_and_leaves_the_others_pairing_alone(study):
    a, b = {"loss": "dice", "optimizer": "adam"}, {"loss": "focal", "optimizer": "adam"}
    work.sync_queue(study, [a | {"seed": s} for s in (0, 1, 2)] + [b | {"seed": s} for s in (0, 1)])

    def claim_next(last=None):
        return work.params(optuna_store.frozen(work.take_waiting(study, last=last)))

    assert claim_next() == a | {"seed": 0}  # worker 1
    assert claim_next() == b | {"seed": 0}  # worker 2: not the pairing worker 1 runs
    assert claim_next(work.seedless(a)) == a | {"seed": 1}  # each goes on with its own pairing
    assert claim_next(work.seedless(b)) == b | {"seed": 1}
    assert claim_next(work.seedless(b)) == a | {"seed": 2}  # none of its own left: the oldest
    assert work.take_waiting(study, last=work.seedless(a)) is None


def test_a_dead_workers_trial_is_failed_as_killed_and_its_point_enqueued_again(study):
    work.sync_queue(study, POINTS[:1])
    trial = claim(study, f"{socket.gethostname()}:{dead_pid()}")
    assert work.sync_queue(study, POINTS[:1]) == 1
    frozen = optuna_store.frozen(trial)
    assert frozen.state == work.TrialState.FAIL and frozen.user_attrs["state"] == "killed"
    assert waiting(study) == [POINTS[0]]


def test_a_live_workers_trial_and_another_machines_are_left_running(study):
    work.sync_queue(study, POINTS[:2])
    mine = claim(study, owners.worker_id())
    other = claim(study, "some-other-host:1")
    assert work.sync_queue(study, POINTS[:2]) == 0
    for trial in (mine, other):
        assert optuna_store.frozen(trial).state == work.TrialState.RUNNING


@pytest.mark.parametrize(("state", "retried"), [("invalid", False), ("failed", False), ("killed", True)])
def test_settled_failures_are_not_retried_killed_ones_are(study, state, retried):
    work.sync_queue(study, POINTS[:1])
    trial = work.take_waiting(study)
    trial.set_user_attr("state", state)
    study.tell(trial, state=work.TrialState.FAIL)
    assert work.sync_queue(study, POINTS[:1]) == int(retried)


def test_completed_and_pruned_points_are_done(study):
    work.sync_queue(study, POINTS[:2])
    study.tell(work.take_waiting(study), 0.5)
    study.tell(work.take_waiting(study), state=work.TrialState.PRUNED)
    assert work.sync_queue(study, POINTS[:2]) == 0
    assert work.counts(study) == {"complete": 1, "pruned": 1}


def test_counts_name_failures_by_their_reason(study):
    work.sync_queue(study, POINTS)
    for state in ("invalid", "killed"):
        trial = work.take_waiting(study)
        trial.set_user_attr("state", state)
        study.tell(trial, state=work.TrialState.FAIL)
    assert work.counts(study) == {"invalid": 1, "killed": 1, "waiting": 2}


def test_sampled_left_only_for_pure_sample_spaces(study):
    sample = {"sample": {"optimizer.learning_rate": {"low": 1e-4, "high": 1e-2, "log": True}}, "seeds": [0]}
    assert work.sampled_left(study, 3, sample) == 3
    study.ask()
    assert work.sampled_left(study, 3, sample) == 2
    assert work.sampled_left(study, 3, {"grid": {"loss": ["dice"]}, **sample}) == 0


def test_enqueue_counts_towards_the_total_under_the_lock(tmp_path):
    info = StudyInfo(
        name="q",
        study_name="q",
        storage=str(tmp_path / "optuna.journal"),
        folder=str(tmp_path),
        tracking_uri="",
        total=4,
    )
    optuna.create_study(study_name="q", storage=work.storage(info))
    assert work.enqueue(info, POINTS) == 4 and info.total == 8
    assert work.enqueue(info, POINTS) == 0 and info.total == 8
    assert (tmp_path / "sweep.lock").exists() and os.path.getsize(tmp_path / "optuna.journal") > 0


def test_a_point_that_failed_for_the_machines_reasons_is_retried_then_settled(study):
    work.sync_queue(study, POINTS[:1])
    for attempt in range(work.MAX_RETRIES):
        trial = work.take_waiting(study)
        assert trial is not None, f"attempt {attempt + 1} was not enqueued"
        trial.set_user_attr("state", "retry")  # e.g. the disk was full (`lossbench.sweep.job.infrastructure`)
        study.tell(trial, state=work.TrialState.FAIL)
        added = work.sync_queue(study, POINTS[:1])
        assert added == (1 if attempt + 1 < work.MAX_RETRIES else 0)
    assert work.counts(study) == {"retry": work.MAX_RETRIES}


def test_a_point_whose_worker_dies_every_time_is_settled_and_a_ctrl_c_never_counts(study):
    work.sync_queue(study, POINTS[:1])
    for _ in range(3):  # interrupted by the user: always run again
        trial = work.take_waiting(study)
        trial.set_user_attr("state", "killed")
        trial.set_user_attr("reason", "interrupted (Ctrl-C or kill)")
        study.tell(trial, state=work.TrialState.FAIL)
        assert work.sync_queue(study, POINTS[:1]) == 1
    for attempt in range(work.MAX_RETRIES):  # its worker killed under it (the OOM killer): MAX_RETRIES times
        trial = work.take_waiting(study)
        optuna_store.fail_as_killed(study, optuna_store.trial_id(trial))
        assert work.sync_queue(study, POINTS[:1]) == (1 if attempt + 1 < work.MAX_RETRIES else 0)
