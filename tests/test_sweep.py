"""The sweep end to end on tiny data: study, parent/child runs, exactly once, failures, workers, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from conftest import ROOT, tiny
from mlflow.tracking import MlflowClient

from lossbench.sweep import work

GRID = """grid:
  loss: [categorical_crossentropy]
  model.depth: [2, 9]   # depth 9 cannot fit a 32x32 input: that trial must fail, not the sweep
seeds: [0, 1]
"""
GOOD_GRID = """grid:
  loss: [categorical_crossentropy, dice]
seeds: [0, 1]
"""


def sweep_args(tmp_path, grid: str, *extra: str, model: bool = True) -> list[str]:
    """The command line of a tiny sweep over ``grid`` in ``tmp_path`` (``model=False``: no model.* overrides)."""
    space = tmp_path / "space.yaml"
    space.write_text(grid)
    overrides = [o for o in tiny(tmp_path / "results") if model or not o.startswith("model.")]
    return [
        sys.executable,
        "-m",
        "lossbench.sweep",
        f"sweep.space={space}",
        "name=tiny",
        "sweep.warmup_epochs=1",
        *overrides,
        *extra,
    ]


def sweep(tmp_path, grid: str, *extra: str, wait: bool = True, env: dict | None = None, model: bool = True):
    args = sweep_args(tmp_path, grid, *extra, model=model)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    if not wait:  # a sweep to interrupt: it takes SIGINT as Ctrl-C even where this runner ignores it (a job run with &)
        return subprocess.Popen(
            args,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def study_of(tmp_path) -> optuna.Study:
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    storage = JournalStorage(JournalFileBackend(str(tmp_path / "results" / "tiny" / "optuna.journal")))
    (summary,) = optuna.get_all_study_summaries(storage)
    return optuna.load_study(study_name=summary.study_name, storage=storage)


def child_runs(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path}/results/mlflow.db")
    (experiment,) = [e for e in client.search_experiments() if e.name.startswith("tiny-")]
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("kind") == "sweep"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return parents, children


def points_done(study) -> list[str]:
    return [
        json.dumps(work.params(t), sort_keys=True)
        for t in study.get_trials()
        if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    ]


@pytest.mark.slow
def test_sweep_runs_each_point_once_records_failures_and_reruns_add_nothing(tmp_path):
    first = sweep(tmp_path, GRID)
    assert first.returncode == 0, first.stdout + first.stderr
    study = study_of(tmp_path)
    trials = study.get_trials()
    assert len(trials) == 4
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    assert len(failed) == 2 and all(t.params["model.depth"] == 9 for t in failed)
    assert all(t.user_attrs["state"] == "failed" and "divisible" in t.user_attrs["reason"] for t in failed)
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials) == 2
    parents, children = child_runs(tmp_path)
    assert len(parents) == 1 and len(children) == 4
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}
    assert {c.data.tags["state"] for c in children} == {"complete", "failed"}
    assert (tmp_path / "results" / "tiny" / "summary.md").exists()

    again = sweep(tmp_path, GRID)
    assert again.returncode == 0, again.stderr
    assert len(study_of(tmp_path).get_trials()) == 4
    parents, children = child_runs(tmp_path)
    assert len(parents) == 1 and len(children) == 4
    assert sorted(os.listdir(tmp_path)) == ["results", "space.yaml"]  # nothing written elsewhere


@pytest.mark.slow
def test_two_workers_run_every_point_exactly_once(tmp_path):
    result = sweep(tmp_path, GOOD_GRID, "sweep.n_workers=2")
    assert result.returncode == 0, result.stdout + result.stderr
    done = points_done(study_of(tmp_path))
    assert len(done) == 4 and len(set(done)) == 4
    assert len(study_of(tmp_path).get_trials()) == 4
    assert len(child_runs(tmp_path)[1]) == 4


@pytest.mark.slow
def test_killed_sweep_resumes_without_repeating_finished_points(tmp_path):
    proc = sweep(tmp_path, GOOD_GRID, "trainer.epochs=20", wait=False)  # trials long enough to kill mid-sweep
    deadline = time.time() + 300
    journal = tmp_path / "results" / "tiny" / "optuna.journal"
    while time.time() < deadline:
        if journal.exists() and len(points_done(study_of(tmp_path))) >= 1:
            break
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    finished_before = points_done(study_of(tmp_path))
    assert 1 <= len(finished_before) < 4

    again = sweep(tmp_path, GOOD_GRID, "trainer.epochs=20")
    assert again.returncode == 0, again.stdout + again.stderr
    study = study_of(tmp_path)
    done = points_done(study)
    assert len(done) == 4 and len(set(done)) == 4
    assert set(finished_before) <= set(done)
    killed = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.FAIL]
    assert all(t.user_attrs.get("state") == "killed" for t in killed)


def test_dry_run_lists_points_and_trains_nothing(tmp_path):
    result = sweep(tmp_path, GOOD_GRID, "sweep.dry_run=true")
    assert result.returncode == 0, result.stderr
    assert "4 points; 4 new" in result.stdout
    assert "loss=dice trainer.seed=1" in result.stdout
    assert not (tmp_path / "results" / "tiny" / "summary.md").exists()


def test_unknown_space_is_one_line_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lossbench.sweep", "sweep.space=nope", f"paths.results={tmp_path}/results"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("lossbench: error: no sweep file") and "cmr" in result.stderr


def test_bad_data_is_one_line_exit_2_and_touches_no_store(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "earlier.txt").write_text("an earlier result")
    broken = tmp_path / "acdc" / "patient001_frame01.h5"
    broken.parent.mkdir()
    for patient in (1, 2, 3):  # enough patients for three splits; every file is unreadable
        (broken.parent / f"patient00{patient}_frame01.h5").write_bytes(b"not an hdf5 file")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lossbench.sweep",
            "+experiment=acdc",
            f"data.root={broken.parent}",
            f"paths.results={results}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("lossbench: error:")]
    assert len(errors) == 1 and "patient001_frame01.h5" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in results.iterdir()) == ["earlier.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acdc", "results"]


@pytest.mark.slow
def test_budget_check_reruns_never_pairings_at_4x_in_their_own_study(tmp_path):
    result = sweep(tmp_path, GOOD_GRID, "sweep.budget_check=true", "sweep.seeds=[0,1,2]")
    assert result.returncode == 0, result.stdout + result.stderr
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    storage = JournalStorage(JournalFileBackend(str(tmp_path / "results" / "tiny-budget" / "optuna.journal")))
    (summary,) = optuna.get_all_study_summaries(storage)
    budget = optuna.load_study(study_name=summary.study_name, storage=storage).get_trials()
    main = study_of(tmp_path).get_trials()
    assert len(main) == 6  # budget trials never count in the main study
    never = {t.params["loss"] for t in main if t.user_attrs["verdict"] != "converged"}
    assert {t.params["loss"] for t in budget} == never and {work.params(t)["seed"] for t in budget} <= {0}
    text = (tmp_path / "results" / "tiny" / "summary.md").read_text()
    assert "The budget: do never-converging pairings learn" in text and "at 4x" in text


def test_dry_run_says_which_adaptive_seeds_it_would_add(tmp_path):
    result = sweep(tmp_path, GOOD_GRID, "sweep.dry_run=true", "sweep.max_seeds=4")
    assert result.returncode == 0, result.stderr
    assert "adaptive seeds it would add now: none" in result.stdout  # nothing has run yet


SAMPLE = """sample:
  optimizer.learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}
