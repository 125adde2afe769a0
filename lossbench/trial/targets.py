"""The labels as the loss is given them, and the loss levels a trial is judged against.

`label_encoding` picks sparse or one-hot labels for a loss, `as_targets` and `encode` turn the
label maps into what the loss is trained against, and `levels` gives the loss of two constant
guesses (chance and prior) that `lossbench.trial.verdict` compares the curves with.
"""

from __future__ import annotations

import numpy as np
from omegaconf import DictConfig

from lossbench.data import VOID  # noqa: F401  (the void label, in the doctest)


def encode(labels: np.ndarray, encoding: str, num_classes: int) -> np.ndarray:
    """Integer label maps as the loss is given them: ``sparse`` (N,H,W) or ``one_hot`` (N,H,W,C).

    Void pixels (`VOID`) stay `VOID` in sparse labels and become an all-zero row in one-hot ones.

    >>> encode(np.array([[0, 1, VOID]]), "one_hot", 2).tolist()
    [[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]
    """
    if encoding == "sparse":
        return labels.astype(np.int32)
    if labels.size and labels.max() >= num_classes:
        return np.eye(num_classes + 1, dtype=np.float32)[np.minimum(labels, num_classes)][..., :num_classes]
    return np.eye(num_classes, dtype=np.float32)[labels]


def as_targets(labels: np.ndarray, cfg: DictConfig) -> np.ndarray:
    """The label maps the loss is trained against.

    ``data.reshape_mismatch=true`` reproduces thread 1's answer 3 pitfall: the
    labels flattened column-major while the outputs are flattened row-major.
    For square images that pairs every output pixel (r, c) with the label of
    pixel (c, r): the net is trained against transposed masks. Metrics are
    always computed against the true masks.
    """
    if cfg.data.get("reshape_mismatch", False):
        n, h, w = labels.shape
        return labels.reshape(n, h * w, order="F").reshape(n, h, w)
    return labels


def label_encoding(cfg: DictConfig, loss) -> str:
    """``data.label_encoding``; ``auto`` is sparse for a loss that reads sparse labels, else one-hot."""
    chosen = cfg.data.label_encoding
    if chosen == "auto":
        return "sparse" if getattr(loss, "sparse_labels", False) else "one_hot"
    return chosen


def levels(loss, labels: np.ndarray, shares: np.ndarray, encoding: str, num_classes: int, weights=None) -> dict:
    """Chance level (a uniform guess) and prior level (the training class shares everywhere).

    Both are the trial's own loss (weights included) on the validation labels
    for constant probability maps: 1/C per class (0.5 per channel for binary
    CE), and the training shares (times the class weights, renormalised, for a
    weighted loss: the best constant guess under those weights).
    """
    binary = bool(getattr(loss, "per_channel", False))
    y = encode(labels, encoding, num_classes)  # void pixels: the loss leaves them out (its ignore_index)
    ones = np.ones(labels.shape + (num_classes,), np.float32)
    uniform = ones * (0.5 if binary else 1.0 / num_classes)
    per_pixel = weights is not None and getattr(loss, "family", "cross_entropy") == "cross_entropy"
    best = shares * (np.asarray(weights) if per_pixel else 1.0)  # Dice family: weights scale class terms
    prior = ones * (best / best.sum()).astype(np.float32)
    evaluate = loss.__class__.from_config({**loss.get_config(), "from_logits": False})
    return {"chance_loss": float(evaluate(y, uniform)), "prior_loss": float(evaluate(y, prior))}
