"""One Optuna trial's life in a worker: begin (config, live run), every epoch (curves, pruning), end (tell, close).

`run_jobs` trains the begun jobs alone, or as packs of one `lossbench.trial.pack.pack_key`.
"""

from __future__ import annotations

import contextlib
import time

from omegaconf import DictConfig

from lossbench import config
from lossbench.registry import CHOICES
from lossbench.runtime import retry
from lossbench.sweep import optuna_store, space, study
from lossbench.sweep.interrupts import fault, raise_ctrl_c
from lossbench.trial.verdict import DICE_CONVERGED, stalled


class Job:
    """One Optuna trial's run lifecycle around its training, in three steps.

    `begin`: compose the trial's config and open its live run (RUNNING, before training); `on_epoch`:
    log the epoch's curves, report to Optuna, say whether to stop; `end`: record the result, log it,
    tell Optuna, and only then close the run (`lossbench.sweep.tracking.runs.TrialRun`).
    """

    def __init__(self, trial, cfg: DictConfig, sp, info: study.StudyInfo, epoch_bar=None):
        from lossbench.sweep.tracking import tracker

        self.trial, self.cfg, self.sp, self.info, self.epoch_bar = trial, cfg, sp, info, epoch_bar
        self.tracking = tracker(info.tracking_uri)  # MLflow, or JSON lines (tracking=none)
        self.started, self.run, self.trial_cfg = time.time(), None, None
        self.stalled_rule, self.epochs = False, 0  # the stalled rule is for cross-entropies only

    def begin(self) -> None:
        from lossbench.config import compose
        from lossbench.registry import names_more, pairing_name

        trial, info = self.trial, self.info
        params = space.suggest(trial, self.sp)
        self.trial_cfg = compose(info.overrides + space.overrides(params, self.sp))
        name = pairing_name(self.trial_cfg)
        if names_more(params.get("trials")):  # an explicit trial of a `trials:` space: say which one
            name = f"{params['trials']}: {name}"
        trial.set_user_attr("pairing", name)
        trial.set_user_attr(
            "choices",
            {g: str(self.trial_cfg[g].name) for g in CHOICES}
            | {"learning_rate": float(self.trial_cfg.optimizer.learning_rate)},
        )
        self.stalled_rule = bool(self.cfg.sweep.prune_stalled) and stalled_rule_applies(self.trial_cfg)
        self.run = retry(
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
        retry(lambda: self.run.log_epoch(epoch, row))
        self.epochs = epoch + 1
        if self.epoch_bar is not None:
            self.epoch_bar.update(1)
            self.epoch_bar.set_postfix_str(f"val Dice {row['val/foreground_dice']:.2f}")
        fault("training")
        self.trial.report(row[f"val/{config.objective(self.cfg)}"], epoch + int(self.info.first_step))
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
        result, state = outcome_of(outcome)
        if result.state == "pruned" and result.stopped_by == "stopped_early":
            self.trial.set_user_attr("stopped_early", True)
        self.record(result)
        if self.run is not None:
            retry(lambda: self.run.log_result(result, self.epochs))
        fault("logged")
        if state == optuna_store.TrialState.COMPLETE:
            self.trial.study.tell(self.trial, result.objective)
        else:
            self.trial.study.tell(self.trial, state=state)
        fault("told")
        if self.run is not None:
            retry(lambda: self.run.close(result.state))
        return result

    def record(self, result) -> None:
        """The result's figures as the trial's user attributes (what the claims need, without opening MLflow)."""
        trial = self.trial
        trial.set_user_attr("state", result.state)
        trial.set_user_attr("verdict", result.verdict)
        trial.set_user_attr("reason", result.reason[:500])
        trial.set_user_attr("audit", result.audit.tag if result.audit else "")
        trial.set_user_attr("seconds", round(time.time() - self.started, 1))
        trial.set_user_attr("pruned_at", result.pruned_at)
        trial.set_user_attr("epochs_trained", result.epochs_trained)
        if result.pack_size > 1:
            trial.set_user_attr("pack_size", result.pack_size)
        if "test/foreground_dice" in result.final:
            trial.set_user_attr("test_dice", round(float(result.final["test/foreground_dice"]), 5))
            trial.set_user_attr(
                "subject_dice",
                {k.split("/")[2]: round(float(v), 5) for k, v in result.final.items() if k.startswith("test/subject/")},
            )


# errors of the machine or the stores, not of the pairing: the trial is retried (`lossbench.sweep.work.MAX_RETRIES`)
OUT_OF = {
    "ResourceExhaustedError": "out of memory on the device",  # TensorFlow's OOM (a GPU's, usually)
    "OperationalError": "a store failed (SQL)",
    "ConnectionError": "a store did not answer",
    "Timeout": "a store did not answer in time",
}


def infrastructure(error: BaseException) -> str | None:
    """What ran out or failed when ``error`` is the machine's or a store's doing (a full disk, memory, a store
    that does not answer), else None; the error's causes count too."""
    from lossbench.errors import out_of_space

    if out_of_space(error):
        return "the disk is full"
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, MemoryError):
            return "out of memory"
        for kind in type(error).__mro__:
            if kind.__name__ in OUT_OF:
                return OUT_OF[kind.__name__]
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


