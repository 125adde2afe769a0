"""`lossbench.train`'s MLflow logging in a process of its own (`lossbench.sweep.tracking.logger`), on a SQLite store."""

from __future__ import annotations

from mlflow.tracking import MlflowClient
from tracking_helpers import result, tiny_cfg

from lossbench.config import store_uri
from lossbench.sweep.tracking.logger import Logger


def test_the_logger_process_logs_the_epochs_and_the_result_then_answers_the_run_id(compose_cfg, tmp_path):
    cfg = tiny_cfg(compose_cfg, tmp_path)
    logger = Logger(cfg, "dice+softmax")
    logger.machine({"device": "cpu"})
    logger.epoch(0, {"val/foreground_dice": 0.5})
    run_id = logger.result(result())
    run = MlflowClient(store_uri(cfg)).get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.tags["device"] == "cpu"
    assert run.data.tags["mlflow.runName"] == "dice+softmax" and run.data.metrics["val/foreground_dice"] == 0.8


def test_an_aborted_logger_touches_no_store(compose_cfg, tmp_path):
    cfg = tiny_cfg(compose_cfg, tmp_path)
    logger = Logger(cfg, "never")
    logger.abort()
    assert logger.process.exitcode == 0 and not (tmp_path / "results" / "mlflow.db").exists()
