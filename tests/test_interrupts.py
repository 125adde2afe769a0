"""Ctrl-C never lost, an orphaned worker stopped, and the fault hook (`lossbench.sweep.interrupts`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from lossbench.sweep import interrupts


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the swallowed one, on purpose
def test_a_ctrl_c_that_a_finalizer_swallowed_is_raised_again():
    class Finalized:
        def __del__(self):  # a Ctrl-C handled here is printed as "Exception ignored" and lost
            interrupts._on_ctrl_c(signal.SIGINT, None)

    interrupts._ctrl_c.clear()
    interrupts.raise_ctrl_c()  # no Ctrl-C yet: nothing to raise
    item = Finalized()
    del item
    with pytest.raises(KeyboardInterrupt):
        interrupts.raise_ctrl_c()
    interrupts._ctrl_c.clear()


def test_a_worker_whose_parent_died_is_interrupted(tmp_path):
    """The parent exits once its child (the "worker") watches it; the child gets a KeyboardInterrupt."""
    ready, marker = tmp_path / "ready", tmp_path / "interrupted"
    child = textwrap.dedent(
        f"""
        import sys, time
        from lossbench.sweep.interrupts import raise_ctrl_c, watch_parent
        try:
            watch_parent(int(sys.argv[1]), every=0.05, grace=30)
            open({str(ready)!r}, "w").close()
            for _ in range(600):  # a trial's epochs (raised there too where SIGINT is ignored, as under `&`)
                time.sleep(0.05)
                raise_ctrl_c()
        except KeyboardInterrupt:
            open({str(marker)!r}, "w").write("parent gone")
        """
    )
    parent = textwrap.dedent(
        f"""
        import os, pathlib, subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", {child!r}, str(os.getpid())])
        while not pathlib.Path({str(ready)!r}).exists():
            time.sleep(0.05)
        """
    )
    subprocess.run([sys.executable, "-c", parent], check=True, timeout=60)
    deadline = time.monotonic() + 20
    while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.read_text() == "parent gone"


def test_the_fault_hook_kills_once_at_its_stage(tmp_path):
    marker = tmp_path / "done"
    code = "from lossbench.sweep.interrupts import fault; fault('told'); fault('logged'); print('alive')"
    env = dict(os.environ, LOSSBENCH_FAULT=f"logged:{marker}")
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == -signal.SIGKILL and marker.read_text() == "logged"
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout.strip() == "alive"  # once: the marker says it was done
