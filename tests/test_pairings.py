"""The per-pairing table (`lossbench.analysis.pairings`): trials read from a real Optuna journal, rates per pairing."""

from __future__ import annotations

import optuna
import pandas as pd
from test_claims import grid, trial

from lossbench.analysis import pairings


def test_the_trials_frame_reads_params_seed_and_results_from_the_study(tmp_path):
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / "j.journal")))
    study = optuna.create_study(study_name="s", storage=storage)
    dist = {"loss": optuna.distributions.CategoricalDistribution(["dice"])}
    study.add_trial(
        optuna.trial.create_trial(
            params={"loss": "dice"},
            distributions=dist,
            value=0.7,
            user_attrs={"seed": 2, "verdict": "converged", "test_dice": 0.7, "choices": {"activation": "softmax"}},
        )
    )
    study.add_trial(
        optuna.trial.create_trial(state=optuna.trial.TrialState.RUNNING, params={"loss": "dice"}, distributions=dist)
    )
    frame = pairings.trials_frame(study)
    assert len(frame) == 1  # the running trial is not finished
    row = frame.iloc[0]
    assert (row["loss"], row["activation"], row["seed"], row["state"], row["verdict"]) == (
        "dice",
        "softmax",
        2,
        "complete",
        "converged",
    )
    assert row["test/foreground_dice"] == 0.7 and row["subject_dice"] == {}


def test_rates_count_only_the_trials_that_ran_and_sort_by_dice():
    frame = pd.concat(
        [grid(), pd.DataFrame([trial("dice", seed=5, verdict="invalid", state="invalid") | {"reason": "x: too big"}])]
    )
    table = pairings.rates(frame)
    assert list(table["pairing"])[0] == "categorical_crossentropy+softmax | median_frequency | adam"  # best Dice first
    dice = table.set_index("pairing").loc["dice+softmax | none | adam"]
    assert (dice["k"], dice["n"], dice["converged"]) == (3, 3, "3/3")  # the invalid trial is no seed
    sgd = table.set_index("pairing").loc["categorical_crossentropy+softmax | none | sgd_seed"]
    assert (sgd["class"], sgd["pruned"], sgd["dice_converged"] != sgd["dice_converged"]) == ("never", 3, True)


def test_subject_dice_falls_back_to_the_logged_metrics_then_to_the_mean():
    assert pairings.subject_dice({"subject_dice": {}, "test/subject/p1/foreground_dice": 0.5}) == {"p1": 0.5}
    assert pairings.subject_dice(pd.Series({"test/foreground_dice": 0.4})) == {"all": 0.4}
