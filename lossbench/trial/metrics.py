"""What a segmentation really got right, from arg-max predictions, in NumPy.

- `dice_per_class`: Dice of every class over a set of label maps (NaN where the
  class is absent from both truth and prediction);
- `subject_dice`: per class per subject, then averaged over subjects (how the
  test figures are reported);
- `iou_per_class`: intersection over union of every class, pooled over the
  label maps (the figure street-scene benchmarks report as mean IoU);
- `reported_accuracy`: what ``metrics=["accuracy"]`` showed in thread 1's Keras:
  binary accuracy for a binary-CE loss (every correct zero of the one-hot
  vector counts), arg-max accuracy otherwise (FACTS #1).

Void pixels (label `lossbench.data.VOID`, or any value >= the number of
classes) count in no figure: not as truth, and a prediction on a void pixel is
neither right nor wrong. ``background`` is the background class (0 for the
cardiac data): the summary Dice and IoU average the other classes; with
``background=None`` every class counts (``foreground_dice`` is then the mean
Dice over all classes, `summary_label` says so in words).
"""

from __future__ import annotations

import numpy as np


def _counts(truth: np.ndarray, pred: np.ndarray, num_classes: int):
    """Per class: true pixels, predicted pixels and their intersection, over the labelled pixels only."""
    t, p = truth.ravel(), pred.ravel()
    if t.size and t.max() >= num_classes:  # void pixels: out of every count
        keep = t < num_classes
        t, p = t[keep], p[keep]
    true = np.bincount(t, minlength=num_classes)[:num_classes].astype(np.float64)
    predicted = np.bincount(p, minlength=num_classes)[:num_classes].astype(np.float64)
    inter = np.bincount(t[t == p], minlength=num_classes)[:num_classes]
    return true, predicted, inter


