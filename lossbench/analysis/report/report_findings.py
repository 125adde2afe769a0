"""findings.md: the few sentences a newcomer reads first (the README quotes them verbatim).

`findings` lists, in this order: the decided claims in one line each, the convergence classes,
the top three, each claim section's sentences, the budget check and any extra lines (thread 2's
exact setting, thread 1's questions). A decided claim stands only where the two disjoint seed sets
of `lossbench.analysis.reproduce` both confirm it (`checked`): the same verdict on any machine.
"""

from __future__ import annotations

import pandas as pd

from lossbench.analysis import evidence
from lossbench.analysis.reproduce import DEFAULT_SPANS, confirmed

DIRECTIONS = {
    ("dice", "higher"): "reaches a higher test Dice than",
    ("dice", "lower"): "reaches a lower test Dice than",
    ("rate", "higher"): "converges more often than",
    ("rate", "lower"): "converges less often than",
}
TITLES = {
    "optimizer": "Optimizer",
    "ranking": "Best vs runner-up",
    "binary": "Binary vs categorical CE",
    "weighting": "Class weighting",
    "fixes": "What fixes thread 2's net",
}
CLASSES = ("always", "sometimes", "never", "undecided")


def checked(repro: dict, key: str, sentence: str, decided: bool = True, claim: bool = True) -> str:
    """``sentence`` with the two seed sets' verdicts. A decided sentence stands only where both seed sets
    confirm it (`confirmed`); otherwise it reads undecided, with this run's figures. Without seed sets
    (``repro`` empty) a decided claim (``claim``: not a pairing's class) says it rests on one seed set."""
    row = repro.get(key)
    a, b = getattr(repro, "spans", DEFAULT_SPANS)
    verdicts = "" if row is None else f" [seed sets {a} / {b}: {row['seeds A']} / {row['seeds B']}]"
    if not decided:
        return sentence + verdicts
    if not repro:
        return f"{sentence} [one seed set]" if claim else sentence
    if row is None:
        return f"**undecided**: the seed sets did not test this comparison; this run alone: {sentence}"
    if confirmed(row):
        return sentence + verdicts
    why = (
        "neither seed set decides it"
        if row["agree"] == "yes"
        else f"the two seed sets do not agree ({row['seeds A']} with seeds {a}, {row['seeds B']} with seeds {b})"
    )
    return f"**undecided**: {why}; this run alone: {sentence}"


def one_line_each(found: list, repro: dict) -> list[str]:
    """The decided claims in one line each: those both seed sets confirm, or, without seed sets, all
    decided ones, marked as resting on one seed set."""
    sure = [
        f"{c.label_a} {DIRECTIONS[(c.kind, c.direction)]} {c.label_b}"
        for c in found
        if c.decided and (not repro or confirmed(repro.get(c.key)))
    ]
    if not sure:
        return []
    return [
        "**In one line each"
        + (
            " (each confirmed by both seed sets; their verdicts are in brackets below)"
            if repro
            else " (one seed set: no second seed set has checked these yet)"
        )
        + ":** "
        + "; ".join(dict.fromkeys(sure))
        + ". The rest, with figures:",
        "",
    ]


def convergence_lines(rates: pd.DataFrame, repro: dict) -> list[str]:
    """How many pairings fall in each class, the pairings worth naming, and the top three (grid studies)."""
    if rates.empty:
        return []
    contested = {
        r["pairing"]
        for _, r in rates.iterrows()
        if repro.get("class of " + r["pairing"], {}).get("agree", "yes") != "yes"
    }
    settled = rates[~rates["pairing"].isin(contested)]
    by_class = {c: settled[settled["class"] == c] for c in CLASSES}
    lines = [
        "- **Convergence**: "
        + "; ".join(f"{c} {len(rows)}" for c, rows in by_class.items() if len(rows))
        + " pairings"
        + (f"; {len(contested)} more whose class the two seed sets do not agree on (listed)" if contested else "")
        + "."
    ]
    shown = CLASSES if "trials" in rates else ("sometimes", "undecided")
    for _, r in rates.iterrows():
        if r["class"] in shown or r["pairing"] in contested:
            text = f"{r['pairing']}: {r['class']} ({r['converged']} converged, mean test Dice {r['dice_all']:.3f})"
            if r["n"] == 0 and r["invalid_reason"]:
                text = f"{r['pairing']}: cannot run in any seed - {r['invalid_reason'].split(': ', 1)[-1]}"
            lines.append(
                f"  - {checked(repro, 'class of ' + r['pairing'], text, r['class'] != 'undecided', claim=False)}"
            )
    if "trials" not in rates:
        top = "; ".join(f"{r['pairing']} {r['dice_all']:.3f} ({r['dice_ci']})" for _, r in rates.head(3).iterrows())
        lines.append(
            f"- **Top three** by mean test foreground Dice (95 % CI): {checked(repro, 'top-3 set (mean test Dice)', top, claim=False)}."
        )
    return lines


