"""The seeds' questions answered from the numbers (rates, intervals and claims live in `claims`).

Thread 1's own questions (the activations, the reshape order, the learning rate) are in `thread1`,
whose names this module re-exports.

Pure functions over the trials table (one row per trial, as `lossbench.analysis.report`
builds it from the stores). Every sentence is chosen by a threshold in code
from a number it quotes, so a rerun on other results says what those show.
"""

from __future__ import annotations

import pandas as pd

from lossbench.analysis import claims
from lossbench.analysis.thread1 import (  # noqa: F401  (re-exported: thread 1's questions)
    LOGITS,
    PROBABILITIES,
    clipping_sentence,
    learning_rate_sentences,
    thread1_sentences,
)
from lossbench.registry import CHOICES  # noqa: E402

GROUP = list(CHOICES)  # as pandas takes a key list


def all_background_accuracy(background_share: float, num_classes: int) -> dict:
    """Accuracy of predicting background everywhere: Keras-2 binary vs arg-max (FACTS #1)."""
    b, c = background_share, num_classes
    return {"binary": (c - 2) / c + 2 * b / c, "categorical": b}


def why_binary_looked_better(
    trials: pd.DataFrame, background_share: float, num_classes: int, binary_claims=()
) -> list[str]:
    """Sentences (a)-(d) of the summary, each quoting the number that chose it.

    (b) and (c) look at the optimizer that converges most often only: averaging in trials that never
    learnt (thread 2's SGD) would compare two ways of learning nothing.
    """
    out = []
    done = trials[trials["state"].isin(["complete", "pruned"])]
    if "optimizer" in done and done["optimizer"].nunique() > 1:
        share = done.groupby("optimizer")["verdict"].agg(lambda s: float((s == "converged").mean()))
        done = done[done["optimizer"] == share.idxmax()]
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
            f"{pb['val/loss'].median() / pc['val/loss'].median():.2f}x the categorical ones at the end: "
            "a smaller loss is not a better net - whether it learnt better is (c)."
        )
    acc = all_background_accuracy(background_share, num_classes)
    out.append(
        f"**(b) Reported accuracy.** Keras-2 `accuracy` (binary accuracy for binary CE) averaged "
        f"{bce['test/reported_accuracy'].mean():.4f} for binary CE trials; categorical CE trials reported "
        f"{cce['test/reported_accuracy'].mean():.4f} (arg-max accuracy). "
        f"Predicting background everywhere already scores {acc['binary']:.4f} binary accuracy and "
        f"{acc['categorical']:.4f} arg-max accuracy on these test slices: the binary metric sits "
        f"{acc['binary'] - acc['categorical']:.4f} higher before the net has learnt anything."
    )
    for claim in binary_claims:
        out.append(f"**(c) Does binary CE learn better?** Matched by seed, per test subject: {claim.sentence}.")
    out.append(activation_sentence(done))
    return out


def activation_sentence(done: pd.DataFrame) -> str:
    """(d): for each loss, do softmax / sigmoid / linear give the same curves with the same seed?"""
    same, differ, saturated = [], [], []
    keys = ["class_weighting", "optimizer", "seed"] + (
        ["learning_rate"] if "learning_rate" in claims.pairing_cols(done) else []
    )
    for loss, rows in done.groupby("loss"):
        groups = rows.groupby(keys)
        sizes = groups.size()
        loss_spread = groups["val/loss"].agg(lambda s: s.max() - s.min())[sizes > 1]
        dice_spread = groups["test/foreground_dice"].agg(lambda s: s.max() - s.min())[sizes > 1]
        if loss_spread.empty:
            continue
        (same if loss_spread.max() < 1e-3 else differ).append(f"{loss} ({loss_spread.max():.2g})")
        flipped = dice_spread[(loss_spread < 1e-3) & (dice_spread > 0.01)]
        saturated += [
            f"{loss} | {' | '.join(map(str, key))} (Dice spread {value:.2f})" for key, value in flipped.items()
        ]
    audits = done.groupby(["loss", "activation"])["audit"].agg(lambda s: s.mode().iat[0] if len(s) else "")
    substituted = [f"{loss}+{act}" for (loss, act), tag in audits.items() if tag == "logits_substituted"]
    text = (
        "**(d) What the audit found.** With the same seed, switching the last activation between the "
        f"pairings tried left the last validation loss unchanged (largest spread in brackets) for "
        f"{', '.join(same) or 'no loss'}, and changed it for {', '.join(differ) or 'no loss'}. "
        f"Keras computed the loss from the pre-activation logits (audit `logits_substituted`) for "
        f"{', '.join(substituted) or 'no pairing'}: with Keras's own softmax/sigmoid layers a cross-entropy "
        "trains on the logits whatever the activation (FACTS #2), so for those losses the activation "
        "changes the name of the run, not the training."
    )
    if saturated:
        text += (
            " Identical training still gave different test Dice in " + "; ".join(saturated) + ": the "
            "predictions are the arg-max of the outputs, and a float32 sigmoid is exactly 1.0 for logits "
            "above about 17, so saturated channels tie and the tie goes to the lowest class index."
        )
    return text


