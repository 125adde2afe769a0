"""``python -m lossbench.holds +experiment=camvid``: do the cardiac answers hold on another data set?

Reads the phantom's conclusions and their re-test on 50 real hearts from the committed
``results/transfer.md`` (written by `lossbench.analysis.transfer`: one row per conclusion, with its verdict on
the phantom and on real hearts), and re-tests every one whose pairings the experiment ran, on its own
finished study, by the same rule (`lossbench.analysis.claims`: a Dice difference is stated when its 95 %
interval excludes 0, a convergence difference when Fisher's test survives Holm; otherwise
undecided). Nothing is trained. Writes ``results/<name>/holds.md`` and prints its path.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.errors import UserError
from lossbench.registry import ROOT  # noqa: E402

TRANSFER = ROOT / "results" / "transfer.md"
PAIR = re.compile(r"^(?P<loss>[\w]+)\+(?P<activation>\w+) \| (?P<class_weighting>\w+) \| (?P<optimizer>\w+)$")
CLAIM = re.compile(r"^(?P<section>\w+): (?P<a>.+) vs (?P<b>.+) \((?P<kind>dice|rate)\)$")


def pairing(text: str) -> dict | None:
    """``loss+activation | weighting | optimizer`` as a dict; None for a pooled side ("all pairings pooled")."""
    match = PAIR.match(text.strip())
    return match.groupdict() if match else None


def conclusions(path: Path = TRANSFER) -> pd.DataFrame:
    """The table "Every phantom conclusion, on real hearts" of ``results/transfer.md``."""
    if not path.exists():
        raise UserError(f"{path} not found - run python -m lossbench.transfer first")
    lines = path.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("| conclusion |")), None)
    if start is None:
        raise UserError(f"{path} has no conclusions table - regenerate it with python -m lossbench.transfer")
    split = lambda line: [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]  # noqa: E731
    header = split(lines[start])
    wanted = {"conclusion": "conclusion", "phantom": "phantom", "real hearts": "real"}
    if not set(wanted) <= set(header):
        raise UserError(f"{path}: its conclusions table lacks {sorted(set(wanted) - set(header))} - regenerate it")
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = dict(zip(header, split(line), strict=False))
        rows.append({ours: cells.get(theirs, "") for theirs, ours in wanted.items()})
    return pd.DataFrame(rows)


def retest(row: dict, trials: pd.DataFrame, rates: pd.DataFrame, cap: int) -> str | None:
    """The conclusion's verdict on ``trials`` (direction and figure), or None when a side did not run there."""
    from lossbench.analysis import claims

    text = row["conclusion"]
    if text.startswith("class of "):
        side = pairing(text.removeprefix("class of "))
        found = rates[rates["pairing"] == claims.label(side)] if side else rates.iloc[0:0]
        if found.empty:
            return None
        return f"{found.iloc[0]['class']} ({found.iloc[0]['converged']})"
    match = CLAIM.match(text)
    a, b = (pairing(match["a"]), pairing(match["b"])) if match else (None, None)
    if not (a and b) or claims.select(trials, a).empty or claims.select(trials, b).empty:
        return None
    if match["kind"] == "dice":
        claim = claims.dice_claim(match["section"], trials, a, b, cap)
        return f"{claim.direction}: {claim.mean:+.3f} ({claim.lo:+.3f} to {claim.hi:+.3f})" if claim else None
    claim = claims.rate_claim(match["section"], trials, a, b, cap)
    if claim is None:
        return None
    return f"{claim.direction}: {claim.counts[0]}/{claim.counts[1]} vs {claim.counts[2]}/{claim.counts[3]}"


def word(phantom: str, real: str, here: str) -> str:
    """holds / reversed / undecided here / ... against the phantom's and real hearts' verdicts."""
    first = lambda text: text.split(":")[0].split(" (")[0].strip()  # noqa: E731
    here, before = first(here), {first(phantom), first(real)} - {"undecided"}
    if here == "undecided":
        return "undecided here" if before else "undecided everywhere"
    if not before:
        return f"decided here only ({here})"
    if before == {here}:
        return "holds"
    opposite = {"higher": "lower", "lower": "higher", "always": "never", "never": "always"}
    return "**reversed**" if before == {opposite.get(here)} else f"differs ({here} here)"


def write(experiment: str, results: str | None = None, overrides=()) -> Path:
    """``results/<experiment>/holds.md`` from the experiment's study and ``results/transfer.md``."""
    from lossbench.analysis import claims
    from lossbench.analysis.transfer_tables import load_role

    _, trials, info = load_role(experiment, results, overrides)
    table = conclusions()
    rates = claims.rates(trials)
    rows = []
    converges = bool(rates["k"].sum()) if len(rates) else False  # no pairing converges: classes test nothing
    for row in table.to_dict("records"):
        here = retest(row, trials, rates, info["cap"])
        if here is None:
            continue
        verdict = word(row["phantom"], row["real"], here)
        if not converges and (row["conclusion"].startswith("class of ") or row["conclusion"].endswith("(rate)")):
            verdict = "not testable (no pairing converges here)"
        rows.append({**row, "here": here, "verdict": verdict})
    out = pd.DataFrame(rows)
    tally = ", ".join(f"{v} {k}" for k, v in out["verdict"].value_counts().items()) if len(out) else "none"
    lines = [
        f"**Do the cardiac answers hold on `{experiment}`?**",
        "",
        f"- command: `python -m lossbench.holds +experiment={experiment}` (regenerates this file; nothing is trained)",
        f"- study `{info['study_name']}`; the phantom's and real hearts' verdicts are read from results/transfer.md",
        f"- {len(out)} of {len(table)} conclusions ran here (the others need pairings this experiment did not "
        f"train, e.g. thread 2's SGD); tally: {tally}",
        "- a pairing *converges* when every class reaches a validation Dice of 0.1 with the loss below its prior "
        "level; where no pairing does, its class and its convergence rates compare nothing, and the Dice "
        "differences carry the answer",
        "",
        "**How to read this.** " + claims.RULE,
        "",
        "| conclusion | phantom | real hearts | here | on this data |",
        "|---|---|---|---|---|",
        *[
            "| "
            + " | ".join(str(r[k]).replace("|", "\\|") for k in ("conclusion", "phantom", "real", "here", "verdict"))
            + " |"
            for r in rows
        ],
    ]
    path = Path(info["folder"]) / "holds.md"
    path.write_text("\n".join(lines) + "\n")
    return path
