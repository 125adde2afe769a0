"""A ``tracking=none`` sweep (a GPU machine without MLflow) imported here (`lossbench.sweep.replay`,
``python -m tools.import_records``): its trials reach a study and MLflow runs the report reads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import optuna
import pytest
from conftest import tiny
from mlflow.tracking import MlflowClient

from tools import import_records

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
GRID = "grid:\n  loss: [categorical_crossentropy, dice]\nseeds: [0]\n"


def test_a_folder_without_the_records_or_another_study_is_one_line(tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_text(GRID)
    args = [f"sweep.space={space}", "name=tiny", *tiny(tmp_path / "here")]
    assert import_records.main([str(tmp_path / "nowhere"), *args]) == 2
    assert "records.jsonl: not found - point at the folder the tracking=none sweep wrote" in capsys.readouterr().err
    assert import_records.main(["+experiment=cmr"]) == 2
    assert "name the folder first" in capsys.readouterr().err
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "records.jsonl").write_text("")
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(folder / "optuna.journal")))
    optuna.create_study(study_name="tiny-00000000", storage=storage)
    assert import_records.main([str(folder), *args]) == 2
    err = capsys.readouterr().err
    assert "holds study tiny-00000000, these overrides make tiny-" in err and err.count("\n") == 1


@pytest.mark.slow
def test_a_sweep_recorded_without_mlflow_is_imported_once_and_reported(tmp_path):
    from test_sweep import sweep

    done = sweep(tmp_path, GRID, "tracking=none", "sweep.report=false", "sweep.max_seeds=0")
    assert done.returncode == 0, done.stderr[-3000:]
    brought = tmp_path / "brought"  # what the GPU run hands back: the two files, elsewhere
    brought.mkdir()
    for name in ("records.jsonl", "optuna.journal"):
        shutil.copy(tmp_path / "results" / "tiny" / name, brought / name)
    space = tmp_path / "space.yaml"
    here = [f"sweep.space={space}", "name=tiny", "sweep.warmup_epochs=1", *tiny(tmp_path / "here")]
    assert import_records.main([str(brought), *here]) == 0
    assert import_records.main([str(brought), *here]) == 0  # a second import adds nothing

    from optuna.storages.journal import JournalFileBackend, JournalStorage

    storage = JournalStorage(JournalFileBackend(str(tmp_path / "here" / "tiny" / "optuna.journal")))
    (summary,) = optuna.get_all_study_summaries(storage)
    trials = optuna.load_study(study_name=summary.study_name, storage=storage).trials
    assert len(trials) == 2 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    client = MlflowClient(f"sqlite:///{tmp_path}/here/mlflow.db")
    (experiment,) = [e for e in client.search_experiments() if e.name == summary.study_name]
    runs = {r.info.run_id: r for r in client.search_runs([experiment.experiment_id])}
    recorded = [json.loads(line) for line in (brought / "records.jsonl").read_text().splitlines()]
    for t in trials:  # each trial points at its new run, which holds the recorded curves and verdict
        run = runs[t.user_attrs["mlflow_run_id"]]
        result = next(r for r in recorded if r["event"] == "result" and r["run_id"] == t.user_attrs["recorded_as"])
        assert run.data.tags["verdict"] == result["verdict"] and run.data.tags["trained_on"] == "cpu:0"
        assert run.data.metrics["test/foreground_dice"] == pytest.approx(result["final"]["test/foreground_dice"])
        assert run.info.status == "FINISHED" and "mlflow.parentRunId" in run.data.tags
    report = subprocess.run(
        [sys.executable, "-m", "lossbench.report", *here], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert report.returncode == 0, report.stderr[-3000:]
    summary_md = (tmp_path / "here" / "tiny" / "summary.md").read_text()
    assert "2 trials over seeds [0]; 2 complete" in summary_md
    assert f"imported here by `python -m tools.import_records {brought} " in summary_md  # and how to report again
    assert f"- report: `python -m lossbench.report {' '.join(here)}`" in summary_md
