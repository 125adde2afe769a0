"""results/transfer.md as a list of sections, each a function of the `Compared` studies returning its lines.

`compare` loads the three studies and computes what every section reads (the rates, the rank
correlations, the conclusions re-tested on real hearts); `SECTIONS` lists the sections in the
order transfer.md shows them; `findings_lines` is the README's short block
(``results/transfer-findings.md``) and `scatter` the figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lossbench.analysis import claims, data_stats, reproduce, transfer_tables
from lossbench.analysis.markdown import table
from lossbench.analysis.transfer_tables import (
    COMMAND,
    LONG,
    NAMES,
    PAIRING,
    conclusion_rows,
    pairing_rows,
    rank_correlation,
    retest,
    weighting_rows,
)
from lossbench.errors import UserError


@dataclass
class Compared:
    """The three studies and what transfer.md says about them, computed once."""

    results: Path
    roles: dict  # role -> experiment name
    stats_size: int
    loaded: dict  # role -> (trials expanded, trials as run, study info), `transfer_tables.load_role`
    tables: dict  # role -> `claims.rates`
    rows: pd.DataFrame  # `pairing_rows`: one row per training of the real run
    rhos: dict  # side -> Spearman (rho, lo, hi) over every training
    rhos_learnt: dict  # side -> the same over the trainings that always converge on real hearts
    learnt: pd.DataFrame  # the rows of those trainings
    real_alone: tuple  # the real ranking against itself, redrawn
    conc: pd.DataFrame  # `conclusion_rows`

    @property
    def sides(self) -> list[str]:
        return [side for side in self.roles if side != "real"]


def compare(results: Path, roles: dict, stats_size: int = 64) -> Compared:
    """Load the studies ``roles`` names from ``results`` and compute the rates, correlations and conclusions."""
    loaded = {role: transfer_tables.load_role(name, str(results)) for role, name in roles.items()}
    real, real_unique, real_info = loaded["real"]
    tables = {role: claims.rates(frame) for role, (frame, _, _) in loaded.items()}
    rows = pairing_rows(real, tables)
    rhos = {side: rank_correlation(rows, loaded[side][0], real) for side in roles if side != "real"}
    learnt = rows[rows["real class"].str.startswith("always")]
    rhos_learnt = {side: rank_correlation(learnt, loaded[side][0], real) for side in roles if side != "real"}
    real_alone = rank_correlation(learnt, real, real)  # the real ranking against itself, redrawn: how settled is it?
    phantom, _, phantom_info = loaded["phantom"]
    found = claims.claims_for(phantom, phantom_info["cap"])
    again = retest(found, real_unique, real, real_info["cap"])
    repro = reproduce.read(results / roles["phantom"])
    conc = conclusion_rows(found, again, tables["phantom"], tables["real"], rows, repro)
    return Compared(results, roles, stats_size, loaded, tables, rows, rhos, rhos_learnt, learnt, real_alone, conc)


def header(c: Compared) -> list[str]:
    """The title, the command, the studies, what the real hearts are and how merged pairings read, the rule."""
    return [
        "# Does the phantom's answer hold on real hearts?",
        "",
        f"- command: `{COMMAND}` (after `python -m lossbench.sweep +experiment=X` for X in "
        + ", ".join(c.roles.values())
        + "; regenerates this file)",
        "- studies: " + "; ".join(f"{role}: `{info['study_name']}`" for role, (_, _, info) in c.loaded.items()),
        "- real hearts: 50 ACDC patients, ED and ES frames, fixed split 35 train / 5 val / 10 test, "
        "stratified by ACDC's pathology blocks (`conf/experiment/acdc50.yaml`)",
        "- merged pairings: a real training stands for the pairings that train identically to it "
        "(`stands_for` in `sweeps/acdc50.yaml`); their rows below read its trials. The training is the same; "
        "the predictions of a merged +sigmoid pairing are taken from its +softmax representative, so the "
        "arg-max ties of saturated float32 sigmoids (results/cmr/summary.md, (d)) are not reproduced for it",
        "",
        "**How to read this.** " + claims.RULE,
        "",
    ]


def rank_section(c: Compared) -> list[str]:
    """Spearman's rank correlation of each phantom with real hearts, and why the failing trainings carry it."""
    rows, learnt, real_alone = c.rows, c.learnt, c.real_alone
    lines = [
        "## Rank correlation",
        "",
        "Spearman's rank correlation of the mean test foreground Dice of the "
        f"{len(rows)} real trainings, phantom against real hearts. Interval: 2000 bootstrap "
        "replicates, each redrawing seeds and then test subjects of every pairing on both sides.",
        "",
    ]
    for side, (rho, lo, hi) in c.rhos.items():
        rho2, lo2, hi2 = c.rhos_learnt[side]
        lines.append(
            f"- **{NAMES[side]}** (`{c.roles[side]}`) vs real hearts: all {len(rows)} trainings **{rho:.2f}** "
            f"(95 % CI {lo:.2f} to {hi:.2f}); the {len(learnt)} that always converge on real hearts "
            f"{rho2:.2f} ({lo2:.2f} to {hi2:.2f})"
        )
    failing = rows[~rows["real class"].str.startswith("always")]
    also = {side: int((~failing[f"{side} class"].str.startswith("always")).sum()) for side in c.sides}
    return lines + [
        "",
        f"The {len(failing)} trainings that do not always converge on real hearts ("
        + "; ".join(failing["pairing"])
        + ") do not always converge on the phantoms either in "
        + " and ".join(f"{n} of {len(failing)} cases ({NAMES[side]})" for side, n in also.items())
        + "; they sit at the bottom of both rankings and carry most of the correlation. Among the "
        f"{len(learnt)} that learn, the real ranking is not settled itself: the rank correlation of two "
        f"independent bootstrap redraws of the real run ranges from {real_alone[1]:.2f} to {real_alone[2]:.2f} "
        "(95 %), so no phantom can be held to an order there that real hearts do not decide.",
        "",
        "![transfer](transfer.png)",
        "",
    ]


