"""Hydra app: the sweep. Optuna asks, Hydra composes, the trial runs, MLflow records, Optuna is told.

    python -m lossbench.sweep +experiment=cmr [sweep.n_workers=2] [sweep.seeds=[0,1,2]]

Exactly once (FACTS #10): the points of ``sweeps/<space>.yaml`` are enqueued
under a file lock when the study is created or resumed; workers take only
waiting trials; a point whose trial was interrupted is enqueued again; a
finished study gains nothing from a rerun. The study, its MLflow experiment and
``results/<name>/`` are named after the experiment plus a hash of the config
that is not swept.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from lossbench import config, runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.registry import CHOICES
from lossbench.sweep import progress, space, study
from lossbench.sweep import work as queue
from lossbench.trial.verdict import DICE_CONVERGED, stalled

_ctrl_c = []  # a Ctrl-C seen in this process (its KeyboardInterrupt may have been swallowed)


def _on_ctrl_c(signum, frame):
    _ctrl_c.append(signum)
    raise KeyboardInterrupt


def catch_ctrl_c() -> None:
    """Remember every Ctrl-C, so that one Python swallowed is raised again by `raise_ctrl_c`.

    A KeyboardInterrupt raised while a finalizer or weakref callback runs (e.g. SQLAlchemy's, during
    the garbage collection before a trial) is printed as "Exception ignored" and lost: the sweep would
    go on as if no Ctrl-C had come. Main thread only.
    """
    import signal

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_ctrl_c)


def raise_ctrl_c() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C came (called after each epoch and before each trial)."""
    if _ctrl_c:
        raise KeyboardInterrupt


def fault(stage: str) -> None:
    """Test hook: ``LOSSBENCH_FAULT=STAGE:FILE`` SIGKILLs this process once at ``STAGE`` (FILE marks it done).

    Stages: ``training`` (after the first epoch), ``logged`` (MLflow has the result, Optuna not yet),
    ``told`` (Optuna is told, the MLflow run not closed yet). The fault-tolerance tests use it.
    """
    import os
    import signal
    from pathlib import Path

    wanted, _, marker = os.environ.get("LOSSBENCH_FAULT", "").partition(":")
    if wanted == stage and marker and not Path(marker).exists():
        Path(marker).write_text(stage)
        os.kill(os.getpid(), signal.SIGKILL)


