"""A sweep's parent run and the reconciling of runs with trials (`lossbench.sweep.tracking.parent`), on real stores."""

from __future__ import annotations

import optuna
from mlflow.tracking import MlflowClient
from tracking_helpers import info_for, store_folder, tiny_cfg  # noqa: F401  (the fixture `store`)

from lossbench.sweep import optuna_store, work
from lossbench.sweep.tracking import parent, runs


def sweep_of(compose_cfg, store, tmp_path, name):
    cfg = tiny_cfg(compose_cfg, store)
    info = info_for(cfg, tmp_path, runs.setup(cfg, name))
    return cfg, info, work.load(info), MlflowClient(info.tracking_uri)


def test_the_parent_run_is_made_once_and_kept_in_the_study(compose_cfg, store, tmp_path):
    cfg, info, study, client = sweep_of(compose_cfg, store, tmp_path, "parent-once")
    info.parent_run_id = parent.parent_run(study, info, cfg)
    assert parent.parent_run(study, info, cfg) == info.parent_run_id  # a rerun reuses it
    assert study.user_attrs["mlflow_parent_run_id"] == info.parent_run_id
    run = client.get_run(info.parent_run_id)
    assert run.data.tags["kind"] == "sweep" and run.data.params["sweep.space"] == str(cfg.sweep.space)


def test_the_parent_opens_takes_tags_and_closes_with_the_sweeps_figures(compose_cfg, store, tmp_path):
    cfg, info, study, client = sweep_of(compose_cfg, store, tmp_path, "parent-life")
    info.parent_run_id = parent.parent_run(study, info, cfg)
    parent.tag_parent(info, {"data": "a phantom"})
    parent.close_parent(info, 12.5, 2, {"complete": 3}, status=None)  # another sweep still runs: left RUNNING
    assert client.get_run(info.parent_run_id).info.status == "RUNNING"
    parent.close_parent(info, 20.0, 2, {"complete": 4}, step=2)
    run = client.get_run(info.parent_run_id)
    steps = [m.step for m in client.get_metric_history(info.parent_run_id, "sweep/wall_seconds")]
    assert steps == [1, 2]  # the sweep's first run, then its resume: not Unix seconds
    assert run.info.status == "FINISHED" and run.data.tags["data"] == "a phantom"
    assert run.data.metrics["sweep/wall_seconds"] == 20.0 and run.data.metrics["sweep/trials_complete"] == 4
    parent.open_parent(info)  # a resumed sweep
    assert client.get_run(info.parent_run_id).info.status == "RUNNING"


def test_reconcile_closes_the_runs_whose_trials_ended_and_hides_the_killed(compose_cfg, store, tmp_path):
    cfg, info, study, client = sweep_of(compose_cfg, store, tmp_path, "reconcile")
    info.parent_run_id = parent.parent_run(study, info, cfg)

    def trial_with_run(user_state=None):
        trial = study.ask()
        run = runs.TrialRun(cfg, "x", info.experiment_id, info.parent_run_id, {"optuna_trial": str(trial.number)}, {})
        if user_state:
            trial.set_user_attr("state", user_state)
        return trial, run.run_id

    done, done_run = trial_with_run("complete")
    study.tell(done, 0.5)
    failed, failed_run = trial_with_run("failed")
    study.tell(failed, state=optuna.trial.TrialState.FAIL)
    killed, killed_run = trial_with_run()
    optuna_store.fail_as_killed(study, optuna_store.trial_id(killed))
    running, running_run = trial_with_run()  # its worker is still at it
    assert parent.reconcile(info, study) == {"finished": 1, "failed": 1, "killed": 1}
    assert client.get_run(done_run).info.status == "FINISHED"
    assert client.get_run(failed_run).info.status == "FAILED"
    assert client.get_run(killed_run).info.lifecycle_stage == "deleted"  # its point runs again
    assert client.get_run(running_run).info.status == "RUNNING"
    assert client.get_run(info.parent_run_id).info.status == "RUNNING"
    assert parent.reconcile(info, study) == {"finished": 0, "failed": 0, "killed": 0}
