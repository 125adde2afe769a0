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

from lossbench.config import store_uri  # noqa: F401  (lossbench.sweep.tracking.store_uri, as before)
from lossbench.errors import UserError
from lossbench.registry import CHOICES  # noqa: E402
from lossbench.runtime import machine_tags, version
from lossbench.trial import plots


def setup(cfg: DictConfig, experiment: str) -> str:
    """Point MLflow at the configured store, create ``experiment`` if needed; return its id."""
    Path(cfg.paths.results).mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(store_uri(cfg))
    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return found.experiment_id
    # a local store gets its artifacts under paths.results; a tracking server puts them where it says
    # (mlflow server --artifacts-destination), so every machine's artifacts land in one place
    local = store_uri(cfg).startswith("sqlite:")
    location = (Path(cfg.tracking.artifacts).resolve() / experiment).as_uri() if local else None
    try:
        return client.create_experiment(experiment, artifact_location=location)
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
    from lossbench.errors import redact

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
        self.client, self.cfg, self.name = MlflowClient(), cfg, run_name
        machine = machine_tags() if machine is None else machine  # the trainer's, when logged from elsewhere
        tags = choice_tags(cfg) | versions() | machine | {"mlflow.runName": run_name, "state": "running"}
        if parent_run_id:
            tags["mlflow.parentRunId"] = parent_run_id
        tags |= extra_tags or {}
        self.run_id = self.client.create_run(experiment_id, tags=tags, run_name=run_name).info.run_id
        self.client.log_batch(self.run_id, params=[Param(k, v) for k, v in flat_params(cfg).items()])

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
            (tmp / "config.yaml").write_text(OmegaConf.to_yaml(self.cfg, resolve=True))
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


RUN_NAME = "attributes.`Run Name`"
COLUMNS = ["metrics.`test/foreground_dice`", "metrics.`val/foreground_dice`", "tags.`verdict`", "tags.`state`"]
SECTION = "lossbench-comparison"


def _chart(kind: str, uuid: str, name: str, **fields) -> dict:
    """One chart card of MLflow's runs-compare view (the fields its UI's chart classes hold)."""
    return {
        "uuid": uuid,
        "type": kind,
        "runsCountToCompare": 500,
        "metricSectionId": SECTION,
        "deleted": False,
        "isGenerated": False,
        "displayName": name,
        **fields,
    }


def _line(uuid: str, metric: str) -> dict:
    return _chart(
        "LINE",
        uuid,
        metric,
        metricKey=metric,
        selectedMetricKeys=[metric],
        lineSmoothness=0,
        xAxisScaleType="linear",
        scaleType="linear",
        range={},
        xAxisKey="step",
        selectedXAxisMetricKey="",
        yAxisKey="metric",
    )


PARALLEL = _chart(
    "PARALLEL",
    "lossbench-choices",
    "the four choices vs test Dice",
    showAllRuns=True,
    selectedParams=["loss.name", "activation.name", "class_weighting.name", "optimizer.name"],
    selectedMetrics=["test/foreground_dice"],
)
_TABLE = {
    "selectedColumns": COLUMNS,
    "columnOrder": [RUN_NAME, *COLUMNS],
    "columnWidths": {RUN_NAME: 440} | dict.fromkeys(COLUMNS, 140),
    "searchFilter": "attributes.status != 'KILLED'",
    "hideEmptyCharts": False,
    "runsHiddenMode": "SHOW_ALL",  # charts show every run or group, not MLflow's default first 10
}
_SECTION = {"uuid": SECTION, "display": True, "isReordered": False, "deleted": False, "isGenerated": False}
# Two shared views per experiment: MLflow 3.17 draws no parallel coordinates over grouped string values
# ("does not support aggregated string values"), so the choices chart has an ungrouped view of its own.
VIEWS = {
    "lossbench": _TABLE
    | {
        "groupBy": {"aggregateFunction": "average", "groupByKeys": [{"mode": "tag", "groupByData": "group"}]},
        "useGroupedValuesInCharts": True,
        "compareRunSections": [_SECTION | {"name": "lossbench: curves and test Dice per pairing (means over seeds)"}],
        "compareRunCharts": [
            _line("lossbench-val-dice", "val/foreground_dice"),
            _line("lossbench-val-loss", "val/loss"),
            _chart("BAR", "lossbench-test-dice", "test/foreground_dice", metricKey="test/foreground_dice"),
            _chart("BAR", "lossbench-converged", "converged", metricKey="converged"),
        ],
    },
    "lossbench-choices": _TABLE
    | {
        "searchFilter": "attributes.status != 'KILLED' AND tags.verdict LIKE '%'",  # trials only, not nested
        "compareRunSections": [_SECTION | {"name": "lossbench: every trial's choices and test Dice"}],
        "compareRunCharts": [PARALLEL],
    },
}


