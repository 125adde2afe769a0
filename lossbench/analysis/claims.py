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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lossbench.analysis import stats
from lossbench.registry import CHOICES
from lossbench.registry import pairing_label as label

PAIRING_KEYS = ("trials", *CHOICES, "learning_rate")
RAN = ("complete", "pruned")
RULE = (
    "A difference is stated only when the data decide it: for Dice, the 95 % interval of the "
    "paired difference excludes 0 (hierarchical bootstrap: seeds, then test subjects within a "
    "seed); for convergence, Fisher's exact test p < 0.05 after Holm's correction within the "
    "section. Otherwise the sentence says *undecided at n seeds*. A pairing's class: "
    + "; ".join(f"*{k}* = {v}" for k, v in stats.CLASS_RULES.items())
    + "."
)


def trials_frame(study) -> pd.DataFrame:
    """One row per finished Optuna trial from the study alone: params, state, verdict, test Dice."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if not t.state.is_finished():
            continue
        params = dict(t.system_attrs.get("fixed_params") or t.params)
        if "seed" in t.user_attrs:  # the seed is a user attribute (not a parameter) since the lifecycle work
            params["seed"] = t.user_attrs["seed"]
        choices = {k: v for k, v in (t.user_attrs.get("choices") or {}).items() if k not in params}
        rows.append(
            {
                "trial": t.number,
                **choices,
                **params,
                "state": t.user_attrs.get("state", t.state.name.lower()),
                "verdict": t.user_attrs.get("verdict", ""),
                "test/foreground_dice": t.user_attrs.get("test_dice", math.nan),
                "subject_dice": t.user_attrs.get("subject_dice") or {},
                "pruned_at": t.user_attrs.get("pruned_at", 0),
            }
        )
    return pd.DataFrame(rows)


def pairing_cols(trials: pd.DataFrame) -> list[str]:
    """The columns that name a pairing; the learning rate only where it varies within an optimizer
    (each optimizer config brings its own rate, e.g. Adam 1e-3 and thread 2's SGD 1e-4)."""

    def varied(c: str) -> bool:
        if c != "learning_rate":
            return True
        if "optimizer" not in trials:
            return trials[c].nunique() > 1
        return bool((trials.groupby("optimizer")[c].nunique() > 1).any())

    return [c for c in PAIRING_KEYS if c in trials.columns and trials[c].notna().any() and varied(c)]


def select(trials: pd.DataFrame, pairing: dict) -> pd.DataFrame:
    mask = np.ones(len(trials), bool)
    for key, value in pairing.items():
        mask &= (trials[key].astype(str) == str(value)).to_numpy()
    return trials[mask]


def subject_dice(row) -> dict:
    """Per-test-subject foreground Dice of one trial: ``{subject: value}``."""
    found = row.get("subject_dice") if hasattr(row, "get") else None
    if isinstance(found, dict) and found:
        return {str(k): float(v) for k, v in found.items()}
    out = {}
    for key, value in row.items():
        if str(key).startswith("test/subject/") and value is not None and np.isfinite(value):
            out[str(key).split("/")[2]] = float(value)
    if not out and np.isfinite(row.get("test/foreground_dice", np.nan)):
        out["all"] = float(row["test/foreground_dice"])
    return out


def ran(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["state"].isin(RAN)] if "state" in trials else trials


def rate(rows: pd.DataFrame) -> tuple[int, int]:
    """(k converged, n seeds that ran); invalid and failed trials are not seeds."""
    rows = ran(rows)
    return int((rows["verdict"] == "converged").sum()), len(rows)


def rates(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per pairing: k of n converged, its interval and class, Dice over all and converged seeds."""
    cols, out = pairing_cols(trials), []
    for key, rows in trials.groupby(cols, sort=False, dropna=False):
        pairing = dict(zip(cols, key if isinstance(key, tuple) else (key,), strict=True))
        done = ran(rows)
        k, n = rate(rows)
        lo, hi = stats.clopper_pearson(k, n)
        mean, dlo, dhi = stats.hierarchical_bootstrap(
            [np.array(list(subject_dice(r).values())) for _, r in done.iterrows()]
        )
        conv = done[done["verdict"] == "converged"]
        verdicts = rows["verdict"].fillna("").replace("", "failed").value_counts()
        out.append(
            pairing
            | {
                "pairing": label(pairing),
                "converged": f"{k}/{n}",
                "k": k,
                "n": n,
                "rate_ci": "-" if n == 0 else f"{lo:.2f}-{hi:.2f}",
                "class": stats.convergence_class(k, n),
                "dice_all": mean,
                "dice_ci": "-" if not np.isfinite(dlo) else f"{dlo:.3f}-{dhi:.3f}",
                "dice_converged": float(conv["test/foreground_dice"].mean()) if len(conv) else math.nan,
                "iou_all": float(done["test/mean_iou"].mean()) if "test/mean_iou" in done and len(done) else math.nan,
                "pruned": int((done["state"] == "pruned").sum()),
                "invalid_reason": next(
                    (str(r) for r in rows.get("reason", pd.Series(dtype=str))[rows["verdict"] == "invalid"]), ""
                ),
                "verdicts": ", ".join(f"{v} {name}" for name, v in verdicts.items()),
            }
        )
    table = pd.DataFrame(out)
    if table.empty:
        return table
    return table.sort_values("dice_all", ascending=False, na_position="last").reset_index(drop=True)


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


def claims_for(trials: pd.DataFrame, cap: int, baseline: str | None = None) -> list[Claim]:
    """Every claim a report makes about ``trials``, by section, with Holm applied per section."""
    sections: dict[str, list[Claim]] = {}
    cols = pairing_cols(trials)
    add = lambda claim: claim and sections.setdefault(claim.section, []).append(claim)  # noqa: E731
    done = ran(trials)
    if done.empty:
        return []
    best_opt = _best_optimizer(done)
    if "optimizer" in cols and "trials" not in cols and done["optimizer"].nunique() > 1:  # pooled over the grid
        others = [o for o in done["optimizer"].unique() if o != best_opt]
        for other in others:
            add(
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
            )
    table = rates(trials)
    if len(table) >= 2 and "trials" not in cols:
        first, second = (dict(table.loc[i, cols]) for i in (0, 1))
        add(dice_claim("ranking", done, first, second, cap))
    if {"loss", "activation"} <= set(cols) and best_opt:
        base = {"optimizer": best_opt} | ({"class_weighting": "none"} if "class_weighting" in cols else {})
        rates_at = sorted(done["learning_rate"].unique()) if "learning_rate" in cols else [None]
        for lr in rates_at:  # one claim per learning rate where the study varies it
            at = base | ({"learning_rate": lr} if lr is not None else {})
            add(
                dice_claim(
                    "binary",
                    done,
                    at | {"loss": "binary_crossentropy", "activation": "sigmoid"},
                    at | {"loss": "categorical_crossentropy", "activation": "softmax"},
                    cap,
                )
            )
    if "class_weighting" in cols and best_opt and "trials" not in cols:
        schemes = [w for w in done["class_weighting"].unique() if w != "none"]
        for loss in done["loss"].unique():
            act = "softmax" if (done["activation"] == "softmax").any() else done["activation"].iat[0]
            plain = {"loss": loss, "activation": act, "class_weighting": "none", "optimizer": best_opt}
            for scheme in schemes:
                weighted = plain | {"class_weighting": scheme}
                add(dice_claim("weighting", done, weighted, plain, cap))
                add(rate_claim("weighting", done, weighted, plain, cap))
    if baseline and "trials" in cols and (done["trials"] == baseline).any():
        for name in done["trials"].unique():
            if name != baseline:
                add(
                    rate_claim(
                        "fixes", done, {"trials": name}, {"trials": baseline}, cap, f"`{name}`", "the exact setting"
                    )
                )
    out = []
    for claims in sections.values():
        holm_section(claims)
        out += claims
    return out


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


def plan_seeds(study, seeds: list, cap: int, baseline=None) -> tuple[list[dict], list[str]]:
    """The sweep's adaptive planner: the points (pairing + new seed) that can change an answer, and why."""
    return adaptive_points(trials_frame(study), seeds, cap, baseline)
