"""``python -m lossbench.transfer``: what the phantom predicts about real hearts (`lossbench.analysis.transfer`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.analysis.transfer import ROLES, write
from lossbench.errors import UserError, exit_with


def main(argv: list[str]) -> int:
    from lossbench.analysis import transfer

    parser = argparse.ArgumentParser(prog="python -m lossbench.transfer", description=transfer.__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="the results folder holding the three studies")
    for role, name in ROLES.items():
        parser.add_argument(f"--{role}", default=name, help=f"experiment of the {role} study (default {name})")
    args = parser.parse_args(argv)
    try:
        write(Path(args.results), {role: getattr(args, role) for role in ROLES})
    except UserError as error:
        exit_with(error)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
