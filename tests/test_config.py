"""Composing a trial's config outside a Hydra app, the objective's name, the store's absolute URI."""

from __future__ import annotations

from omegaconf import OmegaConf

from lossbench.config import compose, objective, store_uri


def test_compose_sees_what_the_command_line_sees():
    cfg = compose(["+experiment=cmr", "loss=dice", "trainer.epochs=3"])
    assert cfg.name == "cmr" and cfg.loss.name == "dice" and cfg.trainer.epochs == 3
    assert compose([]).loss.name != "" and "experiment" not in compose([])


def test_the_objective_defaults_to_foreground_dice():
    assert objective(OmegaConf.create({})) == "foreground_dice"
    assert objective(OmegaConf.create({"sweep": {"objective": "mean_iou"}})) == "mean_iou"
    assert objective(compose(["+experiment=camvid"])) == "mean_iou"


def test_a_sqlite_store_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = OmegaConf.create({"tracking": {"uri": "sqlite:///results/mlflow.db"}})
    assert store_uri(cfg) == f"sqlite:///{tmp_path}/results/mlflow.db"
    assert store_uri(OmegaConf.create({"tracking": {"uri": "http://h:5000"}})) == "http://h:5000"
