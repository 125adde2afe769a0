"""The README's short answer: one row per question, drawn from the committed findings (no figure typed here).

`fill` replaces what lies between ``<!-- answer -->`` and ``<!-- /answer -->`` with a table whose answer
cells are the decided one-liners of each experiment's ``findings.md`` (in words: `humanise`), and whose
"how sure" cell says whether two disjoint seed sets confirmed them. An experiment whose claims rest on
one seed set gives no claim here: its row says so and points to its findings.
"""

from __future__ import annotations

import re
from pathlib import Path

BLOCK = re.compile(r"(<!-- answer -->\n)(.*?)(<!-- /answer -->)", re.S)
ONE_LINER = re.compile(r"\*\*In one line each(?: \((?P<how>[^)]*)\))?:\*\* (?P<claims>.*?)\. The rest", re.S)
USE = re.compile(r"^\*\*Use / avoid\*\* \(classes both seed sets confirm\): (?P<text>.*)\.$", re.M)
# (question, findings file, the data it rests on): the questions people ask, in the order they ask them
ROWS = [
    ("Which pairings learn, and which optimizer?", "results/cmr/findings.md", "the cardiac phantom"),
    ("What fixes thread 2's net (CE stuck, empty mask)?", "results/thread2/findings.md", "the cardiac phantom"),
    ("Binary vs categorical CE at 7 classes (thread 1)", "results/thread1/findings.md", "thread 1's shapes scene"),
    ("Every loss of the catalogue", "results/catalogue/findings.md", "the cardiac phantom"),
    ("Street scenes (your own data)", "results/camvid/findings.md", "CamVid, 11 classes + void"),
    ("Does the phantom's answer hold on real hearts?", "results/transfer-findings.md", "50 real ACDC patients"),
]


REAL = "acdc50"  # the real-hearts study behind results/transfer-findings.md (`lossbench.analysis.transfer`)


def said_sure(how: str | None) -> bool:
    """The one-liners' header says two disjoint seed sets confirmed each claim."""
    return bool(how) and ("confirmed by both seed sets" in how or "both seed sets agree" in how)


def row(question: str, path: str, data: str, root: Path) -> str:
    """One table row: the confirmed claims of ``path`` (or where to read what one seed set found)."""
    from lossbench.analysis import reproduce
    from lossbench.analysis.wording import humanise
    from tools import verdicts

    source = root / path
    link = f"[{Path(path).parent.name if path.count('/') > 1 else Path(path).stem}]({path})"
    if not source.exists():
        return f"| {question} | not run yet | {data} | - |"
    text = verdicts.findings(root).get(path) or source.read_text()  # as the pages' blocks show it
    holds = re.findall(r"^- (([a-z]+): (.*?) \(\w+\)): \*\*holds\*\*", text, re.M)
    if holds:  # the transfer check: the phantom's claims that real hearts confirm, on both seed sets of each
        real = reproduce.read(root / "results" / REAL)
        sure = [humanise(shown) for key, _, shown in holds if reproduce.confirmed(real.get(key))]
        if sure:
            return f"| {question} | these hold on real hearts: {'; '.join(sure)} | {data} | both data sets, both seed sets ({link}) |"
        return f"| {question} | see {link}: the real hearts' side rests on one seed set | {data} | one seed set |"
    found, use = ONE_LINER.search(text), USE.search(text)
    sure = [humanise(found["claims"])] if found is not None and said_sure(found["how"]) else []
    sure += [humanise(use["text"][:1].upper() + use["text"][1:])] if use else []  # the classes: use / avoid
    if sure:
        return f"| {question} | {'. '.join(sure)} | {data} | both seed sets ({link}) |"
    if found is None:
        return f"| {question} | nothing decided at these seeds | {data} | undecided ({link}) |"
    return f"| {question} | see {link}: its claims rest on one seed set | {data} | one seed set |"


def table(root: Path) -> str:
    lines = ["| question | answer | data | how sure |", "|---|---|---|---|"]
    return "\n".join(lines + [row(q, p, d, root) for q, p, d in ROWS]) + "\n"


def fill(text: str, root: Path) -> str:
    """``text`` with its answer block (if any) drawn anew from the findings under ``root``."""
    return BLOCK.sub(lambda m: m.group(1) + table(root) + m.group(3), text)
