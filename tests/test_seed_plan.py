"""Adaptive seeds (`lossbench.analysis.seed_plan`): more seeds only where they can change an answer."""

from __future__ import annotations

import optuna
from test_claims import grid

from lossbench.analysis import seed_plan


def test_the_seeds_a_pairing_may_have_continue_from_the_base():
    assert seed_plan.seeds_to_add([0, 1, 2], 5) == [0, 1, 2, 3, 4]
    assert seed_plan.seeds_to_add([], 2) == [0, 1]


def test_a_sometimes_pairing_gets_the_seeds_up_to_the_cap():
    points, reasons = seed_plan.adaptive_points(grid(dice_verdicts={1: "degenerate"}), [0, 1, 2], 4)
    dice = [p for p in points if p["loss"] == "dice"]
    assert dice == [
        {"loss": "dice", "activation": "softmax", "class_weighting": "none", "optimizer": "adam", "seed": 3}
    ]
    assert any(r.startswith("dice+softmax | none | adam: seeds [3] - ") for r in reasons)
    assert seed_plan.adaptive_points(grid(), [0, 1, 2], 3) == ([], [])  # the cap is the base: nothing to add


def test_the_planner_reads_the_study(tmp_path):
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / "j.journal")))
    study = optuna.create_study(study_name="s", storage=storage)
    dist = {"loss": optuna.distributions.CategoricalDistribution(["dice"])}
    for seed, verdict in enumerate(["converged", "degenerate"]):
        study.add_trial(
            optuna.trial.create_trial(
                params={"loss": "dice"},
                distributions=dist,
                value=0.5,
                user_attrs={"seed": seed, "verdict": verdict, "state": "complete", "subject_dice": {"a": 0.5}},
            )
        )
    points, _ = seed_plan.plan_seeds(study, [0, 1], 3)
    assert points == [{"loss": "dice", "seed": 2}]
