"""``python -m lossbench.report +experiment=NAME``: the study and its MLflow runs -> ``results/NAME/``.

Writes ``summary.md`` (ranking with 95 % bootstrap intervals, verdict counts,
the seeds' questions answered from the numbers), ``trials.csv`` (one row per
trial) and PNG plots, and logs the same files to the sweep's parent MLflow run.
It reads only what the stores hold, so it can be re-run at any time.
"""

from __future__ import annotations

import functools
import os
import platform
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from lossbench.analysis import claims, evidence, wording
from lossbench.errors import UserError

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lossbench.trial.plots import VERDICT_COLOURS, palette  # noqa: E402

CURVES = ("train/loss", "val/loss", "val/foreground_dice", "val/clipped_share")


def trials_table(info) -> tuple[pd.DataFrame, dict]:
    """One row per Optuna trial, joined with its MLflow run's tags and final metrics; plus curves."""
    from mlflow.tracking import MlflowClient

    from lossbench.analysis import claims
    from lossbench.sweep import work as queue

    client = MlflowClient(info.tracking_uri)
    runs = {r.info.run_id: r for r in client.search_runs([info.experiment_id], max_results=5000)}
    trials = {t.number: t for t in queue.load(info).get_trials(deepcopy=False)}
    rows, curves = [], {}
    for row in claims.trials_frame(queue.load(info)).to_dict("records"):
        t = trials[row["trial"]]
        row |= {
            "reason": t.user_attrs.get("reason", ""),
            "audit": t.user_attrs.get("audit", ""),
            "seconds": t.user_attrs.get("seconds"),
        }
        run = runs.get(t.user_attrs.get("mlflow_run_id", ""))
        if run is not None:
            row |= {k: run.data.tags.get(k, row.get(k)) for k in [*evidence.GROUP, "data"]}
            row |= {k: v for k, v in run.data.metrics.items() if not k.startswith("test/subject/")}
            curves[t.number] = {
                k: [m.value for m in sorted(client.get_metric_history(run.info.run_id, k), key=lambda m: m.step)]
                for k in CURVES
            }
            row["train/loss/epoch1"] = (curves[t.number]["train/loss"] or [np.nan])[0]
            dice = curves[t.number]["val/foreground_dice"]
            row["epochs_to_dice_0.5"] = next((i + 1 for i, d in enumerate(dice) if d >= 0.5), np.nan)
        rows.append(row)
    table = pd.DataFrame(rows)
    for col in (
        "test/foreground_dice",
        "test/reported_accuracy",
        "val/loss",
        "chance_loss",
        "prior_loss",
        "train/loss/epoch1",
        "epochs_to_dice_0.5",
        "test/predicted_background_share",
    ):
        if col not in table:
            table[col] = np.nan
    return table, curves


def heatmap(trials: pd.DataFrame, path: Path, words=str) -> Path:
    """Loss x activation heat map of mean test foreground Dice, one panel per weighting/optimizer(/rate).

    Trials whose data were deliberately broken (thread 1's reshape mismatch) are left out.
    """
    if "trials" in trials:
        trials = trials[~trials["trials"].astype(str).str.contains("mismatch")]
    keys = ["class_weighting", "optimizer"] + (
        ["learning_rate"] if "learning_rate" in claims.pairing_cols(trials) else []
    )
    panels = trials.groupby(keys)
    losses, activations = sorted(trials["loss"].unique()), sorted(trials["activation"].unique())
    height = max(3.8, 0.28 * len(losses) + 1.5)
    fig, axes = plt.subplots(1, len(panels), figsize=(2.4 * len(panels) + 2.5, height), squeeze=False)
    for i, (ax, (key, rows)) in enumerate(zip(axes[0], panels, strict=True)):
        grid = rows.pivot_table(index="loss", columns="activation", values="test/foreground_dice", aggfunc="mean")
        grid = grid.reindex(index=losses, columns=activations)  # every panel has the same rows
        image = ax.imshow(grid.to_numpy(float), vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(grid.columns)), grid.columns, rotation=30, ha="right", fontsize=7)
        ax.set_yticks(range(len(grid.index)), grid.index if i == 0 else [], fontsize=7)
        for (i, j), v in np.ndenumerate(grid.to_numpy(float)):
            ax.text(
                j,
                i,
                "not run" if np.isnan(v) else f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=6 if np.isnan(v) else 7,
                color="black" if np.isnan(v) or v >= 0.5 else "white",
            )
        ax.set_title(" | ".join(f"lr {k:g}" if isinstance(k, float) else str(k) for k in key), fontsize=8)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label=words("mean test foreground Dice"))
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


