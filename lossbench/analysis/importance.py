"""What optuna-dashboard's importance panel ranks, said in the study itself (user attribute ``importance``).

optuna-dashboard ranks the four choices by PED-ANOVA over every COMPLETE trial at its default
``target_quantile=0.1``: which choice puts a trial into the top 10 % of validation Dice. Adaptive seeds
weigh that up towards the few pairings that got extra seeds, and the top 10 % is a question of its own
(`tests/test_importance.py`). So the report stores, beside it, the same ranking over the base seeds only
(each pairing with the same number of trials), PED-ANOVA's top half and fANOVA on those, and a sentence
that says what each ranks. Its "best trial" is one seed's value; the report ranks pairings over seeds.

Two cases rank nothing and are said, not computed: one varied parameter (thread 1's explicit ``trials``
list) is 1.0 by construction, and fANOVA over a categorical of many choices enumerates every split of its
one-hot columns (Optuna 5: over 10 minutes for thread 1's 24 choices on this machine, 2 cores), so it
is left out above `FANOVA_MAX_CHOICES`.
"""

from __future__ import annotations

import optuna

SAYS = (
    "optuna-dashboard's 'Hyperparameter Importance' is PED-ANOVA over every complete trial, adaptive seeds "
    "included: which choice puts a trial into the top 10 % of validation Dice. 'base_seeds' ranks the same over "
    "the base seeds only (every pairing equally); 'base_seeds_top_half' asks what puts a trial into the top half "
    "(here: which choices converge at all); 'base_seeds_fanova' is fANOVA over the base seeds. The dashboard's "
    "'best trial' is one seed's value: results/<name>/summary.md ranks pairings over seeds."
)


FANOVA_MAX_CHOICES = 12  # fANOVA's cost grows with every split of a categorical's one-hot columns


def _rank(trials: list, evaluator) -> dict[str, float]:
    study = optuna.create_study(direction="maximize")
    study.add_trials(trials)
    ranked = optuna.importance.get_param_importances(study, evaluator=evaluator)
    return {name: round(float(value), 3) for name, value in ranked.items()}


def rankings(study: optuna.Study) -> dict:
    """The importance a person sees in optuna-dashboard and the same over the base seeds, with what they rank."""
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    base_seeds = set(study.user_attrs.get("base_seeds") or [])
    base = [t for t in done if not base_seeds or t.user_attrs.get("seed", t.params.get("seed")) in base_seeds]
    varied = {k for t in base for k in t.params if len({str(u.params.get(k)) for u in base}) > 1}
    if len(base) < 4 or not varied:
        return {}
    out = {"says": SAYS, "n_trials": len(done), "n_base_trials": len(base)}
    if len(varied) == 1:
        return out | {"not_ranked": f"one parameter varies ({varied.pop()}): its importance is 1 by construction"}
    choices = {k: len({str(t.params.get(k)) for t in base}) for k in varied}
    evaluators = {
        "dashboard": (done, optuna.importance.PedAnovaImportanceEvaluator()),
        "base_seeds": (base, optuna.importance.PedAnovaImportanceEvaluator()),
        "base_seeds_top_half": (base, optuna.importance.PedAnovaImportanceEvaluator(target_quantile=0.5)),
        "base_seeds_fanova": (base, optuna.importance.FanovaImportanceEvaluator(seed=0)),
    }
    wide = {k: n for k, n in choices.items() if n > FANOVA_MAX_CHOICES}
    if wide:
        del evaluators["base_seeds_fanova"]
        out["base_seeds_fanova"] = (
            f"not computed: {wide} choices (fANOVA enumerates every split of their one-hot columns)"
        )
    for key, (trials, evaluator) in evaluators.items():
        try:
            out[key] = _rank(trials, evaluator)
        except (ValueError, RuntimeError) as error:  # e.g. too few trials for a quantile: say so, rank the rest
            out[key] = f"not computed: {error}"
    return out


def record(study: optuna.Study) -> dict:
    """Store `rankings` as the study's user attribute ``importance`` (optuna-dashboard shows it); return it."""
    found = rankings(study)
    if found and study.user_attrs.get("importance") != found:
        study.set_user_attr("importance", found)
    return found