class Job:
    """One Optuna trial's run lifecycle around its training, in three steps.

    `begin`: compose the trial's config and open its live run (RUNNING, before training); `on_epoch`:
    log the epoch's curves, report to Optuna, say whether to stop; `end`: record the result, log it,
    tell Optuna, and only then close the run (`lossbench.sweep.tracking.TrialRun`).
    """

    def __init__(self, trial, cfg: DictConfig, sp, info: study.StudyInfo, epoch_bar=None):
        from lossbench.sweep.records import tracker

        self.trial, self.cfg, self.sp, self.info, self.epoch_bar = trial, cfg, sp, info, epoch_bar
        self.tracking = tracker(
            info.tracking_uri
        )  # lossbench.sweep.tracking (MLflow), or lossbench.sweep.records (none)
        self.started, self.run, self.trial_cfg = time.time(), None, None
        self.stalled_rule, self.epochs = False, 0  # the stalled rule is for cross-entropies only

    def begin(self) -> None:
        from lossbench.config import compose
        from lossbench.trial.run import pairing_name

        trial, info = self.trial, self.info
        trial.set_user_attr("worker", queue.worker_id())
        params = space.suggest(trial, self.sp)
        self.trial_cfg = compose(info.overrides + space.overrides(params, self.sp))
        name = pairing_name(self.trial_cfg)
        if "trials" in params:  # an explicit trial of a `trials:` space: say which one
            name = f"{params['trials']}: {name}"
        trial.set_user_attr("pairing", name)
        trial.set_user_attr(
            "choices",
            {g: str(self.trial_cfg[g].name) for g in CHOICES}
            | {"learning_rate": float(self.trial_cfg.optimizer.learning_rate)},
        )
        self.stalled_rule = bool(self.cfg.sweep.prune_stalled) and stalled_rule_applies(self.trial_cfg)
        self.run = queue.retry(
            lambda: self.tracking.TrialRun(
                self.trial_cfg,
                name,
                info.experiment_id,
                info.parent_run_id,
                {"optuna_trial": str(trial.number), "study": info.study_name},
            )
        )
        trial.set_user_attr("mlflow_run_id", self.run.run_id)
        trial.set_user_attr("mlflow_run_url", self.tracking.run_url(self.cfg, info.experiment_id, self.run.run_id))

    def on_epoch(self, epoch, row, levels):
        raise_ctrl_c()
        queue.retry(lambda: self.run.log_epoch(epoch, row))
        self.epochs = epoch + 1
        if self.epoch_bar is not None:
            self.epoch_bar.update(1)
            self.epoch_bar.set_postfix_str(f"val Dice {row['val/foreground_dice']:.2f}")
        fault("training")
        self.trial.report(row[f"val/{config.objective(self.cfg)}"], epoch)
        if epoch + 1 < self.cfg.sweep.warmup_epochs:
            return False
        if (
            self.stalled_rule
            and row["val/foreground_dice"] < DICE_CONVERGED
            and stalled(row["val/loss"], levels["chance_loss"], levels["prior_loss"])
        ):
            return "stopped_early"  # nothing segmented and the loss still near a uniform guess
        return self.trial.should_prune()

    def end(self, outcome):
        """Record ``outcome`` (a `TrialResult`, or the exception that ended the trial), tell Optuna, close."""
        import optuna

        from lossbench.errors import InvalidPairing
        from lossbench.trial.audit import first_line
        from lossbench.trial.run import TrialResult

        trial, state = self.trial, optuna.trial.TrialState.FAIL
        if isinstance(outcome, InvalidPairing):
            result = TrialResult(state="invalid", verdict="invalid", reason=str(outcome))
        elif isinstance(outcome, KeyboardInterrupt):
            result = TrialResult(state="killed", verdict="", reason="interrupted (Ctrl-C or kill)")
        elif isinstance(outcome, BaseException):  # one failing trial never stops the sweep
            result = TrialResult(state="failed", verdict="", reason=first_line(outcome))
        else:
            result = outcome
            if result.state == "pruned" and result.stopped_by == "stopped_early":
                state = optuna.trial.TrialState.COMPLETE  # decided, not cut by a ranking: it counts in importance
                trial.set_user_attr("stopped_early", True)
            else:
                state = {"complete": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED}[
                    result.state
                ]
        trial.set_user_attr("state", result.state)
        trial.set_user_attr("verdict", result.verdict)
        trial.set_user_attr("reason", result.reason[:500])
        trial.set_user_attr("audit", result.audit.tag if result.audit else "")
        trial.set_user_attr("seconds", round(time.time() - self.started, 1))
        trial.set_user_attr("pruned_at", result.pruned_at)
        trial.set_user_attr("epochs_trained", result.epochs_trained)
        if result.pack_size > 1:
            trial.set_user_attr("pack_size", result.pack_size)
        if "test/foreground_dice" in result.final:  # what the claims need, without opening MLflow
            trial.set_user_attr("test_dice", round(float(result.final["test/foreground_dice"]), 5))
            trial.set_user_attr(
                "subject_dice",
                {k.split("/")[2]: round(float(v), 5) for k, v in result.final.items() if k.startswith("test/subject/")},
            )
        if self.run is not None:
            queue.retry(lambda: self.run.log_result(result, self.epochs))
        fault("logged")
        if state == optuna.trial.TrialState.COMPLETE:
            trial.study.tell(trial, result.objective)
        else:
            trial.study.tell(trial, state=state)
        fault("told")
        if self.run is not None:
            queue.retry(lambda: self.run.close(result.state))
        return result


def run_jobs(jobs: list[Job]) -> list:
    """Begin every job, train the ready ones (alone, or as packs of one `lossbench.trial.pack.pack_key`), end each.

    A job that fails to begin ends at once; a pack that fails ends each of its jobs with the error; Ctrl-C
    ends every job not yet ended as killed, then stops the worker.
    """
    import contextlib

    from optuna.storages._heartbeat import get_heartbeat_thread

    from lossbench.trial.run import run_trial

    results, ready = {}, []
    for job in jobs:
        try:
            job.begin()
            ready.append(job)
        except KeyboardInterrupt as error:
            for other in jobs:
                if other not in results:
                    results[other] = other.end(error)
            raise
        except Exception as error:  # an invalid pairing or a failure: recorded, the sweep goes on
            results[job] = job.end(error)
    groups: dict[str, list[Job]] = {}
    if len(ready) > 1:
        from lossbench.trial.pack import pack_key

        for job in ready:
            groups.setdefault(pack_key(job.trial_cfg), []).append(job)
    else:
        groups = {"": ready} if ready else {}
    for group in groups.values():
        try:
            with contextlib.ExitStack() as beats:  # RDB storage: every trial of the group beats while it trains
                for job in group:
                    beats.enter_context(get_heartbeat_thread(job.trial._trial_id, job.trial.study._storage))
                if len(group) == 1:
                    outcomes = [run_trial(group[0].trial_cfg, on_epoch=group[0].on_epoch)]
                else:
                    from lossbench.trial.pack import run_pack

                    outcomes = run_pack([j.trial_cfg for j in group], [j.on_epoch for j in group])
        except KeyboardInterrupt as error:
            for job in jobs:
                if job not in results:
                    results[job] = job.end(error)
            raise
        except Exception as error:  # noqa: BLE001  (the pairing's own failure, recorded for each of its trials)
            outcomes = [error] * len(group)
        for job, outcome in zip(group, outcomes, strict=True):
            results[job] = job.end(outcome)
    return [results[job] for job in jobs]


