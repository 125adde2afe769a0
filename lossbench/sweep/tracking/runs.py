"""MLflow: the store, one run per trial (nested under a sweep's parent run), metrics and artifacts.

The store is SQLite under ``paths.results`` with artifacts beside it (FACTS
#12). A trial's run carries the flattened config as params, its choices,
state, audit and verdict as tags (so the MLflow UI can group and filter by
them), its per-epoch curves as metric histories and its pictures as artifacts.
"""

from __future__ import annotations

import functools
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf

from lossbench.config import store_uri
from lossbench.errors import redact
from lossbench.registry import CHOICES, choice_words, pairing_of
from lossbench.runtime import Retrying, machine_tags, replaced, version
from lossbench.trial import plots

# MLflow's UI opens an experiment without this tag in its GenAI mode ("Evaluation runs"); model training it is
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"


def retrying_client(uri: str | None = None):
    """An MLflow client whose calls are retried when another writer raced them (`lossbench.runtime.retry`).

    Parents on many machines write the same tags of one parent run and experiment at the same moment:
    MLflow's SQL store selects, then inserts, and the slower insert breaks the unique key.
    """
    return Retrying(MlflowClient(uri))


def create_sqlite(uri: str) -> None:
    """A new SQLite MLflow store is built aside and renamed into place, under a lock: a run killed while
    MLflow creates its tables leaves no half-built store, and two processes never build two."""
    import fcntl

    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri.removeprefix("sqlite:///"))
    if path.exists():
        return
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():  # another process built it while this one waited
            return
        with replaced(path) as tmp:
            MlflowClient(f"sqlite:///{tmp}").search_experiments()  # MLflow creates and migrates its tables


def setup(cfg: DictConfig, experiment: str) -> str:
    """Point MLflow at the configured store, create ``experiment`` if needed; return its id."""
    Path(cfg.paths.results).mkdir(parents=True, exist_ok=True)
    create_sqlite(store_uri(cfg))
    mlflow.set_tracking_uri(store_uri(cfg))
    client = retrying_client()
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        if found.tags.get(KIND_TAG) != KIND:
            client.set_experiment_tag(found.experiment_id, KIND_TAG, KIND)
        return found.experiment_id
    # a local store gets its artifacts under paths.results; a tracking server puts them where it says
    # (mlflow server --artifacts-destination), so every machine's artifacts land in one place
    local = store_uri(cfg).startswith("sqlite:")
    location = (Path(cfg.tracking.artifacts).resolve() / experiment).as_uri() if local else None
    try:
        return client.create_experiment(experiment, artifact_location=location, tags={KIND_TAG: KIND})
    except mlflow.exceptions.MlflowException:  # another machine created it a moment ago
        return client.get_experiment_by_name(experiment).experiment_id


@functools.lru_cache(maxsize=1)
def versions() -> dict:
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
        "tensorflow": version("tensorflow", "tensorflow-cpu"),
        "keras": version("keras"),
        "optuna": version("optuna"),
        "mlflow": version("mlflow", "mlflow-skinny"),
        "python": platform.python_version(),
    }


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
    return {k: redact(v) for k, v in out.items() if not k.startswith(("hydra", "sweep"))}


def choice_tags(cfg: DictConfig) -> dict:
    tags = {group: str(cfg[group].name) for group in CHOICES}
    tags |= {
        "pairing": f"{cfg.loss.name}+{cfg.activation.name}",
        "group": f"{cfg.loss.name}+{cfg.activation.name} | {cfg.class_weighting.name} | {cfg.optimizer.name}"
        + f" {float(cfg.optimizer.learning_rate):g}",  # the full pairing: group means average over seeds only
        "seed": str(cfg.trainer.seed),
        "data": str(cfg.data.name),
    }
    return tags


STATUS = {"complete": "FINISHED", "pruned": "FINISHED", "killed": "KILLED"}  # else FAILED