def dice_per_class(truth: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Dice ``2|T & P| / (|T| + |P|)`` per class over the labelled pixels; NaN where both are empty.

    >>> dice_per_class(np.array([0, 1, 1, 255]), np.array([0, 1, 0, 1]), 2).round(3).tolist()  # 255: void
    [0.667, 0.667]
    """
    t, p, inter = _counts(truth, pred, num_classes)
    total = t + p
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2.0 * inter / total, np.nan)


def iou_per_class(truth: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """IoU ``|T & P| / |T | P|`` per class over the labelled pixels; NaN where both are empty.

    Equals ``keras.metrics.MeanIoU(num_classes, ignore_class=VOID)``'s per-class terms (tests/test_metrics.py).

    >>> iou_per_class(np.array([0, 1, 1, 255]), np.array([0, 1, 0, 1]), 2).round(3).tolist()
    [0.5, 0.5]
    """
    t, p, inter = _counts(truth, pred, num_classes)
    union = t + p - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), np.nan)


def summary_label(background) -> str:
    """How reports name the summary Dice: over the foreground classes, or over every class."""
    return "mean Dice" if background is None else "foreground Dice"


def scored_classes(num_classes: int, background=0) -> list[int]:
    """The classes the summary metrics average: all but ``background`` (every class when it is None)."""
    return [c for c in range(num_classes) if c != background]


def subject_dice(truth, pred, subjects, num_classes: int) -> np.ndarray:
    """Per-class Dice computed per subject, then averaged over the subjects (NaNs skipped)."""
    rows = [dice_per_class(truth[subjects == s], pred[subjects == s], num_classes) for s in np.unique(subjects)]
    rows = np.array(rows)
    with np.errstate(invalid="ignore"):
        return np.array([np.nanmean(col) if np.isfinite(col).any() else np.nan for col in rows.T])


def foreground_dice(per_class: np.ndarray, background=0) -> float:
    """Mean over the classes but ``background`` (all with None), ignoring NaN; 0 when all are NaN.

    With the default ``background=0`` it is the mean Dice of classes 1..C-1. It averages IoUs the same way.
    """
    fg = per_class[scored_classes(len(per_class), background)]
    return float(np.nanmean(fg)) if np.isfinite(fg).any() else 0.0


def predicted_labels(outputs: np.ndarray) -> np.ndarray:
    """Arg-max over channels; NaN outputs count as background."""
    return np.argmax(np.nan_to_num(outputs, nan=-np.inf), axis=-1).astype(np.uint8)


def labelled(truth: np.ndarray, outputs: np.ndarray, num_classes: int):
    """``truth`` and ``outputs`` at the labelled pixels only (flattened when some are void)."""
    keep = truth < num_classes
    if keep.all():
        return truth, outputs
    return truth[keep], outputs[keep]


def reported_accuracy(truth: np.ndarray, outputs: np.ndarray, binary: bool, logits_out: bool) -> float:
    """Keras-2 ``accuracy``: binary accuracy of every channel for binary CE, else arg-max accuracy.

    Binary accuracy thresholds probabilities at 0.5 (logits at 0). Void pixels count in neither.
    """
    truth, outputs = labelled(truth, outputs, outputs.shape[-1])
    if not binary:
        return float(np.mean(predicted_labels(outputs) == truth))
    onehot = np.eye(outputs.shape[-1], dtype=bool)[truth]
    on = outputs > (0.0 if logits_out else 0.5)
    return float(np.mean(on == onehot))


EPSILON = 1e-7  # keras.backend.epsilon(): Keras clips probabilities to [eps, 1 - eps] before the log


def clipped_share(truth: np.ndarray, outputs: np.ndarray, binary: bool, logits_out: bool) -> float:
    """Share of pixels whose true-class probability sits at Keras's clip (``<= EPSILON``).

    Where a cross-entropy computed on probabilities clips ``p`` to ``[eps, 1 - eps]``, the
    gradient through a clipped value is exactly zero: such a pixel cannot be learnt. For
    binary CE it is the share of (pixel, channel) entries clipped on the wrong side
    (``p <= eps`` where the label is 1, ``p >= 1 - eps`` where it is 0). Logit outputs are
    turned into probabilities first (softmax, or sigmoid for binary CE). It only kills a
    gradient when the loss really sees the probabilities (audit ``nominal``). Void pixels do not count.
    """
    truth, outputs = labelled(truth, outputs, outputs.shape[-1])
    out = np.asarray(outputs, np.float64)
    if logits_out:
        if binary:
            out = 1.0 / (1.0 + np.exp(-out))
        else:
            out = np.exp(out - out.max(axis=-1, keepdims=True))
            out /= out.sum(axis=-1, keepdims=True)
    onehot = np.eye(out.shape[-1], dtype=bool)[truth]
    if binary:
        wrong = np.where(onehot, out <= EPSILON, out >= 1.0 - EPSILON)
        return float(np.mean(wrong))
    return float(np.mean(out[onehot] <= EPSILON))


def summarise(truth, outputs, num_classes, binary, logits_out, subjects=None, background=0) -> dict:
    """All the figures of one evaluation, keyed by the metric names used in MLflow (no prefix).

    Dice is per subject then averaged when ``subjects`` are given; IoU is pooled over every labelled pixel
    (as street-scene benchmarks report it). ``predicted_background_share`` only when there is a background.
    """
    pred = predicted_labels(outputs)
    if subjects is None:
        per_class = dice_per_class(truth, pred, num_classes)
    else:
        per_class = subject_dice(truth, pred, subjects, num_classes)
    per_class_iou = iou_per_class(truth, pred, num_classes)
    kept = truth < num_classes
    figures = {
        "foreground_dice": foreground_dice(per_class, background),
        "mean_iou": foreground_dice(per_class_iou, background),
        "per_class_dice": per_class,
        "per_class_iou": per_class_iou,
        "pixel_accuracy": float(np.mean(pred[kept] == truth[kept])),
        "reported_accuracy": reported_accuracy(truth, outputs, binary, logits_out),
        "predicted_background_share": float(np.mean(pred[kept] == background)) if background is not None else None,
        "clipped_share": clipped_share(truth, outputs, binary, logits_out),
    }
    return {k: v for k, v in figures.items() if v is not None}