def outcome_of(outcome):
    """``(TrialResult, Optuna state)`` of what ended a trial: its result, or the exception that stopped it."""
    from lossbench.errors import InvalidPairing
    from lossbench.trial.audit import first_line
    from lossbench.trial.run import TrialResult

    states = optuna_store.TrialState
    if isinstance(outcome, InvalidPairing):
        return TrialResult(state="invalid", verdict="invalid", reason=str(outcome)), states.FAIL
    if isinstance(outcome, KeyboardInterrupt):
        return TrialResult(state="killed", verdict="", reason="interrupted (Ctrl-C or kill)"), states.FAIL
    if isinstance(outcome, BaseException) and (ran_out := infrastructure(outcome)):  # not the pairing's doing
        return TrialResult(state="retry", verdict="", reason=f"{ran_out}: {first_line(outcome)}"), states.FAIL
    if isinstance(outcome, BaseException):  # one failing trial never stops the sweep
        return TrialResult(state="failed", verdict="", reason=first_line(outcome)), states.FAIL
    if outcome.state == "pruned" and outcome.stopped_by == "stopped_early":
        return outcome, states.COMPLETE  # decided, not cut by a ranking: it counts in importance
    return outcome, {"complete": states.COMPLETE, "pruned": states.PRUNED}[outcome.state]


def run_jobs(jobs: list[Job]) -> list:
    """Begin every job, train the ready ones (alone, or as packs of one `lossbench.trial.pack.pack_key`), end each.

    A job that fails to begin ends at once; a pack that fails ends each of its jobs with the error; Ctrl-C
    ends every job not yet ended as killed, then stops the worker. Each trial beats (RDB storage) from
    its beginning to its end, the plots and the tell included: a live trial never looks stale.
    """
    with contextlib.ExitStack() as beats:
        for job in jobs:
            beats.enter_context(optuna_store.heartbeat(job.trial))
        return lifecycle(jobs)


def lifecycle(jobs: list[Job]) -> list:
    results, ready = {}, []
    for job in jobs:
        try:
            job.begin()
            ready.append(job)
        except KeyboardInterrupt as error:
            end_the_rest(jobs, results, error)
            raise
        except Exception as error:  # an invalid pairing or a failure: recorded, the sweep goes on
            results[job] = job.end(error)
    for group in packs(ready):
        try:
            outcomes = train(group)
        except KeyboardInterrupt as error:
            end_the_rest(jobs, results, error)
            raise
        except Exception as error:  # noqa: BLE001  (the pairing's own failure, recorded for each of its trials)
            outcomes = [error] * len(group)
        for job, outcome in zip(group, outcomes, strict=True):
            results[job] = job.end(outcome)
    return [results[job] for job in jobs]


def end_the_rest(jobs: list[Job], results: dict, error: BaseException) -> None:
    """End every job not ended yet with ``error`` (a Ctrl-C: each is recorded as killed)."""
    for job in jobs:
        if job not in results:
            results[job] = job.end(error)


def packs(ready: list[Job]) -> list[list[Job]]:
    """The ready jobs in the groups that train together: one group when there is one job."""
    if len(ready) <= 1:
        return [ready] if ready else []
    from lossbench.trial.pack import pack_key

    groups: dict[str, list[Job]] = {}
    for job in ready:
        groups.setdefault(pack_key(job.trial_cfg), []).append(job)
    return list(groups.values())


def train(group: list[Job]) -> list:
    """Train one group's trials (alone, or as a pack)."""
    from lossbench.trial.run import run_trial

    if len(group) == 1:
        return [run_trial(group[0].trial_cfg, on_epoch=group[0].on_epoch)]
    from lossbench.trial.pack import run_pack

    return run_pack([j.trial_cfg for j in group], [j.on_epoch for j in group])


def stalled_rule_applies(cfg: DictConfig) -> bool:
    """`sweep.prune_stalled` is for cross-entropies only: a Dice loss's chance and prior levels are
    too close for "nearer chance than prior" to mean anything, so Dice-family trials run their budget."""
    from hydra.utils import get_class

    return getattr(get_class(cfg.loss._target_), "family", "cross_entropy") == "cross_entropy"
