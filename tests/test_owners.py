"""Who runs a trial (`lossbench.sweep.owners`): the claim names its worker, a dead or nameless worker's trial is stale."""

import socket
import subprocess
import sys

import optuna
import pytest

from lossbench.sweep import optuna_store, owners, work

POINT = {"loss": "dice", "seed": 0}


@pytest.fixture
def study():
    return optuna.create_study(storage=optuna.storages.InMemoryStorage(), direction="maximize")


def test_a_workers_name_is_this_host_and_process_and_the_host_can_be_played(monkeypatch):
    import os

    assert owners.worker_id() == f"{socket.gethostname()}:{os.getpid()}"
    monkeypatch.setenv("LOSSBENCH_HOST", "second")
    assert owners.host() == "second"


def test_a_trial_of_a_dead_process_here_is_stale_a_live_ones_and_another_machines_are_not(study):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    trials = [study.ask() for _ in range(3)]
    workers = [f"{owners.host()}:{dead.stdout.strip()}", owners.worker_id(), "elsewhere:1"]
    for trial, worker in zip(trials, workers, strict=True):
        trial.set_user_attr("worker", worker)
    frozen = [optuna_store.frozen(t) for t in trials]
    assert [owners.stale(t) for t in frozen] == [True, False, False]
    assert [owners.alive_here(t) for t in frozen] == [False, True, False]


def test_a_zombie_is_told_from_a_live_process():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    import time

    deadline = time.time() + 10
    while time.time() < deadline and not owners.zombie(child.pid):
        time.sleep(0.05)
    assert owners.zombie(child.pid)  # exited, not reaped yet
    child.wait()
    assert not owners.zombie(child.pid)


def test_a_claimed_trial_names_its_worker_at_once(study):
    work.sync_queue(study, [POINT])
    trial = work.take_waiting(study)
    assert optuna_store.frozen(trial).user_attrs["worker"] == owners.worker_id()
    assert study.get_trials()[0].user_attrs["worker"] == owners.worker_id()
    assert work.take_waiting(study, allow_new=True).study.get_trials()[-1].user_attrs["worker"] == owners.worker_id()


def test_a_trial_claimed_by_a_worker_that_died_before_naming_itself_runs_again(study, monkeypatch):
    """The claim's compare-and-set done, the worker killed before it wrote its name: not lost for good."""
    work.sync_queue(study, [POINT])
    trial = optuna_store.claim(study, study.get_trials()[0])  # the bare claim: no name yet
    assert owners.unowned(optuna_store.frozen(trial)) and not owners.stale(optuna_store.frozen(trial))
    assert work.sync_queue(study, [POINT]) == 0  # young: perhaps its worker is naming itself now
    monkeypatch.setattr(owners, "UNOWNED_SECONDS", -1)
    assert not owners.unowned(optuna_store.frozen(trial)) and owners.stale(optuna_store.frozen(trial))
    assert work.sync_queue(study, [POINT]) == 1
    assert optuna_store.frozen(trial).user_attrs["state"] == "killed" and [
        work.params(t) for t in study.get_trials(states=(work.TrialState.WAITING,))
    ] == [POINT]
