"""``python -m lossbench.pruning +experiment=cmr``: does pruning change any answer? -> results/<name>/pruning.md

Compares the experiment's study (pruning on) with the same points run to the
end without pruning: the first seed set of `lossbench.analysis.reproduce`
(``<name>-seeds012``, pruning off). On the same machine, build and threads a
trial is bit-identical up to the epoch where it was pruned, so the comparison is
trial by trial: a **false prune** is a trial that was pruned but converged when
run to the end. The table also gives what pruning saved (epochs and seconds).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)


def compare(pruned: pd.DataFrame, full: pd.DataFrame, keys: list[str], epochs: int = 8) -> tuple[pd.DataFrame, dict]:
    """Match trials on pairing + seed; return the pruned trials with their verdict when run to the end."""
    left = pruned[pruned["state"].isin(["complete", "pruned"])].set_index(keys)
    right = full[full["state"].isin(["complete", "pruned"])].set_index(keys)
    both = left.index.intersection(right.index)
    left, right = left.loc[both], right.loc[both]
    cut = left["state"] == "pruned"
    rows = pd.DataFrame(
        {
            "pruned after epoch": left.loc[cut, "pruned_at"],
            "verdict when pruned": left.loc[cut, "verdict"],
            "verdict run to the end": right.loc[cut, "verdict"],
            "Dice run to the end": right.loc[cut, "test/foreground_dice"],
        }
    ).reset_index()
    false = int((right.loc[cut, "verdict"] == "converged").sum())
    changed = int((left["verdict"] != right["verdict"]).sum())
    seconds_on, seconds_off = float(left["seconds"].sum()), float(right["seconds"].sum())
    epochs_on = int(sum(int(e) if c else epochs for e, c in zip(left["pruned_at"], cut, strict=True)))
    summary = {
        "matched": len(both),
        "pruned": int(cut.sum()),
        "false_prunes": false,
        "epochs_on": epochs_on,
        "epochs_off": epochs * len(both),
        "verdicts_changed": changed,
        "seconds_on": seconds_on,
        "seconds_off": seconds_off,
    }
    return rows, summary


def _frame(study):
    from lossbench.analysis import claims

    table = claims.trials_frame(study)
    table["seconds"] = [
        t.user_attrs.get("seconds", 0.0) for t in study.get_trials(deepcopy=False) if t.state.is_finished()
    ]
    return table


def write(cfg, on, off) -> None:
    """``results/<name>/pruning.md``: the study with pruning (``on``) against the one run to the end (``off``)."""
    from lossbench.analysis import claims
    from lossbench.analysis.markdown import table as _table
    from lossbench.sweep import work

    a, b = _frame(work.load(on)), _frame(work.load(off))
    keys = [*claims.pairing_cols(a), "seed"]
    rows, s = compare(a, b, keys, int(cfg.trainer.epochs))
    saved = 1 - s["seconds_on"] / s["seconds_off"] if s["seconds_off"] else float("nan")
    lines = [
        f"# Pruning on `{cfg.name}`: does it change an answer?",
        "",
        f"- command: `python -m lossbench.pruning +experiment={cfg.name}` (after `make sweep` and "
        "`make reproducibility`, whose seeds-012 study is this baseline)",
        f"- pruning on: study `{on.study_name}`; run to the end: study `{off.study_name}`",
        f"- rule: `sweep.prune_stalled` for cross-entropy losses only (after {cfg.sweep.warmup_epochs} epochs, "
        "stop a trial whose validation Dice is below 0.2 and whose loss is nearer the chance level than the "
        "prior level); Dice-family losses are never pruned",
        "",
        "| matched trials | pruned | **false prunes** (pruned, converged at the end) | verdicts that differ "
        "| epochs trained with pruning / without | worker-seconds with pruning / without | saved (seconds) |",
        "|---|---|---|---|---|---|---|",
        f"| {s['matched']} | {s['pruned']} | **{s['false_prunes']}** | {s['verdicts_changed']} | "
        f"{s['epochs_on']} / {s['epochs_off']} ({1 - s['epochs_on'] / s['epochs_off']:.0%} fewer) | "
        f"{s['seconds_on']:.0f} / {s['seconds_off']:.0f} | {saved:.0%} |",
        "",
        "Seconds include each trial's fixed cost (graph tracing, test evaluation, MLflow logging), "
        "which pruning cannot save, and the two runs shared the machine "
        "with other work to different degrees; the epochs are exact.",
        "",
        "A verdict that differs without a false prune is e.g. `degenerate` at the pruning epoch and "
        "`stalled_at_chance` at the end: both are non-converged.",
        "",
        "## Every pruned trial",
        "",
        _table(rows) if not rows.empty else "(none)",
        "",
    ]
    path = Path(on.folder) / "pruning.md"
    path.write_text("\n".join(lines))
    print(f"pruning comparison written to {path}: {s['false_prunes']} false prunes of {s['pruned']} pruned")
