"""``python -m lossbench.reproduce +experiment=cmr``: the same experiment twice, disjoint seeds, compared.

Runs the experiment's sweep with seeds ``[0, 1, 2]`` and again with
``[3, 4, 5]`` (``sweep.seed_sets``; thread 2 uses 6 seeds each), each in its own study
``<name>-seeds012`` / ``<name>-seeds345`` (``<name>-seeds0-5`` for longer sets), without adaptive seeds (so the sets
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


def seed_sets(cfg) -> tuple[list[int], list[int]]:
    """The experiment's two seed sets (``sweep.seed_sets``); one line when they are not two disjoint lists."""
    from lossbench.errors import UserError

    sets = [list(map(int, s)) for s in (cfg.sweep.get("seed_sets") or SETS)]
    if len(sets) != 2 or not all(sets) or set(sets[0]) & set(sets[1]):
        raise UserError(
            f"sweep.seed_sets={sets} - give two disjoint, non-empty seed lists, e.g. sweep.seed_sets=[[0,1,2],[3,4,5]]"
        )
    return sets[0], sets[1]


def span(seeds) -> str:
    """How pages name a seed set: ``0-2``, ``6-11``."""
    return f"{min(seeds)}-{max(seeds)}"


DEFAULT_SPANS = (span([0, 1, 2]), span([3, 4, 5]))  # conf/sweep/default.yaml's seed_sets, named; a csv without spans


def set_name(name: str, seeds) -> str:
    """``cmr-seeds012`` (three seeds or fewer, as the first studies were named), ``thread2-seeds0-5``."""
    return f"{name}-seeds{''.join(str(s) for s in seeds) if len(seeds) <= 3 else span(seeds)}"


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
    before an option's rename still answers for it (``adam vs sgd_seed`` is ``adam vs sgd_thread2``).
    ``spans``: how the two seed sets are named (``("0-2", "3-5")``)."""

    def __init__(self, rows: dict, spans=DEFAULT_SPANS):
        super().__init__({canonical(k): v for k, v in rows.items()})
        self.spans = tuple(spans)

    def get(self, key, default=None):
        return super().get(canonical(key), default)

    def __getitem__(self, key):
        return super().__getitem__(canonical(key))

    def __contains__(self, key):
        return super().__contains__(canonical(key))


def confirmed(row) -> bool:
    """Both seed sets decided this conclusion, the same way (two "undecided" agree, but confirm nothing)."""
    return row is not None and row["agree"] == "yes" and str(row["seeds A"]) not in ("undecided", "missing")


def read(folder: Path) -> dict:
    """The table `write` left in ``folder``, if it was run: conclusion -> row (the report's findings read it)."""
    path = folder / "reproducibility.csv"
    if not path.exists():
        return {}
    frame = pd.read_csv(path)
    spans = (frame["set A"].iloc[0], frame["set B"].iloc[0]) if "set A" in frame and len(frame) else DEFAULT_SPANS
    return Conclusions({row["conclusion"]: row for row in frame.to_dict("records")}, spans)


def write(name: str, folder: Path, table: pd.DataFrame, sets, command: str) -> Path:
    """``folder/reproducibility.md`` (the comparison ``table`` with its tally) and ``reproducibility.csv``."""
    from lossbench.analysis.markdown import table as _table
    from lossbench.analysis.wording import humanise

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
        _table(table.assign(**{c: table[c].astype(str).map(humanise) for c in ("conclusion", "seeds A", "seeds B")})),
        # (the csv keeps the config names)
        "",
    ]
    path = folder / "reproducibility.md"
    path.write_text("\n".join(lines))
    table.assign(**{"set A": span(sets[0]), "set B": span(sets[1])}).to_csv(  # read by the report's findings
        folder / "reproducibility.csv", index=False
    )
    print(f"reproducibility written to {path}")
    return path
