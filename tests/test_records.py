"""``tracking=none`` (`lossbench.sweep.tracking.records`): a trial's lifecycle as JSON lines, the rest no-ops."""

from __future__ import annotations

import json

from omegaconf import OmegaConf
from tracking_helpers import result

from lossbench.sweep.tracking import records


def test_a_trials_lifecycle_is_four_kinds_of_line(tmp_path):
    cfg = OmegaConf.create({"name": "x", "paths": {"results": str(tmp_path)}, "loss": {"name": "dice"}})
    path = records.setup(cfg, "x")
    assert path == str(tmp_path / "x" / "records.jsonl")
    run = records.TrialRun(cfg, "dice | seed 0", path, extra_tags={"optuna_trial": "3"}, machine={"device": "cpu"})
    run.log_epoch(0, {"val/foreground_dice": 0.5})
    run.log_result(result())
    run.close("complete")
    lines = [json.loads(line) for line in open(path)]
    assert [line["event"] for line in lines] == ["start", "epoch", "result", "end"]
    assert {line["run_id"] for line in lines} == {run.run_id}
    assert lines[0]["tags"] == {"device": "cpu", "optuna_trial": "3"} and lines[0]["config"]["loss"] == {"name": "dice"}
    assert lines[2]["verdict"] == "converged" and lines[2]["final"]["test/foreground_dice"] == 0.8
    assert lines[3]["state"] == "complete"


def test_the_parent_and_views_are_nothing_without_mlflow():
    assert records.parent_run(None, None, None) == "" and records.run_url(None, "", "") == ""
    assert records.reconcile(None, None) == {} and records.write_view("x") == {}
    assert records.open_parent(None) is None and records.close_parent(None, 1.0, 1, {}) is None
