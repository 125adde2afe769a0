"""One `Tracker` per backend (`lossbench.sweep.tracking.tracker`): MLflow, or JSON lines without importing MLflow."""

from __future__ import annotations

import subprocess
import sys

from lossbench.sweep.tracking import Tracker, parent, records, runs, tracker, views


def test_mlflow_backend_is_the_runs_parent_and_views_modules():
    found = tracker("sqlite:////tmp/mlflow.db")
    assert isinstance(found, Tracker)
    assert found.TrialRun is runs.TrialRun and found.setup is runs.setup and found.run_url is runs.run_url
    assert found.parent_run is parent.parent_run and found.reconcile is parent.reconcile
    assert found.write_view is views.write_view


def test_none_is_json_lines_and_never_imports_mlflow():
    assert tracker("none").TrialRun is records.TrialRun and tracker("none").reconcile is records.reconcile
    code = (
        "import sys; from lossbench.sweep.tracking import tracker; t = tracker('none'); "
        "assert 'mlflow' not in sys.modules, 'mlflow imported'; print(t.TrialRun.__module__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "lossbench.sweep.tracking.records"
