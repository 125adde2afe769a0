"""``python -m lossbench.report +experiment=NAME``: the study and its MLflow runs -> ``results/NAME/``.

Writes ``summary.md`` (ranking with 95 % bootstrap intervals, verdict counts,
the seeds' questions answered from the numbers), ``trials.csv`` (one row per
trial) and PNG plots, and logs the same files to the sweep's parent MLflow run.
It reads only what the stores hold, so it can be re-run at any time.

The parts: `gather` (the trials table and the facts every page reads), `report_figures`
(the PNGs), `merging` (the rates table), `report_sections` (summary.md as a list of
sections) and `report_findings` (findings.md); `write` runs them in that order.
"""

from __future__ import annotations

from pathlib import Path

from lossbench.analysis import importance
from lossbench.analysis.markdown import sig3
from lossbench.analysis.markdown import table as _table
from lossbench.analysis.report import pairing_runs
from lossbench.analysis.report.gather import CURVES, Facts, collect, trials_table
from lossbench.analysis.report.merging import MERGE_TOL, merge_identical
from lossbench.analysis.report.merging import rates_table as _rates_table
from lossbench.analysis.report.report_figures import (
    CAPTIONS,
    accuracy_vs_dice,
    clipping_curves,
    curves_by_verdict,
    draw,
    heatmap,
    per_class_weighting,
)
from lossbench.analysis.report.report_findings import findings, findings_page
from lossbench.analysis.report.report_sections import (
    DEFAULT_SECTIONS,
    PARTS,
    SECTION_NAMES,
    SECTIONS,
    check_sections,
    summary,
)
from lossbench.analysis.reproduce import read as _repro
from lossbench.analysis.wording import humanise, option_labels
from lossbench.runtime import replaced, write_text
from lossbench.sweep import work

__all__ = [
    "CAPTIONS",
    "CURVES",
    "DEFAULT_SECTIONS",
    "MERGE_TOL",
    "PARTS",
    "SECTIONS",
    "SECTION_NAMES",
    "Facts",
    "_rates_table",
    "_repro",
    "_table",
    "accuracy_vs_dice",
    "check_sections",
    "clipping_curves",
    "curves_by_verdict",
    "draw",
    "findings",
    "findings_page",
    "collect",
    "heatmap",
    "humanise",
    "merge_identical",
    "option_labels",
    "per_class_weighting",
    "sig3",
    "summary",
    "trials_table",
    "write",
]
ARTIFACTS = (  # the files logged to the parent run, under report/
    "summary.md",
    "trials.csv",
    "heatmap.png",
    "learning_curves.png",
    "accuracy_vs_dice.png",
    "per_class_dice.png",
    "clipping.png",
)


def write(info, background_share: float | None = None, class_names=None, num_classes: int = 4, sections=None) -> Path:
    """Build every report file for the study ``info`` describes and log them to the parent run.

    ``sections`` (``sweep.report_sections``, default `DEFAULT_SECTIONS`) says which parts summary.md has.
    ``num_classes`` is kept for callers; the class names say how many classes there are.
    """
    sections = check_sections(sections)
    folder = Path(info.folder)
    folder.mkdir(parents=True, exist_ok=True)
    trials, curves = trials_table(info)
    if trials.empty:
        print("report: no finished trial yet")
        return folder
    stale(folder)  # a report killed midway is rebuilt by the next run, whatever it finds
    with replaced(folder / "trials.csv") as tmp:  # every file all or nothing
        trials.drop(columns=[c for c in trials if c.startswith("seconds/") or c == "subject_dice"]).to_csv(
            tmp, index=False
        )
    facts = collect(info, trials, curves, sections, background_share, class_names)
    importance.record(work.load(info))  # what optuna-dashboard's importance ranks, said in the study
    facts.plots = draw(facts)
    write_text(folder / "summary.md", facts.words(humanise(summary(facts))))
    write_text(folder / "findings.md", facts.words(humanise(findings_page(facts))))
    _log_to_parent(info, folder, parent_note(facts))
    if str(info.tracking_uri) != "none":
        pairing_runs.log(facts)  # the answer view's runs: one per pairing
    write_text(folder / STAMP, built_from(info))  # last: the report is whole and of these trials
    print(f"report written to {folder}/summary.md")
    return folder


STAMP = "report.stamp"


def built_from(info) -> str:
    """What a report of the study ``info`` describes is built from: its finished trials, as they ended."""
    import hashlib

    finished = [
        (t.number, t.state.name, t.value, t.user_attrs.get("state"), t.user_attrs.get("mlflow_run_id"))
        for t in work.load(info).get_trials(deepcopy=False)
        if t.state.is_finished()
    ]
    return hashlib.sha256(repr(sorted(finished)).encode()).hexdigest()


def stale(folder: Path) -> None:
    """Mark the report in ``folder`` as not whole (its stamp gone) while it is being written."""
    (folder / STAMP).unlink(missing_ok=True)


def up_to_date(info) -> bool:
    """The report of ``info`` was written whole, from the trials the study holds now."""
    stamp = Path(info.folder) / STAMP
    return stamp.exists() and stamp.read_text() == built_from(info)


def parent_note(facts: Facts) -> str:
    """The parent run's description in the MLflow UI: the recommendation and how to see every run."""
    from lossbench.analysis import evidence

    trials, rates = facts.trials, facts.rates
    n_runs = int(trials["state"].isin(["complete", "pruned", "invalid", "failed"]).sum())
    return "\n\n".join(
        [
            facts.words("\n".join(evidence.recommendation(rates, facts.shown, trials, facts.repro))),
            f"{len(rates)} pairings, one run each (view 'lossbench': the seeds of a pairing together, the most "
            f"often converging first), from {n_runs} trial runs (view 'lossbench-seeds': grouped by pairing; "
            f"'lossbench-choices': every run). MLflow's table loads 100 runs at a time: in the per-seed views "
            f"press 'Load more' at its bottom until it shows all {n_runs}; a group's mean covers the loaded runs only. Full report: the artifact report/summary.md, or results/{facts.info.name}/summary.md.",
        ]
    )


def _log_to_parent(info, folder: Path, note: str = "") -> None:
    """The note on the parent run, and the report's files as its artifacts (those that exist)."""
    from lossbench.sweep.tracking.runs import retrying_client

    client = retrying_client(info.tracking_uri)  # two machines' parents may write the note at once
    if note:  # the parent's description in the UI: the recommendation and how to see every run
        client.set_tag(info.parent_run_id, "mlflow.note.content", note)
    for name in ARTIFACTS:
        if (folder / name).exists():
            client.log_artifact(info.parent_run_id, str(folder / name), artifact_path="report")
