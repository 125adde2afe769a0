"""The worker processes: one per slot (a GPU, or a CPU thread), each taking waiting trials until none is left.

A slot is a GPU (``sweep.gpus`` x ``sweep.workers_per_gpu``, `lossbench.devices`) or, on a CPU machine,
one of ``sweep.n_workers`` one-thread processes. Each worker runs the search loop (`lossbench.sweep.loop`)
and each trial's lifecycle (`lossbench.sweep.job`).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time

from omegaconf import DictConfig, OmegaConf

from lossbench.sweep import optuna_store, progress, space, study, work
from lossbench.sweep.interrupts import catch_ctrl_c, raise_ctrl_c, watch_parent
from lossbench.sweep.job import Job, run_jobs
from lossbench.sweep.loop import next_trial, resync


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
    adaptive seeds, `lossbench.sweep.loop.adaptive_round`)."""
    from lossbench import devices

    devices.pin(gpu)  # before TensorFlow, Keras or JAX is imported in this process
    from tqdm import tqdm

    from lossbench.config import init_hydra
    from lossbench.runtime import configure

    cfg = OmegaConf.create(cfg_yaml)
    configure(threads, bool(cfg.trainer.get("deterministic", False)), str(cfg.trainer.get("backend", "tensorflow")))
    init_hydra()
    sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)
    optuna_study = work.load(info, seed=index)
    pack = max(1, int(cfg.sweep.get("pack") or 1))
    last = None  # the point of this worker's previous trial, without its seed
    catch_ctrl_c()
    while (trial := next_trial(optuna_study, cfg, sp, info, last, planner)) is not None:
        trials = [trial, *work.take_packmates(optuna_study, trial, pack - 1)]  # sweep.pack: up to K trials
        last = work.seedless(work.params(optuna_store.frozen(trial))) if len(trials) == 1 else None
        bar = tqdm(total=int(cfg.trainer.epochs), desc="  epochs", leave=False, position=1, disable=not show_epochs)
        try:
            results = run_jobs([Job(t, cfg, sp, info, bar if len(trials) == 1 else None) for t in trials])
        finally:  # on Ctrl-C the trials are already marked killed; rerunning resumes them
            bar.close()
        for t, result in zip(trials, results, strict=True):
            tqdm.write(
                f"#{t.number:<4d} {t.user_attrs.get('pairing', '')[:70]:70s} "
                f"{result.state:9s} {result.verdict or result.reason[:60]:25s} "
                f"val Dice {result.objective:.3f}  {t.user_attrs.get('seconds', 0):5.1f}s"
            )


def worker_process(*args) -> None:
    """`worker` in a process of its own: Ctrl-C ends it quietly with exit code 130 (its trial is marked).

    It also ends when the sweep's parent process dies (kill -9, SIGTERM to the parent alone): an orphan
    must not train on unwatched (`lossbench.sweep.interrupts.watch_parent`).
    """
    parent = mp.parent_process()  # the pid spawn recorded: no race with a parent that dies while we import
    watch_parent(parent.pid if parent is not None else os.getppid())
    try:
        worker(*args)
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def run_workers(cfg: DictConfig, info: study.StudyInfo, planner=None, rounds: int = 3, optuna_study=None) -> int:
    """Run every waiting (or still to be sampled) trial with one process per worker slot; return how many ran.

    A worker killed from outside (kill -9, the OOM killer) is reaped at once; the others fail its trial
    as killed and run it again (`lossbench.sweep.loop.next_trial`), and what is still waiting when they
    have all ended gets fresh workers (up to ``rounds`` times). ``optuna_study``: the study, loaded already.
    """
    from lossbench import devices

    optuna_study = optuna_study or work.load(info)
    sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)
    todo = work.counts(optuna_study).get("waiting", 0) + work.sampled_left(optuna_study, cfg.sweep.n_trials, sp)
    gpus = devices.resolve(cfg.sweep.get("gpus", "auto"), devices.worker_gpus())
    n_workers = int(cfg.sweep.n_workers)
    if not gpus:  # CPU workers: no more than the cores and the free memory hold
        n_workers, why = devices.cap_workers(n_workers)
        if why:
            print(why)
    plan = devices.slots(gpus, cfg.sweep.get("workers_per_gpu", 1), n_workers)[:todo]
    n = len(plan)
    if n == 0:
        return 0
    cfg_yaml = OmegaConf.to_yaml(cfg, resolve=False)
    with progress.bar(info, optuna_study) as watch:
        if n == 1 and plan[0] is None:
            worker(cfg_yaml, info, int(cfg.trainer.threads), show_epochs=True, planner=planner)
            return n
        killed = spawn_workers(cfg_yaml, info, plan, watch, planner)
    if killed and rounds > 1:
        resync(optuna_study, sp, info)  # the killed workers' trials: rerun
        return n + run_workers(cfg, info, planner, rounds - 1, optuna_study)
    return n


def spawn_workers(cfg_yaml: str, info: study.StudyInfo, plan: list, watch, planner=None) -> list:
    """One spawned process per slot of ``plan``, watched until all have ended; returns the ones killed by a signal.

    A GPU worker always gets a fresh process: its GPU is chosen before TensorFlow loads.
    """
    from lossbench import devices

    devices.check_parent()  # a framework loaded here with the GPUs visible would hold every GPU's memory
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
    return ended(procs)


def ended(procs: list) -> list:
    """The worker processes killed by a signal (each said); a crashed one (exit code > 0) is a bug: raised."""
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
