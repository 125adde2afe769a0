"""summary.md as a list of sections: each a function of the report's `Facts` that returns its lines.

`PARTS` lists the sections in the order summary.md shows them; an experiment picks some with
``sweep.report_sections`` (`SECTION_NAMES`, checked by `check_sections`), and `summary` walks the
list. The title, the recommendation and how the study was run always come first (`header`).
"""

from __future__ import annotations

import functools
import os
import platform

from lossbench.analysis import claims, evidence
from lossbench.analysis.markdown import table
from lossbench.analysis.report.merging import MERGE_TOL, merge_identical, rates_table
from lossbench.analysis.report.report_figures import CAPTIONS
from lossbench.errors import UserError

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


def check_sections(sections) -> list[str]:
    """The report sections an experiment asks for (``sweep.report_sections``), checked against `SECTION_NAMES`."""
    chosen = list(sections if sections is not None else DEFAULT_SECTIONS)
    unknown = [s for s in chosen if s not in SECTION_NAMES]
    if unknown:
        raise UserError(f"sweep.report_sections: no section {unknown[0]!r} - choose from {', '.join(SECTION_NAMES)}")
    return chosen


def header(f) -> list[str]:
    """The title, the recommendation, how the study was run (command, trials, wall time, machine), the rule."""
    trials, attrs, info = f.trials, f.attrs, f.info
    wall = attrs.get("wall_seconds")
    command = attrs.get("command") or f"python -m lossbench.sweep +experiment={info.name}"
    report_command = command.replace("lossbench.sweep", "lossbench.report", 1)
    imported = attrs.get("imported")  # a tracking=none sweep brought in by tools.import_records
    if imported:
        here = " ".join(imported["overrides"])
        report_command = f"python -m lossbench.report {here}"
    machine = attrs.get("machine") or {}
    keras = machine.get("backend", "tensorflow")
    seeds = sorted({int(s) for s in trials["seed"].dropna()})
    return [
        f"# lossbench results: `{info.name}`",
        "",
        *evidence.recommendation(f.rates, f.found, trials, f.repro),
        "",
        "## How this was run",
        "",
        f"- command: `{command}`",
        f"- report: `{report_command}` (regenerates this file)",
        *(
            [
                f"- imported here by `python -m tools.import_records {imported['folder']} {here}` (run with tracking=none)"
            ]
            if imported
            else []
        ),
        f"- study `{info.study_name}`: {len(trials)} trials over seeds {seeds}; "
        + ", ".join(f"{v} {k}" for k, v in trials["state"].value_counts().items()),
        f"- wall time: {wall / 60:.1f} min over the sweep runs that did work (resumes added, overlaps once), "
        f"{attrs.get('n_workers', '?')} worker(s)"
        if wall
        else "- wall time: not recorded",
        f"- machine: {machine.get('cpu', platform.machine())} ({machine.get('cpu_count', os.cpu_count())} "
        f"cores, ISA {machine.get('isa', '?')}), oneDNN {machine.get('onednn', '?')}, TensorFlow threads per worker "
        f"{attrs.get('threads_per_worker', '?')}, op determinism {machine.get('op_determinism', '?')}; "
        f"Python {platform.python_version()}"
        + (f"; Keras on {keras}, GPUs seen {machine.get('gpus', '?')}" if keras != "tensorflow" else ""),
        "",
        "**How to read this.** " + claims.RULE,
        "",
    ]


def rates_section(f) -> list[str]:
    """k of n converged and the Dice per pairing, identical trainings merged."""
    return [
        "## Convergence rate and Dice per pairing",
        "",
        "k of n seeds converged (every foreground class learnt, loss below the prior level) with its "
        "95 % Clopper-Pearson interval; mean test foreground Dice over all seeds (interval: hierarchical "
        "bootstrap, seeds then test subjects) and over the converged seeds only. Pairings that trained "
        f"identically are one row (`≡`): the same seeds, and per seed a test Dice and a validation-loss "
        f"curve within {MERGE_TOL:g} of each other.",
        "",
        rates_table(merge_identical(f.rates, f.trials, f.curves)),
        "",
    ]


def verdicts_section(f) -> list[str]:
    """How many trials ended with each verdict (a failed trial has none)."""
    verdicts = f.trials["verdict"].replace("", "failed").value_counts()
    return ["## Verdicts", "", table(verdicts.rename_axis("verdict").reset_index(name="trials")), ""]


def claims_section(f, section: str) -> list[str]:
    """One claim section (`SECTIONS`): a sentence per claim; thread 2's exact setting first under fixes."""
    mine = [c for c in f.shown if c.section == section]
    if not mine:
        return []
    intro = evidence.baseline_sentence(f.trials, f.attrs["baseline"]) if section == "fixes" else ""
    return [f"## {SECTIONS[section]}", "", *([intro, ""] if intro else []), *[f"- {c.sentence}." for c in mine], ""]


def top3_section(f) -> list[str]:
    """The three pairings with the highest mean Dice (grid studies only)."""
    rates = f.rates
    if rates.empty or "trials" in rates:
        return []
    return [
        "## Top three",
        "",
        "By mean test foreground Dice over all seeds: "
        + "; ".join(
            f"{r['pairing']} ({r['dice_all']:.3f}, {r['converged']} converged)" for _, r in rates.head(3).iterrows()
        )
        + ". The order inside it is a claim only where the ranking section above decides it.",
        "",
    ]


def budget_section(f) -> list[str]:
    """The never-converging pairings rerun at 4x the epochs (`lossbench.analysis.budget`), if they were."""
    if not f.budget:
        return []
    return ["## The budget: do never-converging pairings learn with more epochs?", "", *f.budget, ""]


def thread1_section(f) -> list[str]:
    """Thread 1's own questions (studies of named trials only)."""
    if "trials" not in f.trials:
        return []
    return ["## Thread 1's questions", "", *evidence.thread1_sentences(f.trials), ""]


def why_binary_section(f) -> list[str]:
    """Sentences (a)-(d): why binary CE looked better (studies with both cross-entropies)."""
    trials = f.trials
    if not {"binary_crossentropy", "categorical_crossentropy"} <= set(trials["loss"].dropna()):
        return []
    plain = trials[~trials["trials"].astype(str).str.contains("mismatch")] if "trials" in trials else trials
    binary = [c for c in f.shown if c.section == "binary"]
    sentences = evidence.why_binary_looked_better(plain, f.background_share, len(f.class_names), binary)
    return ["## Why binary CE looked better", "", *[s + "\n" for s in sentences]]


def plots_section(f) -> list[str]:
    """Every figure drawn, with its caption."""
    lines = ["## Plots", ""]
    for p in f.plots:
        if p is not None and p.exists():
            lines += [f"![{p.stem}]({p.name})", "", f"*{CAPTIONS.get(p.stem, p.stem)}*", ""]
    return lines


PARTS = [  # (name in `SECTION_NAMES`, section), in the order summary.md shows them
    ("rates", rates_section),
    ("verdicts", verdicts_section),
    *[(name, functools.partial(claims_section, section=name)) for name in SECTIONS],
    ("top3", top3_section),
    ("budget", budget_section),
    ("thread1", thread1_section),
    ("why_binary", why_binary_section),
    ("plots", plots_section),
]


def summary(f) -> str:
    """summary.md before its words are set (`header`, then each section asked for, in `PARTS` order)."""
    lines = header(f)
    for name, section in PARTS:
        if name in f.sections:
            lines += section(f)
    return "\n".join(lines) + "\n"
