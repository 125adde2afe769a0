"""The per-pairing table: one row per trial from the study, and per pairing k of n converged with its Dice.

A pairing is the choices that name a training (`pairing_cols`: loss, activation, class weighting,
optimizer, and the learning rate where it varies); its seeds are its trials. `rates` gives each
pairing's convergence rate with a Clopper-Pearson interval and a class (`stats.CLASS_RULES`), and its
mean test Dice with a hierarchical bootstrap interval. The comparisons between pairings are in
`comparisons`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lossbench.analysis import stats
from lossbench.registry import CHOICES
from lossbench.registry import pairing_label as label

PAIRING_KEYS = ("trials", *CHOICES, "learning_rate")
RAN = ("complete", "pruned")


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
