"""What a segmentation really got right, from arg-max predictions, in NumPy.

- `dice_per_class`: Dice of every class over a set of label maps (NaN where the
  class is absent from both truth and prediction);
- `subject_dice`: per class per subject, then averaged over subjects (how the
  test figures are reported);
- `reported_accuracy`: what ``metrics=["accuracy"]`` showed in thread 1's Keras:
  binary accuracy for a binary-CE loss (every correct zero of the one-hot
  vector counts), arg-max accuracy otherwise (FACTS #1).
"""

from __future__ import annotations

import numpy as np


def dice_per_class(truth: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Dice ``2|T & P| / (|T| + |P|)`` per class; NaN where both are empty."""
    t = np.bincount(truth.ravel(), minlength=num_classes).astype(np.float64)
    p = np.bincount(pred.ravel(), minlength=num_classes).astype(np.float64)
    inter = np.bincount(truth.ravel()[truth.ravel() == pred.ravel()], minlength=num_classes)
    total = t + p
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2.0 * inter / total, np.nan)


def subject_dice(truth, pred, subjects, num_classes: int) -> np.ndarray:
    """Per-class Dice computed per subject, then averaged over the subjects (NaNs skipped)."""
    rows = [dice_per_class(truth[subjects == s], pred[subjects == s], num_classes) for s in np.unique(subjects)]
    rows = np.array(rows)
    with np.errstate(invalid="ignore"):
        return np.array([np.nanmean(col) if np.isfinite(col).any() else np.nan for col in rows.T])


def foreground_dice(per_class: np.ndarray) -> float:
    """Mean Dice over the foreground classes (1..C-1), ignoring NaN; 0 when all are NaN."""
    fg = per_class[1:]
    return float(np.nanmean(fg)) if np.isfinite(fg).any() else 0.0


def predicted_labels(outputs: np.ndarray) -> np.ndarray:
    """Arg-max over channels; NaN outputs count as background."""
    return np.argmax(np.nan_to_num(outputs, nan=-np.inf), axis=-1).astype(np.uint8)


def reported_accuracy(truth: np.ndarray, outputs: np.ndarray, binary: bool, logits_out: bool) -> float:
    """Keras-2 ``accuracy``: binary accuracy of every channel for binary CE, else arg-max accuracy.

    Binary accuracy thresholds probabilities at 0.5 (logits at 0).
    """
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
    gradient when the loss really sees the probabilities (audit ``nominal``).
    """
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


def summarise(truth, outputs, num_classes, binary, logits_out, subjects=None) -> dict:
    """All the figures of one evaluation, keyed by the metric names used in MLflow (no prefix)."""
    pred = predicted_labels(outputs)
    if subjects is None:
        per_class = dice_per_class(truth, pred, num_classes)
    else:
        per_class = subject_dice(truth, pred, subjects, num_classes)
    return {
        "foreground_dice": foreground_dice(per_class),
        "per_class_dice": per_class,
        "pixel_accuracy": float(np.mean(pred == truth)),
        "reported_accuracy": reported_accuracy(truth, outputs, binary, logits_out),
        "predicted_background_share": float(np.mean(pred == 0)),
        "clipped_share": clipped_share(truth, outputs, binary, logits_out),
    }
