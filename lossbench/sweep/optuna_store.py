"""Every use of Optuna's private API, behind one wall: revisit this module when Optuna changes.

Optuna has no public way to claim a WAITING trial atomically, to beat a trial's heartbeat around
work done outside ``study.optimize``, to list the stale trials of an RDB study, or to read the
parameters a trial was enqueued with. lossbench needs each, so each is one plain function here, and
``tests/test_optuna_store.py`` runs every one on real journal and SQLite stores; it fails loudly when
the installed Optuna is not the version it was written against (`TESTED`).
"""

from __future__ import annotations

import optuna

TESTED = "5.1.0"  # the Optuna these functions were checked against (tests/test_optuna_store.py)
TrialState = optuna.trial.TrialState


def study_id(study: optuna.Study) -> int:
    """The study's id in its storage (optuna-dashboard's page of a study is ``/dashboard/studies/<id>``)."""
    return study._study_id


def trial_id(trial) -> int:
    """The storage's id of a live `optuna.Trial` or a `FrozenTrial` (not its per-study ``number``)."""
    return trial._trial_id


def frozen(trial) -> optuna.trial.FrozenTrial:
    """A live trial as its storage holds it now (its enqueued parameters, attributes, state)."""
    return trial.study._storage.get_trial(trial._trial_id)


def live(study: optuna.Study, trial) -> optuna.Trial:
    """A handle on a RUNNING trial of ``study`` (a `FrozenTrial` from ``get_trials``) to set attributes or tell."""
    return optuna.Trial(study, trial._trial_id)


def claim(study: optuna.Study, trial) -> optuna.Trial | None:
    """Move a WAITING trial to RUNNING with the storage's compare-and-set: the live trial, or None when
    another worker claimed it first (two workers never run the same trial)."""
    if study._storage.set_trial_state_values(trial._trial_id, TrialState.RUNNING):
        return optuna.Trial(study, trial._trial_id)
    return None


def fixed_params(trial) -> dict:
    """The parameters a trial was enqueued with (``study.enqueue_trial``); {} for one Optuna sampled."""
    if isinstance(trial, optuna.Trial):
        attrs = trial.study._storage.get_trial_system_attrs(trial._trial_id)
    else:
        attrs = trial.system_attrs
    return dict(attrs.get("fixed_params") or {})


def beating(study: optuna.Study) -> bool:
    """Whether the study's running trials beat (an RDB storage with a heartbeat interval).

    Optuna wraps an RDB storage in a cache: this asks the storage, not its type."""
    from optuna.storages._heartbeat import is_heartbeat_enabled

    return is_heartbeat_enabled(study._storage)


def heartbeat(trial):
    """A context manager: ``trial`` beats while it is open (a no-op where the storage has no heartbeat)."""
    from optuna.storages._heartbeat import get_heartbeat_thread

    return get_heartbeat_thread(trial._trial_id, trial.study._storage)


def beat(trial) -> None:
    """Record one heartbeat of ``trial`` now (where the storage has heartbeats): a trial whose worker dies
    before its heartbeat thread starts still goes stale (Optuna never judges a trial that never beat)."""
    if beating(trial.study):
        trial.study._storage.record_heartbeat(trial._trial_id)


def stale_ids(study: optuna.Study) -> list[int]:
    """The ids of the RUNNING trials whose heartbeat stopped (three missed beats; RDB storage only)."""
    if not beating(study):
        return []
    return list(study._storage._get_stale_trial_ids(study._study_id))


def fail_as_killed(study: optuna.Study, trial_id: int) -> None:
    """Mark a running trial ``state=killed``, then fail it: it keeps its attribute, its point runs again.

    Raises `optuna.exceptions.UpdateFinishedTrialError` when the trial has ended already."""
    study._storage.set_trial_user_attr(trial_id, "state", "killed")
    study._storage.set_trial_state_values(trial_id, TrialState.FAIL)
