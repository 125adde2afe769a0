"""Who runs a trial: a worker's name (``host:pid``), whether that worker still lives, and the claim that names it.

A worker claims a WAITING trial (`claim`: the storage's compare-and-set, then its name and, on an RDB, a
first heartbeat). A RUNNING trial whose worker is gone is `stale`: `lossbench.sweep.work.sync_queue`
fails it as killed and its point runs again (FACTS #10).
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import optuna

from lossbench.sweep import optuna_store
from lossbench.sweep.interrupts import fault


def host() -> str:
    """This machine's name (``LOSSBENCH_HOST`` overrides it: a test plays a second machine)."""
    return os.environ.get("LOSSBENCH_HOST") or socket.gethostname()


def worker_id() -> str:
    return f"{host()}:{os.getpid()}"


UNOWNED_SECONDS = 60  # a RUNNING trial without its worker this long was claimed by a process that died at once


def stale(trial) -> bool:
    """A RUNNING trial whose worker process is gone (only this machine's workers can be judged).

    `claim` names the worker right after the compare-and-set; a trial still unnamed after
    `UNOWNED_SECONDS` lost its worker in between, on any machine (`unowned` until then).
    """
    machine, _, pid = str(trial.user_attrs.get("worker", "")).partition(":")
    if not machine:
        return not unowned(trial)
    if machine != host():
        return False  # another machine's worker: cannot tell, leave it (an RDB's heartbeat can)
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return True
    return zombie(int(pid))  # a dead child its parent has not reaped yet still answers os.kill


def zombie(pid: int) -> bool:
    """The process has exited but was not reaped (state Z in /proc; False where /proc is not there)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def unowned(trial) -> bool:
    """A RUNNING trial claimed a moment ago whose worker has not named itself yet (it may still do so)."""
    if trial.user_attrs.get("worker"):
        return False
    started = trial.datetime_start.timestamp() if trial.datetime_start else 0
    return time.time() - started <= UNOWNED_SECONDS


def claim(study: optuna.Study, trial) -> optuna.Trial | None:
    """Claim a WAITING trial for this worker (None when another took it first): RUNNING, named with
    `worker_id` and, on an RDB, one heartbeat at once, so that a worker killed before it trains leaves a
    trial that the next run (or another worker) finds stale and runs again."""
    claimed = optuna_store.claim(study, trial)
    if claimed is not None:
        fault("claimed")
        own(claimed)
    return claimed


def own(trial: optuna.Trial) -> optuna.Trial:
    trial.set_user_attr("worker", worker_id())
    optuna_store.beat(trial)
    return trial


def alive_here(trial) -> bool:
    """A RUNNING trial of a live worker process on this machine (`stale` says the opposite)."""
    return str(trial.user_attrs.get("worker", "")).partition(":")[0] == host() and not stale(trial)
