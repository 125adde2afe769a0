"""The budget is part of the answer: does a pairing that never converged learn with 4x the epochs?

``sweep.budget_check=true`` (or ``make budget-check``): after the sweep, every
pairing classed *never* is rerun for one seed (the first base seed) at
`FACTOR` x the epochs, pruning off, in its own study ``<name>-budget`` (the
epochs are part of the study hash, so it never mixes with the main study).
These trials do not count in any pairing's rate; the main report links to
them and says "stays stalled at 4x" or "converges slowly at 4x".
"""

from __future__ import annotations

from omegaconf import DictConfig

from lossbench.analysis import claims
from lossbench.sweep import work
from lossbench.sweep.study import StudyInfo

FACTOR = 4
SAME_STORAGE = "<the main study's storage>"


def plan(cfg: DictConfig, info: StudyInfo) -> tuple[list[dict], list[str]] | None:
    """The budget study to run for the main study ``info``: its points (every pairing classed *never*, the
    first base seed) and the overrides that name it; None when no pairing is classed never. Runs nothing:
    the sweep's command line runs it and hands the result to `remember`."""
    from lossbench.sweep import space

    table = claims.trials_frame(work.load(info))
    rates = claims.rates(table) if not table.empty else table
    never = rates[rates["class"] == "never"] if not rates.empty else rates
    if never.empty:
        print("budget check: no pairing is classed never - nothing to rerun")
        return None
    cols = claims.pairing_cols(table)
    sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)
    seed = int(sp.seeds[0])
    points = [space.only_params({c: row[c] for c in cols} | {"seed": seed}, sp) for _, row in never.iterrows()]
    epochs = FACTOR * int(cfg.trainer.epochs)
    extra = [
        f"name={cfg.name}-budget",
        f"trainer.epochs={epochs}",
        "sweep.prune_stalled=false",
        "sweep.pruner=none",
        "sweep.max_seeds=0",
        "sweep.budget_check=false",
    ]
    print(f"budget check: {len(points)} never-converging pairings, seed {seed}, {epochs} epochs")
    return points, extra


def remember(info: StudyInfo, budget_info: StudyInfo) -> None:
    """Record the budget study on the main study, for the report (`sentences`)."""
    keep = {
        k: getattr(budget_info, k)
        for k in ("study_name", "storage", "folder", "name", "pruner", "prune_below", "warmup_epochs", "epochs")
    }
    if work.is_rdb(budget_info):  # no password in a study attribute: the main study's storage is its own
        keep["storage"] = SAME_STORAGE
    work.load(info).set_user_attr("budget_study", keep | {"factor": FACTOR})


def sentences(info: StudyInfo) -> list[str]:
    """One line per rerun pairing: stays stalled or converges slowly at 4x (for the main report)."""
    attrs = work.load(info).user_attrs.get("budget_study")
    if not attrs:
        return []
    try:
        where = {"storage": info.storage} if attrs.get("storage") == SAME_STORAGE else {}
        table = claims.trials_frame(work.load(StudyInfo.from_dict({"tracking_uri": "", **attrs, **where})))
    except KeyError:
        return [f"(budget study {attrs['study_name']} not found in {attrs['storage']})"]
    if table.empty:
        return []
    factor, out = attrs.get("factor", FACTOR), []
    for _, row in table.iterrows():
        pairing = claims.label({c: row[c] for c in claims.pairing_cols(table)})
        verdict = row["verdict"] or row["state"]
        what = f"**converges slowly at {factor}x**" if verdict == "converged" else f"stays {verdict} at {factor}x"
        out.append(
            f"- {pairing} (seed {row['seed']}, {attrs['epochs']} epochs): {what}, test foreground Dice "
            f"{row['test/foreground_dice']:.3f}"
        )
    return [
        f"Budget check (study `{attrs['study_name']}`, results/{attrs['name']}/; these trials do not count "
        "in any rate):",
        "",
        *out,
    ]
