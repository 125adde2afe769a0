"""One MLflow run per pairing: the answer on the page MLflow opens on (its view ``lossbench``).

A trial's run holds one seed; a person asks about a pairing. So the report logs, for every pairing,
a top-level run (tag ``kind=pairing``) named in words (``CE · softmax · median-freq · Adam 1e-3``)
that holds what the seeds say together:

- ``rank``: the pairing's place in the answer (1: converges in the largest share of seeds, ties broken by
  the higher mean test Dice), the order the view lists them in;
- ``seeds``, ``converged_seeds`` and ``converged_share``: k of n seeds converged;
- ``test/foreground_dice`` with ``test/foreground_dice_low`` / ``_high``: the mean over seeds and its 95 %
  hierarchical bootstrap interval; ``test/reported_accuracy`` beside it: what Keras's accuracy said; and
  ``test/mean_iou`` where the data set reports IoU;
- params: the pairing's options, and the same in words (``choice/loss`` = ``sparse CE``: the choices view);
- curves per epoch (step = epoch from 1, as the trials' runs): ``val/foreground_dice`` and
  ``val/loss_over_chance`` (the validation loss divided by the loss of a uniform guess, so that losses
  of different scales compare: 1 is chance, lower is learning), each the mean over seeds with
  ``.../seed_min`` and ``.../seed_max`` as its band.

A pairing's run is rebuilt only when its trials changed (tag ``built_from``); a pairing no longer in the
study loses its run. Runs are deleted, not overwritten, so MLflow's history holds no stale points.
"""

from __future__ import annotations

import hashlib
import time
import warnings

import numpy as np
import pandas as pd
from mlflow.entities import Metric, Param, RunTag

from lossbench.analysis.pairings import select
from lossbench.registry import CHOICES, choice_words, short_label

KIND = "pairing"
CONTENTS = "4"  # what a pairing's run holds: change it with `metrics`, and every pairing's run is rebuilt
CURVES = {"val/foreground_dice": None, "val/loss_over_chance": "chance_loss"}  # metric -> its divisor's column


def fingerprint(rows: pd.DataFrame, rank: int = 0) -> str:
    """What a pairing's run was built from: its trials, their states and test Dice, and its rank."""
    text = f"{CONTENTS} {rank}" + rows[["trial", "state", "test/foreground_dice"]].sort_values("trial").to_csv(
        index=False
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def band(curves: list[list[float]]) -> dict[str, np.ndarray]:
    """Mean, min and max over seeds per epoch; a seed stopped early counts up to its last epoch."""
    width = max((len(c) for c in curves), default=0)
    grid = np.full((len(curves), width), np.nan)
    for i, curve in enumerate(curves):
        grid[i, : len(curve)] = curve
    with warnings.catch_warnings():  # an epoch no seed reached is NaN, said nowhere on the console
        warnings.simplefilter("ignore", RuntimeWarning)
        return {"": np.nanmean(grid, 0), "/seed_min": np.nanmin(grid, 0), "/seed_max": np.nanmax(grid, 0)}


def ranks(rates: pd.DataFrame) -> dict[str, int]:
    """Each pairing's place in the answer: the largest share of seeds converged first, then the higher
    mean test Dice.

    >>> ranks(pd.DataFrame({"pairing": ["a", "b", "c"], "k": [1, 3, 3], "n": [3, 3, 3], "dice_all": [0.9, 0.5, 0.7]}))
    {'c': 1, 'b': 2, 'a': 3}
    """
    share = rates["k"] / rates["n"].where(rates["n"] > 0)
    order = rates.assign(_share=share.fillna(-1), _dice=rates["dice_all"].fillna(-1))
    order = order.sort_values(["_share", "_dice"], ascending=False, kind="stable")
    return {p: i + 1 for i, p in enumerate(order["pairing"])}


def metrics(row: pd.Series, rows: pd.DataFrame, curves: dict, rank: int = 0) -> list[Metric]:
    """The pairing run's metrics from its rates row and its seeds' rows and curves (single values to
    three decimals, as a table shows them)."""
    now = int(time.time() * 1000)
    lo, hi = (float(v) for v in row["dice_ci"].split("-")) if row["dice_ci"] != "-" else (np.nan, np.nan)
    single = {
        "rank": rank or np.nan,
        "seeds": row["n"],
        "converged_seeds": row["k"],
        "converged_share": row["k"] / row["n"] if row["n"] else np.nan,
        "test/foreground_dice": row["dice_all"],
        "test/foreground_dice_low": lo,
        "test/foreground_dice_high": hi,
        "test/reported_accuracy": rows["test/reported_accuracy"].mean(),
        "test/mean_iou": row.get("iou_all", np.nan),  # where the data set reports IoU (CamVid): NaN is left out
    }
    out = [Metric(k, round(float(v), 3), now, 0) for k, v in single.items() if np.isfinite(float(v))]
    for name, divisor in CURVES.items():
        source = name if divisor is None else "val/loss"
        seeds = []
        for _, trial in rows.iterrows():
            values = np.asarray(curves.get(trial["trial"], {}).get(source) or [], float)
            seeds.append(list(values if divisor is None else values / float(trial.get(divisor, np.nan))))
        for suffix, values in band(seeds).items():
            out += [Metric(name + suffix, float(v), now, i + 1) for i, v in enumerate(values) if np.isfinite(v)]
    return out


def log(facts, client=None) -> int:
    """Make the pairing runs of the experiment match the report's pairings; return how many were (re)built."""
    from lossbench.sweep.tracking.runs import retrying_client

    info = facts.info
    client = client or retrying_client(info.tracking_uri)
    old = {
        r.data.tags.get("pairing", ""): r
        for r in client.search_runs([info.experiment_id], f"tags.kind = '{KIND}'", max_results=5000)
    }
    cols = [c for c in facts.rates.columns if c in (*CHOICES, "learning_rate", "trials")]
    built, places = 0, ranks(facts.rates)
    for _, row in facts.rates.iterrows():
        pairing = {c: row[c] for c in cols if pd.notna(row[c])}
        rows = select(facts.ran, pairing)
        if rows.empty:
            continue
        rank = places[row["pairing"]]
        made_from, run = fingerprint(rows, rank), old.pop(row["pairing"], None)
        if run is not None and run.data.tags.get("built_from") == made_from:
            continue
        if run is not None:
            client.delete_run(run.info.run_id)
        name = short_label(pairing)
        note = f"{name}: {row['converged']} seeds converged ({row['class']}); mean test Dice {row['dice_all']:.3f}"
        tags = {"kind": KIND, "pairing": row["pairing"], "built_from": made_from, "group": row["pairing"]}
        tags |= {c: str(pairing[c]) for c in CHOICES if c in pairing} | {"mlflow.note.content": note}
        new = client.create_run(info.experiment_id, run_name=name, tags=tags).info.run_id
        params = [Param(c, str(v)) for c, v in (pairing | choice_words(pairing)).items()]
        params.append(Param("seeds", ",".join(map(str, rows["seed"]))))
        client.log_batch(new, params=params, tags=[RunTag("class", row["class"])])
        values = metrics(row, rows, facts.curves, rank)
        for start in range(0, len(values), 1000):  # MLflow takes at most 1000 metrics a batch
            client.log_batch(new, metrics=values[start : start + 1000])
        client.set_terminated(new, status="FINISHED")
        built += 1
    for run in old.values():  # pairings no longer in the study
        client.delete_run(run.info.run_id)
    return built