def baseline_sentence(trials: pd.DataFrame, baseline: str) -> str:
    """What thread 2's exact setting does: its loss against the chance and prior levels, its mask."""
    rows = trials[(trials["trials"] == baseline) & trials["state"].isin(["complete", "pruned"])]
    if rows.empty or not rows["val/loss"].notna().any():
        return ""
    return (
        f"The exact setting: its loss reads {rows['train/loss/epoch1'].median():.3g} after the first epoch and "
        f"{rows['val/loss'].median():.3g} at the end, against a chance level of "
        f"{rows['chance_loss'].median():.3g} (a uniform guess) and a prior level of "
        f"{rows['prior_loss'].median():.3g} (the class shares); it predicts "
        f"{rows['test/predicted_background_share'].median():.1%} background (medians over {len(rows)} seeds; "
        f"verdicts: {', '.join(f'{v} {k}' for k, v in rows['verdict'].value_counts().items())})."
    )


def recommendation(rates: pd.DataFrame, found: list, trials: pd.DataFrame, repro: dict | None = None) -> list[str]:
    """The top of summary.md: three lines a newcomer acts on, then one line per thread's question.

    Every figure comes from ``rates`` (`lossbench.analysis.claims.rates`) and the claims ``found``; a line says
    "not separated" or "undecided" where the claims do, and where the two seed sets of
    `lossbench.analysis.reproduce` (``repro``) do not both confirm a decided claim.
    """
    repro = repro or {}

    def sentence(claim) -> str:
        row = repro.get(claim.key)
        if claim.decided and row is not None and row["agree"] != "yes":
            return f"undecided: the two seed sets disagree ({row['seeds A']} / {row['seeds B']}); this run: {claim.sentence}"
        return claim.sentence

    ran = rates[rates["n"] > 0]
    if ran.empty:
        return ["**Recommendation**: no trial has finished yet."]
    by_section = {}
    for claim in found:
        by_section.setdefault(claim.section, []).append(claim)
    top = ran.iloc[0]
    use = (
        f"**Use** {top['pairing']}: {top['converged']} seeds converged, mean test foreground Dice "
        f"{top['dice_all']:.3g} ({top['dice_ci']})"
    )
    ranking = (by_section.get("ranking") or [None])[0]
    if ranking is not None and len(ran) > 1:
        use += (
            f"; better than the runner-up {ran.iloc[1]['pairing']}"
            if ranking.decided and ranking.direction == "higher"
            else f"; not separated from the runner-up {ran.iloc[1]['pairing']} at {ranking.n} seeds"
        )
    lines = [use + "."]
    never = ran[ran["class"] == "never"]
    always = ran[ran["class"] == "always"]
    lines.append(
        f"**Avoid** the {len(never)} of {len(ran)} pairings that never converged"
        + (f" (e.g. {never.iloc[-1]['pairing']})" if len(never) else "")
        + f"; {len(always)} converged in every seed."
    )
    decided = [c for c in found if c.decided and repro.get(c.key, {"agree": "yes"})["agree"] == "yes"]
    seeds = int(ran["n"].max())
    lines.append(
        f"**How sure**: {len(decided)} of {len(found)} comparisons below are decided at up to {seeds} seeds; "
        "the others say *undecided*, and more seeds (or a larger effect) would be needed to state them."
    )
    binary = by_section.get("binary", [])
    if binary:
        lines.append(
            "**Thread 1** (does binary CE learn better than categorical CE?): "
            + "; ".join(sentence(c) for c in binary)
            + "."
        )
    fixes = [c for c in by_section.get("fixes", []) if c.decided] or by_section.get("optimizer", [])
    if fixes:
        lines.append("**Thread 2** (why does the net not learn?): " + sentence(fixes[0]) + ".")
    return lines
