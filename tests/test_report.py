"""The report (`lossbench.analysis.report.write`) on a tiny planted study: an Optuna journal and a SQLite
MLflow store in a temporary folder, read back into summary.md, findings.md and trials.csv."""

from __future__ import annotations

import time

import numpy as np
import optuna
import pandas as pd
import pytest
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from lossbench.analysis import report
from lossbench.errors import UserError
from lossbench.sweep import work
from lossbench.sweep.study import StudyInfo

EPOCHS = 3
CHOICE = {"class_weighting": "none", "optimizer": "adam"}


def grid_trials() -> list[dict]:
    """Three seeds of three pairings: softmax CE always converges, sigmoid binary CE sometimes, Dice never."""
    out = []
    for seed in (0, 1, 2):
        out.append({"loss": "categorical_crossentropy", "activation": "softmax", "seed": seed, "dice": 0.8})
        good = seed != 1
        out.append(
            {"loss": "binary_crossentropy", "activation": "sigmoid", "seed": seed, "dice": 0.7 if good else 0.05}
        )
        out.append({"loss": "dice", "activation": "softmax", "seed": seed, "dice": 0.02})
    return [t | CHOICE | {"verdict": "converged" if t["dice"] > 0.5 else "stalled_at_chance"} for t in out]


def log_run(client: MlflowClient, experiment_id: str, t: dict) -> str:
    """One trial's MLflow run: its choices as tags, its final metrics and three epochs of curves."""
    run_id = client.create_run(experiment_id, tags={k: t[k] for k in ("loss", "activation", *CHOICE)}).info.run_id
    now = int(time.time() * 1000)
    final = {
        "test/foreground_dice": t["dice"],
        "test/reported_accuracy": 0.9 + t["dice"] / 10,
        "chance_loss": 1.386,
        "prior_loss": 0.9,
        "test/predicted_background_share": 1 - t["dice"] / 4,
    }
    curves = {
        "train/loss": [1.3 - 0.2 * e * t["dice"] for e in range(EPOCHS)],
        "val/loss": [1.35 - 0.25 * e * t["dice"] for e in range(EPOCHS)],
        "val/foreground_dice": [t["dice"] * (e + 1) / EPOCHS for e in range(EPOCHS)],
    }
    metrics = [Metric(k, float(v), now, 0) for k, v in final.items()]
    metrics += [Metric(k, float(v), now, e + 1) for k, values in curves.items() for e, v in enumerate(values)]
    client.log_batch(run_id, metrics=metrics)
    return run_id


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """One SQLite MLflow store for the module (creating its tables takes seconds); each study its experiment."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def plant(tmp_path, tracking_uri: str, trials: list[dict] | None = None, attrs: dict | None = None) -> StudyInfo:
    """A finished study in ``tmp_path``: every trial in the journal, with its run in the MLflow store."""
    client = MlflowClient(tracking_uri)
    experiment_id = client.create_experiment(f"planted-{tmp_path.name}", artifact_location=str(tmp_path / "artifacts"))
    info = StudyInfo(
        name="planted",
        study_name="planted-0",
        storage=str(tmp_path / "optuna.journal"),
        folder=str(tmp_path / "planted"),
        tracking_uri=tracking_uri,
        experiment_id=experiment_id,
        parent_run_id=client.create_run(experiment_id).info.run_id,
    )
    study = optuna.create_study(study_name=info.study_name, storage=work.storage(info), direction="maximize")
    for key, value in ({"class_names": ["background", "rv", "myo", "lv"], "max_seeds": 3} | (attrs or {})).items():
        study.set_user_attr(key, value)
    rng = np.random.default_rng(0)
    for t in grid_trials() if trials is None else trials:
        choices = {k: t[k] for k in ("loss", "activation", *CHOICE)}
        params = {"trials": t["trials"]} if "trials" in t else choices  # a sweep file's named trials, or a grid
        subjects = {f"s{i}": float(np.clip(t["dice"] + 0.01 * rng.standard_normal(), 0, 1)) for i in range(4)}
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={k: optuna.distributions.CategoricalDistribution([v]) for k, v in params.items()},
                value=t["dice"],
                user_attrs={
                    "seed": t["seed"],
                    "choices": choices,
                    "state": "complete",
                    "verdict": t["verdict"],
                    "test_dice": float(np.mean(list(subjects.values()))),
                    "subject_dice": subjects,
                    "audit": "logits_substituted",
                    "seconds": 1.5,
                    "mlflow_run_id": log_run(client, experiment_id, t),
                },
            )
        )
    return info


@pytest.fixture(scope="module")
def written(tmp_path_factory, store):
    """The report of the planted grid, written once for the tests below."""
    tmp_path = tmp_path_factory.mktemp("report")
    info = plant(tmp_path, store)
    return info, report.write(info, sections=["rates", "verdicts", "ranking", "binary", "top3", "why_binary"])


def test_the_report_writes_every_trial_to_trials_csv(written):
    _, folder = written
    table = pd.read_csv(folder / "trials.csv")
    assert len(table) == 9 and "subject_dice" not in table
    assert table["val/loss"].notna().all()  # the runs' final metrics are joined to their trials
    first = table[table["trial"] == 0].iloc[0]
    assert first["train/loss/epoch1"] == pytest.approx(1.3) and first["epochs_to_dice_0.5"] == 2


def test_summary_has_the_sections_asked_for_in_their_order(written):
    _, folder = written
    text = (folder / "summary.md").read_text()
    titles = [line for line in text.splitlines() if line.startswith("## ")]
    assert titles == [
        "## How this was run",
        "## Convergence rate and Dice per pairing",
        "## Verdicts",
        "## Is the best pairing better than the runner-up?",
        "## Does binary CE learn better than categorical CE?",
        "## Top three",
        "## Why binary CE looked better",
    ]
    assert "# lossbench results: `planted`" in text
    assert "| CE · softmax · unweighted · Adam 1e-3 | 3/3 |" in text  # the pairing in words, in the table too
    assert "| stalled_at_chance | 4 |" in text and "| converged | 5 |" in text
    assert "## Plots" not in text


def test_findings_name_the_classes_and_the_top_three(written):
    _, folder = written
    text = (folder / "findings.md").read_text()
    assert text.startswith("On the data (`planted`, 3 seeds at most per pairing;")
    assert "- **Convergence**: always 1; sometimes 1; never 1 pairings." in text
    assert "BCE · sigmoid · unweighted · Adam 1e-3: sometimes (2/3 converged" in text
    assert "- **Top three** by mean test foreground Dice (95 % CI): CE · softmax" in text


def test_the_report_is_logged_to_the_parent_run(written):
    info, _ = written
    client = MlflowClient(info.tracking_uri)
    logged = {a.path for a in client.list_artifacts(info.parent_run_id, "report")}
    assert {"report/summary.md", "report/trials.csv"} <= logged
    note = client.get_run(info.parent_run_id).data.tags["mlflow.note.content"]
    assert (
        note.startswith("**Use** categorical_crossentropy+softmax")
        and "3 pairings, one run each" in note
        and "from 9 trial runs" in note
    )


def test_an_empty_study_writes_no_report(tmp_path, store, capsys):
    info = plant(tmp_path, store, trials=[])
    assert report.write(info) == tmp_path / "planted"
    assert "no finished trial yet" in capsys.readouterr().out
    assert not (tmp_path / "planted" / "summary.md").exists()


def test_an_unknown_section_is_one_line():
    assert report.check_sections(None) == list(report.DEFAULT_SECTIONS)
    with pytest.raises(UserError, match="no section 'nope' - choose from rates, verdicts"):
        report.check_sections(["rates", "nope"])


def test_the_stamp_says_whether_the_report_is_whole_and_of_the_trials_the_study_holds(tmp_path, store):
    info = plant(tmp_path, store)
    folder = report.write(info, sections=["rates"])
    assert report.up_to_date(info) and (folder / report.STAMP).exists()
    assert not list(folder.glob(".*tmp-*"))  # every file renamed into place
    report.stale(folder)  # what a report killed midway leaves: no stamp
    assert not report.up_to_date(info)
    report.write(info)
    assert report.up_to_date(info)
    study = work.load(info)
    study.add_trial(
        optuna.trial.create_trial(
            params={"loss": "dice"},
            distributions={"loss": optuna.distributions.CategoricalDistribution(["dice"])},
            value=0.1,
        )
    )
    assert not report.up_to_date(info)  # a trial the report has not seen