class TrialRun:
    """One trial's MLflow run, live: RUNNING from the start, curves as they come, closed after Optuna is told.

    The life of a run (one per grid point, even when a worker is killed):

    1. `TrialRun(...)` when the trial starts: the run exists, RUNNING, with its params and choices;
    2. `log_epoch` after every epoch (the trial's ``on_epoch``): metrics with real timestamps, step = epoch;
    3. `log_result` when the trial ends: final figures, state, verdict, description, plots;
    4. Optuna is told (by the sweep), then `close` sets the status (FINISHED, FAILED or KILLED).

    A worker killed between 1 and 4 leaves a RUNNING run; `reconcile` (at the next sweep's start)
    closes it as its Optuna trial ended, and hides the attempts whose point was run again.
    """

    def __init__(
        self,
        cfg,
        run_name: str,
        experiment_id: str,
        parent_run_id: str | None = None,
        extra_tags: dict | None = None,
        machine: dict | None = None,
    ):
        self.client, self.cfg, self.name = retrying_client(), cfg, run_name
        machine = machine_tags() if machine is None else machine  # the trainer's, when logged from elsewhere
        tags = choice_tags(cfg) | versions() | machine | {"mlflow.runName": run_name, "state": "running"}
        if parent_run_id:
            tags["mlflow.parentRunId"] = parent_run_id
        tags |= extra_tags or {}
        self.run_id = self.client.create_run(experiment_id, tags=tags, run_name=run_name).info.run_id
        params = flat_params(cfg) | choice_words(pairing_of(cfg))  # the choices in words too: "sparse CE"
        self.client.log_batch(self.run_id, params=[Param(k, v) for k, v in params.items()])

    def log_epoch(self, epoch: int, row: dict) -> None:
        """One epoch's curves (``row``: metric -> value), step = epoch number from 1, timestamped now."""
        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, float(v), now, epoch + 1) for k, v in row.items()])

    def log_result(self, result, logged_epochs: int = 0) -> None:
        """The trial's outcome: curves not logged live yet, final figures, tags, description, artifacts."""
        tags = {
            "state": result.state,
            "verdict": result.verdict,
            "verdict_reason": result.reason,
            "pruned_at_epoch": str(getattr(result, "pruned_at", 0)),
            "decided_by_pruning": str(bool(getattr(result, "pruned_at", 0))).lower(),
            "trained_on": getattr(result, "trained_on", "") or "unknown",
            "mlflow.note.content": describe_result(result),
        }
        if result.audit is not None:
            tags |= result.audit.as_tags()
        now = int(time.time() * 1000)
        metrics = [
            Metric(key, float(v), now, step)
            for key, values in result.curves.items()
            for step, v in enumerate(values, start=1)
            if step > logged_epochs
        ]
        metrics += [Metric(k, float(v), now, 0) for k, v in result.final.items() if not k.startswith("test/subject/")]
        metrics += [Metric(f"seconds/{k}", float(v), now, 0) for k, v in result.seconds.items()]
        if result.verdict:  # 1 or 0: a pairing group's mean in the UI is its convergence rate
            metrics.append(Metric("converged", float(result.verdict == "converged"), now, 0))
        self.client.log_batch(
            self.run_id,
            params=[Param("class_weights", str(result.class_weights))],
            tags=[RunTag(k, str(v)) for k, v in tags.items()],
        )
        for start in range(0, len(metrics), 900):
            self.client.log_batch(self.run_id, metrics=metrics[start : start + 900])
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "config.yaml").write_text(redact(OmegaConf.to_yaml(self.cfg, resolve=True)))  # no password
            if self.cfg.tracking.plots and result.curves:
                plots.learning_curves(
                    result.curves,
                    result.final.get("chance_loss", float("nan")),
                    result.final.get("prior_loss", float("nan")),
                    f"{self.name} - {result.verdict}",
                    tmp / "learning_curves.png",
                )
            if self.cfg.tracking.plots and result.predictions:
                p = result.predictions
                plots.overlays(
                    p["images"],
                    p["truth"],
                    p["pred"],
                    self.name,
                    tmp / "overlay.png",
                    p.get("class_names"),
                    p.get("background", 0),
                )
            self.client.log_artifacts(self.run_id, str(tmp))

    def close(self, state: str) -> None:
        self.client.set_terminated(self.run_id, status=STATUS.get(state, "FAILED"))


def run_url(cfg, experiment_id: str, run_id: str) -> str:
    """The run's page in the MLflow UI at ``tracking.ui_url`` (Optuna user attribute ``mlflow_run_url``)."""
    base = str(cfg.tracking.get("ui_url") or "http://127.0.0.1:5000").rstrip("/")
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"


def describe_result(result) -> str:
    """A child run's one-line description: verdict, reason, test Dice (3 significant digits)."""
    dice = result.final.get("test/foreground_dice")
    figure = f"; test foreground Dice {dice:.3g}" if dice is not None else ""
    return f"{result.verdict or result.state}: {result.reason}{figure}"[:1000]
