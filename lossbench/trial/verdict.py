"""The verdict on a trial, from its curves and predictions, with a one-sentence reason.

Tested in this order (the first that fits wins):

``invalid``                  the pairing could not run;
``diverged``                 a non-finite loss, or a last training loss above
                             `EXPLODE` x its first value and above the chance level;
``degenerate``               the net predicts less than `DEGENERATE_BACKGROUND` of the
                             background there is (e.g. every background pixel labelled
                             myocardium): whatever its Dice, it has not learnt the image;
``converged``                last validation foreground Dice >= `DICE_CONVERGED`, *every*
                             foreground class's Dice >= `CLASS_LEARNT`, and the last
                             validation loss below the prior level;
``class_dropped``            as converged, except that one or more foreground classes
                             stay below `CLASS_LEARNT` (the reason names them);
``collapsed_to_background``  the net predicts less than `FOREGROUND_KEPT` of the
                             foreground pixels there are, and its loss sits nearer
                             the prior level than the chance level;
``stalled_at_chance``        the loss sits nearer the chance level (a uniform
                             guess) than the prior level (thread 2's 1.4 -> 1.3 is
                             ln 4 = 1.386);
``inconclusive``             none of these; the reason says what was seen.

Chance level: the loss of a uniform guess. Prior level: the loss of a net that
predicts the training class shares everywhere - it has learnt how common each
class is and nothing about the image. "Nearer" compares the absolute distance
of the last validation loss to each level. Per-class Dice comes from the
curves ``val/dice/<class>``; a verdict looks at every class, not only the mean.

A data set without a background class (``data.background: null``, e.g. street
scenes: every class counts) has no "background there is" to compare with, so
``degenerate`` and ``collapsed_to_background`` do not apply there and are never
given. A net that labels everything as the commonest classes is caught by the
per-class rule instead: ``class_dropped`` names every class it does not
segment, or ``stalled_at_chance`` / ``inconclusive`` when the mean is low too.
The mean is then over every class (the reasons say "mean Dice").
"""

from __future__ import annotations

import math

DICE_CONVERGED = 0.2  # mean foreground Dice a converged net reaches at least
CLASS_LEARNT = 0.1  # ... and every foreground class on its own
DEGENERATE_BACKGROUND = 0.5  # predicting under half the true background share is degenerate
EXPLODE = 3.0
FOREGROUND_KEPT = 0.1

VERDICTS = (
    "invalid",
    "diverged",
    "degenerate",
    "converged",
    "class_dropped",
    "collapsed_to_background",
    "stalled_at_chance",
    "inconclusive",
)


def stalled(loss: float, chance: float, prior: float) -> bool:
    """The loss sits nearer the chance level than the prior level: nothing is being learnt yet."""
    return abs(loss - chance) < abs(loss - prior)


def class_dice(curves: dict) -> dict:
    """Last validation Dice of every foreground class in ``curves`` (``val/dice/<name>``)."""
    return {
        key.removeprefix("val/dice/"): float(values[-1])
        for key, values in curves.items()
        if key.startswith("val/dice/") and values
    }


def judge(
    curves: dict, chance: float, prior: float, true_background_share: float | None, invalid_reason: str | None = None
) -> tuple[str, str]:
    """Return ``(verdict, reason)`` for one trial.

    ``curves`` holds per-epoch lists ``train/loss``, ``val/loss``,
    ``val/foreground_dice``, ``val/predicted_background_share`` and
    ``val/dice/<class>`` for each foreground class. ``true_background_share`` is None for a data set
    without a background class: the background rules are skipped (module docstring).
    """
    if invalid_reason:
        return "invalid", f"the pairing cannot run: {invalid_reason}"
    train, val = curves.get("train/loss", []), curves.get("val/loss", [])
    if not val or not train:
        return "inconclusive", "no epoch finished"
    bad = [i + 1 for i, v in enumerate(train + val) if not math.isfinite(v)]
    if bad:
        return (
            "diverged",
            f"the loss became NaN or infinite (epoch {min(bad) if min(bad) <= len(train) else min(bad) - len(train)})",
        )
    if train[-1] > EXPLODE * train[0] and train[-1] > chance:
        return "diverged", f"the training loss exploded from {train[0]:.3g} to {train[-1]:.3g}"
    loss, dice = val[-1], curves["val/foreground_dice"][-1]
    if true_background_share is None:
        return _judge_without_background(loss, dice, class_dice(curves), chance, prior)
    background = curves["val/predicted_background_share"][-1]
    per_class = class_dice(curves)
    if background < DEGENERATE_BACKGROUND * true_background_share:
        worst = min(per_class, key=per_class.get) if per_class else ""
        return "degenerate", (
            f"predicts {background:.1%} background where there is {true_background_share:.1%}"
            + (f" ({worst} Dice {per_class[worst]:.2f})" if worst else "")
            + f": foreground Dice {dice:.2f} comes from labelling background as foreground"
        )
    learnt = _learnt(loss, dice, per_class, prior, "foreground Dice")
    if learnt:
        return learnt
    foreground, predicted = 1.0 - true_background_share, 1.0 - background
    if predicted < FOREGROUND_KEPT * foreground and not stalled(loss, chance, prior):
        return "collapsed_to_background", (
            f"predicts {predicted:.2%} foreground where there is {foreground:.2%}; the loss "
            f"{loss:.3g} sits near the prior level {prior:.3g} (chance {chance:.3g}): it learnt the class shares only"
        )
    if stalled(loss, chance, prior):
        return "stalled_at_chance", (
            f"the loss {loss:.3g} stays nearer the chance level {chance:.3g} than the prior level {prior:.3g}"
        )
    return "inconclusive", (
        f"foreground Dice {dice:.2f}, loss {loss:.3g} (prior {prior:.3g}, chance {chance:.3g}), "
        f"{predicted:.2%} predicted foreground"
    )


def _learnt(loss: float, dice: float, per_class: dict, prior: float, figure: str):
    """``converged`` or ``class_dropped`` when the mean Dice and the loss say the net learnt; else None."""
    if not (dice >= DICE_CONVERGED and loss < prior):
        return None
    dropped = {name: value for name, value in per_class.items() if value < CLASS_LEARNT}
    if not dropped:
        return "converged", (
            f"{figure} {dice:.2f} (every class >= {CLASS_LEARNT}) with the loss "
            f"{loss:.3g} below the prior level {prior:.3g}"
        )
    return "class_dropped", (
        f"{figure} {dice:.2f} but "
        + ", ".join(f"{k} {v:.2f}" for k, v in dropped.items())
        + f" below {CLASS_LEARNT}: the net does not segment {', '.join(dropped)}"
    )


def _judge_without_background(loss: float, dice: float, per_class: dict, chance: float, prior: float):
    """The verdict when every class counts: converged, class_dropped, stalled_at_chance or inconclusive."""
    learnt = _learnt(loss, dice, per_class, prior, "mean Dice")
    if learnt:
        return learnt
    if stalled(loss, chance, prior):
        return "stalled_at_chance", (
            f"the loss {loss:.3g} stays nearer the chance level {chance:.3g} than the prior level {prior:.3g}"
        )
    dropped = [name for name, value in per_class.items() if value < CLASS_LEARNT]
    return "inconclusive", (
        f"mean Dice {dice:.2f}, loss {loss:.3g} (prior {prior:.3g}, chance {chance:.3g}); "
        f"{len(dropped)} of {len(per_class)} classes below {CLASS_LEARNT}"
    )
