"""What a trial records from its outputs: an epoch's curves, the test figures and the verdict.

`record_epoch` turns one epoch's validation outputs into the rows of the curves (and asks the
caller's ``on_epoch`` whether to stop); `judge_test` turns the test outputs into the final figures
(per class, per subject) and the verdict of `lossbench.trial.verdict`.
"""

from __future__ import annotations

import math

import numpy as np

from lossbench.trial import metrics
from lossbench.trial.verdict import judge


def record_epoch(result, epoch: int, train_loss: float, val_loss: float, outputs, data, cfg, on_epoch):
    """One epoch of a trial from its validation outputs: the curves, the overlay slices, ``on_epoch``.

    Returns None to go on, ``"diverged"`` when a loss is no longer finite, or the rule that stopped
    the trial (``result`` is then marked pruned after this epoch).
    """
    names, binary = list(data.class_names), bool(getattr(result, "binary", False))
    figures = metrics.summarise(
        data.val.labels, outputs, len(names), binary, bool(cfg.activation.logits_out), background=data.background
    )
    result.predictions = {
        "images": data.val.images[:4],
        "truth": data.val.labels[:4],
        "pred": metrics.predicted_labels(outputs[:4]),
        "class_names": names,
        "background": data.background,
    }
    row = {"train/loss": float(train_loss), "val/loss": float(val_loss)}
    row |= {f"val/{k}": v for k, v in figures.items() if not k.startswith("per_class")}
    row |= per_class_figures("val", figures, names, data.background)
    for key, value in row.items():
        result.curves.setdefault(key, []).append(value)
    stop = on_epoch(epoch, row, result.final) if on_epoch is not None else False
    if stop:
        result.state = "pruned"
        result.stopped_by = stop if isinstance(stop, str) else "pruner"
        result.pruned_at = epoch + 1
        return result.stopped_by
    if not (math.isfinite(row["train/loss"]) and math.isfinite(row["val/loss"])):
        return "diverged"
    return None


def per_class_figures(prefix: str, figures: dict, names: list, background) -> dict:
    """``{prefix}/dice/<class>`` and ``{prefix}/iou/<class>`` for every scored class (all but the background).

    A class absent from both truth and prediction scores 0.
    """
    row = {}
    scored = metrics.scored_classes(len(names), background)
    for c in scored:
        row[f"{prefix}/dice/{names[c]}"] = float(np.nan_to_num(figures["per_class_dice"][c]))
    for c in scored:
        row[f"{prefix}/iou/{names[c]}"] = float(np.nan_to_num(figures["per_class_iou"][c]))
    return row


def judge_test(result, outputs, data, cfg, binary: bool) -> None:
    """The test figures (per class, per subject) from the test split's outputs, then the verdict."""
    background = data.background
    figures = metrics.summarise(
        data.test.labels,
        outputs,
        data.num_classes,
        binary,
        bool(cfg.activation.logits_out),
        subjects=data.test.subjects,
        background=background,
    )
    result.final |= {f"test/{k}": v for k, v in figures.items() if not k.startswith("per_class")}
    result.final |= per_class_figures("test", figures, data.class_names, background)
    pred = metrics.predicted_labels(outputs)
    for subject in np.unique(data.test.subjects):
        rows = data.test.subjects == subject
        per_class = metrics.dice_per_class(data.test.labels[rows], pred[rows], data.num_classes)
        result.final[f"test/subject/{subject}/foreground_dice"] = metrics.foreground_dice(per_class, background)
    labelled = data.val.labels[data.val.labels < data.num_classes]
    true_background = None if background is None else float(np.mean(labelled == background))
    result.verdict, result.reason = judge(
        result.curves, result.final["chance_loss"], result.final["prior_loss"], true_background
    )
    if result.pruned_at:
        result.reason += f" (decided by pruning after epoch {result.pruned_at})"
