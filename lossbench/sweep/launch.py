"""A sweep from start to end: check, prepare the study, the dry run, the parent run, the workers, the finish.

    python -m lossbench.sweep +experiment=cmr [sweep.n_workers=2] [sweep.seeds=[0,1,2]]

Exactly once (FACTS #10): the points of ``sweeps/<space>.yaml`` are enqueued
under a file lock when the study is created or resumed; workers take only
waiting trials; a point whose trial was interrupted is enqueued again; a
finished study gains nothing from a rerun. The study, its MLflow experiment and
``results/<name>/`` are named after the experiment plus a hash of the config
that is not swept.
"""

from __future__ import annotations

import time

import optuna
from omegaconf import DictConfig

from lossbench.sweep import progress, space, study, work
from lossbench.sweep.loop import adaptive_round
from lossbench.sweep.workers import run_workers


def run(cfg: DictConfig, task: list[str], points: list[dict] | None = None, planner=None):
    """Prepare the study and run it (base seeds, then the adaptive seeds ``planner`` asks for).

    Returns ``(info, workers)``: the study (None after a dry run) and how many worker slots ran trials
    (0: there was nothing to do).
    """
    from lossbench import devices
    from lossbench.runtime import configure_from
    from lossbench.sweep import settings, validate
    from lossbench.sweep.tracking import tracker

    settings.check(cfg, task)  # seeds, name, added keys: before the space reads the seeds
    sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)  # bad input fails before TensorFlow loads
    validate.check(cfg, sp, task)  # ... and before any store, file or folder is created
    devices.hide_from_parent()  # the parent checks the model on the CPU: every GPU's memory stays the workers'
    configure_from(cfg)
    if cfg.sweep.dry_run and not study.exists(cfg, sp, task):  # nothing stored yet: a dry run stores nothing
        info = study.check_only(cfg, sp, task)
        print(progress.describe(info, sp, optuna.create_study(direction="maximize")))
        print("adaptive seeds it would add now: none (no trial has run)")
        print("nothing is stored yet: the study, its journal and the MLflow store are made by the first run")
        return None, 0
    info = study.prepare(cfg, sp, task, points)
    optuna_study = work.load(info)
    if cfg.sweep.dry_run:
        dry_run(cfg, sp, info, planner, optuna_study)
        return None, 0
    command = "python -m lossbench.sweep " + " ".join(task)
    todo = (
        info.added
        or work.counts(optuna_study).get("waiting", 0)
        or work.sampled_left(optuna_study, cfg.sweep.n_trials, sp)
    )
    workers, started = 0, time.time()
    if todo or adaptive_round(cfg, sp, info, planner, apply=False, optuna_study=optuna_study):
        tracker(info.tracking_uri).open_parent(info)
        try:
            if not todo:  # only adaptive seeds are left (a sweep stopped between its rounds): add them first
                adaptive_round(cfg, sp, info, planner, optuna_study=optuna_study)
            # the workers add the later rounds themselves (`lossbench.sweep.loop.next_trial`)
            workers = run_workers(cfg, info, planner, optuna_study=optuna_study)
        except KeyboardInterrupt:
            study.finish(
                info,
                started,
                max(workers, int(cfg.sweep.n_workers)),
                command,
                interrupted=True,
                optuna_study=optuna_study,
            )
            raise
        study.finish(info, started, max(workers, 1), command, optuna_study=optuna_study)
        optuna_study.set_user_attr(
            "threads_per_worker", 1 if workers > 1 else (int(cfg.trainer.threads) or "TensorFlow's default")
        )
    return info, workers


def dry_run(cfg: DictConfig, sp, info: study.StudyInfo, planner, optuna_study) -> None:
    """Print the points and their status, and the adaptive seeds the sweep would add now; change nothing."""
    print(progress.describe(info, sp, optuna_study))
    reasons = adaptive_round(cfg, sp, info, planner, apply=False, optuna_study=optuna_study)
    print("adaptive seeds it would add now: " + ("none" if not reasons else ""))
    for line in reasons:
        print(f"  {line}")
