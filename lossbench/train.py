"""Hydra app: train and evaluate one pairing, log it to MLflow, print a short summary.

python -m lossbench.train loss=dice activation=softmax class_weighting=median_frequency optimizer=adam
"""

from __future__ import annotations

import os
from pathlib import Path

import hydra
from omegaconf import DictConfig

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.errors import UserError, exit_with


def summary(name: str, result) -> str:
    """The trial in three lines: verdict, test figures (in the data set's terms), losses and times."""
    f = result.final
    background = f.get("test/predicted_background_share")  # absent where the data set has no background
    dice = "test foreground Dice" if background is not None else "test mean Dice (all classes)"
    lines = [
        f"{name}: {result.verdict} - {result.reason}",
        f"  audit {result.audit.tag if result.audit else '-'} | {dice} "
        f"{f.get('test/foreground_dice', float('nan')):.3f} | mean IoU {f.get('test/mean_iou', float('nan')):.3f}"
        f" | reported accuracy {f.get('test/reported_accuracy', float('nan')):.4f} | pixel accuracy "
        f"{f.get('test/pixel_accuracy', float('nan')):.4f}"
        + (f" | predicted background {background:.1%}" if background is not None else ""),
        f"  loss: first batch {f.get('first_batch_loss', float('nan')):.4g}, chance "
        f"{f.get('chance_loss', float('nan')):.4g}, prior {f.get('prior_loss', float('nan')):.4g}, "
        f"last val {result.curves.get('val/loss', [float('nan')])[-1]:.4g} | "
        + ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items()),
    ]
    return "\n".join(lines)


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    train(cfg)


def train(cfg: DictConfig) -> None:
    from lossbench.config import store_uri
    from lossbench.errors import redact
    from lossbench.registry import pairing_name
    from lossbench.runtime import configure_from
    from lossbench.sweep import validate

    try:
        validate.check(cfg)  # before TensorFlow, a store or a folder
    except UserError as error:
        exit_with(error)
    name = pairing_name(cfg)
    logger, uri = None, store_uri(cfg)
    if uri != "none" and len(os.sched_getaffinity(0)) > 1:  # MLflow's imports and store on another core
        from lossbench.sweep.tracking.logger import Logger

        logger = Logger(cfg, name)
    configure_from(cfg)
    if logger is not None:
        from lossbench.runtime import machine_tags

        logger.machine(machine_tags())
    from lossbench.trial.run import load_data, run_trial

    try:
        data = load_data(cfg)
        print(data.describe())
        result = run_trial(cfg, on_epoch=None if logger is None else lambda e, row, _: logger.epoch(e, row), data=data)
    except UserError as error:
        if logger is not None:
            logger.abort()
        exit_with(error)
    try:
        if logger is not None:
            run_id = logger.result(result)
        else:
            from lossbench.sweep.tracking import tracker

            tracking = tracker(uri)
            run = tracking.TrialRun(cfg, name, tracking.setup(cfg, cfg.name))
            run.log_result(result)
            run.close(result.state)
            run_id = run.run_id
    except UserError as error:
        print(summary(name, result))
        exit_with(error)
    print(summary(name, result))
    if uri == "none":
        print(f"  record {run_id} in {Path(cfg.paths.results) / str(cfg.name) / 'records.jsonl'} (tracking=none)")
    else:
        print(f"  MLflow run {run_id} in experiment '{cfg.name}': mlflow ui --backend-store-uri {redact(uri)}")


if __name__ == "__main__":
    import sys

    from lossbench.sweep.validate import compose_or_exit

    composed = compose_or_exit(sys.argv[1:])
    if composed is None:  # Hydra's own flags: --help, --cfg job, --multirun
        main()
    else:
        train(composed)  # composed once (Hydra's app would compose it again: 0.4 s)