def write_view(experiment_id: str, client=None) -> dict[str, str]:
    """Store lossbench's two comparison views on the experiment; return ``{name: page}`` (append to the UI URL).

    ``lossbench``: runs grouped by the full pairing (means over seeds), the per-epoch validation Dice and
    loss and bar charts of test Dice and of the share of seeds that converged per pairing first. ``lossbench-choices``: every trial, with a
    parallel-coordinates chart of the four choices against test Dice (MLflow nests the trials under the
    sweep's run: expand it, the "+" left of its name, to draw them). Runs logged before the ``group``
    tag existed get it here.
    """
    import json

    client = client or MlflowClient()
    for run in client.search_runs([experiment_id], "tags.loss LIKE '%'", max_results=5000):
        verdict = run.data.tags.get("verdict")
        if verdict and "converged" not in run.data.metrics:  # runs logged before the metric existed
            client.log_metric(run.info.run_id, "converged", float(verdict == "converged"), step=0)
        if "group" not in run.data.tags:  # runs logged before the tag existed
            lr = float(run.data.params.get("optimizer.learning_rate", "nan"))
            tags = run.data.tags
            client.set_tag(
                run.info.run_id,
                "group",
                f"{tags['loss']}+{tags['activation']} | {tags['class_weighting']} | {tags['optimizer']} {lr:g}",
            )
    pages = {}
    for key, view in VIEWS.items():
        client.set_experiment_tag(experiment_id, f"mlflow.sharedViewState.{key}", json.dumps(view))
        pages[key] = f"/#/experiments/{experiment_id}/runs?viewStateShareKey={key}&compareRunsMode=CHART"
    return pages


def run_url(cfg, experiment_id: str, run_id: str) -> str:
    """The run's page in the MLflow UI at ``tracking.ui_url`` (Optuna user attribute ``mlflow_run_url``)."""
    base = str(cfg.tracking.get("ui_url") or "http://127.0.0.1:5000").rstrip("/")
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"


def describe_result(result) -> str:
    """A child run's one-line description: verdict, reason, test Dice (3 significant digits)."""
    dice = result.final.get("test/foreground_dice")
    figure = f"; test foreground Dice {dice:.3g}" if dice is not None else ""
    return f"{result.verdict or result.state}: {result.reason}{figure}"[:1000]


def log_trial(
    cfg, result, run_name: str, experiment_id: str, parent_run_id: str | None = None, extra_tags: dict | None = None
) -> str:
    """Write one finished trial as an MLflow run in one go (`lossbench.train`); return the run id."""
    run = TrialRun(cfg, run_name, experiment_id, parent_run_id, extra_tags)
    run.log_result(result)
    run.close(result.state)
    return run.run_id


def reconcile(info, study) -> dict:
    """Make the MLflow runs agree with the Optuna trials, at a sweep's start (after stale trials are failed).

    A RUNNING child whose trial has ended gets that trial's status: FINISHED when it is the run the
    trial kept (complete or pruned), FAILED for a failed trial; the run of a killed attempt becomes
    KILLED and is deleted (restorable in MLflow), since its point runs again: the UI never shows two
    runs for a point, nor a RUNNING one for good. Returns counts of what was changed.
    """
    client = MlflowClient(info.tracking_uri)
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


