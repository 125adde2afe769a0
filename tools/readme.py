"""``python -m tools.readme``: copy each results/<name>/findings.md into the README, verbatim.

The README's findings sit between ``<!-- findings: results/NAME/findings.md -->``
and ``<!-- /findings -->``; this command replaces what is between them with the
file's current text, so no figure in those blocks is typed by hand. ``--check``
exits 1 when the README is out of date (a test runs it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- findings: (?P<path>\S+) -->\n)(?P<body>.*?)(<!-- /findings -->)", re.S)


def render(text: str, root: Path = ROOT) -> str:
    def fill(match: re.Match) -> str:
        source = root / match["path"]
        body = source.read_text() if source.exists() else f"({match['path']} not generated yet)\n"
        body = re.sub(r"\]\((?!http|results/)([^)]+)\)", rf"]({Path(match['path']).parent.as_posix()}/\1)", body)
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(fill, text)


def main(argv: list[str]) -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    new = render(text)
    if "--check" in argv:
        if new != text:
            print("README.md findings are out of date - run python -m tools.readme")
            return 1
        return 0
    readme.write_text(new)
    print(f"README.md: {len(BLOCK.findall(text))} findings blocks refreshed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
