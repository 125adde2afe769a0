"""Faults on the journal store: a sweep SIGKILLed at each stage of a trial, or interrupted with Ctrl-C.

The run lifecycle (`lossbench.sweep.tracking.runs.TrialRun`) promises: every point completes exactly once in
Optuna; MLflow ends with exactly one FINISHED child run per point and none RUNNING; the killed
attempt is closed and hidden; nothing finished is lost. ``LOSSBENCH_FAULT=STAGE:FILE`` makes the
sweep SIGKILL itself once at STAGE (`lossbench.sweep.interrupts.fault`).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time

import optuna
import pytest
from mlflow.tracking import MlflowClient
from test_sweep import GOOD_GRID, study_of, sweep

from lossbench.sweep import owners, work

pytestmark = pytest.mark.slow


def run_sweep(tmp_path, *extra, env=None, wait=True):
    """A tiny 2-epoch sweep of GOOD_GRID (`test_sweep.sweep`)."""
    return sweep(tmp_path, GOOD_GRID, "trainer.epochs=2", *extra, env=env, wait=wait)


def runs(tmp_path, view_type="ALL"):
    from mlflow.entities import ViewType

    client = MlflowClient(f"sqlite:///{tmp_path}/results/mlflow.db")
    (experiment,) = [e for e in client.search_experiments() if e.name.startswith("tiny-")]
    found = client.search_runs([experiment.experiment_id], run_view_type=getattr(ViewType, view_type))
    parents = [r for r in found if r.data.tags.get("kind") == "sweep"]
    children = [r for r in found if "mlflow.parentRunId" in r.data.tags]
    return parents, children


def check_exactly_once(tmp_path):
    study = study_of(tmp_path)
    done = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.COMPLETE]
    keys = [tuple(sorted(work.params(t).items())) for t in done]
    assert len(done) == 4 and len(set(keys)) == 4  # every point exactly once
    parents, children = runs(tmp_path, "ACTIVE_ONLY")
    assert [p.info.status for p in parents] == ["FINISHED"]
    assert sorted(c.info.status for c in children) == ["FINISHED"] * 4  # one visible run per point
    kept = {t.user_attrs["mlflow_run_id"] for t in done}
    assert {c.info.run_id for c in children} == kept
    assert all(t.user_attrs["mlflow_run_url"].endswith(f"/runs/{t.user_attrs['mlflow_run_id']}") for t in done)
    for child in children:  # the epochs' curves, logged once each (live, not again at the end)
        history = MlflowClient(f"sqlite:///{tmp_path}/results/mlflow.db").get_metric_history(
            child.info.run_id, "val/loss"
        )
        assert sorted(m.step for m in history) == list(range(1, len(history) + 1))  # no epoch twice
    return study


@pytest.mark.parametrize("stage", ["training", "logged", "told"])
def test_a_sweep_killed_at_any_stage_resumes_to_one_run_per_point(tmp_path, stage):
    marker = tmp_path / "fault"
    first = run_sweep(tmp_path, env={"LOSSBENCH_FAULT": f"{stage}:{marker}"})
    assert first.returncode == -signal.SIGKILL and marker.read_text() == stage, first.stderr
    _, children = runs(tmp_path)
    assert [c.info.status for c in children] == ["RUNNING"]  # the killed trial's run, live until it died
    if stage == "training":  # killed after its first epoch: that epoch's curves were already logged, live
        client = MlflowClient(f"sqlite:///{tmp_path}/results/mlflow.db")
        history = client.get_metric_history(children[0].info.run_id, "val/foreground_dice")
        assert [m.step for m in history] == [1] and history[0].timestamp > children[0].info.start_time

    again = run_sweep(tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "MLflow runs reconciled with the study" in again.stdout
    study = check_exactly_once(tmp_path)
    killed = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.FAIL]
    _, every = runs(tmp_path)
    if stage == "told":  # Optuna had the result: nothing to rerun, the run is just closed
        assert killed == [] and len(study.get_trials()) == 4 and len(every) == 4
    else:  # the point ran again; the first attempt is KILLED and deleted (restorable)
        assert [t.user_attrs["state"] for t in killed] == ["killed"] and len(study.get_trials()) == 5
        hidden = [c for c in every if c.info.lifecycle_stage == "deleted"]
        assert [c.info.status for c in hidden] == ["KILLED"] and len(every) == 5


def test_a_worker_killed_between_its_claim_and_its_name_leaves_a_point_the_rerun_runs(tmp_path):
    """The claim's compare-and-set done, the process killed before it names itself in the trial: the rerun
    waits `owners.UNOWNED_SECONDS` for a name that never comes, then runs the point (no trial left RUNNING)."""
    marker = tmp_path / "fault"
    first = run_sweep(tmp_path, env={"LOSSBENCH_FAULT": f"claimed:{marker}"})
    assert first.returncode == -signal.SIGKILL and marker.read_text() == "claimed", first.stderr
    (orphan,) = [t for t in study_of(tmp_path).get_trials() if t.state == optuna.trial.TrialState.RUNNING]
    assert "worker" not in orphan.user_attrs
    again = run_sweep(tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    study = check_exactly_once(tmp_path)
    assert [t.user_attrs["state"] for t in study.get_trials() if t.state == optuna.trial.TrialState.FAIL] == ["killed"]


def test_ctrl_c_marks_the_trial_and_the_parent_killed_exits_130_and_writes_no_report(tmp_path):
    proc = run_sweep(tmp_path, "trainer.epochs=40", wait=False)  # trials long enough to be caught mid-run
    deadline = time.time() + 300
    while time.time() < deadline:  # wait until a trial is training
        try:
            if any(t.state == optuna.trial.TrialState.RUNNING for t in study_of(tmp_path).get_trials()):
                break
        except (ValueError, FileNotFoundError):  # no study in the journal yet
            pass
        time.sleep(0.5)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == (
        "lossbench: interrupted - no report written; run the same command again to resume"
    )
    assert not (tmp_path / "results" / "tiny" / "summary.md").exists()
    parents, children = runs(tmp_path)
    assert [p.info.status for p in parents] == ["KILLED"]
    assert "KILLED" in {c.info.status for c in children} and "RUNNING" not in {c.info.status for c in children}
    killed = [t for t in study_of(tmp_path).get_trials() if t.state == optuna.trial.TrialState.FAIL]
    assert [t.user_attrs["state"] for t in killed] == ["killed"]

    again = run_sweep(tmp_path, "trainer.epochs=40")  # the same command resumes the same study
    assert again.returncode == 0, again.stdout + again.stderr
    check_exactly_once(tmp_path)
    assert (tmp_path / "results" / "tiny" / "summary.md").exists()


def test_a_rerun_with_nothing_to_do_changes_nothing(tmp_path):
    assert run_sweep(tmp_path).returncode == 0
    folder = tmp_path / "results" / "tiny"
    stores = [folder / "optuna.journal", tmp_path / "results" / "mlflow.db"]

    def files() -> dict:  # the report and both stores, to the byte
        found = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".md", ".csv", ".png")}
        return found | {p.name: p.read_bytes() for p in stores}

    before = files()
    attrs = dict(study_of(tmp_path).user_attrs)
    again = run_sweep(tmp_path, "trainer.threads=1")  # another command line, same study
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout + again.stderr
    assert files() == before  # the journal and mlflow.db too
    assert dict(study_of(tmp_path).user_attrs) == attrs  # command, wall time, workers untouched
    dry = run_sweep(tmp_path, "sweep.dry_run=true")
    assert dry.returncode == 0 and "4 points; 4 complete" in dry.stdout
    assert files() == before


def test_a_worker_killed_mid_sweep_is_reaped_and_its_trial_rerun_in_the_same_sweep(tmp_path):
    """kill -9 of one of two workers (whichever reaches its first epoch first): no hang, no traceback; the
    other worker fails the dead worker's trial as killed and runs it again; every point exactly once."""
    marker = tmp_path / "killed"
    done = run_sweep(tmp_path, "sweep.n_workers=2", env={"LOSSBENCH_FAULT": f"training:{marker}"})
    assert marker.read_text() == "training"
    assert done.returncode == 0, done.stderr[-2000:]
    assert "was killed by signal 9; its trial is failed as killed and run again" in done.stdout
    assert "Traceback" not in done.stderr
    study = check_exactly_once(tmp_path)
    killed = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.FAIL]
    assert [t.user_attrs["state"] for t in killed] == ["killed"]
    assert (tmp_path / "results" / "tiny" / "summary.md").exists()  # the sweep went on to its report


