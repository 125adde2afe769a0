"""The report's figures (`lossbench.analysis.report.report_figures`): each a PNG, or None with nothing to show."""

from __future__ import annotations

import pandas as pd
from test_claims import grid

from lossbench.analysis.report import report_figures


def ran() -> tuple[pd.DataFrame, dict]:
    trials = grid().reset_index(names="trial")
    trials = trials.assign(
        **{
            "test/reported_accuracy": 0.95,
            "chance_loss": 1.39,
            "prior_loss": 0.9,
            "test/dice/rv": 0.5,
            "test/dice/lv": 0.6,
        }
    )
    return trials, {t: {"val/loss": [1.2, 0.8, 0.5]} for t in trials["trial"]}


def is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_figure_is_a_png(tmp_path):
    trials, curves = ran()
    assert is_png(report_figures.heatmap(trials, tmp_path / "h.png"))
    assert is_png(report_figures.curves_by_verdict(trials, curves, tmp_path / "c.png"))
    all_bg = {"binary": 0.97, "categorical": 0.95}
    assert is_png(report_figures.accuracy_vs_dice(trials, all_bg, tmp_path / "a.png"))
    names = ["background", "rv", "myocardium", "lv"]
    assert is_png(report_figures.per_class_weighting(trials, names, tmp_path / "p.png"))


def test_figures_with_nothing_to_show_are_not_drawn(tmp_path):
    trials, curves = ran()
    assert report_figures.clipping_curves(trials, curves, tmp_path / "clip.png") is None  # no loss on probabilities
    path = report_figures.per_class_weighting(
        trials.drop(columns=["test/dice/rv", "test/dice/lv"]), ["bg", "x"], tmp_path / "n.png"
    )
    assert not path.exists()


def test_the_clipping_panels_are_one_per_loss_and_optimizer_setting(tmp_path):
    trials, curves = ran()
    trials = trials.assign(activation="softmax_untagged", learning_rate=1e-4)  # a loss on probabilities
    for t in trials["trial"]:
        curves[t]["val/clipped_share"] = [0.0, 0.01, 0.02]
    assert is_png(report_figures.clipping_curves(trials, curves, tmp_path / "clip.png"))


def test_every_figure_has_a_caption():
    assert set(report_figures.CAPTIONS) == {
        "heatmap",
        "learning_curves",
        "accuracy_vs_dice",
        "per_class_dice",
        "clipping",
    }
