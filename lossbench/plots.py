"""Pictures of one trial: learning curves with the chance and prior levels, and overlays.

Matplotlib with the Agg backend; every function writes one PNG and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

VERDICT_COLOURS = {
    "converged": "tab:green",
    "class_dropped": "tab:olive",
    "degenerate": "tab:brown",
    "collapsed_to_background": "tab:orange",
    "stalled_at_chance": "tab:red",
    "diverged": "tab:purple",
    "inconclusive": "tab:gray",
    "invalid": "black",
}
CLASS_COLOURS = np.array(
    [[0, 0, 0], [0.9, 0.2, 0.2], [0.2, 0.8, 0.2], [0.2, 0.4, 1.0], [1.0, 0.8, 0.1], [0.8, 0.2, 0.9], [0.1, 0.9, 0.9]]
)


def learning_curves(curves: dict, chance: float, prior: float, title: str, path: Path) -> Path:
    """Loss (train, val) with chance and prior levels beside validation Dice per class."""
    fig, (ax_loss, ax_dice) = plt.subplots(1, 2, figsize=(10, 3.6))
    epochs = np.arange(1, len(curves.get("train/loss", [])) + 1)
    for key, style in (("train/loss", "-"), ("val/loss", "--")):
        ax_loss.plot(epochs, curves.get(key, []), style, marker="o", ms=3, label=key)
    ax_loss.axhline(chance, color="tab:red", lw=1, ls=":", label=f"chance level {chance:.3g}")
    ax_loss.axhline(prior, color="tab:orange", lw=1, ls=":", label=f"prior level {prior:.3g}")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_loss.legend(fontsize=7)
    for key in sorted(k for k in curves if k.startswith("val/dice/")) + ["val/foreground_dice"]:
        ax_dice.plot(
            epochs, curves[key], lw=2.5 if key.endswith("foreground_dice") else 1, label=key.removeprefix("val/")
        )
    ax_dice.set(xlabel="epoch", ylabel="Dice", ylim=(0, 1), title="validation Dice")
    ax_dice.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def overlays(images: np.ndarray, truth: np.ndarray, pred: np.ndarray, title: str, path: Path, class_names=None) -> Path:
    """Image, truth and prediction for a few slices, labels coloured over the image, with a colour key
    and each slice's foreground Dice (mean over the foreground classes present in truth or prediction)."""
    n = len(images)
    classes = int(max(truth.max(), pred.max())) + 1
    names = list(class_names or [f"class {c}" for c in range(classes)])
    fig, axes = plt.subplots(3, n, figsize=(1.8 * n + 0.4, 6.0), squeeze=False)
    for i in range(n):
        img = images[i, ..., 0]
        img = (img - img.min()) / (np.ptp(img) + 1e-9)
        for row, (name, labels) in enumerate((("image", None), ("truth", truth[i]), ("prediction", pred[i]))):
            ax = axes[row, i]
            ax.imshow(img, cmap="gray")
            if labels is not None:
                colour = CLASS_COLOURS[labels % len(CLASS_COLOURS)]
                alpha = np.where(labels > 0, 0.55, 0.0)
                ax.imshow(np.dstack([colour, alpha]))
            ax.set_axis_off()
            if i == 0:
                ax.set_title(name, fontsize=8, loc="left")
        dices = []
        for c in range(1, classes):
            t, p = truth[i] == c, pred[i] == c
            if t.any() or p.any():
                dices.append(2 * np.logical_and(t, p).sum() / (t.sum() + p.sum()))
        axes[2, i].text(
            0.5,
            -0.08,
            f"Dice {np.mean(dices):.2f}" if dices else "no foreground",
            transform=axes[2, i].transAxes,
            ha="center",
            va="top",
            fontsize=7,
        )
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=CLASS_COLOURS[c % len(CLASS_COLOURS)], alpha=0.7)
        for c in range(1, len(names))
    ]
    fig.legend(handles, names[1:], loc="lower center", ncol=len(names) - 1, fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
