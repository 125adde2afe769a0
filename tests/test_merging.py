"""The rates table as summary.md shows it (`lossbench.analysis.report.merging`): identical trainings are one row."""

from __future__ import annotations

import pandas as pd
from test_claims import trial

from lossbench.analysis import claims
from lossbench.analysis.report import merging


def twins() -> tuple[pd.DataFrame, dict]:
    """CE after softmax and after sigmoid trained identically; Dice after softmax did not."""
    rows, curves = [], {}
    for i, (act, loss, shift) in enumerate(
        [(a, "categorical_crossentropy", 0.0) for a in ("softmax", "sigmoid")] + [("softmax", "dice", 0.1)]
    ):
        for seed in (0, 1):
            number = 2 * i + seed
            rows.append(trial(loss, act, seed=seed, dice=0.8, spread=0) | {"trial": number})
            curves[number] = {"val/loss": [1.0 + shift, 0.5 + seed]}
    return pd.DataFrame(rows), curves


def test_identical_trainings_are_merged_into_one_row():
    trials, curves = twins()
    merged = merging.merge_identical(claims.rates(trials), trials, curves)
    assert len(merged) == 2 and "dice+softmax | none | adam" in set(merged["pairing"])
    twin = next(p for p in merged["pairing"] if " ≡ " in p)
    assert set(twin.split(" ≡ ")) == {
        "categorical_crossentropy+softmax | none | adam",
        "categorical_crossentropy+sigmoid | none | adam",
    }


def test_curves_that_differ_beyond_the_tolerance_stay_apart():
    trials, curves = twins()
    curves[1]["val/loss"] = [1.0, 1.5 + 2 * merging.MERGE_TOL]
    assert len(merging.merge_identical(claims.rates(trials), trials, curves)) == 3


def test_the_table_names_its_columns_in_words_and_shows_iou_only_when_logged():
    trials, _ = twins()
    text = merging.rates_table(claims.rates(trials))
    assert text.splitlines()[0].startswith("| pairing | converged (k/n) | rate 95 % CI | class | Dice, all seeds |")
    assert "mean IoU" not in text
    with_iou = merging.rates_table(claims.rates(trials.assign(**{"test/mean_iou": 0.6})))
    assert "| mean IoU, all seeds |" in with_iou.splitlines()[0] and "| 0.600 |" in with_iou
