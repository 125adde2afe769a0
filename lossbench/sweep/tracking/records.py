"""``tracking=none``: every trial as JSON lines in ``results/<name>/records.jsonl``, no MLflow.

For machines where MLflow cannot be installed (a GPU box with no package index; mlflow-skinny
cannot host a SQLite store). It has the part of the MLflow backend's interface a sweep uses (`Tracker`),
so the sweep's run lifecycle is the same: a trial's record opens before training (``start``),
gets every epoch (``epoch``), then the result (``result``) and its end (``end``). Optuna's study
holds the verdicts and Dice as ever; the MLflow UI and the report need MLflow.

    >>> import json, tempfile; from omegaconf import OmegaConf
    >>> cfg = OmegaConf.create({"name": "x", "paths": {"results": tempfile.mkdtemp()}, "loss": {"name": "dice"}})
    >>> run = TrialRun(cfg, "dice | seed 0", setup(cfg, "x"), machine={"device": "gpu:0"})
    >>> run.log_epoch(0, {"val/foreground_dice": 0.5}); run.close("complete")
    >>> [json.loads(line)["event"] for line in open(run.path)]
    ['start', 'epoch', 'end']
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path


def _plain(value):
    """JSON-able: numpy scalars and arrays become numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class TrialRun:
    """One trial's lines in ``records.jsonl`` (the `lossbench.sweep.tracking.runs.TrialRun` lifecycle, as JSON)."""

    def __init__(self, cfg, run_name, experiment_id, parent_run_id=None, extra_tags=None, machine=None):
        from omegaconf import OmegaConf

        from lossbench.runtime import machine_tags

        self.path = Path(experiment_id)
        self.run_id = uuid.uuid4().hex
        tags = (machine if machine is not None else machine_tags()) | (extra_tags or {})
        self._write("start", name=run_name, tags=tags, config=OmegaConf.to_container(cfg, resolve=True))

    def _write(self, event: str, **fields) -> None:
        line = {"event": event, "run_id": self.run_id, "time": round(time.time(), 3)} | _plain(fields)
        with open(self.path, "a") as handle:
            handle.write(json.dumps(line) + "\n")

    def log_epoch(self, epoch: int, row: dict) -> None:
        self._write("epoch", epoch=epoch + 1, metrics=row)

    def log_result(self, result, logged_epochs: int = 0) -> None:
        audit = result.audit.as_tags() if result.audit is not None else {}
        self._write(
            "result",
            state=result.state,
            verdict=result.verdict,
            reason=result.reason,
            audit=audit,
            curves=result.curves,
            final=result.final,
            seconds=result.seconds,
            pruned_at=result.pruned_at,
            trained_on=getattr(result, "trained_on", ""),
        )

    def close(self, state: str) -> None:
        self._write("end", state=state)


def setup(cfg, experiment: str) -> str:
    """The records file of the sweep (its "experiment id" is its path)."""
    folder = Path(cfg.paths.results).resolve() / str(cfg.name)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "records.jsonl")


def run_url(cfg, experiment_id: str, run_id: str) -> str:
    return ""


def parent_run(study, info, cfg) -> str:
    return ""


def tag_parent(info, tags: dict) -> None:
    return None


def reconcile(info, study) -> dict:
    return {}


def close_parent(
    info, wall_seconds: float, n_workers: int, counts: dict, status: str | None = "FINISHED", step: int = 1
) -> None:
    return None


def open_parent(info) -> None:
    return None


def write_view(experiment_id: str, client=None) -> dict[str, str]:
    return {}
