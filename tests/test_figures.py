"""`lossbench.trial.figures`: an epoch's curves, the stop and divergence signals, the test figures."""

from __future__ import annotations

import numpy as np
from omegaconf import OmegaConf

from lossbench.data import phantom
from lossbench.trial.figures import judge_test, per_class_figures, record_epoch
from lossbench.trial.stages import TrialResult

DATA = phantom.load({"train": 1, "val": 1, "test": 2}, 2, 32, seed=0)
CFG = OmegaConf.create({"activation": {"logits_out": False}})


def perfect(labels):
    return np.eye(4, dtype=np.float32)[labels]


def test_per_class_figures_leave_out_the_background_and_score_absent_classes_zero():
    figures = {"per_class_dice": [1.0, 0.5, np.nan, 0.25], "per_class_iou": [1.0, 0.3, np.nan, 0.1]}
    row = per_class_figures("val", figures, ["background", "rv", "myocardium", "lv"], 0)
    assert row == {
        "val/dice/rv": 0.5,
        "val/dice/myocardium": 0.0,
        "val/dice/lv": 0.25,
        "val/iou/rv": 0.3,
        "val/iou/myocardium": 0.0,
        "val/iou/lv": 0.1,
    }


def test_record_epoch_appends_the_curves_and_goes_on():
    result = TrialResult()
    seen = []
    assert record_epoch(result, 0, 1.5, 1.2, perfect(DATA.val.labels), DATA, CFG, lambda *a: seen.append(a)) is None
    assert result.curves["train/loss"] == [1.5] and result.curves["val/foreground_dice"] == [1.0]
    assert seen[0][0] == 0 and seen[0][2] is result.final and result.predictions["pred"].shape[0] == 2


def test_record_epoch_marks_a_stop_and_names_divergence():
    result = TrialResult()
    assert record_epoch(result, 2, 1.0, 1.0, perfect(DATA.val.labels), DATA, CFG, lambda *a: True) == "pruner"
    assert (result.state, result.pruned_at, result.stopped_by) == ("pruned", 3, "pruner")
    other = TrialResult()
    assert record_epoch(other, 0, float("nan"), 1.0, perfect(DATA.val.labels), DATA, CFG, None) == "diverged"
    assert other.state == "complete"


def test_judge_test_gives_per_subject_figures_and_a_verdict():
    result = TrialResult()
    for epoch, loss in enumerate((0.5, 0.1)):
        record_epoch(result, epoch, loss, loss, perfect(DATA.val.labels), DATA, CFG, None)
    result.final |= {"chance_loss": 1.386, "prior_loss": 0.3}
    judge_test(result, perfect(DATA.test.labels), DATA, CFG, binary=False)
    assert result.final["test/foreground_dice"] == 1.0
    subjects = [k for k in result.final if k.startswith("test/subject/")]
    assert len(subjects) == 2 and all(result.final[k] == 1.0 for k in subjects)
    assert result.verdict == "converged" and "pruning" not in result.reason