def _sure(rates: pd.DataFrame, repro: dict, kind: str) -> pd.DataFrame:
    """The pairings of class ``kind`` in this run that both seed sets put in that class too (without seed
    sets: every pairing of that class)."""

    def sure(r) -> bool:
        row = repro.get("class of " + r["pairing"])
        return not repro or (confirmed(row) and str(row["seeds A"]) == kind)

    mine = rates[rates["class"] == kind]
    return mine[[sure(r) for _, r in mine.iterrows()]]


def _grouped(rows: pd.DataFrame, rates: pd.DataFrame) -> list[str]:
    """``rows`` named shortly: "every SGD 1e-4 (thread 2) pairing (20)" where all pairings with one option
    are in ``rows`` (largest such group first), the rest by name."""
    from lossbench.registry import CHOICES, option_word

    if len(rows) == len(rates) and len(rows) > 1:
        return [f"every pairing of this run ({len(rows)})"]
    left, names = rows, []
    while len(left) > 1:
        groups = []
        for group in (g for g in CHOICES if g in rates and rates[g].nunique() > 1):  # an option that varies
            for value, mine in left.groupby(group, sort=False):
                if len(mine) > 1 and len(mine) == (rates[group] == value).sum():
                    groups.append((len(mine), group, value, mine))
        if not groups:
            break
        n, group, value, mine = max(groups, key=lambda g: g[0])
        rate = mine["learning_rate"].iloc[0] if group == "optimizer" and "learning_rate" in mine else None
        names.append(f"every {option_word(group, value, rate)} pairing ({n})")
        left = left[~left["pairing"].isin(mine["pairing"])]
    return names + list(left["pairing"])


def use_avoid_line(rates: pd.DataFrame, repro: dict, shown: int = 3) -> list[str]:
    """Which pairings to use and which to avoid, by the classes both seed sets confirm: those that converged
    in every seed (highest mean test Dice first) and those that never did (grouped by a shared option)."""
    if rates.empty or "trials" in rates:
        return []
    always, never = _sure(rates, repro, "always"), _sure(rates, repro, "never")
    if always.empty and never.empty:
        return []
    use = [f"{r['pairing']} (Dice {r['dice_all']:.3f})" for _, r in always.head(shown).iterrows()]
    parts = []
    if use:
        more = f" and {len(always) - shown} more" if len(always) > shown else ""
        parts.append(f"use (converged in every seed): {', '.join(use)}{more}")
    if not never.empty:
        parts.append(f"avoid (never converged): {', '.join(_grouped(never, rates))}")
    how = "classes both seed sets confirm" if repro else "one seed set"
    return [f"**Use / avoid** ({how}): {'; '.join(parts)}.", ""]


def claim_lines(found: list, repro: dict) -> list[str]:
    """Each claim section's sentences under its title; a repeated comparison or equal rates left out."""
    lines, seen = [], set()
    for section, title in TITLES.items():
        mine = []
        for claim in (c for c in found if c.section == section):
            pair = (claim.kind, claim.label_a, claim.label_b)
            same_counts = (
                claim.kind == "rate" and claim.counts[0] * claim.counts[3] == claim.counts[2] * claim.counts[1]
            )
            if pair in seen or same_counts:  # a repeated comparison, or equal rates: nothing to say
                continue
            seen.add(pair)
            mine.append(checked(repro, claim.key, claim.sentence, claim.decided))
        if len(mine) == 1:
            lines.append(f"- **{title}**: {mine[0]}.")
        elif mine:
            lines += [f"- **{title}**:", *[f"  - {m}." for m in mine]]
    return lines


def findings(
    name: str, data: str, rates: pd.DataFrame, found: list, repro: dict, budget_lines: list, extra: list[str] = ()
) -> str:
    """The few sentences a newcomer reads first (``findings.md``; the README quotes it verbatim).

    A claim the two disjoint seed sets of `lossbench.analysis.reproduce` do not both confirm is stated as undecided.
    """
    lines = [
        f"On {data} (`{name}`, {int(rates['n'].max()) if not rates.empty else 0} seeds at most per "
        "pairing; rule: [summary.md](summary.md), top):",
        "",
        *one_line_each(found, repro),
        *use_avoid_line(rates, repro),
        *convergence_lines(rates, repro),
        *claim_lines(found, repro),
    ]
    lines += [f"- {line.removeprefix('- ')}" for line in budget_lines if line.startswith("- ")]
    lines += [f"- {line.removeprefix('- ')}" for line in extra if line]
    return "\n".join(lines) + "\n"


def findings_page(f) -> str:
    """findings.md of the report's `Facts`, before its words are set: the data set's name, the claims of the
    sections asked for, the budget check, thread 2's exact setting and thread 1's questions."""
    from lossbench.sweep.study import DATA_LABELS

    trials, attrs = f.trials, f.attrs
    stored = attrs.get("data_label")  # a study stores its data's name where no words were known then
    data = DATA_LABELS.get(stored, stored) or DATA_LABELS.get(
        str(trials.get("data", pd.Series(["data"])).iloc[0]), "the data"
    )
    extra = [evidence.baseline_sentence(trials, attrs["baseline"])] if attrs.get("baseline") else []
    if "thread1" in f.sections and "trials" in trials:
        extra += evidence.thread1_sentences(trials)
    return findings(f.info.name, data, f.rates, f.shown, f.repro, f.budget, extra)
