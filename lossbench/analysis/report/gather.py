"""What a report reads: the trials table from the study and its MLflow runs, and the facts its pages share.

`trials_table` joins each Optuna trial with its MLflow run (tags, final metrics, curves);
`collect` adds the study's attributes, the rates and the claims once, so that every section of
summary.md and findings.md reads the same `Facts`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lossbench.analysis import claims, evidence, reproduce, wording

CURVES = ("train/loss", "val/loss", "val/foreground_dice", "val/clipped_share")
FILLED = (  # columns every trials table has, NaN where the runs did not log them
    "test/foreground_dice",
    "test/reported_accuracy",
    "val/loss",
    "chance_loss",
    "prior_loss",
    "train/loss/epoch1",
    "epochs_to_dice_0.5",
    "test/predicted_background_share",
)


def _with_run(row: dict, run, client, curves: dict, number: int) -> dict:
    """The trial's row with its MLflow run's tags and final metrics; its curves go into ``curves``."""
    row |= {k: run.data.tags.get(k, row.get(k)) for k in [*evidence.GROUP, "data"]}
    row |= {k: v for k, v in run.data.metrics.items() if not k.startswith("test/subject/")}
    curves[number] = {
        k: [m.value for m in sorted(client.get_metric_history(run.info.run_id, k), key=lambda m: m.step)]
        for k in CURVES
    }
    row["train/loss/epoch1"] = (curves[number]["train/loss"] or [np.nan])[0]
    dice = curves[number]["val/foreground_dice"]
    row["epochs_to_dice_0.5"] = next((i + 1 for i, d in enumerate(dice) if d >= 0.5), np.nan)
    return row


def trials_table(info) -> tuple[pd.DataFrame, dict]:
    """One row per Optuna trial, joined with its MLflow run's tags and final metrics; plus curves."""
    from mlflow.tracking import MlflowClient

    from lossbench.sweep import work

    client = MlflowClient(info.tracking_uri)
    runs = {r.info.run_id: r for r in client.search_runs([info.experiment_id], max_results=5000)}
    trials = {t.number: t for t in work.load(info).get_trials(deepcopy=False)}
    rows, curves = [], {}
    for row in claims.trials_frame(work.load(info)).to_dict("records"):
        t = trials[row["trial"]]
        row |= {
            "reason": t.user_attrs.get("reason", ""),
            "audit": t.user_attrs.get("audit", ""),
            "seconds": t.user_attrs.get("seconds"),
        }
        run = runs.get(t.user_attrs.get("mlflow_run_id", ""))
        if run is not None:
            row = _with_run(row, run, client, curves, t.number)
        rows.append(row)
    table = pd.DataFrame(rows)
    missing = sum(1 for t in trials.values() if t.state.is_finished() and t.user_attrs.get("mlflow_run_id") not in runs)
    if missing:  # e.g. a damaged store moved aside: the figures Optuna holds stay, the curves are gone
        print(
            f"report: {missing} of {len(trials)} trials have no run in the MLflow store {info.tracking_uri} (a new "
            "store?): their curves and per-class figures are left out; their verdicts and test Dice come from Optuna"
        )
    for col in FILLED:
        if col not in table:
            table[col] = np.nan
    return table, curves


@dataclass
class Facts:
    """What the report's pages read, gathered once: the study's trials, rates and claims, and its words."""

    info: object
    sections: list  # the parts of summary.md asked for (`report_sections.check_sections`)
    trials: pd.DataFrame
    curves: dict  # trial number -> metric -> values per epoch
    attrs: dict  # the study's user attributes
    rates: pd.DataFrame  # `claims.rates`: one row per pairing
    found: list  # every claim (the recommendation at the top of summary.md)
    shown: list  # the claims of the sections asked for (their sections, findings.md, the run's note)
    repro: dict  # `reproduce.read`: conclusion -> row, or {}
    background_share: float
    class_names: list
    words: object  # `wording.for_data` for this data set
    budget: list = field(default_factory=list)  # `budget.sentences`, when the budget section is asked for
    plots: list = field(default_factory=list)  # the figures drawn (`report_figures.draw`), None where not drawn

    @property
    def folder(self) -> Path:
        return Path(self.info.folder)

    @property
    def ran(self) -> pd.DataFrame:
        """The trials that trained (complete or pruned)."""
        return self.trials[self.trials["state"].isin(["complete", "pruned"])]


def collect(info, trials: pd.DataFrame, curves: dict, sections: list, background_share=None, class_names=None) -> Facts:
    """The `Facts` of the study ``info`` describes; ``background_share`` and ``class_names`` default to the
    study's attributes (then to the cardiac data's)."""
    from lossbench.analysis import budget
    from lossbench.sweep import work

    attrs = work.load(info).user_attrs
    words = functools.partial(
        wording.for_data, background=attrs.get("background", 0), commonest=attrs.get("commonest_class", "")
    )
    found = claims.claims_for(trials, int(attrs.get("max_seeds", 0) or 0), attrs.get("baseline"))
    return Facts(
        info=info,
        sections=sections,
        trials=trials,
        curves=curves,
        attrs=attrs,
        rates=claims.rates(trials.fillna({c: "-" for c in evidence.GROUP if c in trials})),
        found=found,
        shown=[c for c in found if c.section in sections],
        repro=reproduce.read(Path(info.folder)),
        background_share=background_share if background_share is not None else attrs.get("test_background_share", 0.95),
        class_names=class_names or attrs.get("class_names", ["background", "rv", "myocardium", "lv"]),
        words=words,
        budget=budget.sentences(info) if "budget" in sections else [],
    )
