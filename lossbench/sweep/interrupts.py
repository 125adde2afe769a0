"""Ctrl-C that is never lost, a parent that is watched, and the fault hook of the fault-tolerance tests."""

from __future__ import annotations

import os
import time

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


def fault(stage: str) -> None:
    """Test hook: ``LOSSBENCH_FAULT=STAGE:FILE`` SIGKILLs this process once at ``STAGE`` (FILE marks it done).

    Stages: ``claimed`` (a waiting trial is RUNNING, its worker not named yet), ``training`` (after the first epoch), ``logged`` (MLflow has the result, Optuna not yet),
    ``told`` (Optuna is told, the MLflow run not closed yet). The fault-tolerance tests use it.
    """
    import signal
    from pathlib import Path

    wanted, _, marker = os.environ.get("LOSSBENCH_FAULT", "").partition(":")
    if wanted == stage and marker and not Path(marker).exists():
        Path(marker).write_text(stage)
        os.kill(os.getpid(), signal.SIGKILL)
