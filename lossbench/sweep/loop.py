"""The one search loop every worker runs: take the next waiting trial; when none is left, wait for the
running ones, rerun the killed, then add the adaptive seeds their results call for (`adaptive_round`)."""

from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig

from lossbench.sweep import owners, space, study, work
from lossbench.sweep.interrupts import raise_ctrl_c


def next_trial(optuna_study, cfg, sp, info, last=None, planner=None):
    """The next waiting trial (preferring ``last``'s point under another seed: `work.take_waiting`).

    When none is waiting, the worker waits for the trials still running (on an RDB, other machines'
    too, until they end or go stale: a killed trial's point is rerun before the workers leave), then
    adds the adaptive seeds those results call for (`adaptive_round`) and goes on with them, in the
    same process and with its compiled model; None when there is nothing left to add.
    """
    rdb = work.is_rdb(info)
    while True:
        raise_ctrl_c()  # one that Python swallowed since the last trial
        left = work.sampled_left(optuna_study, cfg.sweep.n_trials, sp)
        trial = work.take_waiting(optuna_study, allow_new=left > 0, last=last)
        if trial is not None:
            return trial
        running = optuna_study.get_trials(deepcopy=False, states=(work.TrialState.RUNNING,))
        dead = not rdb and any(owners.stale(t) for t in running)  # a worker here was killed (kill -9, OOM)
        waiting_on = [t for t in running if owners.unowned(t) or (not rdb and owners.alive_here(t))]
        if not dead and waiting_on:
            time.sleep(0.5)  # this machine's other workers (or one claimed this moment): their results may add seeds
            continue
        if dead or (rdb and running):
            if not dead:
                time.sleep(info.heartbeat_seconds)
            resync(optuna_study, sp, info)  # its trial: failed as killed, rerun
            continue
        # under the sweep lock: each point once, whichever worker adds it
        adaptive_round(cfg, sp, info, planner, optuna_study=optuna_study)
        if not optuna_study.get_trials(deepcopy=False, states=(work.TrialState.WAITING,)):
            return None


def resync(optuna_study, sp, info: study.StudyInfo) -> None:
    """Under the sweep lock, fail the dead workers' trials as killed and enqueue their points again; the
    killed trials' runs become KILLED and hidden (`lossbench.sweep.tracking.parent.reconcile`)."""
    with work.locked(Path(info.folder) / "sweep.lock", info):
        if work.sync_queue(optuna_study, space.points(sp) if (sp.get("grid") or sp.get("trials")) else []):
            from lossbench.sweep.tracking import tracker

            tracker(info.tracking_uri).reconcile(info, optuna_study)


def adaptive_round(
    cfg: DictConfig, sp, info: study.StudyInfo, planner=None, apply: bool = True, optuna_study=None
) -> list[str]:
    """Add seeds (up to ``sweep.max_seeds``) where they can change an answer; return the reasons.

    ``planner(study, seeds, cap, baseline) -> (points, reasons)`` decides which (the analysis's
    `lossbench.analysis.claims.plan_seeds`, handed down by the command line); None adds none.
    ``optuna_study``: the study, where the caller has it loaded already.
    """
    cap = int(cfg.sweep.get("max_seeds") or 0)
    if cap <= len(sp.seeds) or planner is None:
        return []
    optuna_study = optuna_study or work.load(info)
    points, reasons = planner(optuna_study, list(sp.seeds), cap, cfg.sweep.get("baseline"))
    points = [space.only_params(p, sp) for p in points]
    if points and apply:
        added = work.enqueue(info, points, optuna_study)
        if added:
            print(f"adaptive seeds: {added} trials added (sweep.max_seeds={cap})")
            for line in reasons:
                print(f"  {line}")
    return reasons if points else []
