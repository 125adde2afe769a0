"""A sweep's parent run in MLflow (opened, tagged, closed) and the trials' runs made to agree with Optuna."""

from __future__ import annotations

import time

from mlflow.entities import Metric, Param

from lossbench.runtime import machine_tags
from lossbench.sweep.tracking.runs import flat_params, retrying_client, versions


def reconcile(info, study) -> dict:
    """Make the MLflow runs agree with the Optuna trials, at a sweep's start (after stale trials are failed).

    A RUNNING child whose trial has ended gets that trial's status: FINISHED when it is the run the
    trial kept (complete or pruned), FAILED for a failed trial; the run of a killed attempt becomes
    KILLED and is deleted (restorable in MLflow), since its point runs again: the UI never shows two
    runs for a point, nor a RUNNING one for good. Returns counts of what was changed.
    """
    client = retrying_client(info.tracking_uri)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    changed = {"finished": 0, "failed": 0, "killed": 0}
    running = [
        run
        for status in ("RUNNING", "KILLED")
        for run in client.search_runs([info.experiment_id], f"attributes.status = '{status}'", max_results=5000)
    ]
    for run in running:
        number = run.data.tags.get("optuna_trial")
        trial = trials.get(int(number)) if number is not None and number.isdigit() else None
        if trial is None or not trial.state.is_finished():
            continue  # the parent, or a trial some worker is still running
        if run.info.status == "KILLED":  # closed by its own worker on Ctrl-C: its point runs again
            client.delete_run(run.info.run_id)
            changed["killed"] += 1
            continue
        state = trial.user_attrs.get("state", "")
        if trial.state.name in ("COMPLETE", "PRUNED"):
            client.set_tag(run.info.run_id, "state", state or trial.state.name.lower())
            client.set_terminated(run.info.run_id, status="FINISHED")
            changed["finished"] += 1
        elif state in ("invalid", "failed"):
            client.set_terminated(run.info.run_id, status="FAILED")
            changed["failed"] += 1
        else:
            client.set_tag(run.info.run_id, "state", "killed")
            client.set_terminated(run.info.run_id, status="KILLED")
            client.delete_run(run.info.run_id)
            changed["killed"] += 1
    return changed


def parent_run(study, info, cfg) -> str:
    """The sweep's parent run: kept in the study so reruns and extra workers reuse it."""
    client = retrying_client()
    run_id = study.user_attrs.get("mlflow_parent_run_id")
    if run_id:
        try:
            client.get_run(run_id)
            return run_id
        except Exception:  # the MLflow store was reset: make a new parent
            pass
    run = client.create_run(
        info.experiment_id,
        run_name=f"sweep {info.study_name}",
        tags={"kind": "sweep", "study": info.study_name} | versions() | machine_tags(),
    )
    client.log_batch(
        run.info.run_id,
        params=[Param(k, v) for k, v in flat_params(cfg).items()]
        + [Param("sweep.space", str(cfg.sweep.space)), Param("sweep.pruner", str(cfg.sweep.pruner))],
    )
    study.set_user_attr("mlflow_parent_run_id", run.info.run_id)
    return run.info.run_id


def close_parent(
    info, wall_seconds: float, n_workers: int, counts: dict, status: str | None = "FINISHED", step: int = 1
) -> None:
    """Log the sweep's figures on the parent run, at ``step`` = the how-manieth run of the sweep this is (1 for
    the first, 2 for a resume...); set its status (``None``: leave it RUNNING)."""
    client = retrying_client(info.tracking_uri)
    now = int(time.time() * 1000)
    metrics = [Metric("sweep/wall_seconds", wall_seconds, now, step), Metric("sweep/n_workers", n_workers, now, step)]
    metrics += [Metric(f"sweep/trials_{k}", v, now, step) for k, v in counts.items()]
    client.log_batch(info.parent_run_id, metrics=metrics)
    if status:
        client.set_terminated(info.parent_run_id, status=status)


def open_parent(info) -> None:
    """The parent run is RUNNING while a sweep of its study runs (a resumed sweep reopens it)."""
    client = retrying_client(info.tracking_uri)
    if client.get_run(info.parent_run_id).info.status != "RUNNING":
        client.update_run(info.parent_run_id, status="RUNNING")


def tag_parent(info, tags: dict) -> None:
    """Set tags on the sweep's parent run (e.g. the data's class shares)."""
    client = retrying_client(info.tracking_uri)
    held = client.get_run(info.parent_run_id).data.tags
    for key, value in tags.items():
        if held.get(key) != str(value):  # a rerun with nothing to do writes nothing
            client.set_tag(info.parent_run_id, key, str(value))