def curves_by_verdict(trials: pd.DataFrame, curves: dict, path: Path) -> Path:
    """Validation loss of every trial, one panel per loss, coloured by verdict, with chance and prior."""
    losses = [loss for loss in trials["loss"].dropna().unique() if (trials["loss"] == loss).any()]
    ncols = min(len(losses), 5)  # wrap: a catalogue of 14 losses reads as 3 rows of 5
    nrows = -(-len(losses) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.0 * nrows + 0.4), squeeze=False)
    for ax in axes.flat[len(losses) :]:
        ax.set_visible(False)
    for ax, loss in zip(axes.flat, losses, strict=False):
        rows = trials[trials["loss"] == loss]
        for _, row in rows.iterrows():
            values = curves.get(row["trial"], {}).get("val/loss", [])
            ax.plot(
                range(1, len(values) + 1), values, color=VERDICT_COLOURS.get(row["verdict"], "gray"), alpha=0.6, lw=1
            )
        for level, colour in (("chance_loss", "tab:red"), ("prior_loss", "tab:orange")):
            if rows[level].notna().any():
                ax.axhline(rows[level].median(), color=colour, ls=":", lw=1.5)
        ax.set(title=loss, xlabel="epoch", ylabel="validation loss")
        ax.title.set_fontsize(8)
    handles = [plt.Line2D([], [], color=c, label=v) for v, c in VERDICT_COLOURS.items()]
    handles += [
        plt.Line2D([], [], color="tab:red", ls=":", label="chance level"),
        plt.Line2D([], [], color="tab:orange", ls=":", label="prior level"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=8, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.08 / nrows, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def clipping_curves(trials: pd.DataFrame, curves: dict, path: Path) -> Path | None:
    """Share of pixels at Keras's clip per epoch, for the losses that read probabilities, by verdict.

    One panel per loss x learning rate; the mechanism behind "stalled" is measured, not inferred.
    """
    rows = trials[trials["activation"].isin(evidence.PROBABILITIES)]
    if rows.empty or not any(curves.get(t, {}).get("val/clipped_share") for t in rows["trial"]):
        return None
    rates = sorted(rows["learning_rate"].dropna().unique()) if "learning_rate" in rows else [None]
    losses = sorted(rows["loss"].unique())
    fig, axes = plt.subplots(
        len(rates), len(losses), figsize=(max(8.0, 3.8 * len(losses)), 2.8 * len(rates)), squeeze=False
    )
    for i, lr in enumerate(rates):
        for j, loss in enumerate(losses):
            ax = axes[i][j]
            mine = rows[(rows["loss"] == loss) & ((rows["learning_rate"] == lr) if lr is not None else True)]
            for _, row in mine.iterrows():
                values = curves.get(row["trial"], {}).get("val/clipped_share", [])
                ax.plot(
                    range(1, len(values) + 1),
                    values,
                    color=VERDICT_COLOURS.get(row["verdict"], "gray"),
                    alpha=0.7,
                    lw=1.2,
                )
            ax.set(
                title=f"{loss}" + (f", Adam lr {lr:g}" if lr is not None else ""),
                xlabel="epoch",
                ylabel="pixels at the clip",
                ylim=(-0.005, max(0.12, float(mine.get("val/clipped_share", pd.Series([0])).max() or 0) * 1.1)),
            )
            ax.title.set_fontsize(8)
    handles = [plt.Line2D([], [], color=c, label=v) for v, c in VERDICT_COLOURS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=8, fontsize=7, frameon=False)
    fig.suptitle(
        "Loss on probabilities (softmax/sigmoid hidden from Keras): share of validation pixels whose "
        "true-class probability sits at the 1e-7 clip",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    fig.savefig(path, dpi=90, bbox_inches="tight")  # the legend is wider than one panel
    plt.close(fig)
    return path


def accuracy_vs_dice(trials: pd.DataFrame, all_background: dict, path: Path, words=str) -> Path:
    """Reported (Keras-2) accuracy against the real foreground Dice: the binary-accuracy inflation."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for loss, rows in trials.groupby("loss"):
        ax.scatter(
            rows["test/foreground_dice"],
            rows["test/reported_accuracy"],
            s=18,
            label=loss,
            marker="s" if "binary" in loss else "o",
            alpha=0.75,
        )
    for kind, colour in (("binary", "tab:blue"), ("categorical", "tab:gray")):
        ax.axhline(
            all_background[kind],
            color=colour,
            ls=":",
            lw=1,
            label=words(f"all-background, {kind} accuracy {all_background[kind]:.3f}"),
        )
    ax.set(xlabel=words("test foreground Dice (what was learnt)"), ylabel="reported accuracy (what Keras 2 showed)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def per_class_weighting(trials: pd.DataFrame, class_names: list[str], path: Path, background=0) -> Path:
    """Mean test Dice per scored class for each loss and class weighting (horizontal bars, one row each)."""
    scored = [c for i, c in enumerate(class_names) if i != background]
    cols = [f"test/dice/{c}" for c in scored if f"test/dice/{c}" in trials]
    if not cols:
        return path
    label = "all optimizers"
    if "optimizer" in trials and trials["optimizer"].nunique() > 1:  # the optimizer that converges most often
        best = trials.groupby("optimizer")["verdict"].agg(lambda s: float((s == "converged").mean())).idxmax()
        trials, label = trials[trials["optimizer"] == best], f"the {best} trials"
    means = trials.groupby(["loss", "class_weighting"])[cols].mean().sort_index(ascending=False)
    fig, ax = plt.subplots(figsize=(7.5, max(3.0, 0.32 * len(means) * max(1, len(cols) / 3) + 1.2)))
    y = np.arange(len(means))
    colours = palette(len(class_names))  # the overlays' class colours (more than 10 classes: no repeats)
    for i, col in enumerate(cols):
        name = col.removeprefix("test/dice/")
        ax.barh(
            y + (i - len(cols) / 2 + 0.5) * 0.8 / len(cols),
            means[col],
            0.8 / len(cols),
            label=name,
            color=colours[class_names.index(name)] if len(class_names) > 7 else None,
        )
    ax.set_yticks(y, [f"{loss} | {w}" for loss, w in means.index], fontsize=7)
    ax.set(xlabel=f"mean test Dice per class over {label} (every seed and verdict)", xlim=(0, 1))
    ax.set_title("Per-class test Dice by loss and class weighting", fontsize=9)
    if len(cols) > 4:  # many classes: the key beside the bars, not over them
        ax.legend(fontsize=7, title="class", title_fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(fontsize=7, title="class", title_fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


CAPTIONS = {
    "heatmap": "Mean test foreground Dice per loss (rows) and activation (columns), one panel per class weighting "
    "and optimizer; 'not run' marks pairings that were not trained (invalid or not in the grid).",
    "learning_curves": "Validation loss per epoch of every trial, one panel per loss, coloured by verdict; dotted "
    "lines: the chance level (a uniform guess) and the prior level (the class shares everywhere).",
    "accuracy_vs_dice": "What each trial's accuracy reported (binary accuracy for binary CE, as Keras 2 did) against "
    "its test foreground Dice: high accuracy with no Dice is the all-background net.",
    "per_class_dice": "Test Dice per foreground class for each loss and class weighting, averaged over the trials of "
    "the optimizer that converges most often (every seed and verdict included).",
    "clipping": "Share of pixels whose probability is clipped to [eps, 1 - eps] in the loss, per epoch: a stalled "
    "net on probabilities sits at the clip.",
}


def option_labels() -> dict[str, str]:
    """Option name -> the words reports use (``label:`` in ``conf/optimizer/*.yaml``)."""

    from lossbench.registry import option_config, options

    return {name: str(option_config("optimizer", name).get("label") or name) for name in options("optimizer")}


def humanise(text: str) -> str:
    """Option names in words: ``sgd_seed`` -> "SGD 1e-4 m0.9 (thread 2)". Names in `backticks` (a sweep
    file's trial names, commands) stay as they are.

    >>> humanise("dice+softmax | none | sgd_seed; `adam` vs adam")
    'dice+softmax | none | SGD 1e-4 m0.9 (thread 2); `adam` vs Adam 1e-3'
    """
    import re

    labels = option_labels()
    pattern = re.compile(r"`[^`]*`|\b(" + "|".join(map(re.escape, sorted(labels, key=len, reverse=True))) + r")\b")
    return pattern.sub(lambda m: labels[m.group(1)] if m.group(1) else m.group(0), text)


def sig3(value: float) -> str:
    """Three significant digits, trailing zeros kept: 0.53 -> '0.530', 1.386 -> '1.39', 0.0 -> '0.00'.

    >>> [sig3(v) for v in (0.53, 1.386, 0.0, 0.01504, 123.4, float("nan"))]
    ['0.530', '1.39', '0.00', '0.0150', '123', 'nan']
    """
    return f"{value:#.3g}".rstrip(".") if value == value else "nan"


def _table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = (sig3(v) if isinstance(v, float) else str(v).replace("|", "\\|") for v in row)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SECTIONS = {
    "optimizer": "Which optimizer converges (rates pooled over every other choice)",
    "ranking": "Is the best pairing better than the runner-up?",
    "binary": "Does binary CE learn better than categorical CE?",
    "weighting": "What class weighting changes (per loss, softmax, best optimizer)",
    "fixes": "Which single change fixes thread 2's net",
}


# The parts of summary.md an experiment may ask for (`sweep.report_sections`), in the order they appear.
# optimizer, ranking, binary, weighting and fixes are the claim sections (`lossbench.analysis.claims`).
SECTION_NAMES = ("rates", "verdicts", *SECTIONS, "top3", "budget", "thread1", "why_binary", "plots")
DEFAULT_SECTIONS = ("rates", "verdicts", *SECTIONS, "top3", "budget", "why_binary", "plots")


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


def _rates_table(rates: pd.DataFrame) -> str:
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
    return _table(shown)


def _repro(folder: Path) -> dict:
    """The reproducibility table of `lossbench.analysis.reproduce`, if it was run: conclusion -> row."""
    path = folder / "reproducibility.csv"
    if not path.exists():
        return {}
    return {row["conclusion"]: row for row in pd.read_csv(path).to_dict("records")}


def findings(
    name: str, data: str, rates: pd.DataFrame, found: list, repro: dict, budget_lines: list, extra: list[str] = ()
) -> str:
    """The few sentences a newcomer reads first (``findings.md``; the README quotes it verbatim).

    A claim the two disjoint seed sets of `lossbench.analysis.reproduce` contradict is stated as undecided.
    """

    def checked(key: str, sentence: str, decided: bool = True) -> str:
        row = repro.get(key)
        if row is None:
            return sentence
        if decided and row["agree"] != "yes":  # not confirmed by both seed sets: not stated
            return (
                f"**undecided**: the two seed sets do not agree ({row['seeds A']} with seeds 0-2, "
                f"{row['seeds B']} with seeds 3-5); this run alone: {sentence}"
            )
        return f"{sentence} [seed sets 0-2 / 3-5: {row['seeds A']} / {row['seeds B']}]"

    lines = [
        f"On {data} (`{name}`, {int(rates['n'].max()) if not rates.empty else 0} seeds at most per "
        "pairing; rule: [summary.md](summary.md), top):",
        "",
    ]
    words = {
        ("dice", "higher"): "reaches a higher test Dice than",
        ("dice", "lower"): "reaches a lower test Dice than",
        ("rate", "higher"): "converges more often than",
        ("rate", "lower"): "converges less often than",
    }
    sure = [
        f"{c.label_a} {words[(c.kind, c.direction)]} {c.label_b}"
        for c in found
        if c.decided and repro.get(c.key, {"agree": "yes"})["agree"] == "yes"
    ]
    if sure:
        lines.append(
            "**In one line each"
            + (" (both seed sets agree on each; their verdicts are in brackets below)" if repro else "")
            + ":** "
            + "; ".join(dict.fromkeys(sure))
            + ". The rest, with figures:"
        )
        lines.append("")
    if not rates.empty:
        contested = {
            r["pairing"]
            for _, r in rates.iterrows()
            if repro.get("class of " + r["pairing"], {}).get("agree", "yes") != "yes"
        }
        settled = rates[~rates["pairing"].isin(contested)]
        by_class = {c: settled[settled["class"] == c] for c in ("always", "sometimes", "never", "undecided")}
        lines.append(
            "- **Convergence**: "
            + "; ".join(f"{c} {len(rows)}" for c, rows in by_class.items() if len(rows))
            + " pairings"
            + (f"; {len(contested)} more whose class the two seed sets do not agree on (listed)" if contested else "")
            + "."
        )
        shown = ("always", "sometimes", "never", "undecided") if "trials" in rates else ("sometimes", "undecided")
        for _, r in rates.iterrows():
            if r["class"] in shown or r["pairing"] in contested:
                text = f"{r['pairing']}: {r['class']} ({r['converged']} converged, mean test Dice {r['dice_all']:.3f})"
                if r["n"] == 0 and r["invalid_reason"]:
                    text = f"{r['pairing']}: cannot run in any seed - {r['invalid_reason'].split(': ', 1)[-1]}"
                lines.append(f"  - {checked('class of ' + r['pairing'], text, r['class'] != 'undecided')}")
        if "trials" not in rates:
            top = "; ".join(f"{r['pairing']} {r['dice_all']:.3f} ({r['dice_ci']})" for _, r in rates.head(3).iterrows())
            lines.append(
                f"- **Top three** by mean test foreground Dice (95 % CI): {checked('top-3 set (mean test Dice)', top)}."
            )
    titles = {
        "optimizer": "Optimizer",
        "ranking": "Best vs runner-up",
        "binary": "Binary vs categorical CE",
        "weighting": "Class weighting",
        "fixes": "What fixes thread 2's net",
    }
    seen = set()
    for section, title in titles.items():
        mine = []
        for claim in (c for c in found if c.section == section):
            pair = (claim.kind, claim.label_a, claim.label_b)
            same_counts = (
                claim.kind == "rate" and claim.counts[0] * claim.counts[3] == claim.counts[2] * claim.counts[1]
            )
            if pair in seen or same_counts:  # a repeated comparison, or equal rates: nothing to say
                continue
            seen.add(pair)
            mine.append(checked(claim.key, claim.sentence, claim.decided))
        if len(mine) == 1:
            lines.append(f"- **{title}**: {mine[0]}.")
        elif mine:
            lines += [f"- **{title}**:", *[f"  - {m}." for m in mine]]
    lines += [f"- {line.removeprefix('- ')}" for line in budget_lines if line.startswith("- ")]
    lines += [f"- {line.removeprefix('- ')}" for line in extra if line]
    return "\n".join(lines) + "\n"


def check_sections(sections) -> list[str]:
    """The report sections an experiment asks for (``sweep.report_sections``), checked against `SECTION_NAMES`."""
    chosen = list(sections if sections is not None else DEFAULT_SECTIONS)
    unknown = [s for s in chosen if s not in SECTION_NAMES]
    if unknown:
        raise UserError(f"sweep.report_sections: no section {unknown[0]!r} - choose from {', '.join(SECTION_NAMES)}")
    return chosen


def write(info, background_share: float | None = None, class_names=None, num_classes: int = 4, sections=None) -> Path:
    """Build every report file for the study ``info`` describes and log them to the parent run.

    ``sections`` (``sweep.report_sections``, default `DEFAULT_SECTIONS`) says which parts summary.md has.
    """
    from lossbench.analysis import budget, claims
    from lossbench.sweep import work as queue
    from lossbench.sweep.study import DATA_LABELS

    sections = check_sections(sections)

    folder = Path(info.folder)
    folder.mkdir(parents=True, exist_ok=True)
    trials, curves = trials_table(info)
    if trials.empty:
        print("report: no finished trial yet")
        return folder
    trials.drop(columns=[c for c in trials if c.startswith("seconds/") or c == "subject_dice"]).to_csv(
        folder / "trials.csv", index=False
    )
    study = queue.load(info)
    attrs = study.user_attrs
    background_share = background_share if background_share is not None else attrs.get("test_background_share", 0.95)
    class_names = class_names or attrs.get("class_names", ["background", "rv", "myocardium", "lv"])
    num_classes = len(class_names)
    background = attrs.get("background", 0)
    words = functools.partial(wording.for_data, background=background, commonest=attrs.get("commonest_class", ""))
    ran = trials[trials["state"].isin(["complete", "pruned"])]
    rates = claims.rates(trials.fillna({c: "-" for c in evidence.GROUP if c in trials}))
    cap = int(attrs.get("max_seeds", 0) or 0)
    found = claims.claims_for(trials, cap, attrs.get("baseline"))
    all_bg = evidence.all_background_accuracy(background_share, num_classes)
    plots = [
        heatmap(ran, folder / "heatmap.png", words) if not ran.empty and "loss" in ran else None,
        curves_by_verdict(ran, curves, folder / "learning_curves.png") if not ran.empty else None,
        accuracy_vs_dice(ran, all_bg, folder / "accuracy_vs_dice.png", words) if not ran.empty else None,
        per_class_weighting(ran, class_names, folder / "per_class_dice.png", background) if not ran.empty else None,
        clipping_curves(ran, curves, folder / "clipping.png") if "activation" in ran else None,
    ]
    wall = attrs.get("wall_seconds")
    command = attrs.get("command") or f"python -m lossbench.sweep +experiment={info.name}"
    report_command = command.replace("lossbench.sweep", "lossbench.report", 1)
    machine = attrs.get("machine") or {}
    seeds = sorted({int(s) for s in trials["seed"].dropna()})
    lines = [
        f"# lossbench results: `{info.name}`",
        "",
        *evidence.recommendation(rates, found, trials, _repro(folder)),
        "",
        "## How this was run",
        "",
        f"- command: `{command}`",
        f"- report: `{report_command}` (regenerates this file)",
        f"- study `{info.study_name}`: {len(trials)} trials over seeds {seeds}; "
        + ", ".join(f"{v} {k}" for k, v in trials["state"].value_counts().items()),
        f"- wall time: {wall / 60:.1f} min over the sweep runs that did work (resumes added, overlaps once), "
        f"{attrs.get('n_workers', '?')} worker(s)"
        if wall
        else "- wall time: not recorded",
        f"- machine: {machine.get('cpu', platform.machine())} ({machine.get('cpu_count', os.cpu_count())} "
        f"cores, ISA {machine.get('isa', '?')}), oneDNN {machine.get('onednn', '?')}, TensorFlow threads per worker "
        f"{attrs.get('threads_per_worker', '?')}, op determinism {machine.get('op_determinism', '?')}; "
        f"Python {platform.python_version()}",
        "",
        "**How to read this.** " + claims.RULE,
        "",
    ]
    if "rates" in sections:
        lines += [
            "## Convergence rate and Dice per pairing",
            "",
            "k of n seeds converged (every foreground class learnt, loss below the prior level) with its "
            "95 % Clopper-Pearson interval; mean test foreground Dice over all seeds (interval: hierarchical "
            "bootstrap, seeds then test subjects) and over the converged seeds only. Pairings that trained "
            f"identically are one row (`≡`): the same seeds, and per seed a test Dice and a validation-loss "
            f"curve within {MERGE_TOL:g} of each other.",
            "",
            _rates_table(merge_identical(rates, trials, curves)),
            "",
        ]
    if "verdicts" in sections:
        lines += [
            "## Verdicts",
            "",
            _table(
                trials["verdict"].replace("", "failed").value_counts().rename_axis("verdict").reset_index(name="trials")
            ),
            "",
        ]
    found = [c for c in found if c.section in sections]
    for section, title in SECTIONS.items():
        mine = [c for c in found if c.section == section]
        if mine:
            intro = evidence.baseline_sentence(trials, attrs["baseline"]) if section == "fixes" else ""
            lines += [f"## {title}", "", *([intro, ""] if intro else []), *[f"- {c.sentence}." for c in mine], ""]
    if "top3" in sections and not rates.empty and "trials" not in rates:
        lines += [
            "## Top three",
            "",
            "By mean test foreground Dice over all seeds: "
            + "; ".join(
                f"{r['pairing']} ({r['dice_all']:.3f}, {r['converged']} converged)" for _, r in rates.head(3).iterrows()
            )
            + ". The order inside it is a claim only where the ranking section above decides it.",
            "",
        ]
    check = budget.sentences(info) if "budget" in sections else []
    if check:
        lines += ["## The budget: do never-converging pairings learn with more epochs?", "", *check, ""]
    if "thread1" in sections and "trials" in trials:
        lines += ["## Thread 1's questions", "", *evidence.thread1_sentences(trials), ""]
    if "why_binary" in sections and {"binary_crossentropy", "categorical_crossentropy"} <= set(trials["loss"].dropna()):
        plain = trials[~trials["trials"].astype(str).str.contains("mismatch")] if "trials" in trials else trials
        lines += [
            "## Why binary CE looked better",
            "",
            *[
                s + "\n"
                for s in evidence.why_binary_looked_better(
                    plain, background_share, num_classes, [c for c in found if c.section == "binary"]
                )
            ],
        ]
    if "plots" in sections:
        lines += ["## Plots", ""]
        for p in plots:
            if p is not None and p.exists():
                lines += [f"![{p.stem}]({p.name})", "", f"*{CAPTIONS.get(p.stem, p.stem)}*", ""]
    (folder / "summary.md").write_text(words(humanise("\n".join(lines) + "\n")))
    data = attrs.get("data_label") or DATA_LABELS.get(str(trials.get("data", pd.Series(["data"])).iloc[0]), "the data")
    extra = [evidence.baseline_sentence(trials, attrs["baseline"])] if attrs.get("baseline") else []
    if "thread1" in sections and "trials" in trials:
        extra += evidence.thread1_sentences(trials)
    (folder / "findings.md").write_text(
        words(humanise(findings(info.name, data, rates, found, _repro(folder), check, extra)))
    )
    n_runs = int(trials["state"].isin(["complete", "pruned", "invalid", "failed"]).sum())
    note = "\n\n".join(
        [
            words("\n".join(evidence.recommendation(rates, found, trials, _repro(folder)))),
            f"{n_runs} trial runs in {len(rates)} pairing groups (view 'lossbench': grouped by pairing, means over "
            f"seeds; view 'lossbench-choices': every run). MLflow's table loads 100 runs at a time: scroll to "
            f"its bottom and press 'Load more' until it shows all {n_runs}; a group's mean and run count cover "
            f"the loaded runs only. Full report: the artifact report/summary.md, or results/{info.name}/summary.md.",
        ]
    )
    _log_to_parent(info, folder, note)
    print(f"report written to {folder}/summary.md")
    return folder


def _log_to_parent(info, folder: Path, note: str = "") -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(info.tracking_uri)
    if note:  # the parent's description in the UI: the recommendation and how to see every run
        client.set_tag(info.parent_run_id, "mlflow.note.content", note)
    for name in (
        "summary.md",
        "trials.csv",
        "heatmap.png",
        "learning_curves.png",
        "accuracy_vs_dice.png",
        "per_class_dice.png",
        "clipping.png",
    ):
        if (folder / name).exists():
            client.log_artifact(info.parent_run_id, str(folder / name), artifact_path="report")
