"""The rates table as summary.md shows it: pairings that trained identically merged into one row.

A pairing's row comes from `claims.rates`; `merge_identical` joins the pairings whose every seed
gave the same test Dice and validation-loss curve (within `MERGE_TOL`), and `rates_table` writes
the result as Markdown with its columns in words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lossbench.analysis import claims
from lossbench.analysis.markdown import sig3, table

MERGE_TOL = 1e-4  # per-seed test Dice and validation-loss values closer than this: the same training


def merge_identical(rates: pd.DataFrame, trials: pd.DataFrame, curves: dict, tol: float = MERGE_TOL) -> pd.DataFrame:
    """The rates table with pairings that trained identically merged into one row ("A ≡ B").

    Two pairings are one training when they ran the same seeds and, seed by seed, their test
    foreground Dice and their whole validation-loss curve agree within ``tol`` (e.g. categorical CE
    after a Keras softmax or sigmoid, FACTS #2). A saturated sigmoid that ties on Dice but trains
    otherwise is not merged: its curve differs.
    """
    cols = claims.pairing_cols(trials)
    done = trials[trials["state"].isin(["complete", "pruned"])]
    if done.empty or not cols:
        return rates
    runs = {}
    for key, rows in done.groupby(cols, dropna=False):
        values = {}
        for _, row in rows.iterrows():
            loss = curves.get(row["trial"], {}).get("val/loss") or []
            values[int(row["seed"])] = np.array([row["test/foreground_dice"], *loss], float)
        runs[claims.label(dict(zip(cols, key if isinstance(key, tuple) else (key,), strict=True)))] = values

    def same(a: dict, b: dict) -> bool:
        return a.keys() == b.keys() and all(
            a[s].shape == b[s].shape and np.allclose(a[s], b[s], rtol=0, atol=tol, equal_nan=True) for s in a
        )

    order = [p for p in rates["pairing"] if p in runs]
    merged, seen = {}, set()
    for i, first in enumerate(order):
        if first in seen:
            continue
        twins = [other for other in order[i + 1 :] if other not in seen and same(runs[first], runs[other])]
        seen.update(twins)
        if twins:
            merged[first] = twins
    if not merged:
        return rates
    out = rates[~rates["pairing"].isin(seen)].copy()
    out["pairing"] = [" ≡ ".join([p, *merged[p]]) if p in merged else p for p in out["pairing"]]
    return out


def rates_table(rates: pd.DataFrame) -> str:
    """The pairings' rates and Dice as a Markdown table (IoU where the study logged it)."""
    cols = ["pairing", "converged", "rate_ci", "class", "dice_all", "dice_ci", "dice_converged", "pruned", "verdicts"]
    if "iou_all" in rates and rates["iou_all"].notna().any():  # studies that logged IoU (test/mean_iou)
        cols.insert(cols.index("dice_converged"), "iou_all")
    shown = rates[cols].copy()
    if "iou_all" in shown:
        shown["iou_all"] = [sig3(v) if v == v else "-" for v in shown["iou_all"]]
    shown["dice_converged"] = [sig3(v) if v == v else "-" for v in shown["dice_converged"]]
    shown = shown.rename(
        columns={
            "converged": "converged (k/n)",
            "rate_ci": "rate 95 % CI",
            "dice_all": "Dice, all seeds",
            "dice_ci": "95 % CI (seeds, subjects)",
            "dice_converged": "Dice, converged seeds",
            "iou_all": "mean IoU, all seeds",
            "pruned": "decided by pruning",
        }
    )
    return table(shown)