def children_of(pid: int) -> list[int]:
    found = []
    for stat in __import__("pathlib").Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_workers_leave_when_the_parent_is_killed_and_a_rerun_finishes_the_sweep(tmp_path):
    """kill -9 of the sweep's parent: its two workers do not train on as orphans; the next run repairs."""
    import os

    proc = run_sweep(tmp_path, "sweep.n_workers=2", "trainer.epochs=6", wait=False)
    deadline = time.time() + 240
    workers = []
    while time.time() < deadline and len(workers) < 2:
        time.sleep(1.0)
        workers = [p for p in children_of(proc.pid) if "spawn" in open(f"/proc/{p}/cmdline").read()]
    assert len(workers) == 2, "the two workers did not start"
    time.sleep(15)  # both import TensorFlow and start training
    proc.kill()
    proc.wait()
    running = lambda: [p for p in workers if os.path.exists(f"/proc/{p}") and not owners.zombie(p)]  # noqa: E731
    deadline = time.time() + 90
    while time.time() < deadline and running():
        time.sleep(1.0)
    assert not running(), "orphaned workers still run"
    again = run_sweep(tmp_path, "sweep.n_workers=2", "trainer.epochs=6")
    assert again.returncode == 0, again.stderr[-2000:]
    trials = study_of(tmp_path).get_trials()
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    states = [(t.number, t.state.name, t.user_attrs.get("state"), work.params(t)) for t in trials]
    assert len(done) == 4 and len({tuple(sorted(work.params(t).items())) for t in done}) == 4, states


@contextlib.contextmanager
def small_disk(folder, size: str):
    """A tmpfs of ``size`` mounted at ``folder`` (root only; the test skips where mounting is refused)."""
    folder.mkdir(parents=True, exist_ok=True)
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        yield lambda bigger: subprocess.run(["mount", "-o", f"remount,size={bigger}", str(folder)], check=True)
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_full_disk_is_one_line_and_the_rerun_after_freeing_space_finishes_and_rebuilds_the_report(tmp_path):
    with small_disk(tmp_path / "results", "1250k") as grow:  # room for the stores, not for the report too
        full = run_sweep(tmp_path)
        assert full.returncode == 2 and "Traceback" not in full.stderr, full.stderr[-2000:]
        assert "lossbench: error: the disk is full (writing " in full.stderr
        assert not (tmp_path / "results" / "tiny" / "report.stamp").exists()  # no whole report claimed
        grow("8m")  # space freed
        again = run_sweep(tmp_path)
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
        check_exactly_once(tmp_path)
        assert (tmp_path / "results" / "tiny" / "report.stamp").exists()
        assert not list((tmp_path / "results").rglob(".*tmp-*"))  # no half-written file left behind
