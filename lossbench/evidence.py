"""The numbers behind a report: rankings with bootstrap intervals, and the seeds' questions answered.

Pure functions over the trials table (one row per trial, as `lossbench.report`
builds it from the stores). Every sentence is chosen by a threshold in code
from a number it quotes, so a rerun on other results says what those show.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

GROUP = ["loss", "activation", "class_weighting", "optimizer"]
N_BOOT = 2000


def bootstrap_ci(values: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return (math.nan, math.nan)
    if len(values) == 1:
        return (float(values[0]), float(values[0]))
    rng = np.random.default_rng(seed)
    means = rng.choice(values, size=(N_BOOT, len(values))).mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def subject_values(rows: pd.DataFrame) -> np.ndarray:
    """Per-subject test foreground Dice of every trial in ``rows`` (subjects x seeds)."""
    cols = [c for c in rows.columns if c.startswith("test/subject/")]
    return rows[cols].to_numpy(float).ravel() if cols else rows["test/foreground_dice"].to_numpy(float)


def ranking(trials: pd.DataFrame, by=GROUP) -> pd.DataFrame:
    """Pairings ranked by mean test foreground Dice, with a bootstrap CI over test subjects x seeds."""
    out = []
    for key, rows in trials.groupby(list(by), sort=False):
        values = subject_values(rows)
        lo, hi = bootstrap_ci(values)
        verdicts = rows["verdict"].fillna("").replace("", "failed").value_counts()
        out.append(dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)) | {
            "mean_test_dice": float(np.nanmean(values)) if np.isfinite(values).any() else math.nan,
            "ci_low": lo, "ci_high": hi, "seeds": len(rows),
            "verdicts": ", ".join(f"{v} {k}" for k, v in verdicts.items()),
            "epochs_to_dice_0.5": _median_or_dash(rows["epochs_to_dice_0.5"]),
            "reported_accuracy": float(rows["test/reported_accuracy"].mean()),
        })
    table = pd.DataFrame(out)
    return table.sort_values("mean_test_dice", ascending=False, na_position="last").reset_index(drop=True)


def _median_or_dash(series: pd.Series):
    reached = series.dropna()
    return "-" if len(reached) < max(1, len(series) / 2) else f"{reached.median():.0f}"


def paired_difference(trials: pd.DataFrame, a: str, b: str):
    """Mean and CI of (loss a - loss b) test foreground Dice, per test subject, over trials matched
    on activation, weighting, optimizer and seed (bootstrap over subjects x matched pairs)."""
    keys = ["activation", "class_weighting", "optimizer", "seed"]
    cols = [c for c in trials.columns if c.startswith("test/subject/")] or ["test/foreground_dice"]
    left = trials[trials["loss"] == a].set_index(keys)[cols]
    right = trials[trials["loss"] == b].set_index(keys)[cols]
    matched = left.index.intersection(right.index)
    if matched.empty:
        return None
    diff = (left.loc[matched] - right.loc[matched]).to_numpy(float).ravel()
    diff = diff[np.isfinite(diff)]
    lo, hi = bootstrap_ci(diff)
    return {"n": len(matched), "mean": float(diff.mean()), "ci_low": lo, "ci_high": hi}


def all_background_accuracy(background_share: float, num_classes: int) -> dict:
    """Accuracy of predicting background everywhere: Keras-2 binary vs arg-max (FACTS #1)."""
    b, c = background_share, num_classes
    return {"binary": (c - 2) / c + 2 * b / c, "categorical": b}


def why_binary_looked_better(trials: pd.DataFrame, background_share: float, num_classes: int) -> list[str]:
    """Sentences (a)-(d) of the summary, each quoting the number that chose it."""
    out = []
    done = trials[trials["state"].isin(["complete", "pruned"])]
    bce, cce = done[done["loss"] == "binary_crossentropy"], done[done["loss"] == "categorical_crossentropy"]
    if bce.empty or cce.empty:
        return ["(needs both binary and categorical cross-entropy trials)"]
    ratio = float(bce["val/loss"].median() / cce["val/loss"].median())
    out.append(
        f"**(a) Loss scale.** The last validation loss of binary CE is {bce['val/loss'].median():.3g} "
        f"(median) against {cce['val/loss'].median():.3g} for categorical CE ({ratio:.2f}x), and they start "
        f"from chance levels {bce['chance_loss'].median():.3g} vs {cce['chance_loss'].median():.3g}: binary CE "
        f"averages {num_classes} yes/no losses per pixel, most of them easy zeros, so its numbers are "
        f"{'smaller' if ratio < 1 else 'not smaller'} without meaning the net is better.")
    acc = all_background_accuracy(background_share, num_classes)
    out.append(
        f"**(b) Reported accuracy.** Keras-2 `accuracy` (binary accuracy for binary CE) averaged "
        f"{bce['test/reported_accuracy'].mean():.4f} for binary CE trials while their foreground Dice was "
        f"{bce['test/foreground_dice'].mean():.3f}; categorical CE trials reported "
        f"{cce['test/reported_accuracy'].mean():.4f} with Dice {cce['test/foreground_dice'].mean():.3f}. "
        f"Predicting background everywhere already scores {acc['binary']:.4f} binary accuracy and "
        f"{acc['categorical']:.4f} arg-max accuracy on these test slices: the binary metric sits "
        f"{acc['binary'] - acc['categorical']:.4f} higher before the net has learnt anything.")
    diff = paired_difference(done, "binary_crossentropy", "categorical_crossentropy")
    if diff:
        if diff["ci_low"] > 0:
            verdict = "learns **better** than"
        elif diff["ci_high"] < 0:
            verdict = "learns **worse** than"
        else:
            verdict = "learns **about the same** as"
        out.append(
            f"**(c) Does binary CE learn better?** Over {diff['n']} matched pairs of trials (same "
            f"activation, weighting, optimizer, seed), binary CE minus categorical CE test foreground Dice, "
            f"per test subject, is "
            f"{diff['mean']:+.3f} (95 % CI {diff['ci_low']:+.3f} to {diff['ci_high']:+.3f}): binary CE "
            f"{verdict} categorical CE here.")
    out.append(activation_sentence(done))
    return out


def activation_sentence(done: pd.DataFrame) -> str:
    """(d): for each loss, do softmax / sigmoid / linear give the same curves with the same seed?"""
    same, differ = [], []
    for loss, rows in done.groupby("loss"):
        spread = rows.groupby(["class_weighting", "optimizer", "seed"])["val/loss"].agg(lambda s: s.max() - s.min())
        spread = spread[rows.groupby(["class_weighting", "optimizer", "seed"]).size() > 1]
        if spread.empty:
            continue
        (same if spread.max() < 1e-3 else differ).append(f"{loss} ({spread.max():.2g})")
    audits = done.groupby(["loss", "activation"])["audit"].agg(lambda s: s.mode().iat[0] if len(s) else "")
    substituted = [f"{loss}+{act}" for (loss, act), tag in audits.items() if tag == "logits_substituted"]
    return (
        "**(d) What the audit found.** With the same seed, switching the last activation between the "
        f"pairings tried left the last validation loss unchanged (largest spread in brackets) for "
        f"{', '.join(same) or 'no loss'}, and changed it for {', '.join(differ) or 'no loss'}. "
        f"Keras computed the loss from the pre-activation logits (audit `logits_substituted`) for "
        f"{', '.join(substituted) or 'no pairing'}: with Keras's own softmax/sigmoid layers a cross-entropy "
        "trains on the logits whatever the activation (FACTS #2), so those rows differ only in name.")


def thread2_sentences(trials: pd.DataFrame, baseline: str) -> list[str]:
    """Which single change fixes thread 2's setting: converged in every seed, or not."""
    out = []
    for name, rows in trials.groupby("trials", sort=False):
        verdicts = rows["verdict"].replace("", "failed").value_counts()
        dice = rows["test/foreground_dice"].mean()
        if (rows["verdict"] == "converged").all():
            what = "**fixes it**"
        elif (rows["verdict"] == "converged").any():
            what = "fixes it in some seeds only"
        elif (rows["verdict"] == "invalid").all():
            what = f"cannot run: {rows['reason'].iat[0][:160]}"
        else:
            what = "does **not** fix it"
        label = "the thread's exact setting" if name == baseline else f"`{name}`"
        out.append(f"- {label}: {what} (verdicts: {', '.join(f'{v} {k}' for k, v in verdicts.items())}; "
                   f"mean test foreground Dice {dice:.3f})")
    return out
