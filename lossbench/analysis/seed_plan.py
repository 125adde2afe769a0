"""Adaptive seeds: which pairings get more seeds, and which seeds.

*sometimes* pairings and both sides of an undecided claim that the seed cap could decide get
more seeds (`adaptive_points`); *always* and *never* pairings get none. The sweep's command line
calls `plan_seeds` with its study.
"""

from __future__ import annotations

import pandas as pd

from lossbench.analysis.comparisons import claims_for
from lossbench.analysis.pairings import pairing_cols, rates, select, trials_frame
from lossbench.registry import pairing_label as label


def seeds_to_add(base: list[int], cap: int) -> list[int]:
    """The seeds a pairing may have: the base seeds, then the next integers up to ``cap`` in all."""
    seeds = list(base)
    nxt = max(seeds) + 1 if seeds else 0
    while len(seeds) < cap:
        seeds.append(nxt)
        nxt += 1
    return seeds


def adaptive_points(
    trials: pd.DataFrame, base_seeds: list[int], cap: int, baseline: str | None = None
) -> tuple[list[dict], list[str]]:
    """Points to add: *sometimes* pairings and the sides of claims the cap could decide.

    Returns ``(points, reasons)``; a point is a pairing plus a seed it lacks.
    """
    if cap <= len(base_seeds) or trials.empty:
        return [], []
    cols = pairing_cols(trials)
    targets: dict[str, tuple[dict, str]] = {}
    for _, row in rates(trials).iterrows():
        if row["class"] == "sometimes":
            pairing = {c: row[c] for c in cols}
            targets[label(pairing)] = (pairing, f"{label(pairing)} is sometimes ({row['converged']})")
    for claim in claims_for(trials, cap, baseline):
        if claim.could_decide:
            for side in claim.sides:
                for _, row in select(trials, side).drop_duplicates(cols).iterrows():
                    pairing = {c: row[c] for c in cols}
                    targets.setdefault(label(pairing), (pairing, f"claim {claim.key} could be decided"))
    points, reasons = [], []
    allowed = seeds_to_add(base_seeds, cap)
    for name, (pairing, why) in targets.items():
        have = {int(s) for s in select(trials, pairing)["seed"]}
        missing = [s for s in allowed if s not in have]
        points += [pairing | {"seed": s} for s in missing]
        if missing:
            reasons.append(f"{name}: seeds {missing} - {why}")
    return points, reasons


def plan_seeds(study, seeds: list, cap: int, baseline=None) -> tuple[list[dict], list[str]]:
    """The sweep's adaptive planner: the points (pairing + new seed) that can change an answer, and why."""
    return adaptive_points(trials_frame(study), seeds, cap, baseline)
