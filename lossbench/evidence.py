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
    plain = lambda rows: rows[(rows["class_weighting"] == "none") & (rows["optimizer"] == "adam")]  # noqa: E731
    pb, pc = plain(bce), plain(cce)
    if not pb.empty and not pc.empty:
        out.append(
            f"**(a) Loss scale.** Unweighted, with Adam, binary CE shows {pb['train/loss/epoch1'].median():.3g} after "
            f"the first epoch "
            f"(chance level {pb['chance_loss'].median():.3g} = ln 2) and ends at {pb['val/loss'].median():.3g}; "
            f"categorical CE shows {pc['train/loss/epoch1'].median():.3g} (chance {pc['chance_loss'].median():.3g}"
            f" = ln {num_classes}) and ends at {pc['val/loss'].median():.3g} (medians over activations and seeds). "
            f"Binary CE averages {num_classes} yes/no losses per pixel, most of them easy zeros, so its numbers are "
            f"{pb['val/loss'].median() / pc['val/loss'].median():.2f}x the categorical ones at the end while the "
            f"foreground Dice is {pb['test/foreground_dice'].mean():.3f} vs {pc['test/foreground_dice'].mean():.3f}: "
            "a smaller loss is not a better net.")
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
    same, differ, saturated = [], [], []
    keys = ["class_weighting", "optimizer", "seed"]
    for loss, rows in done.groupby("loss"):
        groups = rows.groupby(keys)
        sizes = groups.size()
        loss_spread = groups["val/loss"].agg(lambda s: s.max() - s.min())[sizes > 1]
        dice_spread = groups["test/foreground_dice"].agg(lambda s: s.max() - s.min())[sizes > 1]
        if loss_spread.empty:
            continue
        (same if loss_spread.max() < 1e-3 else differ).append(f"{loss} ({loss_spread.max():.2g})")
        flipped = dice_spread[(loss_spread < 1e-3) & (dice_spread > 0.01)]
        saturated += [f"{loss} | {' | '.join(map(str, key))} (Dice spread {value:.2f})" for key, value in flipped.items()]
    audits = done.groupby(["loss", "activation"])["audit"].agg(lambda s: s.mode().iat[0] if len(s) else "")
    substituted = [f"{loss}+{act}" for (loss, act), tag in audits.items() if tag == "logits_substituted"]
    text = (
        "**(d) What the audit found.** With the same seed, switching the last activation between the "
        f"pairings tried left the last validation loss unchanged (largest spread in brackets) for "
        f"{', '.join(same) or 'no loss'}, and changed it for {', '.join(differ) or 'no loss'}. "
        f"Keras computed the loss from the pre-activation logits (audit `logits_substituted`) for "
        f"{', '.join(substituted) or 'no pairing'}: with Keras's own softmax/sigmoid layers a cross-entropy "
        "trains on the logits whatever the activation (FACTS #2), so for those losses the activation "
        "changes the name of the run, not the training.")
    if saturated:
        text += (
            " Identical training still gave different test Dice in " + "; ".join(saturated) + ": the "
            "predictions are the arg-max of the outputs, and a float32 sigmoid is exactly 1.0 for logits "
            "above about 17, so saturated channels tie and the tie goes to the lowest class index.")
    return text