seeds: [0]
"""


@pytest.mark.slow
def test_a_sample_space_runs_with_several_workers(tmp_path):
    result = sweep(tmp_path, SAMPLE, "sweep.n_workers=2", "sweep.n_trials=3")
    assert result.returncode == 0, result.stdout + result.stderr
    study = study_of(tmp_path)
    trials = study.get_trials()
    assert 3 <= len(trials) <= 4  # n_trials is reached; each worker may start one more at the very end
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    rates = [t.params["optimizer.learning_rate"] for t in trials]
    assert len(set(rates)) == len(rates) and all(1e-4 <= r <= 1e-2 for r in rates)
    assert study.user_attrs["n_workers"] == 2
    assert (tmp_path / "results" / "tiny" / "summary.md").exists()


@pytest.mark.slow
def test_a_users_model_builder_runs_through_a_sweep(tmp_path):
    extra = ["model=custom", "model._target_=examples.my_models.residual_unet", "+model.width=4", "+model.levels=2"]
    result = sweep(tmp_path, GOOD_GRID, *extra, env={"PYTHONPATH": str(ROOT)}, model=False)
    assert result.returncode == 0, result.stdout + result.stderr
    trials = study_of(tmp_path).get_trials()
    assert len(trials) == 4 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert {t.user_attrs["audit"] for t in trials} == {"nominal"}
    _, children = child_runs(tmp_path)
    assert {c.data.params["model._target_"] for c in children} == {"examples.my_models.residual_unet"}
    assert {c.data.params["model.width"] for c in children} == {"4"}


def test_a_missing_model_builder_is_one_line_before_any_store(tmp_path):
    result = sweep(tmp_path, GOOD_GRID, "model=custom", "model._target_=nowhere.models.build", model=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("lossbench: error: model._target_=nowhere.models.build: cannot import nowhere.models")
    )
    assert not (tmp_path / "results").exists()
