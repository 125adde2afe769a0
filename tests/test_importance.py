"""Optuna's importance as optuna-dashboard computes it (PED-ANOVA over COMPLETE trials), on the committed cmr trials.

Trials stopped by the stalled rule count as COMPLETE with their last value (`lossbench.sweep.job.outcome_of`),
and the seed is a user attribute, not a parameter: so the four choices are the only parameters.

What the data say (measured here, and why the tests read as they do): the optimizer decides whether a
net converges (every SGD trial ends below 0.05 validation Dice), so it ranks first when PED-ANOVA asks
what puts a trial in the top half (``target_quantile=0.5``) and in fANOVA. At PED-ANOVA's default
``target_quantile=0.1`` (what optuna-dashboard shows) the question is what makes the top 10 %: every
one of those is Adam, and the loss or the weighting then tells them apart, so which choice leads there
moves between runs. Counting the stalled trials (they were PRUNED before) is what lifts the optimizer there.
"""

from pathlib import Path

import optuna
import pandas as pd
import pytest

TRIALS = Path(__file__).resolve().parents[1] / "results" / "cmr" / "trials.csv"
CHOICES = ["loss", "activation", "class_weighting", "optimizer"]


def study_from(trials: pd.DataFrame) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    study.set_metric_names(["val_foreground_dice"])
    dists = {c: optuna.distributions.CategoricalDistribution(sorted(trials[c].unique())) for c in CHOICES}
    for _, row in trials.iterrows():
        study.add_trial(
            optuna.trial.create_trial(
                params={c: row[c] for c in CHOICES},
                distributions=dists,
                value=float(row["val/foreground_dice"]),
                user_attrs={"seed": int(row["seed"]), "stopped_early": row["state"] == "pruned"},
            )
        )
    return study


def importances(trials: pd.DataFrame, evaluator) -> dict:
    return optuna.importance.get_param_importances(study_from(trials), evaluator=evaluator)


@pytest.fixture(scope="module")
def cmr():
    if not TRIALS.exists():
        pytest.skip("results/cmr/trials.csv not committed")
    trials = pd.read_csv(TRIALS)
    return trials[trials["state"].isin(["complete", "pruned"])]


def test_ped_anova_ranks_the_optimizer_first_for_the_top_half_on_cmr(cmr):
    assert len(cmr) >= 100
    importance = importances(cmr, optuna.importance.PedAnovaImportanceEvaluator(target_quantile=0.5))
    assert set(importance) == set(CHOICES)  # no seed among the parameters
    assert next(iter(importance)) == "optimizer", importance


def test_fanova_ranks_the_optimizer_first_on_cmr(cmr):
    importance = importances(cmr, optuna.importance.FanovaImportanceEvaluator(seed=0))
    assert next(iter(importance)) == "optimizer", importance


def test_at_the_dashboards_top_ten_percent_counting_stalled_trials_lifts_the_optimizer(cmr):
    """Which choice leads the top 10 % moves between runs (the loss in the run before, the optimizer in the
    one committed now); that counting the stalled trials lifts the optimizer holds in both."""
    default = optuna.importance.PedAnovaImportanceEvaluator()
    counted = importances(cmr, default)
    without = importances(cmr[cmr["state"] == "complete"], default)  # the stalled trials as PRUNED
    assert counted["optimizer"] > without["optimizer"], (counted, without)
    assert list(counted).index("optimizer") < list(without).index("optimizer"), (counted, without)
    assert "optimizer" in list(counted)[:2], counted


def planted_study(extra_seeds: int) -> optuna.Study:
    """Four pairings x 3 base seeds: the optimizer decides convergence, the loss the Dice once converged;
    ``extra_seeds`` adaptive seeds of the weakest Adam pairing."""
    study = optuna.create_study(direction="maximize")
    study.set_user_attr("base_seeds", [0, 1, 2])
    dists = {
        "loss": optuna.distributions.CategoricalDistribution(["ce", "dice"]),
        "optimizer": optuna.distributions.CategoricalDistribution(["adam", "sgd"]),
    }
    value = {("ce", "adam"): 0.8, ("dice", "adam"): 0.6, ("ce", "sgd"): 0.02, ("dice", "sgd"): 0.01}
    for (loss, opt), dice in value.items():
        seeds = [0, 1, 2] + (list(range(3, 3 + extra_seeds)) if (loss, opt) == ("dice", "adam") else [])
        for seed in seeds:
            study.add_trial(
                optuna.trial.create_trial(
                    params={"loss": loss, "optimizer": opt},
                    distributions=dists,
                    value=dice + 0.001 * seed,
                    user_attrs={"seed": seed},
                )
            )
    return study


def test_the_study_says_what_the_dashboards_importance_ranks_and_ranks_the_base_seeds_apart():
    from lossbench.analysis import importance

    study = planted_study(extra_seeds=6)
    found = importance.record(study)
    assert study.user_attrs["importance"] == found
    assert found["n_trials"] == 18 and found["n_base_trials"] == 12  # the adaptive seeds left out
    assert "top 10 %" in found["says"] and "adaptive seeds" in found["says"]
    for key in ("dashboard", "base_seeds", "base_seeds_top_half", "base_seeds_fanova"):
        assert set(found[key]) == {"loss", "optimizer"}, found[key]
    assert next(iter(found["base_seeds_top_half"])) == "optimizer"  # what converges at all
    assert importance.rankings(planted_study(extra_seeds=0))["n_base_trials"] == 12


def explicit_study(n_entries: int, seeds_as_param: bool = False) -> optuna.Study:
    """Thread 1's shape: one categorical ``trials`` of ``n_entries`` explicit pairings x 3 seeds (plus a second
    parameter when ``seeds_as_param``)."""
    study = optuna.create_study(direction="maximize")
    names = [f"entry{i}" for i in range(n_entries)]
    dists = {"trials": optuna.distributions.CategoricalDistribution(names)}
    if seeds_as_param:
        dists["seed"] = optuna.distributions.IntDistribution(0, 2)
    for i, name in enumerate(names):
        for seed in range(3):
            params = {"trials": name} | ({"seed": seed} if seeds_as_param else {})
            study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=0.03 * i + 0.01 * seed))
    return study


def test_one_varied_parameter_or_a_wide_categorical_is_said_not_ranked_and_returns_at_once():
    """fANOVA enumerates every split of a categorical's one-hot columns: thread 1's 24 entries took over
    10 minutes; one parameter alone is 1.0 by construction."""
    from lossbench.analysis import importance

    one = importance.rankings(explicit_study(24))
    assert "by construction" in one["not_ranked"] and "dashboard" not in one
    two = importance.rankings(explicit_study(24, seeds_as_param=True))
    assert two["base_seeds_fanova"].startswith("not computed: {'trials': 24}")
    assert set(two["dashboard"]) == {"trials", "seed"}  # PED-ANOVA still ranks them
