"""The worker processes (`lossbench.sweep.workers`): nothing to do starts none; killed and crashed ones are told apart."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal

import optuna
import pytest
from conftest import tiny

from lossbench.config import compose
from lossbench.sweep import work, workers
from lossbench.sweep.study import StudyInfo


def test_no_waiting_trial_starts_no_worker(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("grid:\n  loss: [dice]\nseeds: [0]\n")
    cfg = compose([*tiny(tmp_path / "results"), f"sweep.space={space}", "tracking=none"])
    info = StudyInfo(
        name="w", study_name="w", storage=str(tmp_path / "optuna.journal"), folder=str(tmp_path), tracking_uri="none"
    )
    optuna.create_study(study_name="w", storage=work.storage(info))
    assert workers.run_workers(cfg, info) == 0


def _exit(code: int) -> None:
    if code < 0:
        os.kill(os.getpid(), -code)
    os._exit(code)


def ended_processes(*codes: int) -> list:
    procs = [mp.get_context("fork").Process(target=_exit, args=(code,)) for code in codes]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return procs


def test_a_killed_worker_is_named_and_its_trial_rerun(capsys):
    procs = ended_processes(0, -signal.SIGKILL)
    assert workers.ended(procs) == [procs[1]]
    assert f"worker 1 (pid {procs[1].pid}) was killed by signal {int(signal.SIGKILL)}" in capsys.readouterr().out


def test_a_crashed_worker_is_a_bug_not_a_failed_trial():
    with pytest.raises(RuntimeError, match=r"1 of 2 worker processes crashed \(exit codes \[3\]"):
        workers.ended(ended_processes(0, 3))