def pairing_section(c: Compared) -> list[str]:
    """Per training of the real run: its class and Dice on every dataset."""
    return [
        "## Per pairing",
        "",
        "Class: *always* / *sometimes* / *never* converged (k/n seeds); Dice: mean test foreground "
        "Dice over all seeds with its 95 % interval (seeds, then subjects).",
        "",
        table(c.rows.drop(columns=PAIRING)),
        "",
    ]


def conclusions_section(c: Compared) -> list[str]:
    """Every phantom conclusion re-tested on real hearts, with the tally of outcomes."""
    counts = c.conc["on real hearts"].str.replace(r" \(.*", "", regex=True).value_counts()
    return [
        "## Every phantom conclusion, on real hearts",
        "",
        "The phantom's claims (`results/cmr/summary.md`) recomputed on the real run with the same two "
        "sides; *stated in the README*: the conclusion is in the README's phantom findings as decided "
        "(both seed sets decided it, the same way). Tally: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".",
        "",
        table(c.conc),
        "",
    ]


def budget_frames(c: Compared) -> dict:
    """The trials of each phantom at its budget and at 3x it (where that study ran), and of real hearts."""
    long = {}
    for side, name in LONG.items():
        try:
            long[side] = transfer_tables.load_role(name, str(c.results))
        except UserError:
            print(f"transfer: no {name} study - the budget columns of the weighting table are left out")
    frames = {}
    for side in ("phantom", "calibrated"):
        for frame, info in (
            (c.loaded[side][0], c.loaded[side][2]),
            (long.get(side, (None,) * 3)[0], long.get(side, (None,) * 3)[2]),
        ):
            if frame is not None:
                frames[f"{NAMES[side]}, {info['epochs']} epochs ({info['steps']:,} steps)"] = frame
    real, _, real_info = c.loaded["real"]
    frames[f"{NAMES['real']}, {real_info['epochs']} epochs ({real_info['steps']:,} steps)"] = real
    return frames


def weighting_section(c: Compared) -> list[str]:
    """Median-frequency weighting minus none, per loss, on each dataset and budget."""
    return [
        "## Why class weighting helps on the phantom and not on real hearts",
        "",
        "Paired difference in test foreground Dice, median-frequency weighting minus none, same seeds "
        "(hierarchical bootstrap, 95 % CI). The phantoms at the cmr budget and at 3x it "
        "(`+experiment=cmr_long`, `+experiment=cmr_realistic_long`: the same six trainings, 24 epochs), "
        "real hearts at the acdc50 budget.",
        "",
        table(weighting_rows(budget_frames(c))),
        "",
    ]


def data_section(c: Compared) -> list[str]:
    """The image statistics of each dataset's training slices (`data_stats`)."""
    roles, size = c.roles, c.stats_size
    stats_table = data_stats.data_table(
        {"phantom": roles["phantom"], "calibrated": roles["calibrated"], "real": roles["real"]}, size
    )
    return [
        "## What separates the phantom from real hearts",
        "",
        f"Training slices of each dataset at {size} x {size}: class shares, slices where a "
        "class is absent (apex, base), the blood-to-myocardium intensity ratio, the share of background "
        "pixels brighter than the darkest quarter of the blood (what a net can mistake for a ventricle), "
        "and the share of myocardium pixels on a class edge (thin walls are all edge).",
        "",
        table(stats_table.rename_axis("statistic").reset_index()),
        "",
    ]


