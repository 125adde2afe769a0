"""The verdict on a trial, from its curves and predictions, with a one-sentence reason.

Tested in this order (the first that fits wins):

``invalid``                  the pairing could not run;
``diverged``                 a non-finite loss, or a last training loss above
                             `EXPLODE` x its first value and above the chance level;
``converged``                last validation foreground Dice >= `DICE_CONVERGED`
                             and last validation loss below the prior level;
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
of the last validation loss to each level.
"""

from __future__ import annotations

import math

DICE_CONVERGED = 0.2
EXPLODE = 3.0
FOREGROUND_KEPT = 0.1

VERDICTS = ("invalid", "diverged", "converged", "collapsed_to_background", "stalled_at_chance",
            "inconclusive")


def stalled(loss: float, chance: float, prior: float) -> bool:
    """The loss sits nearer the chance level than the prior level: nothing is being learnt yet."""
    return abs(loss - chance) < abs(loss - prior)


def judge(curves: dict, chance: float, prior: float, true_background_share: float,
          invalid_reason: str | None = None) -> tuple[str, str]:
    """Return ``(verdict, reason)`` for one trial.

    ``curves`` holds per-epoch lists ``train/loss``, ``val/loss``,
    ``val/foreground_dice`` and ``val/predicted_background_share``.
    """
    if invalid_reason:
        return "invalid", f"the pairing cannot run: {invalid_reason}"
    train, val = curves.get("train/loss", []), curves.get("val/loss", [])
    if not val or not train:
        return "inconclusive", "no epoch finished"
    bad = [i + 1 for i, v in enumerate(train + val) if not math.isfinite(v)]
    if bad:
        return "diverged", f"the loss became NaN or infinite (epoch {min(bad) if min(bad) <= len(train) else min(bad) - len(train)})"
    if train[-1] > EXPLODE * train[0] and train[-1] > chance:
        return "diverged", f"the training loss exploded from {train[0]:.3g} to {train[-1]:.3g}"
    loss, dice = val[-1], curves["val/foreground_dice"][-1]
    background = curves["val/predicted_background_share"][-1]
    if dice >= DICE_CONVERGED and loss < prior:
        return "converged", (f"foreground Dice {dice:.2f} with the loss {loss:.3g} below the prior level {prior:.3g}")
    foreground, predicted = 1.0 - true_background_share, 1.0 - background
    if predicted < FOREGROUND_KEPT * foreground and not stalled(loss, chance, prior):
        return "collapsed_to_background", (
            f"predicts {predicted:.2%} foreground where there is {foreground:.2%}; the loss "
            f"{loss:.3g} sits near the prior level {prior:.3g} (chance {chance:.3g}): it learnt the class shares only")
    if stalled(loss, chance, prior):
        return "stalled_at_chance", (
            f"the loss {loss:.3g} stays nearer the chance level {chance:.3g} than the prior level {prior:.3g}")
    return "inconclusive", (
        f"foreground Dice {dice:.2f}, loss {loss:.3g} (prior {prior:.3g}, chance {chance:.3g}), "
        f"{predicted:.2%} predicted foreground")
