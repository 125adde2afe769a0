"""Shared test set-up: the real config, composed once per test and shrunk to seconds."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from hydra.core.global_hydra import GlobalHydra  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONF = str(ROOT / "conf")
ACDC_SAMPLE = ROOT.parent / "shared" / "data" / "acdc-sample"
CAMVID = ROOT.parent / "shared" / "data" / "camvid"


def tiny(results: Path) -> list[str]:
    """Overrides that shrink a trial to a few seconds and keep every output in ``results``."""
    return [
        f"paths.results={results}",
        "data.image_size=32",
        "data.loader.n_subjects.train=3",
        "data.loader.n_subjects.val=2",
        "data.loader.n_subjects.test=2",
        "data.loader.slices_per_subject=4",
        "model.base=4",
        "trainer.epochs=1",
        "trainer.batch_size=4",
        "tracking.plots=false",
        "sweep.max_seeds=0",
    ]  # no adaptive seeds: a test's trial count is its grid's


@pytest.fixture
def compose_cfg():
    """``compose_cfg(overrides)`` -> the real composed config (GlobalHydra cleared afterwards)."""
    GlobalHydra.instance().clear()
    initialize_config_dir(config_dir=CONF, version_base="1.3")
    yield lambda overrides=(): compose("config", overrides=list(overrides))
    GlobalHydra.instance().clear()


@pytest.fixture
def tiny_overrides(tmp_path):
    return tiny(tmp_path / "results")
