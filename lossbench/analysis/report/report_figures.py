"""The report's figures: one PNG each, drawn from the trials table and the curves (`gather`).

`draw` draws every figure a report has and returns their paths (None where a figure has nothing
to show); `CAPTIONS` says under each what it shows.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from lossbench.analysis import claims, evidence

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lossbench.registry import option_word  # noqa: E402
from lossbench.runtime import replaced
from lossbench.trial.plots import VERDICT_COLOURS, palette  # noqa: E402

# the loss levels a curve is read against, in colours no verdict uses (`VERDICT_COLOURS`)
LEVEL_COLOURS = {"chance_loss": "tab:pink", "prior_loss": "tab:cyan"}


def reference_lines(ax, rows: pd.DataFrame) -> None:
    """The chance and prior loss levels of each weighting in ``rows``, named at their right end: a weighted
    loss has levels of its own, so one median over the weightings would match none of them."""
    groups = rows.groupby("class_weighting") if "class_weighting" in rows else [("", rows)]
    for weighting, some in groups:
        for level, style in (("chance_loss", ":"), ("prior_loss", "--")):
            if some[level].notna().any():
                value = some[level].median()
                ax.axhline(value, color=LEVEL_COLOURS[level], ls=style, lw=1.2)
                word = option_word("class_weighting", weighting) if weighting else ""
                ax.annotate(word, (1, value), xycoords=("axes fraction", "data"), fontsize=5, ha="right",
                            va="bottom", color=LEVEL_COLOURS[level])  # fmt: skip


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
    for p, (ax, (key, rows)) in enumerate(zip(axes[0], panels, strict=True)):
        grid = rows.pivot_table(index="loss", columns="activation", values="test/foreground_dice", aggfunc="mean")
        grid = grid.reindex(index=losses, columns=activations)  # every panel has the same rows
        ran = rows[rows["state"].isin(["complete", "pruned"])]
        ran = ran.assign(ok=(ran["verdict"] == "converged").astype(float))
        k = ran.pivot_table(index="loss", columns="activation", values="ok", aggfunc="sum")
        n = ran.pivot_table(index="loss", columns="activation", values="ok", aggfunc="count")
        k, n = (t.reindex(index=losses, columns=activations) for t in (k, n))
        image = ax.imshow(grid.to_numpy(float), vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(
            range(len(grid.columns)),
            [option_word("activation", x) for x in grid.columns],
            rotation=30,
            ha="right",
            fontsize=7,
        )
        ax.set_yticks(
            range(len(grid.index)), [option_word("loss", x) for x in grid.index] if p == 0 else [], fontsize=7
        )
        ax.set_xlabel("last-layer activation", fontsize=7)
        if p == 0:
            ax.set_ylabel("loss", fontsize=7)
        for (i, j), v in np.ndenumerate(grid.to_numpy(float)):
            runs = "" if np.isnan(n.iat[i, j]) else f"\n{int(k.iat[i, j])}/{int(n.iat[i, j])}"
            ax.text(
                j,
                i,
                "–" if np.isnan(v) else f"{v:.2f}{runs}",  # a dash fits any cell: no overprint
                ha="center",
                va="center",
                fontsize=6,
                color="grey" if np.isnan(v) else "black" if v >= 0.5 else "white",
            )
        ax.set_title(panel_title(keys, key), fontsize=8)
    fig.colorbar(
        image, ax=axes[0].tolist(), shrink=0.8, label=words("mean test foreground Dice (k/n: seeds converged)")
    )
    with replaced(path) as tmp:  # all or nothing: a killed report leaves no torn PNG
        fig.savefig(tmp, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


def panel_title(keys: list[str], key) -> str:
    """A heat-map panel's weighting and optimizer in words (`lossbench.registry.option_word`)."""
    values = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
    return " · ".join(
        [
            option_word("class_weighting", values["class_weighting"]),
            option_word("optimizer", values["optimizer"], values.get("learning_rate")),
        ]
    )


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
        reference_lines(ax, rows)
        ax.set(title=option_word("loss", loss), xlabel="epoch", ylabel="validation loss")
        ax.title.set_fontsize(8)
    handles = [plt.Line2D([], [], color=c, label=v) for v, c in VERDICT_COLOURS.items()]
    handles += [
        plt.Line2D([], [], color=LEVEL_COLOURS["chance_loss"], ls=":", label="chance level (one per weighting)"),
        plt.Line2D([], [], color=LEVEL_COLOURS["prior_loss"], ls="--", label="prior level (one per weighting)"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=8, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.08 / nrows, 1, 1))
    with replaced(path) as tmp:  # all or nothing: a killed report leaves no torn PNG
        fig.savefig(tmp, dpi=90, bbox_inches="tight")  # a legend wider than few panels is not cut
    plt.close(fig)
    return path


def clip_title(loss: str, optimizer=None, rate=None) -> str:
    """A clipping panel's title in words.

    >>> clip_title("sparse_categorical_crossentropy", "sgd_thread2", 1e-4)
    'sparse CE · SGD 1e-4 (thread 2)'
    """
    return option_word("loss", loss) + (f" · {option_word('optimizer', optimizer, rate)}" if optimizer else "")


