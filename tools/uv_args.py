"""Print pip's own package sources as `uv pip install` flags (uv does not read pip's configuration).

    uv pip install --index-strategy unsafe-best-match $(python tools/uv_args.py) ...

With pip's indexes, links and constraints, and the best match across the indexes (as pip picks),
uv installs the same versions pip would, in a fraction of the time (README "Speed and budget").
Standard library only: it runs before anything is installed.
"""

import ast
import shlex
import subprocess
import sys

SOURCES = ("index-url", "extra-index-url", "find-links", "constraint")  # pip's settings, uv's flags of the same name


def uv_args(pip_config: str) -> list[str]:
    """``pip config list`` output -> flags, each source once.

    >>> uv_args("global.find-links='/opt/wheels'\\n:env:.find-links='/opt/wheels'\\nglobal.cert='/c.pem'")
    ['--find-links', '/opt/wheels']
    >>> uv_args("global.extra-index-url='file:///a file:///b'")
    ['--extra-index-url', 'file:///a', '--extra-index-url', 'file:///b']
    """
    pairs: dict[tuple[str, str], None] = {}  # in order, each once
    for line in pip_config.splitlines():
        key, _, value = line.partition("=")
        name = key.rpartition(".")[2]
        if name in SOURCES and value:
            pairs |= {(f"--{name}", source): None for source in ast.literal_eval(value).split()}
    return [part for pair in pairs for part in pair]


if __name__ == "__main__":
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    print(shlex.join(uv_args(listed)))
