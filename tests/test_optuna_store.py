"""The wall around Optuna's private API (`lossbench.sweep.optuna_store`), each function on a real store.

Pinned to the Optuna it was written against: a new Optuna fails the first test, naming the module to
revisit. The others run every function on a journal file and on a SQLite (RDB) store.
"""

from __future__ import annotations

import threading
import time

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend, JournalStorage

from lossbench.sweep import optuna_store

TrialState = optuna.trial.TrialState


def test_optuna_is_the_version_the_wall_was_written_against():
    assert optuna.__version__ == optuna_store.TESTED, (
        f"Optuna is {optuna.__version__}, lossbench/sweep/optuna_store.py was written against "
        f"{optuna_store.TESTED}: revisit that module (it uses Optuna's private API), run "
        "tests/test_optuna_store.py, then set its TESTED"
    )


@pytest.fixture(params=["journal", "sqlite"])
def study(request, tmp_path):
    if request.param == "journal":
        storage = JournalStorage(JournalFileBackend(str(tmp_path / "optuna.journal")))
    else:
        storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    return optuna.create_study(study_name="wall", storage=storage)


def test_claim_moves_a_waiting_trial_to_running_once(study):
    study.enqueue_trial({"loss": "dice"})
    (waiting,) = study.get_trials(states=(TrialState.WAITING,))
    claimed = optuna_store.claim(study, waiting)
    assert isinstance(claimed, optuna.Trial) and claimed.number == waiting.number
    assert optuna_store.frozen(claimed).state == TrialState.RUNNING
    assert optuna_store.claim(study, waiting) is None  # a second worker gets nothing


def test_two_threads_never_claim_the_same_trial(tmp_path):
    """On the journal. (Not on SQLite: its read-then-write is no compare-and-set, so two connections can
    both claim one WAITING trial - measured with Optuna 5.1; PostgreSQL locks the row.)"""
    study = optuna.create_study(storage=JournalStorage(JournalFileBackend(str(tmp_path / "optuna.journal"))))
    for i in range(6):
        study.enqueue_trial({"x": i})
    waiting = study.get_trials(states=(TrialState.WAITING,))
    got: list[list] = [[], []]

    def take(mine):
        for t in waiting:
            if (trial := optuna_store.claim(study, t)) is not None:
                mine.append(trial.number)

    threads = [threading.Thread(target=take, args=(mine,)) for mine in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got[0] + got[1]) == [t.number for t in waiting]


def test_fixed_params_of_live_and_frozen_trials(study):
    study.enqueue_trial({"loss": "dice", "seed": 3})
    trial = study.ask()
    assert optuna_store.fixed_params(trial) == {"loss": "dice", "seed": 3}
    assert optuna_store.fixed_params(optuna_store.frozen(trial)) == {"loss": "dice", "seed": 3}
    assert optuna_store.fixed_params(study.ask()) == {}  # sampled, not enqueued


def test_frozen_live_and_trial_id_name_the_same_trial(study):
    trial = study.ask()
    frozen = optuna_store.frozen(trial)
    assert frozen.number == trial.number and optuna_store.trial_id(frozen) == optuna_store.trial_id(trial)
    handle = optuna_store.live(study, frozen)
    handle.set_user_attr("worker", "here:1")
    study.tell(handle, 0.5)
    (done,) = study.get_trials()
    assert done.state == TrialState.COMPLETE and done.user_attrs["worker"] == "here:1"


def test_fail_as_killed_marks_then_fails_and_refuses_a_finished_trial(study):
    trial = study.ask()
    optuna_store.fail_as_killed(study, optuna_store.trial_id(trial))
    (done,) = study.get_trials()
    assert done.state == TrialState.FAIL and done.user_attrs["state"] == "killed"
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        optuna_store.fail_as_killed(study, optuna_store.trial_id(trial))


def test_heartbeats_on_an_rdb_tell_the_stale_trial_from_the_beating_one(tmp_path):
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'beat.db'}", heartbeat_interval=1, grace_period=2)
    study = optuna.create_study(study_name="beat", storage=storage)
    assert optuna_store.beating(study)
    dead, alive = study.ask(), study.ask()
    with optuna_store.heartbeat(dead):  # one beat, then its worker is gone
        pass
    with optuna_store.heartbeat(alive):
        time.sleep(3.2)
        assert optuna_store.stale_ids(study) == [optuna_store.trial_id(dead)]
    journal = optuna.create_study(storage=JournalStorage(JournalFileBackend(str(tmp_path / "j.journal"))))
    assert not optuna_store.beating(journal) and optuna_store.stale_ids(journal) == []
    with optuna_store.heartbeat(journal.ask()):  # no heartbeat on a journal: a no-op
        pass


def test_study_id_is_the_storages_id_of_the_study(study):
    assert optuna_store.study_id(study) == study._storage.get_study_id_from_name(study.study_name)


def test_one_beat_makes_a_trial_whose_worker_died_before_its_heartbeat_thread_go_stale(tmp_path):
    """Optuna never judges a trial that never beat: `beat` at the claim lets a worker killed at once be found."""
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'beat.db'}", heartbeat_interval=1, grace_period=1)
    study = optuna.create_study(study_name="beat", storage=storage)
    silent, beaten = study.ask(), study.ask()
    optuna_store.beat(beaten)
    time.sleep(2.2)
    assert optuna_store.stale_ids(study) == [optuna_store.trial_id(beaten)]  # the silent one is never judged
    journal = optuna.create_study(storage=JournalStorage(JournalFileBackend(str(tmp_path / "j.journal"))))
    optuna_store.beat(journal.ask())  # no heartbeat on a journal: a no-op
    assert silent.number == 0