SECTIONS = [header, rank_section, pairing_section, conclusions_section, weighting_section, data_section]


def findings_lines(c: Compared) -> list[str]:
    """The README's block (``results/transfer-findings.md``): the correlations and each stated conclusion."""
    conc, roles = c.conc, c.roles
    stated = conc[conc["stated in the README"] == "yes"]
    short = [
        f"On 50 real ACDC patients (`{roles['real']}`; [results/transfer.md](transfer.md)): "
        f"the phantom's ranking of the {len(c.rows)} trainings correlates with the real one at Spearman "
        + "; ".join(
            f"{rho:.2f} (95 % CI {lo:.2f} to {hi:.2f}) for the {NAMES[side]}" for side, (rho, lo, hi) in c.rhos.items()
        )
        + f"; among the {len(c.learnt)} that always converge on real hearts, "
        + "; ".join(
            f"{rho:.2f} ({lo:.2f} to {hi:.2f}) for the {NAMES[side]}" for side, (rho, lo, hi) in c.rhos_learnt.items()
        )
        + ". The phantom conclusions stated in the README, re-tested on real hearts:",
        "",
    ]
    claimed = stated[~stated["conclusion"].str.startswith("class of ") & ~stated["phantom"].str.startswith("undecided")]
    for _, r in claimed.iterrows():
        short.append(
            f"- {r['conclusion']}: **{r['on real hearts']}** (phantom {r['phantom']}; real hearts {r['real hearts']})"
        )
    classes = conc[conc["conclusion"].str.startswith("class of ")]["on real hearts"].str.replace(
        r" \(.*", "", regex=True
    )
    short.append(
        f"- Convergence classes of the {len(classes)} phantom pairings the real run covers: "
        + ", ".join(f"{k} {v}" for k, v in classes.value_counts().items())
        + "."
    )
    return short


def near(xs, ys, within: float = 0.035) -> dict[tuple[float, float], list[int]]:
    """Points closer than ``within`` (in Dice) gathered under the first one's position: their numbers share
    one label instead of printing over each other.

    >>> near([0.1, 0.11, 0.8], [0.2, 0.2, 0.9])
    {(0.1, 0.2): [0, 1], (0.8, 0.9): [2]}
    """
    groups: dict[tuple[float, float], list[int]] = {}
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        home = next((k for k in groups if abs(k[0] - x) < within and abs(k[1] - y) < within), (float(x), float(y)))
        groups.setdefault(home, []).append(i)
    return groups


def scatter(rows: pd.DataFrame, rhos: dict, path: Path) -> Path:
    """Mean test Dice per training: phantom (x) vs real hearts (y), before and after calibration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lossbench.analysis.wording import humanise

    rows = rows.reset_index(drop=True)
    colours = plt.get_cmap("tab20").colors  # 20 distinct colours: a 13-training check repeats none
    sides = [r for r in ("phantom", "calibrated") if f"{r} Dice" in rows]
    fig, axes = plt.subplots(1, len(sides), figsize=(5.6 * len(sides), 5.2), squeeze=False)
    for ax, side in zip(axes[0], sides, strict=True):
        for i, r in rows.iterrows():
            ax.scatter(r[f"{side} Dice"], r["real Dice"], s=34, color=colours[i % len(colours)], zorder=3)
        for (x, y), numbers in near(rows[f"{side} Dice"], rows["real Dice"]).items():  # one label a cluster
            ax.annotate(
                ",".join(str(i + 1) for i in numbers), (x, y), fontsize=9, xytext=(4, 4), textcoords="offset points"
            )
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        rho, lo, hi = rhos[side]
        ax.set(
            xlim=(-0.02, 1),
            ylim=(-0.02, 1),
            xlabel=f"{NAMES[side]}: mean test foreground Dice",
            ylabel="50 ACDC patients: mean test foreground Dice",
            title=f"{NAMES[side]}: Spearman {rho:.2f} (95 % CI {lo:.2f} to {hi:.2f})",
        )
    legend = "\n".join(f"{i + 1}: {humanise(str(p))}" for i, p in enumerate(rows["pairing"]))
    fig.text(0.01, -0.01, legend, fontsize=9, va="top", family="monospace")
    fig.tight_layout()
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path
