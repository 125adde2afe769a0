"""One trial's MLflow run (`lossbench.sweep.tracking.runs`) on a SQLite store in tmp_path: opened, logged, closed."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf
from tracking_helpers import result, store_folder, tiny_cfg  # noqa: F401  (the fixture `store`)

from lossbench.registry import option_word
from lossbench.sweep.tracking import runs


def test_setup_creates_the_experiment_once_with_its_artifacts_under_results(compose_cfg, store):
    cfg = tiny_cfg(compose_cfg, store)
    first = runs.setup(cfg, "tiny-1")
    assert runs.setup(cfg, "tiny-1") == first
    experiment = MlflowClient(runs.store_uri(cfg)).get_experiment(first)
    assert experiment.name == "tiny-1" and "mlartifacts" in experiment.artifact_location
    assert (store / "results" / "mlflow.db").exists()
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # not MLflow's GenAI mode


def test_an_experiment_made_before_the_kind_tag_gets_it(compose_cfg, store):
    cfg = tiny_cfg(compose_cfg, store)
    client = MlflowClient(runs.store_uri(cfg))
    old = client.create_experiment("tiny-old")
    assert "mlflow.experimentKind" not in client.get_experiment(old).tags
    assert runs.setup(cfg, "tiny-old") == old
    assert client.get_experiment(old).tags["mlflow.experimentKind"] == "custom_model_development"


def test_a_trials_run_is_live_from_its_start_to_its_close(compose_cfg, store):
    cfg = tiny_cfg(compose_cfg, store)
    experiment = runs.setup(cfg, "tiny-live")
    client = MlflowClient(runs.store_uri(cfg))
    parent = client.create_run(experiment).info.run_id
    run = runs.TrialRun(cfg, "dice+softmax", experiment, parent, {"optuna_trial": "0"}, machine={"device": "cpu"})
    live = client.get_run(run.run_id)
    assert live.info.status == "RUNNING" and live.data.tags["state"] == "running"
    assert live.data.tags["mlflow.parentRunId"] == parent and live.data.tags["optuna_trial"] == "0"
    assert live.data.tags["loss"] == str(cfg.loss.name) and live.data.tags["device"] == "cpu"
    assert live.data.params["trainer.epochs"] == "1" and not any(k.startswith("sweep.") for k in live.data.params)
    words = {k: v for k, v in live.data.params.items() if k.startswith("choice/")}  # the choices view's axes
    assert len(words) == 4 and words["choice/optimizer"] == option_word(
        "optimizer", str(cfg.optimizer.name), cfg.optimizer.learning_rate
    )
    run.log_epoch(0, {"val/foreground_dice": 0.5})
    run.log_result(result(), logged_epochs=1)
    run.close("complete")
    done = client.get_run(run.run_id)
    assert done.info.status == "FINISHED"
    assert done.data.tags["verdict"] == "converged" and done.data.tags["state"] == "complete"
    assert done.data.metrics["converged"] == 1.0 and done.data.metrics["test/foreground_dice"] == 0.8
    assert "test/subject/p1" not in done.data.metrics  # per-subject figures live in Optuna, not in MLflow
    history = client.get_metric_history(run.run_id, "val/foreground_dice")
    assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.8)]  # epoch 1 live, epoch 2 with the result
    assert [a.path for a in client.list_artifacts(run.run_id)] == ["config.yaml"]


def test_a_run_closes_with_the_status_of_its_state(compose_cfg, store):
    cfg = tiny_cfg(compose_cfg, store)
    experiment = runs.setup(cfg, "tiny-status")
    client = MlflowClient(runs.store_uri(cfg))
    for state, status in [("pruned", "FINISHED"), ("killed", "KILLED"), ("failed", "FAILED"), ("invalid", "FAILED")]:
        run = runs.TrialRun(cfg, state, experiment, machine={})
        run.close(state)
        assert client.get_run(run.run_id).info.status == status


def test_flat_params_leave_out_the_sweep_and_hide_passwords():
    cfg = OmegaConf.create(
        {"a": {"b": 1, "c": [1, 2]}, "sweep": {"n_workers": 2}, "db": "postgresql://me:secret@host/optuna"}
    )
    params = runs.flat_params(cfg)
    assert params["a.b"] == "1" and params["a.c"] == "[1, 2]" and "sweep.n_workers" not in params
    assert "secret" not in params["db"]


def test_describe_result_and_run_url():
    assert runs.describe_result(result()) == "converged: learned; test foreground Dice 0.8"
    cfg = OmegaConf.create({"tracking": {"ui_url": "http://ui:5000/"}})
    assert runs.run_url(cfg, "3", "abc") == "http://ui:5000/#/experiments/3/runs/abc"


def test_the_config_artifact_holds_no_password(compose_cfg, store, tmp_path):
    cfg = tiny_cfg(compose_cfg, store)
    OmegaConf.update(cfg, "sweep.storage", "postgresql://lossbench:s3cret-pw@db:5432/optuna", force_add=True)
    experiment = runs.setup(cfg, "tiny-redacted")
    run = runs.TrialRun(cfg, "dice+softmax", experiment, machine={})
    run.log_result(result(), logged_epochs=1)
    run.close("complete")
    text = Path(
        MlflowClient(runs.store_uri(cfg)).download_artifacts(run.run_id, "config.yaml", str(tmp_path))
    ).read_text()
    assert "s3cret-pw" not in text and "postgresql://lossbench:***@db:5432/optuna" in text
