"""``python -m lossbench.reproduce +experiment=cmr``: the same experiment twice, disjoint seeds, compared.

Runs the experiment's sweep with seeds ``[0, 1, 2]`` and again with
``[3, 4, 5]`` (``reproduce.sets``), each in its own study
``<name>-seeds012`` / ``<name>-seeds345``, without adaptive seeds (so the sets
stay disjoint) and without pruning (so set A doubles as the pruning baseline
of `lossbench.analysis.pruning`, and no conclusion depends on the pruning rule). Then it
compares what each run concludes (`claims.conclusions`: every pairing's class,
the top-3 set, the direction of every claim) and writes
``results/<name>/reproducibility.md``. Resumable like any sweep.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.registry import canonical

SETS = ([0, 1, 2], [3, 4, 5])


def set_name(name: str, seeds) -> str:
    return f"{name}-seeds{''.join(str(s) for s in seeds)}"


def set_overrides(name: str, seeds) -> list[str]:
    return [
        f"name={set_name(name, seeds)}",
        f"sweep.seeds=[{','.join(str(s) for s in seeds)}]",
        "sweep.max_seeds=0",
        "sweep.prune_stalled=false",
        "sweep.budget_check=false",
    ]


def compare(a: dict, b: dict) -> pd.DataFrame:
    """One row per conclusion either run draws: its value in A and B and whether they agree.

    ``agree`` is ``yes`` when equal, ``no`` when both are decided and differ (e.g. higher vs lower,
    always vs never, or different top-3 sets), and ``one undecided`` when only one side decided.
    """
    rows = []
    for key in list(a) + [k for k in b if k not in a]:
        va, vb = a.get(key, "missing"), b.get(key, "missing")
        if va == vb:
            agree = "yes"
        elif "undecided" in (va, vb) or "missing" in (va, vb):
            agree = "one undecided"
        else:
            agree = "no"
        rows.append({"conclusion": key, "seeds A": va, "seeds B": vb, "agree": agree})
    return pd.DataFrame(rows, columns=["conclusion", "seeds A", "seeds B", "agree"])


class Conclusions(dict):
    """conclusion -> row, looked up by the options' current names (`registry.canonical`): a table written
    before an option's rename still answers for it (``adam vs sgd_seed`` is ``adam vs sgd_thread2``)."""

    def __init__(self, rows: dict):
        super().__init__({canonical(k): v for k, v in rows.items()})

    def get(self, key, default=None):
        return super().get(canonical(key), default)

    def __getitem__(self, key):
        return super().__getitem__(canonical(key))

    def __contains__(self, key):
        return super().__contains__(canonical(key))


def read(folder: Path) -> dict:
    """The table `write` left in ``folder``, if it was run: conclusion -> row (the report's findings read it)."""
    path = folder / "reproducibility.csv"
    if not path.exists():
        return {}
    return Conclusions({row["conclusion"]: row for row in pd.read_csv(path).to_dict("records")})


def write(name: str, folder: Path, table: pd.DataFrame, sets, command: str) -> Path:
    """``folder/reproducibility.md`` (the comparison ``table`` with its tally) and ``reproducibility.csv``."""
    from lossbench.analysis.markdown import table as _table

    folder.mkdir(parents=True, exist_ok=True)
    counts = table["agree"].value_counts()
    lines = [
        f"# Reproducibility of `{name}`: seeds {sets[0]} vs seeds {sets[1]}",
        "",
        f"- command: `{command}`",
        f"- the studies: `{set_name(name, sets[0])}` and `{set_name(name, sets[1])}` (no adaptive seeds, no "
        "pruning); each conclusion is drawn by the same rules as the report (`lossbench/analysis/claims.py`)",
        "",
        f"**{counts.get('yes', 0)} of {len(table)} conclusions agree**; {counts.get('no', 0)} are contradicted "
        f"(both runs decided, differently); {counts.get('one undecided', 0)} are decided in one run only. A "
        "README conclusion must agree here or be stated as undecided.",
        "",
        _table(table),
        "",
    ]
    path = folder / "reproducibility.md"
    path.write_text("\n".join(lines))
    table.to_csv(folder / "reproducibility.csv", index=False)  # read by the report's findings
    print(f"reproducibility written to {path}")
    return path
