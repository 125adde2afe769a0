"""What separates one data set from another (`lossbench.analysis.data_stats`), on hand-made slices."""

from __future__ import annotations

import numpy as np
import pytest

from lossbench.analysis.data_stats import image_stats


def test_shares_absences_contrast_and_edges_by_hand():
    labels = np.zeros((2, 6, 6), np.uint8)
    labels[0, 1:5, 1:5] = 2  # a myocardium square
    labels[0, 2:4, 2:4] = 3  # with the lv inside it
    images = np.where(labels == 3, 1.0, np.where(labels == 2, 0.5, 0.0))[..., None]  # (N, H, W, 1)
    got = image_stats(images, labels)
    assert got["slices"] == 2
    assert got["lv share"] == pytest.approx(4 / 72) and got["myo share"] == pytest.approx(12 / 72)
    assert got["slices without heart"] == 0.5 and got["slices without rv"] == 1.0
    assert got["blood / myocardium intensity"] == pytest.approx(2.0)
    assert got["myocardium pixels on an edge"] == 1.0  # a ring one pixel thick is all edge
    assert got["background brighter than blood q25"] == 0.0
