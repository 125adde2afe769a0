"""The study behind a sweep: what names it (`StudyInfo`), finding it again, creating or resuming it.

The journal file ``results/<name>/optuna.journal`` holds the study (Optuna's
recommendation for several processes on one machine); ``sweep.storage`` may
name an RDB URL instead (PostgreSQL when many machines share a study). The
queue lives in `lossbench.sweep.work`, the dry run and progress bar in
`lossbench.sweep.progress`, config composition in `lossbench.config`.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import optuna
from omegaconf import DictConfig

from lossbench import config
from lossbench.errors import UserError, redact
from lossbench.sweep import space, work

METRIC_NAMES = ["val_foreground_dice"]  # the objective: validation foreground Dice after the last epoch
DATA_LABELS = {
    "cmr_synthetic": "the built-in cardiac phantom",
    "cmr_realistic": "the calibrated cardiac phantom (image statistics moved towards ACDC)",
    "acdc": "real ACDC cardiac MRI",
    "acdc_packed": "real ACDC cardiac MRI (packed file)",
    "camvid": "CamVid street scenes (RGB, 11 classes + void)",
    "shapes": "thread 1's seven-class shapes scene",
}


@dataclass
class StudyInfo:
    """Everything a worker, the report or a check needs to find a study and its MLflow runs."""

    name: str  # the experiment: results/<name>/ and the MLflow experiment's prefix
    study_name: str  # name + hash of the config that is not swept (`space.config_hash`)
    storage: str  # journal file path or RDB URL
    folder: str  # results/<name>/, absolute
    tracking_uri: str  # the MLflow store or server
    pruner: str = "none"  # median | threshold | hyperband | none
    prune_below: float = 0.05
    warmup_epochs: int = 4
    epochs: int = 8
    overrides: list[str] = field(default_factory=list)  # the command line's overrides, sweep.* left out
    experiment_id: str | None = None
    parent_run_id: str | None = None
    heartbeat_seconds: int = 30  # RDB storage: a running trial beats this often; 3 missed beats = stale
    first_step: int = 0  # Optuna's step of a trial's first epoch: 1 (as in MLflow); 0 in studies begun before
    added: int = 0  # points enqueued by this run
    total: int = 0  # points the progress bar counts

    @classmethod
    def from_config(cls, cfg: DictConfig, sp, task_overrides: list[str] = ()) -> StudyInfo:
        from lossbench.config import store_uri

        folder = Path(cfg.paths.results).resolve() / str(cfg.name)
        return cls(
            name=str(cfg.name),
            study_name=f"{cfg.name}-{space.config_hash(cfg, sp)}",
            storage=str(cfg.sweep.get("storage") or folder / "optuna.journal"),
            folder=str(folder),
            tracking_uri=store_uri(cfg),
            pruner=str(cfg.sweep.pruner),
            prune_below=float(cfg.sweep.prune_below),
            warmup_epochs=int(cfg.sweep.warmup_epochs),
            epochs=int(cfg.trainer.epochs),
            heartbeat_seconds=int(cfg.sweep.get("heartbeat_seconds") or 30),
            overrides=[o for o in task_overrides if not o.startswith("sweep.")],
        )

    @classmethod
    def from_dict(cls, values: dict) -> StudyInfo:
        """From a stored dict (e.g. the budget study's attribute); unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def as_dict(self) -> dict:
        return asdict(self)


def locate(cfg: DictConfig, sp) -> StudyInfo:
    """The study the config names, read-only (for the report); a one-line error when there is none."""
    info = StudyInfo.from_config(cfg, sp)
    if "://" not in info.storage and not Path(info.storage).exists():  # reading must not create a store
        raise UserError(f"no study store {info.storage} - run python -m lossbench.sweep +experiment={cfg.name} first")
    if "://" not in info.storage:
        from lossbench.sweep.validate import check_journal

        check_journal(Path(info.storage))
    try:
        study = work.load(info)
    except KeyError:
        raise UserError(
            f"no study {info.study_name} in {info.storage} - run python -m lossbench.sweep +experiment={cfg.name} first"
        ) from None
    info.parent_run_id = study.user_attrs.get("mlflow_parent_run_id")
    from mlflow.tracking import MlflowClient

    experiment = MlflowClient(info.tracking_uri).get_experiment_by_name(info.study_name)
    if experiment is None or not info.parent_run_id:
        raise UserError(
            f"no MLflow experiment {info.study_name} at {info.tracking_uri} - point tracking.uri at the sweep's store"
        )
    info.experiment_id = experiment.experiment_id
    return info


def prepare(cfg: DictConfig, sp, task_overrides: list[str], points: list[dict] | None = None) -> StudyInfo:
    """Check the data and the model, then create or resume the study, the MLflow experiment and the parent run.

    ``points`` replaces the space's own points (the budget check runs a chosen few)."""
    from lossbench.sweep.tracking import tracker

    data = check_data_and_model(cfg)  # bad data or a bad model fails here, before any store is opened
    info = StudyInfo.from_config(cfg, sp, task_overrides)
    tracking = tracker(info.tracking_uri)  # MLflow, or JSON records for tracking=none
    if points is None:
        points = space.points(sp) if (sp.get("grid") or sp.get("trials")) else []
    with work.locked(Path(info.folder) / "sweep.lock", info):
        info.experiment_id = tracking.setup(cfg, info.study_name)  # stores exist before any worker
        try:  # loaded first: the journal's create_study logs a line even for a study it holds already
            study = optuna.load_study(study_name=info.study_name, storage=work.storage(info))
        except KeyError:
            study = optuna.create_study(study_name=info.study_name, storage=work.storage(info), direction="maximize")
        if "first_step" not in study.user_attrs:  # epochs from 1, as MLflow; a study begun before keeps its 0
            study.set_user_attr("first_step", 0 if study.get_trials(deepcopy=False) else 1)
        info.first_step = int(study.user_attrs["first_step"])
        metric_names = [f"val_{config.objective(cfg)}"]  # METRIC_NAMES by default
        if study.metric_names != metric_names:
            study.set_metric_names(metric_names)
        info.parent_run_id = tracking.parent_run(study, info, cfg)
        tracking.tag_parent(info, {"data": data.describe()})
        _remember(study, cfg, sp, data)
        if not cfg.sweep.dry_run:  # a dry run changes nothing: no failed trial, no closed run
            if info.tracking_uri == "none":
                print(f"tracking=none: every trial is recorded in {info.experiment_id}")
            else:
                pages = tracking.write_view(info.experiment_id)
                base = str(cfg.tracking.get("ui_url") or "http://127.0.0.1:5000").rstrip("/")
                print(
                    f"MLflow (make mlflow): the answer, one run per pairing, once the report is written: "
                    f"{base}{pages['lossbench-table']}\n  the same as charts (seed-mean curves, loss ÷ chance, accuracy "
                    f"against Dice): {base}{pages['lossbench']}"
                    f"\n  every seed's run, live: {base}{pages['lossbench-seeds']}"
                )
            info.added = work.sync_queue(study, points)
            fixed = tracking.reconcile(info, study)
            if any(fixed.values()):
                print("MLflow runs reconciled with the study: " + ", ".join(f"{v} {k}" for k, v in fixed.items() if v))
    info.total = len(points) or int(cfg.sweep.n_trials or 20)
    return info


def check_data_and_model(cfg: DictConfig):
    """Load the data and build the model once (on the CPU): a problem with either is one line here."""
    from hydra.utils import instantiate

    from lossbench.trial.model import build_model
    from lossbench.trial.run import load_data

    data = load_data(cfg)
    print(data.describe())
    build_model(cfg.model, data.train.images.shape[1:], data.num_classes, instantiate(cfg.activation))
    return data


def exists(cfg: DictConfig, sp, task_overrides=()) -> bool:
    """Whether the study's storage is there already: an RDB (shared, assumed), or its journal file."""
    info = StudyInfo.from_config(cfg, sp, task_overrides)
    return work.is_rdb(info) or Path(info.storage).exists()


def check_only(cfg: DictConfig, sp, task_overrides=()) -> StudyInfo:
    """What `prepare` checks, with nothing stored: the dry run of a study not begun."""
    check_data_and_model(cfg)
    return StudyInfo.from_config(cfg, sp, task_overrides)


def _remember(study, cfg: DictConfig, sp, data) -> None:
    """What the report needs to know of the data and the space, stored in the study (only what changed:
    a rerun with nothing to do writes nothing)."""
    # the class a do-nothing net predicts everywhere: background, or the commonest class where none is
    common = data.background if data.background is not None else int(data.class_shares("train").argmax())
    facts = {
        "base_seeds": [int(s) for s in sp.seeds],  # the other seeds are adaptive ones
        "class_names": list(data.class_names),
        "max_seeds": int(cfg.sweep.get("max_seeds") or 0),
        "data_label": DATA_LABELS.get(str(cfg.data.name), str(cfg.data.name)),
        "baseline": cfg.sweep.get("baseline"),
        "test_background_share": float(data.class_shares("test")[common]),
        "background": data.background,
        "commonest_class": data.class_names[common],
        "ignore_index": data.ignore_index,
        "class_shares": {
            split: [round(float(v), 5) for v in data.class_shares(split)] for split in ("train", "val", "test")
        },
    }
    stored = study.user_attrs
    for key, value in facts.items():
        if key not in stored or stored[key] != value:
            study.set_user_attr(key, value)


def _intervals(study) -> list[list[float]]:
    """The [start, end, workers] of every sweep run that did work (a study recorded before intervals
    existed counts its ``wall_seconds`` as one interval of its own)."""
    attrs = study.user_attrs
    found = [v for k, v in attrs.items() if k.startswith("interval:")]
    if not found and attrs.get("wall_seconds"):
        found = [[0.0, float(attrs["wall_seconds"]), attrs.get("n_workers", 1)]]
    return found


def wall_seconds(intervals: list[list[float]]) -> float:
    """The length of the union of the intervals: two sweeps at once count once, resumes add up.

    >>> wall_seconds([[0, 10, 1], [5, 20, 2], [30, 31, 1]])
    21.0
    """
    total, end = 0.0, float("-inf")
    for start, stop, *_ in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return float(total)


def finish(
    info: StudyInfo, started: float, n_workers: int, command: str, interrupted: bool = False, optuna_study=None
) -> None:
    """Record this sweep run's interval, the wall time over every run, and close the parent run when done.

    The parent stays RUNNING while another sweep of the study still has trials running or waiting;
    the last one to finish closes it (KILLED when ``interrupted``). ``optuna_study``: the study, loaded already.
    """
    with work.locked(Path(info.folder) / "sweep.lock", info):  # parents on other machines finish one at a time
        _finish(info, started, n_workers, command, interrupted, optuna_study or work.load(info))


def _finish(info: StudyInfo, started: float, n_workers: int, command: str, interrupted: bool, study) -> None:
    import socket

    from lossbench.runtime import machine
    from lossbench.sweep.tracking import tracker

    tracking = tracker(info.tracking_uri)
    ended = time.time()
    if not any(k.startswith("interval:") for k in study.user_attrs) and study.user_attrs.get("wall_seconds"):
        study.set_user_attr("interval:recorded", _intervals(study)[0])  # keep a pre-interval study's time
    study.set_user_attr(f"interval:{socket.gethostname()}:{os.getpid()}:{started:.3f}", [started, ended, n_workers])
    intervals = _intervals(study)
    wall = wall_seconds(intervals)
    study.set_user_attr("wall_seconds", round(wall, 1))
    study.set_user_attr("n_workers", max(int(i[2]) for i in intervals))
    study.set_user_attr("command", redact(command))
    study.set_user_attr("machine", machine())  # the machine that did the work (the last run's)
    tracking.reconcile(info, study)  # runs whose trials ended elsewhere while this sweep ran
    counts = work.counts(study)
    done = not (counts.get("running", 0) or counts.get("waiting", 0))
    tracking.close_parent(
        info,
        wall,
        n_workers,
        counts,
        status="KILLED" if interrupted else "FINISHED" if done else None,
        step=len(intervals),  # the how-manieth run of this sweep: a readable x axis, not Unix seconds
    )
    budget, trained = epochs_spent(study, info.epochs)
    if budget:
        study.set_user_attr("epochs_avoided", budget - trained)
    print(
        f"sweep {info.study_name}: {(ended - started) / 60:.1f} min wall with {n_workers} worker(s) "
        f"({wall / 60:.1f} min over every run); "
        + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        + (f"; pruning avoided {budget - trained} of {budget} trial-epochs" if budget else "")
    )


def epochs_spent(study, epochs: int) -> tuple[int, int]:
    """(the trial-epochs the trained trials were budgeted, the ones they really trained): their difference
    is what pruning saved (a pruned member of a pack trains on with its pack, so it saves nothing)."""
    done = [t for t in study.get_trials(deepcopy=False) if "epochs_trained" in t.user_attrs]
    trained = [int(t.user_attrs["epochs_trained"]) for t in done if t.user_attrs.get("state") in ("complete", "pruned")]
    return epochs * len(trained), sum(trained)