def objective(trial, cfg: DictConfig, sp, info: study.StudyInfo, epoch_bar=None):
    """Run one Optuna trial end to end: compose, open its live run, train, record, tell Optuna, close."""
    return run_jobs([Job(trial, cfg, sp, info, epoch_bar)])[0]


def stalled_rule_applies(cfg: DictConfig) -> bool:
    """`sweep.prune_stalled` is for cross-entropies only: a Dice loss's chance and prior levels are
    too close for "nearer chance than prior" to mean anything, so Dice-family trials run their budget."""
    from hydra.utils import get_class

    return getattr(get_class(cfg.loss._target_), "family", "cross_entropy") == "cross_entropy"


def worker(
    cfg_yaml: str,
    info: study.StudyInfo,
    threads: int,
    show_epochs: bool,
    index: int = 0,
    gpu: str | None = None,
    planner=None,
) -> None:
    """Take waiting trials until none is left (one process; ``threads`` TensorFlow threads; ``index`` seeds
    the sampler of a ``sample:`` space; ``gpu``: the one GPU it sees, None on a CPU; ``planner``: the
    adaptive seeds, `adaptive_round`)."""
    from lossbench import devices

    devices.pin(gpu)  # before TensorFlow, Keras or JAX is imported in this process
    from tqdm import tqdm

    from lossbench.config import init_hydra
    from lossbench.runtime import configure

    cfg = OmegaConf.create(cfg_yaml)
    configure(threads, bool(cfg.trainer.get("deterministic", False)), str(cfg.trainer.get("backend", "tensorflow")))
    init_hydra()
    sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)
    optuna_study = queue.load(info, seed=index)
    pack = max(1, int(cfg.sweep.get("pack") or 1))
    last = None  # the point of this worker's previous trial, without its seed
    catch_ctrl_c()
    while (trial := next_trial(optuna_study, cfg, sp, info, last, planner)) is not None:
        trials = [trial, *queue.take_packmates(optuna_study, trial, pack - 1)]  # sweep.pack: up to K trials
        frozen = optuna_study._storage.get_trial(trial._trial_id)
        last = queue.seedless(queue.params(frozen)) if len(trials) == 1 else None
        bar = tqdm(total=int(cfg.trainer.epochs), desc="  epochs", leave=False, position=1, disable=not show_epochs)
        try:
            jobs = [Job(t, cfg, sp, info, bar if len(trials) == 1 else None) for t in trials]
            results = run_jobs(jobs)
        except KeyboardInterrupt:  # the trials are already marked killed; rerunning resumes them
            raise
        finally:
            bar.close()
        for t, result in zip(trials, results, strict=True):
            tqdm.write(
                f"#{t.number:<4d} {t.user_attrs.get('pairing', '')[:70]:70s} "
                f"{result.state:9s} {result.verdict or result.reason[:60]:25s} "
                f"val Dice {result.objective:.3f}  {t.user_attrs.get('seconds', 0):5.1f}s"
            )


