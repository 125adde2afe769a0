"""One comparison, one verdict: the findings blocks of README.md and docs/ read under today's rule.

A findings.md is written by its sweep's report, with the rule of its day. The pages show every block
under the current rule and make blocks on the same data agree (`reconcile`):

1. A decided comparison stands only where both seed sets decided it the same way; "undecided / undecided"
   confirms nothing (`lossbench.analysis.report.report_findings.checked`). A block written before that rule
   gets its sentence rewritten as the report writes it now.
2. A block without seed sets marks its decided comparisons "[one seed set]".
3. Across blocks on the same data (their first line names it), a comparison gets one verdict: that of the
   blocks with two seed sets, "undecided" where those disagree; a one-seed-set block that says otherwise
   shows the verdict of the two seed sets beside its own figures. Where no block has two seed sets and the
   blocks disagree, each says the comparison is undecided across runs.
4. The one-liners at the top of a block keep only what still stands.

`verdicts(text)` reads the verdict each line states (a test checks no two blocks on one data disagree).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PAIR = r"(?:[^·;:\n\[\]]+? · ){3}[^·;:\n\[\]]+?"
DECIDED = re.compile(
    rf"(?P<a>{PAIR}) (?:is (?P<dir>higher|lower) than|converges (?P<conv>more|less) often than) (?P<b>{PAIR})"
    rf" (?:in (?P<metric>[^:]+):|\()"
)
UNDECIDED = re.compile(
    rf"(?P<a>{PAIR}) vs (?P<b>{PAIR}) (?:\((?P<metric>test [^:]*?)\)|(?P<conv>convergence)): undecided"
)
SETS = re.compile(r" \[seed sets (?P<sa>\d+-\d+) / (?P<sb>\d+-\d+): (?P<a>[\w ]+) / (?P<b>[\w ]+)\]")
ONE_LINER = re.compile(
    r"^\*\*In one line each(?: \([^)]*\))?:\*\* (?P<claims>.*?)\. The rest, with figures:\n\n", re.M | re.S
)
DATA = re.compile(r"^On (?P<data>.+?) \(`(?P<name>[^`]+)`")
SAYS_DECIDED = re.compile(r" (?:is (?:higher|lower) than|converges (?:more|less) often than) ")
OTHERS = re.compile(r" \[(?:with both seed sets of|confirmed by both seed sets of|the runs disagree:) [^\]]*\]")


@dataclass
class Statement:
    key: tuple  # (pairing, pairing, metric), the pairings sorted
    verdict: str  # higher | lower | undecided (of key[0] against key[1])


FLIP = {"higher": "lower", "lower": "higher"}


def _label(text: str) -> str:
    return re.split(r"- |\*\*: ", text)[-1].strip()


def _match(line: str):
    return DECIDED.search(line) or UNDECIDED.search(line)


def _flipped(line: str) -> bool:
    """The line names its pairings in the other order than the sorted key."""
    m = _match(line)
    return _label(m["a"]) > _label(m["b"])


def statement(line: str) -> Statement | None:
    """The comparison ``line`` states and its verdict as the line reads (before any rewriting)."""
    if m := DECIDED.search(line):
        verdict = m["dir"] or {"more": "higher", "less": "lower"}[m["conv"]]
        metric = "convergence" if m["conv"] else "dice"
    elif m := UNDECIDED.search(line):
        verdict, metric = "undecided", "convergence" if m["conv"] else "dice"
    else:
        return None
    a, b = _label(m["a"]), _label(m["b"])
    if a > b:
        a, b, verdict = b, a, FLIP.get(verdict, verdict)
    return Statement((a, b, metric), verdict)


def stated(line: str) -> str | None:
    """The verdict (of the key's first pairing) ``line`` gives once rewritten: a bracket from other blocks wins."""
    found = statement(line)
    if found is None:
        return None
    if m := re.search(r"\[(?:with|confirmed by) both seed sets of `[^`]+`: (\w+)\]", line):
        return FLIP.get(m[1], m[1]) if _flipped(line) else m[1]
    if "**undecided**" in line or "[the runs disagree:" in line:
        return "undecided"
    return found.verdict


def verdicts(text: str) -> dict[tuple, set[str]]:
    """Every comparison ``text`` states -> the verdicts it gives it."""
    out: dict[tuple, set[str]] = {}
    for line in text.splitlines():
        if (found := statement(line)) is not None and not line.startswith("**In one line"):
            out.setdefault(found.key, set()).add(stated(line))
    return out


def two_sets(body: str) -> bool:
    return bool(SETS.search(body))


def _append(line: str, bracket: str) -> str:
    """``bracket`` at the end of ``line``'s sentence, before its full stop (as the report writes it)."""
    line = line.rstrip()
    return f"{line[:-1]} {bracket}." if line.endswith(".") else f"{line} {bracket}"


def _today(line: str, two: bool) -> str:
    """``line`` under rules 1 and 2 (any decided comparison, whatever names its sides)."""
    if not SAYS_DECIDED.search(line) or "**undecided**" in line or line.startswith("**In one line"):
        return line
    sets = SETS.search(line)
    if sets is None:
        return line if two or "[one seed set]" in line else _append(line, "[one seed set]")
    if sets["a"] == sets["b"] and sets["a"] in ("higher", "lower"):
        return line
    why = (
        "neither seed set decides it"
        if sets["a"] == sets["b"]
        else f"the two seed sets do not agree ({sets['a']} with seeds {sets['sa']}, {sets['b']} with seeds {sets['sb']})"
    )
    head, sentence = re.match(r"(\s*- (?:\*\*[^*]+\*\*: )?)(.*)", line).groups()
    return f"{head}**undecided**: {why}; this run alone: {SETS.sub('', sentence)}"


def _across(line: str, own: str, verdict: str, source: str, two: bool) -> str:
    """``line`` (its verdict ``own``, of the key's first pairing) given the blocks' one verdict (rule 3)."""
    if "**undecided**" in line or OTHERS.search(line):
        return line
    if source.startswith("disagree"):
        listed = source.split(":", 1)[1].strip()
        return line if own == "undecided" else _append(line, f"[the runs disagree: {listed}]")
    if two or own == verdict == "undecided":
        return line
    text = line.replace(" [one seed set]", "")
    shown = FLIP.get(verdict, verdict) if _flipped(line) else verdict
    if own == verdict:
        return _append(text, f"[confirmed by both seed sets of `{source}`: {shown}]")
    return _append(text, f"[with both seed sets of `{source}`: {shown}]")


def _stands(claim: str, lines: list[str]) -> bool:
    """A one-liner claim still stands: its bullet (same sides, same direction) is not undecided now."""
    phrase = claim.replace("reaches a higher test Dice than", "is higher than").replace(
        "reaches a lower test Dice than", "is lower than"
    )
    bullets = [line for line in lines if phrase in line and not line.startswith("**In one line")]
    if not bullets:
        return True  # nothing to judge it by: as its report wrote it
    for bullet in bullets:
        found = statement(bullet)
        if "**undecided**" in bullet or "[the runs disagree:" in bullet:
            continue
        if found is None or stated(bullet) == found.verdict:  # not overruled by two seed sets elsewhere
            return True
    return False


def _one_liner(body: str, two: bool) -> str:
    """The block's one-liner kept to the comparisons its bullets still decide (rule 4)."""
    found = ONE_LINER.search(body)
    if found is None:
        return body
    lines = body.split("\n")
    kept = [claim for claim in found["claims"].split("; ") if _stands(claim, lines)]
    if not kept:
        return body[: found.start()] + body[found.end() :]
    how = (
        "each confirmed by both seed sets; their verdicts are in brackets below"
        if two
        else "one seed set: no second seed set has checked these yet"
    )
    head = f"**In one line each ({how}):** {'; '.join(kept)}. The rest, with figures:\n\n"
    return body[: found.start()] + head + body[found.end() :]


def reconcile(bodies: dict[str, str]) -> dict[str, str]:
    """Each findings text (path -> text, in words) under today's rule, blocks on one data agreeing."""
    today = {}
    for path, body in bodies.items():
        two = two_sets(body)
        today[path] = "\n".join(_today(line, two) for line in body.split("\n"))
    data = {p: (m["data"] if (m := DATA.match(t)) else p) for p, t in today.items()}
    name = {p: (m["name"] if (m := DATA.match(t)) else p) for p, t in today.items()}
    agreed: dict[tuple, str] = {}
    for group in set(data.values()):
        members = [p for p in today if data[p] == group]
        said: dict[tuple, dict[str, set]] = {}
        for p in members:
            for key, found in verdicts(today[p]).items():
                said.setdefault(key, {})[p] = found
        for key, by in said.items():
            twos = {v for p, found in by.items() if two_sets(today[p]) for v in found}
            every = {v for found in by.values() for v in found}
            if twos:
                source = next(name[p] for p in by if two_sets(today[p]))
                agreed[(group, key)] = (twos.pop() if len(twos) == 1 else "undecided", source)
            elif len(every) > 1:
                listed = ", ".join(f"`{name[p]}`: {'/'.join(sorted(found))}" for p, found in by.items())
                agreed[(group, key)] = ("undecided", f"disagree: {listed}")
    out = {}
    for path, body in today.items():
        two, lines = two_sets(body), []
        for line in body.split("\n"):
            found = statement(line)
            if found is not None and not line.startswith("**In one line") and (data[path], found.key) in agreed:
                verdict, source = agreed[(data[path], found.key)]
                line = _across(line, stated(line), verdict, source, two)
            lines.append(line)
        out[path] = _one_liner("\n".join(lines), two)
    return out


def findings(root) -> dict[str, str]:
    """Every ``results/<name>/findings.md`` under ``root`` (path relative to it -> text), in words and
    reconciled: what the pages' findings blocks and the README's short answer show."""
    from pathlib import Path

    from lossbench.analysis.wording import humanise

    root = Path(root)
    bodies = {
        p.relative_to(root).as_posix(): humanise(p.read_text()) for p in sorted(root.glob("results/*/findings.md"))
    }
    return reconcile(bodies)