def close_parent(info, wall_seconds: float, n_workers: int, counts: dict, status: str | None = "FINISHED") -> None:
    """Log the sweep's figures on the parent run; set its status (``None``: leave it RUNNING)."""
    client = MlflowClient(info.tracking_uri)
    step = int(time.time())
    now = int(time.time() * 1000)
    metrics = [Metric("sweep/wall_seconds", wall_seconds, now, step), Metric("sweep/n_workers", n_workers, now, step)]
    metrics += [Metric(f"sweep/trials_{k}", v, now, step) for k, v in counts.items()]
    client.log_batch(info.parent_run_id, metrics=metrics)
    if status:
        client.set_terminated(info.parent_run_id, status=status)


def open_parent(info) -> None:
    """The parent run is RUNNING while a sweep of its study runs (a resumed sweep reopens it)."""
    client = MlflowClient(info.tracking_uri)
    if client.get_run(info.parent_run_id).info.status != "RUNNING":
        client.update_run(info.parent_run_id, status="RUNNING")


def tag_parent(info, tags: dict) -> None:
    """Set tags on the sweep's parent run (e.g. the data's class shares)."""
    client = MlflowClient(info.tracking_uri)
    for key, value in tags.items():
        client.set_tag(info.parent_run_id, key, str(value))


def serve(cfg_yaml: str, name: str, conn) -> None:
    """The MLflow side of one `lossbench.train`, in a process of its own (`Logger`).

    It imports MLflow while the trainer imports TensorFlow, and opens the store and the run at the
    first epoch, while the trainer trains (on a second core, that time is hidden); logs each epoch as it
    comes, then the result, the plots, and closes the run. It answers ``("done", run_id)``.
    """
    from lossbench.trial.audit import first_line

    try:
        cfg = OmegaConf.create(cfg_yaml)
        run, epochs, machine = None, 0, None
        while True:
            kind, payload = conn.recv()
            if kind == "abort":  # the trial never started: no store is touched
                return
            if kind == "machine":  # the trainer's machine facts: this process never loads TensorFlow
                machine = payload
                continue
            run = run or TrialRun(cfg, name, setup(cfg, cfg.name), machine=machine)
            if kind == "epoch":
                run.log_epoch(*payload)
                epochs += 1
            else:
                run.log_result(payload, epochs)
                run.close(payload.state)
                conn.send(("done", run.run_id))
                return
    except Exception as error:  # the trainer prints it; the trial's figures are still printed
        conn.send(("error", first_line(error)))


class Logger:
    """The trainer's end of `serve`: send epochs and the result, wait for the run id.

    Only where this process may use a second core: on one core the logging process would take
    its imports' time from the training, and `lossbench.train` logs in its own process instead.
    """

    def __init__(self, cfg: DictConfig, name: str):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=serve, args=(OmegaConf.to_yaml(cfg, resolve=True), name, child), daemon=True
        )
        self.process.start()

    def machine(self, tags: dict) -> None:
        self.conn.send(("machine", tags))

    def epoch(self, epoch: int, row: dict) -> None:
        self.conn.send(("epoch", (epoch, row)))

    def result(self, result) -> str:
        """Send the result (plain attributes: the logger never imports TensorFlow) and return the run id."""
        from types import SimpleNamespace

        self.conn.send(("result", SimpleNamespace(**vars(result))))
        while not self.conn.poll(1.0):
            if not self.process.is_alive():
                raise UserError("the MLflow logging process ended without logging the run - run again")
        kind, value = self.conn.recv()
        self.process.join()
        if kind == "error":
            raise UserError(f"MLflow logging failed: {value} - check tracking.uri")
        return value

    def abort(self) -> None:
        self.conn.send(("abort", None))
        self.process.join()
