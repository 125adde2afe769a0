"""What separates one data set's slices from another's: class shares, absent classes, contrast, edges.

`image_stats` measures one split; `data_table` puts each experiment's training split side by side
(the last table of ``results/transfer.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def image_stats(images: np.ndarray, labels: np.ndarray) -> dict:
    """What separates a dataset's slices (N, H, W[, 1]) from another's: shares, absent classes, contrast, edges."""
    x, y = np.asarray(images)[..., 0] if np.asarray(images).ndim == 4 else np.asarray(images), np.asarray(labels)
    present = np.array([[(s == c).any() for c in range(4)] for s in y])
    blood = np.concatenate([x[y == 1], x[y == 3]])
    edge = np.zeros_like(y, bool)
    for axis in (1, 2):
        for shift in (1, -1):
            edge |= np.roll(y, shift, axis=axis) != y
    return {
        "slices": len(y),
        **{f"{name} share": float((y == c).mean()) for c, name in enumerate(["background", "rv", "myo", "lv"])},
        "slices without rv": float(1 - present[:, 1].mean()),
        "slices without lv": float(1 - present[:, 3].mean()),
        "slices without heart": float((~present[:, 1:].any(axis=1)).mean()),
        "blood / myocardium intensity": float(blood.mean() / max(x[y == 2].mean(), 1e-6)),
        "background brighter than blood q25": float((x[y == 0] > np.percentile(blood, 25)).mean()),
        "myocardium pixels on an edge": float((edge & (y == 2)).sum() / max((y == 2).sum(), 1)),
    }


def data_table(experiments: dict, image_size: int = 64) -> pd.DataFrame:
    """`image_stats` of each experiment's training split at one image size."""
    from hydra.utils import instantiate

    from lossbench.config import compose

    rows = {}
    for role, name in experiments.items():
        cfg = compose([f"+experiment={name}", f"data.image_size={image_size}"])
        data = instantiate(cfg.data.loader)
        rows[f"{role} (`{name}`)"] = image_stats(data.train.images, data.train.labels)
    return pd.DataFrame(rows)
