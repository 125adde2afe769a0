"""The Optuna study behind a sweep: storage, exactly-once queue, resume, progress, parent MLflow run.

Kept apart from `lossbench.sweep` so the search loop there stays one screen.
The journal file ``results/<name>/optuna.journal`` holds the study (Optuna's
recommendation for several processes on one machine); ``sweep.storage`` may
name an RDB URL instead (PostgreSQL when many machines share a study).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from pathlib import Path

import optuna
from omegaconf import DictConfig

from lossbench import space as S

optuna.logging.set_verbosity(optuna.logging.WARNING)
TrialState = optuna.trial.TrialState
CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")
SETTLED_FAILURES = ("invalid", "failed")
DATA_LABELS = {"cmr_synthetic": "the built-in cardiac phantom", "acdc": "real ACDC cardiac MRI",
               "shapes": "thread 1's seven-class shapes scene"}


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def init_hydra() -> None:
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if not GlobalHydra.instance().is_initialized():
        initialize_config_dir(config_dir=CONF_DIR, version_base="1.3")


def compose(overrides: list[str]) -> DictConfig:
    from hydra import compose as hydra_compose

    init_hydra()
    return hydra_compose("config", overrides=overrides)


def retry(fn, attempts: int = 6):
    """Call ``fn``, retrying when a SQLite store is briefly locked by another worker."""
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as error:  # sqlalchemy/mlflow wrap sqlite's OperationalError
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


def _storage(info: dict):
    if info["storage"].startswith(("postgresql", "mysql", "sqlite")):
        return optuna.storages.RDBStorage(info["storage"])
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return JournalStorage(JournalFileBackend(info["storage"]))


def _pruner(info: dict):
    kind, warmup = info["pruner"], max(0, int(info["warmup_epochs"]) - 1)
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=warmup)
    if kind == "threshold":
        return optuna.pruners.ThresholdPruner(lower=float(info["prune_below"]), n_warmup_steps=warmup)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=warmup + 1, max_resource=info["epochs"])
    return optuna.pruners.NopPruner()


def load(info: dict) -> optuna.Study:
    return optuna.load_study(study_name=info["study_name"], storage=_storage(info),
                             pruner=_pruner(info), sampler=optuna.samplers.TPESampler(seed=0))


def _params(trial) -> dict:
    return trial.system_attrs.get("fixed_params") or trial.params


def _stale(trial) -> bool:
    host, _, pid = str(trial.user_attrs.get("worker", "")).partition(":")
    if not host:
        started = trial.datetime_start.timestamp() if trial.datetime_start else 0
        return time.time() - started > 60
    if host != socket.gethostname():
        return False  # another machine's worker: cannot tell, leave it
    try:
        os.kill(int(pid), 0)
        return False
    except (OSError, ValueError):
        return True


def sync_queue(study: optuna.Study, points: list[dict]) -> int:
    """Fail stale running trials, then enqueue every point not done, waiting or running. Returns #added."""
    storage = study._storage
    trials = study.get_trials(deepcopy=False)
    for t in trials:
        if t.state == TrialState.RUNNING and _stale(t):
            storage.set_trial_user_attr(t._trial_id, "state", "killed")
            storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    trials = study.get_trials(deepcopy=False)
    covered = {S.point_key(_params(t)) for t in trials
               if t.state != TrialState.FAIL or t.user_attrs.get("state") in SETTLED_FAILURES}
    added = 0
    for point in points:
        if S.point_key(point) not in covered:
            study.enqueue_trial(point)
            added += 1
    return added


def take_waiting(study: optuna.Study, allow_new: bool = False):
    """Claim one waiting trial atomically (None when the queue is empty and no new trial is wanted)."""
    for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        if study._storage.set_trial_state_values(t._trial_id, TrialState.RUNNING):
            return optuna.Trial(study, t._trial_id)
    return study.ask() if allow_new else None


def wants_sampled(study, cfg, sp) -> bool:
    """Pure ``sample:`` spaces ask Optuna for new trials until ``sweep.n_trials`` exist."""
    if sp.get("grid") or sp.get("trials") or not sp.get("sample"):
        return False
    return len(study.get_trials(deepcopy=False)) < int(cfg.sweep.n_trials or 20)


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def locate(cfg: DictConfig, sp) -> dict:
    """The study the config names, read-only (for the report); a one-line error when there is none."""
    from lossbench.errors import UserError

    info = _info(cfg, sp, [])
    if "://" not in info["storage"] and not Path(info["storage"]).exists():  # reading must not create a store
        raise UserError(f"no study store {info['storage']} - run python -m lossbench.sweep +experiment={cfg.name} first")
    try:
        study = load(info)
    except KeyError:
        raise UserError(f"no study {info['study_name']} in {info['storage']} - run "
                        f"python -m lossbench.sweep +experiment={cfg.name} first") from None
    info["parent_run_id"] = study.user_attrs.get("mlflow_parent_run_id")
    from mlflow.tracking import MlflowClient

    experiment = MlflowClient(info["tracking_uri"]).get_experiment_by_name(info["study_name"])
    if experiment is None or not info["parent_run_id"]:
        raise UserError(f"no MLflow experiment {info['study_name']} at {info['tracking_uri']} - "
                        "point tracking.uri at the sweep's store")
    info["experiment_id"] = experiment.experiment_id
    return info


def _info(cfg: DictConfig, sp, task_overrides: list[str]) -> dict:
    from lossbench import tracking

    study_name = f"{cfg.name}-{S.config_hash(cfg, sp)}"
    folder = Path(cfg.paths.results).resolve() / str(cfg.name)
    storage = str(cfg.sweep.get("storage") or folder / "optuna.journal")
    info = {"study_name": study_name, "storage": storage, "folder": str(folder), "name": str(cfg.name),
            "pruner": str(cfg.sweep.pruner), "prune_below": float(cfg.sweep.prune_below),
            "warmup_epochs": int(cfg.sweep.warmup_epochs),
            "epochs": int(cfg.trainer.epochs), "overrides": [o for o in task_overrides
                                                            if not o.startswith("sweep.")],
            "tracking_uri": tracking.store_uri(cfg)}
    return info


