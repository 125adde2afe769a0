"""`python -m lossbench.train` end to end in a subprocess: exit codes, summary, MLflow run, no stray files."""

import math
import os
import subprocess
import sys

import pytest
from conftest import tiny
from mlflow.tracking import MlflowClient

from lossbench.trial.verdict import VERDICTS

METRICS = [
    "train/loss",
    "val/loss",
    "val/foreground_dice",
    "val/dice/rv",
    "val/dice/myocardium",
    "val/dice/lv",
    "val/pixel_accuracy",
    "val/reported_accuracy",
    "val/predicted_background_share",
    "test/foreground_dice",
    "chance_loss",
    "prior_loss",
    "first_batch_loss",
]
TAGS = ["audit", "verdict", "git_commit", "tensorflow", "keras"]


def train(cwd, *overrides, timeout=240):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"} | {"TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-m", "lossbench.train", *tiny(cwd / "results"), *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def summary_of(stdout) -> str:
    """The summary after the three ``data <split>: ...`` lines (slices, subjects, class shares)."""
    lines = stdout.splitlines()
    assert [line.split(":")[0].split()[1] for line in lines[:3]] == ["train", "val", "test"], stdout
    assert all("background" in line for line in lines[:3])
    return "\n".join(lines[3:])


def verdict_of(stdout):
    """The verdict in the summary's first line ``<pairing>: <verdict> - <reason>``."""
    return summary_of(stdout).splitlines()[0].split(": ", 1)[1].split(" - ", 1)[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One tiny default trial (categorical CE + softmax), run in an empty working directory."""
    cwd = tmp_path_factory.mktemp("train")
    done = train(cwd)
    return cwd, done


def test_exits_0_and_prints_the_summary(run):
    _, done = run
    assert done.returncode == 0, done.stderr[-3000:]
    assert summary_of(done.stdout).startswith("CE · softmax · unweighted · Adam 1e-3 · seed 0: ")
    assert verdict_of(done.stdout) in set(VERDICTS) - {"invalid"}
    assert "  audit nominal | test foreground Dice " in done.stdout
    assert "in experiment 'trial': mlflow ui --backend-store-uri sqlite:///" in done.stdout


def test_writes_one_mlflow_run_with_curves_and_tags(run):
    cwd, done = run
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient(f"sqlite:///{cwd}/results/mlflow.db")
    experiment = client.get_experiment_by_name("trial")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    data = runs[0].data
    missing = [m for m in METRICS if m not in data.metrics]
    assert not missing
    for tag in TAGS:
        assert data.tags.get(tag), tag
    assert data.tags["audit"] == "nominal"
    assert data.tags["keras"] == "3.15.1"
    assert data.tags["verdict"] == verdict_of(done.stdout)
    assert data.metrics["chance_loss"] == pytest.approx(math.log(4), rel=1e-5)
    assert 0 < data.metrics["prior_loss"] < data.metrics["chance_loss"]
    assert len(client.get_metric_history(runs[0].info.run_id, "val/loss")) == 1  # trainer.epochs=1
    assert experiment.artifact_location.startswith((cwd / "results").as_uri())


def test_writes_nothing_outside_results(run):
    cwd, done = run
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in cwd.iterdir()) == ["results"]


def test_sparse_ce_with_one_hot_labels_is_a_one_line_error(tmp_path):
    done = train(tmp_path, "loss=sparse_categorical_crossentropy", "data.label_encoding=one_hot")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("lossbench: error:")]
    assert len(errors) == 1, done.stderr[-3000:]
    assert "loss=sparse_categorical_crossentropy activation=softmax" in errors[0] and "rank" in errors[0]
    assert "Traceback" not in done.stderr
    assert summary_of(done.stdout) == ""  # the data lines only: no trial ran
    assert not (tmp_path / "results" / "mlflow.db").exists()  # no store touched
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written at all


def test_unknown_loss_is_one_line_with_the_choices(tmp_path):
    done = train(tmp_path, "loss=no_such", timeout=60)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("lossbench: error: no loss option 'no_such' - choose from binary_crossentropy, ")
    assert "categorical_crossentropy" in line and "dice_ce" in line
    assert not (tmp_path / "results").exists()
