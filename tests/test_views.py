"""lossbench's MLflow UI views (`lossbench.sweep.tracking.views`): MLflow's undocumented view state, pinned.

The first test fails when MLflow changes version: open the views in the UI then (tools/screenshot.py),
revisit the module, and set its TESTED.
"""

from __future__ import annotations

import json

import mlflow
from mlflow.tracking import MlflowClient
from tracking_helpers import store_folder, tiny_cfg  # noqa: F401  (the fixture `store`)

from lossbench.registry import CHOICES
from lossbench.sweep.tracking import runs, views


def test_mlflow_is_the_version_the_views_were_written_against():
    assert mlflow.__version__ == views.TESTED, (
        f"MLflow is {mlflow.__version__}, lossbench/sweep/tracking/views.py was written against {views.TESTED}: "
        "check the views in the MLflow UI (python tools/screenshot.py), revisit that module, then set its TESTED"
    )


def test_write_view_stores_both_views_and_gives_their_pages(compose_cfg, store):
    cfg = tiny_cfg(compose_cfg, store)
    experiment = runs.setup(cfg, "views")
    client = MlflowClient(runs.store_uri(cfg))
    pages = views.write_view(experiment, client)
    assert set(pages) == {"lossbench", "lossbench-seeds", "lossbench-choices", "lossbench-table"}
    assert (
        pages["lossbench"]
        == f"/#/experiments/{experiment}/runs?viewStateShareKey=lossbench&compareRunsMode=CHART&workflowType=machine_learning"
    )
    tags = client.get_experiment(experiment).tags
    for key, view in views.VIEWS.items():
        assert json.loads(tags[f"mlflow.sharedViewState.{key}"]) == view
    answer = views.VIEWS["lossbench"]  # one run per pairing, the most often converging first
    assert answer["searchFilter"] == "tags.kind = 'pairing'" and "groupBy" not in answer
    assert answer["orderByKey"] == "metrics.`rank`" and answer["orderByAsc"] is True
    assert pages["lossbench-table"] == pages["lossbench"].replace("CHART", "TABLE")  # the same view, names in full
    assert [c["type"] for c in answer["compareRunCharts"]] == ["BAR", "BAR", "LINE", "LINE", "SCATTER"]
    grouped = views.VIEWS["lossbench-seeds"]
    assert grouped["groupBy"]["groupByKeys"] == [{"mode": "tag", "groupByData": "group"}]
    assert [c["type"] for c in grouped["compareRunCharts"]] == ["LINE", "LINE", "BAR", "BAR"]
    choices = views.VIEWS["lossbench-choices"]  # every pairing on MLflow's first page, its choices in words
    assert choices["searchFilter"] == "tags.kind = 'pairing'"
    assert choices["compareRunCharts"][0]["selectedParams"] == [f"choice/{g}" for g in CHOICES]
    for view in views.VIEWS.values():  # sorted by time, MLflow would hide the trials under their parent
        assert "start_time" not in view.get("orderByKey", "start_time")


def test_old_runs_get_the_group_tag_and_converged_metric_the_views_read(compose_cfg, store):
    cfg = tiny_cfg(compose_cfg, store)
    experiment = runs.setup(cfg, "views-old")
    client = MlflowClient(runs.store_uri(cfg))
    old = client.create_run(
        experiment,
        tags={"loss": "dice", "activation": "softmax", "class_weighting": "none", "optimizer": "adam"}
        | {"verdict": "converged", "optuna_trial": "3"},
    ).info.run_id
    client.log_param(old, "optimizer.learning_rate", "0.001")
    views.write_view(experiment, client)
    run = client.get_run(old)
    assert run.data.tags["group"] == "dice+softmax | none | adam 0.001" and run.data.metrics["converged"] == 1.0
    assert run.data.params["choice/loss"] == "soft Dice" and run.data.params["choice/optimizer"] == "Adam 1e-3"