def next_trial(optuna_study, cfg, sp, info, last=None, planner=None):
    """The next waiting trial (preferring ``last``'s point under another seed: `queue.take_waiting`).

    When none is waiting, the worker waits for the trials still running (on an RDB, other machines'
    too, until they end or go stale: a killed trial's point is rerun before the workers leave), then
    adds the adaptive seeds those results call for (`adaptive_round`) and goes on with them, in the
    same process and with its compiled model; None when there is nothing left to add.
    """
    import optuna

    rdb = queue.is_rdb(info)
    while True:
        raise_ctrl_c()  # one that Python swallowed since the last trial
        left = queue.sampled_left(optuna_study, cfg.sweep.n_trials, sp)
        trial = queue.take_waiting(optuna_study, allow_new=left > 0, last=last)
        if trial is not None:
            return trial
        running = optuna_study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        dead = not rdb and any(queue.stale(t) for t in running)  # a worker here was killed (kill -9, OOM)
        if not dead and not rdb and any(queue.alive_here(t) for t in running):
            time.sleep(0.5)  # this machine's other workers: their results may call for more seeds
            continue
        if dead or (rdb and running):
            if not dead:
                time.sleep(info.heartbeat_seconds)
            with queue.locked(Path(info.folder) / "sweep.lock", info):  # its trial: failed as killed, rerun
                if queue.sync_queue(optuna_study, space.points(sp) if (sp.get("grid") or sp.get("trials")) else []):
                    from lossbench.sweep.records import tracker

                    tracker(info.tracking_uri).reconcile(info, optuna_study)  # the killed trial's run: KILLED, hidden
            continue
        adaptive_round(cfg, sp, info, planner)  # under the sweep lock: each point once, whichever worker adds it
        if not optuna_study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)):
            return None


def worker_process(*args) -> None:
    """`worker` in a process of its own: Ctrl-C ends it quietly with exit code 130 (its trial is marked).

    It also ends when the sweep's parent process dies (kill -9, SIGTERM to the parent alone): an orphan
    must not train on unwatched (`watch_parent`).
    """
    parent = mp.parent_process()  # the pid spawn recorded: no race with a parent that dies while we import
    watch_parent(parent.pid if parent is not None else os.getppid())
    try:
        worker(*args)
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def watch_parent(parent: int, every: float = 1.0, grace: float = 60.0) -> None:
    """A daemon thread: once ``parent`` is gone, Ctrl-C this process (its trial ends as killed, to be rerun);
    if it has not ended ``grace`` seconds later (inside a long compiled call), exit at once."""
    import _thread
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        _ctrl_c.append("parent gone")  # raised after the epoch even where SIGINT is ignored (`raise_ctrl_c`)
        _thread.interrupt_main()
        time.sleep(grace)
        os._exit(130)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def run_workers(cfg: DictConfig, info: study.StudyInfo, planner=None, rounds: int = 3) -> int:
    """Run every waiting (or still to be sampled) trial with one process per worker slot; return how many ran.

    A slot is a GPU (``sweep.gpus`` x ``sweep.workers_per_gpu``, `lossbench.devices`) or, on a CPU
    machine, one of ``sweep.n_workers`` one-thread processes. A worker killed from outside (kill -9, the
    OOM killer) is reaped at once; the others fail its trial as killed and run it again (`next_trial`),
    and what is still waiting when they have all ended gets fresh workers (up to ``rounds`` times).
    """
    from lossbench import devices

    optuna_study = queue.load(info)
    sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)
    todo = queue.counts(optuna_study).get("waiting", 0) + queue.sampled_left(optuna_study, cfg.sweep.n_trials, sp)
    gpus = devices.resolve(cfg.sweep.get("gpus", "auto"), devices.worker_gpus())
    plan = devices.slots(gpus, cfg.sweep.get("workers_per_gpu", 1), cfg.sweep.n_workers)[:todo]
    n = len(plan)
    if n == 0:
        return 0
    cfg_yaml = OmegaConf.to_yaml(cfg, resolve=False)
    with progress.bar(info) as watch:
        if n == 1 and plan[0] is None:
            worker(cfg_yaml, info, int(cfg.trainer.threads), show_epochs=True, planner=planner)
            return n
        killed = spawn_workers(cfg_yaml, info, plan, watch, planner)
    if killed and rounds > 1:
        with queue.locked(Path(info.folder) / "sweep.lock", info):  # the killed workers' trials: rerun
            if queue.sync_queue(optuna_study, space.points(sp) if (sp.get("grid") or sp.get("trials")) else []):
                from lossbench.sweep.records import tracker

                tracker(info.tracking_uri).reconcile(info, optuna_study)
        return n + run_workers(cfg, info, planner, rounds - 1)
    return n


