"""MLflow: the store, one run per trial (nested under a sweep's parent run), metrics and artifacts.

The store is SQLite under ``paths.results`` with artifacts beside it (FACTS
#12). A trial's run carries the flattened config as params, its choices,
state, audit and verdict as tags (so the MLflow UI can group and filter by
them), its per-epoch curves as metric histories and its pictures as artifacts.
"""

from __future__ import annotations

import platform
import subprocess
import tempfile
import time
from pathlib import Path

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf

from lossbench import plots

CHOICES = ("loss", "activation", "class_weighting", "optimizer")


def setup(cfg: DictConfig, experiment: str) -> str:
    """Point MLflow at the configured store, create ``experiment`` if needed; return its id."""
    Path(cfg.paths.results).mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(store_uri(cfg))
    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return found.experiment_id
    location = (Path(cfg.tracking.artifacts).resolve() / experiment).as_uri()
    return client.create_experiment(experiment, artifact_location=location)


def store_uri(cfg: DictConfig) -> str:
    uri = str(cfg.tracking.uri)
    if uri.startswith("sqlite:///"):
        return "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).resolve())
    return uri


def versions() -> dict:
    import keras
    import optuna
    import tensorflow as tf

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "git_commit": commit or "unknown",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "optuna": optuna.__version__,
        "mlflow": mlflow.__version__,
        "python": platform.python_version(),
    }


def machine_tags() -> dict:
    """What decides whether a rerun is bit-identical: CPU, instruction set, oneDNN, threads (``machine/*``)."""
    from lossbench.runtime import machine

    return {f"machine/{k}": v for k, v in machine().items()}


def flat_params(cfg: DictConfig) -> dict:
    """The resolved config as ``a.b.c -> value`` strings (MLflow params)."""
    out = {}

    def walk(node, prefix):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            out[prefix[:-1]] = str(node)[:6000]

    walk(OmegaConf.to_container(cfg, resolve=True), "")
    return {k: v for k, v in out.items() if not k.startswith(("hydra", "sweep"))}


def choice_tags(cfg: DictConfig) -> dict:
    tags = {group: str(cfg[group].name) for group in CHOICES}
    tags |= {
        "pairing": f"{cfg.loss.name}+{cfg.activation.name}",
        "seed": str(cfg.trainer.seed),
        "data": str(cfg.data.name),
    }
    return tags


def log_trial(
    cfg, result, run_name: str, experiment_id: str, parent_run_id: str | None = None, extra_tags: dict | None = None
) -> str:
    """Write one finished (or stopped) trial as an MLflow run; return the run id."""
    client = MlflowClient()
    tags = (
        choice_tags(cfg)
        | versions()
        | machine_tags()
        | {
            "mlflow.runName": run_name,
            "state": result.state,
            "verdict": result.verdict,
            "verdict_reason": result.reason,
            "pruned_at_epoch": str(getattr(result, "pruned_at", 0)),
            "decided_by_pruning": str(bool(getattr(result, "pruned_at", 0))).lower(),
        }
    )
    if result.audit is not None:
        tags |= result.audit.as_tags()
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    tags |= extra_tags or {}
    run = client.create_run(experiment_id, tags=tags, run_name=run_name)
    run_id = run.info.run_id
    params = flat_params(cfg) | {"class_weights": str(result.class_weights)}
    now = int(time.time() * 1000)
    metrics = [
        Metric(key, float(v), now, step)
        for key, values in result.curves.items()
        for step, v in enumerate(values, start=1)
    ]
    metrics += [Metric(key, float(v), now, 0) for key, v in result.final.items()]
    metrics += [Metric(f"seconds/{k}", float(v), now, 0) for k, v in result.seconds.items()]
    client.log_batch(
        run_id,
        params=[Param(k, v) for k, v in params.items()],
        tags=[RunTag(k, str(v)) for k, v in tags.items()],
        metrics=[],
    )
    for start in range(0, len(metrics), 900):
        client.log_batch(run_id, metrics=metrics[start : start + 900])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        if cfg.tracking.plots and result.curves:
            plots.learning_curves(
                result.curves,
                result.final.get("chance_loss", float("nan")),
                result.final.get("prior_loss", float("nan")),
                f"{run_name} - {result.verdict}",
                tmp / "learning_curves.png",
            )
        if cfg.tracking.plots and result.predictions:
            p = result.predictions
            plots.overlays(p["images"], p["truth"], p["pred"], run_name, tmp / "overlay.png")
        client.log_artifacts(run_id, str(tmp))
    status = {"complete": "FINISHED", "pruned": "FINISHED", "killed": "KILLED"}.get(result.state, "FAILED")
    client.set_terminated(run_id, status=status)
    return run_id


def parent_run(study, info, cfg) -> str:
    """The sweep's parent run: kept in the study so reruns and extra workers reuse it."""
    client = MlflowClient()
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


def close_parent(info, wall_seconds: float, n_workers: int, counts: dict) -> None:
    client = MlflowClient(info.tracking_uri)
    step = int(time.time())
    now = int(time.time() * 1000)
    metrics = [Metric("sweep/wall_seconds", wall_seconds, now, step), Metric("sweep/n_workers", n_workers, now, step)]
    metrics += [Metric(f"sweep/trials_{k}", v, now, step) for k, v in counts.items()]
    client.log_batch(info.parent_run_id, metrics=metrics)
    client.set_terminated(info.parent_run_id, status="FINISHED")


def tag_parent(info, tags: dict) -> None:
    """Set tags on the sweep's parent run (e.g. the data's class shares)."""
    client = MlflowClient(info.tracking_uri)
    for key, value in tags.items():
        client.set_tag(info.parent_run_id, key, str(value))