def thread2_sentences(trials: pd.DataFrame, baseline: str) -> list[str]:
    """Which single change fixes thread 2's setting: converged in every seed, or not."""
    out = []
    for name, rows in trials.groupby("trials", sort=False):
        verdicts = rows["verdict"].replace("", "failed").value_counts()
        dice = rows["test/foreground_dice"].mean()
        dice_text = "no test figures" if np.isnan(dice) else f"mean test foreground Dice {dice:.3f}"
        if (rows["verdict"] == "converged").all():
            what = "**fixes it**"
        elif (rows["verdict"] == "converged").any():
            what = "fixes it in some seeds only"
        elif (rows["verdict"] == "invalid").all():
            reason = rows["reason"].iat[0]
            what = f"cannot run: {reason.split(': ', 1)[-1]}" if ": " in reason else f"cannot run: {reason}"
        else:
            what = "does **not** fix it"
        label = "the thread's exact setting" if name == baseline else f"`{name}`"
        if name == baseline:
            what = what.replace("does **not** fix it", "does **not** learn").replace("**fixes it**", "learns")
        if name == baseline and rows["val/loss"].notna().any():
            what += (f": its loss reads {rows['train/loss/epoch1'].median():.3g} after the first epoch and "
                     f"{rows['val/loss'].median():.3g} at the end, against a chance level of "
                     f"{rows['chance_loss'].median():.3g} (a uniform guess) and a prior level of "
                     f"{rows['prior_loss'].median():.3g} (the class shares): a falling loss, an empty mask "
                     f"({rows['test/predicted_background_share'].median():.1%} predicted background)")
        out.append(f"- {label}: {what} (verdicts: {', '.join(f'{v} {k}' for k, v in verdicts.items())}; "
                   f"{dice_text})")
    return out


def _describe(rows: pd.DataFrame) -> str:
    verdicts = rows["verdict"].replace("", "failed").value_counts()
    return (f"{', '.join(f'{v} {k}' for k, v in verdicts.items())}; mean test foreground Dice "
            f"{rows['test/foreground_dice'].mean():.3f}")


def thread1_sentences(trials: pd.DataFrame) -> list[str]:
    """Thread 1's own questions: the depth_softmax variants, Permute+Reshape+softmax, the reshape order."""
    mismatch = trials["trials"].astype(str).str.contains("reshape_mismatch")
    plain, out = trials[~mismatch], []
    for act, label in (("depth_softmax_thread1", "Answer 1's depth_softmax (sum over axis 0, the batch)"),
                       ("depth_softmax_fixed", "Answer 2's fixed depth_softmax (sum over channels)")):
        for loss in ("binary_crossentropy", "categorical_crossentropy"):
            rows = plain[(plain["activation"] == act) & (plain["loss"] == loss)]
            if rows.empty:
                continue
            trains = "trains" if (rows["verdict"] == "converged").all() else (
                "trains in some seeds" if (rows["verdict"] == "converged").any() else "does **not** train")
            out.append(f"- {label} with {loss}: {trains} ({_describe(rows)}).")
    for loss in ("categorical_crossentropy", "binary_crossentropy"):
        a = plain[(plain["activation"] == "softmax") & (plain["loss"] == loss)].set_index("seed")
        b = plain[(plain["activation"] == "permute_reshape_softmax") & (plain["loss"] == loss)].set_index("seed")
        seeds = a.index.intersection(b.index)
        if seeds.empty:
            continue
        dloss = float((a.loc[seeds, "val/loss"] - b.loc[seeds, "val/loss"]).abs().max())
        ddice = float((a.loc[seeds, "test/foreground_dice"] - b.loc[seeds, "test/foreground_dice"]).mean())
        audits = f"audit {a['audit'].mode().iat[0]} vs {b['audit'].mode().iat[0]}"
        same = "the same training" if dloss < 1e-3 else "a different training"
        out.append(
            f"- Permute+Reshape+softmax vs a per-pixel Keras softmax with {loss}: the outputs are equal for equal "
            f"logits (tests/test_activations.py), and the runs show {same} (largest |difference| of the last "
            f"validation loss {dloss:.3g}; mean Dice difference {ddice:+.3f}; {audits}): the Reshape hides the "
            "softmax from Keras, so the loss is computed on the probabilities, not on the logits.")
    for loss in ("binary_crossentropy", "categorical_crossentropy"):
        good = plain[(plain["activation"] == "permute_reshape_softmax") & (plain["loss"] == loss)]
        bad = trials[mismatch & (trials["loss"] == loss)]
        if good.empty or bad.empty:
            continue
        out.append(
            f"- Labels flattened column-major against outputs flattened row-major ({loss}): "
            f"{_describe(bad)}, against {good['test/foreground_dice'].mean():.3f} with matching orders; the "
            f"training loss still fell to {bad['train/loss'].median():.3g} (matching: "
            f"{good['train/loss'].median():.3g}): the net learns transposed masks, and only the Dice against the "
            "true masks shows it.")
    return out
