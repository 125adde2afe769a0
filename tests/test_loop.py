"""The search loop every worker runs (`lossbench.sweep.loop`) on a real journal study; adaptive seeds: test_adaptive."""

from __future__ import annotations

import subprocess
import sys

import optuna
from omegaconf import OmegaConf

from lossbench.sweep import loop, optuna_store, owners, work
from lossbench.sweep.study import StudyInfo

SPACE = OmegaConf.create({"grid": {"loss": ["dice", "focal"]}, "seeds": [0]})
CFG = OmegaConf.create({"sweep": {"max_seeds": 0, "n_trials": None}})


def journal(tmp_path):
    info = StudyInfo(
        name="loop", study_name="loop", storage=str(tmp_path / "optuna.journal"), folder=str(tmp_path),
        tracking_uri="none",
    )  # fmt: skip
    optuna.create_study(study_name="loop", storage=work.storage(info), direction="maximize")
    return info, work.load(info)


def test_next_trial_takes_each_waiting_point_then_none(tmp_path):
    info, study = journal(tmp_path)
    work.sync_queue(study, [{"loss": "dice", "seed": 0}, {"loss": "focal", "seed": 0}])
    first = loop.next_trial(study, CFG, SPACE, info)
    second = loop.next_trial(study, CFG, SPACE, info)
    assert {work.params(optuna_store.frozen(t))["loss"] for t in (first, second)} == {"dice", "focal"}
    study.tell(first, 0.5)
    study.tell(second, 0.5)
    assert loop.next_trial(study, CFG, SPACE, info) is None  # nothing waiting, running or to add


def test_resync_reruns_the_point_of_a_dead_workers_trial(tmp_path):
    info, study = journal(tmp_path)
    work.sync_queue(study, [{"loss": "dice", "seed": 0}])
    trial = work.take_waiting(study)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    trial.set_user_attr("worker", f"{owners.host()}:{dead.stdout.strip()}")
    loop.resync(study, SPACE, info)
    assert optuna_store.frozen(trial).user_attrs["state"] == "killed"
    waiting = study.get_trials(states=(work.TrialState.WAITING,))
    assert sorted(work.params(t)["loss"] for t in waiting) == ["dice", "focal"]  # the space's points, again
    assert (tmp_path / "sweep.lock").exists()


def test_no_planner_or_no_room_adds_no_seed(tmp_path):
    info, study = journal(tmp_path)
    assert loop.adaptive_round(OmegaConf.create({"sweep": {"max_seeds": 5}}), SPACE, info, None) == []
    assert loop.adaptive_round(CFG, SPACE, info, lambda *a: ([{"loss": "dice", "seed": 1}], ["x"])) == []
    assert study.get_trials() == []


def test_next_trial_waits_for_a_trial_claimed_this_moment_and_reruns_it_once_unowned_too_long(tmp_path, monkeypatch):
    """A worker killed between the claim and naming itself: the others wait, then run its point again."""
    info, study = journal(tmp_path)
    work.sync_queue(study, [{"loss": "dice", "seed": 0}])
    orphan = optuna_store.claim(study, study.get_trials()[0])  # claimed, never named: its worker died
    naps = []

    def nap(seconds):
        naps.append(seconds)
        if len(naps) == 3:  # a while later: the claim is older than UNOWNED_SECONDS
            monkeypatch.setattr(owners, "UNOWNED_SECONDS", -1)

    monkeypatch.setattr(loop.time, "sleep", nap)
    again = loop.next_trial(study, CFG, SPACE, info)
    assert len(naps) == 3 and optuna_store.frozen(orphan).user_attrs["state"] == "killed"
    assert work.params(optuna_store.frozen(again)) == {"loss": "dice", "seed": 0}
    assert optuna_store.frozen(again).user_attrs["worker"] == owners.worker_id()
