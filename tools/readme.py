"""``python -m tools.readme``: copy each results/<name>/findings.md into the README and docs/.

The findings sit between ``<!-- findings: results/NAME/findings.md -->`` and ``<!-- /findings -->``
(in README.md and docs/*.md); this command replaces what is between them with the file's current
text, in words and read under today's rule with one verdict per comparison across blocks
(`tools.verdicts`), so no figure in those blocks is typed by hand. The README's short answer sits between
``<!-- answer -->`` and ``<!-- /answer -->`` and is drawn from the same files (`tools.answer`).
``--check`` exits 1 when a page is out of date (a test runs it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- findings: (?P<path>\S+) -->\n)(?P<body>.*?)(<!-- /findings -->)", re.S)


def render(text: str, root: Path = ROOT, page: str = "README.md") -> str:
    """``text`` (the page ``page``, relative to ``root``) with every findings block refilled and its links
    made relative to the page."""
    from lossbench.analysis.wording import humanise
    from tools import answer, verdicts

    up = "../" * page.count("/")
    reconciled = verdicts.findings(root)  # today's rule, one verdict per comparison across blocks

    def fill(match: re.Match) -> str:
        source = root / match["path"]
        # findings written before the pairings had short names in words get them here (`humanise`)
        if match["path"] in reconciled:
            body = reconciled[match["path"]]
        else:
            body = humanise(source.read_text()) if source.exists() else f"({match['path']} not generated yet)\n"
        folder = Path(match["path"]).parent.as_posix()
        body = re.sub(r"\]\((?!http|results/)([^)]+)\)", rf"]({folder}/\1)", body)
        body = re.sub(r"\]\(results/", f"]({up}results/", body)
        return match.group(1) + body + match.group(4)

    return answer.fill(BLOCK.sub(fill, text), root)


def pages(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def main(argv: list[str]) -> int:
    stale = []
    for path in pages():
        text = path.read_text()
        new = render(text, ROOT, path.relative_to(ROOT).as_posix())
        if new == text:
            continue
        stale.append(path.relative_to(ROOT).as_posix())
        if "--check" not in argv:
            path.write_text(new)
    if "--check" in argv and stale:
        print(f"{', '.join(stale)}: findings out of date - run python -m tools.readme")
        return 1
    print(f"{len(stale)} page(s) refreshed" if "--check" not in argv else "every page is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
