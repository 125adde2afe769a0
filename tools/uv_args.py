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

FLAGS = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links"}
FLAGS |= {"constraint": "--constraint"}


def uv_args(pip_config: str) -> list[str]:
    """``pip config list`` output -> flags, each source once.

    >>> uv_args("global.find-links='/opt/wheels'\\n:env:.find-links='/opt/wheels'\\nglobal.cert='/c.pem'")
    ['--find-links', '/opt/wheels']
    >>> uv_args("global.extra-index-url='file:///a file:///b'")
    ['--extra-index-url', 'file:///a', '--extra-index-url', 'file:///b']
    """
    args: list[str] = []
    for line in pip_config.splitlines():
        key, _, value = line.partition("=")
        flag = FLAGS.get(key.rpartition(".")[2])
        if flag is None or not value:
            continue
        for source in ast.literal_eval(value).split():
            if [flag, source] not in [args[i : i + 2] for i in range(0, len(args), 2)]:
                args += [flag, source]
    return args


if __name__ == "__main__":
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    print(shlex.join(uv_args(listed)))