def prepare(cfg: DictConfig, sp, task_overrides: list[str], command: str = "",
            points: list[dict] | None = None) -> dict:
    """Check the data, then create or resume the study, the MLflow experiment and the parent run.

    ``points`` replaces the space's own points (the budget check runs a chosen few)."""
    from lossbench import tracking
    from lossbench.trial import load_data

    data = load_data(cfg)  # bad data fails here, before any store is opened
    print(data.describe())
    from hydra.utils import instantiate

    from lossbench.model import build_model

    build_model(cfg.model, cfg.data.image_size, data.num_classes, instantiate(cfg.activation))  # and a bad model
    info = _info(cfg, sp, task_overrides)
    folder = Path(info["folder"])
    if points is None:
        points = S.points(sp) if (sp.get("grid") or sp.get("trials")) else []
    with _locked(folder / "sweep.lock"):
        info["experiment_id"] = tracking.setup(cfg, info["study_name"])  # stores exist before any worker
        study = optuna.create_study(study_name=info["study_name"], storage=_storage(info),
                                    direction="maximize", load_if_exists=True)
        info["parent_run_id"] = tracking.parent_run(study, info, cfg)
        tracking.tag_parent(info, {"data": data.describe()})
        if not cfg.sweep.dry_run:  # a dry run reads the study; it does not rename its command
            study.set_user_attr("command", command)
        study.set_user_attr("class_names", list(data.class_names))
        study.set_user_attr("max_seeds", int(cfg.sweep.get("max_seeds") or 0))
        study.set_user_attr("data_label", DATA_LABELS.get(str(cfg.data.name), str(cfg.data.name)))
        study.set_user_attr("baseline", cfg.sweep.get("baseline"))
        from lossbench.runtime import machine

        study.set_user_attr("machine", machine())
        study.set_user_attr("test_background_share", float(data.class_shares("test")[0]))
        study.set_user_attr("class_shares", {split: [round(float(v), 5) for v in data.class_shares(split)]
                                             for split in ("train", "val", "test")})
        info["added"] = sync_queue(study, points)
    info["total"] = len(points) or int(cfg.sweep.n_trials or 20)
    return info


def enqueue(info: dict, points: list[dict]) -> int:
    """Add ``points`` (adaptive seeds) to the study under the sweep lock, exactly once; return #added."""
    with _locked(Path(info["folder"]) / "sweep.lock"):
        added = sync_queue(load(info), points)
    info["total"] = info.get("total", 0) + added
    return added


def counts(study) -> dict:
    out = {}
    for t in study.get_trials(deepcopy=False):
        key = t.user_attrs.get("state") if t.state == TrialState.FAIL else t.state.name.lower()
        out[key or "failed"] = out.get(key or "failed", 0) + 1
    return out


def describe(info: dict, sp) -> str:
    """The dry run: points and their status, counts and an estimate of the time left."""
    study = load(info)
    by_point = {S.point_key(_params(t)): t for t in study.get_trials(deepcopy=False)}
    lines = [f"study {info['study_name']} in {info['storage']}", ""]
    keys = [S.point_key(p) for p in S.points(sp)]
    keys += [k for k in by_point if k not in set(keys)]  # adaptive seeds and budget points
    for key in keys:
        t = by_point.get(key)
        status = (t.user_attrs.get("state") or t.state.name.lower()) if t else "new"
        lines.append(f"  {status:9s} " + " ".join(S.overrides(json.loads(key), sp)))
    c = counts(study)
    done = [t.user_attrs["seconds"] for t in study.get_trials(deepcopy=False) if "seconds" in t.user_attrs]
    left = c.get("waiting", 0) + c.get("running", 0)
    eta = (f"about {left * sum(done) / len(done) / 60:.1f} min of one worker"
           if done else "unknown until a trial finishes")
    lines += ["", f"{len(keys)} points; " + ", ".join(f"{v} {k}" for k, v in sorted(c.items())),
              f"time left: {eta}"]
    return "\n".join(lines)


@contextlib.contextmanager
def progress(info: dict):
    """A bar for the trials (done / total, elapsed, ETA), refreshed from the storage every second."""
    from tqdm import tqdm

    study = load(info)

    def done() -> int:
        return sum(1 for t in study.get_trials(deepcopy=False) if t.state.is_finished())

    start = done()
    bar = tqdm(total=max(info["total"], start), initial=start, desc=info["study_name"], unit="trial",
               position=0, dynamic_ncols=True)
    stop = threading.Event()

    class Watch:
        @staticmethod
        def refresh():
            bar.update(done() - bar.n)

    def loop():
        while not stop.wait(1.0):
            Watch.refresh()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield Watch
    finally:
        stop.set()
        thread.join()
        Watch.refresh()
        bar.close()


def finish(info: dict, wall_seconds: float, n_workers: int) -> None:
    """Record the sweep's wall time and counts on the parent MLflow run."""
    from lossbench import tracking

    study = load(info)
    study.set_user_attr("wall_seconds", round(wall_seconds, 1))
    study.set_user_attr("n_workers", n_workers)
    tracking.close_parent(info, wall_seconds, n_workers, counts(study))
    print(f"sweep {info['study_name']}: {wall_seconds / 60:.1f} min wall with {n_workers} worker(s); "
          + ", ".join(f"{v} {k}" for k, v in sorted(counts(study).items())))
