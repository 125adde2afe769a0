"""Adaptive seeds on a real Optuna journal study: what is added, exactly once, and what the dry run lists."""

from __future__ import annotations

import threading
import time

import optuna
from omegaconf import OmegaConf

from lossbench.analysis.claims import plan_seeds
from lossbench.sweep import optuna_store, owners, progress, space, work
from lossbench.sweep.loop import adaptive_round, next_trial
from lossbench.sweep.study import StudyInfo

SPACE = OmegaConf.create(
    {"grid": {"loss": ["dice", "categorical_crossentropy"], "optimizer": ["adam", "sgd_seed"]}, "seeds": [0, 1, 2]}
)


def planted_study(tmp_path, running: tuple | None = None):
    """A finished 3-seed grid: dice+adam is 'sometimes', the rest always (adam) or never (sgd).

    ``running``: the (loss, optimizer, seed) of a point still running in this process (no result yet)."""
    info = StudyInfo(
        name="planted",
        study_name="planted",
        storage=str(tmp_path / "optuna.journal"),
        folder=str(tmp_path),
        tracking_uri="",
    )
    study = optuna.create_study(study_name="planted", storage=work.storage(info), direction="maximize")
    dists = {
        "loss": optuna.distributions.CategoricalDistribution(["dice", "categorical_crossentropy"]),
        "optimizer": optuna.distributions.CategoricalDistribution(["adam", "sgd_seed"]),
        "seed": optuna.distributions.IntDistribution(0, space.MAX_SEED),
    }
    for point in space.points(SPACE):
        good = point["optimizer"] == "adam" and not (point["loss"] == "dice" and point["seed"] == 1)
        if running == (point["loss"], point["optimizer"], point["seed"]):
            study.add_trial(
                optuna.trial.create_trial(
                    state=optuna.trial.TrialState.RUNNING,
                    params=point,
                    distributions=dists,
                    user_attrs={"worker": owners.worker_id()},
                )
            )
            continue
        study.add_trial(
            optuna.trial.create_trial(
                params=point,
                distributions=dists,
                value=0.8 if good else 0.0,
                user_attrs={
                    "state": "complete",
                    "verdict": "converged" if good else "stalled_at_chance",
                    "test_dice": 0.8 if good else 0.0,
                    "subject_dice": {"a": 0.8 if good else 0.0},
                },
            )
        )
    return info


def test_adaptive_round_adds_seeds_to_sometimes_pairings_once(tmp_path, capsys):
    info = planted_study(tmp_path)
    cfg = OmegaConf.create({"sweep": {"max_seeds": 5, "baseline": None}})
    reasons = adaptive_round(cfg, SPACE, info, plan_seeds)
    waiting = [work.params(t) for t in work.load(info).get_trials(states=(optuna.trial.TrialState.WAITING,))]
    assert any("dice" in r and "sometimes" in r for r in reasons)
    assert {(p["loss"], p["optimizer"], p["seed"]) for p in waiting} >= {("dice", "adam", 3), ("dice", "adam", 4)}
    assert not [p for p in waiting if p["optimizer"] == "sgd_seed"]  # never: no extra seeds
    assert "adaptive seeds: " in capsys.readouterr().out
    adaptive_round(cfg, SPACE, info, plan_seeds)  # a second round (a rerun) adds nothing twice
    again = work.load(info).get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert len(again) == len(waiting)
    assert "run   " not in progress.describe(info, SPACE)
    assert "waiting   loss=dice optimizer=adam trainer.seed=3" in progress.describe(info, SPACE)


def test_no_adaptive_seeds_when_the_cap_is_the_base(tmp_path):
    info = planted_study(tmp_path)
    assert adaptive_round(OmegaConf.create({"sweep": {"max_seeds": 3}}), SPACE, info, plan_seeds) == []
    assert adaptive_round(OmegaConf.create({"sweep": {"max_seeds": 5}}), SPACE, info, plan_seeds, apply=False)
    assert not work.load(info).get_trials(states=(optuna.trial.TrialState.WAITING,))


def test_a_worker_with_nothing_waiting_waits_for_the_running_trial_then_runs_the_adaptive_seeds(tmp_path):
    """The workers add the adaptive seeds themselves and go on, in the same process (no restart)."""
    info = planted_study(tmp_path, running=("dice", "adam", 1))
    study = work.load(info)
    cfg = OmegaConf.create({"sweep": {"max_seeds": 5, "baseline": None, "n_trials": None}})
    (pending,) = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))

    def finish():  # the other worker's trial ends: dice+adam seed 1 stalls, so dice+adam is 'sometimes'
        attrs = {"state": "complete", "verdict": "stalled_at_chance", "test_dice": 0.0, "subject_dice": {"a": 0.0}}
        trial = optuna_store.live(study, pending)
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        study.tell(trial, 0.0)

    timer = threading.Timer(1.5, finish)
    timer.start()
    started = time.monotonic()
    trial = next_trial(study, cfg, SPACE, info, planner=plan_seeds)
    timer.join()
    assert time.monotonic() - started >= 1.5  # it waited for the running trial's result
    point = work.params(optuna_store.frozen(trial))
    assert (point["loss"], point["optimizer"], point["seed"]) in {("dice", "adam", 3), ("dice", "adam", 4)}


def test_a_worker_leaves_when_no_seed_is_to_be_added(tmp_path):
    info = planted_study(tmp_path)
    cfg = OmegaConf.create({"sweep": {"max_seeds": 3, "baseline": None, "n_trials": None}})
    assert next_trial(work.load(info), cfg, SPACE, info, planner=plan_seeds) is None
