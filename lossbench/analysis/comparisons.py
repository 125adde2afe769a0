"""Claims between pairings, decided by the rule every report states (`RULE`), and the claims a report makes.

A `Claim` compares pairing ``a`` with pairing ``b``: a paired Dice difference (`dice_claim`) or a
difference in convergence rate (`rate_claim`, Holm within a section by `holm_section`).
`claims_for` lists every claim of a report's sections (optimizer, ranking, binary, weighting,
fixes); `conclusions` says what a run concludes, as comparable strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lossbench.analysis import stats
from lossbench.analysis.pairings import pairing_cols, ran, rate, rates, select, subject_dice
from lossbench.registry import pairing_label as label

RULE = (
    "A difference is stated only when the data decide it: for Dice, the 95 % interval of the "
    "paired difference excludes 0 (hierarchical bootstrap: seeds, then test subjects within a "
    "seed); for convergence, Fisher's exact test p < 0.05 after Holm's correction within the "
    "section. Otherwise the sentence says *undecided at n seeds*. A pairing's class: "
    + "; ".join(f"*{k}* = {v}" for k, v in stats.CLASS_RULES.items())
    + "."
)


@dataclass
class Claim:
    """One comparison of pairing ``a`` with pairing ``b`` (either may pool several pairings)."""

    section: str
    kind: str  # "dice" or "rate"
    a: dict
    b: dict
    label_a: str
    label_b: str
    n: int = 0  # seeds behind the claim (the smaller side)
    mean: float = math.nan  # dice: a - b
    lo: float = math.nan
    hi: float = math.nan
    counts: tuple = (0, 0, 0, 0)  # rate: k_a, n_a, k_b, n_b
    p: float = math.nan
    p_holm: float = math.nan
    decided: bool = False
    direction: str = "undecided"  # "higher" (a > b), "lower" or "undecided"
    could_decide: bool = False
    sides: list = field(default_factory=list)  # pairings that adaptive seeds may add to
    sentence: str = ""

    @property
    def key(self) -> str:
        return f"{self.section}: {self.label_a} vs {self.label_b} ({self.kind})"


def dice_claim(
    section: str,
    trials: pd.DataFrame,
    a: dict,
    b: dict,
    cap: int,
    label_a: str | None = None,
    label_b: str | None = None,
) -> Claim | None:
    """Paired Dice difference a - b: per seed, per test subject, hierarchical bootstrap."""
    ra, rb = ran(select(trials, a)), ran(select(trials, b))
    if ra.empty or rb.empty:
        return None
    by_seed_a = {int(r["seed"]): subject_dice(r) for _, r in ra.iterrows()}
    by_seed_b = {int(r["seed"]): subject_dice(r) for _, r in rb.iterrows()}
    groups = []
    for seed in sorted(set(by_seed_a) & set(by_seed_b)):
        da, db = by_seed_a[seed], by_seed_b[seed]
        groups.append(np.array([da[s] - db[s] for s in sorted(set(da) & set(db))]))
    if not groups:
        return None
    mean, lo, hi = stats.hierarchical_bootstrap(groups)
    claim = Claim(
        section,
        "dice",
        a,
        b,
        label_a or label(a),
        label_b or label(b),
        n=len(groups),
        mean=mean,
        lo=lo,
        hi=hi,
        sides=[a, b],
    )
    claim.decided = stats.decided_dice(lo, hi)
    claim.direction = ("higher" if lo > 0 else "lower") if claim.decided else "undecided"
    claim.could_decide = stats.could_decide_dice(mean, lo, hi, len(groups), cap)
    claim.sentence = stats.difference_sentence(claim.label_a, claim.label_b, mean, lo, hi, len(groups))
    return claim


def rate_claim(
    section: str,
    trials: pd.DataFrame,
    a: dict,
    b: dict,
    cap: int,
    label_a: str | None = None,
    label_b: str | None = None,
    pooled: bool = False,
) -> Claim | None:
    """Convergence rate of a vs b, Fisher's exact test (Holm is applied by `holm_section`)."""
    ka, na = rate(select(trials, a))
    kb, nb = rate(select(trials, b))
    if na == 0 or nb == 0:
        return None
    claim = Claim(
        section,
        "rate",
        a,
        b,
        label_a or label(a),
        label_b or label(b),
        n=min(na, nb),
        counts=(ka, na, kb, nb),
        p=stats.fisher_p(ka, na, kb, nb),
        sides=[] if pooled else [a, b],
    )
    claim.could_decide = (not pooled) and stats.could_decide_rate(ka, na, kb, nb, cap)
    return claim


def holm_section(claims: list[Claim]) -> None:
    """Holm over the rate claims of one section, then the decision and the sentence of each."""
    rated = [c for c in claims if c.kind == "rate"]
    for claim, adjusted in zip(rated, stats.holm([c.p for c in rated]), strict=True):
        ka, na, kb, nb = claim.counts
        claim.p_holm = adjusted
        claim.decided = adjusted < stats.ALPHA
        claim.direction = ("higher" if ka / na > kb / nb else "lower") if claim.decided else "undecided"
        counts = f"{ka}/{na} vs {kb}/{nb} seeds converged, Fisher p = {claim.p:.3g}, Holm {adjusted:.3g}"
        if claim.decided:
            word = "more often" if claim.direction == "higher" else "less often"
            claim.sentence = f"{claim.label_a} converges {word} than {claim.label_b} ({counts})"
        else:
            claim.sentence = f"{claim.label_a} vs {claim.label_b} convergence: undecided at {claim.n} seeds ({counts})"
        if claim.could_decide and claim.decided:
            claim.could_decide = False


