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
VOID_COLOUR = np.array([1.0, 1.0, 1.0])  # void pixels (no label): white, drawn more opaque than any class


def palette(num_classes: int) -> np.ndarray:
    """One colour per class: the cardiac colours up to 7 classes, matplotlib's tab20 beyond."""
    if num_classes <= len(CLASS_COLOURS):
        return CLASS_COLOURS
    return np.array(plt.get_cmap("tab20").colors)[np.arange(num_classes) % 20]


def learning_curves(curves: dict, chance: float, prior: float, title: str, path: Path) -> Path:
    """Loss (train, val) with chance and prior levels beside validation Dice per class."""
    fig, (ax_loss, ax_dice) = plt.subplots(1, 2, figsize=(10, 3.6))
    epochs = np.arange(1, len(curves.get("train/loss", [])) + 1)
    for key, style in (("train/loss", "-"), ("val/loss", "--")):
        ax_loss.plot(epochs, curves.get(key, []), style, marker="o", ms=3, label=key)
    ax_loss.axhline(chance, color="tab:pink", lw=1, ls=":", label=f"chance level {chance:.3g}")
    ax_loss.axhline(prior, color="tab:cyan", lw=1, ls="--", label=f"prior level {prior:.3g}")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_loss.legend(fontsize=7)
    for key in sorted(k for k in curves if k.startswith("val/dice/")) + ["val/foreground_dice"]:
        ax_dice.plot(
            epochs, curves[key], lw=2.5 if key.endswith("foreground_dice") else 1, label=key.removeprefix("val/")
        )
    ax_dice.set(xlabel="epoch", ylabel="Dice", ylim=(0, 1), title="validation Dice")
    ax_dice.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.84, wspace=0.22)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _tile(image: np.ndarray, labels: np.ndarray | None, colours=CLASS_COLOURS, background=0) -> np.ndarray:
    """One slice (H, W) or (H, W, C) as RGB in 0-1, its labels (if given) blended over it in the class colours.

    The background class stays uncoloured; void pixels (any label past the colours) are `VOID_COLOUR`.
    """
    image = image if image.ndim == 3 else image[..., None]
    scaled = (image - image.min()) / (np.ptp(image) + 1e-9)
    rgb = scaled[..., :3] if scaled.shape[-1] >= 3 else np.repeat(scaled[..., :1], 3, axis=-1)
    if labels is None:
        return rgb
    void = labels >= len(colours)
    alpha = np.where(void, 0.8, np.where(labels == background, 0.0, 0.55))[..., None]
    colour = np.where(void[..., None], VOID_COLOUR, colours[np.minimum(labels, len(colours) - 1)])
    return rgb * (1 - alpha) + colour * alpha


def overlays(
    images: np.ndarray, truth: np.ndarray, pred: np.ndarray, title: str, path: Path, class_names=None, background=0
) -> Path:
    """Image, truth and prediction for a few slices, labels coloured over the image, with a colour key
    and each slice's Dice (mean over the scored classes present in truth or prediction; void pixels,
    drawn white, count in neither). ``background``: the class left uncoloured (None: every class coloured).

    The tiles are one mosaic in one axes: a dozen axes cost a trial 0.2 s of drawing.
    """
    n, size, width = len(images), images.shape[1], images.shape[2]
    highest = int(max(truth[truth < 255].max(initial=0), pred.max()))
    names = list(class_names or [f"class {c}" for c in range(highest + 1)])
    classes, colours = len(names), palette(len(names))
    gap, vgap = max(1, size // 16), max(2, size // 4)  # between columns; between rows, room for a row's name
    mosaic = np.ones((vgap + 3 * (size + vgap), n * width + (n - 1) * gap, 3))
    for i in range(n):
        for row, labels in enumerate((None, truth[i], pred[i])):
            top, left = vgap + row * (size + vgap), i * (width + gap)
            mosaic[top : top + size, left : left + width] = _tile(images[i], labels, colours[:classes], background)
    fig = plt.figure(figsize=(1.8 * n * width / size + 0.4, 6.0))
    ax = fig.add_axes((0.02, 0.08, 0.96, 0.84))
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_axis_off()
    for row, name in enumerate(("image", "truth", "prediction")):
        ax.text(0, row * (size + vgap) + vgap / 2, name, fontsize=8, va="center")
    scored = [c for c in range(classes) if c != background]
    for i in range(n):
        dices = []
        labelled = truth[i] < classes
        for c in scored:
            t, p = truth[i] == c, (pred[i] == c) & labelled
            if t.any() or p.any():
                dices.append(2 * np.logical_and(t, p).sum() / (t.sum() + p.sum()))
        ax.text(
            i * (width + gap) + width / 2,
            3 * (size + vgap) + vgap / 4,
            f"Dice {np.mean(dices):.2f}" if dices else "no foreground",
            ha="center",
            va="top",
            fontsize=7,
        )
    keyed = scored + ([classes] if (truth >= classes).any() else [])
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=VOID_COLOUR if c == classes else colours[c], alpha=0.7, ec="0.5", lw=0.5)
        for c in keyed
    ]
    labels = [names[c] if c < classes else "void" for c in keyed]
    fig.legend(handles, labels, loc="lower center", ncol=min(len(keyed), 6), fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
