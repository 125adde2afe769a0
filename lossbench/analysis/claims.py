"""Conclusions with their uncertainty: convergence rates per pairing, and claims between pairings.

The rule every report states at its top (`RULE`): a sentence states a
difference only when the data decide it -

- **Dice**: the 95 % interval of the paired difference (same seed, same test
  subjects) excludes 0, with a hierarchical bootstrap that resamples seeds,
  then subjects within a seed (`stats.hierarchical_bootstrap`);
- **convergence**: Fisher's exact test p < 0.05 after Holm's correction over
  the rate claims of one section (a perfect split needs n >= 4 per side);

otherwise it says "undecided at n seeds". A pairing's convergence is a rate,
k of n seeds, with a Clopper-Pearson interval and a class (`stats.CLASS_RULES`).

The same claims drive the adaptive seeds (`adaptive_points`): *sometimes*
pairings and both sides of an undecided claim that the seed cap could decide
get more seeds; *always* and *never* pairings get none.

The arithmetic lives in three modules, all of whose names this one re-exports: `pairings` (the
trials table and the per-pairing rates), `comparisons` (`Claim`, the claims a report makes, `RULE`)
and `seed_plan` (the adaptive seeds).
"""

from __future__ import annotations

from lossbench.analysis.comparisons import (
    RULE,
    Claim,
    _best_optimizer,
    claims_for,
    conclusions,
    dice_claim,
    holm_section,
    rate_claim,
)
from lossbench.analysis.pairings import (
    PAIRING_KEYS,
    RAN,
    pairing_cols,
    ran,
    rate,
    rates,
    select,
    subject_dice,
    trials_frame,
)
from lossbench.analysis.seed_plan import adaptive_points, plan_seeds, seeds_to_add
from lossbench.registry import pairing_label as label

__all__ = [
    "PAIRING_KEYS",
    "RAN",
    "RULE",
    "Claim",
    "_best_optimizer",
    "adaptive_points",
    "claims_for",
    "conclusions",
    "dice_claim",
    "holm_section",
    "label",
    "pairing_cols",
    "plan_seeds",
    "ran",
    "rate",
    "rate_claim",
    "rates",
    "seeds_to_add",
    "select",
    "subject_dice",
    "trials_frame",
]