def _best_optimizer(trials: pd.DataFrame) -> str | None:
    if "optimizer" not in trials or trials["optimizer"].nunique() < 1:
        return None
    shares = ran(trials).groupby("optimizer")["verdict"].agg(lambda s: float((s == "converged").mean()))
    return str(shares.idxmax()) if len(shares) else None


def _optimizer_claims(done: pd.DataFrame, cols: list, cap: int, best_opt) -> list:
    """Optimizer: the one that converges most often against each other, every pairing pooled."""
    if not ("optimizer" in cols and "trials" not in cols and done["optimizer"].nunique() > 1):  # pooled over the grid
        return []
    others = [o for o in done["optimizer"].unique() if o != best_opt]
    return [
        rate_claim(
            "optimizer",
            done,
            {"optimizer": best_opt},
            {"optimizer": other},
            cap,
            f"{best_opt} (all pairings pooled)",
            f"{other} (all pairings pooled)",
            pooled=True,
        )
        for other in others
    ]


def _ranking_claims(trials: pd.DataFrame, done: pd.DataFrame, cols: list, cap: int) -> list:
    """Ranking: the best pairing by mean Dice against the runner-up."""
    table = rates(trials)
    if not (len(table) >= 2 and "trials" not in cols):
        return []
    first, second = (dict(table.loc[i, cols]) for i in (0, 1))
    return [dice_claim("ranking", done, first, second, cap)]


def _binary_claims(done: pd.DataFrame, cols: list, cap: int, best_opt) -> list:
    """Binary vs categorical CE with the best optimizer, unweighted; one claim per learning rate."""
    if not ({"loss", "activation"} <= set(cols) and best_opt):
        return []
    base = {"optimizer": best_opt} | ({"class_weighting": "none"} if "class_weighting" in cols else {})
    rates_at = sorted(done["learning_rate"].unique()) if "learning_rate" in cols else [None]
    out = []
    for lr in rates_at:  # one claim per learning rate where the study varies it
        at = base | ({"learning_rate": lr} if lr is not None else {})
        out.append(
            dice_claim(
                "binary",
                done,
                at | {"loss": "binary_crossentropy", "activation": "sigmoid"},
                at | {"loss": "categorical_crossentropy", "activation": "softmax"},
                cap,
            )
        )
    return out


def _weighting_claims(done: pd.DataFrame, cols: list, cap: int, best_opt) -> list:
    """Class weighting: each scheme against none, per loss, in Dice and in convergence."""
    if not ("class_weighting" in cols and best_opt and "trials" not in cols):
        return []
    schemes = [w for w in done["class_weighting"].unique() if w != "none"]
    out = []
    for loss in done["loss"].unique():
        act = "softmax" if (done["activation"] == "softmax").any() else done["activation"].iat[0]
        plain = {"loss": loss, "activation": act, "class_weighting": "none", "optimizer": best_opt}
        for scheme in schemes:
            weighted = plain | {"class_weighting": scheme}
            out += [
                dice_claim("weighting", done, weighted, plain, cap),
                rate_claim("weighting", done, weighted, plain, cap),
            ]
    return out


def _fixes_claims(done: pd.DataFrame, cols: list, cap: int, baseline) -> list:
    """Fixes: each named trial setting against the baseline (thread 2's exact setting), in convergence."""
    if not (baseline and "trials" in cols and (done["trials"] == baseline).any()):
        return []
    return [
        rate_claim(
            "fixes",
            done,
            {"trials": name},
            {"trials": baseline},
            cap,
            fix_label(done, name, baseline),
            "the exact setting",
        )
        for name in done["trials"].unique()
        if name != baseline
    ]


def fix_label(done: pd.DataFrame, name: str, baseline: str) -> str:
    """A named trial in words, by what it changes in the exact setting's four choices ("switching to
    Adam 1e-3 (`adam`)"); a change outside them (labels, ``from_logits``) keeps the name alone."""
    from lossbench.registry import CHOICES, option_word

    mine, base = (done[done["trials"] == n].iloc[0] for n in (name, baseline))

    def word(row, group):
        return option_word(group, row[group], row.get("learning_rate") if group == "optimizer" else None)

    said = [word(mine, g) for g in CHOICES if g in done and word(mine, g) != word(base, g)]
    return f"switching to {' and '.join(said)} (`{name}`)" if said else f"`{name}`"


def claims_for(trials: pd.DataFrame, cap: int, baseline: str | None = None) -> list[Claim]:
    """Every claim a report makes about ``trials``, by section, with Holm applied per section."""
    cols = pairing_cols(trials)
    done = ran(trials)
    if done.empty:
        return []
    best_opt = _best_optimizer(done)
    made = [
        *_optimizer_claims(done, cols, cap, best_opt),
        *_ranking_claims(trials, done, cols, cap),
        *_binary_claims(done, cols, cap, best_opt),
        *_weighting_claims(done, cols, cap, best_opt),
        *_fixes_claims(done, cols, cap, baseline),
    ]
    sections: dict[str, list[Claim]] = {}
    for claim in made:
        if claim:
            sections.setdefault(claim.section, []).append(claim)
    out = []
    for claims in sections.values():
        holm_section(claims)
        out += claims
    return out


def conclusions(trials: pd.DataFrame, cap: int, baseline: str | None = None) -> dict:
    """What a run concludes, as comparable strings: each pairing's class, the top-3 set, each claim."""
    out = {}
    table = rates(trials)
    for _, row in table.iterrows():
        out[f"class of {row['pairing']}"] = row["class"]
    if len(table) >= 3:
        out["top-3 set (mean test Dice)"] = ", ".join(sorted(table["pairing"].head(3)))
    for claim in claims_for(trials, cap, baseline):
        out[claim.key] = claim.direction
    return out