def spawn_workers(cfg_yaml: str, info: study.StudyInfo, plan: list, watch, planner=None) -> list:
    """One spawned process per slot of ``plan``, watched until all have ended; returns the ones killed by a signal.

    A GPU worker always gets a fresh process: its GPU is chosen before TensorFlow loads.
    """
    import sys

    from lossbench import devices

    if {"tensorflow", "jax"} & set(sys.modules) and not devices.hidden():  # it would hold every GPU's memory
        raise RuntimeError("the sweep's parent loaded a framework with the GPUs visible - call hide_from_parent first")
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=worker_process, args=(cfg_yaml, info, 1, False, i, gpu, planner))
        for i, gpu in enumerate(plan)
    ]
    for p, gpu in zip(procs, plan, strict=True):  # a GPU worker sees the GPUs the parent hid; a CPU worker none
        with devices.unhidden() if gpu is not None else contextlib.nullcontext():
            p.start()
    try:
        catch_ctrl_c()
        while any([p.is_alive() for p in procs]):  # every process polled: a dead one is reaped at once
            raise_ctrl_c()
            watch.refresh()
            time.sleep(1.0)
    except KeyboardInterrupt:
        for p in procs:
            p.join(timeout=30)
        raise
    killed = [p for p in procs if p.exitcode is not None and p.exitcode < 0]
    for p in killed:
        print(
            f"lossbench: worker {procs.index(p)} (pid {p.pid}) was killed by signal {-p.exitcode}; its trial is "
            "failed as killed and run again"
        )
    crashed = [p.exitcode for p in procs if p.exitcode and p.exitcode > 0]
    if crashed:  # a bug, not a failing trial (those are recorded): say so, and exit non-zero
        raise RuntimeError(
            f"{len(crashed)} of {len(procs)} worker processes crashed (exit codes {crashed}; traceback above); "
            "their trials are retried when the sweep is run again"
        )
    return killed


def adaptive_round(cfg: DictConfig, sp, info: study.StudyInfo, planner=None, apply: bool = True) -> list[str]:
    """Add seeds (up to ``sweep.max_seeds``) where they can change an answer; return the reasons.

    ``planner(study, seeds, cap, baseline) -> (points, reasons)`` decides which (the analysis's
    `lossbench.analysis.claims.plan_seeds`, handed down by the command line); None adds none.
    """
    cap = int(cfg.sweep.get("max_seeds") or 0)
    if cap <= len(sp.seeds) or planner is None:
        return []
    points, reasons = planner(queue.load(info), list(sp.seeds), cap, cfg.sweep.get("baseline"))
    points = [space.only_params(p, sp) for p in points]
    if points and apply:
        added = queue.enqueue(info, points)
        if added:
            print(f"adaptive seeds: {added} trials added (sweep.max_seeds={cap})")
            for line in reasons:
                print(f"  {line}")
    return reasons if points else []


def run(cfg: DictConfig, task: list[str], points: list[dict] | None = None, planner=None):
    """Prepare the study and run it (base seeds, then the adaptive seeds ``planner`` asks for).

    Returns ``(info, workers)``: the study (None after a dry run) and how many worker slots ran trials
    (0: there was nothing to do).
    """
    from lossbench import devices
    from lossbench.runtime import configure_from
    from lossbench.sweep import validate
    from lossbench.sweep.records import tracker

    sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)  # bad input fails before TensorFlow loads
    validate.check(cfg, sp)  # ... and before any store, file or folder is created
    devices.hide_from_parent()  # the parent checks the model on the CPU: every GPU's memory stays the workers'
    configure_from(cfg)
    info = study.prepare(cfg, sp, task, points)
    tracking = tracker(info.tracking_uri)
    if cfg.sweep.dry_run:
        print(progress.describe(info, sp))
        reasons = adaptive_round(cfg, sp, info, planner, apply=False)
        print("adaptive seeds it would add now: " + ("none" if not reasons else ""))
        for line in reasons:
            print(f"  {line}")
        return None, 0
    command = "python -m lossbench.sweep " + " ".join(task)
    todo = (
        info.added
        or queue.counts(queue.load(info)).get("waiting", 0)
        or queue.sampled_left(queue.load(info), cfg.sweep.n_trials, sp)
    )
    workers, started = 0, time.time()
    if todo or adaptive_round(cfg, sp, info, planner, apply=False):
        tracking.open_parent(info)
        try:
            if not todo:  # only adaptive seeds are left (a sweep stopped between its rounds): add them first
                adaptive_round(cfg, sp, info, planner)
            workers = run_workers(cfg, info, planner)  # the workers add the later rounds themselves (`next_trial`)
        except KeyboardInterrupt:
            study.finish(info, started, max(workers, int(cfg.sweep.n_workers)), command, interrupted=True)
            raise
        study.finish(info, started, max(workers, 1), command)
        queue.load(info).set_user_attr(
            "threads_per_worker", 1 if workers > 1 else (int(cfg.trainer.threads) or "TensorFlow's default")
        )
    return info, workers
