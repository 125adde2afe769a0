"""Config composition outside a Hydra app: the sweep's workers, the report and tests compose trial configs here."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from lossbench.registry import CONF_DIR


def init_hydra() -> None:
    """Point Hydra at ``conf/`` once per process (a no-op inside a Hydra app)."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if not GlobalHydra.instance().is_initialized():
        initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3")


def compose(overrides: list[str]) -> DictConfig:
    """``conf/config.yaml`` with ``overrides``, as ``python -m lossbench.train OVERRIDES`` would see it."""
    from hydra import compose as hydra_compose

    init_hydra()
    return hydra_compose("config", overrides=overrides)


def objective(cfg: DictConfig) -> str:
    """``sweep.objective``: the validation figure Optuna is told and prunes on (``foreground_dice`` or ``mean_iou``).

    The trial's curve is ``val/<objective>``; the study's metric name ``val_<objective>``.
    """
    return str((cfg.get("sweep") or {}).get("objective") or "foreground_dice")


def store_uri(cfg: DictConfig) -> str:
    """``tracking.uri`` with a SQLite path made absolute (``none``: no MLflow, `lossbench.sweep.tracking.records`)."""
    uri = str(cfg.tracking.uri)
    if uri.startswith("sqlite:///"):
        return "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).resolve())
    return uri
