"""The exactly-once queue of a study: every point enqueued once, claimed by one worker, retried when killed.

The points of a sweep file are enqueued as WAITING Optuna trials (`sync_queue`)
under a lock; a worker claims one by moving it to RUNNING (`take_waiting`: the
storage's compare-and-set, so two workers never run the same trial). A RUNNING
trial whose worker died is failed and its point enqueued again (FACTS #10).
Functions take a `lossbench.sweep.study.StudyInfo` (``info``).
"""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path

import optuna

from lossbench.registry import PACK_FREE  # what the members of one pack (sweep.pack) may differ in
from lossbench.sweep import optuna_store, owners, space

optuna.logging.set_verbosity(optuna.logging.WARNING)
TrialState = optuna.trial.TrialState
SETTLED_FAILURES = ("invalid", "failed")  # failed for good: a rerun does not retry them
MAX_RETRIES = 3  # a point whose trial failed this often for the machine's reasons (`retry`, `died`) is settled


def rdb_url(url: str) -> str:
    """SQLAlchemy's URL for an RDB storage: ``postgresql://`` means psycopg 3 (lossbench's cluster extra)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def is_rdb(info) -> bool:
    return str(info.storage).startswith(("postgresql", "mysql", "sqlite"))


def storage(info):
    """The study's Optuna storage: an RDB URL with heartbeats (many machines), else the journal file.

    On an RDB every running trial beats every ``info.heartbeat_seconds``; a trial silent for three
    beats is stale, whatever machine ran it: `sync_queue` fails it (state ``killed``) and its point
    runs again. The journal has no heartbeat: there a dead worker is found by its PID (`lossbench.sweep.owners.stale`).
    """
    if is_rdb(info):
        beat = int(getattr(info, "heartbeat_seconds", 30) or 30)
        return optuna.storages.RDBStorage(
            rdb_url(info.storage),
            heartbeat_interval=beat,
            grace_period=3 * beat,
        )
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return JournalStorage(JournalFileBackend(info.storage))


def pruner(info):
    """The study's pruner; it may stop a trial from epoch ``warmup_epochs`` on (Optuna counts epochs from
    ``info.first_step``)."""
    kind, warmup = info.pruner, max(0, int(info.warmup_epochs) - 1) + int(getattr(info, "first_step", 0))
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=warmup)
    if kind == "threshold":
        return optuna.pruners.ThresholdPruner(lower=float(info.prune_below), n_warmup_steps=warmup)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=max(1, int(info.warmup_epochs)), max_resource=info.epochs)
    return optuna.pruners.NopPruner()


def load(info, seed: int = 0) -> optuna.Study:
    """The study, with the pruner ``info`` names and a TPE sampler seeded with ``seed``.

    Each worker passes its own index as ``seed``: workers with one seed would sample the same points.
    """
    return optuna.load_study(
        study_name=info.study_name,
        storage=storage(info),
        pruner=pruner(info),
        sampler=optuna.samplers.TPESampler(seed=seed),
    )


def params(trial) -> dict:
    """The point of a trial: its enqueued parameters (WAITING trials have no ``params`` yet) and its seed.

    The seed is a repetition, not a parameter: it lives in the user attribute ``seed`` (so Optuna's
    importance leaves it out) and in the point key. Studies recorded before hold it as a parameter.
    """
    found = optuna_store.fixed_params(trial) or dict(trial.params)
    if "seed" in trial.user_attrs:
        found["seed"] = trial.user_attrs["seed"]
    return found


def sync_queue(study: optuna.Study, points: list[dict]) -> int:
    """Fail stale running trials, then enqueue every point not done, waiting or running. Returns #added."""
    beating = optuna_store.beating(study)
    # heartbeats judge every machine's trials (as optuna.storages.fail_stale_trials does, but the trial is
    # marked killed while it can still take an attribute, and only then failed)
    for trial_id in optuna_store.stale_ids(study):
        try:
            optuna_store.fail_as_killed(study, trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # another worker failed it first
    for t in study.get_trials(deepcopy=False):
        if t.state == TrialState.RUNNING and (not beating or not t.user_attrs.get("worker")) and owners.stale(t):
            optuna_store.fail_as_killed(study, optuna_store.trial_id(t))
    keys = space.keys_of(points)
    trials = study.get_trials(deepcopy=False)
    covered = {
        space.point_key(params(t), keys)
        for t in trials
        if t.state != TrialState.FAIL or t.user_attrs.get("state") in SETTLED_FAILURES
    }
    retried: dict[str, int] = {}  # infrastructure failures (a full disk, memory): retried, MAX_RETRIES times
    for t in trials:
        if t.state == TrialState.FAIL and (t.user_attrs.get("state") == "retry" or died(t)):
            key = space.point_key(params(t), keys)
            retried[key] = retried.get(key, 0) + 1
    covered |= {key for key, n in retried.items() if n >= MAX_RETRIES}
    added = 0
    for point in points:
        if space.point_key(point, keys) not in covered:
            fixed = {k: v for k, v in point.items() if k != "seed"}
            study.enqueue_trial(fixed, user_attrs={"seed": point["seed"]} if "seed" in point else None)
            covered.add(space.point_key(point, keys))
            added += 1
    return added


def died(trial) -> bool:
    """A trial whose worker died under it (killed from outside: ``kill -9``, the kernel's OOM killer), not one
    stopped by Ctrl-C, SIGTERM or a parent that went away (those say why: ``reason``). A point whose trials
    die `MAX_RETRIES` times is not run again: it is what kills its worker."""
    return trial.user_attrs.get("state") == "killed" and not trial.user_attrs.get("reason")


def seedless(point: dict) -> str:
    """A point without its seed: trials that share it differ only in the seed.

    >>> seedless({"loss": "dice", "seed": 0}) == seedless({"seed": 2, "loss": "dice"})
    True
    """
    return repr(sorted((k, v) for k, v in point.items() if k != "seed"))


def take_waiting(study: optuna.Study, allow_new: bool = False, last: str | None = None):
    """Claim one waiting trial atomically (None when the queue is empty and no new trial is wanted).

    First choice: a trial whose `seedless` point is ``last``, this worker's previous one (it reuses that
    trial's compiled model: `lossbench.trial.run`); then one whose point no other worker is running (so
    the workers do not split one pairing's seeds between them); then the oldest. Which worker runs a
    trial, and when, changes no result.
    """
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    if len(waiting) > 1:
        running = {seedless(params(t)) for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}

        def rank(t) -> int:
            point = seedless(params(t))
            return 0 if point == last else 1 if point not in running else 2

        waiting = sorted(waiting, key=rank)  # stable: the queue's order within a rank
    for t in waiting:
        if (claimed := owners.claim(study, t)) is not None:
            return claimed
    return owners.own(study.ask()) if allow_new else None


def pack_point(point: dict) -> str:
    """What a trial's point says about its pack: every swept value but the loss, activation, weighting, seed.

    >>> pack_point({"loss": "dice", "optimizer": "adam", "seed": 1}) == pack_point({"loss": "bce", "optimizer": "adam"})
    True
    """
    free = (*PACK_FREE, "seed")
    kept = {
        k: v
        for k, v in point.items()
        if k not in free and not k.startswith(("loss.", "activation.", "class_weighting."))
    }
    return repr(sorted(kept.items()))


def take_packmates(study: optuna.Study, first, n: int) -> list:
    """Claim up to ``n`` more waiting trials that can train in one pack with ``first`` (`pack_point`)."""
    if n <= 0:
        return []
    want, taken = pack_point(params(optuna_store.frozen(first))), []
    for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        if len(taken) == n:
            break
        if pack_point(params(t)) == want and (claimed := owners.claim(study, t)) is not None:
            taken.append(claimed)
    return taken


def sampled_left(study, n_trials, sp) -> int:
    """How many new trials a pure ``sample:`` space still asks Optuna for (0 for enumerated spaces)."""
    if sp.get("grid") or sp.get("trials") or not sp.get("sample"):
        return 0
    return max(0, int(n_trials or 20) - len(study.get_trials(deepcopy=False)))


@contextlib.contextmanager
def locked(path: Path, info=None):
    """An exclusive lock for enqueueing: a PostgreSQL advisory lock on the study's name when the study
    lives in PostgreSQL (every machine sees it), else ``path`` (a file next to the journal)."""
    if info is not None and str(info.storage).startswith("postgresql"):
        import psycopg

        with psycopg.connect(
            str(info.storage).replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as db:
            db.execute("SELECT pg_advisory_lock(hashtext(%s))", (info.study_name,))
            try:
                yield
            finally:
                db.execute("SELECT pg_advisory_unlock(hashtext(%s))", (info.study_name,))
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def enqueue(info, points: list[dict], study: optuna.Study | None = None) -> int:
    """Add ``points`` (adaptive seeds) to the study (``study``: it, loaded already) under the sweep lock,
    exactly once; return #added."""
    with locked(Path(info.folder) / "sweep.lock", info):
        added = sync_queue(study or load(info), points)
    info.total += added
    return added


def counts(study) -> dict:
    """Trials per state; failed trials by their recorded reason (invalid, failed, killed)."""
    out = {}
    for t in study.get_trials(deepcopy=False):
        key = (t.user_attrs.get("state") if t.state == TrialState.FAIL else t.state.name.lower()) or "failed"
        out[key] = out.get(key, 0) + 1
    return out
