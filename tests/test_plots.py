"""`lossbench.trial.plots`: the learning curves and the overlays a trial leaves as PNG files."""

from __future__ import annotations

import numpy as np

from lossbench.trial.plots import CLASS_COLOURS, learning_curves, overlays, palette


def test_palette_uses_the_cardiac_colours_then_tab20():
    assert palette(4) is CLASS_COLOURS
    many = palette(30)
    assert many.shape == (30, 3) and (many[0] == many[20]).all()


def test_learning_curves_write_a_png(tmp_path):
    curves = {
        "train/loss": [1.2, 0.8],
        "val/loss": [1.1, 0.9],
        "val/dice/lv": [0.2, 0.5],
        "val/foreground_dice": [0.2, 0.4],
    }
    path = learning_curves(curves, 1.386, 0.3, "a trial", tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_overlays_write_a_png_with_void_pixels(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((3, 16, 16)).astype(np.float32)
    truth = rng.integers(0, 4, (3, 16, 16)).astype(np.uint8)
    truth[0, 0, :4] = 255  # void: drawn white
    pred = rng.integers(0, 4, (3, 16, 16))
    path = overlays(images, truth, pred, "overlays", tmp_path / "overlays.png", ["bg", "rv", "myo", "lv"])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
