"""The budget check (`lossbench.analysis.budget`): remembered on the main study, read back as sentences."""

from __future__ import annotations

import optuna

from lossbench.analysis import budget
from lossbench.sweep import work
from lossbench.sweep.study import StudyInfo


def planted(tmp_path, name: str, verdict: str, epochs: int = 8) -> StudyInfo:
    info = StudyInfo(
        name=name,
        study_name=name,
        storage=str(tmp_path / f"{name}.journal"),
        folder=str(tmp_path / name),
        tracking_uri="",
        epochs=epochs,
    )
    s = optuna.create_study(study_name=name, storage=work.storage(info))
    s.add_trial(
        optuna.trial.create_trial(
            params={"loss": "dice"},
            distributions={"loss": optuna.distributions.CategoricalDistribution(["dice"])},
            value=0.1,
            user_attrs={"seed": 0, "state": "complete", "verdict": verdict, "test_dice": 0.1},
        )
    )
    return info


def test_no_budget_study_no_sentences(tmp_path):
    assert budget.sentences(planted(tmp_path, "main", "stalled_at_chance")) == []


def test_the_budget_study_is_remembered_and_read_back(tmp_path):
    main = planted(tmp_path, "main", "stalled_at_chance")
    budget.remember(main, planted(tmp_path, "main-budget", "converged", epochs=32))
    lines = budget.sentences(main)
    assert lines[0].startswith("Budget check (study `main-budget`, results/main-budget/; these trials do not count")
    assert lines[2] == "- dice+- | - | - (seed 0, 32 epochs): **converges slowly at 4x**, test foreground Dice 0.100"


def test_a_budget_study_that_is_gone_is_one_line(tmp_path):
    main = planted(tmp_path, "main", "stalled_at_chance")
    work.load(main).set_user_attr(
        "budget_study",
        {"study_name": "gone", "storage": str(tmp_path / "main.journal"), "name": "gone", "folder": "", "epochs": 32},
    )
    assert budget.sentences(main) == [f"(budget study gone not found in {tmp_path / 'main.journal'})"]


def test_the_plan_names_nothing_when_no_pairing_is_classed_never(tmp_path, compose_cfg):
    cfg = compose_cfg(["+experiment=cmr"])
    assert budget.plan(cfg, planted(tmp_path, "main", "converged")) is None
