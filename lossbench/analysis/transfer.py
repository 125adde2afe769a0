"""``python -m lossbench.transfer``: do the phantom's answers hold on real hearts? -> results/transfer.md

Reads three finished studies (nothing is trained here):

- ``cmr``: the built-in phantom, the default experiment whose answers the README gives;
- ``cmr_realistic``: the same budget on the phantom with its realism knobs calibrated
  against ACDC (`lossbench.data.phantom.REALISM`), on the trainings of the real run;
- ``acdc50``: 50 real ACDC patients (35/5/10, `conf/experiment/acdc50.yaml`).

The real run merges pairings that train identically (``stands_for`` in
``sweeps/acdc50.yaml``): a merged pairing reads its representative's trials.
Pooled comparisons (the optimizer) count each training once.

Writes ``results/transfer.md`` (per pairing: class and Dice on each; the rank
correlation with a bootstrap interval; every phantom conclusion re-tested on
real hearts: holds, reversed or undecided; the image statistics that separate the
phantom from real hearts), ``results/transfer.png`` and
``results/transfer-findings.md`` (the README's block).

The work is split in three: `transfer_tables` (loading the studies, the tables, the re-tests),
`data_stats` (the image statistics) and `transfer_sections` (the page as a list of sections);
this module re-exports their names and `write` walks the sections.
"""

from __future__ import annotations

from pathlib import Path

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.analysis.data_stats import data_table, image_stats
from lossbench.analysis.transfer_sections import SECTIONS, Compared, compare, findings_lines, scatter
from lossbench.analysis.transfer_tables import (
    COMMAND,
    LONG,
    NAMES,
    OPPOSITE,
    PAIRING,
    ROLES,
    WEIGHTED,
    conclusion_rows,
    expand,
    groups,
    load_role,
    pairing_rows,
    rank_correlation,
    retest,
    steps,
    transfer_word,
    weighting_rows,
)

__all__ = [
    "COMMAND",
    "LONG",
    "NAMES",
    "OPPOSITE",
    "PAIRING",
    "ROLES",
    "SECTIONS",
    "WEIGHTED",
    "Compared",
    "compare",
    "conclusion_rows",
    "data_table",
    "expand",
    "findings_lines",
    "groups",
    "image_stats",
    "load_role",
    "pairing_rows",
    "rank_correlation",
    "retest",
    "scatter",
    "steps",
    "transfer_word",
    "weighting_rows",
    "write",
]


def write(results: Path, roles: dict, stats_size: int = 64) -> Path:
    """``results/transfer.md`` (its `SECTIONS` in order), ``transfer.png`` and ``transfer-findings.md``."""
    compared = compare(results, roles, stats_size)
    scatter(compared.rows, compared.rhos, results / "transfer.png")
    lines = []
    for section in SECTIONS:
        lines += section(compared)
    (results / "transfer.md").write_text("\n".join(lines) + "\n")
    (results / "transfer-findings.md").write_text("\n".join(findings_lines(compared)) + "\n")
    print(f"transfer report written to {results / 'transfer.md'}")
    return results / "transfer.md"