def clipping_curves(trials: pd.DataFrame, curves: dict, path: Path) -> Path | None:
    """Share of pixels at Keras's clip per epoch, for the losses that read probabilities, by verdict.

    One panel per loss x optimizer and rate; the mechanism behind "stalled" is measured, not inferred.
    """
    rows = trials[trials["activation"].isin(evidence.PROBABILITIES)]
    if rows.empty or not any(curves.get(t, {}).get("val/clipped_share") for t in rows["trial"]):
        return None
    cols = [c for c in ("optimizer", "learning_rate") if c in rows]
    settings = sorted(set(rows[cols].astype(str).itertuples(index=False, name=None)))
    losses = sorted(rows["loss"].unique())
    fig, axes = plt.subplots(
        len(settings), len(losses), figsize=(max(8.0, 3.8 * len(losses)), 2.8 * len(settings)), squeeze=False
    )
    for i, setting in enumerate(settings):
        said = dict(zip(cols, setting, strict=True))
        for j, loss in enumerate(losses):
            ax = axes[i][j]
            mine = rows[(rows["loss"] == loss) & (rows[cols].astype(str).apply(tuple, axis=1) == setting)]
            for _, row in mine.iterrows():
                values = curves.get(row["trial"], {}).get("val/clipped_share", [])
                ax.plot(
                    range(1, len(values) + 1),
                    values,
                    color=VERDICT_COLOURS.get(row["verdict"], "gray"),
                    alpha=0.7,
                    lw=1.2,
                )
            rate = said.get("learning_rate", "nan")
            ax.set(
                title=clip_title(loss, said.get("optimizer"), None if rate == "nan" else float(rate)),
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
    groups = list(trials.groupby("loss"))
    colours = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20").colors  # no two losses share a colour
    for i, (loss, rows) in enumerate(groups):
        ax.scatter(
            rows["test/foreground_dice"],
            rows["test/reported_accuracy"],
            s=18,
            color=colours[i % len(colours)],
            label=option_word("loss", loss),
            marker="s" if "binary" in loss else "x" if "sparse" in loss else "o",  # sparse CE over CE: both seen
            alpha=0.75,
        )
    for kind, style in (("binary", "--"), ("categorical", ":")):  # black: no loss's marker colour
        ax.axhline(
            all_background[kind],
            color="black",
            ls=style,
            lw=1,
            label=words(f"all-background, {kind} accuracy {all_background[kind]:.3f}"),
        )
    ax.set(xlabel=words("test foreground Dice (what was learnt)"), ylabel="reported accuracy (what Keras 2 showed)")
    ax.legend(fontsize=7, **({"loc": "upper left", "bbox_to_anchor": (1.01, 1)} if len(groups) > 6 else {}))  # no cover
    fig.tight_layout()
    with replaced(path) as tmp:  # all or nothing: a killed report leaves no torn PNG
        fig.savefig(tmp, dpi=90, bbox_inches="tight")  # a legend wider than few panels is not cut
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
        trials, label = trials[trials["optimizer"] == best], f"the {option_word('optimizer', best)} trials"
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
            color=colours[class_names.index(name)],  # the same colour as in every overlay
        )
    words = [f"{option_word('loss', loss)} · {option_word('class_weighting', w)}" for loss, w in means.index]
    ax.set_yticks(y, words, fontsize=7)
    ax.set(xlabel=f"mean test Dice per class over {label} (every seed and verdict)", xlim=(0, 1))
    ax.set_title("Per-class test Dice by loss and class weighting", fontsize=9)
    ax.legend(
        fontsize=7, title="class", title_fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )  # not over bars
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    with replaced(path) as tmp:  # all or nothing: a killed report leaves no torn PNG
        fig.savefig(tmp, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


CAPTIONS = {
    "heatmap": "Mean test foreground Dice per loss (rows) and activation (columns), one panel per class weighting "
    "and optimizer; '–' marks pairings that were not trained (invalid or not in the grid).",
    "learning_curves": "Validation loss per epoch of every trial, one panel per loss, coloured by verdict; dotted "
    "lines: the chance level (a uniform guess) and the prior level (the class shares everywhere).",
    "accuracy_vs_dice": "What each trial's accuracy reported (binary accuracy for binary CE, as Keras 2 did) against "
    "its test foreground Dice: high accuracy with no Dice is the all-background net.",
    "per_class_dice": "Test Dice per foreground class for each loss and class weighting, averaged over the trials of "
    "the optimizer that converges most often (every seed and verdict included).",
    "clipping": "Share of pixels whose probability is clipped to [eps, 1 - eps] in the loss, per epoch: a stalled "
    "net on probabilities sits at the clip.",
}


def draw(facts) -> list[Path | None]:
    """Every figure of the report into ``facts.folder``, in the order summary.md shows them."""
    ran, folder, words = facts.ran, facts.folder, facts.words
    all_bg = evidence.all_background_accuracy(facts.background_share, len(facts.class_names))
    background = facts.attrs.get("background", 0)
    return [
        heatmap(ran, folder / "heatmap.png", words) if not ran.empty and "loss" in ran else None,
        curves_by_verdict(ran, facts.curves, folder / "learning_curves.png") if not ran.empty else None,
        accuracy_vs_dice(ran, all_bg, folder / "accuracy_vs_dice.png", words) if not ran.empty else None,
        per_class_weighting(ran, facts.class_names, folder / "per_class_dice.png", background)
        if not ran.empty
        else None,
        clipping_curves(ran, facts.curves, folder / "clipping.png") if "activation" in ran else None,
    ]
