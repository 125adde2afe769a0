"""What the transfer compares: the three studies loaded, and per pairing and per conclusion their answers.

`load_role` reads one finished study (the real run's merged pairings expanded by `expand`);
`pairing_rows`, `weighting_rows` and `conclusion_rows` are the tables of ``results/transfer.md``;
`retest` recomputes each phantom claim on real hearts and `transfer_word` names the outcome.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.errors import UserError

ROLES = {"phantom": "cmr", "calibrated": "cmr_realistic", "real": "acdc50"}
LONG = {"phantom": "cmr_long", "calibrated": "cmr_realistic_long"}  # 3x the budget, weighting trainings only
NAMES = {"phantom": "built-in phantom", "calibrated": "calibrated phantom", "real": "50 ACDC patients"}
WEIGHTED = [("categorical_crossentropy", "softmax"), ("binary_crossentropy", "sigmoid"), ("dice_ce", "softmax")]
COMMAND = "python -m lossbench.transfer"
from lossbench.registry import CHOICES  # noqa: E402

PAIRING = list(CHOICES)  # as pandas takes a key list


def expand(trials: pd.DataFrame, aliases: dict) -> pd.DataFrame:
    """Rows of each merged trial repeated under every pairing it stands for; the ``trials`` column dropped.

    ``trained_as`` names the trial that really ran (empty for a grid study); ``merged`` marks the copies.
    """
    if "trials" not in trials:
        return trials.assign(trained_as="", merged=False)
    own = trials.assign(trained_as=trials["trials"], merged=False)
    copies = [
        own[own["trials"] == name].assign(loss=loss, activation=act, merged=True)
        for name, merged in aliases.items()
        for loss, act in merged
    ]
    return pd.concat([own, *copies], ignore_index=True).drop(columns="trials")


def steps(cfg) -> int:
    """Optimizer steps of one trial: epochs x ceil(training slices / batch size)."""
    from hydra.utils import instantiate

    n = len(instantiate(cfg.data.loader).train.labels)
    return int(cfg.trainer.epochs) * -(-n // int(cfg.trainer.batch_size))


def load_role(experiment: str, results: str | None = None, overrides=()):
    """(trials expanded, trials as run, study info) of the experiment's finished study (``overrides``: as the
    sweep was given them, so that they name the same study)."""
    from lossbench.analysis import claims
    from lossbench.config import compose
    from lossbench.sweep import space, study, work

    cfg = compose([f"+experiment={experiment}"] + ([f"paths.results={results}"] if results else []) + list(overrides))
    sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)
    located = study.locate(cfg, sp)
    optuna_study = work.load(located)
    info = located.as_dict()
    frame = claims.trials_frame(optuna_study)
    if frame.empty:
        raise UserError(
            f"study {info['study_name']} has no finished trial - run python -m lossbench.sweep +experiment={experiment}"
        )
    unique = frame.drop(columns="trials") if "trials" in frame else frame
    attrs = optuna_study.user_attrs
    return (
        expand(frame, space.aliases(sp)),
        unique,
        info
        | {
            "cap": int(attrs.get("max_seeds", 0) or 0),
            "seconds": attrs.get("wall_seconds"),
            "epochs": int(cfg.trainer.epochs),
            "steps": steps(cfg),
        },
    )


def groups(trials: pd.DataFrame, pairing: dict) -> list[np.ndarray]:
    """Per seed, the per-test-subject foreground Dice of a pairing (the bootstrap's input)."""
    from lossbench.analysis import claims

    rows = claims.ran(claims.select(trials, pairing))
    return [np.array(list(claims.subject_dice(r).values())) for _, r in rows.iterrows()]


def pairing_rows(real_trials: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """One row per training of the real run: class and mean Dice (CI) on every dataset."""
    from lossbench.analysis import claims

    out = []
    for _, row in real_trials[~real_trials["merged"]].drop_duplicates(PAIRING).iterrows():
        pairing = {k: row[k] for k in PAIRING}
        copies = real_trials[real_trials["merged"] & (real_trials["trained_as"] == row["trained_as"])]
        merged = dict.fromkeys(f"{a}+{b}" for a, b in zip(copies["loss"], copies["activation"], strict=True))
        entry = {"pairing": claims.label(pairing), **pairing, "stands for": ", ".join(merged) or "-"}
        for role, table in tables.items():
            hit = table[table["pairing"] == claims.label(pairing)]
            if hit.empty:
                entry |= {f"{role} class": "not run", f"{role} Dice": np.nan, f"{role} CI": "-"}
            else:
                r = hit.iloc[0]
                entry |= {
                    f"{role} class": f"{r['class']} ({r['converged']})",
                    f"{role} Dice": r["dice_all"],
                    f"{role} CI": r["dice_ci"],
                }
        out.append(entry)
    return pd.DataFrame(out)


def weighting_rows(frames: dict) -> pd.DataFrame:
    """Median-frequency weighting minus none, per loss (Adam), on every dataset and budget given."""
    from lossbench.analysis import claims

    out = []
    for loss, act in WEIGHTED:
        plain = {"loss": loss, "activation": act, "class_weighting": "none", "optimizer": "adam"}
        row = {"median frequency - none (test foreground Dice)": f"{loss}+{act} | adam"}
        for name, frame in frames.items():
            c = claims.dice_claim("weighting", frame, plain | {"class_weighting": "median_frequency"}, plain, 0)
            row[name] = "not run" if c is None else f"{c.direction}: {c.mean:+.3f} ({c.lo:+.3f} to {c.hi:+.3f})"
        out.append(row)
    return pd.DataFrame(out)


def rank_correlation(rows: pd.DataFrame, side: pd.DataFrame, real: pd.DataFrame) -> tuple[float, float, float]:
    from lossbench.analysis import stats

    a = [groups(side, {k: r[k] for k in PAIRING}) for _, r in rows.iterrows()]
    b = [groups(real, {k: r[k] for k in PAIRING}) for _, r in rows.iterrows()]
    return stats.spearman_bootstrap(a, b)


def retest(found: list, real_unique: pd.DataFrame, real_expanded: pd.DataFrame, cap: int) -> list:
    """Each phantom claim recomputed on real hearts: the same two sides, Holm within each section."""
    from lossbench.analysis import claims

    out = []
    for claim in found:
        pooled = claim.kind == "rate" and not claim.sides
        frame = real_unique if pooled else real_expanded  # a pooled rate counts each training once
        if claim.kind == "dice":
            again = claims.dice_claim(claim.section, frame, claim.a, claim.b, cap, claim.label_a, claim.label_b)
        else:
            again = claims.rate_claim(
                claim.section, frame, claim.a, claim.b, cap, claim.label_a, claim.label_b, pooled=pooled
            )
        out.append(again)
    for section in dict.fromkeys(c.section for c in found):
        claims.holm_section([r for c, r in zip(found, out, strict=True) if r is not None and c.section == section])
    return out


OPPOSITE = {("higher", "lower"), ("lower", "higher"), ("always", "never"), ("never", "always")}


def transfer_word(phantom: str, real: str | None) -> str:
    """holds / reversed / undecided on real hearts / ... for one conclusion."""
    if real is None:
        return "not run on real hearts"
    if phantom == "undecided" and real == "undecided":
        return "undecided on both"
    if real == "undecided":
        return "undecided on real hearts"
    if phantom == "undecided":
        return f"decided on real hearts only ({real})"
    if phantom == real:
        return "holds"
    if (phantom, real) in OPPOSITE:
        return "**reversed**"
    return f"differs ({phantom} on the phantom, {real} on real hearts)"


def stated(row, seed_sets: bool = True) -> str:
    """Whether the README states a phantom conclusion: only where both seed sets decided it the same way
    (the findings' rule: `lossbench.analysis.reproduce.confirmed`).

    >>> stated({"agree": "yes", "seeds A": "higher"}), stated({"agree": "yes", "seeds A": "undecided"})
    ('yes', 'no (neither seed set decides it)')
    >>> stated({"agree": "no", "seeds A": "higher"}), stated(None, seed_sets=False)
    ('no (seed sets disagree)', 'no (one seed set)')
    """
    from lossbench.analysis.reproduce import confirmed

    if row is None:
        return "no (one seed set)" if not seed_sets else "no (not in the seed sets' comparison)"
    if row["agree"] != "yes":
        return "no (seed sets disagree)"
    return "yes" if confirmed(row) else "no (neither seed set decides it)"


def conclusion_rows(
    found: list, again: list, phantom_rates: pd.DataFrame, real_rates: pd.DataFrame, rows: pd.DataFrame, repro: dict
) -> pd.DataFrame:
    """Every phantom conclusion that the real run can test, with its value on each and the verdict."""
    out = []
    readme = lambda key: stated(repro.get(key), bool(repro))  # noqa: E731
    tested = set(real_rates["pairing"])
    real_class = dict(zip(real_rates["pairing"], real_rates["class"], strict=True))
    for _, r in phantom_rates.iterrows():
        if r["pairing"] in tested:
            out.append(
                {
                    "conclusion": f"class of {r['pairing']}",
                    "stated in the README": readme(f"class of {r['pairing']}"),
                    "phantom": r["class"],
                    "real hearts": real_class.get(r["pairing"], "not run"),
                    "on real hearts": transfer_word(r["class"], real_class.get(r["pairing"])),
                }
            )

    def figure(c) -> str:
        if c.kind == "dice":
            return f"{c.mean:+.3f} ({c.lo:+.3f} to {c.hi:+.3f})"
        return f"{c.counts[0]}/{c.counts[1]} vs {c.counts[2]}/{c.counts[3]}, Holm p {c.p_holm:.2g}"

    seen = set()
    for claim, real in zip(found, again, strict=True):
        if claim.key in seen or (real is None and claim.kind == "rate"):
            continue
        seen.add(claim.key)
        out.append(
            {
                "conclusion": claim.key,
                "stated in the README": readme(claim.key),
                "phantom": f"{claim.direction}: {figure(claim)}",
                "real hearts": f"{real.direction}: {figure(real)}" if real else "not run",
                "on real hearts": transfer_word(claim.direction, real.direction if real else None),
            }
        )
    return pd.DataFrame(out)
