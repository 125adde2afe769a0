"""CamVid as it comes, end to end: colour kept, void ignored, no background class, its own split, IoU.

Reads ../shared/data/camvid (skips cleanly without it); trials are shrunk to one epoch at 32 x 48.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import CAMVID, ROOT

pytestmark = pytest.mark.skipif(not (CAMVID / "train.txt").is_file(), reason=f"CamVid not found at {CAMVID}")

SMALL = ["+experiment=camvid", f"data.root={CAMVID}", "data.image_size=[32,48]", "model.depth=4", "trainer.epochs=1"]


def test_camvid_loads_in_colour_with_void_and_its_own_split(compose_cfg):
    from lossbench.data import VOID
    from lossbench.trial.run import load_data

    data = load_data(compose_cfg(SMALL))
    assert data.channels == 3 and data.background is None and data.ignore_index == 11
    assert data.train.images.shape[1:] == (32, 48, 3)
    assert (len(data.train), len(data.val), len(data.test)) == (367, 51, 50)
    assert (data.train.labels == VOID).mean() > 0.01  # void kept as void, not as a twelfth class
    assert data.class_shares("train").sum() == pytest.approx(1.0) and len(data.class_shares("train")) == 11
    frames = data.info["assignment"]  # the frames of each split, as listed
    assert (len(frames["train"]), len(frames["val"]), len(frames["test"])) == (367, 51, 50)
    assert not set(frames["val"]) & set(frames["test"]) and max(frames["val"]) < min(frames["test"])  # in time


@pytest.mark.slow
def test_a_camvid_trial_reports_mean_iou_and_speaks_of_its_classes(compose_cfg):
    """One epoch of Dice + CE: figures over all 11 classes, IoU beside Dice, no background verdict."""
    from lossbench.trial.run import run_trial

    result = run_trial(compose_cfg([*SMALL, "loss=dice_ce", "tracking=none"]))
    final = result.final
    assert 0.0 <= final["test/mean_iou"] <= final["test/foreground_dice"] <= 1.0  # IoU <= Dice, class by class
    assert {f"test/iou/{c}" for c in ("sky", "road", "car", "bicyclist")} <= set(final)
    assert "test/predicted_background_share" not in final
    assert result.verdict not in ("degenerate", "collapsed_to_background")
    assert "background" not in result.reason
    assert math.isfinite(final["chance_loss"]) and math.isfinite(final["prior_loss"])
    assert np.isfinite(result.curves["val/mean_iou"]).all()


@pytest.mark.slow
def test_keras_pooled_dice_refuses_void_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"} | {"TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lossbench.train",
            *SMALL,
            "loss=keras_dice",
            f"paths.results={tmp_path}",
            "tracking=none",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "cannot leave void pixels out - use loss=dice" in done.stdout + done.stderr
